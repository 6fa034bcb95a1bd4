"""Test-time augmentation: average a classifier's probabilities over views of each image.

Framework-free: the caller passes the function that maps a batch of ``(n, height, width,
channels)`` images to class probabilities (a Keras model's ``predict`` followed by a softmax,
say), so every Keras package averages the same views the same way. The views are the image,
its left-right mirror image and one-pixel shifts with reflected borders (see
:func:`average_over_views`).

Example:

>>> images = np.arange(8, dtype="float32").reshape(2, 2, 2, 1)
>>> def left_column_share(batch):  # a "classifier" that looks at the left column only
...     left = batch[:, :, 0, 0].sum(axis=1)
...     share = left / batch.sum(axis=(1, 2, 3))
...     return np.stack([share, 1 - share], axis=1)
>>> average_over_views(left_column_share, images, level=1)[:, 0].round(3).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

from typing import Callable

import numpy as np

TTA_LEVELS = (0, 1, 2)
"""0: the images as they are; 1: and their mirror images; 2: and one-pixel shifts of both."""


def average_over_views(
    predict: Callable[[np.ndarray], np.ndarray],
    images: np.ndarray,
    *,
    level: int = 1,
    mirror: bool = True,
) -> np.ndarray:
    """Class probabilities of ``images``, averaged over test-time views, as float64.

    ``level`` 0: ``predict(images)``; 1: the mean over each image and its mirror image; 2:
    half of level 1 plus a quarter each of level 1 on the images shifted one pixel up-left and
    one pixel down-right (reflected borders), six views in all. With ``mirror=False`` no view
    is mirrored (level 1 is then level 0, and level 2 averages three views).

    Args:
        predict: maps a batch of images to probabilities ``(n, classes)``.
        images: ``(n, height, width, channels)`` (any shape at level 0).
        level: 0, 1 or 2 (:data:`TTA_LEVELS`).
        mirror: use mirror images (``False`` for data where left and right differ, e.g.
            digits).

    Returns:
        ``(n, classes)`` float64 probabilities, rows in the order of ``images``.

    Raises:
        ValueError: an unknown level, or views asked of images that are not 4-D.
    """
    if level not in TTA_LEVELS:
        raise ValueError(f"Expected level 0, 1 or 2. Received: level={level}")
    if level and np.ndim(images) != 4:
        raise ValueError(
            "Expected images of shape (n, height, width, channels) for test-time augmentation. "
            f"Received: images.shape={np.shape(images)}"
        )

    def probabilities(batch: np.ndarray) -> np.ndarray:
        return np.asarray(predict(batch), np.float64)

    def with_mirror(batch: np.ndarray) -> np.ndarray:
        if level == 0 or not mirror:
            return probabilities(batch)
        return (probabilities(batch) + probabilities(batch[:, :, ::-1])) / 2.0

    averaged = with_mirror(images)
    if level == 2:
        padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
        height, width = images.shape[1:3]
        up_left = with_mirror(padded[:, :height, :width])
        down_right = with_mirror(padded[:, 2 : height + 2, 2 : width + 2])
        averaged = averaged / 2.0 + (up_left + down_right) / 4.0
    return averaged
