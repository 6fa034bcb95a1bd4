"""Model builders: one function per architecture, stock Keras layers only.

Every builder returns an *uncompiled* ``keras.Model`` that takes ``float32`` images in
``[0, 1]`` (see :func:`keras_models.data.prepare_images`) and outputs class probabilities
(softmax), so ``model.predict(x).argmax(-1)`` is the predicted class.

Example:

>>> model = build_mlp((28, 28), hidden_units=(32,))
>>> model.output_shape
(None, 10)
"""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers


def build_mlp(
    input_shape: Sequence[int] = (28, 28),
    hidden_units: Sequence[int] = (256,),
    num_classes: int = 10,
    activation: str = "relu",
    dropout: float = 0.0,
    name: str = "mlp",
) -> keras.Sequential:
    """A multilayer perceptron: ``Flatten`` → ``Dense`` hidden layers → ``Dense`` softmax.

    Args:
        input_shape: shape of one image, e.g. ``(28, 28)``.
        hidden_units: width of each hidden layer; ``(20, 40)`` gives 784→20→40→10.
        num_classes: number of output classes.
        activation: activation of the hidden layers (``"relu"``, ``"tanh"``, ``"sigmoid"``...).
        dropout: dropout rate after each hidden layer (0 disables it).

    Input shape:
        ``(batch, *input_shape)``.

    Output shape:
        ``(batch, num_classes)`` probabilities.

    Example:

    >>> build_mlp((28, 28), (20, 40)).count_params()
    16950
    """
    stack: list[layers.Layer] = [keras.Input(shape=tuple(input_shape)), layers.Flatten()]
    for units in hidden_units:
        stack.append(layers.Dense(units, activation=activation))
        if dropout:
            stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(num_classes, activation="softmax"))
    return keras.Sequential(stack, name=name)


def _conv_bn_relu(
    x,
    filters: int,
    kernel_size: int = 3,
    name: str | None = None,
    padding: str = "same",
    bn_momentum: float = 0.99,
):
    """Conv2D (no bias: BatchNorm adds one) → BatchNorm → ReLU."""
    x = layers.Conv2D(
        filters,
        kernel_size,
        padding=padding,
        use_bias=False,
        name=None if name is None else f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(
        momentum=bn_momentum, name=None if name is None else f"{name}_bn"
    )(x)
    return layers.ReLU(name=None if name is None else f"{name}_relu")(x)


def build_simple_cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    filters: Sequence[int] = (32, 64),
    dense_units: int = 128,
    dropout: float = 0.3,
    kernel_size: int = 3,
    padding: str = "same",
    bn_momentum: float = 0.99,
    name: str = "simple_cnn",
) -> keras.Model:
    """A LeNet/VGG-style CNN: per stage ``Conv-BN-ReLU`` → ``MaxPool``, then ``Dense`` layers.

    Each entry of ``filters`` is one stage at half the resolution of the previous one. With
    ``kernel_size=5, padding="valid"`` and ``filters=(32, 64)`` it is LeNet-5 shaped
    (28 → 24 → 12 → 8 → 4), which is cheap enough to train on a CPU in minutes.
    ``bn_momentum`` is BatchNorm's moving-average momentum: the default 0.99 needs a few hundred
    steps before inference statistics settle; lower it for very short runs.

    Input shape:
        ``(batch, height, width, channels)``, e.g. ``(batch, 28, 28, 1)`` for MNIST.

    Output shape:
        ``(batch, num_classes)`` probabilities.

    Example:

    >>> build_simple_cnn((28, 28, 1), filters=(8, 16)).output_shape
    (None, 10)
    """
    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    for stage, width in enumerate(filters):
        x = _conv_bn_relu(
            x, width, kernel_size, name=f"stage{stage}", padding=padding, bn_momentum=bn_momentum
        )
        x = layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    x = layers.ReLU()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def build_vgg_cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    filters: Sequence[int] = (32, 64, 128),
    convs_per_stage: int = 2,
    dropout: float = 0.3,
    bn_momentum: float = 0.99,
    name: str = "vgg_cnn",
) -> keras.Model:
    """A deeper VGG-style CNN: ``convs_per_stage`` × ``Conv-BN-ReLU`` then ``MaxPool`` per stage,
    global average pooling, dropout and a softmax classifier.

    Example:

    >>> build_vgg_cnn((28, 28, 1), filters=(8, 16), convs_per_stage=1).output_shape
    (None, 10)
    """
    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    for stage, width in enumerate(filters):
        for conv in range(convs_per_stage):
            x = _conv_bn_relu(x, width, name=f"stage{stage}_{conv}", bn_momentum=bn_momentum)
        x = layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def build_resnet_cnn(
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    widths: Sequence[int] = (16, 32, 64, 128),
    channel_mean: Sequence[float] | None = None,
    channel_std: Sequence[float] | None = None,
    logit_scale: float = 0.125,
    bn_momentum: float = 0.99,
    name: str = "resnet_cnn",
) -> keras.Model:
    """A small ResNet in the style of D. Page's "ResNet-9" for CIFAR-10, at reduced width.

    Layout (``w0..w3`` = ``widths``)::

        prep:   Conv-BN-ReLU(w0)
        layer1: Conv-BN-ReLU(w1) → MaxPool → + residual(2 × Conv-BN-ReLU(w1))
        layer2: Conv-BN-ReLU(w2) → MaxPool
        layer3: Conv-BN-ReLU(w3) → MaxPool → + residual(2 × Conv-BN-ReLU(w3))
        head:   GlobalMaxPool → Dense → × logit_scale → softmax

    Args:
        channel_mean, channel_std: per-channel statistics of the training images in ``[0, 1]``
            units; when given, a ``Normalization`` layer standardises the input inside the
            model, so the saved model takes plain ``[0, 1]`` images.
        logit_scale: multiplies the logits. Max-pooled ReLU features are large, so unscaled
            logits start out confidently wrong and SGD diverges at useful learning rates;
            Page's 0.125 keeps the initial predictions near uniform.
        bn_momentum: BatchNorm's moving-average momentum (lower it for very short runs).

    Example:

    >>> build_resnet_cnn(widths=(4, 8, 8, 8)).output_shape
    (None, 10)
    """
    if len(widths) != 4:
        raise ValueError(
            f"Expected 4 widths (prep, layer1, layer2, layer3). Received: widths={widths}"
        )
    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    if channel_mean is not None and channel_std is not None:
        x = layers.Normalization(
            mean=list(channel_mean), variance=[s * s for s in channel_std], name="standardize"
        )(x)
    x = _conv_bn_relu(x, widths[0], name="prep", bn_momentum=bn_momentum)
    for index, (width, residual) in enumerate(zip(widths[1:], (True, False, True)), start=1):
        x = _conv_bn_relu(x, width, name=f"layer{index}", bn_momentum=bn_momentum)
        x = layers.MaxPooling2D(name=f"layer{index}_pool")(x)
        if residual:
            branch = _conv_bn_relu(x, width, name=f"layer{index}_res1", bn_momentum=bn_momentum)
            branch = _conv_bn_relu(
                branch, width, name=f"layer{index}_res2", bn_momentum=bn_momentum
            )
            x = layers.Add(name=f"layer{index}_add")([x, branch])
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    x = layers.Dense(num_classes, name="classifier")(x)
    x = layers.Rescaling(logit_scale, name="logit_scale")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def build_augmentation(kind: str, seed: int = 0) -> keras.Sequential:
    """Stock Keras augmentation layers for a dataset family.

    Args:
        kind: ``"digits"`` (shifts up to 10%, no flips: a flipped 2 is not a 2),
            ``"digits_affine"`` (rotations up to 10°, zooms up to 10% and shifts up to 10%),
            ``"fashion"`` (horizontal flips and shifts up to 10%), ``"fashion_flip"`` (flips
            only), ``"fashion_small_shift"`` (flips and shifts up to 5%) or ``"cifar"`` (flips
            and 4-pixel shifts).
        seed: seed of the random layers.

    Example:

    >>> build_augmentation("cifar").name
    'cifar_augmentation'
    """
    if kind == "digits":
        stack = [layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed)]
    elif kind == "digits_affine":
        stack = [
            layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed),
            layers.RandomZoom(0.1, fill_mode="constant", seed=seed + 1),
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 2),
        ]
    elif kind == "fashion":
        stack = [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1),
        ]
    elif kind == "fashion_flip":
        stack = [layers.RandomFlip("horizontal", seed=seed)]
    elif kind == "fashion_small_shift":
        stack = [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomTranslation(0.05, 0.05, fill_mode="constant", seed=seed + 1),
        ]
    elif kind == "cifar":
        stack = [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomTranslation(0.125, 0.125, fill_mode="reflect", seed=seed + 1),
        ]
    else:
        raise ValueError(
            f"Expected kind in ('digits', 'digits_affine', 'fashion', 'fashion_flip', "
            f"'fashion_small_shift', 'cifar'). Received: {kind!r}"
        )
    return keras.Sequential(stack, name=f"{kind}_augmentation")
