"""End-to-end: a real (tiny) training run on MNIST must learn far beyond chance."""

import keras
import numpy as np
import pytest

from a2common.data import load_dataset
from keras_models.data import make_dataset, prepare_images, prepare_labels, take_subset
from keras_models.models import build_simple_cnn
from keras_models.training import evaluate_in_chunks, one_cycle_schedule


@pytest.fixture(scope="module")
def mnist_slice():
    dataset = load_dataset("mnist")
    train_x, train_y = take_subset(dataset.train.x, dataset.train.y, 600, seed=0)
    test_x, test_y = take_subset(dataset.test.x, dataset.test.y, 500, seed=0)
    return (
        prepare_images(train_x, (28, 28, 1)),
        prepare_labels(train_y, 10),
        prepare_images(test_x, (28, 28, 1)),
        prepare_labels(test_y, 10),
    )


def test_tiny_cnn_learns_mnist_beyond_chance(mnist_slice):
    train_x, train_y, test_x, test_y = mnist_slice
    keras.utils.set_random_seed(0)
    # BatchNorm momentum 0.9: its inference statistics must settle within ~100 steps.
    model = build_simple_cnn(
        (28, 28, 1), filters=(8, 16), dense_units=32, dropout=0.0, bn_momentum=0.9
    )
    steps = 5 * int(np.ceil(len(train_y) / 32))
    model.compile(
        optimizer=keras.optimizers.Adam(one_cycle_schedule(3e-3, steps)),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        make_dataset(train_x, train_y, batch_size=32, shuffle=True, num_classes=10),
        epochs=5,
        verbose=0,
        shuffle=False,
    )
    result = evaluate_in_chunks(model, test_x, test_y, chunk_size=128)
    assert result.accuracy > 0.7, f"chance is 0.1; got {result.accuracy:.3f}"
    assert result.predictions.shape == (500,)


def test_chunked_evaluation_equals_one_pass(mnist_slice):
    _, _, test_x, test_y = mnist_slice
    keras.utils.set_random_seed(1)
    model = build_simple_cnn((28, 28, 1), filters=(4,), dense_units=8, dropout=0.0)
    whole = evaluate_in_chunks(model, test_x, test_y, chunk_size=len(test_y))
    chunked = evaluate_in_chunks(model, test_x, test_y, chunk_size=77)
    assert chunked.accuracy == pytest.approx(whole.accuracy)
    assert chunked.loss == pytest.approx(whole.loss, rel=1e-5)
    manual = np.mean(whole.probabilities.argmax(-1) == test_y)
    assert whole.accuracy == pytest.approx(manual)


def test_one_cycle_rises_then_falls():
    schedule = one_cycle_schedule(0.1, total_steps=100, warmup_fraction=0.25)
    rates = [float(schedule(step)) for step in (0, 25, 60, 100)]
    assert rates[0] == pytest.approx(0.01)
    assert rates[1] == pytest.approx(0.1)
    assert rates[0] < rates[1] > rates[2] > rates[3]
    with pytest.raises(ValueError):
        one_cycle_schedule(0.1, total_steps=1)


def test_flip_average_is_the_mean_of_both_views(mnist_slice):
    _, _, test_x, test_y = mnist_slice
    keras.utils.set_random_seed(2)
    model = build_simple_cnn((28, 28, 1), filters=(4,), dense_units=8, dropout=0.0)
    averaged = evaluate_in_chunks(model, test_x[:50], test_y[:50], chunk_size=20, flip_average=True)
    manual = (np.asarray(model(test_x[:50])) + np.asarray(model(test_x[:50, :, ::-1]))) / 2
    np.testing.assert_allclose(averaged.probabilities, manual, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="height, width, channels"):
        evaluate_in_chunks(model, test_x[:5].reshape(5, -1), test_y[:5], flip_average=True)
