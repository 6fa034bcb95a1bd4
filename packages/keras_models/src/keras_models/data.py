"""Shaping image arrays for Keras models and streaming them through ``tf.data``.

The loaders in :mod:`a2common.data` return raw ``uint8`` images. Keras models here expect
``float32`` pixels in ``[0, 1]`` with an explicit channel axis for CNNs (MNIST becomes
``(n, 28, 28, 1)``, not ``(n, 784)``) and flat ``int64`` labels (CIFAR-10's ``(n, 1)`` labels are
flattened). Every function checks its input and says what it received when it cannot use it.

Example:

>>> import numpy as np
>>> raw = np.zeros((2, 28, 28), dtype=np.uint8)
>>> prepare_images(raw, (28, 28, 1)).shape
(2, 28, 28, 1)
>>> prepare_labels(np.array([[3], [7]]), num_classes=10)
array([3, 7])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

MNIST_SHAPE = (28, 28, 1)
CIFAR10_SHAPE = (32, 32, 3)


def prepare_images(images: Any, image_shape: Sequence[int]) -> np.ndarray:
    """Return ``images`` as ``float32`` in ``[0, 1]`` with shape ``(n, *image_shape)``.

    Accepts ``(n, h, w)``, ``(n, h, w, c)`` or flat ``(n, h*w*c)`` arrays whose per-image size
    matches ``image_shape``. ``uint8`` pixels are divided by 255; floating-point pixels must
    already lie in ``[0, 1]``.

    Args:
        images: array-like of images.
        image_shape: target shape of one image, e.g. ``(28, 28, 1)`` for a CNN or ``(28, 28)``
            for an MLP that starts with ``Flatten``.

    Raises:
        ValueError: non-numeric dtype, an empty batch, a per-image size that does not match
            ``image_shape``, NaN/inf values, or float pixels outside ``[0, 1]``.

    Example:

    >>> prepare_images(np.full((1, 784), 255, dtype=np.uint8), (28, 28, 1)).max()
    np.float32(1.0)
    """
    array = np.asarray(images)
    image_shape = tuple(int(d) for d in image_shape)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(
            f"Expected numeric images (uint8 or float). Received: images.dtype={array.dtype}"
        )
    if array.ndim < 2 or array.shape[0] == 0:
        raise ValueError(
            f"Expected a non-empty batch of images, shape (n, ...). "
            f"Received: images.shape={array.shape}"
        )
    per_image = int(np.prod(array.shape[1:]))
    if per_image != int(np.prod(image_shape)):
        raise ValueError(
            f"Expected images of shape {image_shape} (or {int(np.prod(image_shape))} "
            f"values each). Received: images.shape={array.shape}"
        )
    if np.issubdtype(array.dtype, np.integer):
        if array.min() < 0 or array.max() > 255:
            raise ValueError(
                f"Expected integer pixels in [0, 255]. Received values in "
                f"[{array.min()}, {array.max()}]"
            )
        scaled = array.astype(np.float32) / np.float32(255.0)
    else:
        if not np.all(np.isfinite(array)):
            raise ValueError(
                f"Expected finite pixel values. Received "
                f"{int(np.sum(~np.isfinite(array)))} NaN/inf values"
            )
        if array.min() < 0.0 or array.max() > 1.0:
            raise ValueError(
                f"Expected float pixels in [0, 1] (divide uint8 images by 255). "
                f"Received values in [{array.min()}, {array.max()}]"
            )
        scaled = array.astype(np.float32)
    return scaled.reshape((array.shape[0], *image_shape))


def prepare_labels(labels: Any, num_classes: int) -> np.ndarray:
    """Return integer class labels as a flat ``int64`` vector, checked against ``num_classes``.

    CIFAR-10 ships labels shaped ``(n, 1)``; they would silently broadcast wrongly in a loss, so
    they are flattened here.

    Raises:
        ValueError: non-integer labels, more than one label per example, or labels outside
            ``[0, num_classes)``.

    Example:

    >>> prepare_labels([0, 9], num_classes=10).dtype
    dtype('int64')
    """
    array = np.asarray(labels)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"Expected integer class labels. Received: labels.dtype={array.dtype}")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(
            f"Expected labels of shape (n,) or (n, 1). Received: labels.shape={array.shape}"
        )
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"Expected labels in [0, {num_classes}). "
            f"Received values in [{array.min()}, {array.max()}]"
        )
    return array.astype(np.int64)


def check_same_length(images: np.ndarray, labels: np.ndarray) -> None:
    """Raise a ``ValueError`` unless there is exactly one label per image."""
    if len(images) != len(labels):
        raise ValueError(
            f"Expected one label per image. Received {len(images)} images and {len(labels)} labels"
        )


def shuffle_labels(labels: np.ndarray, seed: int) -> np.ndarray:
    """Return a seeded random permutation of ``labels``: the image-label link is destroyed.

    Used to build a deliberately broken model (it can only reach chance accuracy on the test
    set), which proves that a grading harness notices a bad model.

    Example:

    >>> sorted(shuffle_labels(np.array([0, 1, 2]), seed=0).tolist())
    [0, 1, 2]
    """
    return np.random.default_rng(seed).permutation(np.asarray(labels))


def take_subset(
    images: np.ndarray, labels: np.ndarray, size: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random subset of ``size`` examples (all of them when ``size`` is ``None``)."""
    check_same_length(images, labels)
    if size is None or size >= len(labels):
        return images, labels
    index = np.sort(np.random.default_rng(seed).choice(len(labels), size, replace=False))
    return images[index], labels[index]


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    augment: Any = None,
    num_classes: int | None = None,
):
    """A batched, prefetched ``tf.data.Dataset`` of ``(images, labels)``.

    Args:
        images: prepared ``float32`` images (see :func:`prepare_images`).
        labels: integer labels (see :func:`prepare_labels`).
        batch_size: examples per batch.
        shuffle: reshuffle every epoch (seeded, so runs repeat).
        seed: shuffle seed.
        augment: optional callable on a batch of images (e.g. a ``keras.Sequential`` of
            ``RandomFlip``/``RandomTranslation`` layers), applied with ``training=True``.
        num_classes: if given, labels are one-hot encoded (for ``CategoricalCrossentropy``
            with label smoothing).

    Example:

    >>> ds = make_dataset(np.zeros((5, 28, 28, 1), np.float32), np.arange(5), batch_size=2)
    >>> [tuple(x.shape) for x, _ in ds]
    [(2, 28, 28, 1), (2, 28, 28, 1), (1, 28, 28, 1)]
    """
    import tensorflow as tf

    check_same_length(images, labels)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment is not None:
        # Sequential on purpose: seeded random layers draw from one stateful generator, and
        # in a parallel map thread timing decides which batch gets which draw.
        dataset = dataset.map(lambda x, y: (augment(x, training=True), y))
    if num_classes is not None:
        dataset = dataset.map(
            lambda x, y: (x, tf.one_hot(y, num_classes)), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
