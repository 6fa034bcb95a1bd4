"""Callbacks shared by the four seed-000 models: macro-F1 on validation data, and the standard set.

:class:`MacroF1Callback` is the custom metric of the assignment: at the end of every epoch it
predicts the validation data, computes macro-averaged F1 with scikit-learn (the unweighted mean of
the per-class F1 scores, so a minority class counts as much as the majority), prints it and
writes it into the epoch's ``logs`` as ``val_macro_f1`` (so later callbacks such as
``EarlyStopping``, ``TensorBoard`` and the returned ``History`` see it).

:func:`standard_callbacks` is the list every training run here uses: macro-F1, early stopping
that restores the best weights, and TensorBoard logs in the run's work folder.

Example:

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
>>> model.compile("adam", "sparse_categorical_crossentropy")
>>> x, y = np.eye(2, dtype="float32"), np.array([0, 1])
>>> f1 = MacroF1Callback((x, y), verbose=0)
>>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[f1])
>>> len(f1.values)
2
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn.metrics import f1_score

from a2common.keras_training import tensorboard_callback


def predicted_classes(probabilities: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class indices from model outputs: ``p > threshold`` for one sigmoid unit, else argmax.

    Example:

    >>> predicted_classes(np.array([[0.2], [0.7]])).tolist(), predicted_classes(np.eye(3)).tolist()
    ([0, 1], [0, 1, 2])
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 1 or probabilities.shape[-1] == 1:
        return (probabilities.reshape(-1) > threshold).astype(np.int64)
    return probabilities.argmax(axis=-1).astype(np.int64)


class MacroF1Callback(keras.callbacks.Callback):
    """Compute, print and log the macro-averaged F1 score on validation data each epoch.

    Args:
        validation_data: ``(x, y)`` with integer labels ``y``; ``x`` is anything
            ``model.predict`` takes (an array, a dict of arrays, or a ``tf.data.Dataset`` of
            inputs only, in the same order as ``y``).
        output: for a model with several named outputs, the one to score (e.g. ``"colour"``).
        threshold: decision threshold of a single sigmoid unit.
        name: key written into ``logs`` (``val_macro_f1``, or ``val_<output>_macro_f1``).
        verbose: 1 prints one line per epoch.

    Attributes:
        values: the score of every epoch seen so far.
    """

    def __init__(
        self,
        validation_data: tuple[Any, Any],
        output: str | None = None,
        threshold: float = 0.5,
        name: str | None = None,
        verbose: int = 1,
    ):
        super().__init__()
        inputs, labels = validation_data
        self.inputs = inputs
        self.labels = np.asarray(labels).reshape(-1).astype(np.int64)
        self.output = output
        self.threshold = threshold
        self.name = name or ("val_macro_f1" if output is None else f"val_{output}_macro_f1")
        self.verbose = verbose
        self.values: list[float] = []

    def score(self) -> float:
        """Macro-F1 of the current model on the validation data."""
        outputs = self.model.predict(self.inputs, verbose=0)
        if isinstance(outputs, dict):
            if self.output is None:
                raise ValueError(
                    f"Expected output= naming one of the model's outputs. "
                    f"Received: output=None for outputs {sorted(outputs)}"
                )
            outputs = outputs[self.output]
        predictions = predicted_classes(outputs, self.threshold)
        if len(predictions) != len(self.labels):
            raise ValueError(
                f"Expected one prediction per validation label. Received "
                f"{len(predictions)} predictions and {len(self.labels)} labels"
            )
        return float(f1_score(self.labels, predictions, average="macro", zero_division=0))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = self.score()
        self.values.append(value)
        if logs is not None:
            logs[self.name] = value
        if self.verbose:
            print(f"epoch {epoch + 1}: {self.name} = {value:.4f}")


def standard_callbacks(
    work_dir: Path,
    f1_callback: MacroF1Callback | None = None,
    *,
    patience: int = 10,
    monitor: str = "val_loss",
) -> list:
    """``[macro-F1, EarlyStopping(restore_best_weights), TensorBoard]`` for one training run.

    The macro-F1 callback comes first so the others see ``val_macro_f1`` in the logs.
    TensorBoard writes to ``work_dir / "tensorboard"``: ``tensorboard --logdir <work_dir>``.
    """
    callbacks: list = [] if f1_callback is None else [f1_callback]
    callbacks.append(
        keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True)
    )
    callbacks.append(tensorboard_callback(Path(work_dir) / "tensorboard"))
    return callbacks
