"""A CIFAR-10 CNN built for speed on a CPU, after the ideas of Jordan's airbench (2024).

The network and its training follow the speedrun recipe's main ideas, written here in Keras 3:

* **Patch-whitening first layer.** A frozen 2x2 convolution whose filters are the eigenvectors
  of the training images' 2x2x3 patch covariance, scaled by ``1/sqrt(eigenvalue)`` (and their
  negatives, so the ReLU-like activation after it keeps both signs): the first layer starts out
  decorrelating the input, which the network would otherwise spend epochs learning.
* **Three conv blocks** ``Conv → MaxPool → BN → GELU → Conv → BN → GELU`` with widths such as
  ``(32, 128, 128)`` (airbench94: ``(64, 256, 256)``); BatchNorm without a learned scale (its
  shift stays), a global max-pool and a bias-free linear head whose logits are scaled by 1/9.
* **Derandomised flips.** Every training image is mirrored in every other epoch (which half
  starts mirrored is random per image), so each pair of epochs sees both views exactly once;
  2-pixel translations (nearest-neighbour, reflected borders) on top.
* **Label smoothing 0.2, Nesterov SGD with warm-up and decay**, test-time flip averaging.

Not a graded task yet. Measured on a 10% stratified hold-out of the training set (45,000
images to train on; AMD EPYC, 2 cores, AVX2, quiet machine, 2026-12-04) by a scratch script
making the same ``train_speedrun`` call as ``python -m keras_models.cifar_speedrun --epochs 14``
(after timing 30 steps of a separate model): widths ``(32, 128, 128)``, 14 epochs,
hold-out accuracy **0.876** with the flip average (0.868 without) in 1,109 s of training
(about 1,230 s for 50,000 images), where the graded quarter-width ResNet-9 (``cifar10_cnn``)
scored 0.8724 on test after 1,733 s in the grade of 2026-12-04 on the same quiet machine.
About 1.4x faster for the same accuracy (different evaluation splits), short of issue 15's
goal of 0.90 in 20 minutes.

Example:

>>> import numpy as np
>>> images = np.random.default_rng(0).random((64, 32, 32, 3)).astype("float32")
>>> model = build_speedrun_cnn(images, widths=(8, 16, 16))
>>> model.output_shape
(None, 10)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np
from keras import layers

from a2common.keras_training import fit_or_load
from keras_models.training import one_cycle_schedule

WHITENING_PATCH = 2
"""Side of the whitening layer's patches (2x2x3 = 12 dimensions, 24 filters)."""


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
    widths: Sequence[int] = (32, 128, 128),
    num_classes: int = 10,
    logit_scale: float = 1 / 9,
    bn_momentum: float = 0.9,
    name: str = "cifar10_speedrun",
) -> keras.Model:
    """The speedrun CNN for ``(32, 32, 3)`` images in ``[0, 1]``.

    Args:
        whitening_images: training images (a few thousand suffice) whose channel statistics
            standardise the input and whose patch covariance sets the frozen first layer.
        widths: filters of the three blocks.
        logit_scale: multiplies the logits (max-pooled features are large; see
            :func:`keras_models.models.build_resnet_cnn`).
        bn_momentum: BatchNorm moving-average momentum.

    Input shape:
        ``(batch, 32, 32, 3)``.

    Output shape:
        ``(batch, num_classes)`` probabilities.
    """
    if len(widths) != 3:
        raise ValueError(f"Expected 3 block widths. Received: widths={tuple(widths)}")
    images = np.asarray(whitening_images, dtype=np.float32)
    mean = images.mean(axis=(0, 1, 2))
    std = images.std(axis=(0, 1, 2))
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
    x = layers.Activation("gelu", name="whiten_gelu")(x)
    for block, width in enumerate(widths):
        for conv in range(2):
            x = layers.Conv2D(
                width, 3, padding="same", use_bias=False, name=f"block{block}_conv{conv}"
            )(x)
            if conv == 0:
                x = layers.MaxPooling2D(name=f"block{block}_pool")(x)
            x = layers.BatchNormalization(
                scale=False, momentum=bn_momentum, name=f"block{block}_bn{conv}"
            )(x)
            x = layers.Activation("gelu", name=f"block{block}_gelu{conv}")(x)
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    x = layers.Dense(num_classes, use_bias=False, name="classifier")(x)
    x = layers.Rescaling(logit_scale, name="logit_scale")(x)
    outputs = layers.Softmax(name="probabilities")(x)
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
    seed: int = 0,
):
    """A ``tf.data`` pipeline of ``epochs`` shuffled epochs with alternating flips.

    Every epoch is the whole training set in a new seeded order, mirrored by
    :func:`alternating_flip_mask` and translated by up to ``translate_pixels`` (nearest pixel,
    reflected borders); labels are one-hot (for label smoothing). Pass
    ``steps_per_epoch=math.ceil(len(labels) / batch_size)`` to ``fit``.
    """
    import tensorflow as tf

    num_images = len(labels)
    per_epoch_images, per_epoch_flips = [], []
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(num_images)
        per_epoch_images.append(order)
        per_epoch_flips.append(alternating_flip_mask(num_images, epoch, seed)[order])
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
    return batched.map(batch_of, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


@dataclass(frozen=True)
class SpeedrunConfig:
    """Everything that defines one speedrun training (its digest keys the cached run).

    Example:

    >>> SpeedrunConfig().widths
    (32, 128, 128)
    """

    widths: tuple[int, int, int] = (32, 128, 128)
    epochs: int = 8
    batch_size: int = 256
    learning_rate: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-3
    label_smoothing: float = 0.2
    translate_pixels: int = 2
    whitening_images: int = 5000
    test_time_flip: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_speedrun(
    config: SpeedrunConfig,
    run_dir: Path,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    *,
    seed: int = 0,
    verbose: int = 2,
) -> tuple[keras.Model, dict[str, list[float]], float]:
    """Train (or load from ``run_dir``) the speedrun CNN; returns ``(model, history, seconds)``.

    ``train_images`` are ``float32`` in ``[0, 1]``, shape ``(n, 32, 32, 3)``; ``train_labels``
    integer classes. An interrupted run resumes from its last finished epoch (it then reads
    the data pipeline from its first epoch again, so its shuffles and flips differ from those of
    an uninterrupted run).
    """
    steps_per_epoch = math.ceil(len(train_labels) / config.batch_size)
    rng = np.random.default_rng(seed)
    sample_size = min(config.whitening_images, len(train_images))
    whitening = train_images[rng.choice(len(train_images), sample_size, replace=False)]

    def build() -> keras.Model:
        keras.utils.set_random_seed(seed)
        model = build_speedrun_cnn(whitening, widths=config.widths)
        optimizer = keras.optimizers.SGD(
            one_cycle_schedule(config.learning_rate, steps_per_epoch * config.epochs),
            momentum=config.momentum,
            nesterov=True,
            weight_decay=config.weight_decay,
        )
        optimizer.exclude_from_weight_decay(var_names=["beta", "gamma", "bias"])
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
        seed=seed,
    )
    return fit_or_load(
        build,
        Path(run_dir),
        data,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        verbose=verbose,
    )


def predict_with_flips(
    model: keras.Model, images: np.ndarray, *, flip: bool = True, batch_size: int = 1000
) -> np.ndarray:
    """Class probabilities of ``images``; with ``flip``, the mean over each image and its mirror.

    >>> model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
    ...                           keras.layers.Dense(2, activation="softmax")])
    >>> predict_with_flips(model, np.zeros((3, 2, 2, 1), "float32")).shape
    (3, 2)
    """
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    if flip:
        mirrored = model.predict(images[:, :, ::-1], batch_size=batch_size, verbose=0)
        probabilities = (probabilities + mirrored) / 2.0
    return np.asarray(probabilities, dtype=np.float64)


def main(argv: Sequence[str] | None = None) -> None:
    """Train on 90% of the CIFAR-10 training set and print the accuracy on the other 10%."""
    import argparse
    import json
    import time

    from a2common.data import load_dataset, stratified_split
    from keras_models.data import prepare_images

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--epochs", type=int, default=SpeedrunConfig.epochs)
    parser.add_argument("--widths", type=int, nargs=3, default=list(SpeedrunConfig.widths))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--run-dir", type=Path, default=Path("runs/keras_models/cifar10_speedrun_holdout")
    )
    args = parser.parse_args(argv)
    config = SpeedrunConfig(widths=tuple(args.widths), epochs=args.epochs)
    dataset = load_dataset("cifar10")
    rest, held_out = stratified_split(dataset.train.x, dataset.train.y, 0.1, seed=args.seed)
    train_images = prepare_images(rest.x, (32, 32, 3))
    held_out_images = prepare_images(held_out.x, (32, 32, 3))
    run_dir = args.run_dir / f"{'_'.join(map(str, config.widths))}_e{config.epochs}_s{args.seed}"
    start = time.process_time()
    model, _, seconds = train_speedrun(config, run_dir, train_images, rest.y, seed=args.seed)
    scores = {
        name: float(
            (predict_with_flips(model, held_out_images, flip=flip).argmax(-1) == held_out.y).mean()
        )
        for name, flip in (("hold_out_accuracy_flip_average", True), ("hold_out_accuracy", False))
    }
    print(
        json.dumps(
            {
                **config.as_dict(),
                **scores,
                "train_seconds": seconds,
                "process_cpu_seconds": time.process_time() - start,
            }
        )
    )


if __name__ == "__main__":
    main()
