"""The demo's models: read from the graded runs, loaded lazily (once), never trained here.

Three models, each the saved model of one graded task (:data:`DEMO_MODELS`):

* ``mlp``: ``autograd_mnist_mlp``, the from-scratch autograd MLP (784 inputs, logits out);
* ``cnn``: ``keras_mnist_cnn``, the Keras CNN on ``(28, 28, 1)`` inputs (softmax out);
* ``animals``: ``keras_animals3_transfer``, Keras MobileNetV2 fine-tuned on animals3
  (64x64 RGB 0..255 in, resizing and scaling inside the model, logits out).

A :class:`ModelSlot` opens the run with :meth:`a2common.runs.GradedRun.open` (read-only: it
never trains) the first time the model is needed. The full run is preferred; the quick (smoke)
run is used when it is the only one, and the answer says so. When no run exists the slot raises
:class:`ModelUnavailable` with the command that makes it; the server turns that into a 503.

Example:

>>> slot = ModelSlot(DEMO_MODELS["mlp"], runs=("full",), root=Path("/nonexistent"))
>>> slot.status()["state"]
'not_trained'
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

MNIST_CLASSES = tuple(str(digit) for digit in range(10))
ANIMALS3_CLASSES = ("cats", "dogs", "panda")
"""The ``class_names`` of the animals3 release (a2common.data ``animals3``), label order."""
ANIMALS3_SIDE = 64
RUN_KINDS = ("full", "quick")


class Predictor(Protocol):
    """Anything with ``predict(batch) -> (n, classes) probabilities``."""

    def predict(self, batch: np.ndarray) -> np.ndarray:  # pragma: no cover - protocol
        ...


@dataclass(frozen=True)
class ModelSpec:
    """What the demo needs to know about one graded model.

    Attributes:
        key: the demo's short name (URL segment).
        task: the graded task whose run holds the model.
        title: shown on the page.
        framework: ``"autograd"`` or ``"keras"``.
        input_shape: one example's shape as the model takes it.
        class_names: one name per output column.

    Example:

    >>> DEMO_MODELS["cnn"].task
    'keras_mnist_cnn'
    """

    key: str
    task: str
    title: str
    framework: str
    input_shape: tuple[int, ...]
    class_names: tuple[str, ...]


DEMO_MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            "mlp",
            "autograd_mnist_mlp",
            "autograd MLP (from scratch, numpy)",
            "autograd",
            (784,),
            MNIST_CLASSES,
        ),
        ModelSpec("cnn", "keras_mnist_cnn", "Keras CNN", "keras", (28, 28, 1), MNIST_CLASSES),
        ModelSpec(
            "animals",
            "keras_animals3_transfer",
            "Keras MobileNetV2 fine-tuned on animals3",
            "keras",
            (ANIMALS3_SIDE, ANIMALS3_SIDE, 3),
            ANIMALS3_CLASSES,
        ),
    )
}


class ModelUnavailable(RuntimeError):
    """The model cannot answer (no graded run yet, or its file does not load)."""

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits.

    Example:

    >>> softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])).round(3).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


class _LoadedModel:
    """A framework model behind one lock, returning probabilities."""

    def __init__(
        self, model: Any, call: Callable[[Any, np.ndarray], np.ndarray], outputs_probabilities: bool
    ) -> None:
        self._model, self._call = model, call
        self._outputs_probabilities = outputs_probabilities
        self._lock = threading.Lock()

    def predict(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            outputs = np.asarray(self._call(self._model, batch), dtype=np.float64)
        return outputs if self._outputs_probabilities else softmax(outputs)


def load_autograd_model(path: Path) -> Predictor:
    """An autograd ``Sequential`` saved with ``model.save`` (softmax added unless it has one)."""
    from autograd import load_model

    model = load_model(path, compile=False)
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    name = getattr(activation, "__name__", activation) or ""
    probabilities = "softmax" in str(name).lower() or "softmax" in type(last).__name__.lower()
    return _LoadedModel(model, lambda m, x: m.predict(x), probabilities)


def load_keras_model(path: Path) -> Predictor:
    """A ``.keras`` file; called directly (``training=False``), not through ``predict``."""
    import keras

    model = keras.models.load_model(path, compile=False)
    activation = getattr(model.layers[-1], "activation", None)
    probabilities = getattr(activation, "__name__", "") == "softmax"

    def call(m: Any, x: np.ndarray) -> np.ndarray:
        return keras.ops.convert_to_numpy(m(x, training=False))

    return _LoadedModel(model, call, probabilities)


LOADERS: dict[str, Callable[[Path], Predictor]] = {
    "autograd": load_autograd_model,
    "keras": load_keras_model,
}


class ModelSlot:
    """One demo model: finds its graded run, loads it on first use, remembers failures.

    Args:
        spec: which model.
        runs: run kinds to try, in order (``"full"``, ``"quick"``).
        root: the runs folder (default :func:`a2common.runs.runs_root`, which honours
            ``$ASSIGNMENT2_RUNS_DIR``).
        predictor: a ready model (tests, benchmarks); skips the run lookup.

    Example:

    >>> class Constant:
    ...     def predict(self, batch):
    ...         return np.full((len(batch), 10), 0.1)
    >>> slot = ModelSlot(DEMO_MODELS["cnn"], predictor=Constant())
    >>> slot.predict(np.zeros((1, 28, 28, 1), np.float32)).shape
    (1, 10)
    """

    def __init__(
        self,
        spec: ModelSpec,
        runs: Sequence[str] = RUN_KINDS,
        root: Path | None = None,
        predictor: Predictor | None = None,
    ) -> None:
        unknown = [kind for kind in runs if kind not in RUN_KINDS]
        if unknown or not runs:
            raise ValueError(f"Expected run kinds from {RUN_KINDS}. Received: runs={list(runs)}")
        self.spec, self.runs, self.root = spec, tuple(runs), root
        self._predictor = predictor
        self._run_kind: str | None = "injected" if predictor is not None else None
        self._run_path: Path | None = None
        self._error: ModelUnavailable | None = None
        self._lock = threading.Lock()

    def _find_run(self) -> tuple[str, Any]:
        from a2common.runs import GradedRun, RunNotFoundError

        for kind in self.runs:
            try:
                return kind, GradedRun.open(self.spec.task, quick=kind == "quick", root=self.root)
            except RunNotFoundError:
                continue
        quick = " --quick" if self.runs == ("quick",) else ""
        raise ModelUnavailable(
            f"Model {self.spec.task!r} is not trained yet: no finished graded run "
            f"({' or '.join(self.runs)}). Make it with `make grade` or "
            f"`python -m autograder ensure {self.spec.task}{quick}`.",
            "not_trained",
        )

    def _load(self) -> Predictor:
        kind, run = self._find_run()
        try:
            path = run.model_path()
            predictor = LOADERS[self.spec.framework](path)
            # warm-up: a framework's first call builds its kernels (about a second for Keras)
            predictor.predict(np.zeros((1, *self.spec.input_shape), dtype=np.float32))
        except Exception as error:  # any load failure must not take the server down
            message = (
                f"Model {self.spec.task!r} ({kind} run {run.path}) could not be loaded: "
                f"{type(error).__name__}: {error}"
            )
            raise ModelUnavailable(message, "error") from error
        self._run_kind, self._run_path = kind, run.path
        return predictor

    def get(self) -> Predictor:
        """The loaded model; raises :class:`ModelUnavailable` (the reason is kept and re-raised
        until :meth:`reset`)."""
        if self._predictor is not None:
            return self._predictor
        with self._lock:
            if self._predictor is None:
                if self._error is not None:
                    raise self._error
                try:
                    self._predictor = self._load()
                except ModelUnavailable as error:
                    if error.state == "error":  # a missing run may appear later: retry
                        self._error = error
                    raise
            return self._predictor

    def reset(self) -> None:
        """Forget a remembered load error, so the next request tries again."""
        with self._lock:
            self._error = None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, classes)`` for a batch shaped ``(n, *spec.input_shape)``."""
        expected = (len(batch), *self.spec.input_shape)
        if batch.shape != expected:
            raise ValueError(f"Expected a batch of shape {expected}. Received: {batch.shape}")
        probabilities = np.asarray(self.get().predict(batch), dtype=np.float64)
        if probabilities.shape != (len(batch), len(self.spec.class_names)):
            raise ModelUnavailable(
                f"Model {self.spec.task!r} returned shape {probabilities.shape}; expected "
                f"{(len(batch), len(self.spec.class_names))} (one column per class of "
                f"{list(self.spec.class_names)}).",
                "error",
            )
        return probabilities

    def status(self) -> dict[str, Any]:
        """State without loading anything: ``ready``, ``available`` (a run exists, not loaded
        yet), ``not_trained`` or ``error``; plus the run used and a message."""
        info: dict[str, Any] = {
            "key": self.spec.key,
            "task": self.spec.task,
            "title": self.spec.title,
            "classes": list(self.spec.class_names),
        }
        if self._predictor is not None:
            return {
                **info,
                "state": "ready",
                "run": self._run_kind,
                "run_path": str(self._run_path) if self._run_path else None,
                "message": "",
            }
        if self._error is not None:
            return {
                **info,
                "state": self._error.state,
                "run": None,
                "run_path": None,
                "message": str(self._error),
            }
        try:
            kind, run = self._find_run()
        except ModelUnavailable as error:
            return {
                **info,
                "state": error.state,
                "run": None,
                "run_path": None,
                "message": str(error),
            }
        return {**info, "state": "available", "run": kind, "run_path": str(run.path), "message": ""}

    @property
    def run_kind(self) -> str | None:
        """``"full"``, ``"quick"``, ``"injected"``, or ``None`` before loading."""
        return self._run_kind
