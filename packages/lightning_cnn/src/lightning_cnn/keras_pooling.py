"""Generalized-mean (GeM) pooling with a learnable exponent, as a Keras 3 layer.

The same maths as :mod:`lightning_cnn.torch_pooling` (see there for the formula), written with
``keras.ops`` so it runs on any Keras backend. The layer follows the Keras pattern: ``__init__``
stores the config, ``build`` creates the weight ``p``, ``call`` computes, ``get_config`` makes
it serialisable, and registration lets ``keras.saving.load_model`` find it without
``custom_objects``.

Example:

>>> import numpy as np
>>> pool = GeneralizedMeanPooling2D(pool_size=2, p=3.0)
>>> tuple(pool(np.random.rand(8, 32, 32, 16).astype("float32")).shape)
(8, 16, 16, 16)
"""

from __future__ import annotations

from typing import Any

import a2common.tf_env  # noqa: F401  (must precede the first TensorFlow import)

# isort: split

import keras
from keras import ops

from lightning_cnn.config import GEM_P_MAX as P_MAX
from lightning_cnn.config import GEM_P_MIN as P_MIN


@keras.saving.register_keras_serializable(package="lightning_cnn")
class GeneralizedMeanPooling2D(keras.layers.Layer):
    """GeM pooling layer with a learnable exponent ``p`` (a drop-in for ``MaxPooling2D``).

    ``y = (mean_window(max(x, eps) ** p)) ** (1 / p)`` with ``p`` clipped to ``[1, 6]``:
    ``p = 1`` is average pooling, large ``p`` approaches max pooling.

    Args:
        pool_size: side of the square pooling window.
        strides: step between windows (default: ``pool_size``); "valid" padding.
        p: initial exponent.
        eps: inputs are clamped to at least ``eps`` before the power.
        trainable_p: learn ``p`` (``True``) or keep it fixed.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: standard layer arguments (``name``, ``dtype``, ...).

    Input shape:
        4-D tensor ``(batch, height, width, channels)`` (channels last).

    Output shape:
        ``(batch, pooled_height, pooled_width, channels)``.

    Example:

    >>> import keras, numpy as np
    >>> inputs = keras.Input((64, 64, 3))
    >>> x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    >>> model = keras.Model(inputs, GeneralizedMeanPooling2D(2)(x))
    >>> model.output_shape
    (None, 32, 32, 8)
    """

    def __init__(
        self,
        pool_size: int = 2,
        strides: int | None = None,
        p: float = 3.0,
        eps: float = 1e-6,
        trainable_p: bool = True,
        data_format: str = "channels_last",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if pool_size < 1:
            raise ValueError(f"Expected pool_size >= 1. Received: pool_size={pool_size}")
        if not P_MIN <= p <= P_MAX:
            raise ValueError(f"Expected {P_MIN} <= p <= {P_MAX}. Received: p={p}")
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "Expected data_format 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format!r}"
            )
        self.pool_size = int(pool_size)
        self.strides = int(strides or pool_size)
        self.initial_p = float(p)
        self.eps = float(eps)
        self.trainable_p = bool(trainable_p)
        self.data_format = data_format
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.p = self.add_weight(
            name="p",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_p),
            trainable=self.trainable_p,
        )

    def call(self, inputs: Any) -> Any:
        p = ops.clip(ops.cast(self.p, inputs.dtype), P_MIN, P_MAX)
        powered = ops.power(ops.maximum(inputs, self.eps), p)
        pooled = ops.average_pool(
            powered,
            pool_size=self.pool_size,
            strides=self.strides,
            padding="valid",
            data_format=self.data_format,
        )
        return ops.power(pooled, 1.0 / p)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        def pooled(size: int | None) -> int | None:
            return None if size is None else (size - self.pool_size) // self.strides + 1

        if self.data_format == "channels_last":
            batch, height, width, channels = input_shape
            return (batch, pooled(height), pooled(width), channels)
        batch, channels, height, width = input_shape
        return (batch, channels, pooled(height), pooled(width))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "pool_size": self.pool_size,
                "strides": self.strides,
                "p": self.initial_p,
                "eps": self.eps,
                "trainable_p": self.trainable_p,
                "data_format": self.data_format,
            }
        )
        return config
