import numpy as np
import pytest

from keras_models.data import (
    make_dataset,
    prepare_images,
    prepare_labels,
    shuffle_labels,
    take_subset,
)


def test_flat_mnist_vectors_become_28x28x1_images():
    flat = np.arange(2 * 784).reshape(2, 784) % 256
    images = prepare_images(flat.astype(np.uint8), (28, 28, 1))
    assert images.shape == (2, 28, 28, 1)
    assert images.dtype == np.float32
    np.testing.assert_allclose(images[1, 0, :5, 0], (np.arange(784, 789) % 256) / 255.0)


def test_channel_axis_is_added_and_mlp_shape_kept():
    raw = np.zeros((3, 28, 28), dtype=np.uint8)
    assert prepare_images(raw, (28, 28, 1)).shape == (3, 28, 28, 1)
    assert prepare_images(raw, (28, 28)).shape == (3, 28, 28)
    assert prepare_images(raw, (784,)).shape == (3, 784)


def test_cifar_images_and_column_labels():
    images = np.full((4, 32, 32, 3), 255, dtype=np.uint8)
    prepared = prepare_images(images, (32, 32, 3))
    assert prepared.shape == (4, 32, 32, 3) and prepared.max() == 1.0
    labels = prepare_labels(np.array([[1], [0], [9], [3]]), num_classes=10)
    assert labels.shape == (4,) and labels.dtype == np.int64
    assert labels.tolist() == [1, 0, 9, 3]


def test_uint8_is_scaled_to_unit_range_and_floats_are_kept():
    raw = np.array([[[0, 128], [255, 64]]], dtype=np.uint8)
    scaled = prepare_images(raw, (2, 2))
    np.testing.assert_allclose(scaled, raw / 255.0, rtol=1e-6)
    already = np.array([[0.0, 0.5, 1.0, 0.25]], dtype=np.float64)
    assert prepare_images(already, (2, 2)).dtype == np.float32


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 27, 28), np.uint8), "Expected images of shape"),
        (np.zeros((2, 32, 32, 1), np.uint8), "Expected images of shape"),
        (np.zeros((0, 28, 28), np.uint8), "non-empty"),
        (np.zeros(784, np.uint8), "non-empty"),
        (np.array([["a"] * 784]), "numeric"),
        (np.full((1, 784), np.nan, np.float32), "finite"),
        (np.full((1, 784), 255.0, np.float32), r"\[0, 1\]"),
        (np.full((1, 784), 300, np.int32), r"\[0, 255\]"),
    ],
)
def test_bad_images_raise_clear_errors(images, message):
    with pytest.raises(ValueError, match=message):
        prepare_images(images, (28, 28, 1))


@pytest.mark.parametrize(
    "labels, message",
    [
        (np.array([0.0, 1.0]), "integer"),
        (np.array([0, 10]), r"\[0, 10\)"),
        (np.array([-1, 2]), r"\[0, 10\)"),
        (np.zeros((2, 2), np.int64), "shape"),
    ],
)
def test_bad_labels_raise_clear_errors(labels, message):
    with pytest.raises(ValueError, match=message):
        prepare_labels(labels, num_classes=10)


def test_dataset_batches_and_one_hot_labels():
    images = np.zeros((5, 28, 28, 1), np.float32)
    dataset = make_dataset(images, np.arange(5), batch_size=2, num_classes=10)
    batches = list(dataset)
    shapes = [tuple(x.shape) for x, _ in batches]
    assert shapes == [(2, 28, 28, 1), (2, 28, 28, 1), (1, 28, 28, 1)]
    assert tuple(batches[0][1].shape) == (2, 10)
    assert batches[2][1].numpy().argmax() == 4


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="one label per image"):
        make_dataset(np.zeros((3, 4), np.float32), np.arange(2), batch_size=2)


def test_shuffled_labels_keep_the_class_counts_but_not_the_order():
    labels = np.repeat(np.arange(10), 50)
    shuffled = shuffle_labels(labels, seed=0)
    assert np.array_equal(np.bincount(shuffled), np.bincount(labels))
    assert np.mean(shuffled == labels) < 0.3
    assert np.array_equal(shuffled, shuffle_labels(labels, seed=0))


def test_subset_is_seeded_and_aligned():
    images, labels = np.arange(100)[:, None], np.arange(100)
    sub_images, sub_labels = take_subset(images, labels, 10, seed=1)
    assert np.array_equal(sub_images[:, 0], sub_labels)
    assert np.array_equal(sub_labels, take_subset(images, labels, 10, seed=1)[1])
    assert take_subset(images, labels, None, seed=1)[1] is labels


def test_seeded_augmentation_repeats_batch_for_batch():
    import keras

    rng = np.random.default_rng(0)
    images, labels = rng.random((256, 16, 16, 1)).astype(np.float32), np.arange(256) % 10

    def batches(augment=True):
        shift = keras.Sequential([keras.layers.RandomTranslation(0.2, 0.2, seed=5)])
        data = make_dataset(
            images, labels, batch_size=8, shuffle=True, seed=1, augment=shift if augment else None
        )
        return np.concatenate([x.numpy() for x, _ in data])

    first, second = batches(), batches()
    assert not np.array_equal(first, batches(augment=False))  # the shifts are there
    np.testing.assert_array_equal(first, second)
