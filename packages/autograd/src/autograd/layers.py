"""Layers, Keras style: ``__init__`` stores config, ``build`` makes weights, ``call`` computes.

The layers own the weights and the configuration; the computation of ``Dense``, ``Conv2D``,
``MaxPool2D``, ``BatchNormalization``, ``Dropout`` and ``RandomShift`` is one fused primitive
each, in :mod:`autograd.ops` (re-exported here as ``dense``, ``conv2d``, ``max_pool2d``,
``batch_norm``, ``dropout`` and ``random_shift``).

Images are channels-last, ``(batch, height, width, channels)``, and conv kernels are
``(kernel_height, kernel_width, in_channels, filters)``, as in Keras.

Example:

>>> import numpy as np
>>> from autograd import layers
>>> dense = layers.Dense(3, activation="relu")
>>> dense(np.ones((2, 4), dtype="float32")).shape
(2, 3)
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import numpy as np

from autograd import activations, rng
from autograd import initializers as initializers_module
from autograd.ops import batch_norm, conv2d, dense, dropout, max_pool2d, random_shift
from autograd.tensor import Tensor, TensorLike, Variable, add, as_tensor, reshape

Shape = tuple[int | None, ...]

_LAYER_CLASSES: dict[str, type["Layer"]] = {}
_NAME_COUNTS: dict[str, int] = {}


def _auto_name(cls: type) -> str:
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls.__name__).lower()
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in pair):
        raise ValueError(
            f"Expected {name} to be a positive int or a pair of positive ints. "
            f"Received: {name}={value!r}"
        )
    return int(pair[0]), int(pair[1])


# ==================================================================================== base
class Layer:
    """Base class of layers.

    Subclasses implement ``build(input_shape)`` (create weights with :meth:`add_weight`),
    ``call(inputs, training=False)`` and, when the shape changes, ``compute_output_shape``.

    Args:
        name: unique-ish name (default: snake_case class name plus a counter).
        dtype: dtype of weights and computations (``"float32"``; use ``"float64"`` for checks).
        trainable: whether optimizers update this layer's weights.

    Example:

    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.factor = self.add_weight("factor", (), "ones")
    ...     def call(self, inputs, training=False):
    ...         return inputs * self.factor
    >>> Scale()(np.array([1.0, 2.0], dtype="float32")).numpy()
    array([1., 2.], dtype=float32)
    """

    def __init__(
        self, name: str | None = None, dtype: Any = "float32", trainable: bool = True
    ) -> None:
        self.name = name or _auto_name(type(self))
        self.dtype = np.dtype(dtype)
        self.trainable = trainable
        self.built = False
        self._own_weights: list[Variable] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _LAYER_CLASSES[cls.__name__] = cls

    # ----------------------------------------------------------------------------- protocol
    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis may be ``None``)."""

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return tuple(input_shape)

    def __call__(self, inputs: TensorLike, training: bool = False) -> Tensor:
        inputs = as_tensor(inputs, self.dtype)
        if not self.built:
            self.build(inputs.shape)
            self.built = True
        return self.call(inputs, training=training)

    def ensure_built(self, input_shape: Shape) -> None:
        """Build the layer for ``input_shape`` unless it is already built."""
        if not self.built:
            self.build(tuple(input_shape))
            self.built = True

    # ------------------------------------------------------------------------------ weights
    def add_weight(
        self,
        name: str,
        shape: Sequence[int],
        initializer: initializers_module.InitializerLike = "zeros",
        trainable: bool = True,
        seed: int | None = None,
    ) -> Variable:
        """Create, register and return a :class:`Variable` named ``"{layer}/{name}"``."""
        value = initializers_module.get(initializer)(tuple(shape), self.dtype, seed)
        variable = Variable(
            value, dtype=self.dtype, trainable=trainable, name=f"{self.name}/{name}"
        )
        self._own_weights.append(variable)
        return variable

    @property
    def sublayers(self) -> list["Layer"]:
        return []

    @property
    def weights(self) -> list[Variable]:
        """All variables of this layer and its sublayers, trainable ones first."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        own = [w for w in self._own_weights if w.trainable]
        return own + [w for layer in self.sublayers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        own = [w for w in self._own_weights if not w.trainable or not self.trainable]
        return own + [w for layer in self.sublayers for w in layer.non_trainable_weights]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def count_params(self) -> int:
        return sum(w.size for w in self.weights)

    # ------------------------------------------------------------------ state and config
    def get_extra_state(self) -> dict[str, np.ndarray]:
        """State that is not a variable but must survive a checkpoint (e.g. RNG counters)."""
        return {}

    def set_extra_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_extra_state` returned."""

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def serialize(layer: Layer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` for :func:`deserialize`."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict[str, Any]) -> Layer:
    """Rebuild a layer from :func:`serialize` output.

    Example:

    >>> deserialize(serialize(Dense(4, name="d"))).units
    4
    """
    class_name = config.get("class_name")
    if class_name not in _LAYER_CLASSES:
        raise ValueError(
            f"Unknown layer class. Expected one of {sorted(_LAYER_CLASSES)}. "
            f"Received: class_name={class_name!r}"
        )
    return _LAYER_CLASSES[class_name].from_config(dict(config["config"]))


class InputLayer(Layer):
    """Declares the shape of one example (without the batch axis) and checks inputs against it.

    Example:

    >>> InputLayer((4,))(np.zeros((2, 4))).shape
    (2, 4)
    """

    def __init__(self, shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shape = tuple(int(n) for n in shape)
        self.built = True

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if inputs.shape[1:] != self.shape:
            raise ValueError(
                f"Expected inputs of shape (batch, {', '.join(map(str, self.shape))})"
                f" for input layer {self.name!r}. Received: inputs.shape="
                f"{inputs.shape}"
            )
        return inputs

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0] if input_shape else None, *self.shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shape": list(self.shape)}


def Input(shape: Sequence[int], name: str | None = None, dtype: Any = "float32") -> InputLayer:
    """Keras-style ``Input(shape=...)`` for the first element of a ``Sequential`` model.

    Example:

    >>> Input((28, 28, 1)).shape
    (28, 28, 1)
    """
    return InputLayer(shape, name=name, dtype=dtype)


# =================================================================================== dense
class Dense(Layer):
    """Fully connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    Args:
        units: output size.
        activation: name or callable (see :mod:`autograd.activations`); ``None`` = linear.
        use_bias: add a bias vector.
        kernel_initializer: ``"zeros"``, ``"normal"``, ``"xavier"`` (Glorot normal),
            ``"kaiming"`` (He normal), ``"glorot_uniform"`` (default, as Keras), ...
        bias_initializer: initializer of the bias.
        seed: seed of the kernel initializer (default: the library generator).

    Input shape: ``(batch, ..., input_dim)``.
    Output shape: ``(batch, ..., units)``.

    Example:

    >>> layer = Dense(2, kernel_initializer="kaiming", seed=0)
    >>> layer(np.ones((5, 3), dtype="float32")).shape, layer.kernel.shape
    ((5, 2), (3, 2))
    """

    def __init__(
        self,
        units: int,
        activation: activations.ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: initializers_module.InitializerLike = "glorot_uniform",
        bias_initializer: initializers_module.InitializerLike = "zeros",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Expected units to be a positive int. Received: units={units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.seed = seed

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Layer {self.name!r} expected inputs of shape (batch, ..., features)"
                f". Received: input_shape={tuple(input_shape)}"
            )
        self.kernel = self.add_weight(
            "kernel", (input_shape[-1], self.units), self.kernel_initializer, seed=self.seed
        )
        self.bias = (
            self.add_weight("bias", (self.units,), self.bias_initializer) if self.use_bias else None
        )

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if inputs.ndim < 2 or inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Layer {self.name!r} expected inputs of shape (batch, ..., "
                f"{self.kernel.shape[0]}). Received: inputs.shape={inputs.shape}"
            )
        return self.activation(dense(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "seed": self.seed,
        }


# ============================================================================= activations
class Activation(Layer):
    """Applies an activation function by name or callable.

    Example:

    >>> Activation("relu")(np.array([-1.0, 1.0])).numpy()
    array([0., 1.], dtype=float32)
    """

    def __init__(self, activation: activations.ActivationLike, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        return self.activation(inputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class _FixedActivation(Layer):
    function_name = "linear"

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        return activations.get(self.function_name)(inputs)


class ReLU(_FixedActivation):
    """``max(x, 0)``.

    Example:

    >>> ReLU()(np.array([-1.0, 2.0])).numpy()
    array([0., 2.], dtype=float32)
    """

    function_name = "relu"


class Sigmoid(_FixedActivation):
    """Logistic sigmoid.

    Example:

    >>> Sigmoid()(np.array([0.0])).numpy()
    array([0.5], dtype=float32)
    """

    function_name = "sigmoid"


class Tanh(_FixedActivation):
    """Hyperbolic tangent.

    Example:

    >>> Tanh()(np.array([0.0])).numpy()
    array([0.], dtype=float32)
    """

    function_name = "tanh"


class Softplus(_FixedActivation):
    """``log(1 + exp(x))``.

    Example:

    >>> Softplus()(np.array([0.0])).numpy().round(4)
    array([0.6931], dtype=float32)
    """

    function_name = "softplus"


class GELU(_FixedActivation):
    """GELU (tanh approximation).

    Example:

    >>> GELU()(np.array([0.0])).numpy()
    array([0.], dtype=float32)
    """

    function_name = "gelu"


class Swish(_FixedActivation):
    """``x * sigmoid(x)`` (SiLU).

    Example:

    >>> Swish()(np.array([0.0])).numpy()
    array([0.], dtype=float32)
    """

    function_name = "swish"


class LeakyReLU(Layer):
    """``x`` for ``x > 0``, else ``negative_slope * x`` (default 0.01, as PyTorch and FIT3181).

    Example:

    >>> LeakyReLU(0.1)(np.array([-1.0, 2.0])).numpy()
    array([-0.1,  2. ], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        return activations.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Softmax(Layer):
    """Numerically stable softmax along ``axis``.

    Example:

    >>> Softmax()(np.array([[1000.0, 1000.0]])).numpy()
    array([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        return activations.softmax(inputs, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


# ========================================================================= reshaping layers
class Flatten(Layer):
    """Flatten everything but the batch axis.

    Input shape: ``(batch, ...)``. Output shape: ``(batch, prod(...))``.

    Example:

    >>> Flatten()(np.zeros((2, 3, 4))).shape
    (2, 12)
    """

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        return reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        known = [size for size in input_shape[1:] if size is not None]
        if len(known) < len(input_shape) - 1:
            return (input_shape[0], None)  # Keras: unknown when any flattened axis is
        return (input_shape[0], math.prod(known))


class Reshape(Layer):
    """Reshape each example to ``target_shape`` (the batch axis is kept).

    Example:

    >>> Reshape((28, 28, 1))(np.zeros((2, 784))).shape
    (2, 28, 28, 1)
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(n) for n in target_shape)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if math.prod(inputs.shape[1:]) != math.prod(self.target_shape):
            raise ValueError(
                f"Layer {self.name!r} cannot reshape examples of shape "
                f"{inputs.shape[1:]} to {self.target_shape}. "
                f"Received: inputs.shape={inputs.shape}"
            )
        return reshape(inputs, (inputs.shape[0], *self.target_shape))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *self.target_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


# ================================================================================= dropout
class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale the rest
    by ``1 / (1 - rate)``; identity at inference.

    Masks come from ``default_rng([seed, call_index])``; the call counter is saved in
    checkpoints, so a resumed training run draws the same masks as an uninterrupted one.

    Example:

    >>> out = Dropout(0.5, seed=0)(np.ones((2, 4), dtype="float32"), training=True)
    >>> sorted(set(out.numpy().ravel().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Expected 0 <= rate < 1. Received: rate={rate}")
        self.rate = float(rate)
        self.seed = rng.draw_seed() if seed is None else int(seed)
        self._calls = 0

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if not training or self.rate == 0.0:
            return inputs
        generator = np.random.default_rng([self.seed, self._calls])
        self._calls += 1
        keep = generator.random(inputs.shape, dtype=inputs.dtype) >= self.rate
        mask = keep * inputs.dtype.type(1.0 / (1.0 - self.rate))
        return dropout(inputs, mask)

    def get_extra_state(self) -> dict[str, np.ndarray]:
        return {"seed": np.array(self.seed), "calls": np.array(self._calls)}

    def set_extra_state(self, state: dict[str, np.ndarray]) -> None:
        self.seed, self._calls = int(state["seed"]), int(state["calls"])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


# ============================================================================ augmentation
class RandomShift(Layer):
    """Data augmentation: in training, translate each image by a random whole number of pixels
    (up to ``max_shift`` in each direction, zero fill); identity at inference.

    The integer-pixel, zero-fill case of Keras' ``RandomTranslation`` (which takes fractions of
    the image size and interpolates). Shifts come from ``default_rng([seed, call_index])``; the
    call counter is saved in checkpoints, as :class:`Dropout`'s, so a resumed run draws the
    same shifts as an uninterrupted one.

    Args:
        max_shift: largest shift in pixels, per axis (``0``: no augmentation).
        seed: seed of the shifts (default: drawn from the library generator).

    Input shape: ``(batch, height, width, channels)``. Output shape: the same.

    Example:

    >>> image = np.zeros((1, 5, 5, 1), dtype="float32"); image[0, 2, 2, 0] = 1.0
    >>> moved = RandomShift(2, seed=0)(image, training=True).numpy()
    >>> float(moved.sum()), RandomShift(2)(image).numpy() is image
    (1.0, True)
    """

    def __init__(self, max_shift: int = 2, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
            raise ValueError(
                f"Expected max_shift to be a non-negative int. Received: max_shift={max_shift!r}"
            )
        self.max_shift = int(max_shift)
        self.seed = rng.draw_seed() if seed is None else int(seed)
        self._calls = 0

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        _check_images(self, inputs)
        if not training or self.max_shift == 0:
            return inputs
        generator = np.random.default_rng([self.seed, self._calls])
        self._calls += 1
        shifts = generator.integers(-self.max_shift, self.max_shift + 1, (inputs.shape[0], 2))
        return random_shift(inputs, shifts)

    def get_extra_state(self) -> dict[str, np.ndarray]:
        return {"seed": np.array(self.seed), "calls": np.array(self._calls)}

    def set_extra_state(self, state: dict[str, np.ndarray]) -> None:
        self.seed, self._calls = int(state["seed"]), int(state["calls"])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_shift": self.max_shift, "seed": self.seed}


# ============================================================================== batch norm
class BatchNormalization(Layer):
    """Batch normalisation over the last (feature/channel) axis, Keras semantics.

    Training uses batch statistics and updates the moving averages
    ``moving = momentum * moving + (1 - momentum) * batch``; inference uses the moving averages.

    Args:
        momentum: moving-average momentum (Keras convention; PyTorch's is ``1 - momentum``).
        epsilon: added to the variance.

    Example:

    >>> bn = BatchNormalization()
    >>> out = bn(np.random.default_rng(0).normal(3, 2, (64, 4)), training=True)
    >>> bool(abs(out.numpy().mean()) < 1e-5)
    True
    """

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def build(self, input_shape: Shape) -> None:
        if not input_shape or input_shape[-1] is None:
            raise ValueError(
                f"Layer {self.name!r} expected inputs with a known last (feature) axis. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        features = (input_shape[-1],)
        self.gamma = self.add_weight("gamma", features, "ones")
        self.beta = self.add_weight("beta", features, "zeros")
        self.moving_mean = self.add_weight("moving_mean", features, "zeros", trainable=False)
        self.moving_variance = self.add_weight("moving_variance", features, "ones", trainable=False)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if inputs.shape[-1] != self.gamma.shape[0]:
            raise ValueError(
                f"Layer {self.name!r} expected inputs with {self.gamma.shape[0]} "
                f"features on the last axis. Received: inputs.shape={inputs.shape}"
            )
        if not training:
            out, _, _ = batch_norm(
                inputs,
                self.gamma,
                self.beta,
                self.moving_mean.data,
                self.moving_variance.data,
                self.epsilon,
            )
            return out
        out, mean, variance = batch_norm(inputs, self.gamma, self.beta, epsilon=self.epsilon)
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.data *= self.momentum
            moving.data += (1.0 - self.momentum) * batch
            moving.mark_modified()
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}


BatchNorm = BatchNormalization


# ================================================================================= conv2d
def _check_images(layer: Layer, inputs: Tensor) -> None:
    if inputs.ndim != 4:
        raise ValueError(
            f"Layer {layer.name!r} expected inputs of shape (batch, height, width, "
            f"channels). Received: inputs.shape={inputs.shape}"
        )


class Conv2D(Layer):
    """2-D convolution layer (channels-last), Keras semantics.

    Args:
        filters: number of output channels.
        kernel_size: int or ``(kh, kw)``.
        strides: int or ``(sh, sw)``.
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size / stride)``).
        dilation_rate: int or ``(dh, dw)``, the spacing of the kernel taps (1: none). Unlike
            Keras, it may be combined with strides > 1 (as in PyTorch).
        activation, use_bias, kernel_initializer, bias_initializer, seed: as in :class:`Dense`.

    Input shape: ``(batch, height, width, channels)``.
    Output shape: ``(batch, new_height, new_width, filters)``.

    Example:

    >>> conv = Conv2D(8, 3, padding="same")
    >>> conv(np.zeros((2, 28, 28, 1), dtype="float32")).shape
    (2, 28, 28, 8)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        dilation_rate: int | Sequence[int] = 1,
        activation: activations.ActivationLike = None,
        use_bias: bool = True,
        kernel_initializer: initializers_module.InitializerLike = "glorot_uniform",
        bias_initializer: initializers_module.InitializerLike = "zeros",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"Expected filters to be a positive int. Received: {filters!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f"Expected padding 'valid' or 'same'. Received: padding={padding!r}")
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = padding
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.seed = seed

    def build(self, input_shape: Shape) -> None:
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"Layer {self.name!r} expected inputs of shape (batch, height, "
                f"width, channels). Received: input_shape={tuple(input_shape)}"
            )
        shape = (*self.kernel_size, input_shape[-1], self.filters)
        self.kernel = self.add_weight("kernel", shape, self.kernel_initializer, seed=self.seed)
        self.bias = (
            self.add_weight("bias", (self.filters,), self.bias_initializer)
            if self.use_bias
            else None
        )

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        _check_images(self, inputs)
        if inputs.shape[-1] != self.kernel.shape[2]:
            raise ValueError(
                f"Layer {self.name!r} expected {self.kernel.shape[2]} input channels"
                f" (channels last). Received: inputs.shape={inputs.shape}"
            )
        span = self._kernel_span
        if self.padding == "valid" and (inputs.shape[1] < span[0] or inputs.shape[2] < span[1]):
            what = (
                f"kernel {self.kernel_size}"
                if span == self.kernel_size
                else f"dilated kernel {span}"
            )
            raise ValueError(
                f"Layer {self.name!r} expected images at least as large as the "
                f"{what}. Received: inputs.shape={inputs.shape}"
            )
        return self.activation(
            conv2d(inputs, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate)
        )

    @property
    def _kernel_span(self) -> tuple[int, int]:
        """Rows and columns the (dilated) kernel covers."""
        return (
            (self.kernel_size[0] - 1) * self.dilation_rate[0] + 1,
            (self.kernel_size[1] - 1) * self.dilation_rate[1] + 1,
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        sizes: list[int | None] = []
        for size, span, stride in zip(input_shape[1:3], self._kernel_span, self.strides):
            if size is None:
                sizes.append(None)  # Keras: an unknown size stays unknown
            elif self.padding == "same":
                sizes.append(-(-size // stride))
            else:
                sizes.append((size - span) // stride + 1)
        return (input_shape[0], *sizes, self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers_module.serialize(self.kernel_initializer),
            "bias_initializer": initializers_module.serialize(self.bias_initializer),
            "seed": self.seed,
        }


# ============================================================================= max pooling
class MaxPool2D(Layer):
    """Max pooling over spatial windows.

    Args:
        pool_size: int or ``(ph, pw)``.
        strides: int or ``(sh, sw)``; defaults to ``pool_size``.
        padding: ``"valid"`` (windows inside the image) or ``"same"`` (output size
            ``ceil(size / stride)``; the padding never wins the maximum).

    Input shape: ``(batch, height, width, channels)``.
    Output shape: ``(batch, (height - ph) // sh + 1, (width - pw) // sw + 1, channels)``
    ("valid") or ``(batch, ceil(height / sh), ceil(width / sw), channels)`` ("same").

    Example:

    >>> MaxPool2D(2)(np.zeros((1, 28, 28, 3))).shape
    (1, 14, 14, 3)
    >>> MaxPool2D(2, padding="same")(np.zeros((1, 7, 7, 3))).shape
    (1, 4, 4, 3)
    """

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if padding not in ("valid", "same"):
            raise ValueError(f"Expected padding 'valid' or 'same'. Received: padding={padding!r}")
        self.pool_size = _pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else _pair(strides, "strides")
        self.padding = padding

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        _check_images(self, inputs)
        if self.padding == "valid" and (
            inputs.shape[1] < self.pool_size[0] or inputs.shape[2] < self.pool_size[1]
        ):
            raise ValueError(
                f"Layer {self.name!r} expected images at least as large as the pool "
                f"{self.pool_size}. Received: inputs.shape={inputs.shape}"
            )
        return max_pool2d(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        sizes: list[int | None] = []
        for size, pool, stride in zip(input_shape[1:3], self.pool_size, self.strides):
            if size is None:
                sizes.append(None)  # Keras: an unknown size stays unknown
            elif self.padding == "same":
                sizes.append(-(-size // stride))
            else:
                sizes.append((size - pool) // stride + 1)
        return (input_shape[0], *sizes, input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
        }


MaxPooling2D = MaxPool2D


# ================================================================================ residual
class Residual(Layer):
    """A skip connection: ``activation(block(x) + shortcut(x))``.

    ``block`` is a list of layers applied in order; ``shortcut`` is ``None`` (identity) or a
    layer (e.g. a 1x1 ``Conv2D`` or a ``Dense``) that projects ``x`` to the block's output shape.

    Example:

    >>> res = Residual([Dense(4, activation="relu"), Dense(4)], activation="relu")
    >>> res(np.ones((2, 4), dtype="float32")).shape
    (2, 4)
    """

    def __init__(
        self,
        block: Sequence[Layer],
        shortcut: Layer | None = None,
        activation: activations.ActivationLike = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not block:
            raise ValueError(
                "Expected a non-empty list of layers for the residual block. Received: block=[]"
            )
        self.block = list(block)
        self.shortcut = shortcut
        self.activation = activations.get(activation)

    @property
    def sublayers(self) -> list[Layer]:
        return self.block + ([self.shortcut] if self.shortcut is not None else [])

    def build(self, input_shape: Shape) -> None:
        shape = tuple(input_shape)
        for layer in self.block:
            layer.ensure_built(shape)
            shape = layer.compute_output_shape(shape)
        if self.shortcut is not None:
            self.shortcut.ensure_built(tuple(input_shape))
            skip_shape = self.shortcut.compute_output_shape(tuple(input_shape))
        else:
            skip_shape = tuple(input_shape)
        if tuple(skip_shape[1:]) != tuple(shape[1:]):
            raise ValueError(
                f"Residual {self.name!r}: the block maps {tuple(input_shape)} to "
                f"{shape} but the shortcut gives {skip_shape}. Expected equal "
                "shapes; pass a projection layer as `shortcut`."
            )

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        out = inputs
        for layer in self.block:
            out = layer(out, training=training)
        skip = inputs if self.shortcut is None else self.shortcut(inputs, training=training)
        return self.activation(add(out, skip))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        shape = tuple(input_shape)
        for layer in self.block:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_extra_state(self) -> dict[str, np.ndarray]:
        return {
            f"{i}/{key}": value
            for i, layer in enumerate(self.sublayers)
            for key, value in layer.get_extra_state().items()
        }

    def set_extra_state(self, state: dict[str, np.ndarray]) -> None:
        for i, layer in enumerate(self.sublayers):
            prefix = f"{i}/"
            layer.set_extra_state(
                {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "block": [serialize(layer) for layer in self.block],
            "shortcut": None if self.shortcut is None else serialize(self.shortcut),
            "activation": activations.serialize(self.activation),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Residual":
        config["block"] = [deserialize(layer) for layer in config["block"]]
        if config.get("shortcut") is not None:
            config["shortcut"] = deserialize(config["shortcut"])
        return cls(**config)


__all__ = [
    "GELU",
    "Activation",
    "BatchNorm",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "LeakyReLU",
    "MaxPool2D",
    "MaxPooling2D",
    "RandomShift",
    "ReLU",
    "Reshape",
    "Residual",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Swish",
    "Tanh",
    "batch_norm",
    "conv2d",
    "dense",
    "deserialize",
    "dropout",
    "max_pool2d",
    "random_shift",
    "serialize",
]
