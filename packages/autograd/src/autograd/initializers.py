"""Weight initializers, following the maths of ``keras.initializers``.

Names accepted by :func:`get` (Beras-style aliases in brackets):

* ``zeros`` (``zero``), ``ones``
* ``normal``: unit normal ``N(0, 1)`` (as the Beras assignment defines it)
* ``glorot_normal`` (``xavier``): truncated normal, ``stddev = sqrt(2 / (fan_in + fan_out))``
* ``he_normal`` (``kaiming``): truncated normal, ``stddev = sqrt(2 / fan_in)``
* ``glorot_uniform``, ``he_uniform``: uniform in ``[-limit, limit]``, ``limit = sqrt(3 scale / n)``

Keras' truncated normal redraws values further than two standard deviations from the mean and
divides the standard deviation by 0.8796... so that the truncated distribution keeps the target
variance.

Example:

>>> from autograd import initializers
>>> w = initializers.get("kaiming")((784, 128), seed=0)
>>> w.shape, w.dtype
((784, 128), dtype('float32'))
"""

from __future__ import annotations

import math
from typing import Any, Union

import numpy as np

from autograd import rng
from autograd._names import unknown_name_error

# Standard deviation of a unit normal truncated to [-2, 2].
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` as Keras computes them (conv kernels: ``(kh, kw, in, out)``)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Base class: ``initializer(shape, dtype="float32", seed=None)`` returns a numpy array.

    Example:

    >>> Zeros()((2, 3)).sum()
    np.float32(0.0)
    """

    def __call__(
        self, shape: tuple[int, ...], dtype: Any = "float32", seed: int | None = None
    ) -> np.ndarray:
        return self.sample(tuple(shape), rng.generator(seed)).astype(dtype, copy=False)

    def sample(self, shape: tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (a poor choice for weights: every unit then learns the same thing).

    Example:

    >>> Zeros()((2,))
    array([0., 0.], dtype=float32)
    """

    def sample(self, shape: tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        return np.zeros(shape)


class Ones(Initializer):
    """All ones.

    Example:

    >>> Ones()((2,))
    array([1., 1.], dtype=float32)
    """

    def sample(self, shape: tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        return np.ones(shape)


class Constant(Initializer):
    """Every entry equal to ``value``.

    Example:

    >>> Constant(0.5)((2,))
    array([0.5, 0.5], dtype=float32)
    """

    def __init__(self, value: float = 0.0) -> None:
        self.value = float(value)

    def sample(self, shape: tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        return np.full(shape, self.value)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(Initializer):
    """``N(mean, stddev^2)``; the default is the unit normal.

    Example:

    >>> RandomNormal(stddev=0.05)((1000,), seed=0).std().round(2)
    np.float32(0.05)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 1.0) -> None:
        self.mean, self.stddev = float(mean), float(stddev)

    def sample(self, shape: tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        return generator.normal(self.mean, self.stddev, size=shape)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    """Uniform in ``[minval, maxval)``.

    Example:

    >>> float(RandomUniform(-1, 1)((1000,), seed=0).max()) <= 1
    True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        self.minval, self.maxval = float(minval), float(maxval)

    def sample(self, shape: tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        return generator.uniform(self.minval, self.maxval, size=shape)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval}


def truncated_normal(
    shape: tuple[int, ...], stddev: float, generator: np.random.Generator
) -> np.ndarray:
    """``N(0, stddev^2)`` restricted to ``[-2 stddev, 2 stddev]`` by redrawing outliers."""
    values = generator.normal(0.0, stddev, size=shape)
    outside = np.abs(values) > 2 * stddev
    while outside.any():
        values[outside] = generator.normal(0.0, stddev, size=int(outside.sum()))
        outside = np.abs(values) > 2 * stddev
    return values


class VarianceScaling(Initializer):
    """Keras' ``VarianceScaling``: variance ``scale / n`` where ``n`` depends on ``mode``.

    Args:
        scale: the variance numerator.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.

    Example:

    >>> w = VarianceScaling(2.0, "fan_in")((400, 300), seed=1)
    >>> abs(float(w.std()) - (2 / 400) ** 0.5) < 0.003
    True
    """

    def __init__(
        self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"
    ) -> None:
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"Expected mode in ('fan_in', 'fan_out', 'fan_avg'). Received: mode={mode!r}"
            )
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "Expected distribution in ('truncated_normal', "
                f"'untruncated_normal', 'uniform'). Received: {distribution!r}"
            )
        if scale <= 0:
            raise ValueError(f"Expected scale > 0. Received: scale={scale}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def sample(self, shape: tuple[int, ...], generator: np.random.Generator) -> np.ndarray:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            return truncated_normal(shape, math.sqrt(variance) / _TRUNCATED_STDDEV, generator)
        if self.distribution == "untruncated_normal":
            return generator.normal(0.0, math.sqrt(variance), size=shape)
        limit = math.sqrt(3.0 * variance)
        return generator.uniform(-limit, limit, size=shape)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class GlorotNormal(VarianceScaling):
    """Xavier normal: truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.

    Example:

    >>> GlorotNormal()((3, 2), seed=0).shape
    (3, 2)
    """

    def __init__(self) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal")

    def get_config(self) -> dict[str, Any]:
        return {}


class GlorotUniform(VarianceScaling):
    """Xavier uniform (the Keras default for ``Dense`` and ``Conv2D`` kernels).

    Example:

    >>> GlorotUniform()((3, 2), seed=0).shape
    (3, 2)
    """

    def __init__(self) -> None:
        super().__init__(1.0, "fan_avg", "uniform")

    def get_config(self) -> dict[str, Any]:
        return {}


class HeNormal(VarianceScaling):
    """Kaiming He normal: truncated normal with ``stddev = sqrt(2 / fan_in)``.

    Example:

    >>> HeNormal()((3, 2), seed=0).shape
    (3, 2)
    """

    def __init__(self) -> None:
        super().__init__(2.0, "fan_in", "truncated_normal")

    def get_config(self) -> dict[str, Any]:
        return {}


class HeUniform(VarianceScaling):
    """Kaiming He uniform: ``limit = sqrt(6 / fan_in)``.

    Example:

    >>> HeUniform()((3, 2), seed=0).shape
    (3, 2)
    """

    def __init__(self) -> None:
        super().__init__(2.0, "fan_in", "uniform")

    def get_config(self) -> dict[str, Any]:
        return {}


InitializerLike = Union[str, Initializer]

_REGISTRY: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "zero": Zeros,
    "ones": Ones,
    "constant": Constant,
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "uniform": RandomUniform,
    "variance_scaling": VarianceScaling,
    "glorot_normal": GlorotNormal,
    "xavier": GlorotNormal,
    "xavier_normal": GlorotNormal,
    "glorot_uniform": GlorotUniform,
    "xavier_uniform": GlorotUniform,
    "he_normal": HeNormal,
    "kaiming": HeNormal,
    "kaiming_normal": HeNormal,
    "he_uniform": HeUniform,
    "kaiming_uniform": HeUniform,
}
_CLASSES = {cls.__name__: cls for cls in _REGISTRY.values()}


def get(identifier: InitializerLike | dict[str, Any]) -> Initializer:
    """An initializer from a name, a serialized dict, or an instance (returned as is).

    Example:

    >>> get("xavier")
    GlorotNormal()
    """
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    raise unknown_name_error("initializer", identifier, _REGISTRY)


def serialize(initializer: Initializer) -> dict[str, Any]:
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "Ones",
    "RandomNormal",
    "RandomUniform",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get",
    "serialize",
    "truncated_normal",
]
