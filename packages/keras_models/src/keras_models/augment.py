"""``tf.data`` training pipelines for 32×32 colour images: augmentation and mixup as steps.

* :func:`augment_images`: random horizontal flip, random 32×32 crop of the image padded by 4
  pixels (reflection), and a small random brightness/contrast change (colour).
* :func:`mixup`: per batch, ``λ·x + (1-λ)·x[perm]`` with ``λ ~ Beta(α, α)`` for images and
  one-hot labels alike (Zhang et al., 2018).
* :func:`make_train_dataset`: shuffle → batch → augment → mixup → prefetch.

Example:

>>> import numpy as np
>>> images = np.zeros((8, 32, 32, 3), np.float32); labels = np.arange(8) % 2
>>> batch_images, batch_labels = next(iter(make_train_dataset(
...     images, labels, num_classes=2, batch_size=4, augment=True, mixup_alpha=0.2)))
>>> tuple(batch_images.shape), tuple(batch_labels.shape)
((4, 32, 32, 3), (4, 2))
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

PAD = 4


def augment_images(images: tf.Tensor, colour: bool = True) -> tf.Tensor:
    """Flip, pad-and-crop and (optionally) jitter a batch ``(n, h, w, c)`` of pixels in [0, 1]."""
    shape = tf.shape(images)
    images = tf.image.random_flip_left_right(images)
    padded = tf.pad(images, [[0, 0], [PAD, PAD], [PAD, PAD], [0, 0]], mode="REFLECT")
    images = tf.image.random_crop(padded, shape)
    if colour:
        images = tf.image.random_brightness(images, 0.1)
        images = tf.image.random_contrast(images, 0.8, 1.2)
    return tf.clip_by_value(images, 0.0, 1.0)


def mixup(images: tf.Tensor, labels: tf.Tensor, alpha: float) -> tuple[tf.Tensor, tf.Tensor]:
    """Mix each example of a batch with a random partner (one λ per example)."""
    if alpha <= 0:
        raise ValueError(f"Expected mixup alpha > 0. Received: alpha={alpha}")
    n = tf.shape(images)[0]
    # Beta(α, α) as a ratio of two Gamma(α) draws
    first = tf.random.gamma([n], alpha)
    second = tf.random.gamma([n], alpha)
    weight = first / (first + second)
    partner = tf.random.shuffle(tf.range(n))
    image_weight = tf.reshape(weight, [-1, 1, 1, 1])
    label_weight = tf.reshape(weight, [-1, 1])
    mixed_images = image_weight * images + (1 - image_weight) * tf.gather(images, partner)
    mixed_labels = label_weight * labels + (1 - label_weight) * tf.gather(labels, partner)
    return mixed_images, mixed_labels


def make_train_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    num_classes: int,
    batch_size: int,
    seed: int = 0,
    augment: bool = False,
    colour: bool = True,
    mixup_alpha: float | None = None,
) -> tf.data.Dataset:
    """Shuffled, batched ``(images, one-hot labels)`` with optional augmentation and mixup.

    Args:
        images: ``float32`` ``(n, h, w, c)`` in ``[0, 1]``.
        labels: integer labels ``(n,)``.
        augment: apply :func:`augment_images` to every batch.
        mixup_alpha: apply :func:`mixup` with this α (``None`` = no mixup).
    """
    if len(images) != len(labels):
        raise ValueError(
            f"Expected as many labels as images. Received: {len(images)} images, "
            f"{len(labels)} labels"
        )
    one_hot = tf.one_hot(np.asarray(labels), num_classes)
    dataset = tf.data.Dataset.from_tensor_slices((images, one_hot))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment:
        dataset = dataset.map(lambda x, y: (augment_images(x, colour), y), num_parallel_calls=1)
    if mixup_alpha is not None:
        dataset = dataset.map(lambda x, y: mixup(x, y, mixup_alpha), num_parallel_calls=1)
    return dataset.prefetch(1)
