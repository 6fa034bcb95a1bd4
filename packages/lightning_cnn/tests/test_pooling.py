"""GeM pooling: the Keras layer and the PyTorch module compute the same maths.

Same outputs and same gradients (for the input and for the learnable exponent ``p``), plus Keras
serialisation and clear errors.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

from lightning_cnn.keras_pooling import GeneralizedMeanPooling2D
from lightning_cnn.torch_pooling import GeneralizedMeanPool2d, generalized_mean_pool2d


def torch_forward_backward(
    inputs_nhwc: np.ndarray,
    upstream: np.ndarray,
    p: float,
    kernel: int,
    stride: int,
    dtype: torch.dtype,
):
    x = torch.tensor(inputs_nhwc.transpose(0, 3, 1, 2), dtype=dtype, requires_grad=True)
    pool = GeneralizedMeanPool2d(kernel, stride, p=p).to(dtype)
    out = pool(x)
    (out * torch.tensor(upstream.transpose(0, 3, 1, 2), dtype=dtype)).sum().backward()
    return (
        out.detach().numpy().transpose(0, 2, 3, 1),
        x.grad.numpy().transpose(0, 2, 3, 1),
        pool.p.grad.item(),
    )


def keras_forward_backward(
    inputs_nhwc: np.ndarray, upstream: np.ndarray, p: float, kernel: int, stride: int, dtype: str
):
    layer = GeneralizedMeanPooling2D(kernel, stride, p=p, dtype=dtype)
    x = tf.Variable(inputs_nhwc.astype(dtype))
    with tf.GradientTape() as tape:
        out = layer(x)
        loss = tf.reduce_sum(out * tf.constant(upstream.astype(dtype)))
    grad_x, grad_p = tape.gradient(loss, [x, layer.p])
    return out.numpy(), grad_x.numpy(), float(grad_p.numpy())


@pytest.mark.parametrize("kernel,stride,size", [(2, 2, 8), (3, 2, 9), (3, 1, 7)])
@pytest.mark.parametrize("dtype,tolerance", [("float32", 1e-5), ("float64", 1e-11)])
def test_keras_and_torch_give_same_outputs_and_gradients(kernel, stride, size, dtype, tolerance):
    rng = np.random.default_rng(0)
    inputs = rng.random((2, size, size, 5))
    inputs[inputs < 0.15] = 0.0  # exact zeros, as after a ReLU
    out_shape = (2, (size - kernel) // stride + 1, (size - kernel) // stride + 1, 5)
    upstream = rng.normal(size=out_shape)
    torch_dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]

    t_out, t_grad_x, t_grad_p = torch_forward_backward(
        inputs, upstream, 2.5, kernel, stride, torch_dtype
    )
    k_out, k_grad_x, k_grad_p = keras_forward_backward(inputs, upstream, 2.5, kernel, stride, dtype)

    assert t_out.shape == k_out.shape == out_shape
    np.testing.assert_allclose(k_out, t_out, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(k_grad_x, t_grad_x, rtol=tolerance * 10, atol=tolerance)
    assert k_grad_p == pytest.approx(t_grad_p, rel=tolerance * 10, abs=tolerance)
    assert abs(t_grad_p) > 1e-3  # the exponent really receives a gradient


def test_torch_gradients_match_finite_differences():
    x = torch.rand(1, 2, 4, 4, dtype=torch.float64) + 0.1
    p = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: generalized_mean_pool2d(a, b), (x, p))


def test_p_one_is_average_pooling_and_large_p_approaches_max_pooling():
    x = torch.rand(3, 4, 8, 8) + 0.01
    average = torch.nn.functional.avg_pool2d(x, 2)
    maximum = torch.nn.functional.max_pool2d(x, 2)
    torch.testing.assert_close(generalized_mean_pool2d(x, 1.0), average)
    gem6 = generalized_mean_pool2d(x, 6.0)
    assert torch.all(gem6 <= maximum + 1e-6) and torch.all(gem6 >= average - 1e-6)


def test_keras_layer_serialises_and_round_trips_through_a_saved_model(tmp_path):
    inputs = keras.Input((8, 8, 3))
    outputs = GeneralizedMeanPooling2D(2, p=2.0, name="gem")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("gem").p.assign(3.7)  # a "learned" value must survive saving

    config = model.get_layer("gem").get_config()
    assert config["pool_size"] == 2 and config["p"] == 2.0 and config["trainable_p"]
    clone = GeneralizedMeanPooling2D.from_config(config)
    assert clone.pool_size == 2 and clone.name == "gem"

    path = tmp_path / "gem.keras"
    model.save(path)
    restored = keras.saving.load_model(path)  # registered: no custom_objects needed
    assert isinstance(restored.get_layer("gem"), GeneralizedMeanPooling2D)
    assert float(restored.get_layer("gem").p.numpy()) == pytest.approx(3.7)
    batch = np.random.default_rng(1).random((2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(
        restored.predict(batch, verbose=0), model.predict(batch, verbose=0), rtol=1e-6
    )


def test_keras_layer_trains_p():
    layer = GeneralizedMeanPooling2D(2, p=3.0)
    layer.build((None, 4, 4, 1))
    assert [w.name for w in layer.trainable_weights] == ["p"]
    frozen = GeneralizedMeanPooling2D(2, p=3.0, trainable_p=False)
    frozen.build((None, 4, 4, 1))
    assert frozen.trainable_weights == []


@pytest.mark.parametrize(
    "kwargs,message",
    [({"p": 0.5}, "p <= 6.0"), ({"p": 7.0}, "p <= 6.0"), ({"pool_size": 0}, "pool_size >= 1")],
)
def test_keras_layer_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GeneralizedMeanPooling2D(**kwargs)


def test_keras_layer_rejects_wrong_rank():
    with pytest.raises(ValueError, match="ndim=4"):
        GeneralizedMeanPooling2D(2)(np.zeros((2, 8, 3), "float32"))


@pytest.mark.parametrize(
    "kwargs,message", [({"p": 0.0}, "p <= 6.0"), ({"kernel_size": 0}, "kernel_size >= 1")]
)
def test_torch_module_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GeneralizedMeanPool2d(**kwargs)


def test_torch_module_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"4-D input .* Received: inputs.shape=\(2, 8\)"):
        GeneralizedMeanPool2d(2)(torch.zeros(2, 8))
