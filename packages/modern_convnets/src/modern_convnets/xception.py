"""Xception (Chollet, 2017) from stock Keras layers: entry, middle and exit flows.

Xception replaces Inception modules with depthwise-separable convolutions (``SeparableConv2D``:
a 3x3 convolution per channel, then a 1x1 convolution across channels) and wraps them in
residual blocks. With its defaults :func:`build_xception` is the paper's ImageNet network
(Figure 5): 299x299x3 input, 1000 classes, 22,910,480 parameters, the same count and block
shapes as ``keras.applications.Xception(weights=None)``.

Layout (``E``/``M``/``X`` = entry/middle/exit widths)::

    entry stem:   Conv 3x3/2 (32) → Conv 3x3 (64)                         each BN + ReLU
    entry block:  [ReLU] SepConv 3x3 → BN → ReLU → SepConv 3x3 → BN → MaxPool 3x3/2
                  + Conv 1x1/2 → BN shortcut                 × 3 (widths 128, 256, 728)
    middle block: 3 × (ReLU → SepConv 3x3 → BN) + identity shortcut      × 8 (width 728)
    exit block:   ReLU → SepConv (728) → BN → ReLU → SepConv (1024) → BN → MaxPool 3x3/2
                  + Conv 1x1/2 → BN shortcut
    exit convs:   SepConv (1536) → BN → ReLU → SepConv (2048) → BN → ReLU
    head:         global average pool → [dropout] → Dense softmax

The first entry block has no leading ReLU: the stem already ends with one.

Example:

>>> build_xception().count_params()
22910480
"""

from __future__ import annotations

from typing import Sequence

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
from keras import layers


def _separable_bn(x, filters: int, name: str, relu_first: bool):
    if relu_first:
        x = layers.ReLU(name=f"{name}_relu")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


def _projected_block(
    x, widths: Sequence[int], name: str, relu_first: bool = True, pool: bool = True
):
    """Two separable convolutions, a 3x3/2 max-pool and a strided 1x1 projection shortcut."""
    shortcut = layers.Conv2D(
        widths[-1],
        1,
        strides=2 if pool else 1,
        padding="same",
        use_bias=False,
        name=f"{name}_shortcut",
    )(x)
    shortcut = layers.BatchNormalization(name=f"{name}_shortcut_bn")(shortcut)
    x = _separable_bn(x, widths[0], f"{name}_sepconv1", relu_first=relu_first)
    x = _separable_bn(x, widths[1], f"{name}_sepconv2", relu_first=True)
    if pool:
        x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def _middle_block(x, width: int, name: str):
    """Three ReLU-SepConv-BN units with an identity shortcut (the input must be ``width`` wide)."""
    shortcut = x
    for unit in range(1, 4):
        x = _separable_bn(x, width, f"{name}_sepconv{unit}", relu_first=True)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def build_xception(
    input_shape: Sequence[int] = (299, 299, 3),
    num_classes: int = 1000,
    *,
    stem_widths: Sequence[int] = (32, 64),
    stem_strides: int = 2,
    stem_padding: str = "valid",
    entry_widths: Sequence[int] = (128, 256, 728),
    middle_blocks: int = 8,
    exit_widths: Sequence[int] = (728, 1024),
    head_widths: Sequence[int] = (1536, 2048),
    entry_pools: Sequence[bool] = (),
    exit_pool: bool = True,
    dropout: float = 0.0,
    name: str = "xception",
) -> keras.Model:
    """Xception, or a narrower, shallower variant of it for small images on a CPU.

    The defaults are the paper's ImageNet network. The middle flow's width is the last entry
    width (the identity shortcuts need equal widths).

    Args:
        input_shape: ``(height, width, channels)``; images are ``float32`` in ``[0, 1]``
            (a ``Rescaling`` layer maps them to ``[-1, 1]``, the range Xception expects).
        num_classes: classes of the softmax classifier.
        stem_widths: filters of the two stem convolutions.
        stem_strides: strides of the first stem convolution (1 for 32x32 images).
        stem_padding: ``"valid"`` as in the paper or ``"same"`` (keeps small images larger).
        entry_widths: one entry block per width; the last one is the middle flow's width.
        middle_blocks: number of middle-flow blocks (8 in the paper).
        exit_widths: filters of the exit block's two separable convolutions.
        head_widths: filters of the two separable convolutions after the exit block.
        entry_pools: per entry block, whether it halves the resolution (max-pool and strided
            shortcut); empty means every block does, as in the paper.
        exit_pool: whether the exit block halves the resolution.
        dropout: dropout rate before the classifier (0 disables it).

    Input shape:
        ``(batch, *input_shape)``.

    Output shape:
        ``(batch, num_classes)`` probabilities.

    Example:

    >>> small = build_xception((32, 32, 3), 10, stem_widths=(16, 32), stem_strides=1,
    ...                        entry_widths=(64, 128), middle_blocks=2, exit_widths=(128, 256),
    ...                        head_widths=(256, 384))
    >>> small.output_shape
    (None, 10)
    """
    if len(input_shape) != 3:
        raise ValueError(
            f"Expected input_shape (height, width, channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    if len(stem_widths) != 2 or len(exit_widths) != 2 or len(head_widths) != 2:
        raise ValueError(
            f"Expected two stem, exit and head widths each. Received: "
            f"stem_widths={tuple(stem_widths)}, exit_widths={tuple(exit_widths)}, "
            f"head_widths={tuple(head_widths)}"
        )
    if not entry_widths or middle_blocks < 0:
        raise ValueError(
            f"Expected at least one entry block and middle_blocks >= 0. Received: "
            f"entry_widths={tuple(entry_widths)}, middle_blocks={middle_blocks}"
        )
    pools = tuple(entry_pools) or (True,) * len(entry_widths)
    if len(pools) != len(entry_widths):
        raise ValueError(
            f"Expected one entry_pools flag per entry width. Received: "
            f"entry_pools={tuple(entry_pools)}, entry_widths={tuple(entry_widths)}"
        )

    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_plus_minus_one")(inputs)
    for index, (width, strides) in enumerate(zip(stem_widths, (stem_strides, 1)), start=1):
        x = layers.Conv2D(
            width,
            3,
            strides=strides,
            padding=stem_padding,
            use_bias=False,
            name=f"stem_conv{index}",
        )(x)
        x = layers.BatchNormalization(name=f"stem_conv{index}_bn")(x)
        x = layers.ReLU(name=f"stem_conv{index}_relu")(x)
    for index, (width, pool) in enumerate(zip(entry_widths, pools), start=1):
        x = _projected_block(x, (width, width), f"entry{index}", relu_first=index > 1, pool=pool)
    for index in range(1, middle_blocks + 1):
        x = _middle_block(x, entry_widths[-1], f"middle{index}")
    x = _projected_block(x, exit_widths, "exit", pool=exit_pool)
    for index, width in enumerate(head_widths, start=1):
        x = layers.SeparableConv2D(
            width, 3, padding="same", use_bias=False, name=f"exit_sepconv{index + 2}"
        )(x)
        x = layers.BatchNormalization(name=f"exit_sepconv{index + 2}_bn")(x)
        x = layers.ReLU(name=f"exit_sepconv{index + 2}_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def block_names(entry_blocks: int = 3, middle_blocks: int = 8) -> list[str]:
    """Names of the layers that end each block, in order (stem, entry, middle, exit, head).

    Example:

    >>> block_names(3, 8)[:2], block_names(3, 8)[-2:]
    (['stem_conv2_relu', 'entry1_add'], ['exit_add', 'exit_sepconv4_relu'])
    """
    return (
        ["stem_conv2_relu"]
        + [f"entry{i}_add" for i in range(1, entry_blocks + 1)]
        + [f"middle{i}_add" for i in range(1, middle_blocks + 1)]
        + ["exit_add", "exit_sepconv4_relu"]
    )
