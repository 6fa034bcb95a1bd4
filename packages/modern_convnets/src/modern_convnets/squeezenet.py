"""SqueezeNet v1.0 and v1.1 (Iandola et al., 2016) from stock Keras layers.

A *Fire module* squeezes its input with 1x1 convolutions, then expands it with parallel 1x1 and
3x3 convolutions whose outputs are concatenated along the channel axis. SqueezeNet stacks eight
Fire modules between a convolutional stem and a 1x1 convolutional classifier with global
average pooling, so it has no fully connected layer and about 1.25 million parameters.

``build_squeezenet("1.0")`` is the paper's Table 1 network. The paper's shapes follow from the
227x227 crops of its Caffe reference model ((227 - 7) / 2 + 1 = 111 for conv1); the parameter
count (1,248,424) does not depend on the input size. ``"1.1"`` is the variant published with the
Caffe models (github.com/forresti/SqueezeNet, "SqueezeNet_v1.1"): a 3x3 stem with 64 filters and
earlier pooling, 2.4x less computation for the same accuracy, 1,235,496 parameters.

Every builder returns an *uncompiled* ``keras.Model`` that takes ``float32`` images in
``[0, 1]`` and outputs class probabilities.

Example:

>>> model = build_squeezenet("1.0", input_shape=(224, 224, 3), num_classes=1000)
>>> model.count_params()
1248424
"""

from __future__ import annotations

from typing import Sequence

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
from keras import layers

FIRE_MODULES: tuple[tuple[int, int, int], ...] = (
    (16, 64, 64),  # fire2: squeeze 1x1, expand 1x1, expand 3x3 filters
    (16, 64, 64),  # fire3
    (32, 128, 128),  # fire4
    (32, 128, 128),  # fire5
    (48, 192, 192),  # fire6
    (48, 192, 192),  # fire7
    (64, 256, 256),  # fire8
    (64, 256, 256),  # fire9
)
"""Filters of fire2..fire9, identical in v1.0 and v1.1 (the paper's Table 1)."""

VERSIONS: dict[str, dict] = {
    # conv1 filters and kernel size; the pooling layer follows the Fire module of each number
    "1.0": {"stem_filters": 96, "stem_kernel_size": 7, "pool_after": (4, 8)},
    "1.1": {"stem_filters": 64, "stem_kernel_size": 3, "pool_after": (3, 5)},
}
"""What distinguishes the two versions; a max-pool always follows conv1 as well."""


def fire_module(
    x,
    squeeze_filters: int,
    expand1x1_filters: int,
    expand3x3_filters: int,
    name: str,
    batch_norm: bool = False,
):
    """A Fire module: squeeze 1x1 → ReLU → [expand 1x1 → ReLU, expand 3x3 → ReLU] → concatenate.

    Args:
        x: a 4-D Keras tensor ``(batch, height, width, channels)``.
        squeeze_filters: ``s1x1`` in the paper, the bottleneck width.
        expand1x1_filters, expand3x3_filters: ``e1x1`` and ``e3x3``; the output has
            ``e1x1 + e3x3`` channels at the input's resolution (the 3x3 branch pads "same").
        name: prefix of the layer names; the output layer is ``f"{name}_concat"``.
        batch_norm: add ``BatchNormalization`` before each ReLU (not in the paper; it makes
            short training from scratch more stable). Convolutions then have no bias.

    Input shape:
        ``(batch, height, width, channels)``.

    Output shape:
        ``(batch, height, width, expand1x1_filters + expand3x3_filters)``.

    Example:

    >>> inputs = keras.Input((55, 55, 96))
    >>> keras.Model(inputs, fire_module(inputs, 16, 64, 64, "fire2")).count_params()
    11920
    """
    if len(x.shape) != 4:
        raise ValueError(
            f"Expected a 4-D input (batch, height, width, channels). Received: x.shape={x.shape}"
        )
    if min(squeeze_filters, expand1x1_filters, expand3x3_filters) < 1:
        raise ValueError(
            f"Expected positive filter counts. Received: squeeze_filters="
            f"{squeeze_filters}, expand1x1_filters={expand1x1_filters}, "
            f"expand3x3_filters={expand3x3_filters}"
        )
    squeezed = _conv_relu(x, squeeze_filters, 1, f"{name}_squeeze1x1", batch_norm)
    expanded1x1 = _conv_relu(squeezed, expand1x1_filters, 1, f"{name}_expand1x1", batch_norm)
    expanded3x3 = _conv_relu(squeezed, expand3x3_filters, 3, f"{name}_expand3x3", batch_norm)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([expanded1x1, expanded3x3])


def _conv_relu(
    x,
    filters: int,
    kernel_size: int,
    name: str,
    batch_norm: bool,
    strides: int = 1,
    padding: str = "same",
):
    x = layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, use_bias=not batch_norm, name=name
    )(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_squeezenet(
    version: str = "1.0",
    input_shape: Sequence[int] = (224, 224, 3),
    num_classes: int = 1000,
    *,
    width_multiplier: float = 1.0,
    stem_strides: int = 2,
    padding: str = "valid",
    batch_norm: bool = False,
    bypass: bool = False,
    dropout: float = 0.5,
    name: str | None = None,
) -> keras.Model:
    """SqueezeNet v1.0 or v1.1, optionally narrowed and adapted to small images.

    Layout (v1.0; v1.1 has a 3x3/64 conv1 and pools after fire3 and fire5)::

        conv1 7x7/2, 96 → ReLU → maxpool 3x3/2
        fire2 fire3 fire4 → maxpool 3x3/2
        fire5 fire6 fire7 fire8 → maxpool 3x3/2
        fire9 → dropout 0.5 → conv10 1x1, num_classes → ReLU → global average pool → softmax

    Args:
        version: ``"1.0"`` (the paper's Table 1) or ``"1.1"``.
        input_shape: ``(height, width, channels)``.
        num_classes: classes of the classifier (the filters of conv10).
        width_multiplier: scales the filters of conv1 and of every Fire module (rounded, at
            least 1); 1.0 is the paper's network.
        stem_strides: strides of conv1; 1 keeps small images (32x32) from shrinking to
            nothing after the three max-pools.
        padding: padding of conv1 and of the max-pools: ``"valid"`` as in the Caffe model, or
            ``"same"`` (halves the size exactly: 32 → 16 → 8 → 4).
        batch_norm: ``BatchNormalization`` after every convolution but the classifier conv10
            (not in the paper).
        bypass: the paper's "simple bypass": identity shortcuts around fire3, fire5, fire7 and
            fire9 (v1.0) whose input and output widths match. No extra parameters.
        dropout: dropout rate after fire9 (the paper's 0.5; 0 disables it).
        name: model name; defaults to ``"squeezenet_v1_0"`` / ``"squeezenet_v1_1"``.

    Input shape:
        ``(batch, *input_shape)`` float32 images in ``[0, 1]``.

    Output shape:
        ``(batch, num_classes)`` probabilities.

    Example:

    >>> build_squeezenet("1.1", (32, 32, 3), 10, width_multiplier=0.25, stem_strides=1,
    ...                  padding="same").output_shape
    (None, 10)
    """
    if version not in VERSIONS:
        raise ValueError(f"Expected version in {tuple(VERSIONS)}. Received: version={version!r}")
    if len(input_shape) != 3:
        raise ValueError(
            f"Expected input_shape (height, width, channels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    if width_multiplier <= 0:
        raise ValueError(
            f"Expected width_multiplier > 0. Received: width_multiplier={width_multiplier}"
        )
    if padding not in ("valid", "same"):
        raise ValueError(f"Expected padding in ('valid', 'same'). Received: padding={padding!r}")
    config = VERSIONS[version]

    def scaled(filters: int) -> int:
        return max(1, int(round(filters * width_multiplier)))

    inputs = keras.Input(shape=tuple(input_shape), name="images")
    x = _conv_relu(
        inputs,
        scaled(config["stem_filters"]),
        config["stem_kernel_size"],
        "conv1",
        batch_norm,
        strides=stem_strides,
        padding=padding,
    )
    x = layers.MaxPooling2D(3, strides=2, padding=padding, name="maxpool1")(x)
    for number, filters in enumerate(FIRE_MODULES, start=2):
        fire_input = x
        squeeze, expand1x1, expand3x3 = filters
        x = fire_module(
            x,
            scaled(squeeze),
            scaled(expand1x1),
            scaled(expand3x3),
            name=f"fire{number}",
            batch_norm=batch_norm,
        )
        if bypass and number % 2 == 1 and fire_input.shape[-1] == x.shape[-1]:
            x = layers.Add(name=f"fire{number}_bypass")([fire_input, x])
        if number in config["pool_after"]:
            x = layers.MaxPooling2D(3, strides=2, padding=padding, name=f"maxpool{number}")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout9")(x)
    x = _conv_relu(x, num_classes, 1, "conv10", batch_norm=False)
    x = layers.GlobalAveragePooling2D(name="avgpool10")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    default_name = "squeezenet_v" + version.replace(".", "_")
    return keras.Model(inputs, outputs, name=name or default_name)


def stage_names(version: str = "1.0") -> list[str]:
    """Names of the layers that end each row of the paper's Table 1, in order.

    Example:

    >>> stage_names("1.0")[:3]
    ['conv1_relu', 'maxpool1', 'fire2_concat']
    """
    if version not in VERSIONS:
        raise ValueError(f"Expected version in {tuple(VERSIONS)}. Received: version={version!r}")
    names = ["conv1_relu", "maxpool1"]
    for number in range(2, 2 + len(FIRE_MODULES)):
        names.append(f"fire{number}_concat")
        if number in VERSIONS[version]["pool_after"]:
            names.append(f"maxpool{number}")
    return names + ["conv10_relu", "avgpool10"]
