"""Readers, one per on-disk format: Keras-style and image-folder npz, IDX, CIFAR-10 JPEGs
(with a verified cache of the decoded pixels), MedMNIST and CSV tables."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from a2common.data.files import Dataset, DatasetError, Split, cache_dir
from a2common.data.splits import _train_val_test, stratified_split

CIFAR10_SHA256 = "6e2718054f4f7534f14f5ba3f49dd8522b332a81057c3dc2197c60cd4be8cbd1"


def _read_keras_style_npz(name: str, class_names: list[str]):
    def reader(paths: dict[str, Path]) -> Dataset:
        (path,) = paths.values()
        with np.load(path) as archive:
            train = Split(archive["x_train"], archive["y_train"].astype(np.int64))
            test = Split(archive["x_test"], archive["y_test"].astype(np.int64))
        return Dataset(name, train, test, None, class_names, {}, source=[str(path)])

    return reader


def _read_idx(path: Path) -> np.ndarray:
    """Read an (optionally gzipped) IDX file of unsigned bytes, as used by (Fashion-)MNIST."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    zero, dtype_code, ndim = raw[0] * 256 + raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08:
        raise DatasetError(f"{path} is not an unsigned-byte IDX file (header {raw[:4]!r}).")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DatasetError(f"{path}: IDX header says {shape} but holds {data.size} values.")
    return data.reshape(shape)


def _read_fashion_mnist(paths: dict[str, Path]) -> Dataset:
    by_name = {
        Path(rel).name.split("-")[0] + "-" + Path(rel).name.split("-")[1]: p
        for rel, p in paths.items()
    }
    train = Split(
        _read_idx(by_name["train-images"]), _read_idx(by_name["train-labels"]).astype(np.int64)
    )
    test = Split(
        _read_idx(by_name["t10k-images"]), _read_idx(by_name["t10k-labels"]).astype(np.int64)
    )
    class_names = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    return Dataset(
        "fashion_mnist", train, test, None, class_names, {}, source=[str(p) for p in paths.values()]
    )


def _decode_jpegs(buffer: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    from PIL import Image

    images = np.empty((len(offsets) - 1, 32, 32, 3), dtype=np.uint8)
    for i in range(len(offsets) - 1):
        blob = buffer[offsets[i] : offsets[i + 1]].tobytes()
        with Image.open(io.BytesIO(blob)) as image:
            images[i] = np.asarray(image.convert("RGB"))
    return images


def _arrays_sha256(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _read_decoded_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The decoded CIFAR-10 arrays cached at ``path``, or ``None`` if absent, stale or corrupt.

    The cache is trusted only if it was decoded from the expected source file **and** its
    arrays still hash to the sha256 recorded when it was written (a truncated or altered cache
    is rebuilt, never used).
    """
    if not path.is_file():
        return None
    try:
        with np.load(path) as decoded:
            if decoded["source_sha256"].item() != CIFAR10_SHA256:
                return None
            x_train, x_test = decoded["x_train"], decoded["x_test"]
            recorded = decoded["arrays_sha256"].item()
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if (
        x_train.shape != (50000, 32, 32, 3)
        or x_test.shape != (10000, 32, 32, 3)
        or _arrays_sha256(x_train, x_test) != recorded
    ):
        return None
    return x_train, x_test


def _read_cifar10(paths: dict[str, Path]) -> Dataset:
    (path,) = paths.values()
    cached = cache_dir() / "decoded" / "cifar10_uint8.npz"
    with np.load(path) as archive:
        class_names = [str(c) for c in archive["class_names"]]
        y_train = archive["y_train"].astype(np.int64)
        y_test = archive["y_test"].astype(np.int64)
        decoded = _read_decoded_cache(cached)
        if decoded is None:
            decoded = (
                _decode_jpegs(archive["train_jpeg"], archive["train_offsets"]),
                _decode_jpegs(archive["test_jpeg"], archive["test_offsets"]),
            )
            _write_decoded_cache(cached, *decoded)
    x_train, x_test = decoded
    return Dataset(
        "cifar10",
        Split(x_train, y_train),
        Split(x_test, y_test),
        None,
        class_names,
        {},
        source=[str(path)],
    )


def _write_decoded_cache(path: Path, x_train: np.ndarray, x_test: np.ndarray) -> None:
    """Keep a decoded copy (decoding takes ~6 s); failing to write it is harmless."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npz")
        np.savez(
            temporary,
            x_train=x_train,
            x_test=x_test,
            source_sha256=np.array(CIFAR10_SHA256),
            arrays_sha256=np.array(_arrays_sha256(x_train, x_test)),
        )
        temporary.replace(path)
    except OSError:
        pass


def _read_image_folder_npz(name: str):
    """Images without an official split: 70/10/20 seeded stratified train/val/test."""

    def reader(paths: dict[str, Path]) -> Dataset:
        (path,) = paths.values()
        with np.load(path) as archive:
            x, y = archive["x"], archive["y"].astype(np.int64)
            class_names = [str(c) for c in archive["class_names"]]
        train, val, test = _train_val_test(x, y, val=0.1, test=0.2)
        return Dataset(name, train, test, val, class_names, {}, source=[str(path)])

    return reader


def _read_medmnist(name: str):
    def reader(paths: dict[str, Path]) -> Dataset:
        (path,) = paths.values()
        with np.load(path) as archive:
            splits = {
                split: Split(
                    archive[f"{split}_images"],
                    archive[f"{split}_labels"].reshape(-1).astype(np.int64),
                )
                for split in ("train", "val", "test")
            }
        return Dataset(
            name,
            splits["train"],
            splits["test"],
            splits["val"],
            ["normal", "hyperplasia"],
            {},
            source=[str(path)],
        )

    return reader


@dataclass(frozen=True)
class TabularFormat:
    columns: list[str]
    target: str
    header: bool = False
    missing: tuple[str, ...] = ("?", "")
    target_map: Callable[[str], str] = str


def _parse_csv_rows(path: Path, fmt: TabularFormat) -> list[list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as stream:
        rows = [[cell.strip() for cell in row] for row in csv.reader(stream) if row]
    if fmt.header:
        rows = rows[1:]
    return [row for row in rows if len(row) == len(fmt.columns)]


def _to_feature_matrix(
    rows: list[list[str]], columns: list[str], missing: tuple[str, ...]
) -> np.ndarray:
    """Numeric columns become float (missing → NaN); other columns stay strings (object)."""
    table = np.array(rows, dtype=object).reshape(len(rows), len(columns))
    result = np.empty(table.shape, dtype=object)
    for j in range(table.shape[1]):
        column = table[:, j]
        try:
            result[:, j] = [np.nan if v in missing else float(v) for v in column]
        except ValueError:
            result[:, j] = [None if v in missing else v for v in column]
    if all(isinstance(v, float) for v in result.ravel()):
        return result.astype(np.float64)
    return result


def _read_tabular(name: str, fmt: TabularFormat):
    """Tabular CSVs: features as a matrix, the target encoded as integer class labels."""

    def reader(paths: dict[str, Path]) -> Dataset:
        rows_by_file = [
            _parse_csv_rows(paths[rel], fmt) for rel in sorted(paths, key=lambda rel: "test" in rel)
        ]  # train first
        target_index = fmt.columns.index(fmt.target)
        feature_columns = [c for c in fmt.columns if c != fmt.target]

        def features_and_targets(rows):
            targets = [fmt.target_map(row[target_index]) for row in rows]
            features = [[v for j, v in enumerate(row) if j != target_index] for row in rows]
            return _to_feature_matrix(features, feature_columns, fmt.missing), targets

        class_names = sorted(
            {fmt.target_map(r[target_index]) for rows in rows_by_file for r in rows},
            key=_natural_key,
        )
        encode = {c: i for i, c in enumerate(class_names)}
        if len(rows_by_file) == 2:  # official train/test files (adult)
            train_rows, test_rows = rows_by_file
            x_train, t_train = features_and_targets(train_rows)
            x_test, t_test = features_and_targets(test_rows)
            train = Split(x_train, np.array([encode[t] for t in t_train], dtype=np.int64))
            test = Split(x_test, np.array([encode[t] for t in t_test], dtype=np.int64))
            train, val = stratified_split(train.x, train.y, 0.1)
        else:
            x, targets = features_and_targets(rows_by_file[0])
            y = np.array([encode[t] for t in targets], dtype=np.int64)
            train, val, test = _train_val_test(x, y, val=0.1, test=0.2)
        return Dataset(
            name,
            train,
            test,
            val,
            class_names,
            {},
            feature_names=feature_columns,
            source=[str(p) for p in paths.values()],
        )

    return reader


def _natural_key(text: str):
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)
