"""Data preprocessing: one-hot encoding of labels (the Beras ``OneHotEncoder``).

Example:

>>> import numpy as np
>>> from autograd.preprocessing import OneHotEncoder
>>> encoder = OneHotEncoder()
>>> encoder(np.array(["cat", "dog", "cat"]))
array([[1., 0.],
       [0., 1.],
       [1., 0.]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np


class OneHotEncoder:
    """Map labels to one-hot rows and back.

    ``fit`` stores the sorted unique labels in ``uniq`` and a ``{label: one_hot_row}``
    dictionary in ``uniq2oh``; ``forward`` (also ``__call__``) encodes, fitting first if needed;
    ``inverse`` decodes rows (one-hot or scores: the arg-max wins) back to labels.

    Args:
        dtype: dtype of the one-hot arrays.

    Example:

    >>> encoder = OneHotEncoder().fit(np.array([3, 1, 2]))
    >>> encoder.uniq
    array([1, 2, 3])
    >>> encoder.inverse(encoder.forward(np.array([2, 3])))
    array([2, 3])
    """

    def __init__(self, dtype: Any = "float32") -> None:
        self.dtype = np.dtype(dtype)
        self.uniq: np.ndarray | None = None
        self.uniq2oh: dict[Any, np.ndarray] = {}

    @property
    def num_classes(self) -> int:
        return len(self._fitted_classes())

    def fit(self, labels: Any) -> "OneHotEncoder":
        """Learn the classes (sorted unique labels)."""
        labels = self._as_labels(labels)
        if labels.size == 0:
            raise ValueError(
                "Expected at least one label to fit the encoder. "
                f"Received: labels.shape={labels.shape}"
            )
        self.uniq = np.unique(labels)
        eye = np.eye(len(self.uniq), dtype=self.dtype)
        self.uniq2oh = {label.item(): eye[i] for i, label in enumerate(self.uniq)}
        return self

    def forward(self, labels: Any) -> np.ndarray:
        """One-hot rows of shape ``(n, num_classes)`` for ``labels`` of shape ``(n,)``."""
        if self.uniq is None:
            self.fit(labels)
        classes = self._fitted_classes()
        labels = self._as_labels(labels)
        positions = np.searchsorted(classes, labels)
        positions = np.clip(positions, 0, len(classes) - 1)
        unknown = classes[positions] != labels
        if np.any(unknown):
            bad = np.unique(labels[unknown])[:10].tolist()
            raise ValueError(
                f"Expected labels among the encoder's classes "
                f"{classes.tolist()[:20]}. Received: unknown labels {bad}"
            )
        return np.eye(len(classes), dtype=self.dtype)[positions]

    __call__ = forward
    transform = forward

    def inverse(self, one_hot: Any) -> np.ndarray:
        """Labels for rows of shape ``(n, num_classes)`` (arg-max of each row)."""
        classes = self._fitted_classes()
        rows = np.asarray(getattr(one_hot, "data", one_hot))
        if rows.ndim != 2 or rows.shape[1] != len(classes):
            raise ValueError(
                f"Expected an array of shape (n, {len(classes)}). Received: shape={rows.shape}"
            )
        return classes[np.argmax(rows, axis=1)]

    def _as_labels(self, labels: Any) -> np.ndarray:
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1:
            raise ValueError(
                f"Expected a 1-D array of labels. Received: labels.shape={labels.shape}"
            )
        return labels

    def _fitted_classes(self) -> np.ndarray:
        """``uniq``, or a ``RuntimeError`` when the encoder has not been fitted."""
        if self.uniq is None:
            raise RuntimeError(
                "This OneHotEncoder is not fitted yet. Call fit(labels) or forward(labels) first."
            )
        return self.uniq


__all__ = ["OneHotEncoder"]
