"""Finite-difference gradient checking.

:func:`check_gradients` compares the engine's gradients of ``sum(fn(*inputs) * v)`` (``v`` a
fixed random projection, so every output element matters) with central differences
``(L(x + eps) - L(x - eps)) / (2 eps)``, one input element at a time, in float64.

Example:

>>> import numpy as np
>>> from autograd import gradcheck, activations
>>> x = np.random.default_rng(0).normal(size=(3, 4))
>>> result = gradcheck.check_gradients(activations.tanh, [x])
>>> result.ok
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from autograd.tensor import GradientTape, Tensor


class GradientCheckError(AssertionError):
    """Raised by :func:`check_gradients` when analytic and numerical gradients disagree."""


@dataclass
class GradientCheckResult:
    """Outcome of a gradient check.

    Attributes:
        ok: all elements within tolerance.
        max_abs_error: largest ``|analytic - numerical|``.
        max_rel_error: largest ``|analytic - numerical| / max(|analytic|, |numerical|)`` over
            elements where that denominator exceeds ``atol``.
        analytic, numerical: the gradients, one array per input.
    """

    ok: bool
    max_abs_error: float
    max_rel_error: float
    analytic: list[np.ndarray]
    numerical: list[np.ndarray]


def _projected_loss(
    fn: Callable[..., Tensor], inputs: Sequence[Tensor], projection: np.ndarray
) -> Tensor:
    out = fn(*inputs)
    return (out * projection).sum()


def numerical_gradients(
    fn: Callable[..., Tensor],
    inputs: Sequence[np.ndarray],
    projection: np.ndarray | None = None,
    eps: float = 1e-6,
) -> list[np.ndarray]:
    """Central-difference gradients of ``sum(fn(*inputs) * projection)`` (float64)."""
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    if projection is None:
        projection = np.ones_like(fn(*[Tensor(a) for a in arrays]).data)

    def loss() -> float:
        return float(np.sum(fn(*[Tensor(a) for a in arrays]).data * projection))

    grads = []
    for array in arrays:
        grad = np.zeros_like(array)
        flat, flat_grad = array.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            upper = loss()
            flat[i] = original - eps
            lower = loss()
            flat[i] = original
            flat_grad[i] = (upper - lower) / (2 * eps)
        grads.append(grad)
    return grads


def analytic_gradients(
    fn: Callable[..., Tensor], inputs: Sequence[np.ndarray], projection: np.ndarray | None = None
) -> list[np.ndarray]:
    """The engine's gradients of ``sum(fn(*inputs) * projection)`` (float64)."""
    tensors = [Tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
    with GradientTape() as tape:
        out = fn(*tensors)
        if projection is None:
            projection = np.ones_like(out.data)
        loss = (out * projection).sum()
    grads = tape.gradient(loss, tensors, unconnected_gradients="zero")
    return [g.numpy() for g in grads]


def check_gradients(
    fn: Callable[..., Tensor],
    inputs: Sequence[np.ndarray],
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
    raise_on_failure: bool = False,
) -> GradientCheckResult:
    """Compare the engine's gradients of ``fn`` with finite differences at ``inputs``.

    Args:
        fn: maps tensors to a tensor (any shape).
        inputs: the points (converted to float64) at which to check.
        eps: finite-difference step.
        rtol, atol: an element passes if ``|a - n| <= atol + rtol * max(|a|, |n|)``.
        seed: seed of the random projection of the output.
        raise_on_failure: raise :class:`GradientCheckError` instead of returning ``ok=False``.
    """
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    out_shape = fn(*[Tensor(a) for a in arrays]).shape
    projection = np.random.default_rng(seed).normal(size=out_shape)
    analytic = analytic_gradients(fn, arrays, projection)
    numerical = numerical_gradients(fn, arrays, projection, eps)
    max_abs = max_rel = 0.0
    ok = True
    for a, n in zip(analytic, numerical):
        diff = np.abs(a - n)
        scale = np.maximum(np.abs(a), np.abs(n))
        ok &= bool(np.all(diff <= atol + rtol * scale))
        if diff.size:
            max_abs = max(max_abs, float(diff.max()))
            significant = scale > atol
            if significant.any():
                max_rel = max(max_rel, float((diff[significant] / scale[significant]).max()))
    result = GradientCheckResult(ok, max_abs, max_rel, analytic, numerical)
    if raise_on_failure and not ok:
        raise GradientCheckError(
            f"Gradient check failed: max abs error {max_abs:.3g}, max "
            f"relative error {max_rel:.3g} (rtol={rtol}, atol={atol})"
        )
    return result


__all__ = [
    "GradientCheckError",
    "GradientCheckResult",
    "analytic_gradients",
    "check_gradients",
    "numerical_gradients",
]
