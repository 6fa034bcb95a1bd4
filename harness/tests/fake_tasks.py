"""Small graded tasks that exercise the harness's failure paths (imported by the worker)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from a2common import data
from a2common.grading import TaskContext, TaskResult, is_finished, mark_finished


def _nearest_centroid_accuracy(shuffle_labels: bool, seed: int) -> float:
    """Train a nearest-centroid classifier on sklearn's 8x8 digits and return test accuracy."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.data, digits.target
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    train, test = order[:1400], order[1400:]
    train_labels = rng.permutation(y[train]) if shuffle_labels else y[train]
    centroids = np.stack([x[train][train_labels == k].mean(axis=0) for k in range(10)])
    distances = ((x[test][:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    return float((distances.argmin(axis=1) == y[test]).mean())


def grade_digits(ctx: TaskContext) -> TaskResult:
    """A real (tiny) model; ``params["shuffle_labels"]`` breaks it on purpose."""
    from_cache = is_finished(ctx.work_dir)
    accuracy = _nearest_centroid_accuracy(bool(ctx.params.get("shuffle_labels")), ctx.seed)
    if not from_cache:
        mark_finished(ctx.work_dir, train_seconds=0.01)
    return TaskResult("accuracy", accuracy, 0.01, from_cache=from_cache)


def grade_crash(ctx: TaskContext) -> TaskResult:
    raise RuntimeError("deliberate crash inside the task")


def grade_hang(ctx: TaskContext) -> TaskResult:
    time.sleep(600)
    raise AssertionError("unreachable")


def grade_missing_data(ctx: TaskContext) -> TaskResult:
    data.search_roots = lambda: [Path(ctx.params["empty_dir"])]
    data.load_dataset("mnist")
    raise AssertionError("unreachable")


def grade_corrupt_data(ctx: TaskContext) -> TaskResult:
    # the override folder holds a file named like MNIST's but with other bytes
    data.load_dataset("mnist")
    raise AssertionError("unreachable")


def grade_unknown_dataset(ctx: TaskContext) -> TaskResult:
    data.load_dataset("mnsit")
    raise AssertionError("unreachable")


def grade_nan(ctx: TaskContext) -> TaskResult:
    return TaskResult("accuracy", float("nan"), 0.0)


def grade_wrong_metric(ctx: TaskContext) -> TaskResult:
    return TaskResult("loss", 0.1, 0.0)
