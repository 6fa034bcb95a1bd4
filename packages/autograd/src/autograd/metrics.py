"""Metrics: stateful accumulators (``update_state`` / ``result`` / ``reset_state``), Keras style.

Metrics are not differentiated, so they work on plain numpy arrays.

Example:

>>> import numpy as np
>>> from autograd import metrics
>>> acc = metrics.CategoricalAccuracy()
>>> acc.update_state(np.eye(3), np.eye(3))
>>> acc.result()
1.0
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from autograd._names import unknown_name_error
from autograd.tensor import Tensor


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class Metric:
    """Base class: accumulate with ``update_state``, read with ``result``.

    Calling a metric returns the value on that batch alone and does not change its state.

    Example:

    >>> m = Mean()
    >>> m.update_state(np.array([1.0, 3.0]))
    >>> m.result()
    2.0
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        saved = self.total, self.count
        self.reset_state()
        self.update_state(*args, **kwargs)
        value = self.result()
        self.total, self.count = saved
        return value


class Mean(Metric):
    """The (weighted) mean of everything passed to ``update_state``.

    Example:

    >>> m = Mean(name="loss")
    >>> m.update_state(2.0, sample_weight=3); m.update_state(4.0, sample_weight=1)
    >>> m.result()
    2.5
    """

    def update_state(self, values: Any, sample_weight: float | None = None) -> None:
        values = _array(values)
        weight = float(sample_weight) if sample_weight is not None else float(values.size)
        mean = float(np.mean(values)) if values.size else 0.0
        self.total += mean * weight
        self.count += weight


class CategoricalAccuracy(Metric):
    """Fraction of examples whose highest-scoring class matches the one-hot label.

    ``y_pred`` may be probabilities or logits (only the arg-max matters).

    Example:

    >>> CategoricalAccuracy()(np.array([[0, 1], [1, 0]]), np.array([[0.2, 0.8], [0.3, 0.7]]))
    0.5
    """

    def __init__(self, name: str = "accuracy") -> None:
        super().__init__(name)

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        y_true, y_pred = _array(y_true), _array(y_pred)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"Expected one-hot y_true with the shape of y_pred. Received: "
                f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        hits = np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)
        self.total += float(np.sum(hits))
        self.count += float(hits.size)


class SparseCategoricalAccuracy(Metric):
    """Like :class:`CategoricalAccuracy` for integer labels.

    Example:

    >>> SparseCategoricalAccuracy()(np.array([1, 0]), np.array([[0.2, 0.8], [0.3, 0.7]]))
    0.5
    """

    def __init__(self, name: str = "accuracy") -> None:
        super().__init__(name)

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        y_true, y_pred = _array(y_true), _array(y_pred)
        if y_true.shape != y_pred.shape[:-1]:
            raise ValueError(
                f"Expected integer labels of shape {y_pred.shape[:-1]}. Received: "
                f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        hits = y_true == np.argmax(y_pred, axis=-1)
        self.total += float(np.sum(hits))
        self.count += float(hits.size)


class BinaryAccuracy(Metric):
    """Fraction of predictions on the right side of ``threshold``.

    Example:

    >>> BinaryAccuracy()(np.array([1, 0]), np.array([0.9, 0.6]))
    0.5
    """

    def __init__(self, threshold: float = 0.5, name: str = "accuracy") -> None:
        self.threshold = threshold
        super().__init__(name)

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
        hits = (y_pred > self.threshold) == (y_true > 0.5)
        self.total += float(np.sum(hits))
        self.count += float(hits.size)


class MeanAbsoluteError(Metric):
    """Mean of ``|y_true - y_pred|`` over all elements seen (Keras' ``"mae"``).

    Example:

    >>> MeanAbsoluteError()(np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]]))
    0.25
    """

    def __init__(self, name: str = "mean_absolute_error") -> None:
        super().__init__(name)

    def update_state(self, y_true: Any, y_pred: Any) -> None:
        y_true, y_pred = _same_rank(_array(y_true), _array(y_pred))
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"Expected y_true and y_pred of the same shape. Received: "
                f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        self.total += float(np.sum(np.abs(y_true - y_pred)))
        self.count += float(y_pred.size)


def _same_rank(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels ``(n,)`` against outputs ``(n, 1)`` get the missing axis, as in Keras."""
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1:] == (1,):
        y_true = y_true[..., None]
    return y_true, y_pred


MetricLike = Union[str, Metric]

_REGISTRY: dict[str, type[Metric]] = {
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
    "mean": Mean,
    "mean_absolute_error": MeanAbsoluteError,
}
_ALIASES = {"mae": "mean_absolute_error"}


def get(identifier: MetricLike, sparse_labels: bool = False) -> Metric:
    """A metric from a name or an instance; ``"accuracy"``/``"acc"`` picks the categorical or
    sparse variant according to ``sparse_labels``.

    Example:

    >>> get("accuracy").name
    'accuracy'
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            return SparseCategoricalAccuracy() if sparse_labels else CategoricalAccuracy()
        if key in _ALIASES:
            return _REGISTRY[_ALIASES[key]](name=key)
        if key in _REGISTRY:
            return _REGISTRY[key]()
    raise unknown_name_error("metric", identifier, [*_REGISTRY, *_ALIASES, "accuracy"])


__all__ = [
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "Mean",
    "MeanAbsoluteError",
    "Metric",
    "SparseCategoricalAccuracy",
    "get",
]
