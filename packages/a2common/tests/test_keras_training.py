"""fit_or_load resumes an interrupted run, reuses a finished one, logs to TensorBoard and
records the training time of every session."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from a2common.grading import finished_info, is_finished  # noqa: E402
from a2common.keras_training import (  # noqa: E402
    MODEL_FILE,
    SECONDS_FILE,
    finished_model_exists,
    fit_or_load,
    tensorboard_callback,
)


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
        fit_or_load(build, tmp_path, x, y, epochs=4, callbacks=[Interrupt(at_epoch=1)], verbose=0)
    assert not is_finished(tmp_path)

    resumed = EpochLog()
    model, history, seconds = fit_or_load(
        build, tmp_path, x, y, epochs=4, callbacks=[resumed], verbose=0
    )
    # epoch 0 was restored; epoch 1 stopped before its backup, so it is redone
    assert resumed.epochs == [1, 2, 3]
    assert is_finished(tmp_path) and seconds > 0
    assert len(history["loss"]) == 4 and len(history["accuracy"]) == 4  # all epochs, not 2

    loaded, loaded_history, loaded_seconds = fit_or_load(build, tmp_path, x, y, epochs=4)
    assert loaded_history == history and loaded_seconds == pytest.approx(seconds)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_a_finished_marker_without_its_model_trains_again_and_says_so(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    fit_or_load(build, tmp_path, x, y, epochs=1, verbose=0)
    assert finished_model_exists(tmp_path)
    (tmp_path / MODEL_FILE).unlink()  # a model file lost after training finished
    assert is_finished(tmp_path) and not finished_model_exists(tmp_path)
    epochs = EpochLog()
    fit_or_load(build, tmp_path, x, y, epochs=1, callbacks=[epochs], verbose=0)
    assert epochs.epochs == [0] and finished_model_exists(tmp_path)  # trained, not "loaded"


class AddsALog(keras.callbacks.Callback):
    """Adds a metric to the epoch's logs, as a validation-metric callback does."""

    def on_epoch_end(self, epoch, logs=None):
        logs["val_custom"] = 10.0 + epoch


def test_logs_added_by_the_callers_callbacks_reach_the_history(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 1] > 0).astype("int64")
    _, history, _ = fit_or_load(build, tmp_path, x, y, epochs=3, callbacks=[AddsALog()], verbose=0)
    assert history["val_custom"] == [10.0, 11.0, 12.0]
    assert len(history["loss"]) == 3


def _data(seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64")


def test_every_run_writes_tensorboard_logs_into_the_work_dir(tmp_path):
    x, y = _data()
    fit_or_load(build, tmp_path, x, y, epochs=2, validation_data=(x, y), verbose=0)
    for split in ("train", "validation"):
        assert list((tmp_path / "tensorboard" / split).glob("events.out.tfevents*")), split


def test_a_callers_tensorboard_is_kept_and_not_duplicated(tmp_path, monkeypatch):
    passed = []
    fit = keras.Model.fit

    def spy(model, *args, **kwargs):
        passed.append(kwargs["callbacks"])
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    own = tensorboard_callback(tmp_path / "logs")
    x, y = _data()
    fit_or_load(build, tmp_path / "work", x, y, epochs=1, callbacks=[own], verbose=0)
    boards = [c for c in passed[0] if isinstance(c, keras.callbacks.TensorBoard)]
    assert boards == [own]
    assert list((tmp_path / "logs" / "train").glob("events.out.tfevents*"))
    assert not (tmp_path / "work" / "tensorboard").exists()


class Sleep(keras.callbacks.Callback):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(self.seconds)


def test_a_resumed_run_records_the_time_of_every_session(tmp_path):
    x, y = _data()
    with pytest.raises(KeyboardInterrupt):  # epoch 1 sleeps, then epoch 2 is interrupted
        fit_or_load(
            build,
            tmp_path,
            x,
            y,
            epochs=4,
            verbose=0,
            callbacks=[Sleep(1.0), Interrupt(at_epoch=1)],
        )
    first_session = json.loads((tmp_path / SECONDS_FILE).read_text())
    assert [entry.get("epoch") for entry in first_session] == [1, None]
    assert first_session[1]["after_epoch"] == 1  # the interrupted epoch 2's time, spent too
    assert sum(entry["seconds"] for entry in first_session) >= 2.0

    start = time.perf_counter()
    _, _, seconds = fit_or_load(build, tmp_path, x, y, epochs=4, verbose=0)
    second_session = time.perf_counter() - start
    entries = json.loads((tmp_path / SECONDS_FILE).read_text())
    assert entries[:2] == first_session
    assert [entry.get("epoch") for entry in entries[2:]] == [2, 3, 4, None]  # epoch 2 redone
    # the last session alone (the old record) took less than the first one's sleeps
    assert seconds > second_session and seconds >= 2.0
    assert seconds == pytest.approx(sum(entry["seconds"] for entry in entries))
    assert finished_info(tmp_path)["train_seconds"] == pytest.approx(seconds)
