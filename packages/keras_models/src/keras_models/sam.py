"""Sharpness-aware minimisation (SAM, Foret et al. 2021) as a custom Keras ``train_step``.

SAM looks for weights whose whole neighbourhood has a low loss. Each training step:

1. computes the gradient ``g = grad L(w)`` of the batch loss at the current weights ``w``;
2. moves to the (first-order) worst point of the ``rho``-ball around ``w``:
   ``e = rho * g / (||g||_2 + epsilon)``, the norm taken over all trainable variables together;
3. computes the gradient ``g_sam = grad L(w + e)`` there;
4. puts the weights back to ``w`` and lets the compiled optimizer (SGD, Adam, ...) apply
   ``g_sam``. With plain SGD the step is ``w <- w - lr * g_sam``.

:class:`SAMModel` wraps any built Keras model (for example one from
:func:`keras_models.residual.build_your_model`) and is compiled, fitted, evaluated and saved
like any other model. A step costs two forward and two backward passes.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf
from keras import ops

__all__ = ["SAMModel", "validate_rho"]


def validate_rho(rho: float) -> float:
    """Return ``rho`` as a float, or raise ``ValueError`` unless it is finite and positive.

    Example:

    >>> validate_rho(0.05)
    0.05
    >>> validate_rho(0.0)
    Traceback (most recent call last):
    ...
    ValueError: Expected rho > 0 (the radius of the SAM neighbourhood). Received: rho=0.0
    """
    if isinstance(rho, bool) or not isinstance(rho, (int, float)):
        raise ValueError(f"Expected rho to be a positive number. Received: rho={rho!r}")
    rho = float(rho)
    if not math.isfinite(rho) or rho <= 0.0:
        raise ValueError(
            f"Expected rho > 0 (the radius of the SAM neighbourhood). Received: rho={rho!r}"
        )
    return rho


@keras.saving.register_keras_serializable(package="keras_models")
class SAMModel(keras.Model):
    """A model trained with sharpness-aware minimisation: a SAM ``train_step`` around ``model``.

    Inference (``call``, ``predict``, ``evaluate``) is the wrapped model's; only ``fit`` and
    ``train_on_batch`` differ. The compiled optimizer receives the gradient taken at the
    perturbed weights ``w + e`` and updates the unperturbed weights ``w``.

    Args:
        model: the built model to train; its variables are the wrapper's variables.
        rho: radius of the neighbourhood (``> 0``; the paper's default 0.05).
        epsilon: added to the gradient norm before the division (``>= 0``).
        **kwargs: passed to :class:`keras.Model` (``name``, ...).

    Reported metrics: the loss and the compiled metrics are those of the first forward pass,
    at the unperturbed weights ``w`` (the weights the model holds between steps).

    BatchNormalization: both passes run in training mode, so each normalises with its own
    batch statistics, as in the paper. The moving statistics (and any other floating-point
    non-trainable variable) keep the update of the first pass, at ``w``; the second pass's
    update, computed at the perturbed weights, is discarded. Random state (dropout seed
    generators, integer variables) is not restored: the two passes draw different dropout masks.
    Under a ``tf.distribute`` strategy the perturbation uses each replica's own gradient.

    Example:

    >>> import numpy as np
    >>> keras.utils.set_random_seed(0)
    >>> inputs = keras.Input((2,))
    >>> hidden = keras.layers.BatchNormalization()(keras.layers.Dense(4, "relu")(inputs))
    >>> inner = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    >>> model = SAMModel(inner, rho=0.05)
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
    ...               metrics=["accuracy"])
    >>> x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    >>> history = model.fit(x, (x[:, 0] > 0).astype("int32"), epochs=1, batch_size=8,
    ...                     verbose=0)
    >>> sorted(history.history)
    ['accuracy', 'loss']
    >>> tuple(model(x[:3]).shape)
    (3, 2)
    """

    def __init__(
        self, model: keras.Model, rho: float = 0.05, epsilon: float = 1e-12, **kwargs: Any
    ) -> None:
        rho = validate_rho(rho)
        if not math.isfinite(float(epsilon)) or float(epsilon) < 0.0:
            raise ValueError(f"Expected epsilon >= 0. Received: epsilon={epsilon!r}")
        if not isinstance(model, keras.Model):
            raise ValueError(f"Expected a keras.Model to wrap. Received: {type(model).__name__}")
        super().__init__(**kwargs)
        self.inner_model = model
        self.rho = rho
        self.epsilon = float(epsilon)

    def build(self, input_shape: Any = None) -> None:
        """Build the wrapped model if it is not built yet (functional models always are)."""
        if not self.inner_model.built and input_shape is not None:
            self.inner_model.build(input_shape)
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        """The wrapped model's forward pass."""
        return self.inner_model(inputs, training=training)

    def _forward_loss(self, x: Any, y: Any, sample_weight: Any) -> tuple[Any, Any]:
        """One forward pass in training mode: ``(y_pred, loss)`` (the loss not yet scaled)."""
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        return y_pred, loss

    def _scaled(self, loss: Any) -> Any:
        return self.optimizer.scale_loss(loss) if self.optimizer is not None else loss

    def train_step(self, data: Any) -> dict[str, Any]:
        """One SAM step: gradient at ``w``, ascent to ``w + e``, gradient there, update ``w``."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        variables = list(self.trainable_variables)
        if not variables:
            raise ValueError("SAMModel needs a model with trainable weights.")

        # 1. loss and gradient at the current weights w (metrics are reported for this pass)
        with tf.GradientTape() as tape:
            y_pred, loss = self._forward_loss(x, y, sample_weight)
            scaled_loss = self._scaled(loss)
        gradients = tape.gradient(scaled_loss, variables)
        if self._loss_tracker is not None:
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            first = next(t for t in keras.tree.flatten(x) if t is not None)
            self._loss_tracker.update_state(
                loss * ops.cast(replicas, loss.dtype), sample_weight=ops.shape(first)[0]
            )

        # 2. e = rho * g / (||g|| + epsilon); w <- w + e. (The norm is invariant to loss scaling.)
        present = [g for g in gradients if g is not None]
        norm = ops.sqrt(ops.sum(ops.stack([ops.sum(ops.square(g)) for g in present])))
        scale = self.rho / (norm + self.epsilon)
        originals = []
        for variable, gradient in zip(variables, gradients):
            value = ops.copy(variable)
            originals.append(value)
            if gradient is not None:
                variable.assign(value + ops.cast(scale, gradient.dtype) * gradient)

        # BN moving statistics: keep the first pass's update, discard the second's.
        statistics = [
            (variable, ops.copy(variable))
            for variable in self.non_trainable_variables
            if keras.backend.is_float_dtype(variable.dtype)
        ]

        # 3. gradient at w + e
        with tf.GradientTape() as tape:
            _, perturbed_loss = self._forward_loss(x, y, sample_weight)
            perturbed_loss = self._scaled(perturbed_loss)
        sam_gradients = tape.gradient(perturbed_loss, variables)

        # 4. back to w, then the optimizer's update with the SAM gradient
        for variable, value in zip(variables, originals):
            variable.assign(value)
        for variable, value in statistics:
            variable.assign(value)
        self.optimizer.apply_gradients(zip(sam_gradients, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        """The wrapped model's config, ``rho`` and ``epsilon`` (for ``.keras`` saving)."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "model": keras.saving.serialize_keras_object(self.inner_model),
            "rho": self.rho,
            "epsilon": self.epsilon,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> SAMModel:
        """Rebuild from :meth:`get_config` (the weights are loaded afterwards by Keras)."""
        config = dict(config)
        model = keras.saving.deserialize_keras_object(
            config.pop("model"), custom_objects=custom_objects
        )
        return cls(model, **config)
