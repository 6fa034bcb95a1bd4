"""The "animals6" data of seed 004 part 3: CIFAR-10's six animal classes at 32×32.

The seed's 10-class × 500-image animal set is not available offline; CIFAR-10's bird, cat,
deer, dog, frog and horse photos are (5,000 training and 1,000 test images per class). The test
split is the loader's CIFAR-10 test split restricted to these classes (what the autograder grades
against); the validation split is a seeded, stratified 10% of the training split.

Example: ``load_animals6()`` loads CIFAR-10 and converts 36,000 images to ``float32`` (seconds
and about 450 MB), so it is not run here::

    data = load_animals6()
    data.train_images.shape, data.val_images.shape, data.test_images.shape
    # ((27000, 32, 32, 3), (3000, 32, 32, 3), (6000, 32, 32, 3))

What it returns, on six random stand-in images (one per class):

>>> images = np.random.default_rng(0).random((6, 32, 32, 3), dtype=np.float32)
>>> labels = np.arange(6)
>>> data = Animals6(images, labels, images, labels, images, labels)
>>> [data.class_names[label] for label in data.train_labels[:2]]
['bird', 'cat']
>>> mean, std = data.channel_statistics()  # per RGB channel, e.g. to standardise inputs
>>> len(mean), len(std), 0.4 < mean[0] < 0.6
(3, 3, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from a2common.data import load_dataset, select_classes, stratified_split

ANIMAL_CLASSES = ("bird", "cat", "deer", "dog", "frog", "horse")
VALIDATION_FRACTION = 0.1


@dataclass(frozen=True)
class Animals6:
    """Train/validation/test arrays: ``float32`` pixels in ``[0, 1]``, ``int64`` labels 0-5."""

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...] = ANIMAL_CLASSES

    def channel_statistics(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and standard deviation of the training images."""
        return (
            self.train_images.mean(axis=(0, 1, 2)).tolist(),
            self.train_images.std(axis=(0, 1, 2)).tolist(),
        )


def _to_float(images: np.ndarray) -> np.ndarray:
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (32, 32, 3):
        raise ValueError(
            f"Expected uint8 images of shape (n, 32, 32, 3). Received: "
            f"shape={images.shape}, dtype={images.dtype}"
        )
    return images.astype(np.float32) / 255.0


def subsample(
    images: np.ndarray, labels: np.ndarray, per_class: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``per_class`` examples of each class (seeded), in their original order.

    Example:

    >>> x, y = subsample(np.arange(6), np.array([0, 0, 0, 1, 1, 1]), 2, seed=0)
    >>> np.bincount(y).tolist()
    [2, 2]
    """
    if per_class is None:
        return images, labels
    if per_class < 1:
        raise ValueError(f"Expected per_class >= 1. Received: per_class={per_class}")
    rng = np.random.default_rng(seed)
    keep = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    )
    keep.sort()
    return images[keep], labels[keep]


def load_animals6(seed: int = 0, train_per_class: int | None = None) -> Animals6:
    """Load the six animal classes; ``train_per_class`` subsamples the training split (seeded).

    The validation split is drawn before subsampling, so it is the same whatever the subset.
    """
    cifar10 = load_dataset("cifar10")  # once: each load reads and verifies the whole file
    train = select_classes(cifar10.train, cifar10.class_names, ANIMAL_CLASSES)
    test = select_classes(cifar10.test, cifar10.class_names, ANIMAL_CLASSES)
    rest, val = stratified_split(train.x, train.y, VALIDATION_FRACTION, seed=seed)
    train_images, train_labels = subsample(rest.x, rest.y, train_per_class, seed)
    return Animals6(
        _to_float(train_images),
        train_labels.astype(np.int64),
        _to_float(val.x),
        val.y.astype(np.int64),
        _to_float(test.x),
        test.y.astype(np.int64),
    )
