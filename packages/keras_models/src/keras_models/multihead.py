"""Seed 000 (d): multi-head classification — wine colour and quality band from one model.

Data: the red and white Vinho Verde wine-quality tables (Cortez et al. 2009) stacked into one
table of 6,497 wines with 11 physico-chemical measurements each. One Functional-API model
predicts two things from them:

* head ``colour``: red (0) or white (1) — binary cross-entropy, sigmoid unit;
* head ``quality_band``: low / medium / high (0/1/2) — sparse categorical cross-entropy,
  softmax over 3.

The labels come from :func:`a2common.data.combine_wine_split` alone (the one place that
defines them): the loader's datasets ``wine_colour`` and ``wine_quality_band`` are the stacked
red + white splits with one label each, so the model trains on exactly the rows, in exactly the
order, that the autograder grades. Architecture: preprocessing (``Normalization`` per
column) → shared trunk of two ``Dense`` layers (L2, dropout, chosen initializer/activation) →
a one-unit colour head, and a quality head with its own hidden layer (quality is the harder
task) → per-head losses (weighted), per-head metrics.

Example: ``train_wine(work_dir)`` is a full training run on the loader's splits (or on
``splits=``), so it is shown here, not run::

    result = train_wine("runs/keras_models/seed000")
    {k: v.shape for k, v in result.test_probabilities.items()}
    # {'colour': (1300,), 'quality_band': (1300, 3)}

Your own splits (here a few synthetic wines), and the two-head model built from their training
frame (untrained here):

>>> rng = np.random.default_rng(0)
>>> def wines(n):
...     return pd.DataFrame({c: rng.uniform(0.0, 10.0, n) for c in WINE_SCHEMA.numeric})
>>> def heads(n):
...     return {"colour": rng.integers(0, 2, n), "quality_band": rng.integers(0, 3, n)}
>>> train, val, test = heads(40), heads(10), heads(10)
>>> tables = TabularSplits(wines(40), train["quality_band"], wines(10), val["quality_band"],
...                        wines(10), test["quality_band"], list(QUALITY_BANDS))
>>> splits = WineSplits(tables, train, val, test)
>>> model = build_wine_model(fit_feature_stats(tables.train_frame, WINE_SCHEMA))
>>> {k: v.shape for k, v in predict_wine(model, tables.test_frame).items()}
{'colour': (10,), 'quality_band': (10, 3)}
>>> labels_frame(splits.test_labels).columns.tolist()
['colour', 'quality_band']
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

from a2common.data import WINE_COLOURS, WINE_FEATURES, WINE_QUALITY_BANDS
from keras_models.fitting import (
    TrainResult,
    as_probabilities,
    make_optimizer,
    tabular_datasets,
    train_tabular,
)
from keras_models.tabular import (
    FeatureStats,
    TabularSchema,
    TabularSplits,
    encode_inputs,
    fit_feature_stats,
    predict_frame,
    split_to_frame,
)
from keras_models.tuning import SearchResult, TunableModel, run_search

WINE_SCHEMA = TabularSchema(numeric=WINE_FEATURES)
"""The 11 measurements; none may be missing."""

COLOURS = WINE_COLOURS
QUALITY_BANDS = WINE_QUALITY_BANDS
HEADS = ("colour", "quality_band")
DATASETS = {"colour": "wine_colour", "quality_band": "wine_quality_band"}
"""The loader's dataset of each head: the same rows, one label each (what the harness grades)."""


@dataclass
class WineSplits:
    """The stacked red + white splits: frames and per-head labels (``combine_wine_split``)."""

    tables: TabularSplits
    train_labels: dict[str, np.ndarray]
    val_labels: dict[str, np.ndarray]
    test_labels: dict[str, np.ndarray]


def load_wine(colour: Any = None, quality_band: Any = None) -> WineSplits:
    """The loader's ``wine_colour`` and ``wine_quality_band`` splits (red rows first).

    Both datasets are the seeded, stratified 70/10/20 splits of ``wine_red`` and
    ``wine_white`` stacked, so their features agree row by row (checked here).

    Example:

    >>> wine = load_wine()
    >>> len(wine.tables.train_frame), len(wine.tables.val_frame), len(wine.tables.test_frame)
    (4547, 650, 1300)
    """
    from a2common.data import load_dataset

    datasets = {
        "colour": colour or load_dataset(DATASETS["colour"]),
        "quality_band": quality_band or load_dataset(DATASETS["quality_band"]),
    }
    feature_names = datasets["colour"].feature_names
    if feature_names is None:
        raise ValueError(
            f"Expected the column names of the tabular dataset {DATASETS['colour']!r}. "
            "Received: feature_names=None"
        )
    frames, labels = {}, {}
    for split in ("train", "val", "test"):
        parts = {head: getattr(dataset, split) for head, dataset in datasets.items()}
        if not np.array_equal(parts["colour"].x, parts["quality_band"].x):
            raise ValueError(
                f"Expected the {split} rows of {DATASETS['colour']!r} and "
                f"{DATASETS['quality_band']!r} to be the same wines. Received: "
                f"different feature rows"
            )
        frames[split] = split_to_frame(parts["colour"].x, feature_names, WINE_SCHEMA)
        labels[split] = {head: part.y.astype(np.int64) for head, part in parts.items()}
    tables = TabularSplits(
        frames["train"],
        labels["train"]["quality_band"],
        frames["val"],
        labels["val"]["quality_band"],
        frames["test"],
        labels["test"]["quality_band"],
        list(QUALITY_BANDS),
    )
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
        return layers.Dense(
            units,
            activation=config.activation,
            kernel_initializer=config.initializer,
            kernel_regularizer=keras.regularizers.L2(config.l2),
            name=name,
        )

    inputs, features = encode_inputs(stats)
    trunk = layers.Dropout(config.dropout)(dense(config.units, "trunk_1")(features))
    trunk = layers.Dropout(config.dropout)(dense(config.units // 2, "trunk_2")(trunk))
    colour = layers.Dense(1, activation="sigmoid", name="colour")(trunk)
    quality = layers.Dropout(config.dropout)(dense(config.units // 2, "quality_hidden")(trunk))
    quality = layers.Dense(len(QUALITY_BANDS), activation="softmax", name="quality_band")(quality)
    model = keras.Model(inputs, {"colour": colour, "quality_band": quality}, name="wine_two_heads")
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate),
        loss={
            "colour": keras.losses.BinaryCrossentropy(),
            "quality_band": keras.losses.SparseCategoricalCrossentropy(),
        },
        loss_weights={"colour": config.colour_weight, "quality_band": 1.0},
        metrics={
            "colour": [keras.metrics.BinaryAccuracy(name="accuracy")],
            "quality_band": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        },
    )
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
        learning_rate=hp.Float("learning_rate", 3e-4, 3e-3, sampling="log"),
    )
    return build_wine_model(stats, config)


def train_wine(
    work_dir: Path | str,
    config: WineConfig = WineConfig(),
    *,
    seed: int = 0,
    splits: WineSplits | None = None,
    verbose: int = 2,
) -> TrainResult:
    """Train (or load) the two-head model; macro-F1 is computed on the quality head.

    Returns:
        :class:`~keras_models.fitting.TrainResult` whose ``test_probabilities`` is
        ``{"colour": P(white) (n,), "quality_band": (n, 3)}``, rows as in the loader's
        ``wine_colour``/``wine_quality_band`` test splits (red test rows, then white ones).
    """
    splits = splits or load_wine()
    return train_tabular(
        "wine_two_heads",
        build_wine_model,
        splits.tables,
        WINE_SCHEMA,
        config,
        work_dir,
        train_labels=splits.train_labels,
        val_labels=splits.val_labels,
        f1_output="quality_band",
        f1_labels=splits.val_labels["quality_band"],
        seed=seed,
        verbose=verbose,
    )


def tune_wine(
    work_dir: Path | str,
    *,
    max_trials: int = 10,
    epochs: int = 60,
    seed: int = 0,
    kind: str = "random",
    splits: WineSplits | None = None,
    verbose: int = 0,
) -> SearchResult:
    """keras-tuner search on the quality head's validation accuracy (batch size included)."""
    splits = splits or load_wine()
    stats = fit_feature_stats(splits.tables.train_frame, WINE_SCHEMA)
    datasets = tabular_datasets(
        splits.tables,
        stats,
        train_labels=splits.train_labels,
        val_labels=splits.val_labels,
        seed=seed,
    )
    hypermodel = TunableModel(
        lambda hp: build_model(hp, stats), datasets, batch_sizes=(32, 64, 128)
    )
    return run_search(
        hypermodel,
        work_dir,
        "wine_two_heads_tuner",
        objective="val_quality_band_accuracy",
        max_trials=max_trials,
        epochs=epochs,
        seed=seed,
        kind=kind,
        verbose=verbose,
    )


def predict_wine(model: keras.Model, frame: Any) -> dict[str, np.ndarray]:
    """``{"colour": P(white), "quality_band": P(low, medium, high)}`` for a user's DataFrame.

    Example:

    >>> wines = pd.DataFrame({c: [1.0, 2.0, 3.0] for c in WINE_SCHEMA.numeric})
    >>> model = build_wine_model(fit_feature_stats(wines, WINE_SCHEMA))  # untrained: shapes only
    >>> probabilities = predict_wine(model, wines)
    >>> probabilities["colour"].shape, np.allclose(probabilities["quality_band"].sum(axis=1), 1)
    ((3,), True)
    >>> predict_wine(model, wines.assign(pH=[3.2, None, 3.4]))
    Traceback (most recent call last):
    ...
    ValueError: Expected no missing values in column 'pH' (only [] may be missing). Received: 1 ...
    """
    return as_probabilities(predict_frame(model, frame, WINE_SCHEMA))


def labels_frame(labels: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per-head labels as a readable DataFrame (``colour``/``quality_band`` names)."""
    return pd.DataFrame(
        {
            "colour": np.array(COLOURS)[labels["colour"]],
            "quality_band": np.array(QUALITY_BANDS)[labels["quality_band"]],
        }
    )
