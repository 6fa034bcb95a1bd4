"""Resumable, cached Keras training shared by every Keras model in the project.

TensorFlow is imported lazily, so ``a2common`` stays importable without it.

Example: train a tiny model for two epochs, then call again and get the saved one back.

>>> import tempfile
>>> import keras
>>> import numpy as np
>>> def build_model():
...     model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
...     model.compile(optimizer="sgd", loss="mse")
...     return model
>>> work_dir = Path(tempfile.mkdtemp())
>>> x, y = np.ones((8, 3), np.float32), np.zeros((8, 1), np.float32)
>>> model, history, seconds = fit_or_load(build_model, work_dir, x, y, epochs=2, verbose=0)
>>> len(history["loss"]), (work_dir / MODEL_FILE).is_file()
(2, True)
>>> again, cached_history, cached_seconds = fit_or_load(build_model, work_dir, x, y, epochs=2)
>>> cached_history == history, cached_seconds == seconds  # loaded, not trained again
(True, True)
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from a2common.grading import finished_info, is_finished, mark_finished
from a2common.progress import keras_callback

if TYPE_CHECKING:
    import keras

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
EPOCH_LOG_FILE = "epochs.csv"
SECONDS_FILE = "train_seconds.json"
TENSORBOARD_DIR = "tensorboard"


def tensorboard_callback(log_dir: Path) -> keras.callbacks.TensorBoard:
    """The project's TensorBoard callback: per-epoch scalars in ``log_dir``, no graph, no profile.

    Keras writes ``log_dir/train`` (and ``log_dir/validation`` when there is validation data);
    ``tensorboard --logdir <log_dir or a folder above it>`` shows the curves.

    Example:

    >>> callback = tensorboard_callback(Path("work") / "tensorboard")
    >>> callback.log_dir, callback.write_graph
    ('work/tensorboard', False)
    """
    import keras

    return keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False, profile_batch=0)


def finished_model_exists(work_dir: str | Path) -> bool:
    """Whether :func:`fit_or_load` will load the model of ``work_dir`` instead of training.

    True when training there finished (``FINISHED.json``) and its ``model.keras`` is present;
    callers use it to report ``from_cache`` exactly as :func:`fit_or_load` decides.

    Example:

    >>> import tempfile
    >>> finished_model_exists(tempfile.mkdtemp())
    False
    """
    return is_finished(Path(work_dir)) and (Path(work_dir) / MODEL_FILE).is_file()


def fit_or_load(
    build_model: Callable[[], Any],
    work_dir: Path,
    x: Any,
    y: Any = None,
    *,
    epochs: int,
    callbacks: list | None = None,
    custom_objects: dict | None = None,
    **fit_kwargs: Any,
) -> tuple[Any, dict[str, list[float]], float]:
    """Train ``build_model()`` with checkpoint/resume, or load the finished model from ``work_dir``.

    Training writes a ``BackupAndRestore`` checkpoint and a CSV line every epoch under
    ``work_dir`` so an interrupted run resumes where it stopped (with its history so far); on
    success the model is saved to ``work_dir/model.keras`` with its history and wall time
    (summed over every session of an interrupted and resumed run: ``train_seconds.json`` holds
    the seconds of each epoch, an epoch redone after an interruption counted twice since it was
    spent twice). TensorBoard logs go to ``work_dir/tensorboard`` unless ``callbacks`` holds a
    ``keras.callbacks.TensorBoard`` of the caller's. Every epoch is reported to the
    autograder's progress line (:mod:`a2common.progress`).

    Returns:
        ``(model, history, train_seconds)``; ``train_seconds`` is the recorded time of the
        original training when the model was loaded from the cache.
    """
    import keras

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    if finished_model_exists(work_dir):
        model = keras.saving.load_model(work_dir / MODEL_FILE, custom_objects=custom_objects)
        history = json.loads((work_dir / HISTORY_FILE).read_text())
        return model, history, float(finished_info(work_dir)["train_seconds"])
    model = build_model()
    callbacks = list(callbacks or [])
    if not any(isinstance(callback, keras.callbacks.TensorBoard) for callback in callbacks):
        callbacks.append(tensorboard_callback(work_dir / TENSORBOARD_DIR))
    backup = keras.callbacks.BackupAndRestore(str(work_dir / "backup"), delete_checkpoint=True)
    # appended per epoch, so the history survives an interruption like the weights do
    epoch_log = keras.callbacks.CSVLogger(str(work_dir / EPOCH_LOG_FILE), append=True)
    clock = _epoch_clock(work_dir / SECONDS_FILE)
    try:
        # The caller's callbacks first, so the logs they add (e.g. val_macro_f1) reach the
        # epoch log; the backup after it, so an epoch interrupted before it is saved is redone
        # (its repeated log row then replaces the first one) instead of missing from the
        # history; the clock last, so an epoch's seconds include its callbacks' work.
        model.fit(
            x,
            y,
            epochs=epochs,
            callbacks=[*callbacks, epoch_log, keras_callback(epochs), backup, clock],
            **fit_kwargs,
        )
    finally:
        clock.record_rest()
    train_seconds = clock.total_seconds
    history = _read_epoch_log(work_dir / EPOCH_LOG_FILE)
    model.save(work_dir / MODEL_FILE)
    (work_dir / HISTORY_FILE).write_text(json.dumps(history))
    mark_finished(work_dir, train_seconds, epochs=epochs)
    return model, history, train_seconds


def _epoch_clock(path: Path) -> Any:
    """A callback adding the seconds since the last entry to ``path`` at every epoch's end.

    Each entry is ``{"epoch": n, "seconds": s}`` (``n`` 1-based); ``record_rest()``, called
    when ``fit`` returns or is interrupted, adds the time after the last finished epoch as
    ``{"after_epoch": n, "seconds": s}`` (``n`` is ``None`` if no epoch finished in this
    session). The file is rewritten atomically, so a killed run leaves it whole.
    """
    import keras

    class _EpochClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.since = time.perf_counter()
            self.last_epoch: int | None = None
            # earlier sessions' entries, read once; this session's are appended in memory
            self.entries: list[dict[str, Any]] = (
                json.loads(path.read_text()) if path.is_file() else []
            )

        @property
        def total_seconds(self) -> float:
            """The seconds of every entry, earlier sessions' included."""
            return float(sum(entry["seconds"] for entry in self.entries))

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.last_epoch = epoch + 1
            self._add({"epoch": self.last_epoch})

        def record_rest(self) -> None:
            self._add({"after_epoch": self.last_epoch})

        def _add(self, entry: dict[str, Any]) -> None:
            now = time.perf_counter()
            self.entries.append({**entry, "seconds": now - self.since})
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(json.dumps(self.entries))
            os.replace(temporary, path)
            self.since = now

    return _EpochClock()


def _read_epoch_log(path: Path) -> dict[str, list[float]]:
    """Per-epoch metrics from the CSV log, the last entry winning if an epoch was repeated."""
    by_epoch: dict[int, dict[str, str]] = {}
    with open(path, newline="") as stream:
        for row in csv.DictReader(stream):
            by_epoch[int(row.pop("epoch"))] = row
    names = next(iter(by_epoch.values())).keys() if by_epoch else []
    # Keras writes "NA" in the val_* columns of runs without validation data
    return {
        name: [float(by_epoch[e][name]) for e in sorted(by_epoch)]
        for name in names
        if any(by_epoch[e][name] != "NA" for e in by_epoch)
    }
