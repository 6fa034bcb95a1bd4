"""Label smoothing written by hand (Szegedy et al. 2016; studied by Müller, Kornblith & Hinton).

With ``K`` classes and smoothing ``alpha``, the one-hot target ``y`` is replaced by
``y_smooth = (1 - alpha) * y + alpha / K``, and the loss is the cross-entropy against it::

    loss = -sum_k y_smooth_k * log p_k

The model is no longer pushed towards probability 1 for the true class (which needs infinite
logits); it aims at ``1 - alpha + alpha / K``, which regularises and usually improves
calibration. The tests check that this equals ``keras.losses.CategoricalCrossentropy(
label_smoothing=alpha)``.

Example:

>>> import numpy as np
>>> loss = SmoothedCategoricalCrossentropy(alpha=0.1)
>>> y_true = np.array([[0.0, 1.0]], "float32")
>>> round(float(loss(y_true, np.array([[0.05, 0.95]], "float32"))), 4)
0.1985
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

EPSILON = 1e-7
"""Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before the log, as Keras does."""


def smooth_labels(one_hot: Any, alpha: float) -> Any:
    """``(1 - alpha) * one_hot + alpha / K``: move ``alpha`` of the mass uniformly to all classes.

    Example:

    >>> [round(float(v), 3) for v in ops.convert_to_numpy(smooth_labels([[0.0, 1.0]], 0.2))[0]]
    [0.1, 0.9]
    """
    one_hot = ops.convert_to_tensor(one_hot)
    num_classes = ops.cast(ops.shape(one_hot)[-1], one_hot.dtype)
    return one_hot * (1.0 - alpha) + alpha / num_classes


@keras.saving.register_keras_serializable(package="keras_models")
class SmoothedCategoricalCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy against label-smoothed one-hot targets.

    Args:
        alpha: smoothing in ``[0, 1)``; 0 gives plain categorical cross-entropy.
        from_logits: ``y_pred`` holds logits rather than probabilities.
        reduction: Keras reduction (default: mean over the batch).
        name: name of the loss.

    Call arguments:
        y_true: one-hot targets, shape ``(batch, num_classes)``.
        y_pred: predicted probabilities (or logits), shape ``(batch, num_classes)``.

    Example:

    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    >>> model.compile(optimizer="adam", loss=SmoothedCategoricalCrossentropy(alpha=0.1))
    """

    def __init__(
        self,
        alpha: float = 0.1,
        from_logits: bool = False,
        reduction: str = "sum_over_batch_size",
        name: str = "smoothed_categorical_crossentropy",
    ) -> None:
        super().__init__(name=name, reduction=reduction)
        if not 0.0 <= float(alpha) < 1.0:
            raise ValueError(f"Expected 0 <= alpha < 1. Received: alpha={alpha}")
        self.alpha = float(alpha)
        self.from_logits = bool(from_logits)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.from_logits:
            log_probabilities = ops.log_softmax(y_pred, axis=-1)
        else:
            probabilities = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
            probabilities = ops.clip(probabilities, EPSILON, 1.0 - EPSILON)
            log_probabilities = ops.log(probabilities)
        targets = smooth_labels(y_true, self.alpha)
        return -ops.sum(targets * log_probabilities, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "from_logits": self.from_logits,
            "reduction": self.reduction,
            "name": self.name,
        }
