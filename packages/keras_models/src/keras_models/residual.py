"""The seed's part-3 CNNs: ``DefaultModel`` (the baseline) and ``YourModel`` (blocks, skips).

Both are built by functions (Keras functional API) and take ``float32`` pixels in ``[0, 1]``;
a fixed per-channel standardisation inside the model keeps the attacks of
:mod:`keras_models.attacks` in pixel space. Both end in a softmax.

* :func:`build_default_model`: the seed's ``DefaultModel.build_cnn``: Conv 32, Conv 32,
  average pool, Conv 64, Conv 64, average pool, Flatten, Dense.
* :func:`build_your_model`: ``num_blocks`` blocks [Conv, BN, act, Conv, BN, act, mean pool,
  dropout] whose feature maps double per block. ``use_skip`` adds a projection shortcut
  (1×1 conv + BN of the block input) to the output of the second BN, before its activation.

Example:

>>> model = build_your_model(num_blocks=2, feature_maps=8, num_classes=6)
>>> model.output_shape
(None, 6)
"""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

ANIMALS_SHAPE = (32, 32, 3)


def _standardise(
    inputs: keras.KerasTensor,
    channel_mean: Sequence[float] | None,
    channel_std: Sequence[float] | None,
) -> keras.KerasTensor:
    if channel_mean is None or channel_std is None:
        return inputs
    if len(channel_mean) != inputs.shape[-1] or len(channel_std) != inputs.shape[-1]:
        raise ValueError(
            f"Expected one mean and one std per channel ({inputs.shape[-1]}). "
            f"Received: channel_mean={channel_mean}, channel_std={channel_std}"
        )
    return layers.Normalization(
        mean=list(channel_mean), variance=[float(s) ** 2 for s in channel_std], name="standardise"
    )(inputs)


def build_default_model(
    input_shape: Sequence[int] = ANIMALS_SHAPE,
    num_classes: int = 6,
    *,
    channel_mean: Sequence[float] | None = None,
    channel_std: Sequence[float] | None = None,
    name: str = "default_model",
) -> keras.Model:
    """The seed's ``DefaultModel``: two pairs of 3×3 ReLU convs (32, 64), each pair average-pooled.

    Example:

    >>> build_default_model(num_classes=10).count_params()  # the seed's 106,538
    106538
    """
    if num_classes < 2:
        raise ValueError(f"Expected num_classes >= 2. Received: num_classes={num_classes}")
    inputs = keras.Input(tuple(input_shape), name="pixels")
    x = _standardise(inputs, channel_mean, channel_std)
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def residual_block(
    x: keras.KerasTensor,
    filters: int,
    *,
    use_skip: bool,
    batch_norm: bool = True,
    drop_rate: float = 0.0,
    activation: str = "relu",
    bn_momentum: float = 0.99,
    name: str = "block",
) -> keras.KerasTensor:
    """[Conv, BN, act, Conv, BN, (+ projection shortcut), act, mean pool, dropout].

    Args:
        x: the block's input.
        filters: feature maps of both convolutions.
        use_skip: add ``BN(Conv1x1(x))`` to the second BN's output.
        batch_norm: ``False`` leaves out the BatchNorm layers (the seed's ``batch_norm=None``).
        drop_rate: dropout rate after the pool (0 = none).
        bn_momentum: momentum of the BatchNorm moving averages (lower for runs of few steps,
            whose averages would otherwise not settle).
    """
    shortcut = x
    y = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"{name}_conv1")(x)
    if batch_norm:
        y = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn1")(y)
    y = layers.Activation(activation, name=f"{name}_act1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"{name}_conv2")(y)
    if batch_norm:
        y = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn2")(y)
    if use_skip:
        shortcut = layers.Conv2D(filters, 1, use_bias=not batch_norm, name=f"{name}_projection")(
            shortcut
        )
        if batch_norm:
            shortcut = layers.BatchNormalization(
                momentum=bn_momentum, name=f"{name}_projection_bn"
            )(shortcut)
        y = layers.Add(name=f"{name}_add")([y, shortcut])
    y = layers.Activation(activation, name=f"{name}_act2")(y)
    y = layers.AveragePooling2D(2, padding="same", name=f"{name}_pool")(y)
    if drop_rate > 0:
        y = layers.Dropout(drop_rate, name=f"{name}_dropout")(y)
    return y


def build_your_model(
    input_shape: Sequence[int] = ANIMALS_SHAPE,
    num_classes: int = 6,
    *,
    num_blocks: int = 2,
    feature_maps: int = 32,
    drop_rate: float = 0.2,
    batch_norm: bool = True,
    use_skip: bool = True,
    activation: str = "relu",
    bn_momentum: float = 0.99,
    channel_mean: Sequence[float] | None = None,
    channel_std: Sequence[float] | None = None,
    name: str = "your_model",
) -> keras.Model:
    """The seed's ``YourModel``: ``num_blocks`` residual blocks, then a linear softmax layer.

    Block ``i`` has ``feature_maps * 2**i`` feature maps; the last block's maps are flattened.

    Example:

    >>> skip = build_your_model(num_blocks=3, feature_maps=8, use_skip=True)
    >>> plain = build_your_model(num_blocks=3, feature_maps=8, use_skip=False)
    >>> skip.count_params() > plain.count_params()
    True
    """
    if num_blocks < 1 or feature_maps < 1:
        raise ValueError(
            f"Expected num_blocks >= 1 and feature_maps >= 1. Received: "
            f"num_blocks={num_blocks}, feature_maps={feature_maps}"
        )
    if not 0.0 <= drop_rate < 1.0:
        raise ValueError(f"Expected 0 <= drop_rate < 1. Received: drop_rate={drop_rate}")
    if num_classes < 2:
        raise ValueError(f"Expected num_classes >= 2. Received: num_classes={num_classes}")
    inputs = keras.Input(tuple(input_shape), name="pixels")
    x = _standardise(inputs, channel_mean, channel_std)
    for block in range(num_blocks):
        x = residual_block(
            x,
            feature_maps * 2**block,
            use_skip=use_skip,
            batch_norm=batch_norm,
            drop_rate=drop_rate,
            activation=activation,
            bn_momentum=bn_momentum,
            name=f"block{block + 1}",
        )
    x = layers.Flatten()(x)
    # float32 under any global dtype policy: bfloat16 softmax probabilities keep ~3 significant
    # digits, too coarse for the logarithm of the cross-entropy
    outputs = layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(inputs, outputs, name=name)
