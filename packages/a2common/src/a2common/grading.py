"""The contract between graded tasks (in the packages) and the autograder that runs them.

A graded task is a function ``grade_xxx(ctx: TaskContext) -> TaskResult`` in a package. The
autograder calls it in a fresh process. The task trains its model (or resumes an interrupted
run, or loads the finished model from ``ctx.work_dir``) and returns **what the model predicts**
for every example of the held-out split, in the loader's order, plus facts about training. It
never returns a score: the autograder loads the labels itself and computes every graded number.

Example:

>>> import numpy as np
>>> def grade_uniform(ctx: TaskContext) -> TaskResult:
...     probabilities = np.full((4, 2), 0.5)       # one row per test example
...     return TaskResult(predictions=probabilities, train_seconds=0.0, epochs=0,
...                       parameters=0, history={})
>>> grade_uniform(TaskContext(quick=True, seed=0, work_dir=Path("."))).predictions.shape
(4, 2)
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TaskContext:
    """What the autograder gives a task.

    Attributes:
        quick: run the smoke-test variant (small subset, few epochs, about a minute).
        seed: the seed to pass to :func:`a2common.seeding.seed_everything`.
        work_dir: the run's own folder (``runs/<variant>/<task>/seed<k>/work``). Save
            checkpoints and the finished model here; if a finished model is here, load it
            instead of training again (the autograder deletes the folder when the code, the
            data or the stack changed, so a model found here is never stale).
        params: task-specific options from the registry (e.g. ``{"shuffle_labels": True}``).
    """

    quick: bool
    seed: int
    work_dir: Path
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelCardText:
    """What only the task's author can say about a model; the autograder's card adds the numbers.

    Each field is one section of a model card (Mitchell et al., 2019). Lists hold one sentence
    or short paragraph per item.

    Example:

    >>> text = ModelCardText(overview="A CNN for 28x28 digits.", intended_uses=["Teaching."],
    ...                      factors=["Digit class."], training_data="MNIST train, 60k.",
    ...                      evaluation_data="MNIST test, 10k.", caveats=["Digits only."])
    >>> text.missing_sections()
    []
    """

    overview: str = ""
    architecture: str = ""
    intended_uses: list[str] = field(default_factory=list)
    intended_users: list[str] = field(default_factory=list)
    out_of_scope_uses: list[str] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    training_data: str = ""
    evaluation_data: str = ""
    ethical_considerations: list[tuple[str, str]] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)

    REQUIRED = (
        "overview",
        "intended_uses",
        "factors",
        "training_data",
        "evaluation_data",
        "caveats",
    )

    def missing_sections(self) -> list[str]:
        """Names of the required sections that are empty."""
        return [name for name in self.REQUIRED if not getattr(self, name)]

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ModelCardText":
        known = {key: value for key, value in values.items() if key in cls.__dataclass_fields__}
        known["ethical_considerations"] = [
            tuple(item) for item in known.get("ethical_considerations", [])
        ]
        return cls(**known)


Predictions = np.ndarray | dict[str, np.ndarray]


@dataclass
class TaskResult:
    """What a task returns: its model's predictions on the held-out split and training facts.

    Attributes:
        predictions: class probabilities, one row per example of the split the registry names,
            in the loader's order: shape ``(n, classes)``, or ``(n,)`` for the positive-class
            probability of a binary task. A model with several output heads returns
            ``{head name: array}``. Values must be finite and in ``[0, 1]``.
        train_seconds: wall time of training (of the original run when loaded from the cache).
        epochs: epochs trained (after early stopping, if any).
        parameters: number of trainable + non-trainable parameters of the model.
        history: per-epoch training curves, ``{"loss": [...], "val_accuracy": [...]}``.
        model_files: files under ``ctx.work_dir`` that hold the trained model, relative paths.
        card: the model card's sections only the author knows (see :class:`ModelCardText`).
        details: anything else worth recording (settings, diagnostics). JSON-serialisable.

    A task never reports a score: there is deliberately no ``value``/``accuracy`` field.
    """

    predictions: Predictions
    train_seconds: float
    epochs: int
    parameters: int
    history: dict[str, list[float]]
    model_files: list[str] = field(default_factory=list)
    card: ModelCardText = field(default_factory=ModelCardText)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        heads = self.predictions if isinstance(self.predictions, dict) else {"": self.predictions}
        for head, values in heads.items():
            where = f" of head {head!r}" if head else ""
            array = np.asarray(values)
            if array.dtype == object or not np.issubdtype(array.dtype, np.number):
                raise TypeError(
                    f"Expected numeric predictions{where}. Received: dtype={array.dtype}"
                )
            if array.ndim not in (1, 2) or len(array) == 0:
                raise ValueError(
                    f"Expected predictions{where} of shape (n,) or (n, classes) "
                    f"with n > 0. Received: shape={array.shape}"
                )
        for name in ("train_seconds",):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(f"Expected {name} to be a finite number >= 0. Received: {value!r}")
        for name in ("epochs", "parameters"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"Expected {name} to be an integer >= 0. Received: {value!r}")
            setattr(self, name, int(value))
        if not isinstance(self.card, ModelCardText):
            raise TypeError(
                f"Expected card to be a ModelCardText. Received: {type(self.card).__name__}"
            )

    def prediction_arrays(self) -> dict[str, np.ndarray]:
        """``{head: array}``; a single-output model's head is named ``"output"``."""
        if isinstance(self.predictions, dict):
            return {head: np.asarray(values) for head, values in self.predictions.items()}
        return {"output": np.asarray(self.predictions)}


def to_jsonable(value: Any) -> Any:
    """``value`` with numpy types, paths and tuples made JSON-friendly; NaN/inf become ``None``.

    Strict JSON has no NaN or Infinity, so they are written as ``null``.

    Example:

    >>> to_jsonable({"a": np.float32(1.5), "b": [float("nan"), np.int64(2)]})
    {'a': 1.5, 'b': [None, 2]}
    """
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"Not JSON-serialisable: {type(value).__name__}")


def dump_json(value: Any, **kwargs: Any) -> str:
    """Strict JSON (``allow_nan=False``) of :func:`to_jsonable` ``(value)``."""
    return json.dumps(to_jsonable(value), allow_nan=False, ensure_ascii=False, **kwargs)


FINISHED_MARKER = "FINISHED.json"


def is_finished(work_dir: Path) -> bool:
    """Whether training in ``work_dir`` completed and saved its model (:func:`mark_finished`)."""
    return (Path(work_dir) / FINISHED_MARKER).is_file()


def mark_finished(work_dir: Path, train_seconds: float, **info: Any) -> None:
    """Record that training in ``work_dir`` completed, how long it took and ``info``."""
    payload = {"train_seconds": train_seconds, **info}
    (Path(work_dir) / FINISHED_MARKER).write_text(dump_json(payload))


def finished_info(work_dir: Path) -> dict[str, Any]:
    """What :func:`mark_finished` recorded."""
    return json.loads((Path(work_dir) / FINISHED_MARKER).read_text())


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """``with stopwatch() as t: ...`` then ``t["seconds"]`` is the elapsed wall time."""
    timing = {"seconds": 0.0}
    start = time.perf_counter()
    try:
        yield timing
    finally:
        timing["seconds"] = time.perf_counter() - start
