"""Seeded stratified splits, class subsets, and the stacked red + white wine splits."""

from __future__ import annotations

import numpy as np

from a2common.data.files import Split

SPLIT_SEED = 20261123
"""Seed of the stratified splits made for datasets without an official split."""


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
