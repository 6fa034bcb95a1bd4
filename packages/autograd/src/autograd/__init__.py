"""autograd: a from-scratch reverse-mode automatic differentiation library on numpy, with a
Keras-shaped API (the "Beras" assignment).

Modules, one per concept:

* :mod:`autograd.tensor` - the engine: ``Tensor``, ``Variable``, ``GradientTape``, primitives
* :mod:`autograd.ops` - the fused primitives behind the layers (dense, conv2d, max_pool2d, ...)
* :mod:`autograd.activations`, :mod:`autograd.layers`, :mod:`autograd.losses`,
  :mod:`autograd.optimizers`, :mod:`autograd.initializers`, :mod:`autograd.metrics`,
  :mod:`autograd.preprocessing`, :mod:`autograd.callbacks`, :mod:`autograd.model`
* :mod:`autograd.gradcheck` - finite-difference gradient checking

The library imports numpy only (``autograd.apps`` holds training entry points that may use more).

Example:

>>> import numpy as np
>>> from autograd import GradientTape, Variable
>>> w = Variable(np.array([3.0]))  # float64 arrays stay float64
>>> with GradientTape() as tape:
...     y = w * w + 2 * w
>>> tape.gradient(y, w).numpy()
array([8.])
"""

from autograd import (
    activations,
    callbacks,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    ops,
    optimizers,
    preprocessing,
    rng,
)
from autograd.model import Sequential, load_model
from autograd.rng import set_seed
from autograd.tensor import (
    GradientTape,
    Tensor,
    Variable,
    as_tensor,
    clip,
    concatenate,
    exp,
    log,
    matmul,
    maximum,
    minimum,
    reshape,
    sqrt,
    stack,
    transpose,
    where,
)

__version__ = "0.1.0"

__all__ = [
    "GradientTape",
    "Sequential",
    "Tensor",
    "Variable",
    "activations",
    "as_tensor",
    "callbacks",
    "clip",
    "concatenate",
    "exp",
    "gradcheck",
    "initializers",
    "layers",
    "load_model",
    "log",
    "losses",
    "matmul",
    "maximum",
    "metrics",
    "minimum",
    "ops",
    "optimizers",
    "preprocessing",
    "reshape",
    "rng",
    "set_seed",
    "sqrt",
    "stack",
    "transpose",
    "where",
]
