"""Every graded number, computed here from a model's predictions and labels the harness loaded.

A task's predictions are checked first (:func:`check_predictions`): one row per example of the
graded split, finite probabilities in ``[0, 1]`` (rows summing to 1 for several classes). Then
scikit-learn computes the metric, a 95% bootstrap confidence interval (the one interval method
of the project), the per-class precision/recall/F1 and the confusion matrix.

Example:

>>> import numpy as np
>>> labels = np.array([0, 1, 1, 0])
>>> probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
>>> metric_value("accuracy", labels, probabilities)
0.75
"""

from __future__ import annotations

from typing import Any

import numpy as np

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0
SUM_TOLERANCE = 1e-3


class PredictionError(ValueError):
    """The predictions cannot be graded (wrong shape, not probabilities, NaN...)."""


def check_predictions(
    predictions: np.ndarray, num_examples: int, num_classes: int, where: str = ""
) -> np.ndarray:
    """``predictions`` as float64 after checking they are gradable probabilities.

    Accepted: ``(n, num_classes)`` class probabilities whose rows sum to 1, or for two classes
    also ``(n,)`` / ``(n, 1)``: the probability of class 1.

    Raises:
        PredictionError: says what was received and what was expected.
    """
    array = np.asarray(predictions)
    if not np.issubdtype(array.dtype, np.number):
        raise PredictionError(f"Expected numeric predictions{where}. Received: dtype={array.dtype}")
    array = array.astype(np.float64)
    if array.ndim == 2 and array.shape[1] == 1 and num_classes == 2:
        array = array[:, 0]
    if len(array) != num_examples:
        raise PredictionError(
            f"Expected one prediction per example of the graded split ({num_examples} rows, in "
            f"the loader's order){where}. Received: {len(array)} rows. A task must predict the "
            f"whole split, not a subset."
        )
    expected = f"({num_examples}, {num_classes})"
    if num_classes == 2:
        expected += f" or ({num_examples},)"
    wrong_1d = array.ndim == 1 and num_classes != 2
    wrong_2d = array.ndim == 2 and array.shape[1] != num_classes
    if wrong_1d or wrong_2d or array.ndim > 2:
        raise PredictionError(
            f"Expected predictions of shape {expected}{where}. Received: shape={array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise PredictionError(
            f"Expected finite predictions{where}. Received: "
            f"{int(np.sum(~np.isfinite(array)))} NaN or infinite values."
        )
    if array.min() < 0.0 or array.max() > 1.0:
        raise PredictionError(
            f"Expected probabilities in [0, 1]{where}. Received values from "
            f"{array.min():.4g} to {array.max():.4g} (logits? apply softmax or "
            f"sigmoid first)."
        )
    if array.ndim == 2:
        sums = array.sum(axis=1)
        if np.max(np.abs(sums - 1.0)) > SUM_TOLERANCE:
            raise PredictionError(
                f"Expected each row of class probabilities to sum to 1{where}. "
                f"Received row sums from {sums.min():.4g} to {sums.max():.4g}."
            )
    return array


def predicted_classes(probabilities: np.ndarray) -> np.ndarray:
    """Arg-max class of each row (``p >= 0.5`` for a positive-class vector)."""
    if probabilities.ndim == 1:
        return (probabilities >= 0.5).astype(np.int64)
    return probabilities.argmax(axis=1)


def _positive_scores(probabilities: np.ndarray) -> np.ndarray:
    return probabilities if probabilities.ndim == 1 else probabilities[:, 1]


def metric_value(name: str, labels: np.ndarray, probabilities: np.ndarray) -> float:
    """One metric (``accuracy``, ``roc_auc``, ``macro_f1``) with scikit-learn."""
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    if name == "accuracy":
        return float(accuracy_score(labels, predicted_classes(probabilities)))
    if name == "macro_f1":
        return float(
            f1_score(
                labels,
                predicted_classes(probabilities),
                average="macro",
                labels=np.arange(_num_classes(probabilities)),
                zero_division=0,
            )
        )
    if name == "roc_auc":
        if probabilities.ndim == 1 or probabilities.shape[1] == 2:
            return float(roc_auc_score(labels, _positive_scores(probabilities)))
        return float(
            roc_auc_score(
                labels,
                probabilities,
                multi_class="ovr",
                average="macro",
                labels=np.arange(probabilities.shape[1]),
            )
        )
    raise ValueError(
        f"Expected a metric in ('accuracy', 'roc_auc', 'macro_f1'). Received: {name!r}"
    )


def _num_classes(probabilities: np.ndarray) -> int:
    return 2 if probabilities.ndim == 1 else probabilities.shape[1]


def bootstrap_interval(
    name: str,
    labels: np.ndarray,
    probabilities: np.ndarray,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """95% percentile bootstrap interval of a metric over the graded examples.

    Resamples whose labels lack a class (so that ROC-AUC is undefined) are skipped.
    """
    rng = np.random.default_rng(seed)
    n = len(labels)
    values = []
    if name == "accuracy":  # vectorised: the mean of a 0/1 vector
        correct = (predicted_classes(probabilities) == labels).astype(np.float64)
        for start in range(0, samples, 100):
            rows = rng.integers(0, n, size=(min(100, samples - start), n))
            values.extend(correct[rows].mean(axis=1))
    else:
        for _ in range(samples):
            rows = rng.integers(0, n, size=n)
            if name == "roc_auc" and len(np.unique(labels[rows])) < len(np.unique(labels)):
                continue
            values.append(metric_value(name, labels[rows], probabilities[rows]))
    lower, upper = np.percentile(values, [2.5, 97.5])
    return float(lower), float(upper)


def class_report(
    labels: np.ndarray, probabilities: np.ndarray, class_names: list[str]
) -> dict[str, Any]:
    """Per-class precision/recall/F1/support and the confusion matrix (scikit-learn)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    ids = np.arange(len(class_names))
    predictions = predicted_classes(probabilities)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=ids, zero_division=0
    )
    return {
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": confusion_matrix(labels, predictions, labels=ids).tolist(),
    }
