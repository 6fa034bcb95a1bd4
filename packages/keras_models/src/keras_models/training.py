"""Training and evaluation helpers: learning-rate schedules, test-time augmentation, chunked
evaluation.

Example:

>>> schedule = one_cycle_schedule(peak_learning_rate=0.01, total_steps=100)
>>> float(schedule(0)) < float(schedule(30)) > float(schedule(99))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from a2common.tta import average_over_views
from keras_models.data import check_same_length


def one_cycle_schedule(
    peak_learning_rate: float,
    total_steps: int,
    warmup_fraction: float = 0.25,
    start_factor: float = 0.1,
    final_factor: float = 1e-3,
) -> keras.optimizers.schedules.CosineDecay:
    """A one-cycle-like schedule with the stock ``CosineDecay``: linear warm-up, cosine decay.

    Starts at ``start_factor * peak``, rises linearly to ``peak_learning_rate`` over
    ``warmup_fraction`` of the steps, then follows a cosine down to ``final_factor * peak``.
    """
    if total_steps < 2:
        raise ValueError(f"Expected total_steps >= 2. Received: total_steps={total_steps}")
    warmup_steps = max(1, int(round(warmup_fraction * total_steps)))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=start_factor * peak_learning_rate,
        decay_steps=max(1, total_steps - warmup_steps),
        alpha=final_factor,
        warmup_target=peak_learning_rate,
        warmup_steps=warmup_steps,
    )


def predict_with_tta(
    model: keras.Model,
    images: np.ndarray,
    *,
    level: int = 2,
    mirror: bool = True,
    batch_size: int = 1000,
) -> np.ndarray:
    """Class probabilities of ``images`` from ``model`` with test-time augmentation.

    The views and their weights are :func:`a2common.tta.average_over_views`'s: ``level`` 0,
    the images as they are; 1, the mean over each image and its mirror; 2, also one-pixel
    shifts up-left and down-right (six views; three with ``mirror=False``).

    >>> model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> predict_with_tta(model, np.zeros((3, 2, 2, 1), "float32")).shape
    (3, 2)
    """
    return average_over_views(
        lambda batch: model.predict(batch, batch_size=batch_size, verbose=0),
        images,
        level=level,
        mirror=mirror,
    )


@dataclass
class Evaluation:
    """Result of :func:`evaluate_in_chunks`.

    Attributes:
        accuracy: fraction of correct predictions.
        loss: mean (unsmoothed) sparse categorical cross-entropy.
        probabilities: ``(n, num_classes)`` predicted probabilities.
        predictions: ``(n,)`` predicted classes.
    """

    accuracy: float
    loss: float
    probabilities: np.ndarray
    predictions: np.ndarray


def evaluate_in_chunks(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    chunk_size: int = 1000,
    flip_average: bool = False,
) -> Evaluation:
    """Evaluate ``model`` on ``(images, labels)`` one chunk at a time.

    Keras metrics keep running totals (``update_state`` per chunk, ``result`` at the end), so
    the result equals a single pass over the whole set while only ``chunk_size`` images are
    in memory at once — the approach the assignment suggests for a test set too large for RAM.

    With ``flip_average`` the prediction is the mean of the probabilities for each image and
    its left-right mirror image (:func:`predict_with_tta` at level 1, for models trained with
    horizontal flips); images must be ``(n, height, width, channels)``.

    Example:

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    >>> result = evaluate_in_chunks(model, np.zeros((5, 2), "float32"), np.zeros(5, "int64"), 2)
    >>> round(result.loss, 3)  # a zero input gives uniform probabilities: ln 2
    0.693
    """
    check_same_length(images, labels)
    if flip_average and np.ndim(images) != 4:
        raise ValueError(
            f"Expected images of shape (n, height, width, channels) for "
            f"flip_average. Received: images.shape={np.shape(images)}"
        )
    if chunk_size < 1:
        raise ValueError(f"Expected chunk_size >= 1. Received: chunk_size={chunk_size}")
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    cross_entropy = keras.metrics.SparseCategoricalCrossentropy()
    chunks = []
    for start in range(0, len(labels), chunk_size):
        chunk_images = images[start : start + chunk_size]
        chunk_labels = labels[start : start + chunk_size]
        probabilities = predict_with_tta(
            model, chunk_images, level=int(flip_average), batch_size=chunk_size
        )
        accuracy.update_state(chunk_labels, probabilities)
        cross_entropy.update_state(chunk_labels, probabilities)
        chunks.append(probabilities)
    probabilities = np.concatenate(chunks)
    return Evaluation(
        accuracy=float(accuracy.result()),
        loss=float(cross_entropy.result()),
        probabilities=probabilities,
        predictions=probabilities.argmax(axis=-1),
    )
