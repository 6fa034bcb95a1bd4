"""The published animals3 classifier: exported from the graded transfer runs, loaded with one call.

Publish (once, from the graded runs of ``keras_animals3_transfer`` and
``lightning_animals3_transfer``; the autograder trains them first if they are missing)::

    python -m lightning_cnn.classifier publish animals3_classifier

Use (anywhere the package is installed; no training code, no ImageNet weights needed). The
example publishes a tiny stand-in Keras model into a temporary folder, the way
:func:`publish_classifier` exports a graded run, and loads it back:

>>> import tempfile, types
>>> import a2common.tf_env  # quiet TensorFlow: before Keras loads
>>> import keras
>>> from PIL import Image
>>> work = Path(tempfile.mkdtemp())
>>> inputs = keras.Input((64, 64, 3))
>>> logits = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(inputs))
>>> keras.Model(inputs, logits).save(work / "model.keras")
>>> run = types.SimpleNamespace(  # what publish_classifier reads of a graded run
...     task="demo", path=work, result={}, model_path=lambda: work / "model.keras"
... )
>>> folder = publish_classifier(work / "animals3_classifier", runs={"keras": run})
>>> sorted(p.name for p in folder.iterdir())
['SHA256SUMS', 'classifier.json', 'keras']
>>> from lightning_cnn import load_classifier
>>> classifier = load_classifier(folder)
>>> classifier.framework, classifier.class_names
('keras', ['cats', 'dogs', 'panda'])
>>> images = np.zeros((2, 64, 64, 3), np.uint8)  # (n, 64, 64, 3) RGB 0..255
>>> classifier.predict(images).round(3)  # (n, 3) probabilities; black images: equal logits
array([[0.333, 0.333, 0.333],
       [0.333, 0.333, 0.333]], dtype=float32)
>>> Image.new("RGB", (48, 48)).save(work / "my_cat.png")  # files of any size are resized
>>> classifier.predict_labels([work / "my_cat.png"])
['cats']

The folder is self-describing::

    animals3_classifier/
        classifier.json          format, class names, input and preprocessing, the default
                                 model, and per model: file, sha256, source task and run,
                                 the autograder's test accuracy when a grade recorded it
        keras/model.keras        Keras MobileNetV2, preprocessing and softmax inside the model
        lightning/model.pt2      torch.export program of the Lightning EfficientNet-Lite0,
                                 preprocessing and softmax inside the program
        model_cards/<task>.*     the autograder's model cards of the source runs (when written)
        SHA256SUMS               sha256 of every file (``sha256sum -c SHA256SUMS``)

Both models take the same input, RGB images of 64x64 pixels with values 0..255 (other sizes
and files are resized with bilinear interpolation, as the animals3 release was), and return
class probabilities in the order of ``class_names``. The Lightning model is exported with
``torch.export`` (an ``ExportedProgram``), the successor of TorchScript: ``torch.jit.trace`` is
deprecated in torch 2.13. :func:`load_classifier` verifies each file's sha256 before loading.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from a2common.data import sha256_of
from lightning_cnn.config import CLASS_NAMES, IMAGE_SIZE
from lightning_cnn.transfer_tasks import TRANSFER_TASKS

FORMAT = "assignment2-animals3-classifier"
FORMAT_VERSION = 1
METADATA_FILE = "classifier.json"
CHECKSUMS_FILE = "SHA256SUMS"
MODEL_FILES = {"keras": "keras/model.keras", "lightning": "lightning/model.pt2"}
DEFAULT_FRAMEWORK = "lightning"
"""Used when no grade recorded both accuracies (it measured 0.982 vs 0.975 in the README)."""
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
CARDS_DIR = PACKAGE_ROOT / "model_cards"
RESULTS_FILES = {
    False: PACKAGE_ROOT.parents[1] / "assignment2" / "results" / "results.json",
    True: PACKAGE_ROOT.parents[1] / "assignment2" / "results" / "quick" / "results.json",
}


class ClassifierError(RuntimeError):
    """A published classifier folder is missing, incomplete or altered."""


# ---- loading ----------------------------------------------------------------------------------


def load_images(images: Any) -> np.ndarray:
    """Images as float32 ``(n, 64, 64, 3)`` RGB 0..255.

    Accepts a ``(n, H, W, 3)`` or ``(H, W, 3)`` array (uint8 or 0..255 floats), or a sequence of
    file paths / PIL images / ``(H, W, 3)`` arrays; anything not 64x64 is converted to RGB and
    resized with bilinear interpolation, as the animals3 release was made.

    Example:

    >>> load_images(np.zeros((64, 64, 3), np.uint8)).shape
    (1, 64, 64, 3)
    >>> load_images([np.zeros((32, 48, 3), np.uint8)]).shape
    (1, 64, 64, 3)
    """
    if isinstance(images, np.ndarray) and images.ndim in (3, 4):
        batch = images[None] if images.ndim == 3 else images
        if batch.shape[-1] != 3:
            raise ValueError(
                f"Expected RGB images of shape (n, H, W, 3). Received: shape={images.shape}"
            )
        if batch.shape[1:3] == (IMAGE_SIZE, IMAGE_SIZE):
            return batch.astype(np.float32)
        images = list(batch)
    if isinstance(images, (str, Path)) or not isinstance(images, Sequence) or not len(images):
        raise ValueError(
            "Expected an image array or a non-empty list of images (paths, PIL "
            f"images or arrays). Received: {type(images).__name__}"
        )
    return np.stack([_one_image(image) for image in images]).astype(np.float32)


def _one_image(image: Any) -> np.ndarray:
    from PIL import Image

    if isinstance(image, (str, Path)):
        with Image.open(image) as opened:
            image = opened.convert("RGB")
    elif isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"Expected an (H, W, 3) RGB image. Received: shape={image.shape}")
        image = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    elif not isinstance(image, Image.Image):
        raise ValueError(
            f"Expected a path, a PIL image or an array. Received: {type(image).__name__}"
        )
    image = image.convert("RGB")
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(image)


@dataclass
class PublishedClassifier:
    """An exported animals3 classifier (see :func:`load_classifier`).

    Attributes:
        path: the published folder.
        framework: ``"keras"`` or ``"lightning"``: which exported model answers.
        class_names: the classes, in the order of the probability columns.
        metadata: the folder's ``classifier.json``.

    Example (normally made by :func:`load_classifier`; here around a stand-in model, any
    callable from a torch ``(n, 64, 64, 3)`` batch of 0..255 pixels to ``(n, 3)``
    probabilities, as the exported Lightning program is):

    >>> def mean_colour(images):  # the probabilities follow the mean red, green, blue
    ...     return images.mean(dim=(1, 2)).softmax(dim=-1)
    >>> names = ["cats", "dogs", "panda"]
    >>> classifier = PublishedClassifier(Path("demo"), "lightning", names, {}, mean_colour)
    >>> blue = np.zeros((1, 64, 64, 3), np.uint8)
    >>> blue[..., 2] = 255
    >>> classifier.predict(blue).round(3)
    array([[0., 0., 1.]], dtype=float32)
    >>> classifier.predict_labels(blue)
    ['panda']
    """

    path: Path
    framework: str
    class_names: list[str]
    metadata: dict[str, Any]
    _model: Any = field(repr=False, default=None)

    @property
    def model_info(self) -> dict[str, Any]:
        """Source task, run, graded accuracy and file of the model that answers."""
        return self.metadata["models"][self.framework]

    def predict(self, images: Any, batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``(n, classes)`` of ``images`` (see :func:`load_images`)."""
        batch = load_images(images)
        if self.framework == "keras":
            return np.asarray(
                self._model.predict(batch, batch_size=batch_size, verbose=0), dtype=np.float32
            )
        import torch

        with torch.no_grad():
            rows = [
                self._model(torch.from_numpy(np.ascontiguousarray(batch[i : i + batch_size])))
                for i in range(0, len(batch), batch_size)
            ]
        return torch.cat(rows).numpy().astype(np.float32)

    def predict_labels(self, images: Any) -> list[str]:
        """The most probable class name of each image."""
        return [self.class_names[index] for index in self.predict(images).argmax(axis=1)]


def default_classifier_dir() -> Path:
    """Where :func:`load_classifier` looks by default: ``<runs>/published/animals3_classifier``."""
    from a2common.runs import runs_root

    return runs_root() / "published" / "animals3_classifier"


def load_classifier(
    path: str | Path | None = None, framework: str | None = None
) -> PublishedClassifier:
    """Load a published animals3 classifier: the one documented call.

    Args:
        path: a folder written by :func:`publish_classifier`. Default:
            :func:`default_classifier_dir`, published there first (from the graded runs) if
            it does not exist yet.
        framework: ``"keras"`` or ``"lightning"``; default: the folder's ``default`` (the
            model with the higher graded test accuracy).

    Raises:
        ClassifierError: the folder is not a published classifier, lacks the model, or a
            file's sha256 differs from the one recorded (the message names the file).

    Example (a full publish-and-load example is in the module docstring): a folder that is
    not a published classifier is refused with the fix in the message:

    >>> import tempfile
    >>> load_classifier(Path(tempfile.mkdtemp()) / "animals3_classifier")
    ... # doctest: +ELLIPSIS, +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    lightning_cnn.classifier.ClassifierError: Expected a published classifier folder with
    classifier.json. Received: .../animals3_classifier (no such file). Fix: python -m
    lightning_cnn.classifier publish .../animals3_classifier
    """
    if path is None:
        path = default_classifier_dir()
        if not (path / METADATA_FILE).is_file():
            publish_classifier(path)
    path = Path(path)
    metadata_path = path / METADATA_FILE
    if not metadata_path.is_file():
        raise ClassifierError(
            f"Expected a published classifier folder with {METADATA_FILE}. "
            f"Received: {path} (no such file). Fix: python -m "
            f"lightning_cnn.classifier publish {path}"
        )
    metadata = json.loads(metadata_path.read_text())
    if metadata.get("format") != FORMAT or metadata.get("format_version") != FORMAT_VERSION:
        raise ClassifierError(
            f"Expected format {FORMAT} version {FORMAT_VERSION} in "
            f"{metadata_path}. Received: {metadata.get('format')} version "
            f"{metadata.get('format_version')}"
        )
    framework = framework or metadata["default"]
    if framework not in metadata["models"]:
        raise ClassifierError(
            f"Expected a framework in {sorted(metadata['models'])} for "
            f"{path}. Received: framework={framework!r}"
        )
    info = metadata["models"][framework]
    model_path = path / info["file"]
    if not model_path.is_file():
        raise ClassifierError(f"Expected the model file {model_path}. Received: no such file.")
    actual = sha256_of(model_path)
    if actual != info["sha256"]:
        raise ClassifierError(
            f"Model file {model_path} is corrupt or altered. Expected sha256 "
            f"{info['sha256']}. Received: sha256 {actual}. Fix: publish "
            f"again."
        )
    if framework == "keras":
        import a2common.tf_env  # noqa: F401
        # isort: split

        import keras

        model = keras.saving.load_model(model_path)
    else:
        import torch

        model = torch.export.load(str(model_path)).module()
    return PublishedClassifier(path, framework, list(metadata["class_names"]), metadata, model)


# ---- publishing -------------------------------------------------------------------------------


def export_keras(model_file: Path, out_file: Path) -> None:
    """Save the graded Keras model with a softmax on top (its preprocessing is already inside)."""
    import a2common.tf_env  # noqa: F401
    # isort: split

    import keras

    model = keras.saving.load_model(model_file)
    probabilities = keras.layers.Softmax(name="probabilities")(model.output)
    exported = keras.Model(model.input, probabilities, name="animals3_classifier")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    exported.save(out_file)


def _exportable_efficientnet(checkpoint: Path) -> tuple[Any, Any]:
    """``(exportable, trained)``: a plain ``nn.Module`` (NHWC 0..255 images -> upscaling,
    scaling, network, softmax) around the checkpoint's network, and the LightningModule."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from lightning_cnn.transfer_lightning import EfficientNetTransfer

    trained = EfficientNetTransfer.load_from_checkpoint(
        checkpoint, map_location="cpu", pretrained=False
    )
    size = int(trained.hparams["image_size"])
    offset, scale = float(trained.pixel_offset), float(trained.pixel_scale)

    class Published(nn.Module):
        def __init__(self, network: nn.Module) -> None:
            super().__init__()
            self.network = network

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            x = images.permute(0, 3, 1, 2) / 255.0
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            return self.network((x - offset) / scale).softmax(dim=-1)

    return Published(trained.network).eval(), trained.eval()


def export_lightning(checkpoint: Path, out_file: Path) -> None:
    """``torch.export`` the graded EfficientNet-Lite0 (dynamic batch size) and check it."""
    import torch
    from torch.export import Dim

    module, trained = _exportable_efficientnet(checkpoint)
    example = torch.rand(2, IMAGE_SIZE, IMAGE_SIZE, 3) * 255
    with torch.no_grad():
        program = torch.export.export(module, (example,), dynamic_shapes=({0: Dim("batch")},))
        out_file.parent.mkdir(parents=True, exist_ok=True)
        torch.export.save(program, str(out_file))
        check = torch.rand(3, IMAGE_SIZE, IMAGE_SIZE, 3) * 255
        exported = torch.export.load(str(out_file)).module()(check)
        expected = trained(check.permute(0, 3, 1, 2) / 255.0).softmax(dim=-1)
    if not torch.allclose(exported, expected, atol=1e-5):
        raise RuntimeError(
            f"The exported program {out_file} does not reproduce the trained "
            f"model (largest difference "
            f"{(exported - expected).abs().max().item():.3g})."
        )


def graded_accuracy(task: str, run_path: Path, results_file: Path | None) -> float | None:
    """The autograder's test accuracy of ``task`` in ``results_file``, if it graded this run."""
    if results_file is None or not Path(results_file).is_file():
        return None
    results = json.loads(Path(results_file).read_text())
    for test in results.get("tests", []):
        extra = test.get("extra_data", {})
        if extra.get("task") != task or extra.get("state") != "passed":
            continue
        if [Path(p).resolve() for p in extra.get("run_dirs", [])] == [Path(run_path).resolve()]:
            return extra.get("value")
    return None


def publish_classifier(
    out_dir: str | Path,
    *,
    quick: bool = False,
    runs: Mapping[str, Any] | None = None,
    results_file: Path | None = None,
    force: bool = False,
) -> Path:
    """Export the graded supervised transfer models into a self-describing folder.

    Args:
        out_dir: the folder to write (refused if it exists and is not a published classifier;
            replaced only with ``force``).
        quick: publish the quick (smoke) runs instead of the full ones (for tests and demos).
        runs: ``{framework: GradedRun}`` to export; default: both frameworks' graded runs,
            opened with :func:`a2common.runs.open_graded_run` (which trains them if absent).
        results_file: the autograder's ``results.json`` whose accuracies choose the default
            model; default: the committed ``assignment2/results[/quick]/results.json``.
        force: replace an existing published folder.

    Returns:
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    if out_dir.exists():
        if not (out_dir / METADATA_FILE).is_file():
            raise FileExistsError(
                f"Expected a new folder or an earlier published classifier. "
                f"Received: {out_dir}, which exists and is neither."
            )
        if not force:
            raise FileExistsError(
                f"{out_dir} already holds a published classifier; pass "
                f"force=True (--force) to replace it."
            )
    if runs is None:
        from a2common.runs import open_graded_run

        runs = {
            framework: open_graded_run(task, quick=quick)
            for framework, task in TRANSFER_TASKS.items()
        }
    unknown = set(runs) - set(MODEL_FILES)
    if unknown or not runs:
        raise ValueError(
            f"Expected runs for some of {sorted(MODEL_FILES)}. Received: {sorted(runs)}"
        )
    results_file = RESULTS_FILES[quick] if results_file is None else results_file
    building = out_dir.with_name(out_dir.name + ".partial")
    if building.exists():
        shutil.rmtree(building)
    models: dict[str, Any] = {}
    for framework, run in runs.items():
        target = building / MODEL_FILES[framework]
        if framework == "keras":
            export_keras(run.model_path(), target)
        else:
            export_lightning(run.model_path(), target)
        result = run.result
        models[framework] = {
            "file": MODEL_FILES[framework],
            "sha256": sha256_of(target),
            "task": run.task,
            "graded_test_accuracy": graded_accuracy(run.task, run.path, results_file),
            "run": {
                "path": str(run.path),
                "revision": result.get("revision"),
                "train_seconds": result.get("train_seconds"),
                "epochs": result.get("epochs"),
                "parameters": result.get("parameters"),
            },
            "recipe": result.get("details", {}).get("config"),
            "card": _copy_card(run.task, building),
        }
    accuracies = {name: info["graded_test_accuracy"] for name, info in models.items()}
    if all(value is not None for value in accuracies.values()):
        default = max(accuracies, key=lambda name: accuracies[name])
        selection = f"highest autograder test accuracy in {results_file}"
    else:
        default = DEFAULT_FRAMEWORK if DEFAULT_FRAMEWORK in models else next(iter(models))
        selection = (
            "no grade recorded every model's accuracy; the package default "
            f"({DEFAULT_FRAMEWORK}) or the only model"
        )
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": "animals3_classifier",
        "class_names": list(CLASS_NAMES),
        "default": default,
        "selection": selection,
        "quick_runs": quick,
        "input": {
            "shape": [None, IMAGE_SIZE, IMAGE_SIZE, 3],
            "dtype": "float32",
            "range": [0, 255],
            "channels": "RGB",
        },
        "preprocessing": f"inside each model: bilinear upscaling and the backbone's scaling. "
        f"Other image sizes: convert to RGB and resize to {IMAGE_SIZE}x"
        f"{IMAGE_SIZE} with bilinear interpolation (lightning_cnn.classifier."
        f"load_images), as the animals3 release was made.",
        "output": "class probabilities (softmax), one column per class_names entry",
        "load": "from lightning_cnn import load_classifier; "
        f"load_classifier('{out_dir.name}').predict(images)",
        "models": models,
    }
    (building / METADATA_FILE).write_text(json.dumps(metadata, indent=1) + "\n")
    files = sorted(p for p in building.rglob("*") if p.is_file())
    (building / CHECKSUMS_FILE).write_text(
        "".join(f"{sha256_of(p)}  {p.relative_to(building).as_posix()}\n" for p in files)
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    building.rename(out_dir)
    return out_dir


def _copy_card(task: str, building: Path) -> list[str]:
    """Copy the autograder's model card files of ``task`` (written by a full grade), if any."""
    copied = []
    for source in sorted(CARDS_DIR.glob(f"{task}.*")):
        target = building / "model_cards" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(f"model_cards/{source.name}")
    return copied


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lightning_cnn.classifier publish OUT_DIR [--quick] [--force]``."""
    parser = argparse.ArgumentParser(
        prog="python -m lightning_cnn.classifier",
        description="Publish or try the animals3 classifier.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    publish = commands.add_parser("publish", help="export the graded transfer models")
    publish.add_argument("out_dir", type=Path)
    publish.add_argument("--quick", action="store_true", help="from the quick (smoke) runs")
    publish.add_argument("--force", action="store_true", help="replace an earlier export")
    predict = commands.add_parser("predict", help="classify image files")
    predict.add_argument("classifier_dir", type=Path)
    predict.add_argument("images", nargs="+", type=Path)
    predict.add_argument("--framework", choices=sorted(MODEL_FILES))
    args = parser.parse_args(argv)
    if args.command == "publish":
        path = publish_classifier(args.out_dir, quick=args.quick, force=args.force)
        metadata = json.loads((path / METADATA_FILE).read_text())
        print(f"published {path} (default model: {metadata['default']}; {metadata['selection']})")
        return 0
    classifier = load_classifier(args.classifier_dir, args.framework)
    probabilities = classifier.predict([str(p) for p in args.images])
    for image, row in zip(args.images, probabilities):
        best = int(row.argmax())
        print(f"{image}: {classifier.class_names[best]} ({row[best]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
