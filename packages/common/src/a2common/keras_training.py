"""Resumable, cached Keras training shared by every Keras model in the project.

TensorFlow is imported lazily, so ``a2common`` stays importable without it.

Example:

>>> import keras  # doctest: +SKIP
>>> model, history, seconds = fit_or_load(build_model, work_dir, x, y, epochs=5)  # doctest: +SKIP
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Callable

from a2common.grading import finished_info, is_finished, mark_finished, stopwatch
from a2common.progress import keras_callback

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
EPOCH_LOG_FILE = "epochs.csv"


def fit_or_load(build_model: Callable[[], Any], work_dir: Path, x: Any, y: Any = None, *,
                epochs: int, callbacks: list | None = None, custom_objects: dict | None = None,
                **fit_kwargs: Any) -> tuple[Any, dict[str, list[float]], float]:
    """Train ``build_model()`` with checkpoint/resume, or load the finished model from ``work_dir``.

    Training writes a ``BackupAndRestore`` checkpoint and a CSV line every epoch under
    ``work_dir`` so an interrupted run resumes where it stopped (with its history so far); on
    success the model is saved to ``work_dir/model.keras`` with its history and wall time
    (the time of the final, resumed session). Every epoch is reported to the autograder's
    progress line (:mod:`a2common.progress`).

    Returns:
        ``(model, history, train_seconds)``; ``train_seconds`` is the recorded time of the
        original training when the model was loaded from the cache.
    """
    import keras

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    if is_finished(work_dir) and (work_dir / MODEL_FILE).is_file():
        model = keras.saving.load_model(work_dir / MODEL_FILE, custom_objects=custom_objects)
        history = json.loads((work_dir / HISTORY_FILE).read_text())
        return model, history, float(finished_info(work_dir)["train_seconds"])
    model = build_model()
    backup = keras.callbacks.BackupAndRestore(str(work_dir / "backup"), delete_checkpoint=True)
    # appended per epoch, so the history survives an interruption like the weights do
    epoch_log = keras.callbacks.CSVLogger(str(work_dir / EPOCH_LOG_FILE), append=True)
    with stopwatch() as timer:
        # The caller's callbacks first, so the logs they add (e.g. val_macro_f1) reach the
        # epoch log; the backup last, so an epoch interrupted before it is saved is redone (its
        # repeated log row then replaces the first one) instead of missing from the history.
        model.fit(x, y, epochs=epochs,
                  callbacks=[*(callbacks or []), epoch_log, keras_callback(epochs), backup],
                  **fit_kwargs)
    history = _read_epoch_log(work_dir / EPOCH_LOG_FILE)
    model.save(work_dir / MODEL_FILE)
    (work_dir / HISTORY_FILE).write_text(json.dumps(history))
    mark_finished(work_dir, timer["seconds"], epochs=epochs)
    return model, history, timer["seconds"]


def _read_epoch_log(path: Path) -> dict[str, list[float]]:
    """Per-epoch metrics from the CSV log, the last entry winning if an epoch was repeated."""
    by_epoch: dict[int, dict[str, str]] = {}
    with open(path, newline="") as stream:
        for row in csv.DictReader(stream):
            by_epoch[int(row.pop("epoch"))] = row
    names = next(iter(by_epoch.values())).keys() if by_epoch else []
    # Keras writes "NA" in the val_* columns of runs without validation data
    return {name: [float(by_epoch[e][name]) for e in sorted(by_epoch)] for name in names
            if any(by_epoch[e][name] != "NA" for e in by_epoch)}
