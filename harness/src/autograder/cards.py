"""One model card per graded model, written from the graded run and the harness's own numbers.

``packages/<package>/model_cards/<task>.{html,md,json}``: the metrics (with 95% intervals),
per-class precision/recall/F1 and the confusion matrix come from ``results.json`` (computed by
the harness); the learning curves from the run's history; the ROC curve (binary tasks) from the
run's predictions and labels the harness loads itself; the prose sections from the task's
:class:`a2common.grading.ModelCardText`. Quick (smoke) runs get no card.

Example (shell)::

    python -m autograder cards      # after `python -m autograder grade`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from a2common.runs import GradedRun
from autograder.registry import Task
from autograder.runner import REPO_ROOT, LabelCache

GRADE_COMMAND = "make grade PACKAGE={package}  (python -m autograder grade --only {task})"


def cards_dir(task: Task) -> Path:
    return REPO_ROOT / "packages" / task.package / "model_cards"


def _graphics(
    task: Task, run: GradedRun, extra: dict[str, Any], labels: LabelCache
) -> dict[str, Any]:
    from a2common.plotting import plot_confusion_matrix_counts, plot_roc_curve, visualize_metrics

    figures: dict[str, Any] = {}
    if run.history:
        figures["Learning curves (training run)"] = visualize_metrics(
            run.history, title=f"{task.name}: learning curves"
        )
    for head, analysis in extra["analysis"].items():
        suffix = "" if head == "output" else f", head {head}"
        figures[f"Confusion matrix ({task.labels[head].split} split{suffix})"] = (
            plot_confusion_matrix_counts(
                np.asarray(analysis["confusion_matrix"]),
                analysis["class_names"],
                title=f"{task.name}{suffix}: confusion matrix",
            )
        )
        if len(analysis["class_names"]) == 2:
            truth, _ = labels.get(task.labels[head])
            scores = np.asarray(run.predictions(head), dtype=np.float64)
            scores = scores[:, -1] if scores.ndim == 2 else scores
            figures[f"ROC curve ({task.labels[head].split} split{suffix})"] = plot_roc_curve(
                truth, scores, title=f"{task.name}{suffix}: ROC"
            )
    return figures


def write_card(task: Task, test: dict[str, Any], labels: LabelCache, date: str) -> Path:
    """Write the card of one graded task from its results.json entry and its run."""
    from a2common.model_cards import MetricEntry, write_model_card

    extra = test["extra_data"]
    run = GradedRun(task.name, Path(extra["run_dirs"][0]))
    metrics = []
    for key, entry in extra["metrics"].items():
        split = task.labels[entry["head"]].split
        interval = tuple(entry["ci95"]) if entry["ci95"] else None
        metrics.append(MetricEntry(f"{split} {key}", entry["value"], confidence_interval=interval))
        metrics.append(MetricEntry(f"required {key} (assignment)", entry["required"]))
        metrics.append(MetricEntry(f"target {key} (ours)", entry["target"]))
        if entry["std"] is not None:
            metrics.append(
                MetricEntry(f"{key} std over {len(entry['per_seed'])} seeds", entry["std"])
            )
    per_class = {}
    for head, analysis in extra["analysis"].items():
        for name, values in analysis["per_class"].items():
            slice_name = name if head == "output" else f"{head}: {name}"
            per_class[slice_name] = {k: v for k, v in values.items() if k != "support"}
    training = {
        "epochs": extra["epochs"],
        "seconds": round(extra["train_seconds"], 1),
        "parameters": extra["parameters"],
        "command": GRADE_COMMAND.format(package=task.package, task=task.name),
        "seeds": ", ".join(map(str, extra["seeds"])),
        "trained at revision": extra.get("trained_revision"),
    }
    sha256 = {key.split(":", 1)[1]: value for key, value in extra["data_sha256"].items()}
    return write_model_card(
        cards_dir(task),
        name=task.name,
        title=task.title,
        text=run.card,
        metrics=metrics,
        per_class=per_class,
        training=training,
        data_sha256=sha256,
        graphics=_graphics(task, run, extra, labels),
        date=date,
    )


def write_cards(results: dict[str, Any], tasks: dict[str, Task]) -> tuple[list[Path], list[str]]:
    """Cards of every fully graded task in ``results``; returns (written, refusals)."""
    import matplotlib.pyplot as plt

    if results["extra_data"].get("quick"):
        raise ValueError(
            "These are QUICK smoke results; cards describe fully trained models. "
            "Run `make grade` first."
        )
    labels = LabelCache()
    written, refused = [], []
    for test in results["tests"]:
        extra = test["extra_data"]
        task = tasks.get(extra["task"])
        if task is None or not extra["metrics"]:
            continue
        try:
            date = results["extra_data"]["finished_at"][:10]
            written.append(write_card(task, test, labels, date))
        except (ValueError, FileNotFoundError, KeyError) as error:
            refused.append(f"{task.name}: no card ({error})")
        finally:
            plt.close("all")
    return written, refused
