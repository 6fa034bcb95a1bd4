"""Small helpers that turn task results into the tables the notebook and README show.

Example:

>>> from a2common.grading import TaskResult
>>> result = TaskResult("accuracy", 0.87, 300.0, details={"train_cpu_seconds": 290.0})
>>> print(results_table({"Keras": result}).splitlines()[2])
| Keras | 0.8700 | 300 | 290 | – | – |
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from a2common.grading import TaskResult

from lightning_cnn.config import CLASS_NAMES


def _fmt(value: object, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def results_table(results: Mapping[str, TaskResult]) -> str:
    """Markdown table: test accuracy, training wall/CPU time, epochs and parameters per run."""
    lines = ["| run | test accuracy | training wall time (s) | training CPU time (s) | epochs "
             "| parameters |", "| --- | --- | --- | --- | --- | --- |"]
    for name, result in results.items():
        details = result.details
        lines.append(f"| {name} | {result.value:.4f} | {result.train_seconds:.0f} | "
                     f"{_fmt(details.get('train_cpu_seconds'), '.0f')} | "
                     f"{_fmt(details.get('epochs_run'), 'd')} | "
                     f"{_fmt(details.get('parameters'), ',d')} |")
    return "\n".join(lines)


def per_class_table(results: Mapping[str, TaskResult],
                    class_names: Sequence[str] = CLASS_NAMES) -> str:
    """Markdown table of per-class precision / recall / F1 for every run."""
    lines = ["| run | class | precision | recall | F1 |", "| --- | --- | --- | --- | --- |"]
    for name, result in results.items():
        for class_name in class_names:
            row = result.details["per_class"][class_name]
            lines.append(f"| {name} | {class_name} | {row['precision']:.3f} | "
                         f"{row['recall']:.3f} | {row['f1-score']:.3f} |")
    return "\n".join(lines)


def accuracy_interval(correct: np.ndarray, samples: int = 2000,
                      seed: int = 0) -> tuple[float, float]:
    """95% bootstrap confidence interval of the accuracy from a boolean "correct" vector.

    Example:

    >>> low, high = accuracy_interval(np.array([True] * 87 + [False] * 13))
    >>> low < 0.87 < high
    True
    """
    correct = np.asarray(correct, dtype=float)
    rng = np.random.default_rng(seed)
    means = rng.choice(correct, size=(samples, len(correct)), replace=True).mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)
