"""Seed 000 (b): sparse categorical cross-entropy on 7 classes of web-searched photos.

The seed asks for 7 classes of images gathered with a web image search. CIFAR-10 is exactly
that: its 32x32 photos were collected by searching the web for each class name and then
labelled by hand (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images",
ch. 3), so 7 of its classes (:data:`CLASSES`) make the task with verified labels. The seven keep
two hard pairs (cat/dog; airplane/bird/ship against the sky or sea) and drop deer, frog and
truck.

Data: the official CIFAR-10 test images of those classes (7,000, in the loader's test order)
are the test set. From the 35,000 training images of those classes a seeded, stratified 10% is
held out for validation and a seeded subset of ``train_per_class`` images per class is trained
on, so the model trains in minutes on two CPU cores.

Model (``keras.Sequential``): raw pixels (0-255) → ``Rescaling(1/255)`` → random flip and
shift (training only) → ``len(filters)`` blocks of [``Conv2D`` (L2, chosen initializer) →
``BatchNormalization`` → activation → ``MaxPooling2D`` → ``Dropout``] → global average pooling →
``Dropout`` → ``Dense(7, softmax)``; loss ``SparseCategoricalCrossentropy`` on integer labels.
The preprocessing is inside the saved model, so it takes ``uint8`` photos as they are.

Example: ``train_cifar7(work_dir)`` trains on CIFAR-10 (or on ``splits=``) for minutes and
predicts the 7,000 test images, so it is shown here, not run::

    result = train_cifar7("runs/keras_models/seed000")
    result.test_probabilities.shape  # (7000, 7)
    predict_cifar7(result.model, photos_uint8).argmax(-1)  # class ids, order CLASSES

The model it trains (a small, untrained one here) on raw ``uint8`` photos:

>>> keras.utils.set_random_seed(0)
>>> photos = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
>>> model = build_cifar7_model(Cifar7Config(filters=(4,)))
>>> probabilities = predict_cifar7(model, photos)
>>> probabilities.shape, np.allclose(probabilities.sum(axis=1), 1.0)
((3, 7), True)
>>> predict_cifar7(model, photos[0]).shape  # one photo
(1, 7)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
from keras import layers

from keras_models.callbacks import MacroF1Callback
from keras_models.data import make_dataset, prepare_images
from keras_models.fitting import (
    TrainResult,
    as_probabilities,
    config_dict,
    fit_run,
    make_optimizer,
    run_folder,
)
from keras_models.tuning import SearchResult, TunableModel, run_search

CLASSES = ("airplane", "automobile", "bird", "cat", "dog", "horse", "ship")
"""The 7 CIFAR-10 classes, in label order 0-6."""
IMAGE_SHAPE = (32, 32, 3)


@dataclass
class ImageSplits:
    """uint8 images and labels 0-6 of the 7-class task.

    Attributes:
        test_index: position of each test image in the loader's CIFAR-10 test split
            (``test_probabilities`` rows follow this order).
    """

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: list[str]
    test_index: np.ndarray


def load_cifar7(
    dataset: Any = None,
    *,
    train_per_class: int | None = 1000,
    val_per_class: int | None = 300,
    seed: int = 0,
) -> ImageSplits:
    """The 7-class splits (see the module docstring); ``None`` per class keeps all images."""
    from a2common.data import load_dataset, select_classes, stratified_split

    dataset = dataset or load_dataset("cifar10")
    train = select_classes(dataset.train, dataset.class_names, CLASSES)
    # the rows the autograder grades: Labels("cifar10", classes=CLASSES) selects them the same way
    test = select_classes(dataset.test, dataset.class_names, CLASSES)
    kept_ids = [list(dataset.class_names).index(name) for name in CLASSES]
    test_index = np.flatnonzero(np.isin(dataset.test.y, kept_ids))
    rest, held_out = stratified_split(train.x, train.y, 0.1)
    rng = np.random.default_rng(seed)

    def per_class(x: np.ndarray, y: np.ndarray, count: int | None):
        if count is None:
            return x, y
        keep = np.sort(
            np.concatenate(
                [rng.permutation(np.flatnonzero(y == c))[:count] for c in range(len(CLASSES))]
            )
        )
        return x[keep], y[keep]

    train_x, train_y = per_class(rest.x, rest.y, train_per_class)
    val_x, val_y = per_class(held_out.x, held_out.y, val_per_class)
    return ImageSplits(train_x, train_y, val_x, val_y, test.x, test.y, list(CLASSES), test_index)


@dataclass(frozen=True)
class Cifar7Config:
    """Hyperparameters of the 7-class CNN (field names are the keras-tuner names).

    Attributes:
        filters: ``Conv2D`` filters per block (one block per entry, each halves the size).
        activation, initializer: of the convolutions.
        dropout: after each block and before the classifier.
        l2: L2 penalty on the convolution kernels and the classifier.
        optimizer, learning_rate, batch_size, epochs, patience: training.
        train_per_class, val_per_class: images per class trained on / validated on.
    """

    filters: tuple[int, ...] = (32, 64, 128)
    activation: str = "relu"
    initializer: str = "he_normal"
    dropout: float = 0.1
    l2: float = 1e-4
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 12
    patience: int = 4
    train_per_class: int = 1000
    val_per_class: int = 300


def build_cifar7_model(
    config: Cifar7Config = Cifar7Config(), num_classes: int = len(CLASSES)
) -> keras.Sequential:
    """The compiled Sequential CNN on raw 0-255 pixels.

    Example:

    >>> model = build_cifar7_model(Cifar7Config(filters=(8, 16)))
    >>> model.input_shape, model.output_shape
    ((None, 32, 32, 3), (None, 7))
    """
    regularizer = keras.regularizers.L2(config.l2)
    model = keras.Sequential(name="cifar7_cnn")
    model.add(keras.Input(IMAGE_SHAPE, name="pixels"))
    model.add(layers.Rescaling(1.0 / 255.0))
    model.add(layers.RandomFlip("horizontal"))
    model.add(layers.RandomTranslation(0.1, 0.1, fill_mode="reflect"))
    for filters in config.filters:
        model.add(
            layers.Conv2D(
                filters,
                3,
                padding="same",
                use_bias=False,
                kernel_initializer=config.initializer,
                kernel_regularizer=regularizer,
            )
        )
        model.add(layers.BatchNormalization())
        model.add(layers.Activation(config.activation))
        model.add(layers.MaxPooling2D())
        model.add(layers.Dropout(config.dropout))
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dropout(config.dropout))
    model.add(
        layers.Dense(
            num_classes, activation="softmax", kernel_regularizer=regularizer, name="classes"
        )
    )
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def build_model(hp: keras_tuner.HyperParameters) -> keras.Sequential:
    """keras-tuner entry point: width, depth, dropout, L2, optimizer and learning rate."""
    width = hp.Choice("width", [16, 32])
    depth = hp.Int("blocks", 2, 3)
    config = Cifar7Config(
        filters=tuple(width * 2**i for i in range(depth)),
        dropout=hp.Float("dropout", 0.0, 0.4, step=0.1),
        l2=hp.Float("l2", 1e-5, 1e-3, sampling="log"),
        optimizer=hp.Choice("optimizer", ["adam", "rmsprop"]),
        learning_rate=hp.Float("learning_rate", 5e-4, 5e-3, sampling="log"),
    )
    return build_cifar7_model(config)


def _datasets(splits: ImageSplits, seed: int):
    train_x = splits.train_x.astype(np.float32)
    val_x = splits.val_x.astype(np.float32)

    def make(batch_size: int):
        return (
            make_dataset(train_x, splits.train_y, batch_size=batch_size, shuffle=True, seed=seed),
            make_dataset(val_x, splits.val_y, batch_size=512),
        )

    return make


def train_cifar7(
    work_dir: Path | str,
    config: Cifar7Config = Cifar7Config(),
    *,
    seed: int = 0,
    splits: ImageSplits | None = None,
    verbose: int = 2,
) -> TrainResult:
    """Train (or load from ``work_dir``) the 7-class CNN; predict the 7,000 test images.

    Returns:
        :class:`~keras_models.fitting.TrainResult` with ``test_probabilities`` of shape
        ``(n_test, 7)``, rows in the loader's test order restricted to :data:`CLASSES`
        (``splits.test_index``).
    """
    splits = splits or load_cifar7(
        train_per_class=config.train_per_class, val_per_class=config.val_per_class, seed=seed
    )
    train_data, validation_data = _datasets(splits, seed)(config.batch_size)
    f1 = MacroF1Callback((splits.val_x.astype(np.float32), splits.val_y), verbose=int(verbose > 0))
    values = {**config_dict(config), "seed": seed}
    folder = run_folder(work_dir, "cifar7", values)
    keras.utils.set_random_seed(seed)
    model, history, seconds = fit_run(
        lambda: build_cifar7_model(config),
        folder,
        train_data,
        validation_data,
        epochs=config.epochs,
        f1_callback=f1,
        patience=config.patience,
        verbose=verbose,
    )
    return TrainResult(
        model, history, predict_cifar7(model, splits.test_x), folder, seconds, values
    )


def tune_cifar7(
    work_dir: Path | str,
    *,
    max_trials: int = 4,
    epochs: int = 6,
    train_per_class: int = 500,
    seed: int = 0,
    kind: str = "random",
    verbose: int = 0,
) -> SearchResult:
    """A bounded keras-tuner search on a smaller training subset (validation accuracy).

    Resumable: the project folder is ``work_dir/cifar7_tuner``.
    """
    splits = load_cifar7(train_per_class=train_per_class, seed=seed)
    hypermodel = TunableModel(build_model, _datasets(splits, seed), batch_sizes=(32, 64, 128))
    return run_search(
        hypermodel,
        work_dir,
        "cifar7_tuner",
        objective="val_accuracy",
        max_trials=max_trials,
        epochs=epochs,
        seed=seed,
        kind=kind,
        patience=3,
        verbose=verbose,
    )


def check_images(images: Any) -> np.ndarray:
    """Validate photos for :func:`predict_cifar7`; return them as raw ``float32`` pixels.

    Accepts ``(n, 32, 32, 3)`` or one ``(32, 32, 3)`` RGB image, ``uint8`` (0-255) or floats in
    ``[0, 1]``.

    Raises:
        ValueError: another shape (grayscale, other sizes, flat vectors), non-numeric
            values, NaN/inf, or pixels outside the range of their dtype.

    Example:

    >>> check_images(np.zeros((32, 32, 3), np.uint8)).shape
    (1, 32, 32, 3)
    """
    array = np.asarray(images)
    if array.shape == IMAGE_SHAPE:
        array = array[np.newaxis]
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"Expected RGB images of shape (n, 32, 32, 3) or (32, 32, 3) "
            f"(resize larger photos to 32x32 first). "
            f"Received: images.shape={array.shape}"
        )
    return prepare_images(array, IMAGE_SHAPE) * np.float32(255.0)


def predict_cifar7(model: keras.Model, images: Any, batch_size: int = 512) -> np.ndarray:
    """Class probabilities ``(n, 7)`` (order :data:`CLASSES`) for checked photos."""
    return as_probabilities(model.predict(check_images(images), batch_size=batch_size, verbose=0))
