"""Sequential: real learning end to end, fit/evaluate/predict, callbacks, checkpoints, resume."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from autograd import Sequential, callbacks, layers, load_model, losses, optimizers
from autograd.model import load_npz
from autograd.preprocessing import OneHotEncoder


@pytest.fixture(scope="module")
def digits():
    """sklearn's 8x8 digits (1797 real images), scaled to [0, 1], split 1500 / 297."""
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)
    encoder = OneHotEncoder()
    y = encoder(data.target)
    return x[:1500], y[:1500], x[1500:], y[1500:]


def mlp(seed: int = 0, dropout: float = 0.0) -> Sequential:
    return Sequential(
        [
            layers.Input((8, 8)),
            layers.Flatten(),
            layers.Dense(64, activation="relu", kernel_initializer="kaiming", seed=seed),
            layers.Dropout(dropout, seed=seed),
            layers.Dense(10, seed=seed + 1),
        ]
    )


def compiled_mlp(seed: int = 0, dropout: float = 0.0, lr: float = 3e-3) -> Sequential:
    model = mlp(seed, dropout)
    model.compile(
        optimizers.Adam(lr), losses.CategoricalCrossentropy(from_logits=True), ["accuracy"]
    )
    return model


# ========================================================================= real learning
def test_mlp_learns_real_digits(digits):
    x, y, x_test, y_test = digits
    model = compiled_mlp()
    untrained = model.evaluate(x_test, y_test, return_dict=True)
    history = model.fit(
        x, y, epochs=8, batch_size=32, seed=0, verbose=0, validation_data=(x_test, y_test)
    )
    trained = model.evaluate(x_test, y_test, return_dict=True)
    assert untrained["accuracy"] < 0.3
    assert trained["accuracy"] > 0.9
    assert history.history["loss"][-1] < history.history["loss"][0] / 4
    assert trained["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])


def test_cnn_with_batch_norm_and_residual_learns_real_digits(digits):
    x, y, x_test, y_test = digits
    model = Sequential(
        [
            layers.Input((8, 8)),
            layers.Reshape((8, 8, 1)),
            layers.Conv2D(16, 3, padding="same", seed=0),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
            layers.Residual([layers.Conv2D(16, 3, padding="same", activation="relu", seed=1)]),
            layers.MaxPool2D(2),
            layers.Flatten(),
            layers.Dense(10, seed=2),
        ]
    )
    model.compile(
        optimizers.AdamW(3e-3), losses.CategoricalCrossentropy(from_logits=True), ["accuracy"]
    )
    model.fit(x, y, epochs=6, batch_size=32, seed=0, verbose=0)
    assert model.evaluate(x_test, y_test, return_dict=True)["accuracy"] > 0.9


# ================================================================== fit / evaluate / predict
def test_fit_evaluate_predict_api(digits, capsys):
    x, y, x_test, y_test = digits
    model = compiled_mlp()
    history = model.fit(
        x[:256], y[:256], epochs=2, batch_size=64, validation_split=0.25, seed=1, verbose=1
    )
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1] and model.optimizer.iterations == 2 * 3
    printed = capsys.readouterr().out
    assert "Epoch 2/2" in printed and "[========================]" in printed
    loss, accuracy = model.evaluate(x_test, y_test)
    assert 0 <= accuracy <= 1 and loss > 0
    probabilities = model.predict(x_test[:5])
    assert probabilities.shape == (5, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(model(x_test[:5]).numpy(), probabilities, rtol=1e-6)
    one_line = compiled_mlp()
    one_line.fit(x[:64], y[:64], epochs=1, verbose=2)
    assert capsys.readouterr().out.startswith("Epoch 1/1 - ")


def test_batch_step_returns_batch_values_and_updates_weights(digits):
    x, y, _, _ = digits
    model = compiled_mlp()
    model(x[:1])
    before = model.get_weights()
    logs = model.batch_step(x[:32], y[:32])
    assert set(logs) == {"loss", "accuracy"} and logs["loss"] > 0
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    frozen = model.get_weights()
    model.batch_step(x[:32], y[:32], training=False)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, model.get_weights()))


def test_shuffling_is_seeded(digits):
    x, y, _, _ = digits
    runs = []
    for seed in (5, 5, 6):
        model = compiled_mlp()
        model.fit(x[:200], y[:200], epochs=1, batch_size=16, seed=seed, verbose=0)
        runs.append(model.get_weights()[0])
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_sparse_labels_and_summary(digits, capsys):
    x, _, _, _ = digits
    labels = load_digits().target[:1500]
    model = mlp()
    model.compile("adam", losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"])
    model.fit(x, labels, epochs=1, verbose=0, seed=0)
    assert model.evaluate(x, labels, return_dict=True)["accuracy"] > 0.5
    model.summary()
    out = capsys.readouterr().out
    assert "Total params: 4,810" in out and "dense" in out


# ==================================================================================== errors
def test_clear_errors_for_bad_input(digits):
    x, y, _, _ = digits
    model = compiled_mlp()
    with pytest.raises(
        ValueError,
        match=r"Expected x and y to have the same number of "
        r"examples. Received: x.shape=\(10, 8, 8\), "
        r"y.shape=\(9, 10\)",
    ):
        model.fit(x[:10], y[:9])
    with pytest.raises(
        ValueError,
        match=r"Expected x of shape \(batch, 8, 8\) to match the "
        r"model input. Received: x.shape=\(10, 64\)",
    ):
        model.fit(x[:10].reshape(10, 64), y[:10])
    bad = x[:10].copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(
        ValueError, match="Expected finite values in x. Received: x contains 1 NaN or inf values"
    ):
        model.fit(bad, y[:10])
    with pytest.raises(
        ValueError,
        match=r"Expected y of shape \(n, 10\) to match the model "
        r"output. Received: y.shape=\(10,\). Encode integer "
        r"labels with autograd.preprocessing.OneHotEncoder",
    ):
        model.fit(x[:10], np.arange(10))
    with pytest.raises(ValueError, match="Expected numeric x.*Received: x.dtype=<U1"):
        model.predict(np.full((2, 8, 8), "a"))
    with pytest.raises(ValueError, match="Expected a positive integer batch_size"):
        model.fit(x[:10], y[:10], batch_size=0)
    with pytest.raises(ValueError, match="Unknown loss.*Did you mean 'mse'"):
        model.compile("adam", "msee")
    with pytest.raises(ValueError, match="Unknown optimizer.*Received: optimizer='sgdd'"):
        model.compile("sgdd", "mse")
    with pytest.raises(RuntimeError, match="compile"):
        mlp().fit(x[:10], y[:10])
    with pytest.raises(TypeError, match="Expected a Layer instance. Received: str"):
        Sequential(["dense"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_reported(digits):
    x, y, _, _ = digits
    model = mlp()
    model.compile(optimizers.SGD(1e30), "mse")
    with pytest.raises(ValueError, match="Expected finite"):
        model.fit(x[:64] * 1e3, y[:64], epochs=3, verbose=0)


# ============================================================================== callbacks
def test_early_stopping_restores_best_weights(digits):
    x, y, x_val, y_val = digits

    class Spy(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.snapshots = []

        def on_epoch_end(self, epoch, logs=None):
            self.snapshots.append((logs["val_loss"], self.model.get_weights()))

    spy = Spy()
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    model = compiled_mlp(lr=0.5)  # far too large: validation loss soon gets worse
    history = model.fit(
        x,
        y,
        epochs=30,
        batch_size=64,
        validation_data=(x_val, y_val),
        callbacks=[spy, stopper],
        verbose=0,
        seed=0,
    )
    assert len(history.epoch) < 30 and model.stop_training
    best_loss, best_weights = min(spy.snapshots, key=lambda item: item[0])
    assert stopper.best == best_loss
    for restored, expected in zip(model.get_weights(), best_weights):
        np.testing.assert_array_equal(restored, expected)


def test_model_checkpoint_and_load_weights(digits, tmp_path):
    x, y, x_val, y_val = digits
    path = tmp_path / "best.npz"
    model = compiled_mlp()
    model.fit(
        x[:300],
        y[:300],
        epochs=3,
        validation_data=(x_val, y_val),
        verbose=0,
        seed=0,
        callbacks=[callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True)],
    )
    assert path.is_file()
    with np.load(path, allow_pickle=False) as archive:  # plain arrays, no pickle
        assert "variable/0" in archive.files
    fresh = mlp(seed=42)
    fresh.load_weights(path)
    assert fresh.get_weights()[0].shape == (64, 64)
    wrong = Sequential(
        [
            layers.Input((8, 8)),
            layers.Flatten(),
            layers.Dense(32),
            layers.Dropout(0.1),
            layers.Dense(10),
        ]
    )
    with pytest.raises(
        ValueError,
        match=r"Expected shape \(64, 32\) for variable .*kernel.*"
        r"Received: shape \(64, 64\)",
    ):
        wrong.load_weights(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fresh.load_weights(tmp_path / "missing.npz")


def test_save_and_load_model_round_trip(digits, tmp_path):
    x, y, _, _ = digits
    model = compiled_mlp(dropout=0.2)
    model.fit(x[:200], y[:200], epochs=1, verbose=0, seed=0)
    model.save(tmp_path / "model.npz")
    restored = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(model.predict(x[:20]), restored.predict(x[:20]))
    assert restored.optimizer.iterations == model.optimizer.iterations
    assert isinstance(restored.loss, losses.CategoricalCrossentropy) and restored.loss.from_logits
    model.fit(x[:200], y[:200], epochs=1, verbose=0, seed=9)
    restored.fit(x[:200], y[:200], epochs=1, verbose=0, seed=9)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)


class Interrupt(Exception):
    pass


class InterruptAt(callbacks.Callback):
    """Simulates a crash in the middle of an epoch."""

    def __init__(self, epoch: int, batch: int):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.current, batch) == (self.epoch, self.batch):
            raise Interrupt()


def test_interrupted_fit_resumes_from_backup_exactly(digits, tmp_path):
    x, y, x_val, y_val = digits
    x, y = x[:400], y[:400]
    fit_args = dict(epochs=4, batch_size=32, seed=11, verbose=0, validation_data=(x_val, y_val))

    reference = compiled_mlp(dropout=0.3)
    reference_history = reference.fit(
        x, y, **fit_args, callbacks=[callbacks.EarlyStopping(patience=10)]
    )

    backup = tmp_path / "backup.npz"
    crashed = compiled_mlp(dropout=0.3)
    with pytest.raises(Interrupt):
        crashed.fit(
            x,
            y,
            **fit_args,
            callbacks=[
                callbacks.BackupAndRestore(backup),
                callbacks.EarlyStopping(patience=10),
                InterruptAt(epoch=2, batch=5),
            ],
        )
    assert backup.is_file()
    assert load_npz(backup)["training_meta"].dtype.kind == "U"

    resumed = compiled_mlp(seed=99, dropout=0.3)  # a new process: different initial weights
    restore = callbacks.BackupAndRestore(backup)
    history = resumed.fit(
        x, y, **fit_args, callbacks=[restore, callbacks.EarlyStopping(patience=10)]
    )
    assert restore.resumed_from_epoch == 2
    assert history.epoch == [0, 1, 2, 3]
    for name, values in reference_history.history.items():
        assert history.history[name] == pytest.approx(values, rel=1e-12), name
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not backup.exists()  # a completed fit removes its backup


def test_cnn_with_residual_and_batch_norm_survives_save_and_load(tmp_path, digits):
    x, y, _, _ = digits
    model = Sequential(
        [
            layers.Input((8, 8)),
            layers.Reshape((8, 8, 1)),
            layers.Conv2D(4, 3, padding="same", seed=0),
            layers.BatchNormalization(),
            layers.Residual(
                [layers.Conv2D(4, 3, padding="same", activation="relu", seed=1)],
                shortcut=layers.Conv2D(4, 1, seed=2),
                activation="relu",
            ),
            layers.MaxPool2D(2),
            layers.Flatten(),
            layers.Dropout(0.2, seed=3),
            layers.Dense(10),
        ]
    )
    model.compile(
        optimizers.SGD(0.05, momentum=0.9),
        losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        ["accuracy"],
    )
    model.fit(x[:128], y[:128], epochs=1, batch_size=32, verbose=0, seed=0)
    model.save(tmp_path / "cnn.npz")
    restored = load_model(tmp_path / "cnn.npz")
    np.testing.assert_array_equal(model.predict(x[:16]), restored.predict(x[:16]))
    assert restored.loss.label_smoothing == 0.1
    assert restored.optimizer.momentum == 0.9
    moving = [w for w in restored.non_trainable_variables if "moving_mean" in w.name]
    assert moving and np.abs(moving[0].numpy()).sum() > 0


def test_binary_classification_uses_binary_accuracy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, :1] + x[:, 1:] > 0).astype(np.float32)
    model = Sequential([layers.Input((2,)), layers.Dense(1, seed=0)])
    model.compile(optimizers.Adam(0.05), losses.BinaryCrossentropy(from_logits=True), ["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=20, verbose=0, seed=0)
    assert history.history["accuracy"][-1] > 0.9


# ============================================================ optimizer state in save / load
def twin_dense_model(seed: int = 0) -> Sequential:
    """Two layers whose variables have equal shapes, so swapped optimizer slots would fit."""
    return Sequential(
        [
            layers.Input((4,)),
            layers.Dense(4, activation="tanh", seed=seed),
            layers.Dense(4, seed=seed + 1),
        ]
    )


def regression_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    return x, np.tanh(x @ rng.normal(size=(4, 4))).astype(np.float32)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: optimizers.Adam(1e-2),
        lambda: optimizers.SGD(0.05, momentum=0.9),
        lambda: optimizers.RMSprop(1e-2, momentum=0.5, centered=True),
    ],
)
def test_load_model_saved_before_training(tmp_path, make_optimizer):
    x, y = regression_data()
    model = twin_dense_model()
    model.compile(make_optimizer(), "mse")
    model.save(tmp_path / "untrained.npz")
    restored = load_model(tmp_path / "untrained.npz")
    for trained in (model, restored):
        trained.fit(x, y, epochs=2, batch_size=16, seed=3, verbose=0)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_optimizer_slots_follow_variables_through_freeze_unfreeze_save_load(tmp_path):
    x, y = regression_data()
    model = twin_dense_model()
    model.compile(optimizers.Adam(1e-2), "mse")
    first = model.layers[-2]
    first.trainable = False  # the second layer's variables are the optimizer's first ones
    model.fit(x, y, epochs=1, batch_size=16, seed=0, verbose=0)
    first.trainable = True
    model.fit(x, y, epochs=1, batch_size=16, seed=1, verbose=0)
    model.save(tmp_path / "model.npz")
    restored = load_model(tmp_path / "model.npz")
    for trained in (model, restored):
        trained.fit(x, y, epochs=1, batch_size=16, seed=2, verbose=0)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_optimizer_state_is_keyed_by_variable_name():
    x, y = regression_data()
    model = twin_dense_model()
    model.compile(optimizers.Adam(1e-2), "mse")
    model.layers[-2].trainable = False
    model.fit(x[:16], y[:16], epochs=1, batch_size=16, seed=0, verbose=0)
    state = model.optimizer.get_state()
    names = [w.name for w in model.layers[-1].weights]
    assert sorted(k for k in state if k != "iterations") == sorted(
        f"slot/{name}/{slot}" for name in names for slot in ("m", "v")
    )


# ======================================================= labels, batch sizes, corrupt files
def test_binary_labels_of_shape_n_fit_like_n_by_1():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2)).astype(np.float32)
    labels = (x[:, 0] + x[:, 1] > 0).astype(np.float32)
    runs = []
    for y in (labels, labels[:, None]):
        model = Sequential([layers.Input((2,)), layers.Dense(1, seed=0)])
        model.compile(
            optimizers.Adam(0.05), losses.BinaryCrossentropy(from_logits=True), ["accuracy", "mae"]
        )
        history = model.fit(x, y, epochs=10, batch_size=20, verbose=0, seed=0)
        runs.append((history.history, model.evaluate(x, y, return_dict=True)))
    assert runs[0] == runs[1]
    assert runs[0][1]["accuracy"] > 0.9 and "mae" in runs[0][0]


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, "32", True, None])
def test_bad_batch_size_is_a_clear_error_everywhere(digits, batch_size):
    x, y, _, _ = digits
    model = compiled_mlp()
    message = f"Expected a positive integer batch_size. Received: batch_size={batch_size!r}"
    for call in (
        lambda: model.fit(x[:10], y[:10], batch_size=batch_size, verbose=0),
        lambda: model.evaluate(x[:10], y[:10], batch_size=batch_size),
        lambda: model.predict(x[:10], batch_size=batch_size),
    ):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            call()


def test_corrupt_or_truncated_files_are_clear_errors_naming_the_file(digits, tmp_path):
    x, y, _, _ = digits
    model = compiled_mlp()
    model.fit(x[:64], y[:64], epochs=1, verbose=0, seed=0)
    model.save(tmp_path / "model.npz")
    model.save_weights(tmp_path / "weights.npz")
    data = (tmp_path / "model.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 3 : len(data) // 3 + 64] = bytes(64)  # zeroed bytes inside an array
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    (tmp_path / "text.npz").write_text("not a checkpoint")
    for name in ("truncated.npz", "flipped.npz", "text.npz"):
        path = tmp_path / name
        with pytest.raises(ValueError, match=f"Expected a readable .npz file.*{name}"):
            load_model(path)
        with pytest.raises(ValueError, match=f"Expected a readable .npz file.*{name}"):
            model.load_weights(path)
