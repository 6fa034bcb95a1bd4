"""Write the animals3 dataset as an image-folder release, verify it, and read it back.

A *release* is the form in which the project publishes its custom dataset: a plain folder that
both Keras (``keras.utils.image_dataset_from_directory``) and PyTorch (a Pillow-based
``Dataset``) read, with the project's fixed train/val/test split baked into the tree::

    OUT_DIR/
        train/{cats,dogs,panda}/*.png     # lossless PNGs, 64x64 RGB
        val/{cats,dogs,panda}/*.png
        test/{cats,dogs,panda}/*.png
        metadata.json                     # classes, counts, source checksum, split seed
        DATASHEET.md                      # "Datasheets for Datasets"-style documentation
        SHA256SUMS                        # `sha256sum -c SHA256SUMS` verifies every file

``DATASHEET.md`` is rendered from the package template ``templates/datasheet.md.jinja``. The
command line is :mod:`lightning_cnn.dataset` (``python -m lightning_cnn.dataset release OUT_DIR``).

Example:

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp()) / "animals3"
>>> info = release_animals3(root, limit_per_class=2)  # 2 images per class and split
>>> info.counts["train"], verify_release(root)
({'cats': 2, 'dogs': 2, 'panda': 2}, 20)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import jinja2
import numpy as np
from PIL import Image

from a2common.data import sha256_of
from a2common.tables import markdown_table
from lightning_cnn.config import CLASS_NAMES

SPLITS: tuple[str, ...] = ("train", "val", "test")
MANIFEST = "SHA256SUMS"
METADATA = "metadata.json"
DATASHEET = "DATASHEET.md"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
RELEASE_VERSION = "1.0.0"
TEMPLATES = Path(__file__).parent / "templates"  # package data: datasheet.md.jinja


class ReleaseError(RuntimeError):
    """A release folder is missing, incomplete or does not match its manifest."""


@dataclass
class SplitImages:
    """The images of one split: ``images`` uint8 ``(n, H, W, 3)``, ``labels`` and file stems."""

    images: np.ndarray
    labels: np.ndarray
    stems: list[str]

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.shape[-1] != 3 or self.images.dtype != np.uint8:
            raise ValueError(
                "Expected uint8 images of shape (n, height, width, 3). Received: "
                f"dtype={self.images.dtype}, shape={self.images.shape}"
            )
        if not len(self.images) == len(self.labels) == len(self.stems):
            raise ValueError(
                f"Expected as many labels and names as images. Received: "
                f"{len(self.images)} images, {len(self.labels)} labels, "
                f"{len(self.stems)} names"
            )
        if len(set(self.stems)) != len(self.stems):
            raise ValueError("Expected unique file names within a split.")


@dataclass
class ReleaseInfo:
    """What :func:`write_release` wrote."""

    root: Path
    class_names: list[str]
    counts: dict[str, dict[str, int]]
    files: int
    metadata: dict = field(default_factory=dict)


def _progress(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def write_release(
    out_dir: Path | str,
    splits: Mapping[str, SplitImages],
    class_names: Sequence[str],
    source: Mapping[str, str] | None = None,
    overwrite: bool = False,
    quiet: bool = True,
) -> ReleaseInfo:
    """Write ``splits`` as an image-folder release in ``out_dir`` (see the module docstring).

    The tree is built in a temporary sibling folder and moved into place at the end, so an
    interrupted run never leaves a half-written release under ``out_dir``.

    Args:
        out_dir: the release folder to create.
        splits: ``{"train": SplitImages, "val": ..., "test": ...}``.
        class_names: the name of every label value; one sub-folder each.
        source: facts about where the images come from, copied into ``metadata.json``.
        overwrite: replace an existing release (a folder with a ``SHA256SUMS``); other
            non-empty folders are never deleted.
        quiet: do not print progress.

    Raises:
        FileExistsError: ``out_dir`` exists and is not empty (and ``overwrite`` is off, or it
            is not a release).
        ValueError: a split is missing or a label has no class name.
    """
    out_dir = Path(out_dir)
    missing = [name for name in SPLITS if name not in splits]
    if missing:
        raise ValueError(
            f"Expected the splits {SPLITS}. Received: {sorted(splits)} (missing {missing})"
        )
    for name, split in splits.items():
        if len(split.labels) and (split.labels.min() < 0 or split.labels.max() >= len(class_names)):
            raise ValueError(f"Split {name!r} has labels outside 0..{len(class_names) - 1}.")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{out_dir} exists and is not empty. Choose a new folder or "
                "pass overwrite=True (--force) to replace an earlier release."
            )
        if not (out_dir / MANIFEST).is_file():
            raise FileExistsError(
                f"{out_dir} is not empty and holds no {MANIFEST}: refusing to "
                "delete a folder that is not a release."
            )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        counts = _write_images(staging, splits, class_names, quiet)
        metadata = {
            "name": "animals3",
            "version": RELEASE_VERSION,
            "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "class_names": list(class_names),
            "image_size": list(next(iter(splits.values())).images.shape[1:3]),
            "format": "PNG, 8-bit RGB, lossless",
            "counts": counts,
            "source": dict(source or {}),
        }
        (staging / METADATA).write_text(json.dumps(metadata, indent=2) + "\n")
        (staging / DATASHEET).write_text(render_datasheet(metadata))
        files = _write_manifest(staging)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.replace(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _progress(f"Released {files} files to {out_dir}", quiet)
    return ReleaseInfo(out_dir, list(class_names), counts, files, metadata)


def _write_images(
    root: Path, splits: Mapping[str, SplitImages], class_names: Sequence[str], quiet: bool
) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for split_name in SPLITS:
        split = splits[split_name]
        counts[split_name] = {name: 0 for name in class_names}
        for name in class_names:
            (root / split_name / name).mkdir(parents=True)
        for image, label, stem in zip(split.images, split.labels, split.stems):
            class_name = class_names[int(label)]
            Image.fromarray(image, mode="RGB").save(
                root / split_name / class_name / f"{stem}.png", optimize=False
            )
            counts[split_name][class_name] += 1
        _progress(f"  {split_name}: {len(split.labels)} images {counts[split_name]}", quiet)
    return counts


def _release_files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            yield path


def _write_manifest(root: Path) -> int:
    lines = [
        f"{sha256_of(path)}  {path.relative_to(root).as_posix()}" for path in _release_files(root)
    ]
    (root / MANIFEST).write_text("\n".join(lines) + "\n")
    return len(lines)


def verify_release(root: Path | str) -> int:
    """Check every file of a release against ``SHA256SUMS``; return the number of files.

    Raises:
        ReleaseError: the manifest is missing, a listed file is missing or differs, or an
            image is present that the manifest does not list.
    """
    root = Path(root)
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise ReleaseError(
            f"{root} is not a release: {MANIFEST} not found. "
            "Create one with `python -m lightning_cnn.dataset release DIR`."
        )
    listed: dict[str, str] = {}
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, relpath = line.partition("  ")
        if len(digest) != 64 or not relpath:
            raise ReleaseError(
                f"{manifest}:{number}: expected '<sha256>  <path>'. Received: {line!r}"
            )
        listed[relpath] = digest
    problems = []
    for relpath, digest in listed.items():
        path = root / relpath
        if not path.is_file():
            problems.append(f"missing: {relpath}")
        elif sha256_of(path) != digest:
            problems.append(f"checksum mismatch: {relpath}")
    for path in _release_files(root):
        relpath = path.relative_to(root).as_posix()
        if relpath not in listed and path.suffix.lower() in IMAGE_SUFFIXES:
            problems.append(f"not in manifest: {relpath}")
    if problems:
        shown = "; ".join(problems[:10]) + (" ..." if len(problems) > 10 else "")
        raise ReleaseError(f"Release {root} does not verify ({len(problems)} problems): {shown}")
    return len(listed)


def list_split(
    root: Path | str, split: str, class_names: Sequence[str] = CLASS_NAMES
) -> tuple[list[Path], np.ndarray]:
    """Image paths and integer labels of ``root/split/<class>/*`` (sorted, labels by class)."""
    split_dir = Path(root) / split
    if not split_dir.is_dir():
        raise ReleaseError(
            f"Expected a folder {split_dir} (a release split). "
            f"Create a release with `python -m lightning_cnn.dataset release DIR`."
        )
    found = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    if found != sorted(class_names):
        raise ReleaseError(
            f"Expected class folders {sorted(class_names)} in {split_dir}. Received: {found}"
        )
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(class_names):
        files = sorted(
            p for p in (split_dir / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
        )
        paths += files
        labels += [label] * len(files)
    return paths, np.asarray(labels, dtype=np.int64)


def read_split(
    root: Path | str, split: str, class_names: Sequence[str] = CLASS_NAMES
) -> tuple[np.ndarray, np.ndarray]:
    """Decode one split of a release with Pillow: ``(uint8 (n, H, W, 3), int64 labels)``."""
    paths, labels = list_split(root, split, class_names)
    images = []
    for path in paths:
        with Image.open(path) as image:
            images.append(np.asarray(image.convert("RGB")))
    return np.stack(images) if images else np.zeros((0, 0, 0, 3), np.uint8), labels


def animals3_splits(
    limit_per_class: int | None = None,
) -> tuple[dict[str, SplitImages], dict[str, str]]:
    """The project's fixed animals3 split, with original file stems where they can be traced.

    ``a2common.data.load_dataset("animals3")`` makes the split; its row indices are recovered
    by running the same seeded split on ``arange(n)`` and checked pixel for pixel, so every
    PNG keeps the name of the JPEG it came from (``cats_00001.png`` ...).
    """
    from a2common.data import SPLIT_SEED, load_dataset, stratified_split

    dataset = load_dataset("animals3")
    if list(dataset.class_names) != list(CLASS_NAMES):
        raise ReleaseError(f"Expected classes {list(CLASS_NAMES)}. Received: {dataset.class_names}")
    if dataset.val is None:
        raise ReleaseError("Expected animals3 with a validation split. Received: none")
    loaded = {"train": dataset.train, "val": dataset.val, "test": dataset.test}
    stems = _original_stems(dataset, loaded, stratified_split)
    splits = {}
    for name, split in loaded.items():
        keep = np.arange(len(split.y))
        if limit_per_class is not None:
            keep = np.concatenate(
                [
                    np.flatnonzero(split.y == label)[:limit_per_class]
                    for label in range(len(CLASS_NAMES))
                ]
            )
        splits[name] = SplitImages(split.x[keep], split.y[keep], [stems[name][i] for i in keep])
    source = {
        "dataset": "animals3",
        "file": Path(dataset.source[0]).name,
        "sha256": next(iter(dataset.sha256.values())),
        "split": f"seeded stratified 70/10/20 (a2common.data.SPLIT_SEED={SPLIT_SEED})",
    }
    return splits, source


def _original_stems(dataset, loaded, stratified_split) -> dict[str, list[str]]:
    """File stems per split: the original JPEG names when traceable, else ``<class>_<row>``."""
    try:
        with np.load(dataset.source[0]) as archive:
            names = [Path(str(n)).stem for n in archive["filenames"]]
            all_y = archive["y"].astype(np.int64)
        rows = np.arange(len(all_y))
        rest, test = stratified_split(rows, all_y, 0.2)
        train, val = stratified_split(rest.x, rest.y, 0.1 / 0.8)
        found = {"train": train.x, "val": val.x, "test": test.x}
        with np.load(dataset.source[0]) as archive:
            all_x = archive["x"]
            if all(np.array_equal(all_x[found[k]], loaded[k].x) for k in loaded):
                return {k: [names[i] for i in found[k]] for k in loaded}
    except (KeyError, OSError, ValueError):
        pass
    return {
        k: [f"{CLASS_NAMES[int(label)]}_{i:05d}" for i, label in enumerate(split.y)]
        for k, split in loaded.items()
    }


def release_animals3(
    out_dir: Path | str,
    limit_per_class: int | None = None,
    overwrite: bool = False,
    quiet: bool = True,
) -> ReleaseInfo:
    """Publish animals3 (the project's fixed split) as a release in ``out_dir``.

    Args:
        out_dir: folder to create.
        limit_per_class: keep only the first N images of each class in each split (tests).
        overwrite: replace an earlier release in ``out_dir``.
        quiet: do not print progress.
    """
    splits, source = animals3_splits(limit_per_class)
    if limit_per_class is not None:
        source["subset"] = f"first {limit_per_class} images per class and split"
    return write_release(out_dir, splits, CLASS_NAMES, source, overwrite=overwrite, quiet=quiet)


def ensure_release(out_dir: Path | str, require_full: bool = False, quiet: bool = True) -> Path:
    """Return ``out_dir`` holding a verified animals3 release, writing the full one if needed.

    Args:
        out_dir: the release folder.
        require_full: also replace a verified *subset* release (``--limit-per-class``).
        quiet: do not print progress.
    """
    out_dir = Path(out_dir)
    try:
        verify_release(out_dir)
        metadata = json.loads((out_dir / METADATA).read_text())
        if not require_full or "subset" not in metadata.get("source", {}):
            return out_dir
    except (ReleaseError, OSError, ValueError):
        pass
    release_animals3(out_dir, overwrite=(out_dir / MANIFEST).is_file(), quiet=quiet)
    return out_dir


def render_datasheet(metadata: Mapping) -> str:
    """The DATASHEET.md of a release, in the style of Gebru et al., "Datasheets for Datasets".

    ``metadata`` is what the release writes to ``metadata.json``; the text is the template
    ``templates/datasheet.md.jinja``.
    """
    counts = metadata["counts"]
    classes = metadata["class_names"]
    table = markdown_table(
        ["split", *classes, "total"],
        [
            [split, *(counts[split][c] for c in classes), sum(counts[split].values())]
            for split in SPLITS
        ],
    )
    source = metadata.get("source", {})
    height, width = metadata["image_size"]
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template("datasheet.md.jinja").render(
        version=metadata["version"],
        created_utc=metadata["created_utc"],
        source=source,
        height=height,
        width=width,
        classes=classes,
        table=table,
        metadata_file=METADATA,
        manifest_file=MANIFEST,
    )
