"""Calibration: does a predicted confidence of 0.8 mean "right 80% of the time"?

Example:

>>> import numpy as np
>>> probabilities = np.array([[0.9, 0.1], [0.6, 0.4]])
>>> round(expected_calibration_error(probabilities, np.array([0, 1]), num_bins=10), 3)
0.35
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class ReliabilityBins:
    """Per-bin statistics of a reliability diagram (empty bins have ``count == 0``).

    Attributes:
        edges: ``num_bins + 1`` bin edges on the confidence axis, ``0 .. 1``.
        count: examples whose confidence falls in each bin ``(lower, upper]``.
        confidence: mean confidence in each bin (0 where empty).
        accuracy: fraction correct in each bin (0 where empty).
    """

    edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray


def _check(probabilities: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if probabilities.ndim != 2 or probabilities.shape[0] == 0:
        raise ValueError(
            f"Expected probabilities of shape (n, num_classes) with n > 0. "
            f"Received: probabilities.shape={probabilities.shape}"
        )
    if not np.all(np.isfinite(probabilities)):
        raise ValueError("Expected finite probabilities. Received NaN/inf values")
    if labels.shape != (probabilities.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"Expected integer labels of shape ({probabilities.shape[0]},). "
            f"Received: labels.shape={labels.shape}, labels.dtype={labels.dtype}"
        )
    return probabilities, labels


def reliability_bins(probabilities: Any, labels: Any, num_bins: int = 15) -> ReliabilityBins:
    """Bin predictions by confidence (the top probability) into equal-width bins.

    Args:
        probabilities: ``(n, num_classes)`` predicted probabilities.
        labels: ``(n,)`` integer true classes.
        num_bins: number of equal-width confidence bins on ``[0, 1]``.
    """
    probabilities, labels = _check(probabilities, labels)
    if num_bins < 1:
        raise ValueError(f"Expected num_bins >= 1. Received: num_bins={num_bins}")
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == labels).astype(np.float64)
    # Bin b holds confidences in (b/num_bins, (b+1)/num_bins]; a confidence of 0 goes to bin 0.
    index = np.clip(np.ceil(confidence * num_bins).astype(int) - 1, 0, num_bins - 1)
    count = np.bincount(index, minlength=num_bins)
    safe = np.maximum(count, 1)
    mean_confidence = np.bincount(index, weights=confidence, minlength=num_bins) / safe
    accuracy = np.bincount(index, weights=correct, minlength=num_bins) / safe
    return ReliabilityBins(np.linspace(0.0, 1.0, num_bins + 1), count, mean_confidence, accuracy)


def expected_calibration_error(probabilities: Any, labels: Any, num_bins: int = 15) -> float:
    """Expected calibration error: ``sum_b |B_b| / n * |accuracy(B_b) - confidence(B_b)|``.

    0 for a perfectly calibrated model; an over-confident model that is right 70% of the time
    at confidence 0.99 scores about 0.29.

    Args:
        probabilities: ``(n, num_classes)`` predicted probabilities.
        labels: ``(n,)`` integer true classes.
        num_bins: number of equal-width confidence bins (15 is the common choice).

    Example:

    >>> expected_calibration_error(np.array([[1.0, 0.0]] * 4), np.array([0, 0, 0, 1]))
    0.25
    """
    bins = reliability_bins(probabilities, labels, num_bins)
    weights = bins.count / bins.count.sum()
    return float(np.sum(weights * np.abs(bins.accuracy - bins.confidence)))


def plot_reliability_diagram(
    bins_by_name: dict[str, ReliabilityBins], title: str = "Reliability diagram"
):
    """Accuracy against confidence per bin for one or more models; the diagonal is perfect."""
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(4.8, 4.4))
    axis.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfect calibration")
    for name, bins in bins_by_name.items():
        used = bins.count > 0
        axis.plot(bins.confidence[used], bins.accuracy[used], marker="o", label=name)
    axis.set_xlabel("confidence (top probability)")
    axis.set_ylabel("accuracy")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    fig.tight_layout()
    return fig
