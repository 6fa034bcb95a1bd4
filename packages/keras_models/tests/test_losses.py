import keras
import numpy as np
import pytest

from keras_models.losses import SmoothedCategoricalCrossentropy


def _random_batch(seed, batch=64, classes=10):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=(batch, classes)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    one_hot = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, batch)]
    return one_hot, logits, probabilities.astype(np.float32)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.15, 0.2])
def test_equals_keras_label_smoothing_on_probabilities(alpha):
    one_hot, _, probabilities = _random_batch(seed=1)
    ours = SmoothedCategoricalCrossentropy(alpha=alpha)(one_hot, probabilities)
    keras_loss = keras.losses.CategoricalCrossentropy(label_smoothing=alpha)
    reference = keras_loss(one_hot, probabilities)
    np.testing.assert_allclose(float(ours), float(reference), rtol=1e-6)


@pytest.mark.parametrize("alpha", [0.1, 0.2])
def test_equals_keras_label_smoothing_on_logits_and_per_example(alpha):
    one_hot, logits, _ = _random_batch(seed=2)
    ours = SmoothedCategoricalCrossentropy(alpha=alpha, from_logits=True, reduction=None)
    reference = keras.losses.CategoricalCrossentropy(
        label_smoothing=alpha, from_logits=True, reduction=None
    )
    np.testing.assert_allclose(
        np.asarray(ours(one_hot, logits)), np.asarray(reference(one_hot, logits)), rtol=1e-5
    )


def test_value_by_hand():
    # Two classes, alpha 0.1: target (0.05, 0.95).
    loss = SmoothedCategoricalCrossentropy(alpha=0.1)
    expected = -(0.05 * np.log(0.05) + 0.95 * np.log(0.95))
    value = loss(np.array([[0.0, 1.0]], np.float32), np.array([[0.05, 0.95]], np.float32))
    np.testing.assert_allclose(float(value), expected, rtol=1e-6)


def test_same_gradients_as_keras_in_training():
    one_hot, _, _ = _random_batch(seed=3, batch=32)
    inputs = np.random.default_rng(4).normal(size=(32, 8)).astype(np.float32)
    weights = []
    for loss in (
        SmoothedCategoricalCrossentropy(alpha=0.15),
        keras.losses.CategoricalCrossentropy(label_smoothing=0.15),
    ):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
        model.fit(inputs, one_hot, epochs=3, batch_size=32, verbose=0, shuffle=False)
        weights.append(model.get_weights()[0])
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-5, atol=1e-6)


def test_serializable_and_saved_with_a_model(tmp_path):
    loss = SmoothedCategoricalCrossentropy(alpha=0.2)
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, SmoothedCategoricalCrossentropy) and restored.alpha == 0.2
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss=loss)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.loss, SmoothedCategoricalCrossentropy)
    assert loaded.loss.alpha == 0.2


@pytest.mark.parametrize("alpha", [-0.1, 1.0])
def test_bad_alpha_raises(alpha):
    with pytest.raises(ValueError, match="0 <= alpha < 1"):
        SmoothedCategoricalCrossentropy(alpha=alpha)
