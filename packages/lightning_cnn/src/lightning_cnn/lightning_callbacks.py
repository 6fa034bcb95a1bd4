"""A Lightning callback that keeps a Keras-style history and the total training time.

It is *stateful* (``state_dict``/``load_state_dict``), so its numbers travel inside every
checkpoint: a run resumed with ``ckpt_path="last"`` continues the same history and adds to the
same clock instead of starting again from zero.

Example (two epochs of a small CNN on six random images):

>>> import torch
>>> from torch.utils.data import DataLoader, TensorDataset
>>> from lightning_cnn.config import CNNConfig
>>> from lightning_cnn.lightning_model import Animals3Classifier
>>> loader = DataLoader(TensorDataset(torch.rand(6, 3, 16, 16), torch.arange(6) % 3), batch_size=3)
>>> history = TrainingHistory()
>>> trainer = L.Trainer(
...     max_epochs=2,
...     callbacks=[history],
...     accelerator="cpu",
...     logger=False,
...     enable_checkpointing=False,
...     enable_progress_bar=False,
...     enable_model_summary=False,
... )
>>> trainer.fit(Animals3Classifier(CNNConfig(channels=(4,))), loader, loader)
>>> sorted(history.history), len(history.history["val_acc"]), history.train_seconds > 0
(['acc', 'epoch_seconds', 'loss', 'val_acc', 'val_loss'], 2, True)
>>> history.state_dict()["history"] is history.history  # saved in every checkpoint
True
"""

from __future__ import annotations

import time
from typing import Any

import lightning as L

from a2common.progress import report_epoch

# Lightning metric name -> Keras history name (so both frameworks' curves line up).
HISTORY_KEYS = {
    "train_loss": "loss",
    "train_acc": "acc",
    "val_loss": "val_loss",
    "val_acc": "val_acc",
}


class TrainingHistory(L.Callback):
    """Collects per-epoch ``loss``, ``acc``, ``val_loss``, ``val_acc``, ``epoch_seconds``.

    Args:
        verbose: print one line of metrics per epoch (for logs without a progress bar).

    Attributes:
        history: metric name -> list of per-epoch values.
        train_seconds: wall time of all training epochs so far (validation included).
        train_cpu_seconds: CPU time of this process over the same epochs (all threads); on a
            shared machine it shows the cost of training independently of the other load.
    """

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose
        self.history: dict[str, list[float]] = {}
        self.train_seconds = 0.0
        self.train_cpu_seconds = 0.0
        self._epoch_start: float | None = None
        self._epoch_cpu_start = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start = time.perf_counter()
        self._epoch_cpu_start = time.process_time()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Runs after the epoch's validation loop, so val_* of this epoch are available.
        if trainer.sanity_checking or self._epoch_start is None:
            return
        seconds = time.perf_counter() - self._epoch_start
        self.train_seconds += seconds
        self.train_cpu_seconds += time.process_time() - self._epoch_cpu_start
        metrics = trainer.callback_metrics
        for source, target in HISTORY_KEYS.items():
            if source in metrics:
                self.history.setdefault(target, []).append(float(metrics[source]))
        self.history.setdefault("epoch_seconds", []).append(seconds)
        self._epoch_start = None
        report_epoch(
            trainer.current_epoch + 1,
            trainer.max_epochs or 0,
            {name: values[-1] for name, values in self.history.items()},
        )
        if self.verbose:  # one line per epoch, like Keras' verbose=2
            values = " - ".join(
                f"{name}: {values[-1]:.4f}"
                for name, values in self.history.items()
                if name != "epoch_seconds"
            )
            print(
                f"Epoch {trainer.current_epoch + 1}/{trainer.max_epochs} - {seconds:.0f}s - "
                f"{values}",
                flush=True,
            )

    def state_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "train_seconds": self.train_seconds,
            "train_cpu_seconds": self.train_cpu_seconds,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = {k: list(v) for k, v in state_dict["history"].items()}
        self.train_seconds = float(state_dict["train_seconds"])
        self.train_cpu_seconds = float(state_dict.get("train_cpu_seconds", 0.0))
