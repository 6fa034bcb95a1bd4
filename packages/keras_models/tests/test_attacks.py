"""Attacks on a tiny trained model: inside the ε-ball and the pixel range, and they hurt."""

import gc
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_models import attacks
from keras_models.attacks import EPSILON, attack_dataset, fgsm, loss_gradient, mim, pgd


def _loss(model, images, labels):
    probabilities = model.predict(images, verbose=0)
    return float(np.mean(keras.losses.sparse_categorical_crossentropy(labels, probabilities)))


def _accuracy(model, images, labels):
    return float(np.mean(model.predict(images, verbose=0).argmax(axis=1) == labels))


@pytest.fixture(scope="module")
def tiny():
    """A linear softmax model trained to separate two classes by mean brightness."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 256)
    # class 0 around 0.45, class 1 around 0.55: close enough for ε = 8/255 to matter
    images = np.clip(
        0.45 + 0.1 * labels[:, None, None, None] + rng.normal(0, 0.05, (256, 6, 6, 3)), 0, 1
    ).astype(np.float32)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    model.fit(images, labels, epochs=30, batch_size=64, verbose=0)
    return model, images, labels


@pytest.mark.parametrize("attack", [fgsm, pgd, mim])
def test_attack_stays_in_ball_and_pixel_range_and_raises_loss(tiny, attack):
    model, images, labels = tiny
    adversarial = attack(model, images, labels)
    assert adversarial.shape == images.shape and adversarial.dtype == np.float32
    assert np.abs(adversarial - images).max() <= EPSILON + 1e-6
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0
    assert _loss(model, adversarial, labels) > _loss(model, images, labels) + 0.1


def test_pixel_range_holds_at_the_borders(tiny):
    model, _, labels = tiny
    saturated = np.zeros((len(labels), 6, 6, 3), np.float32)
    saturated[labels == 1] = 1.0
    adversarial = pgd(model, saturated, labels, steps=3, step_size=0.02)
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0


def test_every_attack_lowers_accuracy(tiny):
    model, images, labels = tiny
    clean = _accuracy(model, images, labels)
    assert clean > 0.9
    for attack in (fgsm, pgd, mim):
        assert _accuracy(model, attack(model, images, labels), labels) < clean - 0.2


def test_pgd_finds_what_one_fgsm_step_overshoots():
    """On a loss that oscillates with period ε along the mean pixel, one ε step lands on the same
    loss again while PGD's small steps climb to the maximum half a period away."""
    period = EPSILON

    def logits(images):
        shift = keras.ops.mean(images, axis=(1, 2, 3)) - 0.5
        score = 5.0 * keras.ops.cos(2 * np.pi * shift / period)
        return keras.ops.stack([score, -score], axis=1)

    model = keras.Sequential(
        [keras.Input((6, 6, 3)), keras.layers.Lambda(logits), keras.layers.Softmax()]
    )
    rng = np.random.default_rng(0)
    images = (0.5 + rng.normal(0, 0.001, (64, 6, 6, 3))).astype(np.float32)
    labels = np.zeros(64, dtype=np.int64)
    assert _accuracy(model, images, labels) == 1.0
    after_fgsm = _accuracy(model, fgsm(model, images, labels), labels)
    after_pgd = _accuracy(model, pgd(model, images, labels, seed=0), labels)
    assert after_fgsm > 0.9 and after_pgd < 0.1
    assert _loss(model, pgd(model, images, labels, seed=0), labels) > _loss(
        model, fgsm(model, images, labels), labels
    )


def test_gradient_matches_finite_difference(tiny):
    model, images, labels = tiny
    x = tf.constant(images[:1])
    y = tf.constant(labels[:1], tf.int64)
    gradient = loss_gradient(model, x, y).numpy()
    step = np.zeros_like(images[:1])
    step[0, 2, 3, 1] = 1e-2

    def loss_at(z):
        return float(
            keras.losses.sparse_categorical_crossentropy(labels[:1], model(z, training=False))[0]
        )

    numeric = (loss_at(images[:1] + step) - loss_at(images[:1] - step)) / 2e-2
    assert gradient[0, 2, 3, 1] == pytest.approx(numeric, rel=1e-2, abs=1e-5)


def test_attack_dataset_batches_like_one_call(tiny):
    model, images, labels = tiny
    whole = attack_dataset(model, images, labels, "fgsm", batch_size=1000)
    batched = attack_dataset(model, images, labels, "fgsm", batch_size=50)
    np.testing.assert_allclose(whole, batched, atol=1e-6)
    np.testing.assert_allclose(whole, fgsm(model, images, labels), atol=1e-6)


def test_attack_dataset_compiles_once_per_model_and_settings(tiny):
    """A PGD monitor attacks the same model after every epoch: it must not retrace each time,
    must follow the model's current weights, and must not keep a deleted model alive."""
    model, images, labels = tiny
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    first = attack_dataset(clone, images, labels, "fgsm", batch_size=100)
    for _ in range(3):
        again = attack_dataset(clone, images, labels, "fgsm", batch_size=100)
    np.testing.assert_array_equal(first, again)
    (step,) = attacks._COMPILED_STEPS[clone].values()
    assert step.experimental_get_tracing_count() <= 2  # full batches, then the short last one
    attack_dataset(clone, images, labels, "pgd", batch_size=100, steps=2)
    assert len(attacks._COMPILED_STEPS[clone]) == 2  # one step per attack and settings
    clone.set_weights([-weight for weight in model.get_weights()])  # the step sees new weights
    flipped = attack_dataset(clone, images, labels, "fgsm", batch_size=100)
    np.testing.assert_allclose(flipped, fgsm(clone, images, labels), atol=1e-6)
    assert not np.allclose(flipped, first)
    clone_ref = weakref.ref(clone)
    del clone, step
    gc.collect()
    assert clone_ref() is None  # the cache did not keep it alive


def test_bad_inputs_are_refused(tiny):
    model, images, labels = tiny
    with pytest.raises(ValueError, match="pixels in"):
        fgsm(model, images * 255, labels)
    with pytest.raises(ValueError, match="integer labels"):
        pgd(model, images, labels[:3])
    with pytest.raises(ValueError, match="epsilon > 0"):
        mim(model, images, labels, epsilon=0.0)
    with pytest.raises(ValueError, match="attack in"):
        attack_dataset(model, images, labels, "cw")
