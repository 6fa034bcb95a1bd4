"""ACC and ROC-AUC (scikit-learn) as MedMNIST reports them for a binary task, plus log loss.

Example:

>>> scores = binary_metrics([0, 1, 1, 0], [0.1, 0.8, 0.4, 0.3])
>>> scores["accuracy"], scores["roc_auc"]
(0.75, 1.0)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score


def binary_metrics(
    labels: Sequence[int] | np.ndarray,
    probabilities: Sequence[float] | np.ndarray,
    threshold: float = 0.5,
) -> dict[str, float]:
    """Accuracy at ``threshold``, ROC-AUC and log loss of positive-class probabilities."""
    labels = np.asarray(labels).ravel()
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    if labels.shape != probabilities.shape:
        raise ValueError(
            "Expected one probability per label. Received: "
            f"labels.shape={labels.shape}, probabilities.shape={probabilities.shape}"
        )
    both_classes = len(np.unique(labels)) == 2
    return {
        "accuracy": float(np.mean((probabilities >= threshold) == (labels == 1))),
        "roc_auc": float(roc_auc_score(labels, probabilities)) if both_classes else float("nan"),
        "log_loss": float(log_loss(labels, np.clip(probabilities, 1e-7, 1 - 1e-7), labels=[0, 1])),
    }
