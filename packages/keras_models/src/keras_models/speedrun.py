"""A CNN built for speed on a CPU, after the ideas of Jordan's airbench94 (2024).

The model of the graded ``keras_cifar10_cnn``, ``keras_mnist_cnn`` and ``keras_fashion_cnn``
tasks (issue 15; their settings are in :mod:`keras_models.speedrun_tasks`). The network and its
training follow the CIFAR-10 speedrun's ideas, written here in Keras 3, for any image size
and number of channels:

* **Patch-whitening first layer.** A frozen 2x2 convolution whose filters are the eigenvectors
  of the training images' 2x2x3 patch covariance, scaled by ``1/sqrt(eigenvalue)`` (and their
  negatives, so the activation after it keeps both signs): the first layer starts out
  decorrelating the input, which the network would otherwise spend epochs learning.
* **Three conv blocks** ``Conv → MaxPool → BN → act → Conv → BN → act`` of widths
  ``(64, 256, 256)``, ``act`` airbench's GELU or the cheaper SiLU (``activation``, below);
  BatchNorm without a learned scale whose shift (:class:`ScaledBias`) learns 64x faster than
  the weights, convolutions initialised as partial identities (:class:`PartialIdentity`), a
  global max-pool and a bias-free linear head whose logits are scaled by 1/9.
* **Derandomised flips.** Every training image is mirrored in every other epoch (which half
  starts mirrored is random per image), so each pair of epochs sees both views exactly once;
  2-pixel translations (nearest pixel, reflected borders) on top. ``mirror=False`` turns
  mirroring off, in training and at test time (digits are not symmetric).
* **Optimisation:** label smoothing 0.2, Nesterov SGD (momentum 0.85) with a triangular
  learning-rate schedule (:class:`TriangularSchedule`), decoupled weight decay, and
  Lookahead-style weight averaging over the last epochs (:class:`LookaheadAveraging`).
* **Test-time augmentation** over six views (:func:`predict_with_tta`; three without
  mirroring).
* **SiLU where time is short.** ``x · sigmoid(x)`` has GELU's smooth shape but costs less on
  a CPU: a bfloat16 training step of the CIFAR-10 network (batch 256, synthetic data) took
  0.345 s with SiLU, 0.435 s with GELU and 0.30 s with ReLU (Intel Xeon with AMX, 2 vCPU,
  2026-12-05); at the ablation's small scale (widths 32/128/128, 4 epochs) the six-view
  hold-out accuracy was 0.850 (SiLU, 106 s), 0.855 (GELU) and 0.843 (ReLU, 91 s). The graded
  settings (:mod:`keras_models.speedrun_tasks`) spend the time saved on more epochs.
* **bfloat16 where the CPU has it.** ``precision="auto"`` trains in ``mixed_bfloat16`` on CPUs
  with native bfloat16 arithmetic (:data:`BFLOAT16_ISA`: AMX or AVX-512 BF16), else in float32.
  On a 2-core Intel Xeon with AMX oneDNN runs the convolutions on the matrix units: 70 s instead
  of 122 s per 50,000 images for this network. On a 2-vCPU AMD EPYC with AVX-512 BF16 and no
  AMX a training step (batch 256) took 0.556 s instead of 0.826 s (2026-12-05, quiet machine).

One measured run on a 10% stratified hold-out of the training set (45,000 images to train on;
Intel Xeon, 2 cores, AVX-512 + AMX, quiet machine, 2026-12-04,
``python -m keras_models.speedrun --set epochs=10``): hold-out accuracy **0.904** with the
six-view average (0.903 with the mirror only, 0.894 with none) after 10 epochs and 715 s of
training. The graded run trains 12 epochs on all 50,000 images.

Example:

>>> import numpy as np
>>> images = np.random.default_rng(0).random((64, 32, 32, 3)).astype("float32")
>>> model = build_speedrun_cnn(images, widths=(8, 16, 16))
>>> model.output_shape
(None, 10)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np
from keras import layers

from a2common.keras_training import fit_or_load
from a2common.machine import vector_isa
from keras_models.training import predict_with_tta

WHITENING_PATCH = 2
"""Side of the whitening layer's patches (2x2x3 = 12 dimensions, 24 filters)."""
ACTIVATIONS = {"gelu": "GELU", "silu": "SiLU", "relu": "ReLU"}
"""Activations the speedrun CNN can use (Keras name: display name). airbench uses GELU; SiLU
and ReLU cost less on a CPU."""


@keras.saving.register_keras_serializable(package="keras_models")
class PartialIdentity(keras.initializers.Initializer):
    """Conv kernel init: the first ``in_channels`` filters copy their input channel (identity).

    The remaining filters are drawn uniformly from ``±1/sqrt(fan_in)`` (PyTorch's default
    scale). A block whose first filters pass their input through starts out close to a
    residual connection without having one.

    Example:

    >>> kernel = PartialIdentity(seed=0)((3, 3, 2, 4)).numpy()
    >>> kernel[1, 1, :, :2].tolist(), float(kernel[0, 0, :, :2].sum())
    ([[1.0, 0.0], [0.0, 1.0]], 0.0)
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        height, width, in_channels, out_channels = shape
        limit = 1.0 / math.sqrt(height * width * in_channels)
        kernel = np.random.default_rng(self.seed).uniform(-limit, limit, size=shape)
        identity = min(in_channels, out_channels)
        kernel[..., :identity] = 0.0
        kernel[height // 2, width // 2, np.arange(identity), np.arange(identity)] = 1.0
        return keras.ops.convert_to_tensor(kernel, dtype=dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_models")
class ScaledBias(layers.Layer):
    """Adds a per-channel bias stored divided by ``multiplier``: ``y = x + multiplier * b``.

    Gradient descent on ``b`` then moves the bias ``multiplier**2`` times faster than on a
    plain bias (the gradient is ``multiplier`` times larger, and so is the effect of each
    step), which is how the speedrun gives BatchNorm's shift a 64x learning rate
    (``multiplier=8``) with one optimizer.

    Example:

    >>> layer = ScaledBias(multiplier=8.0)
    >>> tuple(layer(np.zeros((1, 3), "float32")).shape)
    (1, 3)
    """

    def __init__(self, multiplier: float = 8.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiplier = float(multiplier)

    def build(self, input_shape: Sequence[int | None]) -> None:
        self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="bias")

    def call(self, inputs: Any) -> Any:
        return inputs + keras.ops.cast(self.multiplier * self.bias, inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "multiplier": self.multiplier}


@keras.saving.register_keras_serializable(package="keras_models")
class TriangularSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from ``start_factor * peak`` to ``peak``, then linear decay to the end.

    Example:

    >>> schedule = TriangularSchedule(1.0, total_steps=100, warmup_fraction=0.25)
    >>> [round(float(schedule(step)), 2) for step in (0, 25, 100)]
    [0.2, 1.0, 0.07]
    """

    def __init__(
        self,
        peak_learning_rate: float,
        total_steps: int,
        warmup_fraction: float = 0.23,
        start_factor: float = 0.2,
        final_factor: float = 0.07,
    ) -> None:
        if total_steps < 2:
            raise ValueError(f"Expected total_steps >= 2. Received: total_steps={total_steps}")
        self.peak_learning_rate = float(peak_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_fraction = float(warmup_fraction)
        self.start_factor = float(start_factor)
        self.final_factor = float(final_factor)

    def __call__(self, step: Any) -> Any:
        step = keras.ops.cast(step, "float32")
        warmup = max(1.0, self.warmup_fraction * self.total_steps)
        rising = self.start_factor + (1.0 - self.start_factor) * step / warmup
        falling = 1.0 - (1.0 - self.final_factor) * (step - warmup) / (self.total_steps - warmup)
        factor = keras.ops.where(step < warmup, rising, keras.ops.maximum(falling, 0.0))
        return self.peak_learning_rate * factor

    def get_config(self) -> dict[str, Any]:
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction,
            "start_factor": self.start_factor,
            "final_factor": self.final_factor,
        }


class LookaheadAveraging(keras.callbacks.Callback):
    """Every ``every`` steps pull the weights towards their running average, and back.

    From step ``start_step`` on, the callback keeps an exponential moving average of every
    weight (BatchNorm statistics included); every ``every`` steps it updates the average with
    decay ``rho = base**every * (step / total_steps)**power`` and copies it into the model
    (Lookahead-style: the fast weights restart from the slow ones). The decay grows from 0 to
    ``base**every``, so training moves freely early and averages strongly at the end. At the
    end of every epoch the model holds the average. An interrupted run that resumes starts a
    new average.

    Example:

    >>> round(LookaheadAveraging(total_steps=100, start_step=30).decay(50), 4)
    0.0967
    """

    def __init__(
        self,
        total_steps: int,
        start_step: int,
        every: int = 5,
        base: float = 0.95,
        power: float = 3.0,
    ) -> None:
        super().__init__()
        self.total_steps = total_steps
        self.start_step = start_step
        self.every = every
        self.base = base
        self.power = power
        self._average: list[np.ndarray] | None = None

    def decay(self, step: int) -> float:
        """The average's decay at ``step``."""
        return self.base**self.every * (step / self.total_steps) ** self.power

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        step = int(self.model.optimizer.iterations.numpy())
        if step < self.start_step or step % self.every:
            return
        weights = [variable.numpy() for variable in self.model.weights]
        if self._average is None:
            self._average = weights
            return
        rho = self.decay(step)
        self._average = [
            rho * average + (1.0 - rho) * weight for average, weight in zip(self._average, weights)
        ]
        self.model.set_weights(self._average)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._average is not None:
            self.model.set_weights(self._average)


def patch_whitening_kernel(
    images: np.ndarray, patch_size: int = WHITENING_PATCH, epsilon: float = 5e-4
) -> np.ndarray:
    """Conv2D kernel ``(patch, patch, channels, 2 * patch * patch * channels)`` that whitens.

    Its filters are the eigenvectors ``v`` of the covariance of all ``patch x patch`` patches
    of ``images``, divided by ``sqrt(eigenvalue + epsilon)``, followed by their negatives.
    Convolving (``padding="valid"``) then gives, per position, the patch's coordinates in the
    eigenbasis with unit variance.

    Example:

    >>> kernel = patch_whitening_kernel(np.random.default_rng(0).random((16, 8, 8, 3)))
    >>> kernel.shape
    (2, 2, 3, 24)
    """
    if np.ndim(images) != 4:
        raise ValueError(
            f"Expected images of shape (n, height, width, channels). "
            f"Received: shape={np.shape(images)}"
        )
    images = np.asarray(images, dtype=np.float64)
    _, height, width, channels = images.shape
    patches = np.stack(
        [
            images[:, i : height - patch_size + 1 + i, j : width - patch_size + 1 + j, :]
            for i in range(patch_size)
            for j in range(patch_size)
        ],
        axis=-2,
    ).reshape(-1, patch_size * patch_size * channels)  # (kh, kw, c) order, as Conv2D kernels
    covariance = np.cov(patches, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    filters = eigenvectors / np.sqrt(eigenvalues + epsilon)
    filters = np.concatenate([filters, -filters], axis=1)
    return filters.reshape(patch_size, patch_size, channels, -1).astype(np.float32)


def build_speedrun_cnn(
    whitening_images: np.ndarray,
    widths: Sequence[int] = (64, 256, 256),
    num_classes: int = 10,
    logit_scale: float = 1 / 9,
    bn_momentum: float = 0.6,
    bias_multiplier: float = 8.0,
    identity_init: bool = True,
    activation: str = "gelu",
    seed: int = 0,
    name: str = "speedrun_cnn",
) -> keras.Model:
    """The speedrun CNN for images in ``[0, 1]`` of the shape of ``whitening_images``.

    Built in the current global dtype policy (``mixed_bfloat16`` computes the convolutions in
    bfloat16); the classifier and its softmax always compute in float32.

    Args:
        whitening_images: training images (a few thousand suffice) whose channel statistics
            standardise the input and whose patch covariance sets the frozen first layer.
        widths: filters of the three blocks.
        logit_scale: multiplies the logits (max-pooled features are large).
        bn_momentum: BatchNorm moving-average momentum (Keras convention: weight of the old
            value).
        bias_multiplier: :class:`ScaledBias` multiplier of BatchNorm's shift (8 gives it a 64x
            learning rate; 1 is a plain bias).
        identity_init: initialise the convolutions with :class:`PartialIdentity` (else
            Glorot-uniform).
        activation: a key of :data:`ACTIVATIONS`, after the whitening layer and every
            BatchNorm.
        seed: seed of the convolutions' initial weights.

    Input shape:
        ``(batch, height, width, channels)``, those of ``whitening_images`` (at least 16x16:
        the network pools three times after the 2x2 whitening layer).

    Output shape:
        ``(batch, num_classes)`` probabilities (float32).
    """
    if len(widths) != 3:
        raise ValueError(f"Expected 3 block widths. Received: widths={tuple(widths)}")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"Expected activation in {tuple(ACTIVATIONS)}. Received: activation={activation!r}"
        )
    images = np.asarray(whitening_images, dtype=np.float32)
    if images.ndim != 4 or min(images.shape[1:3]) < 16:
        raise ValueError(
            "Expected whitening_images of shape (n, height, width, channels) with height and "
            f"width >= 16. Received: shape={images.shape}"
        )
    if not np.isfinite(images).all():
        raise ValueError("Expected finite whitening_images. Received: NaN or infinite pixels.")
    mean = images.mean(axis=(0, 1, 2))
    std = images.std(axis=(0, 1, 2))
    if not np.all(std > 0):
        raise ValueError(
            "Expected whitening_images that vary in every channel (their statistics set the "
            f"first layer). Received: per-channel standard deviations {std.tolist()}"
        )
    kernel = patch_whitening_kernel((images - mean) / std)
    inputs = keras.Input(shape=images.shape[1:])
    x = layers.Normalization(mean=mean.tolist(), variance=(std**2).tolist(), name="standardize")(
        inputs
    )
    whiten = layers.Conv2D(
        kernel.shape[-1], WHITENING_PATCH, use_bias=False, trainable=False, name="whiten"
    )
    x = whiten(x)
    whiten.set_weights([kernel])
    x = layers.Activation(activation, name="whiten_act")(x)
    for block, width in enumerate(widths):
        for conv in range(2):
            x = layers.Conv2D(
                width,
                3,
                padding="same",
                use_bias=False,
                kernel_initializer=(
                    PartialIdentity(seed=seed * 10 + 2 * block + conv)
                    if identity_init
                    else keras.initializers.GlorotUniform(seed=seed * 10 + 2 * block + conv)
                ),
                name=f"block{block}_conv{conv}",
            )(x)
            if conv == 0:
                x = layers.MaxPooling2D(name=f"block{block}_pool")(x)
            x = layers.BatchNormalization(
                center=False,
                scale=False,
                momentum=bn_momentum,
                epsilon=1e-5,
                name=f"block{block}_bn{conv}",
            )(x)
            x = ScaledBias(bias_multiplier, name=f"block{block}_shift{conv}")(x)
            x = layers.Activation(activation, name=f"block{block}_act{conv}")(x)
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    x = layers.Dense(num_classes, use_bias=False, dtype="float32", name="classifier")(x)
    x = layers.Rescaling(logit_scale, dtype="float32", name="logit_scale")(x)
    outputs = layers.Softmax(dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def alternating_flip_mask(num_images: int, epoch: int, seed: int) -> np.ndarray:
    """Which images to mirror in ``epoch``: a random half in even epochs, the other half in odd.

    >>> first, second = alternating_flip_mask(6, 0, seed=1), alternating_flip_mask(6, 1, seed=1)
    >>> bool(np.all(first ^ second))
    True
    """
    starts_flipped = np.random.default_rng(seed).random(num_images) < 0.5
    return starts_flipped if epoch % 2 == 0 else ~starts_flipped


def make_training_data(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    num_classes: int = 10,
    translate_pixels: int = 2,
    alternating_flips: bool = True,
    mirror: bool = True,
    seed: int = 0,
):
    """A ``tf.data`` pipeline of ``epochs`` shuffled epochs with alternating flips.

    Every epoch is the whole training set in a new seeded order, mirrored by
    :func:`alternating_flip_mask` (or, with ``alternating_flips=False``, each image with
    probability 1/2 independently in every epoch; with ``mirror=False``, never) and
    translated by up to
    ``translate_pixels`` (nearest pixel, reflected borders); labels are one-hot (for label
    smoothing). Pass ``steps_per_epoch=math.ceil(len(labels) / batch_size)`` to ``fit``.
    """
    import tensorflow as tf

    num_images = len(labels)
    per_epoch_images, per_epoch_flips = [], []
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(num_images)
        per_epoch_images.append(order)
        if not mirror:
            epoch_flips = np.zeros(num_images, dtype=bool)
        elif alternating_flips:
            epoch_flips = alternating_flip_mask(num_images, epoch, seed)
        else:
            epoch_flips = rng.random(num_images) < 0.5
        per_epoch_flips.append(epoch_flips[order])
    order = tf.constant(np.concatenate(per_epoch_images).astype(np.int32))
    flips = tf.constant(np.concatenate(per_epoch_flips))
    image_table = tf.constant(np.asarray(images, dtype=np.float32))
    label_table = tf.one_hot(np.asarray(labels, dtype=np.int32), num_classes)
    translate = layers.RandomTranslation(
        translate_pixels / images.shape[1],
        translate_pixels / images.shape[2],
        fill_mode="reflect",
        interpolation="nearest",
        seed=seed,
    )

    def batch_of(indices, flip):
        batch = tf.gather(image_table, indices)
        batch = tf.where(flip[:, None, None, None], tf.reverse(batch, axis=[2]), batch)
        if translate_pixels:
            batch = translate(batch, training=True)
        return batch, tf.gather(label_table, indices)

    # Batch each epoch on its own (its last batch may be short), so no batch straddles two
    # epochs; ``fit`` with ``steps_per_epoch`` then reads the epochs one after the other.
    dataset = tf.data.Dataset.from_tensor_slices((order, flips))
    batched = dataset.take(num_images).batch(batch_size)
    for epoch in range(1, epochs):
        batched = batched.concatenate(
            dataset.skip(epoch * num_images).take(num_images).batch(batch_size)
        )
    # A sequential map: the seeded ``RandomTranslation`` draws from one stateful generator, so
    # in a parallel map thread timing would decide which batch gets which shift.
    return batched.map(batch_of).prefetch(tf.data.AUTOTUNE)


BFLOAT16_ISA = ("amx_bf16", "avx512_bf16")
"""CPU flags with native bfloat16 arithmetic (oneDNN's AMX / AVX-512 BF16 kernels)."""


def resolve_precision(precision: str) -> str:
    """The Keras dtype policy to train in: ``"auto"`` picks ``mixed_bfloat16`` on CPUs with
    native bfloat16 arithmetic (:data:`BFLOAT16_ISA`), where it is about twice as fast as
    float32 for this network, and ``float32`` elsewhere (emulated bfloat16 is slower).

    >>> resolve_precision("float32")
    'float32'
    """
    if precision == "auto":
        return "mixed_bfloat16" if set(BFLOAT16_ISA) & set(vector_isa()) else "float32"
    if precision not in ("float32", "mixed_bfloat16"):
        raise ValueError(
            "Expected precision 'auto', 'float32' or 'mixed_bfloat16'. "
            f"Received: precision={precision!r}"
        )
    return precision


@contextlib.contextmanager
def dtype_policy(policy: str) -> Iterator[None]:
    """Builds layers in the Keras dtype ``policy`` inside the ``with`` block, then restores the
    previous global policy (also when the block raises).

    >>> with dtype_policy("mixed_bfloat16"):
    ...     inside = keras.layers.Dense(2).dtype_policy.name
    >>> inside, keras.layers.Dense(2).dtype_policy.name
    ('mixed_bfloat16', 'float32')
    """
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


@dataclass(frozen=True)
class SpeedrunConfig:
    """Everything that defines one speedrun training (its digest keys the cached run).

    The optimizer settings are airbench94's, converted to Keras' conventions (mean loss over
    the batch, decoupled weight decay): its learning rate of 11.5 per 1,024 examples with
    momentum 0.85 is ``11.5 * batch_size / (1024 * (1 + 1 / (1 - 0.85)))`` = 0.375 for a batch
    of 256, and its weight decay of 0.0153 is a decay of ``0.0153 / ((1 - 0.85) * 11.5)``
    = 0.0089 per unit of learning rate.

    Example:

    >>> SpeedrunConfig().widths, SpeedrunConfig(batch_size=512).scaled_learning_rate
    ((64, 256, 256), 0.75)
    """

    widths: tuple[int, int, int] = (64, 256, 256)
    epochs: int = 12
    batch_size: int = 256
    learning_rate: float = 0.375
    """Peak learning rate for a batch of 256 (scaled linearly with ``batch_size``)."""
    momentum: float = 0.85
    weight_decay: float = 0.0089
    bias_multiplier: float = 8.0
    identity_init: bool = True
    bn_momentum: float = 0.6
    label_smoothing: float = 0.2
    translate_pixels: int = 2
    mirror: bool = True
    """Mirror images left-right (in training and test-time augmentation)."""
    alternating_flips: bool = True
    whitening: bool = True
    whitening_images: int = 5000
    lookahead: bool = True
    lookahead_start_epoch: int = 3
    tta_level: int = 2
    precision: str = "auto"
    activation: str = "gelu"

    @property
    def scaled_learning_rate(self) -> float:
        """``learning_rate`` scaled to ``batch_size`` (linear scaling rule)."""
        return self.learning_rate * self.batch_size / 256

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def digest(self) -> str:
        """8 hex digits that change with any setting (the cached run's key)."""
        text = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


def train_speedrun(
    config: SpeedrunConfig,
    run_dir: Path,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    *,
    seed: int = 0,
    name: str = "speedrun_cnn",
    verbose: int = 2,
) -> tuple[keras.Model, dict[str, list[float]], float]:
    """Train (or load from ``run_dir``) the speedrun CNN; returns ``(model, history, seconds)``.

    ``train_images`` are ``float32`` in ``[0, 1]``, shape ``(n, height, width, channels)``;
    ``train_labels`` integer classes 0-9. An interrupted run resumes from its last finished
    epoch (it then reads the data pipeline from its first epoch again, so its shuffles and
    flips differ from those of an uninterrupted run, and its weight average starts anew).
    """
    steps_per_epoch = math.ceil(len(train_labels) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    rng = np.random.default_rng(seed)
    sample_size = min(config.whitening_images, len(train_images))
    whitening = train_images[rng.choice(len(train_images), sample_size, replace=False)]
    policy = resolve_precision(config.precision)

    def build() -> keras.Model:
        keras.utils.set_random_seed(seed)
        with dtype_policy(policy):
            model = build_speedrun_cnn(
                whitening,
                widths=config.widths,
                bn_momentum=config.bn_momentum,
                bias_multiplier=config.bias_multiplier,
                identity_init=config.identity_init,
                activation=config.activation,
                seed=seed,
                name=name,
            )
        if not config.whitening:
            whiten = model.get_layer("whiten")
            whiten.set_weights([keras.initializers.GlorotUniform(seed)(whiten.kernel.shape)])
            whiten.trainable = True
        optimizer = keras.optimizers.SGD(
            TriangularSchedule(config.scaled_learning_rate, total_steps),
            momentum=config.momentum,
            nesterov=True,
            weight_decay=config.weight_decay,
        )
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"],
        )
        return model

    data = make_training_data(
        train_images,
        train_labels,
        epochs=config.epochs,
        batch_size=config.batch_size,
        translate_pixels=config.translate_pixels,
        alternating_flips=config.alternating_flips,
        mirror=config.mirror,
        seed=seed,
    )
    callbacks = []
    if config.lookahead:
        callbacks.append(
            LookaheadAveraging(
                total_steps, start_step=config.lookahead_start_epoch * steps_per_epoch
            )
        )
    return fit_or_load(
        build,
        Path(run_dir),
        data,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # the pipeline already holds every epoch's order
    )


def parse_overrides(settings: Sequence[str]) -> dict[str, Any]:
    """``["epochs=8", "widths=32,128,128"]`` → keyword arguments of :class:`SpeedrunConfig`.

    >>> parse_overrides(["epochs=8", "widths=32,128,128", "lookahead=false"])
    {'epochs': 8, 'widths': (32, 128, 128), 'lookahead': False}
    """
    defaults = SpeedrunConfig().as_dict()
    overrides: dict[str, Any] = {}
    for setting in settings:
        name, separator, text = setting.partition("=")
        if not separator or name not in defaults:
            raise ValueError(
                f"Expected NAME=VALUE with NAME one of {', '.join(defaults)}. Received: {setting!r}"
            )
        default = defaults[name]
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"Expected true or false for {name}. Received: {text!r}")
            overrides[name] = text.lower() in ("true", "1")
        elif isinstance(default, tuple):
            overrides[name] = tuple(int(value) for value in text.split(","))
        else:
            overrides[name] = type(default)(text)
    return overrides


IMAGE_SHAPES = {"cifar10": (32, 32, 3), "mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1)}
"""The datasets the speedrun CNN is trained on, and their image shapes."""


def hold_out_run(
    config: SpeedrunConfig,
    run_dir: Path,
    *,
    dataset: str = "cifar10",
    seed: int = 0,
    verbose: int = 2,
) -> dict[str, Any]:
    """Train on a stratified 90% of ``dataset``'s training split, score the other 10%.

    The model is cached in ``run_dir / f"{dataset}-{config.digest()}_s{seed}"`` (a finished
    run is loaded, an interrupted one resumes). Returns the settings, the hold-out accuracy at
    each test-time augmentation level (``hold_out_accuracy_tta0`` ... ``tta2``), the training
    seconds and the run's folder. The test split is never read.
    """
    import time

    from a2common.data import load_dataset, stratified_split
    from keras_models.data import prepare_images

    if dataset not in IMAGE_SHAPES:
        raise ValueError(f"Expected dataset one of {sorted(IMAGE_SHAPES)}. Received: {dataset!r}")
    data = load_dataset(dataset)
    rest, held_out = stratified_split(data.train.x, data.train.y, 0.1, seed=seed)
    train_images = prepare_images(rest.x, IMAGE_SHAPES[dataset])
    held_out_images = prepare_images(held_out.x, IMAGE_SHAPES[dataset])
    model_dir = Path(run_dir) / f"{dataset}-{config.digest()}_s{seed}"
    start = time.process_time()
    model, _, seconds = train_speedrun(
        config, model_dir, train_images, rest.y, seed=seed, verbose=verbose
    )
    scores = {}
    for level in (0, 1, 2):
        probabilities = predict_with_tta(model, held_out_images, level=level, mirror=config.mirror)
        scores[f"hold_out_accuracy_tta{level}"] = float(
            (probabilities.argmax(-1) == held_out.y).mean()
        )
    return {
        **config.as_dict(),
        "dataset": dataset,
        "seed": seed,
        "precision_used": model_precision(model),
        **scores,
        "train_seconds": seconds,
        "process_cpu_seconds": time.process_time() - start,
        "run_dir": str(model_dir),
    }


def model_precision(model: keras.Model) -> str:
    """The dtype policy a speedrun model computes its convolutions in.

    >>> images = np.random.default_rng(0).random((4, 16, 16, 1))
    >>> model_precision(build_speedrun_cnn(images, widths=(4, 4, 4)))
    'float32'
    """
    return model.get_layer("block0_conv0").dtype_policy.name


def main(argv: Sequence[str] | None = None) -> None:
    """Train on 90% of a training set and print the accuracy on the other 10% (JSON)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="override SpeedrunConfig fields, e.g. epochs=8 widths=32,128,128 lookahead=false",
    )
    parser.add_argument("--dataset", choices=sorted(IMAGE_SHAPES), default="cifar10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/keras_models/speedrun_holdout"))
    args = parser.parse_args(argv)
    try:
        config = SpeedrunConfig(**parse_overrides(args.set))
    except ValueError as error:
        parser.error(str(error))
    print(json.dumps(hold_out_run(config, args.run_dir, dataset=args.dataset, seed=args.seed)))


if __name__ == "__main__":
    main()
