"""The graded tasks: what each trains, which labels grade it, its metrics and thresholds.

``required`` is the assignment's pass mark; ``target`` is this project's own, higher aim. Both
are fractions (accuracies, AUCs). The harness imports packages only through ``entry`` strings,
and loads the labels it grades against itself (``labels``), never from the task.

Example:

>>> TASKS["keras_mnist_mlp"].metrics[0].required
0.97
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

METRIC_NAMES = ("accuracy", "roc_auc", "macro_f1")


@dataclass(frozen=True)
class Labels:
    """Where the harness reads the true labels: dataset, split and an optional class subset.

    ``classes`` keeps only those classes, relabelled ``0..k-1`` in the given order
    (:func:`a2common.data.select_classes`); the task must predict exactly those rows.
    """

    dataset: str
    split: str = "test"
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Metric:
    """A graded number, computed by the harness from one head's predictions.

    Attributes:
        name: one of :data:`METRIC_NAMES`.
        required: the assignment's pass mark; below it the task fails.
        target: our own goal, reported beside the value.
        head: the model output it is computed on (``"output"`` for single-output models).
        quick_required: pass mark of the quick (smoke) variant: learning beyond chance.
    """

    name: str
    required: float
    target: float
    head: str = "output"
    quick_required: float | None = None

    def threshold(self, quick: bool) -> float:
        if quick and self.quick_required is not None:
            return self.quick_required
        return self.required


@dataclass(frozen=True)
class Task:
    """One graded task.

    Attributes:
        name: unique id: the run folder, the model card, the notebook section and the
            results.json entry all use it.
        title: what a grader reads in the report.
        package: folder under ``packages/`` (``make grade PACKAGE=...``; where cards go).
        entry: ``"module:function"``, a function from ``TaskContext`` to ``TaskResult``.
        labels: the labels each head is graded against (``{head: Labels}``).
        metrics: the graded numbers; every ``required`` must be met to pass.
        budget_s: wall-clock limit of the full run, all seeds together (seconds).
        quick_budget_s: limit of the quick variant.
        datasets: datasets the task reads besides the label datasets (their sha256 sums key
            the run).
        params: options passed to the task as ``ctx.params``.
        seeds: one run per seed; a metric is the mean over seeds (± std reported).
        max_score: points in results.json.
        source: the assignment text it implements, and where thresholds come from.
    """

    name: str
    title: str
    package: str
    entry: str
    labels: dict[str, Labels]
    metrics: tuple[Metric, ...]
    budget_s: int
    quick_budget_s: int = 180
    datasets: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    max_score: float = 10.0
    source: str = ""

    def __post_init__(self) -> None:
        if not self.metrics or not self.seeds:
            raise ValueError(f"Task {self.name!r}: expected at least one metric and one seed.")
        for metric in self.metrics:
            if metric.name not in METRIC_NAMES:
                raise ValueError(f"Task {self.name!r}: expected a metric in {METRIC_NAMES}. "
                                 f"Received: {metric.name!r}")
            if metric.head not in self.labels:
                raise ValueError(f"Task {self.name!r}: metric {metric.name!r} is computed on "
                                 f"head {metric.head!r}, which has no labels.")

    @property
    def primary(self) -> Metric:
        """The first metric: the one one-line summaries show."""
        return self.metrics[0]

    @property
    def all_datasets(self) -> tuple[str, ...]:
        """Every dataset the task reads or is graded on, without repeats."""
        names = [*self.datasets, *(labels.dataset for labels in self.labels.values())]
        return tuple(dict.fromkeys(names))


def _accuracy_task(name: str, title: str, package: str, entry: str, dataset: str, *,
                   required: float, target: float, quick_required: float,
                   **options: Any) -> Task:
    """A single-output classifier graded by accuracy on a whole dataset's test split."""
    return Task(name=name, title=title, package=package, entry=entry,
                labels={"output": Labels(dataset)},
                metrics=(Metric("accuracy", required, target, quick_required=quick_required),),
                **options)


_TASK_LIST = [
    # --- autograd (seed 002): our from-scratch library on MNIST -------------------------------
    _accuracy_task("autograd_mnist_simple",
                   "autograd MNIST simple model (one Dense layer + softmax)", "autograd",
                   "autograd.apps.mnist:grade_simple", "mnist",
                   required=0.85, target=0.92, quick_required=0.60, budget_s=300,
                   source="seed 002 (Beras: simple model >= 85%)"),
    _accuracy_task("autograd_mnist_mlp", "autograd MNIST MLP (the advanced model)",
                   "autograd", "autograd.apps.mnist:grade_mlp", "mnist",
                   required=0.95, target=0.982, quick_required=0.60, budget_s=600,
                   source="seed 002 (Beras: advanced model > 95%)"),
    _accuracy_task("autograd_mnist_cnn", "autograd MNIST CNN (our Conv2D / MaxPool2D)",
                   "autograd", "autograd.apps.mnist:grade_cnn", "mnist",
                   required=0.95, target=0.99, quick_required=0.60, budget_s=1500,
                   quick_budget_s=300, source="seed 002"),
    # --- keras_models (seed 003): MNIST -> Fashion-MNIST -> CIFAR-10 ---------------------------
    _accuracy_task("keras_mnist_mlp", "Keras MNIST MLP (Flatten → Dense → softmax, Adam)",
                   "keras_models", "keras_models.tasks:grade_mnist_mlp", "mnist",
                   required=0.97, target=0.98, quick_required=0.85, budget_s=600,
                   source="seed 003"),
    _accuracy_task("keras_mnist_cnn", "Keras MNIST CNN on (28, 28, 1) inputs",
                   "keras_models", "keras_models.tasks:grade_mnist_cnn", "mnist",
                   required=0.99, target=0.993, quick_required=0.60, budget_s=1200,
                   source="seed 003"),
    _accuracy_task("keras_fashion_cnn", "Keras Fashion-MNIST CNN",
                   "keras_models", "keras_models.tasks:grade_fashion_cnn", "fashion_mnist",
                   required=0.90, target=0.93, quick_required=0.60, budget_s=2400,
                   source="seed 003"),
    _accuracy_task("keras_cifar10_cnn", "Keras CIFAR-10 CNN (small ResNet on (32, 32, 3) inputs)",
                   "keras_models", "keras_models.tasks:grade_cifar10_cnn", "cifar10",
                   required=0.70, target=0.85, quick_required=0.30, budget_s=4800,
                   quick_budget_s=300, source="seed 003"),
    # --- lightning_cnn (seed 001): one CNN, two frameworks, our animals3 release ---------------
    _accuracy_task("lightning_animals3_cnn",
                   "PyTorch Lightning CNN on animals3 (cats / dogs / pandas)",
                   "lightning_cnn", "lightning_cnn.tasks:grade_lightning_cnn", "animals3",
                   required=0.70, target=0.85, quick_required=0.40, budget_s=1500,
                   quick_budget_s=300, source="seed 001"),
    _accuracy_task("keras_animals3_cnn",
                   "Keras CNN on animals3 (the same model as the Lightning one)",
                   "lightning_cnn", "lightning_cnn.tasks:grade_keras_cnn", "animals3",
                   required=0.70, target=0.85, quick_required=0.40, budget_s=1500,
                   quick_budget_s=300, source="seed 001"),
    # --- keras_models (seed 000, issue 11): the four Keras problems ----------------------------
    # --- lightning_cnn (seed 001 extra credit, issue 16): transfer learning ---------------------
    # --- modern_convnets (seed 001 extra credit, issue 13): SqueezeNet and Xception -------------
    # --- conv3d (seed 001 extra credit, issue 18): 3D CNNs on AdrenalMNIST3D --------------------
]

TASKS: dict[str, Task] = {task.name: task for task in _TASK_LIST}


def tasks_of_package(package: str) -> list[str]:
    """Names of the tasks of ``packages/<package>``; a ``ValueError`` lists the packages."""
    names = [task.name for task in TASKS.values() if task.package == package]
    if not names:
        known = sorted({task.package for task in TASKS.values()})
        raise ValueError(f"No graded task in package {package!r}. Packages with tasks: "
                         f"{', '.join(known)}.")
    return names
