"""Test helpers: PyTorch as the gradient oracle, finite differences as the second one."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from autograd import Tensor
from autograd.gradcheck import analytic_gradients, check_gradients

TORCH_RTOL = 1e-6
"""Relative tolerance against PyTorch (both sides compute in float64)."""


def assert_close(
    actual: np.ndarray, expected: np.ndarray, rtol: float = TORCH_RTOL, what: str = ""
) -> None:
    """Elementwise relative error <= rtol, with an absolute floor of 1e-10 x the largest
    magnitude (so exact zeros and cancellations are compared on a sensible scale)."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=1e-10 * (1.0 + scale), err_msg=what
    )


def torch_gradients(
    fn: Callable[..., torch.Tensor], inputs: Sequence[np.ndarray], projection: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Output and input gradients of ``sum(fn(*inputs) * projection)`` with torch autograd."""
    tensors = [torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in inputs]
    out = fn(*tensors)
    (out * torch.from_numpy(projection)).sum().backward()
    grads = [t.grad.numpy() if t.grad is not None else np.zeros(t.shape) for t in tensors]
    return out.detach().numpy(), grads


def compare_with_torch(
    ours: Callable[..., Tensor],
    theirs: Callable[..., torch.Tensor],
    inputs: Sequence[np.ndarray],
    rtol: float = TORCH_RTOL,
    seed: int = 0,
) -> None:
    """Forward values and input gradients of ``ours`` equal PyTorch's on the same inputs."""
    arrays = [np.asarray(x, dtype=np.float64) for x in inputs]
    forward = ours(*[Tensor(a) for a in arrays]).data
    projection = np.random.default_rng(seed).normal(size=forward.shape)
    expected_out, expected_grads = torch_gradients(theirs, arrays, projection)
    assert_close(forward, expected_out, rtol, "forward")
    grads = analytic_gradients(ours, arrays, projection)
    for i, (grad, expected) in enumerate(zip(grads, expected_grads)):
        assert_close(grad, expected, rtol, f"gradient of input {i}")


def compare_with_finite_differences(
    ours: Callable[..., Tensor],
    inputs: Sequence[np.ndarray],
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> None:
    result = check_gradients(ours, inputs, rtol=rtol, atol=atol)
    assert result.ok, (
        f"finite differences disagree: max abs {result.max_abs_error:.3g}, "
        f"max rel {result.max_rel_error:.3g}"
    )


def check_op(
    ours: Callable[..., Tensor], theirs: Callable[..., torch.Tensor], inputs: Sequence[np.ndarray]
) -> None:
    """Both oracles: PyTorch and finite differences."""
    compare_with_torch(ours, theirs, inputs)
    compare_with_finite_differences(ours, inputs)


def away_from(
    values: np.ndarray, points: Sequence[float] = (0.0,), margin: float = 1e-2
) -> np.ndarray:
    """Push values at least ``margin`` away from kinks so finite differences are valid."""
    values = np.array(values, dtype=np.float64)
    for point in points:
        close = np.abs(values - point) < margin
        values[close] = point + np.where(values[close] >= point, margin, -margin)
    return values


def check_layer(
    layer,
    theirs: Callable[..., torch.Tensor],
    x: np.ndarray,
    training: bool = False,
    rtol: float = TORCH_RTOL,
    seed: int = 0,
) -> None:
    """Gradients of a (float64) layer w.r.t. its input and its trainable weights equal
    PyTorch's ``theirs(x, *weights)`` and finite differences."""
    from autograd import GradientTape
    from autograd.gradcheck import numerical_gradients

    x = np.asarray(x, dtype=np.float64)
    layer(x, training=training)  # build
    weights = layer.trainable_weights
    values = [w.numpy().copy() for w in weights]
    projection = np.random.default_rng(seed).normal(size=layer(x, training=training).shape)
    source = Tensor(x, requires_grad=True)
    with GradientTape() as tape:
        loss = (layer(source, training=training) * projection).sum()
    grads = [g.numpy() for g in tape.gradient(loss, [source, *weights])]
    expected_out, expected_grads = torch_gradients(theirs, [x, *values], projection)
    assert_close(layer(x, training=training).numpy(), expected_out, rtol, "forward")
    names = ["input"] + [w.name for w in weights]
    for name, grad, expected in zip(names, grads, expected_grads):
        assert_close(grad, expected, rtol, f"gradient of {name}")

    def with_weights(x: Tensor, *new_values: Tensor) -> Tensor:
        for variable, value in zip(weights, new_values):
            variable.data[...] = value.data
        return layer(x, training=training)

    numerical = numerical_gradients(with_weights, [x, *values], projection)
    for variable, value in zip(weights, values):
        variable.data[...] = value
    for name, grad, approx in zip(names, grads, numerical):
        np.testing.assert_allclose(
            grad, approx, rtol=1e-5, atol=1e-7, err_msg=f"finite differences, gradient of {name}"
        )
