"""Framework-neutral evaluation: accuracy, per-class report and confusion matrix from probabilities.

Both graded tasks save their test-set probabilities with :func:`save_predictions`; the notebook
reads them back with :func:`load_predictions` and shows both models side by side.

Example:

>>> import numpy as np
>>> summary = summarize(np.array([0, 1, 2, 2]), np.eye(3)[[0, 1, 2, 1]], ["a", "b", "c"])
>>> summary["accuracy"], summary["confusion_matrix"][2]
(0.75, [0, 1, 1])
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

PREDICTIONS_FILE = "test_predictions.npz"
HISTORY_FILE = "history.json"


def summarize(labels: np.ndarray, probabilities: np.ndarray,
              class_names: Sequence[str]) -> dict[str, Any]:
    """Accuracy, scikit-learn's per-class precision/recall/F1 and the confusion matrix.

    Args:
        labels: integer labels, shape ``(n,)``.
        probabilities: class probabilities (or scores), shape ``(n, classes)``.
        class_names: one name per class.
    """
    from sklearn.metrics import classification_report, confusion_matrix

    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(f"Expected probabilities of shape (n, classes) for n={len(labels)} "
                         f"labels. Received: shape={probabilities.shape}")
    predictions = probabilities.argmax(axis=1)
    label_ids = list(range(len(class_names)))
    return {
        "accuracy": float((predictions == labels).mean()),
        "per_class": classification_report(labels, predictions, labels=label_ids,
                                           target_names=list(class_names), output_dict=True,
                                           zero_division=0),
        "confusion_matrix": confusion_matrix(labels, predictions, labels=label_ids).tolist(),
    }


def save_predictions(work_dir: Path, labels: np.ndarray, probabilities: np.ndarray) -> Path:
    """Write ``labels`` and ``probabilities`` to ``work_dir/test_predictions.npz``."""
    path = Path(work_dir) / PREDICTIONS_FILE
    np.savez(path, labels=np.asarray(labels), probabilities=np.asarray(probabilities))
    return path


def load_predictions(work_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, probabilities)`` saved by :func:`save_predictions`."""
    with np.load(Path(work_dir) / PREDICTIONS_FILE) as archive:
        return archive["labels"], archive["probabilities"]


def load_history(work_dir: Path) -> dict[str, list[float]]:
    """Per-epoch training history (``loss``, ``acc``, ``val_loss``, ``val_acc``, ...)."""
    return json.loads((Path(work_dir) / HISTORY_FILE).read_text())
