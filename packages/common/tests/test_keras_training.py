"""fit_or_load resumes an interrupted run and reuses a finished one."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from a2common.grading import is_finished  # noqa: E402
from a2common.keras_training import fit_or_load  # noqa: E402


class Interrupt(keras.callbacks.Callback):
    """Simulates a killed run: raises at the end of a given epoch."""

    def __init__(self, at_epoch: int) -> None:
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt("simulated interruption")


class EpochLog(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[int] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def build():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_interrupted_fit_resumes_and_finished_fit_is_loaded(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    with pytest.raises(KeyboardInterrupt):
        fit_or_load(build, tmp_path, x, y, epochs=4, callbacks=[Interrupt(at_epoch=1)],
                    verbose=0)
    assert not is_finished(tmp_path)

    resumed = EpochLog()
    model, history, seconds = fit_or_load(build, tmp_path, x, y, epochs=4, callbacks=[resumed],
                                          verbose=0)
    # epoch 0 was restored; epoch 1 stopped before its backup, so it is redone
    assert resumed.epochs == [1, 2, 3]
    assert is_finished(tmp_path) and seconds > 0
    assert len(history["loss"]) == 4 and len(history["accuracy"]) == 4  # all epochs, not 2

    loaded, loaded_history, loaded_seconds = fit_or_load(build, tmp_path, x, y, epochs=4)
    assert loaded_history == history and loaded_seconds == pytest.approx(seconds)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


class AddsALog(keras.callbacks.Callback):
    """Adds a metric to the epoch's logs, as a validation-metric callback does."""

    def on_epoch_end(self, epoch, logs=None):
        logs["val_custom"] = 10.0 + epoch


def test_logs_added_by_the_callers_callbacks_reach_the_history(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 1] > 0).astype("int64")
    _, history, _ = fit_or_load(build, tmp_path, x, y, epochs=3, callbacks=[AddsALog()],
                                verbose=0)
    assert history["val_custom"] == [10.0, 11.0, 12.0]
    assert len(history["loss"]) == 3
