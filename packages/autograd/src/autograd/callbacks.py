"""Training callbacks, Keras style: hooks that ``Sequential.fit`` calls around epochs and batches.

* :class:`History` records the epoch logs (``fit`` returns it).
* :class:`ProgbarLogger` draws a small text progress bar (no dependencies).
* :class:`EarlyStopping` stops when a monitored value stops improving.
* :class:`ModelCheckpoint` saves the weights (``.npz``) after epochs, optionally only the best.
* :class:`BackupAndRestore` saves the full training state after every epoch; a ``fit`` that was
  interrupted resumes from it and ends exactly as an uninterrupted run would have.

Example:

>>> import numpy as np
>>> from autograd import Sequential, layers, callbacks
>>> model = Sequential([layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> history = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=3, verbose=0,
...                     callbacks=[callbacks.EarlyStopping(monitor="loss", patience=1)])
>>> len(history.history["loss"]) <= 3
True
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence, TextIO

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from autograd.model import Sequential

Logs = dict[str, float]


class Callback:
    """Base class; override any hook. ``self.model`` and ``self.params`` are set by ``fit``.

    Callbacks that must survive an interruption implement ``get_state``/``set_state``
    (arrays only), which :class:`BackupAndRestore` saves and restores.

    Example:

    >>> class PrintEpoch(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print("finished epoch", epoch)
    >>> PrintEpoch().on_epoch_end(0)
    finished epoch 0
    """

    def __init__(self) -> None:
        self.model: Sequential | None = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Sequential | None) -> None:
        self.model = model

    def _attached_model(self) -> Sequential:
        """``self.model``, or a clear error when a hook needs it before ``fit`` has set it."""
        if self.model is None:
            raise RuntimeError(
                f"{type(self).__name__} is not attached to a model. "
                "Sequential.fit sets it; call set_model(model) to use the hooks directly."
            )
        return self.model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Called once after the last epoch (not when training raised an exception)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Called before each epoch (0-based)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Called after each epoch with the epoch's training and validation logs."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Called after each training batch with the running epoch logs."""

    def get_state(self) -> dict[str, np.ndarray]:
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned."""


class CallbackList:
    """Calls every callback's hook in order (used by ``fit``).

    Example:

    >>> history = History()
    >>> hooks = CallbackList([history], model=None, params={"epochs": 1})
    >>> hooks.call("on_train_begin", None); hooks.call("on_epoch_end", 0, {"loss": 0.1})
    >>> history.history
    {'loss': [0.1]}
    """

    def __init__(
        self, callbacks: Sequence[Callback], model: Sequential | None, params: dict[str, Any]
    ) -> None:
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"Expected Callback instances. Received: {type(callback).__name__}")
            callback.set_model(model)
            callback.set_params(params)

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)

    def call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)


class History(Callback):
    """Records ``logs`` at the end of every epoch in ``history[name] -> list``.

    Example:

    >>> h = History(); h.on_train_begin(); h.on_epoch_end(0, {"loss": 1.0})
    >>> h.history
    {'loss': [1.0]}
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))


def format_logs(logs: Logs) -> str:
    return " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())


class ProgbarLogger(Callback):
    """A tiny text progress bar: ``Epoch 1/5  [=====>....] 120/469 - loss: 0.31 - 2.1s``.

    Args:
        verbose: 1 = bar updated during the epoch (at most every ``interval_s``),
            2 = one line per epoch.
        stream: where to write (default ``sys.stdout``).
        interval_s: minimum time between bar redraws.

    Example:

    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgbarLogger(verbose=2, stream=out)
    >>> bar.set_params({"epochs": 1, "steps": 1})
    >>> bar.on_epoch_begin(0); bar.on_epoch_end(0, {"loss": 0.5})
    >>> "loss: 0.5000" in out.getvalue()
    True
    """

    def __init__(
        self,
        verbose: int = 1,
        stream: TextIO | None = None,
        interval_s: float = 0.25,
        width: int = 24,
    ) -> None:
        super().__init__()
        self.verbose, self.stream = verbose, stream
        self.interval_s, self.width = interval_s, width
        self._start = self._last_draw = 0.0

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._start = self._last_draw = time.perf_counter()
        if self.verbose == 1:
            self._write(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}\n")

    def _bar(self, done: int, total: int) -> str:
        filled = int(self.width * done / max(total, 1))
        arrow = ">" if filled < self.width else ""
        bar = "=" * filled + arrow + "." * (self.width - filled - len(arrow))
        digits = len(str(total))
        return f"{done:>{digits}}/{total} [{bar}]"

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self.verbose != 1:
            return
        now = time.perf_counter()
        steps = self.params.get("steps", 0)
        if now - self._last_draw < self.interval_s and batch + 1 < steps:
            return
        self._last_draw = now
        text = f"\r{self._bar(batch + 1, steps)} - {now - self._start:.1f}s"
        if logs:
            text += " - " + format_logs(logs)
        self._write(text)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        elapsed = time.perf_counter() - self._start
        if self.verbose == 1:
            steps = self.params.get("steps", 0)
            self._write(
                f"\r{self._bar(steps, steps)} - {elapsed:.1f}s - {format_logs(logs or {})}\n"
            )
        elif self.verbose == 2:
            self._write(
                f"Epoch {epoch + 1}/{self.params.get('epochs', '?')} - {elapsed:.1f}s - "
                f"{format_logs(logs or {})}\n"
            )


class TrainingTimer(Callback):
    """Add up the wall time (``seconds``) and process CPU time (``cpu_seconds``) spent in
    training epochs, including epochs run before an interruption when used with
    :class:`BackupAndRestore`.

    Example:

    >>> timer = TrainingTimer()
    >>> timer.on_epoch_begin(0); timer.on_epoch_end(0)
    >>> timer.seconds >= 0.0
    True
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.epoch_seconds: list[float] = []
        self._start = self._cpu_start = 0.0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.seconds, self.cpu_seconds, self.epoch_seconds = 0.0, 0.0, []

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._start, self._cpu_start = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        elapsed = time.perf_counter() - self._start
        self.epoch_seconds.append(elapsed)
        self.seconds += elapsed
        # CPU time of this process (all its threads): what the epoch cost, whatever the load.
        self.cpu_seconds += time.process_time() - self._cpu_start

    def get_state(self) -> dict[str, np.ndarray]:
        return {
            "epoch_seconds": np.array(self.epoch_seconds, dtype=np.float64),
            "cpu_seconds": np.array(self.cpu_seconds),
        }

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.epoch_seconds = [float(v) for v in state["epoch_seconds"]]
        self.seconds = float(sum(self.epoch_seconds))
        self.cpu_seconds = float(state["cpu_seconds"])


def _monitor_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"Expected mode 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Keras 3 semantics: an epoch without improvement increments ``wait``; training stops at the
    end of the first epoch (not the first one) where ``wait >= patience``. A value that never
    improves therefore stops after ``patience + 1`` epochs.

    Args:
        monitor: a log name, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracies, else min).
        baseline: a value to beat; ``wait`` is not reset until the monitored value beats it.
        restore_best_weights: at the end of training, put back the weights of the best epoch.
        start_from_epoch: epochs to ignore at the start (a warm-up without stopping).

    Example:

    >>> stopper = EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)
    >>> stopper.mode
    'max'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.mode = _monitor_mode(monitor, mode)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait, self.best_epoch, self.stopped_epoch = 0, -1, -1
        self.best: float | None = None  # no monitored value seen yet
        self.best_weights: list[np.ndarray] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._reset()

    def _improves_on(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping is monitoring {self.monitor!r}, which is not in "
                f"the logs. Expected one of {sorted(logs)}."
            )
        if epoch < self.start_from_epoch:
            return
        value = float(logs[self.monitor])
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._attached_model().get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self.best is None or self._improves_on(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self._attached_model().get_weights()
            if self.baseline is None or self._improves_on(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self._attached_model().stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self._attached_model().set_weights(self.best_weights)

    def get_state(self) -> dict[str, np.ndarray]:
        best = math.nan if self.best is None else self.best
        state = {
            "wait": np.array(self.wait),
            "best": np.array(best),
            "best_epoch": np.array(self.best_epoch),
        }
        for i, weight in enumerate(self.best_weights or []):
            state[f"best_weights/{i}"] = weight
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.wait, self.best = int(state["wait"]), float(state["best"])
        if math.isnan(self.best):
            self.best = None
        self.best_epoch = int(state["best_epoch"])
        count = sum(1 for key in state if key.startswith("best_weights/"))
        self.best_weights = [state[f"best_weights/{i}"] for i in range(count)] or None


class ModelCheckpoint(Callback):
    """Save the model weights (``.npz``) at the end of epochs.

    Args:
        filepath: path, may contain ``{epoch}`` and log names, e.g. ``"ckpt-{epoch:02d}.npz"``.
        monitor, mode: which log decides what "best" is (see :class:`EarlyStopping`).
        save_best_only: save only when ``monitor`` improved.

    Example:

    >>> ModelCheckpoint("best.npz", monitor="val_accuracy", save_best_only=True).mode
    'max'
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
    ) -> None:
        super().__init__()
        self.filepath, self.monitor = str(filepath), monitor
        self.save_best_only = save_best_only
        self.mode = _monitor_mode(monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            if self.monitor not in logs:
                raise ValueError(
                    f"ModelCheckpoint is monitoring {self.monitor!r}, which is not "
                    f"in the logs. Expected one of {sorted(logs)}."
                )
            value = float(logs[self.monitor])
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        self._attached_model().save_weights(path)

    def get_state(self) -> dict[str, np.ndarray]:
        return {"best": np.array(self.best)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.best = float(state["best"])


class BackupAndRestore(Callback):
    """Make ``fit`` resumable: save the whole training state after every epoch and, when
    ``fit`` starts and a backup exists, restore it and continue with the next epoch.

    The backup (one ``.npz`` file, no pickle) holds the weights, the optimizer slots and step,
    layer RNG counters, the shuffling seed, the history so far and the state of the other
    callbacks. It is deleted when ``fit`` finishes normally (unless ``delete_checkpoint=False``).

    Args:
        backup_path: file to write, e.g. ``work_dir / "backup.npz"``.
        delete_checkpoint: remove the backup after a completed ``fit``.

    Example:

    >>> BackupAndRestore("/tmp/run/backup.npz").backup_path.name
    'backup.npz'
    """

    def __init__(self, backup_path: str | os.PathLike[str], delete_checkpoint: bool = True) -> None:
        super().__init__()
        self.backup_path = Path(backup_path)
        self.delete_checkpoint = delete_checkpoint
        self.resumed_from_epoch: int | None = None

    def _other_callbacks(self) -> list[Callback]:
        return [cb for cb in self.params.get("callbacks", []) if cb is not self]

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.resumed_from_epoch = None
        if not self.backup_path.is_file():
            return
        model = self._attached_model()
        state = model.load_training_state(self.backup_path)
        for i, callback in enumerate(self._other_callbacks()):
            prefix = f"callback/{i}/"
            own = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            if own:
                callback.set_state(own)
        self.resumed_from_epoch = model._initial_epoch

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        extra = {}
        for i, callback in enumerate(self._other_callbacks()):
            for key, value in callback.get_state().items():
                extra[f"callback/{i}/{key}"] = value
        self._attached_model().save_training_state(self.backup_path, epoch=epoch, extra=extra)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.delete_checkpoint and self.backup_path.is_file():
            self.backup_path.unlink()


__all__ = [
    "BackupAndRestore",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "ProgbarLogger",
    "TrainingTimer",
    "format_logs",
]
