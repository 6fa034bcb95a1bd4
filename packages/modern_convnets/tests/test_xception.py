"""Our Xception against ``keras.applications.Xception``: parameters, weights, block shapes."""

import re

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np
import pytest

from modern_convnets.xception import block_names, build_xception

# Chollet 2017 (Xception), ImageNet configuration; keras.applications.Xception(weights=None)
# has the same count.
IMAGENET_PARAMETERS = 22_910_480


@pytest.fixture(scope="module")
def ours():
    return build_xception(input_shape=(299, 299, 3), num_classes=1000)


@pytest.fixture(scope="module")
def stock():
    # weights=None builds the architecture only; nothing is downloaded
    return keras.applications.Xception(weights=None, input_shape=(299, 299, 3), classes=1000)


def _stock_block_outputs(stock: keras.Model) -> dict[int, str]:
    """Block number -> name of the stock layer that ends it.

    Block 1 is the stem; blocks 2-13 end with an unnamed ``Add`` whose residual branch comes
    from ``block{k}_pool`` (projection blocks) or ``block{k}_sepconv3_bn`` (middle blocks);
    block 14 ends with its last activation.
    """
    ends = {1: "block1_conv2_act", 14: "block14_sepconv2_act"}
    for layer in stock.layers:
        if isinstance(layer, keras.layers.Add):
            sources = [tensor._keras_history.operation.name for tensor in layer.input]
            (block,) = {
                int(m.group(1))
                for source in sources
                if (m := re.match(r"block(\d+)_(pool|sepconv3_bn)$", source))
            }
            ends[block] = layer.name
    return ends


def test_imagenet_configuration_has_the_stock_parameter_count(ours, stock):
    assert ours.count_params() == IMAGENET_PARAMETERS
    assert stock.count_params() == IMAGENET_PARAMETERS
    assert sum(int(np.prod(w.shape)) for w in ours.trainable_weights) == sum(
        int(np.prod(w.shape)) for w in stock.trainable_weights
    )
    # same tensors, not only the same total
    assert sorted(tuple(w.shape) for w in ours.weights) == sorted(
        tuple(w.shape) for w in stock.weights
    )
    assert sum(isinstance(layer, keras.layers.SeparableConv2D) for layer in ours.layers) == 34


def test_every_block_output_shape_matches_the_stock_model(ours, stock):
    stock_ends = _stock_block_outputs(stock)
    assert sorted(stock_ends) == list(range(1, 15))
    # ours: stem, entry1-3, middle1-8, exit block, exit convs = stock blocks 1..14, in order
    for number, our_name in enumerate(block_names(3, 8), start=1):
        assert (
            ours.get_layer(our_name).output.shape
            == stock.get_layer(stock_ends[number]).output.shape
        ), (our_name, stock_ends[number])
    assert ours.get_layer("exit_add").output.shape == (None, 10, 10, 1024)
    assert ours.output_shape == stock.output_shape == (None, 1000)


def test_scaled_variant_for_cifar():
    model = build_xception(
        (32, 32, 3),
        10,
        stem_widths=(8, 16),
        stem_strides=1,
        stem_padding="same",
        entry_widths=(16, 32),
        middle_blocks=1,
        exit_widths=(32, 48),
        head_widths=(64, 64),
        dropout=0.2,
    )
    assert [model.get_layer(name).output.shape[1] for name in block_names(2, 1)] == [
        32,
        16,
        8,
        8,
        4,
        4,
    ]
    probabilities = np.asarray(model(np.zeros((2, 32, 32, 3), "float32")))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_entry_pools_keep_the_resolution_where_asked():
    model = build_xception(
        (16, 16, 3),
        2,
        stem_widths=(4, 8),
        stem_strides=1,
        stem_padding="same",
        entry_widths=(8, 8),
        entry_pools=(False, True),
        middle_blocks=0,
        exit_widths=(8, 8),
        head_widths=(8, 8),
        exit_pool=False,
    )
    assert [model.get_layer(name).output.shape[1] for name in block_names(2, 0)] == [
        16,
        16,
        8,
        8,
        8,
    ]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_shape": (32, 32)}, "Expected input_shape"),
        ({"stem_widths": (8,)}, "Expected two stem"),
        ({"entry_widths": ()}, "Expected at least one entry block"),
        ({"entry_widths": (8, 8), "entry_pools": (True,)}, "Expected one entry_pools flag"),
    ],
)
def test_builder_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_xception(**{"input_shape": (32, 32, 3), "num_classes": 2, **kwargs})
