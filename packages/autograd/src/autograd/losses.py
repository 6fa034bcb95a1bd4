"""Loss functions (Keras semantics: mean over the batch, labels first: ``loss(y_true, y_pred)``).

Cross-entropy from logits is one fused primitive (log-softmax and its VJP ``softmax - y``),
stable for any logit size. The other losses are compositions of engine primitives, so their
gradients come from the engine.

Example:

>>> import numpy as np
>>> from autograd import losses
>>> y_true = np.array([[0.0, 1.0]], dtype="float32")
>>> float(losses.CategoricalCrossentropy(from_logits=True)(y_true, np.array([[0.0, 0.0]])))
0.6931...
"""

from __future__ import annotations

from typing import Any, Callable, Union

import numpy as np

from autograd import activations
from autograd._names import unknown_name_error
from autograd.tensor import Tensor, TensorLike, as_tensor, clip, log, reduce_mean, reduce_sum

EPSILON = 1e-7
"""Probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before taking logs (as in Keras)."""


def _prepare(y_true: TensorLike, y_pred: TensorLike) -> tuple[np.ndarray, Tensor]:
    y_pred = as_tensor(y_pred)
    truth = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    if truth.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        truth = truth[..., None]  # labels (n,) for outputs (n, 1), as Keras allows
    if truth.shape != y_pred.shape:
        raise ValueError(
            f"Expected y_true and y_pred to have the same shape. Received: "
            f"y_true.shape={truth.shape}, y_pred.shape={y_pred.shape}"
        )
    if truth.dtype != y_pred.dtype:
        truth = truth.astype(y_pred.dtype)
    return truth, y_pred


def _smooth(y_true: np.ndarray, label_smoothing: float) -> np.ndarray:
    if label_smoothing:
        classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    return y_true


# ============================================================================ functional
def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """``mean((y_pred - y_true) ** 2)`` over all elements."""
    truth, y_pred = _prepare(y_true, y_pred)
    diff = y_pred - truth
    return reduce_mean(diff * diff)


def softmax_cross_entropy_with_logits(labels: np.ndarray, logits: Tensor) -> Tensor:
    """Mean over the batch of ``-sum(labels * log_softmax(logits), axis=-1)``; fused and stable.

    Its VJP is ``(softmax(logits) * sum(labels) - labels) / batch``.
    """
    shifted = logits.data - np.max(logits.data, axis=-1, keepdims=True)
    log_sum_exp = np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    log_probs = shifted - log_sum_exp
    batch = log_probs.size // log_probs.shape[-1] if log_probs.ndim else 1
    loss = np.sum(labels * -log_probs) / batch

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        probs = np.exp(log_probs)
        return ((probs * labels.sum(axis=-1, keepdims=True) - labels) * (g / batch),)

    return Tensor.from_op(
        np.asarray(loss, dtype=logits.dtype), (logits,), backward, "softmax_cross_entropy"
    )


def categorical_crossentropy(
    y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """Cross-entropy between one-hot (or soft) labels and predictions, mean over the batch.

    With ``from_logits=False`` the predictions are renormalised to sum to one and clipped to
    ``[EPSILON, 1 - EPSILON]``, as Keras does.
    """
    truth, y_pred = _prepare(y_true, y_pred)
    truth = _smooth(truth, label_smoothing)
    if from_logits:
        return softmax_cross_entropy_with_logits(truth, y_pred)
    probs = y_pred / reduce_sum(y_pred, axis=-1, keepdims=True)
    probs = clip(probs, EPSILON, 1.0 - EPSILON)
    return -reduce_mean(reduce_sum(truth * log(probs), axis=-1))


def sparse_categorical_crossentropy(
    y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False
) -> Tensor:
    """Cross-entropy with integer labels of shape ``(batch,)``."""
    y_pred = as_tensor(y_pred)
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    classes = y_pred.shape[-1]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"Expected integer labels of shape {y_pred.shape[:-1]}. Received: "
            f"y_true.shape={labels.shape}, y_pred.shape={y_pred.shape}"
        )
    if labels.size and (
        labels.min() < 0 or labels.max() >= classes or not np.all(labels == np.round(labels))
    ):
        raise ValueError(
            f"Expected integer labels in [0, {classes}). Received: labels with "
            f"min={labels.min()}, max={labels.max()}"
        )
    one_hot = np.eye(classes, dtype=y_pred.dtype)[labels.astype(np.intp)]
    return categorical_crossentropy(one_hot, y_pred, from_logits=from_logits)


def binary_crossentropy(
    y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False, label_smoothing: float = 0.0
) -> Tensor:
    """``-mean(y log p + (1 - y) log(1 - p))``; from logits it uses the stable form
    ``max(x, 0) - x y + log(1 + exp(-|x|))`` with VJP ``sigmoid(x) - y``."""
    truth, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        truth = truth * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        x = y_pred.data
        loss = np.mean(np.maximum(x, 0) - x * truth + np.log1p(np.exp(-np.abs(x))))

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return ((activations._stable_sigmoid(x) - truth) * (g / x.size),)

        return Tensor.from_op(
            np.asarray(loss, dtype=y_pred.dtype), (y_pred,), backward, "sigmoid_cross_entropy"
        )
    probs = clip(y_pred, EPSILON, 1.0 - EPSILON)
    return -reduce_mean(truth * log(probs) + (1.0 - truth) * log(1.0 - probs))


def categorical_focal_crossentropy(
    y_true: TensorLike,
    y_pred: TensorLike,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Focal loss (Lin et al., 2017), Keras' ``CategoricalFocalCrossentropy``:
    ``-sum(alpha * (1 - p) ** gamma * y * log p)`` per example, mean over the batch.

    It down-weights examples the model already classifies well (large ``p``).
    """
    truth, y_pred = _prepare(y_true, y_pred)
    truth = _smooth(truth, label_smoothing)
    probs = activations.softmax(y_pred) if from_logits else y_pred
    probs = probs / reduce_sum(probs, axis=-1, keepdims=True)
    probs = clip(probs, EPSILON, 1.0 - EPSILON)
    weight = alpha * (1.0 - probs) ** gamma
    return -reduce_mean(reduce_sum(weight * truth * log(probs), axis=-1))


# ================================================================================ classes
class Loss:
    """Base class: ``loss(y_true, y_pred)`` returns a scalar tensor.

    Example:

    >>> MeanSquaredError()(np.zeros(3), np.ones(3)).item()
    1.0
    """

    #: whether this loss takes integer labels (``(batch,)``) instead of one-hot labels.
    sparse = False

    def __init__(self, name: str | None = None) -> None:
        self.name = name or _snake(type(self).__name__)

    def __call__(self, y_true: TensorLike, y_pred: TensorLike) -> Tensor:
        return self.call(y_true, y_pred)

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


class MeanSquaredError(Loss):
    """Mean squared error.

    Example:

    >>> MeanSquaredError()(np.array([1.0, 2.0]), np.array([1.0, 4.0])).item()
    2.0
    """

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> Tensor:
        return mean_squared_error(y_true, y_pred)


class CategoricalCrossentropy(Loss):
    """Cross-entropy for one-hot labels.

    Args:
        from_logits: ``y_pred`` are unnormalised scores (recommended: fused and stable).
        label_smoothing: replace one-hot targets by ``y (1 - a) + a / num_classes``.

    Example:

    >>> loss = CategoricalCrossentropy(from_logits=True)
    >>> loss(np.array([[1.0, 0.0]]), np.array([[1000.0, -1000.0]])).item()
    0.0
    """

    def __init__(
        self, from_logits: bool = False, label_smoothing: float = 0.0, name: str | None = None
    ) -> None:
        super().__init__(name)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"Expected 0 <= label_smoothing <= 1. Received: label_smoothing={label_smoothing}"
            )
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> Tensor:
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy for integer labels.

    Example:

    >>> loss = SparseCategoricalCrossentropy(from_logits=True)
    >>> round(loss(np.array([1]), np.array([[0.0, 0.0]])).item(), 4)
    0.6931
    """

    sparse = True

    def __init__(self, from_logits: bool = False, name: str | None = None) -> None:
        super().__init__(name)
        self.from_logits = from_logits

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> Tensor:
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "from_logits": self.from_logits}


class BinaryCrossentropy(Loss):
    """Binary cross-entropy for 0/1 labels (any shape).

    Example:

    >>> round(BinaryCrossentropy()(np.array([1.0]), np.array([0.5])).item(), 4)
    0.6931
    """

    def __init__(
        self, from_logits: bool = False, label_smoothing: float = 0.0, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> Tensor:
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


class CategoricalFocalCrossentropy(Loss):
    """Focal loss for one-hot labels (see :func:`categorical_focal_crossentropy`).

    Example:

    >>> loss = CategoricalFocalCrossentropy(from_logits=True)
    >>> loss(np.array([[1.0, 0.0]]), np.array([[5.0, 0.0]])).item() < 1e-4
    True
    """

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name)
        self.alpha, self.gamma = float(alpha), float(gamma)
        self.from_logits, self.label_smoothing = from_logits, float(label_smoothing)

    def call(self, y_true: TensorLike, y_pred: TensorLike) -> Tensor:
        return categorical_focal_crossentropy(
            y_true, y_pred, self.alpha, self.gamma, self.from_logits, self.label_smoothing
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "gamma": self.gamma,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


LossLike = Union[str, Loss, Callable[[TensorLike, TensorLike], Tensor]]

_REGISTRY: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossentropy,
    "focal": CategoricalFocalCrossentropy,
}
_CLASSES = {cls.__name__: cls for cls in _REGISTRY.values()}


def get(identifier: LossLike | dict[str, Any]) -> Loss | Callable[..., Tensor]:
    """A loss from a name (``"mse"``, ``"categorical_crossentropy"``, ...), a config dict,
    an instance or a callable.

    Example:

    >>> get("mse")
    <autograd.losses.MeanSquaredError object at ...>
    """
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    raise unknown_name_error("loss", identifier, _REGISTRY)


def serialize(loss: Loss) -> dict[str, Any]:
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "EPSILON",
    "Loss",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "get",
    "mean_squared_error",
    "serialize",
    "softmax_cross_entropy_with_logits",
    "sparse_categorical_crossentropy",
]
