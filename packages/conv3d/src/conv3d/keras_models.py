"""3D CNNs for binary volume classification in Keras, and their seeded, resumable training.

The same two architectures as :mod:`conv3d.torch_models`, built from stock Keras layers
(``Conv3D``, ``BatchNormalization``, ``MaxPooling3D``, ``Dropout``):

* :func:`build_keras_cnn`: stages of (Conv3D-BN-ReLU) x2 and max-pooling.
* :func:`build_keras_resnet`: a small 3D residual network.

:func:`train_keras` feeds a ``tf.data`` pipeline (shuffle, batch, the numpy augmentation of
:mod:`conv3d.augment` through ``tf.numpy_function``) to ``model.fit`` via
:func:`a2common.keras_training.fit_or_load` (checkpoint every epoch, resume, or load the
finished model), and predicts the test set averaged over mirror flips.

Example:

>>> model = build_keras_cnn((28, 28, 28, 1))
>>> model.output_shape
(None, 1)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import a2common.tf_env  # noqa: F401  (TensorFlow log level and oneDNN before keras)

# isort: split
import keras
import tensorflow as tf

from a2common.keras_training import finished_model_exists, fit_or_load
from a2common.seeding import seed_everything
from conv3d.augment import AugmentConfig, augment_batch
from conv3d.results import TrainResult, to_volumes


@dataclass
class KerasTrainConfig:
    """Settings of :func:`train_keras` (defaults: the recipe chosen on the val split).

    Attributes:
        model: ``"cnn"`` (:func:`build_keras_cnn`) or ``"resnet"`` (:func:`build_keras_resnet`).
        channels, dropout, stem_stride: passed to the builder.
        epochs, batch_size, learning_rate, weight_decay, warmup_epochs: AdamW with linear
            warm-up and cosine decay.
        augment: the training-time augmentation (``AugmentConfig.none()`` turns it off).
        tta_flips: average the predicted probability over the 8 mirror images at test time.
        seed: seeds Keras, the shuffle order and the augmentation.
    """

    model: str = "cnn"
    channels: tuple[int, ...] = (16, 32, 64)
    dropout: float = 0.3
    stem_stride: int = 2
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 1
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    tta_flips: bool = True
    seed: int = 0


def _batch_norm(name: str) -> keras.layers.BatchNormalization:
    """PyTorch's ``BatchNorm3d`` settings (momentum 0.1 there is 0.9 here, epsilon 1e-5), so
    that both frameworks train the same model. Keras' default momentum 0.99 averages the
    moving statistics over ~100 steps, a sixth of a 15-epoch run of 38 steps per epoch, and
    the evaluation then normalises with statistics of much earlier weights."""
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)


def _conv_bn_relu(inputs: Any, filters: int, strides: int = 1, name: str = "") -> Any:
    x = keras.layers.Conv3D(
        filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(inputs)
    x = _batch_norm(f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _head(features: Any, dropout: float) -> Any:
    x = keras.layers.GlobalAveragePooling3D(name="gap")(features)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.layers.Dense(1, activation="sigmoid", name="probability")(x)


def build_keras_cnn(
    input_shape: Sequence[int] = (28, 28, 28, 1),
    channels: Sequence[int] = (16, 32, 64),
    dropout: float = 0.3,
    stem_stride: int = 2,
) -> keras.Model:
    """A VGG-style 3D CNN (uncompiled): per stage two Conv3D-BN-ReLU, then max-pooling.

    Args:
        input_shape: ``(D, H, W, channels)``.
        channels: filters of each stage.
        dropout: dropout rate before the sigmoid output.
        stem_stride: stride of the first convolution (cheaper on CPU, see the torch twin).

    Input shape: ``(N, D, H, W, C)``. Output shape: ``(N, 1)`` probabilities.
    """
    inputs = keras.Input(tuple(input_shape), name="volume")
    x = inputs
    for index, width in enumerate(channels):
        x = _conv_bn_relu(x, width, stem_stride if index == 0 else 1, name=f"stage{index}a")
        x = _conv_bn_relu(x, width, name=f"stage{index}b")
        if index < len(channels) - 1:
            x = keras.layers.MaxPooling3D(2, name=f"stage{index}_pool")(x)
    return keras.Model(inputs, _head(x, dropout), name="conv3d_cnn")


def _residual_block(inputs: Any, filters: int, strides: int, name: str) -> Any:
    x = _conv_bn_relu(inputs, filters, strides, name=f"{name}a")
    x = keras.layers.Conv3D(filters, 3, padding="same", use_bias=False, name=f"{name}b_conv")(x)
    x = _batch_norm(f"{name}b_bn")(x)
    shortcut = inputs
    if strides != 1 or inputs.shape[-1] != filters:
        shortcut = keras.layers.Conv3D(
            filters, 1, strides=strides, use_bias=False, name=f"{name}_proj"
        )(inputs)
        shortcut = _batch_norm(f"{name}_proj_bn")(shortcut)
    return keras.layers.ReLU(name=f"{name}_out")(
        keras.layers.Add(name=f"{name}_add")([x, shortcut])
    )


def build_keras_resnet(
    input_shape: Sequence[int] = (28, 28, 28, 1),
    channels: Sequence[int] = (16, 32, 64),
    dropout: float = 0.3,
    stem_stride: int = 2,
) -> keras.Model:
    """A small 3D ResNet (uncompiled): stem, one basic block per stage, stride 2 between stages.

    Input shape: ``(N, D, H, W, C)``. Output shape: ``(N, 1)`` probabilities.
    """
    inputs = keras.Input(tuple(input_shape), name="volume")
    x = _conv_bn_relu(inputs, channels[0], stem_stride, name="stem")
    for index, width in enumerate(channels):
        x = _residual_block(x, width, 1 if index == 0 else 2, name=f"block{index}")
    return keras.Model(inputs, _head(x, dropout), name="conv3d_resnet")


BUILDERS = {"cnn": build_keras_cnn, "resnet": build_keras_resnet}


def compile_model(
    model: keras.Model, config: KerasTrainConfig, steps_per_epoch: int
) -> keras.Model:
    """AdamW with linear warm-up and cosine decay, binary cross-entropy, accuracy and AUC."""
    warmup_steps = config.warmup_epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / max(1, warmup_steps),
        decay_steps=max(1, config.epochs * steps_per_epoch - warmup_steps),
        warmup_target=config.learning_rate,
        warmup_steps=warmup_steps,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
    )
    return model


def make_dataset(
    volumes: np.ndarray,
    labels: np.ndarray | None,
    batch_size: int,
    *,
    seed: int = 0,
    augment: AugmentConfig | None = None,
    shuffle: bool = False,
) -> tf.data.Dataset:
    """A ``tf.data`` pipeline of ``(N, D, H, W, 1)`` batches (and labels, if given).

    Args:
        volumes: float32 ``(N, D, H, W)`` in [0, 1].
        labels: 0/1 labels or ``None`` for prediction.
        batch_size: batch size.
        seed: seeds the shuffle and the augmentation's numpy generator.
        augment: apply :func:`conv3d.augment.augment_batch` to every batch.
        shuffle: reshuffle every epoch.

    Example:

    >>> ds = make_dataset(np.zeros((5, 4, 4, 4), np.float32), np.zeros(5), 2)
    >>> [tuple(x.shape) for x, _ in ds]
    [(2, 4, 4, 4, 1), (2, 4, 4, 4, 1), (1, 4, 4, 4, 1)]
    """
    volumes = np.asarray(volumes, dtype=np.float32)
    if volumes.ndim != 4:
        raise ValueError(
            f"Expected volumes of shape (N, D, H, W). Received: volumes.shape={volumes.shape}"
        )
    items = (
        volumes
        if labels is None
        else (volumes, np.asarray(labels, dtype=np.float32).reshape(-1, 1))
    )
    dataset = tf.data.Dataset.from_tensor_slices(items)
    if shuffle:
        dataset = dataset.shuffle(len(volumes), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment is not None:
        rng = np.random.default_rng(seed)
        spatial = volumes.shape[1:]

        def augment_volumes(batch: Any) -> Any:
            out = tf.numpy_function(lambda v: augment_batch(v, rng, augment), [batch], tf.float32)
            out.set_shape((None, *spatial))
            return out

        dataset = dataset.map(
            (lambda x, y: (augment_volumes(x), y)) if labels is not None else augment_volumes
        )
    add_channel = (
        (lambda x, y: (x[..., None], y)) if labels is not None else (lambda x: x[..., None])
    )
    return dataset.map(add_channel).prefetch(1)


def predict_probabilities(
    model: keras.Model, volumes: np.ndarray, batch_size: int = 64, tta_flips: bool = True
) -> np.ndarray:
    """Positive-class probabilities ``(N,)`` for float volumes, flip-averaged if asked."""
    flip_sets = (
        [()]
        if not tta_flips
        else [tuple(1 + axis for axis in range(3) if (mask >> axis) & 1) for mask in range(8)]
    )
    total = np.zeros(len(volumes))
    for axes in flip_sets:
        flipped = np.ascontiguousarray(np.flip(volumes, axis=axes)) if axes else volumes
        total += model.predict(flipped[..., None], batch_size=batch_size, verbose=0)[:, 0]
    return total / len(flip_sets)


def train_keras(
    config: KerasTrainConfig,
    work_dir: Path,
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    test_x: np.ndarray,
    *,
    progress: bool = True,
) -> TrainResult:
    """Train (or resume, or load) a Keras model on volumes and predict the test set.

    Args:
        config: the recipe.
        work_dir: ``BackupAndRestore`` checkpoints, ``epochs.csv``, the finished
            ``model.keras``, ``history.json`` and ``FINISHED.json`` (see ``fit_or_load``).
        train_x, val_x, test_x: uint8 images ``(N, D, H, W)`` as the loader returns them.
        train_y, val_y: 0/1 labels.
        progress: Keras's progress output (one line per epoch).

    Returns:
        A :class:`conv3d.results.TrainResult`; ``history`` holds Keras's ``loss``,
        ``accuracy``, ``auc`` and their ``val_`` twins per epoch. A resumed run replays the
        augmentation stream from its seed, so it is reproducible but not bit-identical to an
        uninterrupted one.

    Example:

    One epoch of a one-stage network on eight random 8x8x8 masks, without augmentation:

    >>> import tempfile
    >>> rng = np.random.default_rng(0)
    >>> x = rng.choice(np.array([0, 255], np.uint8), size=(12, 8, 8, 8))
    >>> y = np.array([0, 1] * 6)
    >>> config = KerasTrainConfig(channels=(4,), epochs=1, batch_size=4,
    ...                           augment=AugmentConfig.none(), tta_flips=False)
    >>> tf.config.run_functions_eagerly(True)  # no graph tracing: faster for two tiny steps
    >>> result = train_keras(config, Path(tempfile.mkdtemp()), x[:8], y[:8], x[8:10], y[8:10],
    ...                      x[10:], progress=False)
    >>> tf.config.run_functions_eagerly(False)
    >>> result.test_probabilities.shape, result.epochs, sorted(result.history)
    ((2,), 1, ['accuracy', 'auc', 'loss', 'val_accuracy', 'val_auc', 'val_loss'])
    """
    if config.model not in BUILDERS:
        raise ValueError(f"Expected model in {sorted(BUILDERS)}. Received: {config.model!r}")
    seed_everything(config.seed)
    train_volumes, val_volumes = to_volumes(train_x), to_volumes(val_x)
    steps_per_epoch = int(np.ceil(len(train_volumes) / config.batch_size))
    input_shape = (*train_volumes.shape[1:], 1)

    def build() -> keras.Model:
        model = BUILDERS[config.model](
            input_shape, config.channels, config.dropout, config.stem_stride
        )
        return compile_model(model, config, steps_per_epoch)

    train_data = make_dataset(
        train_volumes,
        train_y,
        config.batch_size,
        seed=config.seed,
        augment=config.augment,
        shuffle=True,
    )
    val_data = make_dataset(val_volumes, val_y, 64)
    finished_before = finished_model_exists(work_dir)
    model, history, seconds = fit_or_load(
        build,
        Path(work_dir),
        train_data,
        epochs=config.epochs,
        validation_data=val_data,
        verbose=2 if progress else 0,  # fit_or_load reports each epoch to the autograder
        shuffle=False,
    )  # tf.data shuffles itself
    probabilities = predict_probabilities(model, to_volumes(test_x), tta_flips=config.tta_flips)
    return TrainResult(
        model,
        history,
        probabilities,
        seconds,
        len(history.get("loss", [])),
        int(model.count_params()),
        from_cache=finished_before,
    )


def config_dict(config: KerasTrainConfig) -> dict[str, Any]:
    """The config as plain JSON-ready values (for logs and model cards)."""
    return asdict(config)
