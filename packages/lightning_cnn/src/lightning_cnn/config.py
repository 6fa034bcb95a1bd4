"""Framework-neutral configuration shared by the Keras and the Lightning model.

Both frameworks build the *same* network and train it the *same* way from these dataclasses,
so that a difference in the results is a difference between the frameworks, not between two
recipes.

Example:

>>> config = TrainConfig(epochs=2)
>>> config.cnn.pooling, config.batch_size
('max', 64)
>>> round(warmup_cosine_factor(step=0, total_steps=100, warmup_steps=10), 3)
0.04
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

CLASS_NAMES: tuple[str, ...] = ("cats", "dogs", "panda")
"""Label order of the animals3 dataset (alphabetical, as image-folder loaders infer it)."""
IMAGE_SIZE = 64
"""Side of the square RGB images, in pixels."""
POOLINGS = ("max", "gem")
GEM_P_MIN = 1.0
"""Smallest GeM exponent used in the forward pass (``p = 1`` is average pooling)."""
GEM_P_MAX = 6.0
"""Largest GeM exponent: keeps ``eps ** p`` a normal float32 number (``1e-6 ** 6 = 1e-36``)."""


@dataclass(frozen=True)
class CNNConfig:
    """The convolutional network, identical in both frameworks.

    Layout: one 3x3 conv-BN-ReLU block per entry of ``channels`` with a 2x2 pooling layer
    between consecutive blocks (64 -> 32 -> 16 -> 8 -> 4 px for five blocks), then global
    average pooling, dropout and a linear classifier. The first block is the narrowest because
    it runs at full resolution, where it costs the most time per filter on a CPU; the widths
    (32, 64, 128, 256, 512) replaced (16, 64, 128, 256, 256) when the recipe gained cutout and
    mixup (issue 16: the regularised, longer training can use the extra capacity).

    Args:
        channels: filters of each block's convolution.
        pooling: ``"max"`` (max pooling) or ``"gem"`` (the custom generalized-mean pooling with
            a learnable exponent, see :mod:`lightning_cnn.torch_pooling`).
        gem_p: initial exponent of the GeM layers.
        dropout: dropout rate before the classifier.
        num_classes: number of output logits.
    """

    channels: tuple[int, ...] = (32, 64, 128, 256, 512)
    pooling: str = "max"
    gem_p: float = 3.0
    dropout: float = 0.3
    num_classes: int = len(CLASS_NAMES)

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"Expected pooling in {POOLINGS}. Received: pooling={self.pooling!r}")
        if not self.channels or min(self.channels) < 1:
            raise ValueError(
                f"Expected at least one block of >= 1 filters. Received: channels={self.channels}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"Expected 0 <= dropout < 1. Received: dropout={self.dropout}")


@dataclass(frozen=True)
class TrainConfig:
    """How both models are trained.

    Args:
        cnn: the network.
        epochs: passes over the training split.
        batch_size: images per step.
        learning_rate: peak learning rate of the warm-up + cosine schedule (AdamW).
        weight_decay: decoupled weight decay of AdamW.
        warmup_fraction: fraction of the steps spent warming up linearly from
            ``learning_rate / 25``.
        label_smoothing: cross-entropy label smoothing.
        shift_px: largest random translation, in pixels, of the training augmentation
            (besides a random horizontal flip).
        cutout_px: side of the square set to the training images' mean colour at a random
            place in every training image (cutout, DeVries & Taylor 2017; ``0``: none).
        mixup_alpha: mixup (Zhang et al. 2018): each training image is blended with another
            image of its batch, and its label likewise, with a weight drawn from
            ``Beta(mixup_alpha, mixup_alpha)`` (``0``: none).
        early_stopping_patience: epochs without a lower validation loss before stopping.
        test_time_flip: predict the mean of the probabilities of each image and its mirror
            image (test-time augmentation).
    """

    cnn: CNNConfig = field(default_factory=CNNConfig)
    epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 5e-2
    warmup_fraction: float = 0.2
    label_smoothing: float = 0.1
    shift_px: int = 6
    cutout_px: int = 24
    mixup_alpha: float = 0.4
    early_stopping_patience: int = 40
    test_time_flip: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"Expected epochs >= 1 and batch_size >= 1. Received: "
                f"epochs={self.epochs}, batch_size={self.batch_size}"
            )
        if self.cutout_px < 0 or self.mixup_alpha < 0:
            raise ValueError(
                f"Expected cutout_px >= 0 and mixup_alpha >= 0. Received: "
                f"cutout_px={self.cutout_px}, mixup_alpha={self.mixup_alpha}"
            )
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(
                f"Expected 0 <= warmup_fraction < 1. "
                f"Received: warmup_fraction={self.warmup_fraction}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for hyper-parameter logs and model cards)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`."""
        values = dict(values)
        cnn = values.pop("cnn", {})
        if isinstance(cnn, dict):
            cnn = CNNConfig(**{**cnn, "channels": tuple(cnn.get("channels", CNNConfig.channels))})
        return cls(cnn=cnn, **values)


WARMUP_START_DIVISOR = 25.0
"""The schedule starts at ``learning_rate / 25`` (as ``torch``'s ``OneCycleLR`` does)."""


def warmup_cosine_factor(step: int, total_steps: int, warmup_steps: int) -> float:
    """Learning-rate multiplier at ``step``: linear warm-up, then cosine decay to zero.

    It is the formula of ``keras.optimizers.schedules.CosineDecay`` with
    ``initial_learning_rate = peak / 25``, ``warmup_target = peak``, ``alpha = 0``, so the
    Lightning model (``LambdaLR``) and the Keras model follow the same curve.
    """
    start = 1.0 / WARMUP_START_DIVISOR
    if step < warmup_steps:
        return start + (1.0 - start) * step / warmup_steps
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min(step - warmup_steps, decay_steps) / decay_steps
    return 0.5 * (1.0 + math.cos(math.pi * progress))
