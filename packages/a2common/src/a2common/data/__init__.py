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

Import from ``a2common.data``; the code lives in :mod:`.files` (types, errors, finding and
verifying files), :mod:`.readers` (one reader per on-disk format), :mod:`.splits` (seeded
splits, class subsets, the wine labels) and :mod:`.catalog` (the dataset table, ``load_dataset``,
``load_split``).

Example:

>>> from a2common.data import load_dataset
>>> mnist = load_dataset("mnist")
>>> mnist.train.x.shape, mnist.test.y[:3]
((60000, 28, 28), array([7, 2, 1]))
"""

from a2common.data.catalog import (
    DATASETS,
    PIMA_FEATURES,
    WINE_FEATURES,
    available_datasets,
    dataset_sha256,
    get_spec,
    load_dataset,
    load_split,
)
from a2common.data.files import (
    DATA_DIR_ENV,
    DataFile,
    Dataset,
    DatasetChecksumError,
    DatasetError,
    DatasetNotFoundError,
    DatasetSpec,
    Split,
    cache_dir,
    locate,
    search_roots,
    sha256_of,
)
from a2common.data.readers import CIFAR10_SHA256, TabularFormat
from a2common.data.splits import (
    SPLIT_SEED,
    WINE_COLOURS,
    WINE_QUALITY_BANDS,
    combine_wine_split,
    select_classes,
    stratified_split,
)

__all__ = [
    "CIFAR10_SHA256",
    "DATA_DIR_ENV",
    "DATASETS",
    "PIMA_FEATURES",
    "SPLIT_SEED",
    "WINE_COLOURS",
    "WINE_FEATURES",
    "WINE_QUALITY_BANDS",
    "DataFile",
    "Dataset",
    "DatasetChecksumError",
    "DatasetError",
    "DatasetNotFoundError",
    "DatasetSpec",
    "Split",
    "TabularFormat",
    "available_datasets",
    "cache_dir",
    "combine_wine_split",
    "dataset_sha256",
    "get_spec",
    "load_dataset",
    "load_split",
    "locate",
    "search_roots",
    "select_classes",
    "sha256_of",
    "stratified_split",
]
