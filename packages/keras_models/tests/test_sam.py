"""Sharpness-aware minimisation: the SAM step against a hand computation, on tiny models."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from keras_models.residual import build_your_model
from keras_models.sam import SAMModel, validate_rho

LR = 0.1


def _inner(seed: int = 0, batch_norm: bool = False) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,))
    hidden = layers.Dense(4, activation="tanh")(inputs)
    if batch_norm:
        hidden = layers.BatchNormalization(momentum=0.5)(hidden)
    return keras.Model(inputs, layers.Dense(1)(hidden))


def _clone(model: keras.Model) -> keras.Model:
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _regression_batch(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3)[:, None].astype("float32")
    return x, y


def _gradient(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(y - model(x, training=True)))
    gradients = tape.gradient(loss, model.trainable_variables)
    return float(loss), [g.numpy().astype("float64") for g in gradients]


def _hand_sam(model: keras.Model, x: np.ndarray, y: np.ndarray, rho: float) -> dict:
    """The SAM update with SGD(LR), computed step by step on a copy of ``model``."""
    copy = _clone(model)
    w = [v.numpy().astype("float64") for v in copy.trainable_variables]
    loss, g = _gradient(copy, x, y)
    norm = math.sqrt(sum(float((gi**2).sum()) for gi in g))
    e = [rho * gi / (norm + 1e-12) for gi in g]
    for variable, wi, ei in zip(copy.trainable_variables, w, e):
        variable.assign((wi + ei).astype("float32"))
    _, g_sam = _gradient(copy, x, y)
    return {
        "loss": loss,
        "w": w,
        "e": e,
        "sam": [wi - LR * gi for wi, gi in zip(w, g_sam)],
        "sgd": [wi - LR * gi for wi, gi in zip(w, g)],
        "left_perturbed": [wi + ei - LR * gi for wi, ei, gi in zip(w, e, g_sam)],
    }


def _sam(inner: keras.Model, rho: float, optimizer: keras.optimizers.Optimizer) -> SAMModel:
    model = SAMModel(inner, rho=rho)
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return model


def _max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(ai - bi).max()) for ai, bi in zip(a, b))


def test_one_step_matches_the_hand_computed_sam_update():
    x, y = _regression_batch()
    inner = _inner()
    expected = _hand_sam(inner, x, y, rho=0.2)
    model = _sam(inner, 0.2, keras.optimizers.SGD(learning_rate=LR))
    logs = model.train_on_batch(x, y, return_dict=True)
    weights = [v.numpy() for v in model.trainable_variables]
    np.testing.assert_allclose(_max_diff(weights, expected["sam"]), 0.0, atol=1e-6)
    # the reported loss and metrics are those at the unperturbed weights w
    assert logs["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    assert set(logs) == {"loss", "mae"}
    # the perturbation is a step of length rho along the gradient
    assert math.sqrt(sum(float((ei**2).sum()) for ei in expected["e"])) == pytest.approx(0.2)


def test_weights_are_restored_before_the_update():
    x, y = _regression_batch()
    inner = _inner(seed=1)
    expected = _hand_sam(inner, x, y, rho=0.5)
    model = _sam(inner, 0.5, keras.optimizers.SGD(learning_rate=LR))
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)  # one step
    weights = [v.numpy() for v in inner.trainable_variables]  # the wrapped model's variables
    assert _max_diff(weights, expected["sam"]) < 1e-6  # w - lr * g(w + e)
    assert _max_diff(weights, expected["left_perturbed"]) > 0.1  # not w + e - lr * g(w + e)
    assert _max_diff(weights, expected["sgd"]) > 1e-3  # and not the plain SGD step either


@pytest.mark.parametrize("rho", [0.0, -0.05, float("nan"), float("inf"), "0.05", True, None])
def test_rho_is_validated(rho):
    with pytest.raises(ValueError, match="rho"):
        SAMModel(_inner(), rho=rho)
    with pytest.raises(ValueError, match="rho"):
        validate_rho(rho)


def test_epsilon_and_model_are_validated():
    with pytest.raises(ValueError, match="epsilon"):
        SAMModel(_inner(), epsilon=-1.0)
    with pytest.raises(ValueError, match="keras.Model"):
        SAMModel(layers.Dense(2))  # type: ignore[arg-type]


def test_sam_with_adam_learns_a_separable_problem():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = np.arange(64) % 2
    x = (rng.normal(size=(64, 2)) + 2.5 * (2 * labels[:, None] - 1)).astype("float32")
    inputs = keras.Input((2,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    inner = keras.Model(inputs, layers.Dense(2, activation="softmax")(hidden))
    model = SAMModel(inner, rho=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, labels, batch_size=16, epochs=6, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] >= 0.95


def test_a_tiny_rho_gives_the_plain_optimizer_update():
    x, y = _regression_batch()
    plain = _inner(seed=2)
    sam_inner, big_inner = _clone(plain), _clone(plain)
    plain.compile(optimizer=keras.optimizers.SGD(learning_rate=LR), loss="mse")
    plain.train_on_batch(x, y)
    sam = _sam(sam_inner, 1e-7, keras.optimizers.SGD(learning_rate=LR))
    sam.train_on_batch(x, y)
    big = _sam(big_inner, 0.5, keras.optimizers.SGD(learning_rate=LR))
    big.train_on_batch(x, y)
    plain_weights = plain.get_weights()
    assert _max_diff(sam.get_weights(), plain_weights) < 1e-6
    assert _max_diff(big.get_weights(), plain_weights) > 1e-3  # a real rho does differ


def test_batch_norm_statistics_keep_only_the_unperturbed_pass():
    x, y = _regression_batch()
    inner = _inner(seed=3, batch_norm=True)
    reference = _clone(inner)
    reference(x, training=True)  # one update of the moving statistics, at w
    expected = _hand_sam(inner, x, y, rho=0.5)  # on a copy: also normalises with batch stats
    model = _sam(inner, 0.5, keras.optimizers.SGD(learning_rate=LR))
    model.train_on_batch(x, y)
    batch_norm = inner.layers[2]
    assert isinstance(batch_norm, layers.BatchNormalization)
    for name in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(
            getattr(batch_norm, name).numpy(),
            getattr(reference.layers[2], name).numpy(),
            rtol=1e-6,
            atol=1e-7,
        )
    weights = [v.numpy() for v in model.trainable_variables]
    assert _max_diff(weights, expected["sam"]) < 1e-5


def test_wraps_the_residual_builder_and_round_trips_through_keras_saving(tmp_path):
    keras.utils.set_random_seed(0)
    inner = build_your_model((8, 8, 3), 3, num_blocks=1, feature_maps=2)
    model = SAMModel(inner, rho=0.1, name="sam_your_model")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((6, 8, 8, 3)).astype("float32")
    labels = np.arange(6) % 3
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, labels, batch_size=3, epochs=1, verbose=0).history
    assert set(history) == {"loss", "accuracy"} and np.isfinite(history["loss"][0])
    assert _max_diff(model.get_weights(), before) > 0.0
    path = tmp_path / "sam.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, SAMModel) and loaded.rho == 0.1 and loaded.name == "sam_your_model"
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-7)
