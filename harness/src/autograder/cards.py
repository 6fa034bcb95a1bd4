"""Model cards and the grader's index, written from a grade's ``results.json``.

Every graded model gets ``packages/<package>/model_cards/<task>.{html,md,json}`` with the metric
measured by the harness on the test split. A task adds what only it knows through
``TaskResult.details``: ``"model_card"`` (``overview``, ``limitations``, ``architecture``,
``ethical_considerations``, ``use_cases``, ``parameters``, ``epochs``, ``per_class``),
``"history"`` (per-epoch metrics, drawn as learning curves) and ``"confusion_matrix"`` with
``"class_names"``. Without a ``"model_card"`` entry, the parameter count and epochs come from
``details["parameters"]`` and ``details["epochs"]`` (or ``"epochs_run"``, for runs that can
stop early); a card without them is refused rather than written with a made-up value.

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


def _training_fact(task: str, card: dict[str, Any], details: dict[str, Any],
                   keys: tuple[str, ...]) -> Any:
    """The first of ``keys`` found in the task's ``model_card``, then in its ``details``."""
    for source in (card, details):
        for key in keys:
            if source.get(key) is not None:
                return source[key]
    raise ValueError(f"Task {task!r} reported none of {list(keys)} in TaskResult.details "
                     "(or its 'model_card'); its model card needs them. Add them to the task's "
                     "details and grade again.")


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
            training={"epochs": _training_fact(task.name, card, details,
                                               ("epochs", "epochs_run")),
                      "seconds": round(extra.get("train_seconds") or 0.0, 1),
                      "parameters": _training_fact(task.name, card, details, ("parameters",)),
                      "command": GRADE_COMMAND.format(task=task.name)},
            limitations=card.get("limitations", ["Evaluated on one test split only."]),
            ethical_considerations=card.get("ethical_considerations", ()),
            use_cases=card.get("use_cases", ()), architecture=card.get("architecture"),
            per_class=card.get("per_class"), graphics=_graphics(details),
            date=results["extra_data"]["finished_at"][:10]))
    return written
