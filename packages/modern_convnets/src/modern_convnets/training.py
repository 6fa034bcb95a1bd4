"""Training SqueezeNet and Xception on CIFAR-10 (32x32) or animals3 (64x64) on a CPU.

Data come from the project's one loader, :func:`a2common.data.load_dataset`. A ``tf.data``
pipeline batches the ``uint8`` images, scales them to ``[0, 1]`` and, for training, shuffles
them every epoch and augments them with random horizontal flips and shifts (stock Keras
``RandomFlip`` / ``RandomTranslation`` with reflected borders). The learning rate warms up
linearly, then follows a cosine to almost zero. Training is resumable and cached through
:func:`a2common.keras_training.fit_or_load`.

Example: a named configuration and its model (``train(config, work_dir)`` trains it; see
:func:`train` for a run on a few images).

>>> config = CONFIGS["squeezenet_animals3"]
>>> config.architecture, config.dataset, IMAGE_SHAPES[config.dataset], config.epochs
('squeezenet', 'animals3', (64, 64, 3), 32)
>>> build_model(config).output_shape
(None, 3)
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np
from keras import layers

from a2common.data import Dataset, load_dataset
from a2common.keras_training import finished_model_exists, fit_or_load
from a2common.seeding import seed_everything
from modern_convnets.squeezenet import build_squeezenet
from modern_convnets.xception import build_xception

IMAGE_SHAPES = {"cifar10": (32, 32, 3), "animals3": (64, 64, 3)}
"""Datasets this module trains on and the shape of one image."""
NUM_CLASSES = {"cifar10": 10, "animals3": 3}

BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "squeezenet": build_squeezenet,
    "xception": build_xception,
}


@dataclass(frozen=True)
class TrainConfig:
    """What to train and how.

    Attributes:
        architecture: ``"squeezenet"`` or ``"xception"``.
        dataset: ``"cifar10"`` or ``"animals3"``.
        model_kwargs: keyword arguments of the builder (:func:`build_squeezenet` or
            :func:`build_xception`) besides ``input_shape`` and ``num_classes``.
        epochs, batch_size: training length and batch size.
        optimizer: ``"sgd"`` (Nesterov momentum 0.9) or ``"adamw"``.
        peak_learning_rate: learning rate at the end of the warm-up.
        warmup_epochs: length of the linear warm-up (from a tenth of the peak).
        weight_decay: decoupled weight decay of the optimizer (``None``: none).
        label_smoothing: of the cross-entropy loss.
        flip: random horizontal flips.
        shift_fraction: random shifts up to this fraction of the height and width (0: none).
        train_size: train on a seeded random subset of this many images (``None``: all).
        bn_momentum: momentum of every ``BatchNormalization`` layer (``None``: Keras' 0.99).
            A run of a few dozen steps needs a smaller one (e.g. 0.9): with 0.99 the moving
            statistics are still close to their initial values, and the model predicts near
            chance in inference mode although it has learned.
    """

    architecture: str
    dataset: str = "cifar10"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "sgd"
    peak_learning_rate: float = 0.05
    warmup_epochs: float = 2.0
    weight_decay: float | None = 5e-4
    label_smoothing: float = 0.1
    flip: bool = True
    shift_fraction: float = 0.125
    train_size: int | None = None
    bn_momentum: float | None = None

    def __post_init__(self) -> None:
        if self.architecture not in BUILDERS:
            raise ValueError(
                f"Expected architecture in {tuple(BUILDERS)}. "
                f"Received: architecture={self.architecture!r}"
            )
        if self.dataset not in IMAGE_SHAPES:
            raise ValueError(
                f"Expected dataset in {tuple(IMAGE_SHAPES)}. Received: dataset={self.dataset!r}"
            )
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(
                f"Expected optimizer in ('sgd', 'adamw'). Received: optimizer={self.optimizer!r}"
            )
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"Expected epochs >= 1 and batch_size >= 1. Received: "
                f"epochs={self.epochs}, batch_size={self.batch_size}"
            )
        if self.bn_momentum is not None and not 0.0 <= self.bn_momentum < 1.0:
            raise ValueError(
                f"Expected 0 <= bn_momentum < 1. Received: bn_momentum={self.bn_momentum}"
            )


CONFIGS: dict[str, TrainConfig] = {
    # 32x32 inputs: conv1 keeps the resolution and "same" pooling halves it 32 → 16 → 8 → 4.
    # Measured on one thread of the shared machine: one epoch took 250 CPU-seconds in all
    # (loading, tracing, test predictions included), so about 6-7 epochs fit 25 minutes.
    "squeezenet_cifar10": TrainConfig(
        "squeezenet",
        "cifar10",
        {
            "version": "1.1",
            "width_multiplier": 0.5,
            "stem_strides": 1,
            "padding": "same",
            "batch_norm": True,
            "bypass": True,
            "dropout": 0.2,
        },
        epochs=7,
        peak_learning_rate=0.1,
    ),
    # A narrow, shallow Xception: stride-2 stem and two pooling entry blocks (32 → 16 → 8 → 4),
    # four middle blocks and the exit flow at 4x4 (the paper's middle flow is at 1/16 of the
    # input too). Estimated 250 CPU-seconds per CIFAR-10 epoch on one thread from 10 steps
    # (the same estimate said 130 for the SqueezeNet above, which measured 1.6-1.9x that).
    "xception_cifar10": TrainConfig(
        "xception",
        "cifar10",
        {
            "stem_widths": (16, 32),
            "stem_strides": 2,
            "stem_padding": "same",
            "entry_widths": (64, 128),
            "middle_blocks": 4,
            "exit_widths": (128, 256),
            "head_widths": (256, 384),
            "exit_pool": False,
            "dropout": 0.2,
        },
        epochs=4,
        peak_learning_rate=0.1,
    ),
    # animals3 (2,100 training images of 64x64), the graded tasks of modern_convnets.tasks.
    # Sized to train in under 30 min on one thread of the shared 2-core machine. Measured
    # there (load average 5-7, validation split only): this SqueezeNet for 40 epochs took
    # 517 CPU-s (1,716 s wall) and reached 0.77 validation accuracy; a stride-1 conv1 at half
    # the width (fire2 at 32x32, twice the multiply-adds) was no better after 16 of 20 epochs
    # (0.74) and could not fit. BatchNorm momentum 0.9: with Keras' 0.99 and 33 steps an
    # epoch, the validation accuracy stayed at chance for the first 6 epochs (the moving
    # statistics lag the weights).
    "squeezenet_animals3": TrainConfig(
        "squeezenet",
        "animals3",
        {
            "version": "1.1",
            "width_multiplier": 0.75,
            "stem_strides": 2,
            "padding": "same",
            "batch_norm": True,
            "bypass": True,
            "dropout": 0.3,
        },
        epochs=32,
        batch_size=64,
        peak_learning_rate=0.05,
        bn_momentum=0.9,
    ),
    # The paper's downsampling scaled to 64x64: stride-2 stem and three pooling entry blocks
    # (64 → 32 → 16 → 8 → 4), the middle flow at 1/16 of the input side (the paper's 19x19
    # of 299x299), the exit block halving once more. 30 epochs took 526 CPU-s (1,707 s wall)
    # and reached 0.78 validation accuracy.
    "xception_animals3": TrainConfig(
        "xception",
        "animals3",
        {
            "stem_widths": (16, 32),
            "stem_strides": 2,
            "stem_padding": "same",
            "entry_widths": (32, 64, 128),
            "middle_blocks": 4,
            "exit_widths": (128, 256),
            "head_widths": (256, 384),
            "dropout": 0.3,
        },
        epochs=24,
        batch_size=64,
        peak_learning_rate=0.05,
        bn_momentum=0.9,
    ),
}
"""Named CPU-sized configurations (see the package README for measured times)."""


def build_model(config: TrainConfig, num_classes: int | None = None) -> keras.Model:
    """The uncompiled model of ``config`` for its dataset's image shape.

    Example:

    >>> build_model(CONFIGS["squeezenet_cifar10"]).output_shape
    (None, 10)
    """
    if num_classes is None:
        num_classes = NUM_CLASSES[config.dataset]
    builder = BUILDERS[config.architecture]
    model = builder(
        input_shape=IMAGE_SHAPES[config.dataset], num_classes=num_classes, **config.model_kwargs
    )
    if config.bn_momentum is not None:
        # read when the training step is traced and saved in the layer's config
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = config.bn_momentum
    return model


def build_augmentation(config: TrainConfig, seed: int = 0) -> keras.Sequential | None:
    """Random flips and shifts of a batch of images, or ``None`` when ``config`` asks for none.

    Example:

    >>> [layer.name for layer in build_augmentation(CONFIGS["xception_cifar10"]).layers]
    ['flip', 'shift']
    """
    stack: list[layers.Layer] = []
    if config.flip:
        stack.append(layers.RandomFlip("horizontal", seed=seed, name="flip"))
    if config.shift_fraction:
        stack.append(
            layers.RandomTranslation(
                config.shift_fraction,
                config.shift_fraction,
                fill_mode="reflect",
                seed=seed + 1,
                name="shift",
            )
        )
    return keras.Sequential(stack, name="augmentation") if stack else None


def make_pipeline(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    *,
    training: bool = False,
    augmentation: keras.Layer | None = None,
    seed: int = 0,
    num_classes: int | None = None,
):
    """A batched ``tf.data.Dataset`` of ``(float32 images in [0, 1], int64 labels)``.

    Training pipelines reshuffle every epoch (seeded) and apply ``augmentation`` per batch;
    evaluation pipelines keep the loader's order. With ``num_classes`` the labels are one-hot
    ``float32`` (for ``CategoricalCrossentropy`` with label smoothing).

    Example:

    >>> ds = make_pipeline(np.zeros((5, 4, 4, 3), np.uint8), np.arange(5), batch_size=2)
    >>> [tuple(x.shape) for x, _ in ds]
    [(2, 4, 4, 3), (2, 4, 4, 3), (1, 4, 4, 3)]
    """
    import tensorflow as tf

    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"Expected uint8 images of shape (n, height, width, channels). "
            f"Received: images.dtype={images.dtype}, images.shape={images.shape}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"Expected one label per image. Received {len(images)} images and {len(labels)} labels"
        )
    dataset = tf.data.Dataset.from_tensor_slices((images, np.asarray(labels, np.int64)))
    if training:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(
        lambda x, y: (tf.cast(x, tf.float32) / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE
    )
    if training and augmentation is not None:
        # Sequential on purpose: seeded random layers draw from one stateful generator, and
        # in a parallel map thread timing decides which batch gets which draw.
        dataset = dataset.map(lambda x, y: (augmentation(x, training=True), y))
    if num_classes is not None:
        dataset = dataset.map(
            lambda x, y: (x, tf.one_hot(y, num_classes)), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def learning_rate_schedule(
    config: TrainConfig, steps_per_epoch: int
) -> keras.optimizers.schedules.CosineDecay:
    """Linear warm-up from ``peak / 10`` to the peak, then a cosine to ``peak / 1000``.

    Example:

    >>> schedule = learning_rate_schedule(TrainConfig("squeezenet", epochs=10), 100)
    >>> float(schedule(0)) < float(schedule(200)) > float(schedule(999))
    True
    """
    total_steps = max(2, config.epochs * steps_per_epoch)
    warmup_steps = min(total_steps - 1, int(round(config.warmup_epochs * steps_per_epoch)))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.peak_learning_rate / 10.0,
        decay_steps=total_steps - warmup_steps,
        alpha=1e-3,
        warmup_target=config.peak_learning_rate,
        warmup_steps=warmup_steps,
    )


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """SGD with Nesterov momentum or AdamW, on :func:`learning_rate_schedule`."""
    schedule = learning_rate_schedule(config, steps_per_epoch)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(
            schedule, momentum=0.9, nesterov=True, weight_decay=config.weight_decay
        )
    return keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay or 0.0)


def compile_model(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> keras.Model:
    """Compile ``model`` with ``config``'s optimizer and schedule, label-smoothed cross-entropy
    (on one-hot labels) and accuracy; returns the same model."""
    model.compile(
        optimizer=make_optimizer(config, steps_per_epoch),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )
    return model


@dataclass
class TrainingRun:
    """What :func:`train` returns.

    Attributes:
        model: the trained (or loaded) model.
        history: per-epoch metrics (``loss``, ``accuracy``, ``val_*`` where there is a
            validation split, ``learning_rate``).
        test_probabilities: ``(n_test, n_classes)`` class probabilities, rows in the loader's
            test order.
        class_names: one name per class.
        train_seconds: wall time of training (of the original run when loaded from cache).
        from_cache: the finished model was loaded instead of trained.
        details: config, sizes, parameters, epochs and seconds per epoch (JSON-ready).
    """

    model: keras.Model
    history: dict[str, list[float]]
    test_probabilities: np.ndarray
    class_names: list[str]
    train_seconds: float
    from_cache: bool
    details: dict[str, Any]


def train(
    config: TrainConfig,
    work_dir: Path,
    seed: int = 0,
    verbose: int = 2,
    data: Dataset | None = None,
) -> TrainingRun:
    """Train ``config`` (or resume it, or load it when finished) and predict the test set.

    Args:
        config: model, data and optimisation settings, e.g. ``CONFIGS["xception_cifar10"]``.
        work_dir: the run's folder: checkpoint every epoch, final ``model.keras``, history.
            An interrupted run resumes from its last finished epoch; a finished one is loaded.
        seed: seeds weights, subset, shuffling and augmentation.
        verbose: Keras ``fit`` verbosity (2: one line per epoch).
        data: use this dataset instead of ``load_dataset(config.dataset)`` (tests pass a few
            random images); its images must have the shape of ``config.dataset``'s.

    Example:

    One epoch of a tiny Xception on eight random 32x32 "CIFAR-10" images (a real run passes no
    ``data`` and trains on ``load_dataset(config.dataset)``):

    >>> import tempfile
    >>> import tensorflow as tf
    >>> from a2common.data import Dataset, Split
    >>> rng = np.random.default_rng(0)
    >>> def random_split(n):
    ...     return Split(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), np.arange(n) % 10)
    >>> data = Dataset("cifar10", random_split(8), random_split(4), None, list("0123456789"), {})
    >>> widths = dict(stem_widths=(4, 4), entry_widths=(8,), middle_blocks=0,
    ...               exit_widths=(8, 8), head_widths=(8, 8))
    >>> tiny = TrainConfig("xception", "cifar10", widths, epochs=1, batch_size=8)
    >>> tf.config.run_functions_eagerly(True)  # no graph tracing: faster for one tiny step
    >>> run = train(tiny, Path(tempfile.mkdtemp()), data=data, verbose=0)
    >>> tf.config.run_functions_eagerly(False)
    >>> run.test_probabilities.shape, run.from_cache, run.details["train_size"]
    ((4, 10), False, 8)
    """
    keras.backend.clear_session()
    seed_everything(seed)
    dataset = data if data is not None else load_dataset(config.dataset)
    train_images, train_labels = dataset.train.x, dataset.train.y.reshape(-1)
    expected_shape = IMAGE_SHAPES[config.dataset]
    if train_images.shape[1:] != expected_shape:
        raise ValueError(
            f"Expected {config.dataset} images of shape {expected_shape}. "
            f"Received: {train_images.shape[1:]}"
        )
    if config.train_size is not None and config.train_size < len(train_labels):
        chosen = np.sort(
            np.random.default_rng(seed).choice(len(train_labels), config.train_size, replace=False)
        )
        train_images, train_labels = train_images[chosen], train_labels[chosen]
    num_classes = dataset.num_classes
    steps_per_epoch = math.ceil(len(train_labels) / config.batch_size)
    train_data = make_pipeline(
        train_images,
        train_labels,
        config.batch_size,
        training=True,
        augmentation=build_augmentation(config, seed),
        seed=seed,
        num_classes=num_classes,
    )
    fit_kwargs: dict[str, Any] = {}
    if dataset.val is not None:
        fit_kwargs["validation_data"] = make_pipeline(
            dataset.val.x, dataset.val.y.reshape(-1), 256, num_classes=num_classes
        )

    def build() -> keras.Model:
        return compile_model(build_model(config, num_classes), config, steps_per_epoch)

    from_cache = finished_model_exists(work_dir)
    # shuffle=False: the tf.data pipeline already reshuffles every epoch
    model, history, train_seconds = fit_or_load(
        build,
        Path(work_dir),
        train_data,
        epochs=config.epochs,
        verbose=verbose,
        shuffle=False,
        **fit_kwargs,
    )
    test_data = make_pipeline(dataset.test.x, dataset.test.y.reshape(-1), 256)
    probabilities = model.predict(test_data, verbose=0)
    details = {
        "config": asdict(config),
        "seed": seed,
        "train_size": int(len(train_labels)),
        "test_size": int(len(dataset.test.y)),
        "epochs": config.epochs,
        "parameters": int(model.count_params()),
        "seconds_per_epoch": train_seconds / config.epochs,
        "dataset_sha256": dataset.sha256,
    }
    return TrainingRun(
        model,
        history,
        np.asarray(probabilities, dtype=np.float64),
        list(dataset.class_names),
        train_seconds,
        from_cache,
        details,
    )


TRAIN_SIZES = {"cifar10": 50_000, "animals3": 2_100}
"""Training-set sizes of the loader's splits (animals3: 70% of 3,000)."""


class _StepTimer(keras.callbacks.Callback):
    """Wall and process CPU time of every training step."""

    def __init__(self) -> None:
        super().__init__()
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = (time.perf_counter(), time.process_time())

    def on_train_batch_end(self, batch, logs=None):
        self.wall.append(time.perf_counter() - self._start[0])
        self.cpu.append(time.process_time() - self._start[1])


def measure_epoch_seconds(
    config: TrainConfig, steps: int = 12, skip: int = 2, seed: int = 0
) -> dict[str, float]:
    """Estimate one training epoch's seconds for ``config`` from a few steps on random images.

    Runs ``steps`` training steps (the same pipeline, augmentation, model and optimizer as
    :func:`train`) on random ``uint8`` images, drops the first ``skip`` (tracing and warm-up),
    and scales the median step time to an epoch of the full training set (or
    ``config.train_size``). Process CPU time is reported beside wall time: on a shared machine
    it predicts an idle one-thread run better than wall time does.

    Example:

    A tiny Xception in eager mode, so that the example is fast (a real estimate keeps the
    default graph mode and more steps; the numbers below are then what :func:`train` spends):

    >>> import tensorflow as tf
    >>> widths = dict(stem_widths=(4, 4), entry_widths=(8,), middle_blocks=0,
    ...               exit_widths=(8, 8), head_widths=(8, 8))
    >>> tiny = TrainConfig("xception", "cifar10", widths, batch_size=2, train_size=100)
    >>> tf.config.run_functions_eagerly(True)
    >>> estimate = measure_epoch_seconds(tiny, steps=2, skip=1)
    >>> tf.config.run_functions_eagerly(False)
    >>> estimate["steps_per_epoch"], estimate["epoch_wall_seconds"] > 0
    (50, True)
    """
    if steps <= skip:
        raise ValueError(f"Expected steps > skip. Received: steps={steps}, skip={skip}")
    keras.backend.clear_session()
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    num_classes = NUM_CLASSES[config.dataset]
    count = steps * config.batch_size
    images = rng.integers(0, 256, (count, *IMAGE_SHAPES[config.dataset]), dtype=np.uint8)
    labels = rng.integers(0, num_classes, count)
    train_size = min(TRAIN_SIZES[config.dataset], config.train_size or TRAIN_SIZES[config.dataset])
    steps_per_epoch = math.ceil(train_size / config.batch_size)
    model = compile_model(build_model(config, num_classes), config, steps_per_epoch)
    timer = _StepTimer()
    model.fit(
        make_pipeline(
            images,
            labels,
            config.batch_size,
            training=True,
            augmentation=build_augmentation(config, seed),
            seed=seed,
            num_classes=num_classes,
        ),
        epochs=1,
        verbose=0,
        callbacks=[timer],
        shuffle=False,
    )
    return {
        "steps_per_epoch": steps_per_epoch,
        "epoch_wall_seconds": steps_per_epoch * statistics.median(timer.wall[skip:]),
        "epoch_cpu_seconds": steps_per_epoch * statistics.median(timer.cpu[skip:]),
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m modern_convnets.training CONFIG --work-dir DIR``: train a named config and
    print its test accuracy (``--epochs`` / ``--train-size`` shorten it; ``--speed`` only
    estimates the epoch time)."""
    import argparse
    import json
    from dataclasses import replace

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("config", choices=sorted(CONFIGS))
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", action="store_true", help="only estimate the epoch time")
    args = parser.parse_args(argv)
    config = CONFIGS[args.config]
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    if args.train_size is not None:
        config = replace(config, train_size=args.train_size)
    if args.speed:
        print(json.dumps({"config": args.config, **measure_epoch_seconds(config)}))
        return
    if args.work_dir is None:
        parser.error("--work-dir is required unless --speed is given")
    run = train(config, args.work_dir, seed=args.seed)
    test_labels = load_dataset(config.dataset).test.y.reshape(-1)
    accuracy = float(np.mean(run.test_probabilities.argmax(axis=1) == test_labels))
    print(
        json.dumps(
            {
                "config": args.config,
                "test_accuracy": accuracy,
                "train_seconds": run.train_seconds,
                "from_cache": run.from_cache,
                "history": run.history,
                **run.details,
            }
        )
    )


if __name__ == "__main__":
    main()
