"""Where the data files are and whether they are intact: the loader's types and errors,
the search folders, file lookup and sha256 checks."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

DATA_DIR_ENV = "ASSIGNMENT2_DATA_DIR"


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
    """Folders searched for data files, in priority order (see :mod:`a2common.data`)."""
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
