"""The contract between graded tasks (in the packages) and the harness that runs them.

A graded task is a function ``grade_xxx(ctx: TaskContext) -> TaskResult`` in a package. The
harness calls it in a fresh process; the packages never import the harness.

Example:

>>> def grade_constant(ctx: TaskContext) -> TaskResult:
...     return TaskResult(metric="accuracy", value=1.0, train_seconds=0.0)
>>> grade_constant(TaskContext(quick=True, seed=0, work_dir=Path("."))).value
1.0
"""
from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator


@dataclass(frozen=True)
class TaskContext:
    """What the harness gives a task.

    Attributes:
        quick: run the smoke-test variant (small subset, few epochs, about a minute).
        seed: the seed to pass to :func:`a2common.seeding.seed_everything`.
        work_dir: a persistent folder keyed by code + config + data hash. Save checkpoints and
            the finished model here; if a finished model is already here, load it and only
            evaluate (that is what makes a cached re-grade fast).
        params: task-specific options from the registry (e.g. ``{"shuffle_labels": True}``).
    """

    quick: bool
    seed: int
    work_dir: Path
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskResult:
    """What a task returns: the graded metric on the **test** split, and how long training took."""

    metric: str
    value: float
    train_seconds: float
    from_cache: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            value = float(self.value)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(self.value, bool) or not math.isfinite(value):
            raise ValueError(f"Expected a finite number as the metric value. "
                             f"Received: value={self.value!r}")
        self.value = value

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Not JSON-serialisable: {type(value).__name__}")


FINISHED_MARKER = "FINISHED.json"


def is_finished(work_dir: Path) -> bool:
    """Whether a task saved a finished model in ``work_dir`` (see :func:`mark_finished`)."""
    return (work_dir / FINISHED_MARKER).is_file()


def mark_finished(work_dir: Path, train_seconds: float, **info: Any) -> None:
    """Record that training in ``work_dir`` completed and how long it took."""
    payload = {"train_seconds": train_seconds, **info}
    (work_dir / FINISHED_MARKER).write_text(json.dumps(payload, default=_json_default))


def finished_info(work_dir: Path) -> dict[str, Any]:
    """What :func:`mark_finished` recorded."""
    return json.loads((work_dir / FINISHED_MARKER).read_text())


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """``with stopwatch() as t: ...`` then ``t["seconds"]`` is the elapsed wall time."""
    timing = {"seconds": 0.0}
    start = time.perf_counter()
    try:
        yield timing
    finally:
        timing["seconds"] = time.perf_counter() - start
