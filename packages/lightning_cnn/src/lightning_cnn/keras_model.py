"""The Keras side: ``tf.data`` pipelines over a release folder, the CNN, its callbacks.

The network mirrors :func:`lightning_cnn.lightning_model.build_torch_cnn` layer for layer
(BatchNorm uses PyTorch's epsilon and momentum, AdamW PyTorch's epsilon, the weights start from
PyTorch's default initialisation), so the two frameworks train the same model with the same
recipe. ``tests/test_models.py`` copies PyTorch weights into
the Keras model and checks that both give the same logits.

Example:

>>> model = build_keras_cnn(CNNConfig(), mean=[0.5] * 3, variance=[0.06] * 3)
>>> model.output_shape
(None, 3)
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

import a2common.tf_env  # noqa: F401  (must precede the first TensorFlow import)

# isort: split
import keras
import numpy as np
import tensorflow as tf
from keras import layers

from a2common.keras_training import tensorboard_callback
from a2common.tta import average_over_views
from lightning_cnn.config import (
    CLASS_NAMES,
    IMAGE_SIZE,
    WARMUP_START_DIVISOR,
    CNNConfig,
    TrainConfig,
)
from lightning_cnn.keras_pooling import GeneralizedMeanPooling2D
from lightning_cnn.release import list_split

BN_MOMENTUM = 0.9  # PyTorch's momentum=0.1 written the Keras way
BN_EPSILON = 1e-5  # PyTorch's default
ADAM_EPSILON = 1e-8  # PyTorch's default


def torch_default_kernel_initializer() -> keras.initializers.Initializer:
    """PyTorch's default ``Conv2d`` / ``Linear`` weight initialisation, written for Keras.

    PyTorch draws from ``kaiming_uniform_(a=sqrt(5))``: ``U(-b, b)`` with
    ``b = sqrt(1 / fan_in)``, which is ``VarianceScaling(1/3, "fan_in", "uniform")``
    (Keras' default, Glorot uniform, draws wider kernels: ``sqrt(6 / (fan_in + fan_out))``).
    Behind BatchNorm the scale of a kernel does not change the function, but Adam moves each
    weight by about the learning rate per step, so the starting scale sets how fast a kernel
    turns (its effective step size): both frameworks start alike.
    A new instance per layer, so that every layer draws its own weights.

    Example:

    >>> kernel = torch_default_kernel_initializer()((3, 3, 16, 8))
    >>> bound = (3 * 3 * 16) ** -0.5
    >>> bool(keras.ops.max(keras.ops.abs(kernel)) <= bound)
    True
    """
    return keras.initializers.VarianceScaling(1.0 / 3.0, mode="fan_in", distribution="uniform")


def torch_default_bias_initializer(fan_in: int) -> keras.initializers.Initializer:
    """PyTorch's default ``Linear`` bias initialisation: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    bound = 1.0 / float(np.sqrt(fan_in))
    return keras.initializers.RandomUniform(-bound, bound)


def load_split(
    release_root: Path | str,
    split: str,
    batch_size: int | None = None,
    shuffle: bool = False,
    seed: int = 0,
    take: int | None = None,
) -> tf.data.Dataset:
    """One split of a release as a ``tf.data.Dataset`` of ``(float32 images 0..255, one-hot)``.

    Built on ``keras.utils.image_dataset_from_directory``; decoded images are cached in memory
    after the first pass; training data is reshuffled every epoch.

    Args:
        release_root: a release folder (see :mod:`lightning_cnn.release`).
        split: ``"train"``, ``"val"`` or ``"test"``.
        batch_size: batch the dataset (``None``: single examples).
        shuffle: reshuffle every epoch (training).
        seed: shuffle seed.
        take: keep only this many (randomly chosen, with ``seed``) examples (smoke runs).

    Example (a release with one image per class and split):

    >>> import tempfile
    >>> from lightning_cnn.release import release_animals3
    >>> root = release_animals3(Path(tempfile.mkdtemp()) / "r", limit_per_class=1).root
    >>> test_ds = load_split(root, "test", batch_size=2)
    >>> images, one_hot = next(iter(test_ds))
    >>> tuple(images.shape), images.dtype.name, one_hot.numpy().tolist()
    ((2, 64, 64, 3), 'float32', [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> dataset_arrays(test_ds)[1].tolist()  # integer labels of the whole split
    [0, 1, 2]
    """
    list_split(release_root, split)  # clear error if the folder is not a release split
    dataset = keras.utils.image_dataset_from_directory(
        Path(release_root) / split,
        labels="inferred",
        label_mode="categorical",
        class_names=list(CLASS_NAMES),
        color_mode="rgb",
        batch_size=None,
        image_size=(IMAGE_SIZE, IMAGE_SIZE),
        shuffle=False,
        verbose=False,
    )
    count = int(dataset.cardinality())
    if take is not None and take < count:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=False).take(take)
        count = take
    dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE)


def dataset_arrays(dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """All ``(images, integer labels)`` of a (finite) dataset as numpy arrays."""
    images, labels = [], []
    for batch_images, batch_labels in dataset.as_numpy_iterator():
        images.append(batch_images)
        labels.append(batch_labels)
    images_array = np.concatenate(images) if images[0].ndim == 4 else np.stack(images)
    labels_array = np.concatenate(labels) if labels[0].ndim == 2 else np.stack(labels)
    return images_array, labels_array.argmax(axis=-1)


def channel_stats(dataset: tf.data.Dataset) -> tuple[list[float], list[float]]:
    """Per-channel mean and variance of images in [0, 1] (from a dataset of 0..255 images)."""
    total = np.zeros(3)
    total_sq = np.zeros(3)
    count = 0
    for images, _ in dataset.as_numpy_iterator():
        pixels = images.reshape(-1, 3).astype(np.float64) / 255.0
        total += pixels.sum(axis=0)
        total_sq += (pixels**2).sum(axis=0)
        count += len(pixels)
    mean = total / count
    return mean.tolist(), (total_sq / count - mean**2).tolist()


def conv_bn_relu(x: Any, filters: int, name: str) -> Any:
    """3x3 "same" convolution (no bias), BatchNorm and ReLU, as in the PyTorch model."""
    x = layers.Conv2D(
        filters,
        3,
        padding="same",
        use_bias=False,
        kernel_initializer=torch_default_kernel_initializer(),
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


@keras.saving.register_keras_serializable(package="lightning_cnn")
class RandomCutout(layers.Layer):
    """During training, sets a ``size x size`` square at a random centre of each image to 0.

    Placed after the model's ``Normalization``, 0 is the training images' mean colour. The
    centre is any pixel, so near a border the square is clipped: rows ``max(0, y - size // 2)``
    to ``min(height, y + size // 2)``, the rule of
    :class:`lightning_cnn.lightning_data.RandomCutout`. At inference the layer does nothing.

    Example:

    >>> layer = RandomCutout(8, seed=0)
    >>> images = np.ones((2, 16, 16, 3), "float32")
    >>> erased = keras.ops.convert_to_numpy(layer(images, training=True))
    >>> bool((erased == 0).any()), bool((layer(images) == 1).numpy().all())
    (True, True)
    """

    def __init__(self, size: int, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if size < 1:
            raise ValueError(f"Expected size >= 1. Received: size={size}")
        self.size = int(size)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training:
            return inputs
        shape = keras.ops.shape(inputs)
        batch, height, width = shape[0], shape[1], shape[2]
        rows = keras.random.randint((batch, 1, 1, 1), 0, height, seed=self.seed_generator)
        columns = keras.random.randint((batch, 1, 1, 1), 0, width, seed=self.seed_generator)
        half = self.size // 2
        row_index = keras.ops.reshape(keras.ops.arange(height), (1, -1, 1, 1))
        column_index = keras.ops.reshape(keras.ops.arange(width), (1, 1, -1, 1))
        inside = (
            (row_index >= rows - half)
            & (row_index < rows + half)
            & (column_index >= columns - half)
            & (column_index < columns + half)
        )
        return keras.ops.where(inside, keras.ops.zeros_like(inputs), inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "seed": self.seed}


def augmentation(shift_px: int, seed: int = 0, cutout_px: int = 0) -> keras.Sequential:
    """Random horizontal flip, translation by up to ``shift_px`` pixels and ``cutout_px`` cutout.

    Active in training only; the same steps as the PyTorch pipeline
    (:class:`lightning_cnn.lightning_data.RandomFlipShift`, then
    :class:`lightning_cnn.lightning_data.RandomCutout`).
    """
    factor = shift_px / IMAGE_SIZE
    steps: list[layers.Layer] = [layers.RandomFlip("horizontal", seed=seed)]
    if shift_px:
        steps.append(
            layers.RandomTranslation(
                factor, factor, fill_mode="reflect", interpolation="nearest", seed=seed + 1
            )
        )
    if cutout_px:
        steps.append(RandomCutout(cutout_px, seed=seed + 2, name="cutout"))
    return keras.Sequential(steps, name="augmentation")


def with_mixup(dataset: tf.data.Dataset, alpha: float, seed: int = 0) -> tf.data.Dataset:
    """``dataset`` (batches of images and one-hot labels) with ``keras.layers.MixUp`` applied.

    Each image and its label are blended with another pair of the same batch with a weight
    drawn from ``Beta(alpha, alpha)`` per image (the Lightning model's
    :func:`lightning_cnn.lightning_model.mixup_batch`). It blends the images before the
    model's in-model augmentation, which the Lightning pipeline applies before blending.

    Example:

    >>> batches = tf.data.Dataset.from_tensors((np.ones((4, 8, 8, 3), "float32"), np.eye(4)))
    >>> images, labels = next(iter(with_mixup(batches, 0.4)))
    >>> tuple(images.shape), np.allclose(labels.numpy().sum(axis=1), 1.0)
    ((4, 8, 8, 3), True)
    """
    if alpha <= 0:
        raise ValueError(f"Expected alpha > 0. Received: alpha={alpha}")
    mixup = layers.MixUp(alpha=alpha, seed=seed)

    def blend(images: Any, labels: Any) -> tuple[Any, Any]:
        mixed = mixup({"images": images, "labels": labels}, training=True)
        return mixed["images"], mixed["labels"]

    # Sequential on purpose: the seeded MixUp draws from one stateful generator, and in a
    # parallel map thread timing decides which batch gets which draw.
    return dataset.map(blend)


def build_keras_cnn(
    config: CNNConfig,
    mean: Sequence[float],
    variance: Sequence[float],
    shift_px: int = 0,
    seed: int = 0,
    cutout_px: int = 0,
) -> keras.Model:
    """The project's CNN as a functional Keras model taking 0..255 RGB ``(64, 64, 3)`` images.

    Args:
        config: the network (shared with the PyTorch model).
        mean, variance: per-channel statistics of the training images in [0, 1].
        shift_px: largest random translation of the in-model augmentation (random flip and
            translation, active during ``fit`` only); ``0`` and ``cutout_px=0`` build the model
            without any augmentation layers (e.g. to compare it with the PyTorch network).
        seed: seed of the augmentation layers.
        cutout_px: side of the in-model cutout square (:class:`RandomCutout`; 0: none).

    Example:

    >>> model = build_keras_cnn(CNNConfig(pooling="gem"), [0.5] * 3, [0.06] * 3, shift_px=6)
    >>> sum("gem" in layer.name for layer in model.layers)
    4
    """
    if len(mean) != 3 or len(variance) != 3 or min(variance) <= 0:
        raise ValueError(
            f"Expected 3 channel means and 3 positive variances. Received: "
            f"mean={list(mean)}, variance={list(variance)}"
        )
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="image")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    x = layers.Normalization(mean=list(mean), variance=list(variance), name="normalize")(x)
    if shift_px or cutout_px:
        x = augmentation(shift_px, seed, cutout_px)(x)
    for index, filters in enumerate(config.channels):
        if index > 0:
            if config.pooling == "gem":
                x = GeneralizedMeanPooling2D(2, p=config.gem_p, name=f"gem{index}")(x)
            else:
                x = layers.MaxPooling2D(2, name=f"maxpool{index}")(x)
        x = conv_bn_relu(x, filters, name=f"block{index + 1}")
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(config.dropout, name="dropout")(x)
    logits = layers.Dense(
        config.num_classes,
        kernel_initializer=torch_default_kernel_initializer(),
        bias_initializer=torch_default_bias_initializer(config.channels[-1]),
        name="logits",
    )(x)
    return keras.Model(inputs, logits, name=f"animals3_cnn_{config.pooling}")


def learning_rate_schedule(
    config: TrainConfig, steps_per_epoch: int
) -> keras.optimizers.schedules.CosineDecay:
    """Linear warm-up from ``lr / 25`` to ``lr``, then cosine decay to 0 (per optimizer step)."""
    total_steps = max(config.epochs * steps_per_epoch, 1)
    warmup_steps = int(config.warmup_fraction * total_steps)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / WARMUP_START_DIVISOR,
        decay_steps=max(total_steps - warmup_steps, 1),
        alpha=0.0,
        warmup_target=config.learning_rate,
        warmup_steps=warmup_steps,
    )


def compile_model(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> keras.Model:
    """AdamW + label-smoothed cross-entropy on logits + accuracy (the PyTorch recipe)."""
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate_schedule(config, steps_per_epoch),
        weight_decay=config.weight_decay,
        epsilon=ADAM_EPSILON,
    )
    loss = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=config.label_smoothing
    )
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[keras.metrics.CategoricalAccuracy(name="acc")],
        jit_compile=False,
    )
    return model


class EpochTimer(keras.callbacks.Callback):
    """Records each epoch's wall time and process CPU time.

    The times go into the epoch's logs (``epoch_seconds``, ``epoch_cpu_seconds``: seen by the
    callbacks after this one, e.g. TensorBoard) and, if ``log_path`` is given, are appended as
    one JSON line per epoch, so they survive an interrupted and resumed run. CPU time counts
    all threads of this process and does not grow when other programs share the CPU.

    Args:
        log_path: a ``.jsonl`` file to append ``{"epoch", "seconds", "cpu_seconds"}`` lines to.

    Example (two epochs of a one-layer model):

    >>> import tempfile
    >>> log_path = Path(tempfile.mkdtemp()) / "times.jsonl"
    >>> model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.zeros((4, 2)), np.zeros((4, 1))
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[EpochTimer(log_path)])
    >>> times = EpochTimer.read(log_path)
    >>> len(times["seconds"]), all(seconds > 0 for seconds in times["seconds"])
    (2, True)
    """

    def __init__(self, log_path: Path | str | None = None) -> None:
        super().__init__()
        self.log_path = Path(log_path) if log_path else None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()
        self._cpu_start = time.process_time()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self._start
        cpu_seconds = time.process_time() - self._cpu_start
        if logs is not None:
            logs["epoch_seconds"] = seconds
            logs["epoch_cpu_seconds"] = cpu_seconds
        if self.log_path is not None:
            with open(self.log_path, "a") as stream:
                stream.write(
                    json.dumps({"epoch": epoch, "seconds": seconds, "cpu_seconds": cpu_seconds})
                    + "\n"
                )

    @staticmethod
    def read(log_path: Path | str) -> dict[str, list[float]]:
        """Per-epoch ``seconds`` and ``cpu_seconds`` from a log (a repeated epoch: last wins)."""
        by_epoch: dict[int, dict] = {}
        path = Path(log_path)
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    entry = json.loads(line)
                    by_epoch[entry["epoch"]] = entry
        epochs = sorted(by_epoch)
        return {
            "seconds": [by_epoch[e]["seconds"] for e in epochs],
            "cpu_seconds": [by_epoch[e]["cpu_seconds"] for e in epochs],
        }


EPOCH_TIMES_FILE = "epoch_times.jsonl"


def training_callbacks(work_dir: Path, config: TrainConfig) -> list[keras.callbacks.Callback]:
    """TensorBoard, best-model checkpoint, early stopping and the epoch timer."""
    return [
        tensorboard_callback(work_dir / "tensorboard"),
        keras.callbacks.ModelCheckpoint(
            str(work_dir / "best.keras"), monitor="val_loss", save_best_only=True
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.early_stopping_patience),
        EpochTimer(work_dir / EPOCH_TIMES_FILE),
    ]


def predict_probabilities(
    model: keras.Model, dataset: tf.data.Dataset, test_time_flip: bool = False
) -> np.ndarray:
    """Softmax class probabilities for every example of ``dataset`` (in order).

    With ``test_time_flip``, the mean of the probabilities of each image and of its mirror
    image (:func:`a2common.tta.average_over_views` at level 1; the Lightning model's
    ``predict_step`` does the same in PyTorch).

    Example:

    >>> model = build_keras_cnn(CNNConfig(channels=(4,)), [0.5] * 3, [0.06] * 3)
    >>> images = np.zeros((3, IMAGE_SIZE, IMAGE_SIZE, 3), "float32")
    >>> dataset = tf.data.Dataset.from_tensor_slices((images, np.eye(3))).batch(2)
    >>> predict_probabilities(model, dataset, test_time_flip=True).sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    images, _ = dataset_arrays(dataset)

    def probabilities(batch: np.ndarray) -> np.ndarray:
        logits = model.predict(batch, batch_size=256, verbose=0)
        return keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))

    return average_over_views(probabilities, images, level=int(test_time_flip))
