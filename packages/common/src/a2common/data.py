"""One loader for every dataset the assignment uses.

``load_dataset(name)`` finds the files, verifies their sha256 sums and returns a :class:`Dataset`
with ``train`` / ``val`` / ``test`` splits. Files are looked up, in order, in

1. the folder named by the environment variable ``ASSIGNMENT2_DATA_DIR`` (an override),
2. a ``shared/data`` folder in the repository or beside it (``../shared/data``),
3. ``/usr/share/datasets`` (Debian's ``dataset-*`` packages, e.g. Fashion-MNIST),
4. the user cache ``$XDG_CACHE_HOME/assignment2/data`` (``~/.cache/assignment2/data``), where
   :func:`a2common.download.download_dataset` puts files fetched from the internet.

Official splits are kept where they exist. Where a dataset has none, a seeded, stratified split
(:data:`SPLIT_SEED`) makes the same train/val/test partition on every machine and every run.

Example:

>>> from a2common.data import load_dataset
>>> mnist = load_dataset("mnist")
>>> mnist.train.x.shape, mnist.test.y[:3]
((60000, 28, 28), array([7, 2, 1]))
"""

from __future__ import annotations

import csv
import difflib
import gzip
import hashlib
import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

DATA_DIR_ENV = "ASSIGNMENT2_DATA_DIR"
SPLIT_SEED = 20261123
"""Seed of the stratified splits made for datasets without an official split."""


class DatasetError(RuntimeError):
    """Base class of the loader's errors; the message always says how to fix the problem."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A file of the dataset is in none of the searched folders."""


class DatasetChecksumError(DatasetError):
    """A file was found but its sha256 sum is not the expected one (corrupt or different file)."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset.

    Args:
        relpath: path relative to a data root, e.g. ``"mnist.npz"``.
        sha256: expected sha256 of the file (for ``.gz`` files: of the *decompressed* bytes, so
            that a re-compressed copy, such as Debian's, verifies the same as the original).
        url: where the identical file can be downloaded by a user with internet, or ``None``
            when only a mirror (``ASSIGNMENT2_DATA_URL``) can serve it.
    """

    relpath: str
    sha256: str
    url: str | None = None

    @property
    def hashes_decompressed(self) -> bool:
        return self.relpath.endswith(".gz")


@dataclass
class Split:
    """Inputs and integer labels of one split."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    """A loaded dataset.

    Attributes:
        name: registry name, e.g. ``"mnist"``.
        train, val, test: the splits (``val`` is ``None`` where neither the source nor this
            loader defines one; make one with :func:`stratified_split`).
        class_names: one name per label value.
        sha256: verified sha256 of every file read, keyed by its relative path.
        feature_names: column names for tabular datasets.
        source: the file paths actually read.
    """

    name: str
    train: Split
    test: Split
    val: Split | None
    class_names: list[str]
    sha256: dict[str, str]
    feature_names: list[str] | None = None
    source: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass(frozen=True)
class DatasetSpec:
    """Registry entry: the files of a dataset, how to read them, and how to get them."""

    name: str
    files: tuple[DataFile, ...]
    reader: Callable[[dict[str, Path]], Dataset]
    description: str
    how_to_get: str


def sha256_of(path: Path, decompress: bool = False) -> str:
    """Return the hex sha256 of a file (of its gunzipped bytes if ``decompress``).

    Raises:
        DatasetChecksumError: ``decompress`` and the file is not a complete gzip stream.
    """
    digest = hashlib.sha256()
    opener = gzip.open if decompress else open
    try:
        with opener(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DatasetChecksumError(
            f"file {path} is corrupt: it is not a complete gzip file "
            f"({type(error).__name__}: {error})."
        ) from error
    return digest.hexdigest()


def cache_dir() -> Path:
    """The per-user download cache, ``$XDG_CACHE_HOME/assignment2/data``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "assignment2" / "data"


def search_roots() -> list[Path]:
    """Folders searched for data files, in priority order (see the module docstring)."""
    roots: list[Path] = []
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        folder = Path(override).expanduser()
        if not folder.is_dir():
            raise DatasetNotFoundError(
                f"{DATA_DIR_ENV}={override!r} names no folder. Fix: point it at the folder "
                f"that holds the data files (e.g. shared/data), or unset it to search the "
                f"default places."
            )
        roots.append(folder)
    for ancestor in Path(__file__).resolve().parents:
        candidate = ancestor / "shared" / "data"
        if candidate.is_dir():
            roots.append(candidate)
            break
    roots.append(Path("/usr/share/datasets"))
    roots.append(cache_dir())
    return roots


def locate(data_file: DataFile, spec: DatasetSpec, verify: bool = True) -> Path:
    """Find ``data_file`` in :func:`search_roots` and verify its checksum."""
    roots = search_roots()
    for root in roots:
        path = root / data_file.relpath
        if path.is_file():
            if verify:
                try:
                    actual = sha256_of(path, decompress=data_file.hashes_decompressed)
                except DatasetChecksumError as error:
                    raise DatasetChecksumError(
                        f"Dataset {spec.name!r}: {error} Fix: delete or replace it with a good "
                        f"copy. {spec.how_to_get}"
                    ) from None
                if actual != data_file.sha256:
                    raise DatasetChecksumError(
                        f"Dataset {spec.name!r}: file {path} is corrupt or not the expected file. "
                        f"Expected sha256 {data_file.sha256}, received sha256 {actual}. "
                        f"Fix: delete or replace it with a good copy. {spec.how_to_get}"
                    )
            return path
    searched = ", ".join(str(root) for root in roots)
    raise DatasetNotFoundError(
        f"Dataset {spec.name!r}: file {data_file.relpath!r} was not found. Searched: {searched}. "
        f"Fix: {spec.how_to_get} Or set {DATA_DIR_ENV}=/folder/containing/{data_file.relpath}."
    )


def stratified_split(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int = SPLIT_SEED
) -> tuple[Split, Split]:
    """Split ``(x, y)`` into ``(rest, held_out)`` with ``fraction`` of each class held out.

    The split depends only on ``y``, ``fraction`` and ``seed``, so it is identical on every run.

    Example:

    >>> rest, held_out = stratified_split(np.zeros((10, 2)), np.array([0, 1] * 5), 0.2)
    >>> len(rest), len(held_out)
    (8, 2)
    """
    from sklearn.model_selection import train_test_split

    if not 0.0 < fraction < 1.0:
        raise ValueError(f"Expected 0 < fraction < 1. Received: fraction={fraction}")
    indices = np.arange(len(y))
    rest_idx, held_idx = train_test_split(
        indices, test_size=fraction, stratify=y, random_state=seed, shuffle=True
    )
    rest_idx.sort()
    held_idx.sort()
    return Split(x[rest_idx], y[rest_idx]), Split(x[held_idx], y[held_idx])


def _train_val_test(x: np.ndarray, y: np.ndarray, val: float, test: float) -> tuple[Split, ...]:
    """Seeded stratified train/val/test split with the given fractions of the whole."""
    rest, test_split = stratified_split(x, y, test)
    train_split, val_split = stratified_split(rest.x, rest.y, val / (1.0 - test))
    return train_split, val_split, test_split


# ---------------------------------------------------------------------------------------------
# Readers: one per on-disk format.


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


# ---------------------------------------------------------------------------------------------
# Red + white wine stacked: the labels of the two-head wine task, defined once.

WINE_COLOURS = ("red", "white")
"""Class names of ``wine_colour``: label 0 = red, 1 = white."""
WINE_QUALITY_BANDS = ("low", "medium", "high")
"""Class names of ``wine_quality_band``: 0 = quality <= 5, 1 = quality 6, 2 = quality >= 7."""


def combine_wine_split(
    red: Split, white: Split, red_class_names: list[str], white_class_names: list[str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """THE label definition of the wine tasks, for one split of the two wine datasets.

    Rows: all rows of ``red`` (a split of ``load_dataset("wine_red")``) in the loader's order,
    then all rows of ``white`` (the same split of ``load_dataset("wine_white")``) in order.

    Labels:

    * ``colour``: 0 for the red rows, 1 for the white rows (:data:`WINE_COLOURS`).
    * ``quality_band``: from the sensory quality score ``q`` (0-10, the median of at least
      three assessors), where ``q = int(class_names[y])`` undoes the loader's class encoding:
      0 = low if ``q <= 5``, 1 = medium if ``q == 6``, 2 = high if ``q >= 7``
      (:data:`WINE_QUALITY_BANDS`).

    The datasets ``wine_colour`` and ``wine_quality_band`` are these rows with one of the two
    labels, so a model trained on the stacked table and the autograder agree row by row.

    Args:
        red, white: loader splits (``.x`` features, ``.y`` class indices).
        red_class_names, white_class_names: the datasets' ``class_names`` (quality scores as
            strings, e.g. ``['3', ..., '8']``).

    Returns:
        ``(features, labels)``: the stacked ``(n, 11)`` feature matrix and
        ``{"colour": (n,) int64, "quality_band": (n,) int64}``.

    Example:

    >>> red = Split(np.zeros((2, 11)), np.array([0, 2]))   # quality 5, 7
    >>> white = Split(np.ones((1, 11)), np.array([1]))     # quality 6
    >>> x, labels = combine_wine_split(red, white, ["5", "6", "7"], ["5", "6", "7"])
    >>> x.shape, labels["colour"].tolist(), labels["quality_band"].tolist()
    ((3, 11), [0, 0, 1], [0, 2, 1])
    """
    quality = np.concatenate(
        [
            np.array([int(red_class_names[i]) for i in red.y], dtype=np.int64),
            np.array([int(white_class_names[i]) for i in white.y], dtype=np.int64),
        ]
    )
    colour = np.concatenate([np.zeros(len(red.y), np.int64), np.ones(len(white.y), np.int64)])
    band = np.where(quality <= 5, 0, np.where(quality == 6, 1, 2)).astype(np.int64)
    features = np.concatenate([np.asarray(red.x, np.float64), np.asarray(white.x, np.float64)])
    return features, {"colour": colour, "quality_band": band}


def _read_wine_stacked(name: str, head: str, class_names: tuple[str, ...]):
    """``wine_red`` and ``wine_white``, each split stacked (red first), labelled by ``head``."""

    def reader(paths: dict[str, Path]) -> Dataset:
        parts = []
        for source in ("wine_red", "wine_white"):
            spec = get_spec(source)
            parts.append(spec.reader({f.relpath: paths[f.relpath] for f in spec.files}))
        red, white = parts
        splits = {}
        for split in ("train", "val", "test"):
            features, labels = combine_wine_split(
                getattr(red, split), getattr(white, split), red.class_names, white.class_names
            )
            splits[split] = Split(features, labels[head])
        return Dataset(
            name,
            splits["train"],
            splits["test"],
            splits["val"],
            list(class_names),
            {},
            feature_names=red.feature_names,
            source=[str(p) for p in paths.values()],
        )

    return reader


# ---------------------------------------------------------------------------------------------
# The registry.

CIFAR10_SHA256 = "6e2718054f4f7534f14f5ba3f49dd8522b332a81057c3dc2197c60cd4be8cbd1"
_SHARED_HOW = (
    "Put the project's shared/data folder beside the repository (../shared/data), "
    "or download it with `python -m a2common.download {name}` (needs internet)."
)
_FASHION_HOW = (
    "Install Debian's package: `sudo apt-get install dataset-fashion-mnist` "
    "(files go to /usr/share/datasets/fashion-mnist/), or download the originals "
    "with `python -m a2common.download fashion_mnist` (needs internet)."
)
_ZALANDO = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_ZENODO_MEDMNIST = "https://zenodo.org/records/10519652/files/"
_BROWNLEE = "https://raw.githubusercontent.com/jbrownlee/Datasets/master/"

_WINE_COLUMNS = [
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
    "quality",
]
_ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]


def _spec(name, files, reader, description, how=None):
    return DatasetSpec(
        name, tuple(files), reader, description, (how or _SHARED_HOW).format(name=name)
    )


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        _spec(
            "mnist",
            [
                DataFile(
                    "mnist.npz", "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
                )
            ],
            _read_keras_style_npz("mnist", [str(d) for d in range(10)]),
            "MNIST handwritten digits, 60k/10k official split, 28x28 uint8.",
        ),
        _spec(
            "fashion_mnist",
            [
                DataFile(
                    "fashion-mnist/train-images-idx3-ubyte.gz",
                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                    _ZALANDO + "train-images-idx3-ubyte.gz",
                ),
                DataFile(
                    "fashion-mnist/train-labels-idx1-ubyte.gz",
                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                    _ZALANDO + "train-labels-idx1-ubyte.gz",
                ),
                DataFile(
                    "fashion-mnist/t10k-images-idx3-ubyte.gz",
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                    _ZALANDO + "t10k-images-idx3-ubyte.gz",
                ),
                DataFile(
                    "fashion-mnist/t10k-labels-idx1-ubyte.gz",
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                    _ZALANDO + "t10k-labels-idx1-ubyte.gz",
                ),
            ],
            _read_fashion_mnist,
            "Fashion-MNIST, 60k/10k official split, 28x28 uint8.",
            _FASHION_HOW,
        ),
        _spec(
            "cifar10",
            [DataFile("cifar10_jpeg.npz", CIFAR10_SHA256)],
            _read_cifar10,
            "CIFAR-10 50k/10k official split, 32x32x3 uint8 (decoded from quality-75 JPEGs).",
        ),
        _spec(
            "animals3",
            [
                DataFile(
                    "animals3.npz",
                    "04cc0bb59cdb58a691cdc0bcb3b612471b136075be9a672bb1b1d5d533db2a39",
                )
            ],
            _read_image_folder_npz("animals3"),
            "Cats/dogs/pandas, 3000 photos 64x64x3; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "sign_language_digits",
            [
                DataFile(
                    "sign_language_digits.npz",
                    "22153f98cb46d917434dad401bfa0e23d5a8f72b010e9516b671cc35b569d0f7",
                )
            ],
            _read_image_folder_npz("sign_language_digits"),
            "Sign-language digits 0-9, 2062 photos 64x64x3; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "adrenalmnist3d",
            [
                DataFile(
                    "medmnist/adrenalmnist3d.npz",
                    "8ffd78c0f000265deb7cf4ee0b454136fb3170f9839ecaa7bb01adf9f88aa7d1",
                    _ZENODO_MEDMNIST + "adrenalmnist3d.npz?download=1",
                )
            ],
            _read_medmnist("adrenalmnist3d"),
            "MedMNIST AdrenalMNIST3D 28^3 binary volumes, official train/val/test.",
        ),
        _spec(
            "adrenalmnist3d_64",
            [
                DataFile(
                    "medmnist/adrenalmnist3d_64.npz",
                    "124a53ea2c66c8ac1985a4c98ea6f34d1ab35bdab1dc50947f80d4a87e54057d",
                    _ZENODO_MEDMNIST + "adrenalmnist3d_64.npz?download=1",
                )
            ],
            _read_medmnist("adrenalmnist3d_64"),
            "MedMNIST+ AdrenalMNIST3D 64^3 binary volumes, official train/val/test.",
        ),
        _spec(
            "titanic",
            [
                DataFile(
                    "tabular/titanic.csv",
                    "4a437fde05fe5264e1701a7387ac6fb75393772ba38bb2c9c566405af5af4bd7",
                )
            ],
            _read_tabular(
                "titanic",
                TabularFormat(
                    [
                        "PassengerId",
                        "Survived",
                        "Pclass",
                        "Name",
                        "Sex",
                        "Age",
                        "SibSp",
                        "Parch",
                        "Ticket",
                        "Fare",
                        "Cabin",
                        "Embarked",
                    ],
                    "Survived",
                    header=True,
                ),
            ),
            "Kaggle Titanic train.csv; target Survived; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "pima_diabetes",
            [
                DataFile(
                    "tabular/pima-indians-diabetes.csv",
                    "6bfe5d0f379d17a0e0819b996407e3c09bf80febd4287f2ed212190dfff154af",
                    _BROWNLEE + "pima-indians-diabetes.data.csv",
                )
            ],
            _read_tabular(
                "pima_diabetes",
                TabularFormat(
                    [
                        "Pregnancies",
                        "Glucose",
                        "BloodPressure",
                        "SkinThickness",
                        "Insulin",
                        "BMI",
                        "DiabetesPedigreeFunction",
                        "Age",
                        "Outcome",
                    ],
                    "Outcome",
                ),
            ),
            "Pima Indians diabetes; target Outcome; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "wine_red",
            [
                DataFile(
                    "tabular/winequality-red.csv",
                    "c9614512e980f1cbd221c796daa97f00c4898c3cd1716863abac60f6cd1a522e",
                    _BROWNLEE + "winequality-red.csv",
                )
            ],
            _read_tabular("wine_red", TabularFormat(_WINE_COLUMNS, "quality")),
            "Red wine quality (3-8); seeded stratified 70/10/20 split.",
        ),
        _spec(
            "wine_white",
            [
                DataFile(
                    "tabular/winequality-white.csv",
                    "659d419fff887f225bf977d20520bb64a64cae203e460087f809721d4430ba27",
                    _BROWNLEE + "winequality-white.csv",
                )
            ],
            _read_tabular("wine_white", TabularFormat(_WINE_COLUMNS, "quality")),
            "White wine quality (3-9); seeded stratified 70/10/20 split.",
        ),
        _spec(
            "banknote",
            [
                DataFile(
                    "tabular/banknote_authentication.csv",
                    "d0539aaed2139ba7a587b3e34fb345ce503ff7d5d33dbf9912d8e195ce425cb9",
                    _BROWNLEE + "banknote_authentication.csv",
                )
            ],
            _read_tabular(
                "banknote",
                TabularFormat(["variance", "skewness", "curtosis", "entropy", "class"], "class"),
            ),
            "UCI banknote authentication; seeded stratified 70/10/20 split.",
        ),
        _spec(
            "cleveland_heart",
            [
                DataFile(
                    "tabular/processed.cleveland.data",
                    "a74b7efa387bc9d108d7d0115d831fe9b414b29ae7124f331b622b4efa0427c8",
                )
            ],
            _read_tabular(
                "cleveland_heart",
                TabularFormat(
                    [
                        "age",
                        "sex",
                        "cp",
                        "trestbps",
                        "chol",
                        "fbs",
                        "restecg",
                        "thalach",
                        "exang",
                        "oldpeak",
                        "slope",
                        "ca",
                        "thal",
                        "num",
                    ],
                    "num",
                    target_map=lambda v: "1" if float(v) > 0 else "0",
                ),
            ),
            "UCI Cleveland heart disease, binary (num > 0); seeded stratified 70/10/20 split.",
        ),
        _spec(
            "adult",
            [
                DataFile(
                    "tabular/adult-train.csv.gz",  # sha256 of the gunzipped CSV
                    "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
                ),
                DataFile(
                    "tabular/adult-test.csv.gz",
                    "72567b94f5c1a6f8501377dd80f93892c3848ff071cf91ba47e00b0785a28074",
                ),
            ],
            _read_tabular(
                "adult", TabularFormat(_ADULT_COLUMNS, "income", target_map=lambda v: v.rstrip("."))
            ),
            "UCI Adult income (<=50K / >50K), official train/test; val 10% of train.",
        ),
    ]
}
# Derived datasets: the files of wine_red and wine_white, every split of each stacked (red rows
# first) and labelled by combine_wine_split; the two-head wine task is graded on these.
DATASETS.update(
    {
        spec.name: spec
        for spec in [
            _spec(
                "wine_colour",
                DATASETS["wine_red"].files + DATASETS["wine_white"].files,
                _read_wine_stacked("wine_colour", "colour", WINE_COLOURS),
                "Red + white wine (6,497 rows): colour red/white; each split is wine_red's rows, "
                "then wine_white's.",
            ),
            _spec(
                "wine_quality_band",
                DATASETS["wine_red"].files + DATASETS["wine_white"].files,
                _read_wine_stacked("wine_quality_band", "quality_band", WINE_QUALITY_BANDS),
                "Red + white wine (6,497 rows): quality band low (<= 5) / medium (6) / "
                "high (>= 7); rows as wine_colour.",
            ),
        ]
    }
)


def available_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`."""
    return sorted(DATASETS)


def get_spec(name: str) -> DatasetSpec:
    """Return the registry entry of ``name``; a ``ValueError`` lists the known names."""
    if name not in DATASETS:
        close = difflib.get_close_matches(name, DATASETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(available_datasets())}."
        )
    return DATASETS[name]


def load_dataset(name: str, verify: bool = True) -> Dataset:
    """Find, verify and read dataset ``name`` (see :func:`available_datasets`).

    Raises:
        ValueError: ``name`` is not a known dataset.
        DatasetNotFoundError: a file is missing; the message says where it looked and how to get it.
        DatasetChecksumError: a file's sha256 does not match; the message names the file.
    """
    spec = get_spec(name)
    paths = {f.relpath: locate(f, spec, verify=verify) for f in spec.files}
    dataset = spec.reader(paths)
    dataset.sha256 = {f.relpath: f.sha256 for f in spec.files}
    return dataset


def dataset_sha256(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Expected sha256 of every file of the named datasets (the registry's values)."""
    return {f"{name}:{f.relpath}": f.sha256 for name in names for f in get_spec(name).files}


def select_classes(
    split: Split, class_names: list[str] | tuple[str, ...], wanted: list[str] | tuple[str, ...]
) -> Split:
    """The examples of the ``wanted`` classes, in the loader's order, relabelled ``0..k-1``.

    Label ``i`` of the result is ``wanted[i]``. Tasks that train on a class subset and the
    autograder that grades them both call this, so their rows line up.

    Example:

    >>> part = select_classes(Split(np.arange(4), np.array([0, 2, 1, 2])), ["a", "b", "c"],
    ...                       ["c", "a"])
    >>> part.x.tolist(), part.y.tolist()
    ([0, 1, 3], [1, 0, 0])
    """
    unknown = [name for name in wanted if name not in class_names]
    if unknown or len(set(wanted)) != len(wanted) or not wanted:
        raise ValueError(
            f"Expected distinct class names from {list(class_names)}. Received: {list(wanted)}"
        )
    old_ids = [list(class_names).index(name) for name in wanted]
    keep = np.isin(split.y, old_ids)
    remap = np.full(len(class_names), -1, dtype=np.int64)
    remap[old_ids] = np.arange(len(wanted))
    return Split(split.x[keep], remap[split.y[keep]])


def load_split(
    name: str, split: str = "test", classes: list[str] | tuple[str, ...] | None = None
) -> tuple[Split, list[str]]:
    """One split of dataset ``name`` (optionally only ``classes``) and its class names.

    Example:

    >>> test, names = load_split("cifar10", "test", classes=("cat", "dog"))  # doctest: +SKIP
    >>> len(test), names  # doctest: +SKIP
    (2000, ['cat', 'dog'])
    """
    dataset = load_dataset(name)
    if split not in ("train", "val", "test"):
        raise ValueError(f"Expected split in ('train', 'val', 'test'). Received: {split!r}")
    chosen = getattr(dataset, split)
    if chosen is None:
        raise ValueError(f"Dataset {name!r} has no {split!r} split.")
    if classes is None:
        return chosen, list(dataset.class_names)
    return select_classes(chosen, dataset.class_names, classes), list(classes)
