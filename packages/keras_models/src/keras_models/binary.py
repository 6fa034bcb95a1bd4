"""Seed 000 (a): binary cross-entropy — diabetes onset on the Pima Indians data.

**Why Pima** (of the three real binary tabular sets in ``shared/data``):

* *Banknote authentication* is nearly separable: a linear model already scores ~99% test
  accuracy, so dropout, L2 or the optimizer could not show any measurable effect.
* *Cleveland heart disease* has 303 rows; its test split holds 61, where one patient is 1.6
  accuracy points, so no comparison between settings would rise above the noise.
* *Pima diabetes* has 768 rows (154 test), a 35% minority class and a known ceiling near
  75-78% accuracy, so there is room between a weak and a good model, and regularisation
  matters on 537 training rows. It also has the classic tabular trap: zeros that mean "not
  measured" in Glucose, BloodPressure, SkinThickness, Insulin and BMI (physiologically
  impossible values; 374 of 768 Insulin values are 0). The model treats them as missing,
  fills them with the training median and adds a "was missing" flag, inside the saved model.

Architecture: the Functional API for the per-column preprocessing (8 ``keras.Input``\\ s) and a
``keras.Sequential`` MLP head: ``Dense`` blocks (units halving per layer, chosen activation and
initializer, L2, dropout) → ``Dense(1, sigmoid)``; loss ``BinaryCrossentropy``.

Example: ``train_pima(work_dir)`` trains on the loader's splits (or on ``splits=``, with any
:class:`PimaConfig`) for seconds to minutes, so it is shown here, not run::

    result = train_pima("runs/keras_models/seed000")
    result.test_probabilities.shape  # (154,): P(diabetes) per test row, loader order
    predict_pima(result.model, user_frame)  # the saved model on a user's raw columns

What it builds, on 20 synthetic rows: the training frame's statistics, the model (preprocessing
inside) and P(diabetes) from raw columns (untrained weights here):

>>> import pandas as pd
>>> rng = np.random.default_rng(0)
>>> train = pd.DataFrame({c: rng.uniform(1.0, 100.0, 20) for c in PIMA_SCHEMA.numeric})
>>> train.loc[::3, "Insulin"] = 0.0  # 0 = "not measured": filled with the median of the rest
>>> stats = fit_feature_stats(train, PIMA_SCHEMA)
>>> stats.fill_values["Insulin"] == float(np.median(train["Insulin"][train["Insulin"] > 0]))
True
>>> model = build_pima_model(stats, PimaConfig(units=8, layers=1))
>>> predict_pima(model, train.head(3)).shape
(3,)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
from keras import layers

from a2common.data import PIMA_FEATURES
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
    tabular_splits,
)
from keras_models.tuning import SearchResult, TunableModel, run_search

_NOT_MEASURED = ("Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI")
PIMA_SCHEMA = TabularSchema(
    numeric=PIMA_FEATURES,
    may_be_missing=_NOT_MEASURED,
    zero_means_missing=_NOT_MEASURED,
)
"""The 8 raw Pima columns; NaN (or 0) is accepted only where it means "not measured"."""


@dataclass(frozen=True)
class PimaConfig:
    """Hyperparameters of the Pima MLP (the field names are the keras-tuner names).

    Attributes:
        units, layers: first hidden layer width; each further layer has half the units.
        activation, initializer: of the hidden layers (e.g. ``"relu"`` with ``"he_normal"``).
        dropout: rate after each hidden layer.
        l2: L2 penalty on every hidden kernel.
        optimizer, learning_rate: see :func:`keras_models.fitting.make_optimizer`.
        batch_size, epochs, patience: mini-batch size, epoch cap, early-stopping patience.
    """

    units: int = 32
    layers: int = 2
    activation: str = "relu"
    initializer: str = "he_normal"
    dropout: float = 0.2
    l2: float = 1e-3
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 32
    epochs: int = 200
    patience: int = 20


def load_pima(dataset: Any = None) -> TabularSplits:
    """The loader's seeded 70/10/20 stratified splits of ``pima_diabetes`` as DataFrames."""
    from a2common.data import load_dataset

    return tabular_splits(dataset or load_dataset("pima_diabetes"), PIMA_SCHEMA)


def build_pima_model(stats: FeatureStats, config: PimaConfig = PimaConfig()) -> keras.Model:
    """The compiled model: raw columns → preprocessing → Sequential MLP → P(diabetes).

    Example:

    >>> stats = fit_feature_stats(load_pima().train_frame, PIMA_SCHEMA)
    >>> model = build_pima_model(stats)
    >>> model.output_shape, len(model.inputs)
    ((None, 1), 8)
    """
    inputs, features = encode_inputs(stats)
    head = keras.Sequential(name="mlp")
    for depth in range(config.layers):
        head.add(
            layers.Dense(
                max(config.units // 2**depth, 2),
                activation=config.activation,
                kernel_initializer=config.initializer,
                kernel_regularizer=keras.regularizers.L2(config.l2),
            )
        )
        head.add(layers.Dropout(config.dropout))
    head.add(
        layers.Dense(1, activation="sigmoid", kernel_initializer="glorot_uniform", name="diabetes")
    )
    model = keras.Model(inputs, head(features), name="pima_mlp")
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
    )
    return model


def build_model(hp: keras_tuner.HyperParameters, stats: FeatureStats) -> keras.Model:
    """keras-tuner entry point: sample a :class:`PimaConfig` from ``hp`` and build it."""
    config = PimaConfig(
        units=hp.Choice("units", [8, 16, 32, 64]),
        layers=hp.Int("layers", 1, 3),
        activation=hp.Choice("activation", ["relu", "elu", "tanh"]),
        initializer=hp.Choice("initializer", ["he_normal", "glorot_uniform"]),
        dropout=hp.Float("dropout", 0.0, 0.5, step=0.1),
        l2=hp.Float("l2", 1e-5, 1e-2, sampling="log"),
        optimizer=hp.Choice("optimizer", ["adam", "rmsprop", "sgd"]),
        learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"),
    )
    return build_pima_model(stats, config)


def train_pima(
    work_dir: Path | str,
    config: PimaConfig = PimaConfig(),
    *,
    seed: int = 0,
    splits: TabularSplits | None = None,
    verbose: int = 2,
) -> TrainResult:
    """Train (or load from ``work_dir``) the Pima model; predict the test split.

    Returns:
        :class:`~keras_models.fitting.TrainResult` whose ``test_probabilities`` is
        P(diabetes), shape ``(n_test,)``, rows in the loader's test order.
    """
    return train_tabular(
        "pima",
        build_pima_model,
        splits or load_pima(),
        PIMA_SCHEMA,
        config,
        work_dir,
        seed=seed,
        verbose=verbose,
    )


def tune_pima(
    work_dir: Path | str,
    *,
    max_trials: int = 12,
    epochs: int = 60,
    seed: int = 0,
    kind: str = "random",
    splits: TabularSplits | None = None,
    verbose: int = 0,
) -> SearchResult:
    """keras-tuner search (validation accuracy) over :func:`build_model`, batch size included.

    Resumable: the project folder is ``work_dir/pima_tuner``.
    """
    splits = splits or load_pima()
    stats = fit_feature_stats(splits.train_frame, PIMA_SCHEMA)
    hypermodel = TunableModel(
        lambda hp: build_model(hp, stats),
        tabular_datasets(splits, stats, seed=seed),
        batch_sizes=(16, 32, 64),
    )
    return run_search(
        hypermodel,
        work_dir,
        "pima_tuner",
        objective="val_accuracy",
        max_trials=max_trials,
        epochs=epochs,
        seed=seed,
        kind=kind,
        verbose=verbose,
    )


def predict_pima(model: keras.Model, frame: Any) -> np.ndarray:
    """P(diabetes) for each row of a user's DataFrame with the 8 raw Pima columns.

    Columns are checked (names, numeric types, NaN only in the not-measured columns) before the
    model sees them; extra columns are ignored.

    Example:

    >>> import pandas as pd
    >>> row = pd.DataFrame([{"Pregnancies": 2, "Glucose": 140, "BloodPressure": 70,
    ...     "SkinThickness": 0, "Insulin": 0, "BMI": 33.0, "DiabetesPedigreeFunction": 0.5,
    ...     "Age": 45}])
    >>> train = pd.DataFrame({c: np.arange(1.0, 6.0) for c in PIMA_SCHEMA.numeric})
    >>> model = build_pima_model(fit_feature_stats(train, PIMA_SCHEMA))  # untrained: shapes only
    >>> predict_pima(model, row).shape
    (1,)
    >>> predict_pima(model, row.drop(columns="Age"))
    Traceback (most recent call last):
    ...
    ValueError: Expected columns [...]. Received: columns=[...] (missing ['Age'])
    """
    return as_probabilities(predict_frame(model, frame, PIMA_SCHEMA))
