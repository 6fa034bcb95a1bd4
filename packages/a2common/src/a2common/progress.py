"""Training progress that the autograder can show live (``epoch 5/18, ETA 12 min``).

A task reports each finished epoch with :func:`report_epoch` (or one of the framework callbacks
below); when the autograder runs the task it sets ``ASSIGNMENT2_PROGRESS_FILE`` and reads the
JSON lines appended there. Outside the autograder the calls do nothing.

Example:

>>> import os, tempfile
>>> os.environ[PROGRESS_ENV] = path = os.path.join(tempfile.mkdtemp(), "progress.jsonl")
>>> report_epoch(1, 3, {"loss": 0.5})
>>> read_progress(path)[-1]["epoch"]
1
>>> del os.environ[PROGRESS_ENV]
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROGRESS_ENV = "ASSIGNMENT2_PROGRESS_FILE"


def report_epoch(
    epoch: int, epochs: int, metrics: Mapping[str, Any] | None = None, stage: str = "train"
) -> None:
    """Append ``{"epoch": epoch, "epochs": epochs, ...}`` to the progress file, if one is set.

    Args:
        epoch: epochs finished so far (1-based).
        epochs: epochs planned in total.
        metrics: the epoch's numbers (loss, accuracy, ...); non-finite ones are dropped.
        stage: what is running (``"train"``, ``"search"``, ``"seed 2"``...).
    """
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return
    numbers = {
        key: round(float(value), 5)
        for key, value in (metrics or {}).items()
        if isinstance(value, (int, float)) and math.isfinite(float(value))
    }
    line = json.dumps(
        {
            "time": time.time(),
            "stage": stage,
            "epoch": int(epoch),
            "epochs": int(epochs),
            "metrics": numbers,
        }
    )
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(line + "\n")


def read_progress(path: str | Path) -> list[dict[str, Any]]:
    """Every complete line of a progress file (a half-written last line is skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def keras_callback(epochs: int, stage: str = "train") -> Any:
    """A ``keras.callbacks.Callback`` that reports every epoch (imports Keras lazily).

    Example:

    >>> import tempfile
    >>> import keras
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> os.environ[PROGRESS_ENV] = path = os.path.join(tempfile.mkdtemp(), "progress.jsonl")
    >>> x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[keras_callback(2)])
    >>> [(e["epoch"], e["epochs"], "loss" in e["metrics"]) for e in read_progress(path)]
    [(1, 2, True), (2, 2, True)]
    >>> del os.environ[PROGRESS_ENV]
    """
    import keras

    class _ReportEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            report_epoch(epoch + 1, epochs, logs, stage)

    return _ReportEpochs()


def lightning_callback(stage: str = "train") -> Any:
    """A Lightning ``Callback`` that reports every finished training epoch.

    Example:

    >>> import tempfile
    >>> import lightning as L
    >>> import torch
    >>> class Tiny(L.LightningModule):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.layer = torch.nn.Linear(2, 1)
    ...     def training_step(self, batch, batch_index):
    ...         loss = self.layer(batch[0]).pow(2).mean()
    ...         self.log("loss", loss)
    ...         return loss
    ...     def configure_optimizers(self):
    ...         return torch.optim.SGD(self.parameters(), lr=0.1)
    >>> data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 2)))
    >>> os.environ[PROGRESS_ENV] = path = os.path.join(tempfile.mkdtemp(), "progress.jsonl")
    >>> trainer = L.Trainer(max_epochs=2, callbacks=[lightning_callback()], logger=False,
    ...                     enable_checkpointing=False, enable_progress_bar=False,
    ...                     enable_model_summary=False, accelerator="cpu")
    >>> trainer.fit(Tiny(), data)
    >>> [(e["epoch"], e["epochs"], "loss" in e["metrics"]) for e in read_progress(path)]
    [(1, 2, True), (2, 2, True)]
    >>> del os.environ[PROGRESS_ENV]
    """
    from lightning.pytorch.callbacks import Callback

    class _ReportEpochs(Callback):
        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            metrics = {
                key: float(value)
                for key, value in trainer.callback_metrics.items()
                if getattr(value, "numel", lambda: 1)() == 1
            }
            report_epoch(trainer.current_epoch + 1, trainer.max_epochs or 0, metrics, stage)

    return _ReportEpochs()
