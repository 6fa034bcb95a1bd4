import keras
import numpy as np
import pytest

from keras_models.models import (
    build_augmentation,
    build_mlp,
    build_resnet_cnn,
    build_simple_cnn,
    build_vgg_cnn,
)
from keras_models.recipes import RECIPES, build_recipe_model


def test_mlp_is_flatten_dense_softmax():
    model = build_mlp((28, 28), hidden_units=(20, 40))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Flatten", "Dense", "Dense", "Dense"]
    assert model.count_params() == 784 * 20 + 20 + 20 * 40 + 40 + 40 * 10 + 10
    probabilities = np.asarray(model(np.zeros((2, 28, 28), np.float32)))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "builder, shape",
    [
        (
            lambda: build_simple_cnn((28, 28, 1), filters=(4, 8), kernel_size=5, padding="valid"),
            (28, 28, 1),
        ),
        (lambda: build_vgg_cnn((28, 28, 1), filters=(4, 8)), (28, 28, 1)),
        (lambda: build_resnet_cnn((32, 32, 3), widths=(4, 8, 8, 8)), (32, 32, 3)),
    ],
)
def test_cnns_take_images_with_channels(builder, shape):
    model = builder()
    assert model.input_shape == (None, *shape)
    assert np.asarray(model(np.zeros((2, *shape), np.float32))).shape == (2, 10)


def test_cnn_rejects_flat_vectors():
    model = build_simple_cnn((28, 28, 1), filters=(4,))
    with pytest.raises(ValueError):
        model(np.zeros((2, 784), np.float32))


def test_resnet_standardises_inside_the_model():
    model = build_resnet_cnn(
        widths=(4, 4, 4, 4), channel_mean=[0.5, 0.4, 0.3], channel_std=[0.2, 0.2, 0.2]
    )
    standardize = model.get_layer("standardize")
    out = np.asarray(standardize(np.full((1, 2, 2, 3), 0.5, np.float32)))
    np.testing.assert_allclose(out[0, 0, 0], [0.0, 0.5, 1.0], atol=1e-5)


def test_bad_builder_arguments_raise():
    with pytest.raises(ValueError, match="4 widths"):
        build_resnet_cnn(widths=(4, 8))
    with pytest.raises(ValueError, match="kind"):
        build_augmentation("audio")


@pytest.mark.parametrize(
    "kind, shape",
    [
        ("cifar", (4, 32, 32, 3)),
        ("digits", (4, 28, 28, 1)),
        ("digits_affine", (4, 28, 28, 1)),
        ("fashion_small_shift", (4, 28, 28, 1)),
    ],
)
def test_augmentation_keeps_shape_and_range_and_is_identity_at_inference(kind, shape):
    images = np.random.default_rng(0).random(shape).astype(np.float32)
    augmentation = build_augmentation(kind, seed=1)
    augmented = np.asarray(augmentation(images, training=True))
    assert augmented.shape == images.shape
    assert not np.allclose(augmented, images)  # it does move the images
    assert augmented.min() >= -1e-5 and augmented.max() <= 1 + 1e-5
    np.testing.assert_allclose(np.asarray(augmentation(images, training=False)), images)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_builds_for_its_input_shape(name):
    recipe = RECIPES[name]
    model = build_recipe_model(recipe, 10, np.full((2, *recipe.image_shape), 0.5, np.float32))
    assert model.input_shape == (None, *recipe.image_shape)
    assert model.output_shape == (None, 10)
    assert isinstance(model, keras.Model)
