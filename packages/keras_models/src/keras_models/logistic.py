"""Seed 000 (c): logistic regression as a single-unit Keras model, checked against scikit-learn.

**Why Adult** (rather than Titanic): UCI Adult has the official 16,281-row test file, so one
accuracy point is 163 people and "Keras matches scikit-learn within 1%" is a real check (on
Titanic's 179 test rows 1% is under two passengers); its mix of numeric and categorical columns
with missing values (``?`` in workclass, occupation and native-country) exercises the in-model
preprocessing; and it is the classic census benchmark with published error rates
(``adult.names``).

Features (:data:`ADULT_SCHEMA`): age, education-num, hours-per-week, ``log1p`` of capital gain
and loss (heavy-tailed amounts), and one-hot workclass, marital status, occupation,
relationship, race, sex and native country. Not used: ``fnlwgt`` (the census sampling weight: how
many people a row stands for, not a property of the person) and ``education`` (the same
information as education-num).

The model is ``features → Dense(1, sigmoid)``: one unit, zero-initialised (the problem is
convex; scikit-learn also starts at zero), with an L2 penalty ``1 / (2 C n_train)`` on the
kernel, which makes its loss the same objective as ``LogisticRegression(C=C)`` divided by
``C n_train``. :func:`compare_with_sklearn` fits scikit-learn on *the model's own encoded
features* (same split, same preprocessing) and compares accuracy and coefficients.

Example: ``train_logistic(work_dir)`` is a full training run on the Adult splits (or on
``splits=``), so it is shown here, not run::

    result = train_logistic("runs/keras_models/seed000")
    comparison = compare_with_sklearn(result.model, load_adult(), C=1.0)
    abs(comparison.accuracy_gap) < 0.01  # True

The model and :func:`compare_with_sklearn` on a few synthetic people whose label is
"education-num > 25", with a hand-set weight in place of the training:

>>> import pandas as pd
>>> rng = np.random.default_rng(0)
>>> def people(n):
...     frame = pd.DataFrame({c: rng.integers(0, 50, n) * 1.0 for c in ADULT_SCHEMA.numeric})
...     for column in ADULT_SCHEMA.categorical:
...         frame[column] = rng.choice(["a", "b"], n).astype(object)
...     return frame
>>> frames = [people(n) for n in (60, 20, 20)]
>>> train_y, val_y, test_y = [(f["education-num"] > 25).to_numpy(np.int64) for f in frames]
>>> splits = TabularSplits(frames[0], train_y, frames[1], val_y, frames[2], test_y,
...                        ["<=50K", ">50K"])
>>> stats = fit_feature_stats(splits.train_frame, ADULT_SCHEMA)
>>> model = build_logistic_model(stats, LogisticConfig(C=1.0), n_train=len(splits.train_y))
>>> names = encoded_feature_names(stats)
>>> names[:3]
['age', 'education-num', 'log1p(capital-gain)']
>>> kernel = np.zeros((len(names), 1), "float32")
>>> kernel[names.index("education-num")] = 3.0
>>> model.get_layer(UNIT_NAME).set_weights([kernel, np.zeros(1, "float32")])
>>> comparison = compare_with_sklearn(model, splits, C=1.0)
>>> feature, keras_weight, sklearn_weight = comparison.top_coefficients(1)[0]
>>> feature, keras_weight, sklearn_weight > 0  # scikit-learn finds the same rule
('education-num', 3.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner
import numpy as np
from keras import layers

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
    encoded_feature_names,
    fit_feature_stats,
    frame_to_inputs,
    predict_frame,
    tabular_splits,
)
from keras_models.tuning import SearchResult, TunableModel, run_search

ADULT_SCHEMA = TabularSchema(
    numeric=("age", "education-num", "capital-gain", "capital-loss", "hours-per-week"),
    categorical=(
        "workclass",
        "marital-status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "native-country",
    ),
    may_be_missing=("workclass", "occupation", "native-country"),
    log_scale=("capital-gain", "capital-loss"),
)
"""The Adult columns the model reads; ``None``/``NaN`` is accepted where the census has ``?``."""

UNIT_NAME = "logistic_unit"


@dataclass(frozen=True)
class LogisticConfig:
    """Hyperparameters (field names are the keras-tuner names).

    Attributes:
        C: inverse regularisation strength, as in scikit-learn's ``LogisticRegression``.
        optimizer, learning_rate, batch_size, epochs, patience: training.
    """

    C: float = 1.0
    optimizer: str = "adam"
    learning_rate: float = 0.01
    batch_size: int = 256
    epochs: int = 60
    patience: int = 10


def load_adult(dataset: Any = None) -> TabularSplits:
    """Official train (less a seeded, stratified 10% validation) and test files of ``adult``.

    Labels: 1 = income ``>50K``.
    """
    from a2common.data import load_dataset

    return tabular_splits(dataset or load_dataset("adult"), ADULT_SCHEMA)


def l2_for_C(C: float, n_train: int) -> float:
    """The Keras L2 factor that matches scikit-learn's ``C`` for a mean (not summed) loss.

    scikit-learn minimises ``C * sum(log-loss) + ||w||² / 2``; dividing by ``C n`` gives
    ``mean(log-loss) + ||w||² / (2 C n)``, Keras' loss with ``L2(1 / (2 C n))``.

    Example:

    >>> l2_for_C(1.0, 500)
    0.001
    """
    if C <= 0 or n_train <= 0:
        raise ValueError(f"Expected C > 0 and n_train > 0. Received: C={C}, n_train={n_train}")
    return 1.0 / (2.0 * C * n_train)


def build_logistic_model(
    stats: FeatureStats, config: LogisticConfig = LogisticConfig(), *, n_train: int
) -> keras.Model:
    """Raw columns → preprocessing → ``Dense(1, sigmoid)``: logistic regression in Keras.

    Example:

    >>> splits = load_adult()
    >>> stats = fit_feature_stats(splits.train_frame, ADULT_SCHEMA)
    >>> model = build_logistic_model(stats, n_train=len(splits.train_y))
    >>> unit = model.get_layer(UNIT_NAME)
    >>> unit.units, unit.kernel.shape[0] == len(encoded_feature_names(stats))
    (1, True)
    """
    inputs, features = encode_inputs(stats)
    probability = layers.Dense(
        1,
        activation="sigmoid",
        kernel_initializer="zeros",
        kernel_regularizer=keras.regularizers.L2(l2_for_C(config.C, n_train)),
        name=UNIT_NAME,
    )(features)
    model = keras.Model(inputs, probability, name="adult_logistic_regression")
    model.compile(
        optimizer=make_optimizer(config.optimizer, config.learning_rate),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
    )
    return model


def build_model(hp: keras_tuner.HyperParameters, stats: FeatureStats, n_train: int) -> keras.Model:
    """keras-tuner entry point: regularisation ``C``, optimizer and learning rate."""
    config = LogisticConfig(
        C=hp.Float("C", 1e-3, 10.0, sampling="log"),
        optimizer=hp.Choice("optimizer", ["adam", "rmsprop", "sgd"]),
        learning_rate=hp.Float("learning_rate", 1e-3, 5e-2, sampling="log"),
    )
    return build_logistic_model(stats, config, n_train=n_train)


def train_logistic(
    work_dir: Path | str,
    config: LogisticConfig = LogisticConfig(),
    *,
    seed: int = 0,
    splits: TabularSplits | None = None,
    verbose: int = 2,
) -> TrainResult:
    """Train (or load) the single-unit model; ``test_probabilities`` is P(>50K), ``(n_test,)``."""
    splits = splits or load_adult()
    n_train = len(splits.train_y)
    return train_tabular(
        "adult_logistic",
        lambda stats, cfg: build_logistic_model(stats, cfg, n_train=n_train),
        splits,
        ADULT_SCHEMA,
        config,
        work_dir,
        seed=seed,
        verbose=verbose,
    )


def tune_logistic(
    work_dir: Path | str,
    *,
    max_trials: int = 8,
    epochs: int = 20,
    seed: int = 0,
    kind: str = "random",
    splits: TabularSplits | None = None,
    verbose: int = 0,
) -> SearchResult:
    """keras-tuner search over ``C``, optimizer, learning rate and batch size (val accuracy)."""
    splits = splits or load_adult()
    stats = fit_feature_stats(splits.train_frame, ADULT_SCHEMA)
    n_train = len(splits.train_y)
    hypermodel = TunableModel(
        lambda hp: build_model(hp, stats, n_train),
        tabular_datasets(splits, stats, seed=seed),
        batch_sizes=(64, 256, 1024),
    )
    return run_search(
        hypermodel,
        work_dir,
        "adult_logistic_tuner",
        objective="val_accuracy",
        max_trials=max_trials,
        epochs=epochs,
        seed=seed,
        kind=kind,
        patience=4,
        verbose=verbose,
    )


def predict_adult(model: keras.Model, frame: Any) -> np.ndarray:
    """P(income > 50K) for each row of a user's DataFrame with the Adult columns.

    Example:

    >>> import pandas as pd
    >>> people = pd.DataFrame({c: [0.0, 40.0] for c in ADULT_SCHEMA.numeric})
    >>> for column in ADULT_SCHEMA.categorical:
    ...     people[column] = ["Private", "Self-emp"]
    >>> people.loc[1, "occupation"] = None  # allowed: the census has "?" there
    >>> stats = fit_feature_stats(people, ADULT_SCHEMA)
    >>> model = build_logistic_model(stats, n_train=2)  # untrained: its zero weights say 0.5
    >>> predict_adult(model, people)
    array([0.5, 0.5])
    """
    return as_probabilities(predict_frame(model, frame, ADULT_SCHEMA))


@dataclass
class LogisticComparison:
    """Keras' single unit against scikit-learn's ``LogisticRegression`` on the same features.

    Attributes:
        keras_accuracy, sklearn_accuracy: test accuracy at threshold 0.5.
        accuracy_gap: ``keras_accuracy - sklearn_accuracy``.
        agreement: fraction of test rows with the same predicted class.
        feature_names: name of each encoded feature (``"sex=Male"``, ``"log1p(capital-gain)"``).
        keras_coefficients, sklearn_coefficients: one weight per encoded feature.
        keras_intercept, sklearn_intercept: the biases.
        max_coefficient_difference: ``max |keras - sklearn|`` over the coefficients.
        coefficient_correlation: Pearson correlation of the two coefficient vectors.
        logit_correlation: Pearson correlation of the two models' log-odds on the test rows.
        centered_coefficient_correlation: correlation after subtracting, in each one-hot
            group, the group's mean weight. A full one-hot group plus an intercept can trade
            weight between them at almost no cost (only the tiny L2 term decides), so gradient
            descent stopped early and the exact optimum differ there; the within-group
            contrasts and the log-odds do not depend on that trade.
    """

    keras_accuracy: float
    sklearn_accuracy: float
    accuracy_gap: float
    agreement: float
    feature_names: list[str]
    keras_coefficients: np.ndarray
    sklearn_coefficients: np.ndarray
    keras_intercept: float
    sklearn_intercept: float
    max_coefficient_difference: float
    coefficient_correlation: float
    logit_correlation: float
    centered_coefficient_correlation: float

    def top_coefficients(self, count: int = 10) -> list[tuple[str, float, float]]:
        """``(feature, keras, sklearn)`` for the ``count`` largest scikit-learn weights."""
        order = np.argsort(-np.abs(self.sklearn_coefficients))[:count]
        return [
            (
                self.feature_names[i],
                float(self.keras_coefficients[i]),
                float(self.sklearn_coefficients[i]),
            )
            for i in order
        ]


def center_one_hot_groups(coefficients: np.ndarray, feature_names: list[str]) -> np.ndarray:
    """Subtract, within each one-hot group (``"column=..."`` names), the group's mean weight.

    The out-of-vocabulary slot is left out: it is never active in training, so its weight is not
    part of the trade-off with the intercept.

    Example:

    >>> center_one_hot_groups(np.array([1.0, 2.0, 4.0]), ["age", "sex=f", "sex=m"]).tolist()
    [1.0, -1.0, 1.0]
    """
    centered = np.asarray(coefficients, dtype=np.float64).copy()
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(feature_names):
        if "=" in name and not name.endswith("=[OOV]"):  # OOV never occurs in training
            groups.setdefault(name.split("=", 1)[0], []).append(index)
    for members in groups.values():
        centered[members] -= centered[members].mean()
    return centered


def encoded_features(model: keras.Model, frame: Any) -> np.ndarray:
    """The inputs of the model's single unit: its own preprocessing applied to ``frame``."""
    encoder = keras.Model(model.inputs, model.get_layer(UNIT_NAME).input)
    # one eager call on the whole frame: `predict` would trace a new graph for every encoder
    # (and every partial last batch), which TensorFlow reports as excessive retracing
    features = encoder(frame_to_inputs(frame, ADULT_SCHEMA), training=False)
    return np.asarray(keras.ops.convert_to_numpy(features), dtype=np.float64)


def compare_with_sklearn(
    model: keras.Model, splits: TabularSplits, *, C: float = 1.0, max_iter: int = 5000
) -> LogisticComparison:
    """Fit ``LogisticRegression(C=C)`` on the model's encoded training features; compare.

    Pass the ``C`` the Keras model was trained with, so both minimise the same objective.
    """
    from sklearn.linear_model import LogisticRegression

    train_features = encoded_features(model, splits.train_frame)
    test_features = encoded_features(model, splits.test_frame)
    reference = LogisticRegression(C=C, max_iter=max_iter).fit(train_features, splits.train_y)
    sklearn_probability = reference.predict_proba(test_features)[:, 1]
    sklearn_logit = reference.decision_function(test_features)
    keras_probability = predict_adult(model, splits.test_frame)
    keras_pred = (keras_probability > 0.5).astype(np.int64)
    sklearn_pred = (sklearn_probability > 0.5).astype(np.int64)
    kernel, bias = (np.asarray(w, np.float64) for w in model.get_layer(UNIT_NAME).get_weights())
    keras_coefficients, sklearn_coefficients = kernel.reshape(-1), reference.coef_.reshape(-1)
    keras_logit = test_features @ keras_coefficients + bias[0]
    keras_accuracy = float(np.mean(keras_pred == splits.test_y))
    sklearn_accuracy = float(np.mean(sklearn_pred == splits.test_y))
    names = encoded_feature_names(fit_feature_stats(splits.train_frame, ADULT_SCHEMA))
    return LogisticComparison(
        keras_accuracy=keras_accuracy,
        sklearn_accuracy=sklearn_accuracy,
        accuracy_gap=keras_accuracy - sklearn_accuracy,
        agreement=float(np.mean(keras_pred == sklearn_pred)),
        feature_names=names,
        keras_coefficients=keras_coefficients,
        sklearn_coefficients=sklearn_coefficients,
        keras_intercept=float(bias[0]),
        sklearn_intercept=float(reference.intercept_[0]),
        max_coefficient_difference=float(np.max(np.abs(keras_coefficients - sklearn_coefficients))),
        coefficient_correlation=float(np.corrcoef(keras_coefficients, sklearn_coefficients)[0, 1]),
        logit_correlation=float(np.corrcoef(keras_logit, sklearn_logit)[0, 1]),
        centered_coefficient_correlation=float(
            np.corrcoef(
                center_one_hot_groups(keras_coefficients, names),
                center_one_hot_groups(sklearn_coefficients, names),
            )[0, 1]
        ),
    )
