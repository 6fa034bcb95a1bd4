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
    # --- autograd (seed 002): our from-scratch library on MNIST -------------------------------
    Task(
        name="autograd_mnist_simple",
        title="autograd MNIST simple model (one Dense layer + softmax)",
        package="autograd",
        entry="autograd.apps.mnist:grade_simple",
        datasets=("mnist",),
        metric="accuracy",
        required=0.85,
        target=0.92,
        budget_s=300,
        quick_required=0.60,
        source="seed 002",
    ),
    Task(
        name="autograd_mnist_mlp",
        title="autograd MNIST MLP (the advanced model)",
        package="autograd",
        entry="autograd.apps.mnist:grade_mlp",
        datasets=("mnist",),
        metric="accuracy",
        required=0.95,
        target=0.982,
        budget_s=600,
        quick_required=0.60,
        source="seed 002",
    ),
    Task(
        name="autograd_mnist_cnn",
        title="autograd MNIST CNN (our Conv2D / MaxPool2D)",
        package="autograd",
        entry="autograd.apps.mnist:grade_cnn",
        datasets=("mnist",),
        metric="accuracy",
        required=0.95,
        target=0.99,
        budget_s=1500,
        quick_budget_s=300,
        quick_required=0.60,
        source="seed 002",
    ),
    # --- keras_models (seed 003): MNIST -> Fashion-MNIST -> CIFAR-10 ---------------------------
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
    Task(
        name="keras_mnist_cnn",
        title="Keras MNIST CNN on (28, 28, 1) inputs",
        package="keras_models",
        entry="keras_models.tasks:grade_mnist_cnn",
        datasets=("mnist",),
        metric="accuracy",
        required=0.99,
        target=0.993,
        budget_s=1200,
        quick_required=0.60,
        source="seed 003",
    ),
    Task(
        name="keras_fashion_cnn",
        title="Keras Fashion-MNIST CNN",
        package="keras_models",
        entry="keras_models.tasks:grade_fashion_cnn",
        datasets=("fashion_mnist",),
        metric="accuracy",
        required=0.90,
        target=0.93,
        budget_s=2400,
        quick_required=0.60,
        source="seed 003",
    ),
    Task(
        name="keras_cifar10_cnn",
        title="Keras CIFAR-10 CNN (small ResNet on (32, 32, 3) inputs)",
        package="keras_models",
        entry="keras_models.tasks:grade_cifar10_cnn",
        datasets=("cifar10",),
        metric="accuracy",
        required=0.70,
        target=0.85,
        budget_s=4800,
        quick_budget_s=300,
        quick_required=0.30,
        source="seed 003",
    ),
    # --- lightning_cnn (seed 001): one CNN, two frameworks, our animals3 release ---------------
    Task(
        name="lightning_animals3_cnn",
        title="PyTorch Lightning CNN on animals3 (cats / dogs / pandas)",
        package="lightning_cnn",
        entry="lightning_cnn.tasks:grade_lightning_cnn",
        datasets=("animals3",),
        metric="accuracy",
        required=0.70,
        target=0.85,
        budget_s=1500,
        quick_budget_s=300,
        quick_required=0.40,
        source="seed 001",
    ),
    Task(
        name="keras_animals3_cnn",
        title="Keras CNN on animals3 (the same model as the Lightning one)",
        package="lightning_cnn",
        entry="lightning_cnn.tasks:grade_keras_cnn",
        datasets=("animals3",),
        metric="accuracy",
        required=0.70,
        target=0.85,
        budget_s=1500,
        quick_budget_s=300,
        quick_required=0.40,
        source="seed 001",
    ),
]

TASKS: dict[str, Task] = {task.name: task for task in _TASK_LIST}
