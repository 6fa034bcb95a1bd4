"""Layers against PyTorch (forward, input and weight gradients) and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from autograd import GradientTape, Tensor, initializers, layers, ops
from autograd.layers import batch_norm, conv2d, dense, max_pool2d
from autograd_testing import (
    check_layer,
    check_op,
    compare_with_finite_differences,
    compare_with_torch,
)

seeds = st.integers(0, 2**16)
F64 = "float64"


def nchw(t: torch.Tensor) -> torch.Tensor:
    return t.permute(0, 3, 1, 2)


def nhwc(t: torch.Tensor) -> torch.Tensor:
    return t.permute(0, 2, 3, 1)


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def torch_conv2d(x, k, b, strides, padding):
    if padding == "same":
        top, bottom = tf_same_padding(x.shape[1], k.shape[0], strides[0])
        left, right = tf_same_padding(x.shape[2], k.shape[1], strides[1])
        x = F.pad(x, (0, 0, left, right, top, bottom))
    weight = k.permute(3, 2, 0, 1).contiguous()
    return nhwc(F.conv2d(nchw(x).contiguous(), weight, b, stride=strides))


# =================================================================================== dense
@given(batch=st.integers(1, 4), fan_in=st.integers(1, 5), units=st.integers(1, 4), seed=seeds)
def test_dense_op(batch, fan_in, units, seed):
    rng = np.random.default_rng(seed)
    x, w, b = (
        rng.normal(size=(batch, fan_in)),
        rng.normal(size=(fan_in, units)),
        rng.normal(size=(units,)),
    )
    check_op(dense, lambda x, w, b: x @ w + b, [x, w, b])


def test_dense_op_on_3d_inputs_and_without_bias(rng):
    x, w = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))
    check_op(dense, torch.matmul, [x, w])


def test_dense_layer_gradients_match_torch_linear(rng):
    layer = layers.Dense(3, activation="tanh", kernel_initializer="kaiming", dtype=F64, seed=0)
    check_layer(layer, lambda x, k, b: torch.tanh(x @ k + b), rng.normal(size=(4, 5)))


def test_conv_layer_weight_gradients(rng):
    conv = layers.Conv2D(
        3, (3, 2), strides=(2, 1), padding="same", activation="swish", dtype=F64, seed=0
    )
    check_layer(
        conv,
        lambda x, k, b: F.silu(torch_conv2d(x, k, b, (2, 1), "same")),
        rng.normal(size=(2, 5, 4, 2)),
    )


def test_batch_norm_layer_weight_gradients(rng):
    bn = layers.BatchNormalization(dtype=F64)
    x = rng.normal(size=(6, 3))
    check_layer(
        bn,
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-3),
        x,
        training=True,
    )


def test_dense_layer_errors():
    layer = layers.Dense(4)
    layer(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(
        ValueError,
        match=r"expected inputs of shape \(batch, \.\.\., 3\)\. "
        r"Received: inputs.shape=\(2, 5\)",
    ):
        layer(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="Expected units to be a positive int"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="Unknown initializer.*Received: initializer='kaimig'"):
        layers.Dense(3, kernel_initializer="kaimig")


# =================================================================================== conv2d
@given(
    batch=st.integers(1, 2),
    size=st.integers(3, 7),
    channels=st.integers(1, 3),
    filters=st.integers(1, 3),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same"]),
    seed=seeds,
)
def test_conv2d_op(batch, size, channels, filters, kernel, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, size, size + 1, channels))
    k = rng.normal(size=(kernel, kernel, channels, filters))
    b = rng.normal(size=(filters,))
    strides = (stride, stride)
    check_op(
        lambda x, k, b: conv2d(x, k, b, strides, padding),
        lambda x, k, b: torch_conv2d(x, k, b, strides, padding),
        [x, k, b],
    )


@given(
    batch=st.integers(1, 5),
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    channels=st.integers(8, 10),
    filters=st.integers(1, 4),
    padding=st.sampled_from(["valid", "same"]),
    chunk=st.integers(1, 3),
    seed=seeds,
)
def test_conv2d_winograd_path(batch, height, width, channels, filters, padding, chunk, seed):
    """The Winograd F(2x2, 3x3) path of stride-1 3x3 convolutions (its channel threshold
    lowered to 8; odd sizes, both paddings, batches split into chunks): forward and all
    gradients equal PyTorch's and finite differences, and the float32 im2col path's."""
    if padding == "valid" and min(height, width) < 3:
        return
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, height, width, channels))
    k = rng.normal(size=(3, 3, channels, filters))
    b = rng.normal(size=(filters,))
    saved, saved_min = ops._WINOGRAD_CHUNK, ops._WINOGRAD_MIN_CHANNELS
    ops._WINOGRAD_CHUNK, ops._WINOGRAD_MIN_CHANNELS = chunk, 8
    try:
        check_op(
            lambda x, k, b: conv2d(x, k, b, (1, 1), padding),
            lambda x, k, b: torch_conv2d(x, k, b, (1, 1), padding),
            [x, k, b],
        )
        results = []
        for min_channels in (channels, channels + 1):  # Winograd, im2col
            ops._WINOGRAD_MIN_CHANNELS = min_channels
            tensors = [Tensor(a.astype("float32"), requires_grad=True) for a in (x, k, b)]
            with GradientTape() as tape:
                out = conv2d(*tensors, (1, 1), padding)
                total = (out * out).sum()
            results.append([out.numpy(), *(g.numpy() for g in tape.gradient(total, tensors))])
        for winograd, im2col in zip(*results):
            assert winograd.dtype == im2col.dtype == np.float32
            scale = max(float(np.abs(im2col).max()), 1.0)
            np.testing.assert_allclose(winograd, im2col, rtol=0, atol=1e-5 * scale)
    finally:
        ops._WINOGRAD_CHUNK, ops._WINOGRAD_MIN_CHANNELS = saved, saved_min


def test_conv2d_winograd_without_bias_or_kernel_gradient(rng):
    """The Winograd path (16 input channels: the default threshold) without a bias, and with
    a frozen kernel (input gradient only)."""
    assert ops._WINOGRAD_MIN_CHANNELS <= 16
    x = rng.normal(size=(3, 6, 5, 16))
    k = rng.normal(size=(3, 3, 16, 2))
    compare_with_torch(
        lambda x, k: conv2d(x, k, None, (1, 1), "same"),
        lambda x, k: torch_conv2d(x, k, None, (1, 1), "same"),
        [x, k],
    )
    xs, kernel = Tensor(x, requires_grad=True), Tensor(k)
    with GradientTape() as tape:
        total = conv2d(xs, kernel, None, (1, 1), "valid").sum()
    expected = F.conv_transpose2d(
        torch.ones(3, 2, 4, 3, dtype=torch.float64), torch.from_numpy(k).permute(3, 2, 0, 1)
    )
    np.testing.assert_allclose(tape.gradient(total, xs).numpy(), nhwc(expected).numpy(), rtol=1e-10)


def test_conv2d_rectangular_kernel_and_strides(rng):
    x = rng.normal(size=(2, 9, 8, 2))
    k = rng.normal(size=(3, 2, 2, 4))
    b = np.zeros(4)
    for padding in ("valid", "same"):
        check_op(
            lambda x, k, b: conv2d(x, k, b, (2, 3), padding),
            lambda x, k, b: torch_conv2d(x, k, b, (2, 3), padding),
            [x, k, b],
        )


def test_conv2d_layer_shapes_and_errors(rng):
    conv = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")
    out = conv(rng.normal(size=(2, 9, 9, 3)).astype(np.float32))
    assert out.shape == (2, 5, 5, 4) == conv.compute_output_shape((2, 9, 9, 3))
    assert conv.kernel.shape == (3, 3, 3, 4)
    with pytest.raises(
        ValueError,
        match=r"expected 3 input channels.*Received: "
        r"inputs.shape=\(2, 9, 9, 1\)",
    ):
        conv(np.zeros((2, 9, 9, 1), dtype=np.float32))
    with pytest.raises(
        ValueError,
        match=r"expected inputs of shape \(batch, height, width, "
        r"channels\). Received: inputs.shape=\(2, 81\)",
    ):
        conv(np.zeros((2, 81), dtype=np.float32))
    with pytest.raises(ValueError, match="Expected padding 'valid' or 'same'"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(4, (3, 0))


# ============================================================================== max pooling
@given(
    batch=st.integers(1, 2),
    height=st.integers(2, 7),
    width=st.integers(2, 7),
    channels=st.integers(1, 3),
    pool=st.integers(1, 3),
    stride=st.integers(1, 3),
    seed=seeds,
)
def test_max_pool2d_op(batch, height, width, channels, pool, stride, seed):
    pool = min(pool, height, width)
    x = np.random.default_rng(seed).normal(size=(batch, height, width, channels))
    check_op(
        lambda t: max_pool2d(t, (pool, pool), (stride, stride)),
        lambda t: nhwc(F.max_pool2d(nchw(t), pool, stride)),
        [x],
    )


def test_max_pool2d_ties_go_to_the_first_maximum_like_torch(rng):
    x = np.maximum(rng.normal(size=(2, 6, 6, 3)), 0.0)  # many tied zeros, as after a ReLU
    x[0, :2, :2, 0] = 1.0  # a fully tied window
    compare_with_torch(
        lambda t: max_pool2d(t, (2, 2)), lambda t: nhwc(F.max_pool2d(nchw(t), 2)), [x]
    )
    compare_with_torch(
        lambda t: max_pool2d(t, (3, 3), (1, 1)), lambda t: nhwc(F.max_pool2d(nchw(t), 3, 1)), [x]
    )
    # Side-by-side windows that leave the last rows / columns unread, with ties everywhere.
    odd = np.round(np.maximum(rng.normal(size=(2, 7, 8, 3)), 0.0))
    for pool in (2, 3):
        compare_with_torch(
            lambda t: max_pool2d(t, (pool, pool)),
            lambda t: nhwc(F.max_pool2d(nchw(t), pool)),
            [odd],
        )


def test_max_pool_layer_shape_and_errors():
    pool = layers.MaxPool2D(2)
    assert pool(np.zeros((1, 7, 7, 2))).shape == (1, 3, 3, 2)
    assert pool.compute_output_shape((None, 7, 7, 2)) == (None, 3, 3, 2)
    with pytest.raises(ValueError, match=r"at least as large as the pool \(2, 2\)"):
        pool(np.zeros((1, 1, 5, 2)))


# ============================================================================== batch norm
@given(shape=st.sampled_from([(5, 3), (4, 3, 3, 2), (2, 4, 1)]), seed=seeds)
def test_batch_norm_training_matches_torch(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=2.0, scale=3.0, size=shape)
    gamma, beta = rng.normal(size=shape[-1]), rng.normal(size=shape[-1])

    def ours(x, g, b):
        return batch_norm(x, g, b, epsilon=1e-3)[0]

    def theirs(x, g, b):
        moved = torch.movedim(x, -1, 1)
        return torch.movedim(F.batch_norm(moved, None, None, g, b, training=True, eps=1e-3), 1, -1)

    check_op(ours, theirs, [x, gamma, beta])


def test_batch_norm_inference_uses_given_statistics(rng):
    x = rng.normal(size=(4, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2, size=3)
    check_op(
        lambda x, g, b: batch_norm(x, g, b, mean, var, 1e-3)[0],
        lambda x, g, b: F.batch_norm(
            x, torch.from_numpy(mean), torch.from_numpy(var), g, b, training=False, eps=1e-3
        ),
        [x, gamma, beta],
    )


def test_batch_norm_layer_moving_statistics(rng):
    bn = layers.BatchNormalization(momentum=0.9, dtype=F64)
    torch_bn = torch.nn.BatchNorm1d(3, momentum=0.1, eps=1e-3, dtype=torch.float64)
    for _ in range(3):
        x = rng.normal(loc=1.0, scale=2.0, size=(8, 3))
        bn(x, training=True)
        torch_bn(torch.from_numpy(x))
    np.testing.assert_allclose(bn.moving_mean.numpy(), torch_bn.running_mean.numpy(), rtol=1e-12)
    # Keras keeps the biased batch variance, PyTorch the unbiased one (n / (n - 1) larger).
    assert bn.moving_variance.numpy().shape == (3,)
    assert [w.name.split("/")[-1] for w in bn.trainable_weights] == ["gamma", "beta"]
    assert len(bn.non_trainable_weights) == 2
    inference = bn(x, training=False).numpy()
    expected = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(inference, expected, rtol=1e-10)


# ================================================================================= dropout
def test_dropout_is_inverted_and_identity_at_inference():
    layer = layers.Dropout(0.25, seed=3)
    x = np.ones((200, 50), dtype=np.float32)
    assert layer(x, training=False).numpy() is x
    out = layer(x, training=True).numpy()
    assert set(np.unique(out).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.02
    assert abs(out.mean() - 1.0) < 0.03


def test_dropout_gradient_uses_the_same_mask(rng):
    layer = layers.Dropout(0.5, seed=1, dtype=F64)
    x = Tensor(rng.normal(size=(4, 6)), requires_grad=True)
    with GradientTape() as tape:
        y = layer(x, training=True)
        total = y.sum()
    grad = tape.gradient(total, x).numpy()
    np.testing.assert_array_equal(grad, (y.numpy() != 0) * 2.0)


def test_dropout_masks_are_reproducible_from_seed_and_counter():
    x = np.ones((3, 8), dtype=np.float32)
    a, b = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7)
    first = a(x, training=True).numpy()
    np.testing.assert_array_equal(first, b(x, training=True).numpy())
    assert not np.array_equal(first, a(x, training=True).numpy())
    with pytest.raises(ValueError, match=r"Expected 0 <= rate < 1. Received: rate=1.0"):
        layers.Dropout(1.0)


# ============================================================================= other layers
def test_flatten_reshape_and_activation_layers(rng):
    x = rng.normal(size=(2, 3, 4))
    check_op(lambda t: layers.Flatten(dtype=F64)(t), lambda t: t.reshape(2, -1), [x])
    check_op(lambda t: layers.Reshape((4, 3), dtype=F64)(t), lambda t: t.reshape(2, 4, 3), [x])
    check_op(
        lambda t: layers.LeakyReLU(0.1, dtype=F64)(t),
        lambda t: F.leaky_relu(t, 0.1),
        [x + 0.05 * np.sign(x)],
    )
    check_op(lambda t: layers.Softmax(dtype=F64)(t), lambda t: torch.softmax(t, -1), [x])
    with pytest.raises(ValueError, match=r"cannot reshape examples of shape \(3, 4\) to \(5,\)"):
        layers.Reshape((5,))(x)


def test_residual_block_matches_torch(rng):
    block = layers.Residual(
        [layers.Dense(4, activation="relu", dtype=F64, seed=1), layers.Dense(4, dtype=F64, seed=2)],
        activation="relu",
        dtype=F64,
    )

    def theirs(x, k1, b1, k2, b2):
        return F.relu(F.relu(x @ k1 + b1) @ k2 + b2 + x)

    check_layer(block, theirs, rng.normal(size=(3, 4)))
    assert len(block.trainable_weights) == 4


def test_residual_with_projection_shortcut_and_shape_error(rng):
    block = layers.Residual([layers.Conv2D(4, 3, padding="same")], shortcut=layers.Conv2D(4, 1))
    assert block(rng.normal(size=(1, 5, 5, 2))).shape == (1, 5, 5, 4)
    bad = layers.Residual([layers.Dense(3)])
    with pytest.raises(ValueError, match="pass a projection layer"):
        bad(np.zeros((2, 4), dtype=np.float32))


def test_layer_gradients_by_finite_differences_through_a_small_cnn(rng):
    conv = layers.Conv2D(2, 3, padding="same", activation="relu", dtype=F64, seed=0)
    pool, flat = layers.MaxPool2D(2, dtype=F64), layers.Flatten(dtype=F64)
    head = layers.Dense(3, dtype=F64, seed=1)
    x = rng.normal(size=(2, 4, 4, 1))
    compare_with_finite_differences(lambda t: head(flat(pool(conv(t)))), [x])


def test_layer_serialization_round_trip():
    block = layers.Residual(
        [layers.Conv2D(4, 3, padding="same", activation="gelu")],
        shortcut=layers.Conv2D(4, 1),
        name="res",
    )
    clone = layers.deserialize(layers.serialize(block))
    assert clone.name == "res" and clone.block[0].activation.__name__ == "gelu"
    assert isinstance(clone.shortcut, layers.Conv2D)
    with pytest.raises(ValueError, match="Unknown layer class"):
        layers.deserialize({"class_name": "Nope", "config": {}})


# ============================================================================ initializers
@pytest.mark.parametrize(
    "name, expected_std",
    [
        ("normal", lambda fi, fo: 1.0),
        ("xavier", lambda fi, fo: math.sqrt(2.0 / (fi + fo))),
        ("kaiming", lambda fi, fo: math.sqrt(2.0 / fi)),
        ("glorot_uniform", lambda fi, fo: math.sqrt(2.0 / (fi + fo))),
        ("he_uniform", lambda fi, fo: math.sqrt(2.0 / fi)),
    ],
)
def test_initializer_statistics_follow_keras_maths(name, expected_std):
    shape = (300, 200)
    values = initializers.get(name)(shape, "float64", seed=0)
    assert values.dtype == np.float64
    assert abs(values.mean()) < 0.01 * max(1.0, expected_std(*shape) * 10)
    assert values.std() == pytest.approx(expected_std(*shape), rel=0.02)


def test_truncated_normal_is_truncated_at_two_stddevs():
    fan_in = 50
    values = initializers.get("kaiming")((fan_in, 4000), "float64", seed=1)
    stddev = math.sqrt(2.0 / fan_in) / 0.87962566103423978
    assert np.abs(values).max() <= 2 * stddev
    assert np.abs(values).max() > 1.9 * stddev


def test_conv_fans_and_zero_initializer():
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert not initializers.get("zero")((3, 2)).any()
    a = layers.Dense(5, kernel_initializer="xavier", seed=4)
    b = layers.Dense(5, kernel_initializer="xavier", seed=4)
    x = np.ones((1, 3), dtype=np.float32)
    a(x), b(x)
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())


# ========================================================== pooling padding, conv dilation
def torch_max_pool_same(t, pool, stride):
    top, bottom = tf_same_padding(t.shape[1], pool, stride)
    left, right = tf_same_padding(t.shape[2], pool, stride)
    padded = F.pad(t, (0, 0, left, right, top, bottom), value=-math.inf)
    return nhwc(F.max_pool2d(nchw(padded), pool, stride))


@given(
    height=st.integers(1, 7),
    width=st.integers(1, 7),
    pool=st.integers(1, 3),
    stride=st.integers(1, 3),
    seed=seeds,
)
def test_max_pool2d_same_padding_matches_torch(height, width, pool, stride, seed):
    x = np.random.default_rng(seed).normal(size=(2, height, width, 2))
    check_op(
        lambda t: max_pool2d(t, (pool, pool), (stride, stride), padding="same"),
        lambda t: torch_max_pool_same(t, pool, stride),
        [x],
    )


def test_max_pool_layer_padding():
    same, valid = layers.MaxPool2D(2, padding="same"), layers.MaxPool2D(2, padding="valid")
    assert same(np.zeros((1, 7, 5, 2))).shape == (1, 4, 3, 2)
    assert same.compute_output_shape((None, 7, 5, 2)) == (None, 4, 3, 2)
    assert same(np.zeros((1, 1, 1, 2))).shape == (1, 1, 1, 2)
    assert valid(np.zeros((1, 7, 5, 2))).shape == (1, 3, 2, 2)
    assert layers.deserialize(layers.serialize(same)).padding == "same"
    with pytest.raises(
        ValueError, match="Expected padding 'valid' or 'same'. Received: padding='full'"
    ):
        layers.MaxPool2D(2, padding="full")


def torch_dilated_conv2d(x, k, b, strides, padding, dilation):
    effective = [(size - 1) * rate + 1 for size, rate in zip(k.shape[:2], dilation)]
    if padding == "same":
        top, bottom = tf_same_padding(x.shape[1], effective[0], strides[0])
        left, right = tf_same_padding(x.shape[2], effective[1], strides[1])
        x = F.pad(x, (0, 0, left, right, top, bottom))
    weight = k.permute(3, 2, 0, 1).contiguous()
    return nhwc(F.conv2d(nchw(x).contiguous(), weight, b, stride=strides, dilation=dilation))


@given(
    size=st.integers(5, 9),
    kernel=st.integers(1, 3),
    dilation=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same"]),
    seed=seeds,
)
def test_conv2d_dilation_matches_torch(size, kernel, dilation, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, size, size + 1, 2))
    k = rng.normal(size=(kernel, kernel, 2, 3))
    b = rng.normal(size=(3,))
    rates, strides = (dilation, dilation), (stride, stride)
    check_op(
        lambda x, k, b: conv2d(x, k, b, strides, padding, dilation_rate=rates),
        lambda x, k, b: torch_dilated_conv2d(x, k, b, strides, padding, rates),
        [x, k, b],
    )


def test_conv_layer_dilation_rate(rng):
    conv = layers.Conv2D(3, 3, dilation_rate=(2, 1), dtype=F64, seed=0)
    x = rng.normal(size=(2, 9, 8, 2))
    assert conv(x).shape == (2, 5, 6, 3) == conv.compute_output_shape((2, 9, 8, 2))
    check_layer(conv, lambda x, k, b: torch_dilated_conv2d(x, k, b, (1, 1), "valid", (2, 1)), x)
    assert layers.deserialize(layers.serialize(conv)).dilation_rate == (2, 1)
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(3, 3, dilation_rate=0)
    with pytest.raises(ValueError, match=r"at least as large as the dilated kernel \(5, 3\)"):
        conv(np.zeros((1, 4, 8, 2)))


# ============================================================================ augmentation
def _shift_by_hand(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    height, width = image.shape[:2]
    out = np.zeros_like(image)
    out[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = image[
        max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
    ]
    return out


def test_random_shift_op_moves_each_image_and_its_gradient_back(rng):
    from autograd.ops import random_shift

    x = rng.normal(size=(4, 5, 6, 2))
    shifts = np.array([[0, 0], [1, -2], [-3, 2], [2, 1]])
    out = random_shift(Tensor(x), shifts).numpy()
    for image, (dy, dx), moved in zip(x, shifts, out):
        np.testing.assert_array_equal(moved, _shift_by_hand(image, dy, dx))
    # The VJP is the shift back (a linear map's transpose): checked by finite differences.
    compare_with_finite_differences(lambda t: random_shift(t, shifts), [x])
    with pytest.raises(ValueError, match=r"Expected integer shifts of shape \(4, 2\)"):
        random_shift(Tensor(x), shifts[:3])


def test_random_shift_layer_is_seeded_resumable_and_identity_at_inference():
    x = np.random.default_rng(0).normal(size=(8, 6, 6, 1)).astype(np.float32)
    layer = layers.RandomShift(2, seed=5)
    assert layer(x).numpy() is x and layers.RandomShift(0)(x, training=True).numpy() is x
    first = layer(x, training=True).numpy()
    assert not np.array_equal(first, x)
    assert np.all(np.abs(first).sum(axis=(1, 2, 3)) <= np.abs(x).sum(axis=(1, 2, 3)) + 1e-5)
    second = layer(x, training=True).numpy()
    resumed = layers.deserialize(layers.serialize(layer))
    resumed.set_extra_state(layers.RandomShift(2, seed=5).get_extra_state())
    np.testing.assert_array_equal(resumed(x, training=True).numpy(), first)
    resumed.set_extra_state(layer.get_extra_state())
    third = layer(x, training=True).numpy()
    np.testing.assert_array_equal(resumed(x, training=True).numpy(), third)
    assert not np.array_equal(first, second)
    with pytest.raises(ValueError, match="Expected max_shift to be a non-negative int"):
        layers.RandomShift(-1)
    with pytest.raises(ValueError, match=r"expected inputs of shape \(batch, height, width"):
        layer(np.zeros((2, 36), dtype=np.float32), training=True)
