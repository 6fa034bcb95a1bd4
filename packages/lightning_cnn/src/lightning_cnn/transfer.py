"""Framework-neutral pieces of the transfer-learning models (no TensorFlow, no torch import).

Example:

>>> import numpy as np
>>> run = TransferRun(model=None, history={"loss": [1.0]}, test_probabilities=np.eye(3),
...                   train_seconds=1.0, from_cache=False)
>>> run.test_accuracy(np.array([0, 1, 1]))
0.6666666666666666
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from a2common.data import Dataset, Split


@dataclass
class TransferRun:
    """What a transfer-learning training function returns.

    Attributes:
        model: the trained model (a Keras ``Model`` or a ``LightningModule``).
        history: per-epoch curves, one list per metric (e.g. ``loss``, ``val_loss``).
        test_probabilities: class probabilities, shape ``(n_test, classes)``, rows in the order
            of the loader's test split (``load_dataset("animals3").test``).
        train_seconds: wall time of training (of the original run when loaded from the cache).
        from_cache: the finished model was loaded from the work dir instead of trained.
    """

    model: Any
    history: dict[str, list[float]]
    test_probabilities: np.ndarray
    train_seconds: float
    from_cache: bool

    def test_accuracy(self, test_labels: np.ndarray) -> float:
        """Fraction of test rows whose most probable class is the label (for quick checks)."""
        test_labels = np.asarray(test_labels)
        if test_labels.shape != self.test_probabilities.shape[:1]:
            raise ValueError(
                f"Expected {len(self.test_probabilities)} test labels. Received: "
                f"shape={test_labels.shape}"
            )
        return float((self.test_probabilities.argmax(axis=1) == test_labels).mean())


def validation_split(data: Dataset) -> Split:
    """``data.val``; a ``ValueError`` naming the dataset when it has none (training needs one).

    Example:

    >>> from a2common.data import Dataset, Split
    >>> split = Split(np.zeros((2, 1)), np.array([0, 1]))
    >>> len(validation_split(Dataset("tiny", split, split, split, ["a", "b"], {})))
    2
    """
    if data.val is None:
        raise ValueError(
            f"Expected a dataset with a validation split. Received: {data.name!r} without one"
        )
    return data.val
