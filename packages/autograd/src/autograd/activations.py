"""Activation functions, each a primitive with its forward value and VJP side by side.

The layer versions (``layers.ReLU``, ``layers.Activation("gelu")``, ...) wrap these functions.

Example:

>>> from autograd import Tensor, activations
>>> activations.relu(Tensor([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
"""

from __future__ import annotations

import math
from typing import Callable, Union

import numpy as np

from autograd._names import unknown_name_error
from autograd.tensor import Tensor, TensorLike, as_tensor


def linear(x: TensorLike) -> Tensor:
    """The identity ``f(x) = x``."""
    return as_tensor(x)


def relu(x: TensorLike) -> Tensor:
    """``max(x, 0)``; the gradient at 0 is 0 (as in PyTorch)."""
    x = as_tensor(x)
    out = np.maximum(x.data, 0)
    return Tensor.from_op(out, (x,), lambda g: (g * (x.data > 0),), "relu")


def leaky_relu(x: TensorLike, negative_slope: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    x = as_tensor(x)
    positive = x.data > 0
    out = np.where(positive, x.data, x.data * negative_slope)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (np.where(positive, g, g * negative_slope),)

    return Tensor.from_op(out, (x,), backward, "leaky_relu")


def _stable_sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-|z|) never overflows; the two branches are the same function rearranged.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid(x: TensorLike) -> Tensor:
    """``1 / (1 + exp(-x))``, computed without overflow."""
    x = as_tensor(x)
    out = _stable_sigmoid(x.data)
    return Tensor.from_op(out, (x,), lambda g: (g * out * (1.0 - out),), "sigmoid")


def tanh(x: TensorLike) -> Tensor:
    """Hyperbolic tangent."""
    x = as_tensor(x)
    out = np.tanh(x.data)
    return Tensor.from_op(out, (x,), lambda g: (g * (1.0 - out * out),), "tanh")


def softplus(x: TensorLike) -> Tensor:
    """``log(1 + exp(x))``, computed as ``logaddexp(0, x)``; its derivative is ``sigmoid(x)``."""
    x = as_tensor(x)
    out = np.logaddexp(0, x.data).astype(x.dtype, copy=False)
    return Tensor.from_op(out, (x,), lambda g: (g * _stable_sigmoid(x.data),), "softplus")


def swish(x: TensorLike) -> Tensor:
    """``x * sigmoid(x)`` (a.k.a. SiLU)."""
    x = as_tensor(x)
    s = _stable_sigmoid(x.data)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g * (s * (1.0 + x.data * (1.0 - s))),)

    return Tensor.from_op(x.data * s, (x,), backward, "swish")


silu = swish

_GELU_C = math.sqrt(2.0 / math.pi)


def gelu(x: TensorLike) -> Tensor:
    """GELU, tanh approximation: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Matches ``torch.nn.functional.gelu(x, approximate="tanh")`` and Keras'
    ``gelu(x, approximate=True)``.
    """
    x = as_tensor(x)
    inner = _GELU_C * (x.data + 0.044715 * x.data**3)
    t = np.tanh(inner)
    out = 0.5 * x.data * (1.0 + t)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        d_inner = _GELU_C * (1.0 + 3 * 0.044715 * x.data**2)
        return (g * (0.5 * (1.0 + t) + 0.5 * x.data * (1.0 - t * t) * d_inner),)

    return Tensor.from_op(out, (x,), backward, "gelu")


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = as_tensor(x)
    positive = x.data > 0
    negative_part = alpha * np.expm1(np.minimum(x.data, 0))
    out = np.where(positive, x.data, negative_part)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (np.where(positive, g, g * (negative_part + alpha)),)

    return Tensor.from_op(out, (x,), backward, "elu")


def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``; the max is subtracted first, so it never overflows.

    Its VJP is ``s * (g - sum(g * s))`` (the Jacobian is ``diag(s) - s s^T``).
    """
    x = as_tensor(x)
    shifted = x.data - np.max(x.data, axis=axis, keepdims=True)
    e = np.exp(shifted)
    out = e / np.sum(e, axis=axis, keepdims=True)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)

    return Tensor.from_op(out, (x,), backward, "softmax")


def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``, computed stably."""
    x = as_tensor(x)
    shifted = x.data - np.max(x.data, axis=axis, keepdims=True)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

    return Tensor.from_op(out, (x,), backward, "log_softmax")


ActivationLike = Union[str, Callable[[Tensor], Tensor], None]

_REGISTRY: dict[str, Callable[..., Tensor]] = {
    "linear": linear,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "gelu": gelu,
    "swish": swish,
    "silu": silu,
    "elu": elu,
}


def get(identifier: ActivationLike) -> Callable[[Tensor], Tensor]:
    """Look up an activation by name (``None`` means linear); callables pass through.

    Example:

    >>> get("relu") is relu
    True
    """
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]
    raise unknown_name_error("activation", identifier, _REGISTRY)


def serialize(activation: Callable[[Tensor], Tensor]) -> str:
    """The registry name of an activation function."""
    for name, function in _REGISTRY.items():
        if function is activation:
            return name
    raise ValueError(f"Expected a built-in activation to serialize. Received: {activation!r}")


__all__ = [
    "elu",
    "gelu",
    "get",
    "leaky_relu",
    "linear",
    "log_softmax",
    "relu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "swish",
    "tanh",
]
