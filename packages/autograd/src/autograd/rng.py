"""The library's random number generator: one seedable source for initializers, dropout, shuffling.

Example:

>>> from autograd import rng
>>> rng.set_seed(0); a = rng.generator().random()
>>> rng.set_seed(0); a == rng.generator().random()
True
"""

from __future__ import annotations

import numpy as np

_global_generator = np.random.default_rng()


def set_seed(seed: int) -> None:
    """Reseed the generator used by everything that is not given its own seed."""
    global _global_generator
    _global_generator = np.random.default_rng(seed)


def generator(seed: int | None = None) -> np.random.Generator:
    """A new generator for ``seed``, or the shared library generator when ``seed`` is None."""
    return _global_generator if seed is None else np.random.default_rng(seed)


def draw_seed() -> int:
    """A fresh 31-bit seed drawn from the shared generator (for objects that need their own)."""
    return int(_global_generator.integers(0, 2**31 - 1))


__all__ = ["draw_seed", "generator", "set_seed"]
