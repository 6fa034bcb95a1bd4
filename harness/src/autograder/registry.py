"""The graded tasks: what each trains, how it is scored, and its thresholds.

``required`` is the assignment's pass mark; ``target`` is this project's own, higher aim. Both
are fractions for accuracies/AUCs. The harness imports packages only through ``entry`` strings.

Example:

>>> TASKS["keras_mnist_mlp"].required
0.97
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Task:
    """One graded task.

    Attributes:
        name: unique id, used on the command line and in results.json.
        title: what a grader reads in the report.
        package: folder under ``packages/`` whose source (with ``packages/common``) keys the cache.
        entry: ``"module:function"``, a function from ``TaskContext`` to ``TaskResult``.
        datasets: dataset names whose sha256 sums key the cache and go into the results.
        metric: name of the graded metric (on the test split).
        required: the assignment's threshold; below it the task fails.
        target: our own goal, reported beside the value.
        budget_s: wall-clock limit of the full run (training + evaluation), in seconds.
        quick_budget_s: limit of the quick variant.
        params: options passed to the task as ``ctx.params``.
        quick_required: threshold of the quick variant (a smoke test: learning beyond chance).
        max_score: points in results.json.
    """

    name: str
    title: str
    package: str
    entry: str
    datasets: tuple[str, ...]
    metric: str
    required: float
    target: float
    budget_s: int
    quick_budget_s: int = 180
    params: dict[str, Any] = field(default_factory=dict)
    quick_required: float | None = None
    max_score: float = 10.0
    source: str = ""

    def threshold(self, quick: bool) -> float:
        if quick and self.quick_required is not None:
            return self.quick_required
        return self.required


_TASK_LIST = [
    Task(
        name="keras_mnist_mlp",
        title="Keras MNIST MLP (Flatten → Dense → softmax, Adam)",
        package="keras_models",
        entry="keras_models.tasks:grade_mnist_mlp",
        datasets=("mnist",),
        metric="accuracy",
        required=0.97,
        target=0.98,
        budget_s=600,
        quick_required=0.85,
        source="seed 003",
    ),
]

TASKS: dict[str, Task] = {task.name: task for task in _TASK_LIST}
