"""Model cards and the grader's index, written from a grade's ``results.json``.

Every graded model gets ``packages/<package>/model_cards/<task>.{html,md,json}`` with the metric
measured by the harness on the test split. A task adds what only it knows through
``TaskResult.details``: ``"model_card"`` (``overview``, ``limitations``, ``architecture``,
``ethical_considerations``, ``use_cases``, ``parameters``, ``epochs``, ``per_class``),
``"history"`` (per-epoch metrics, drawn as learning curves) and ``"confusion_matrix"`` with
``"class_names"``.

Example (shell)::

    python -m autograder cards      # after `python -m autograder grade`
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from autograder.registry import TASKS
from autograder.runner import REPO_ROOT

GRADE_COMMAND = "make grade  (python -m autograder grade --only {task})"


def _graphics(details: dict[str, Any]) -> dict[str, Any]:
    from a2common.plotting import plot_confusion_matrix, visualize_metrics

    figures = {}
    if details.get("history"):
        figures["Learning curves"] = visualize_metrics(details["history"])
    matrix, names = details.get("confusion_matrix"), details.get("class_names")
    if matrix and names:
        matrix = np.asarray(matrix)
        labels = np.repeat(np.arange(len(names)), matrix.sum(axis=1))
        predictions = np.concatenate([np.repeat(np.arange(len(names)), row) for row in matrix])
        figures["Confusion matrix (test split)"] = plot_confusion_matrix(labels, predictions,
                                                                         names)
    return figures


def write_cards(results_path: Path) -> list[Path]:
    """Write one card per graded task in ``results_path`` that produced a value."""
    from a2common.model_cards import MetricEntry, write_model_card

    results = json.loads(results_path.read_text())
    if results["extra_data"].get("quick"):
        raise ValueError(f"{results_path} holds QUICK smoke results; cards describe fully "
                         "trained models. Run `make grade` first.")
    written = []
    for test in results["tests"]:
        extra = test["extra_data"]
        task = TASKS.get(extra["task"])
        if task is None or extra["value"] is None:
            continue
        details = extra.get("details", {})
        card = details.get("model_card", {})
        metrics = [MetricEntry(f"test {task.metric}", extra["value"]),
                   MetricEntry(f"required {task.metric} (assignment)", extra["required"]),
                   MetricEntry(f"target {task.metric} (ours)", extra["target"])]
        written.append(write_model_card(
            REPO_ROOT / "packages" / task.package / "model_cards", name=task.name,
            title=task.title,
            overview=card.get("overview", f"{task.title}, graded by the assignment2 harness."),
            metrics=metrics, dataset=", ".join(task.datasets),
            data_sha256=extra["data_sha256"],
            training={"epochs": card.get("epochs", details.get("epochs", "see the task")),
                      "seconds": round(extra.get("train_seconds") or 0.0, 1),
                      "parameters": card.get("parameters", details.get("parameters", 0)),
                      "command": GRADE_COMMAND.format(task=task.name)},
            limitations=card.get("limitations", ["Evaluated on one test split only."]),
            ethical_considerations=card.get("ethical_considerations", ()),
            use_cases=card.get("use_cases", ()), architecture=card.get("architecture"),
            per_class=card.get("per_class"), graphics=_graphics(details),
            date=results["extra_data"]["finished_at"][:10]))
    return written
