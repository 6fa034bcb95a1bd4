"""Small graded tasks that exercise the harness (imported by the worker through PYTHONPATH).

The honest one is a nearest-centroid classifier on MNIST (about 0.82 test accuracy in a second);
the others are the mutants a hostile or broken task would be.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from a2common import data
from a2common.grading import ModelCardText, TaskContext, TaskResult
from a2common.progress import report_epoch

CARD = ModelCardText(
    overview="Nearest-centroid MNIST classifier (a harness test).",
    intended_uses=["Testing the autograder."],
    factors=["Digit class."],
    training_data="10,000 MNIST training images.",
    evaluation_data="The 10,000 MNIST test images.",
    caveats=["A test fixture, not a model to use."],
)


def _centroid_probabilities(ctx: TaskContext, shuffle_labels: bool = False) -> np.ndarray:
    mnist = data.load_dataset("mnist")
    x_train = mnist.train.x[:10000].reshape(10000, -1) / 255.0
    y_train = mnist.train.y[:10000]
    if shuffle_labels:
        y_train = np.random.default_rng(ctx.seed).permutation(y_train)
    centroids = np.stack([x_train[y_train == k].mean(axis=0) for k in range(10)])
    x_test = mnist.test.x.reshape(len(mnist.test.x), -1) / 255.0
    distances = (x_test**2).sum(1)[:, None] - 2 * x_test @ centroids.T + (centroids**2).sum(1)[None]
    scores = np.exp(-(distances - distances.min(axis=1, keepdims=True)))
    np.save(ctx.work_dir / "centroids.npy", centroids)
    return scores / scores.sum(axis=1, keepdims=True)


def _result(predictions, **extra) -> TaskResult:
    return TaskResult(
        predictions=predictions,
        train_seconds=0.5,
        epochs=1,
        parameters=7840,
        history={"loss": [1.0]},
        model_files=["centroids.npy"],
        card=CARD,
        details=extra,
    )


def grade_centroid(ctx: TaskContext) -> TaskResult:
    """The honest task; ``params["shuffle_labels"]`` trains on shuffled labels (a mutant)."""
    calls = ctx.work_dir / "calls.txt"
    calls.write_text(calls.read_text() + "x" if calls.exists() else "x")
    return _result(_centroid_probabilities(ctx, bool(ctx.params.get("shuffle_labels"))))


def grade_constant(ctx: TaskContext) -> TaskResult:
    """Mutant: predicts class 1 for everything (no model at all)."""
    _centroid_probabilities(ctx)
    return _result(np.tile(np.eye(10)[1], (10000, 1)))


def grade_permuted(ctx: TaskContext) -> TaskResult:
    """Mutant: real predictions in another order than the loader's."""
    probabilities = _centroid_probabilities(ctx)
    return _result(probabilities[np.random.default_rng(0).permutation(len(probabilities))])


def grade_subset(ctx: TaskContext) -> TaskResult:
    """Mutant: predicts only the first 1000 test examples (the easy ones, say)."""
    return _result(_centroid_probabilities(ctx)[:1000])


def grade_logits(ctx: TaskContext) -> TaskResult:
    """Mutant: returns unnormalised scores instead of probabilities."""
    return _result(_centroid_probabilities(ctx) * 50 - 3)


def grade_nan(ctx: TaskContext) -> TaskResult:
    probabilities = _centroid_probabilities(ctx)
    probabilities[5] = np.nan
    return _result(probabilities)


def grade_fabricated(ctx: TaskContext) -> TaskResult:
    """Mutant: reports a score instead of predictions (the old contract)."""
    return TaskResult(value=0.99, train_seconds=0.0)  # type: ignore[call-arg]


def grade_crash(ctx: TaskContext) -> TaskResult:
    raise RuntimeError("deliberate crash inside the task")


def grade_hang(ctx: TaskContext) -> TaskResult:
    time.sleep(600)
    raise AssertionError("unreachable")


def grade_slow(ctx: TaskContext) -> TaskResult:
    """Trains 'epochs' of ``$FAKE_EPOCH_S`` seconds each, checkpointing after each one."""
    checkpoint = ctx.work_dir / "checkpoint.json"
    done = json.loads(checkpoint.read_text())["epochs"] if checkpoint.exists() else 0
    epochs = int(ctx.params.get("epochs", 3))
    for epoch in range(done + 1, epochs + 1):
        time.sleep(float(os.environ.get("FAKE_EPOCH_S", "0.5")))
        checkpoint.write_text(json.dumps({"epochs": epoch}))
        report_epoch(epoch, epochs, {"loss": 1.0 / epoch})
    (ctx.work_dir / "resumed_from.txt").write_text(str(done))
    return _result(_centroid_probabilities(ctx), resumed_from=done)


def grade_missing_data(ctx: TaskContext) -> TaskResult:
    data.files.search_roots = lambda: [Path(ctx.params["empty_dir"])]
    data.load_dataset("mnist")
    raise AssertionError("unreachable")


def grade_unknown_dataset(ctx: TaskContext) -> TaskResult:
    data.load_dataset("mnsit")
    raise AssertionError("unreachable")
