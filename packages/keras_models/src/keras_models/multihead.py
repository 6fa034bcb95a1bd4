"""Seed 000 (d): multi-head classification — wine colour and quality band from one model.

Data: the red and white Vinho Verde wine-quality tables (Cortez et al. 2009) stacked into one
table of 6,497 wines with 11 physico-chemical measurements each. One Functional-API model
predicts two things from them:

* head ``colour``: red (0) or white (1) — binary cross-entropy, sigmoid unit;
* head ``quality_band``: low / medium / high (0/1/2) — sparse categorical cross-entropy,
  softmax over 3.

The labels come from :func:`combine_wine_split` alone (the one place that defines them, so a
grader can recompute them from the loader). Architecture: preprocessing (``Normalization`` per
column) → shared trunk of two ``Dense`` layers (L2, dropout, chosen initializer/activation) →
a one-unit colour head, and a quality head with its own hidden layer (quality is the harder
task) → per-head losses (weighted), per-head metrics.

Example:

>>> result = train_wine("runs/keras_models/seed000")  # doctest: +SKIP
>>> {k: v.shape for k, v in result.test_probabilities.items()}  # doctest: +SKIP
{'colour': (1300,), 'quality_band': (1300, 3)}
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
import pandas as pd
from keras import layers

from keras_models.fitting import (TrainResult, as_probabilities, make_optimizer, tabular_datasets,
                                  train_tabular)
from keras_models.tabular import (FeatureStats, TabularSchema, TabularSplits, encode_inputs,
                                  fit_feature_stats, predict_frame, split_to_frame)
from keras_models.tuning import SearchResult, TunableModel, run_search

WINE_SCHEMA = TabularSchema(numeric=(
    "fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
    "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol"))
"""The 11 measurements; none may be missing."""

COLOURS = ("red", "white")
QUALITY_BANDS = ("low", "medium", "high")
HEADS = ("colour", "quality_band")


def combine_wine_split(red: Any, white: Any, red_class_names: list[str],
                       white_class_names: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """THE label definition of the multi-head task, for one split of the two wine datasets.

    Rows: all rows of ``red`` (a split of ``load_dataset("wine_red")``) in the loader's order,
    then all rows of ``white`` (the same split of ``load_dataset("wine_white")``) in order.

    Labels:

    * ``colour``: 0 for the red rows, 1 for the white rows.
    * ``quality_band``: from the sensory quality score ``q`` (0-10, the median of at least
      three assessors), where ``q = int(class_names[y])`` undoes the loader's class encoding:
      0 = low if ``q <= 5``, 1 = medium if ``q == 6``, 2 = high if ``q >= 7``.

    Args:
        red, white: loader splits (``.x`` features, ``.y`` class indices).
        red_class_names, white_class_names: the datasets' ``class_names`` (quality scores as
            strings, e.g. ``['3', ..., '8']``).

    Returns:
        ``(features, labels)``: the stacked ``(n, 11)`` feature matrix and
        ``{"colour": (n,) int64, "quality_band": (n,) int64}``.

    Example:

    >>> from a2common.data import Split
    >>> red = Split(np.zeros((2, 11)), np.array([0, 2]))   # quality 5, 7
    >>> white = Split(np.ones((1, 11)), np.array([1]))     # quality 6
    >>> x, labels = combine_wine_split(red, white, ["5", "6", "7"], ["5", "6", "7"])
    >>> x.shape, labels["colour"].tolist(), labels["quality_band"].tolist()
    ((3, 11), [0, 0, 1], [0, 2, 1])
    """
    quality = np.concatenate([
        np.array([int(red_class_names[i]) for i in red.y], dtype=np.int64),
        np.array([int(white_class_names[i]) for i in white.y], dtype=np.int64)])
    colour = np.concatenate([np.zeros(len(red.y), np.int64), np.ones(len(white.y), np.int64)])
    band = np.where(quality <= 5, 0, np.where(quality == 6, 1, 2)).astype(np.int64)
    features = np.concatenate([np.asarray(red.x, np.float64), np.asarray(white.x, np.float64)])
    return features, {"colour": colour, "quality_band": band}


@dataclass
class WineSplits:
    """The stacked red + white splits: frames and per-head labels (:func:`combine_wine_split`)."""

    tables: TabularSplits
    train_labels: dict[str, np.ndarray]
    val_labels: dict[str, np.ndarray]
    test_labels: dict[str, np.ndarray]


def load_wine(red: Any = None, white: Any = None) -> WineSplits:
    """Both wine datasets' seeded, stratified 70/10/20 splits, stacked (red rows first).

    Example:

    >>> wine = load_wine()
    >>> len(wine.tables.train_frame), len(wine.tables.val_frame), len(wine.tables.test_frame)
    (4547, 650, 1300)
    """
    from a2common.data import load_dataset

    red = red or load_dataset("wine_red")
    white = white or load_dataset("wine_white")
    frames, labels = {}, {}
    for split in ("train", "val", "test"):
        features, labels[split] = combine_wine_split(getattr(red, split), getattr(white, split),
                                                     red.class_names, white.class_names)
        frames[split] = split_to_frame(features, red.feature_names, WINE_SCHEMA)
    tables = TabularSplits(frames["train"], labels["train"]["quality_band"], frames["val"],
                           labels["val"]["quality_band"], frames["test"],
                           labels["test"]["quality_band"], list(QUALITY_BANDS))
    return WineSplits(tables, labels["train"], labels["val"], labels["test"])


@dataclass(frozen=True)
class WineConfig:
    """Hyperparameters (field names are the keras-tuner names).

    Attributes:
        units: width of the shared trunk's first layer (the second has half).
        activation, initializer, dropout, l2: of the hidden layers.
        colour_weight: weight of the colour loss (the quality loss has weight 1).
        optimizer, learning_rate, batch_size, epochs, patience: training.
    """

    units: int = 64
    activation: str = "relu"
    initializer: str = "he_normal"
    dropout: float = 0.2
    l2: float = 1e-4
    colour_weight: float = 0.5
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 64
    epochs: int = 150
    patience: int = 15


def build_wine_model(stats: FeatureStats, config: WineConfig = WineConfig()) -> keras.Model:
    """The compiled two-head Functional model (outputs named as in :data:`HEADS`).

    Example:

    >>> stats = fit_feature_stats(load_wine().tables.train_frame, WINE_SCHEMA)
    >>> model = build_wine_model(stats)
    >>> sorted(model.output_names)
    ['colour', 'quality_band']
    """
    def dense(units: int, name: str) -> layers.Dense:
        return layers.Dense(units, activation=config.activation,
                            kernel_initializer=config.initializer,
                            kernel_regularizer=keras.regularizers.L2(config.l2), name=name)

    inputs, features = encode_inputs(stats)
    trunk = layers.Dropout(config.dropout)(dense(config.units, "trunk_1")(features))
    trunk = layers.Dropout(config.dropout)(dense(config.units // 2, "trunk_2")(trunk))
    colour = layers.Dense(1, activation="sigmoid", name="colour")(trunk)
    quality = layers.Dropout(config.dropout)(dense(config.units // 2, "quality_hidden")(trunk))
    quality = layers.Dense(len(QUALITY_BANDS), activation="softmax", name="quality_band")(quality)
    model = keras.Model(inputs, {"colour": colour, "quality_band": quality}, name="wine_two_heads")
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate),
        loss={"colour": keras.losses.BinaryCrossentropy(),
              "quality_band": keras.losses.SparseCategoricalCrossentropy()},
        loss_weights={"colour": config.colour_weight, "quality_band": 1.0},
        metrics={"colour": [keras.metrics.BinaryAccuracy(name="accuracy")],
                 "quality_band": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]})
    return model


def build_model(hp: keras_tuner.HyperParameters, stats: FeatureStats) -> keras.Model:
    """keras-tuner entry point: width, activation, initializer, dropout, L2, loss weight, LR."""
    config = WineConfig(
        units=hp.Choice("units", [32, 64, 128]),
        activation=hp.Choice("activation", ["relu", "elu", "selu"]),
        initializer=hp.Choice("initializer", ["he_normal", "glorot_uniform", "lecun_normal"]),
        dropout=hp.Float("dropout", 0.0, 0.4, step=0.1),
        l2=hp.Float("l2", 1e-6, 1e-3, sampling="log"),
        colour_weight=hp.Choice("colour_weight", [0.2, 0.5, 1.0]),
        learning_rate=hp.Float("learning_rate", 3e-4, 3e-3, sampling="log"))
    return build_wine_model(stats, config)


def train_wine(work_dir: Path | str, config: WineConfig = WineConfig(), *, seed: int = 0,
               splits: WineSplits | None = None, verbose: int = 2) -> TrainResult:
    """Train (or load) the two-head model; macro-F1 is computed on the quality head.

    Returns:
        :class:`~keras_models.fitting.TrainResult` whose ``test_probabilities`` is
        ``{"colour": P(white) (n,), "quality_band": (n, 3)}``, rows as in
        :func:`combine_wine_split` (red test rows, then white test rows).
    """
    splits = splits or load_wine()
    return train_tabular("wine_two_heads", build_wine_model, splits.tables, WINE_SCHEMA, config,
                         work_dir, train_labels=splits.train_labels,
                         val_labels=splits.val_labels, f1_output="quality_band",
                         f1_labels=splits.val_labels["quality_band"], seed=seed,
                         verbose=verbose)


def tune_wine(work_dir: Path | str, *, max_trials: int = 10, epochs: int = 60, seed: int = 0,
              kind: str = "random", splits: WineSplits | None = None) -> SearchResult:
    """keras-tuner search on the quality head's validation accuracy (batch size included)."""
    splits = splits or load_wine()
    stats = fit_feature_stats(splits.tables.train_frame, WINE_SCHEMA)
    datasets = tabular_datasets(splits.tables, stats, train_labels=splits.train_labels,
                                val_labels=splits.val_labels, seed=seed)
    hypermodel = TunableModel(lambda hp: build_model(hp, stats), datasets,
                              batch_sizes=(32, 64, 128))
    return run_search(hypermodel, work_dir, "wine_two_heads_tuner",
                      objective="val_quality_band_accuracy", max_trials=max_trials,
                      epochs=epochs, seed=seed, kind=kind)


def predict_wine(model: keras.Model, frame: Any) -> dict[str, np.ndarray]:
    """``{"colour": P(white), "quality_band": P(low, medium, high)}`` for a user's DataFrame.

    Example:

    >>> predict_wine(model, wines_frame)["quality_band"].argmax(-1)  # doctest: +SKIP
    """
    return as_probabilities(predict_frame(model, frame, WINE_SCHEMA))


def labels_frame(labels: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per-head labels as a readable DataFrame (``colour``/``quality_band`` names)."""
    return pd.DataFrame({"colour": np.array(COLOURS)[labels["colour"]],
                         "quality_band": np.array(QUALITY_BANDS)[labels["quality_band"]]})
