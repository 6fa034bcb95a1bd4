"""Tabular data for Keras: pandas frames in, preprocessing inside the model, checked input.

A :class:`TabularSchema` names the columns a model reads and how each is encoded. From the
training frame, :func:`fit_feature_stats` computes the statistics of every column (median for
missing values, mean and variance, the vocabulary of each categorical column) as plain numpy, and
:func:`encode_inputs` turns them into fresh Keras preprocessing layers (``Normalization``,
``StringLookup``, :class:`FillMissing`, :class:`MissingFlag`,
:class:`Log1p`) on one ``keras.Input`` per column. The
layers need no ``adapt`` call, so a keras-tuner search builds a new model per trial cheaply, and
the saved ``.keras`` model works on raw rows as a user has them.

:func:`check_frame` is the gatekeeper of every ``predict`` entry point: it rejects missing
columns, non-numeric values in numeric columns, non-string values in categorical columns and
NaN in columns that were never missing in the source data, each with an error that says what it
expected and what it received.

Example:

>>> import pandas as pd
>>> schema = TabularSchema(numeric=("age",), categorical=("sex",), may_be_missing=("age",))
>>> frame = pd.DataFrame({"age": [22.0, None, 40.0], "sex": ["m", "f", "f"]})
>>> stats = fit_feature_stats(frame, schema)
>>> stats.vocabularies["sex"], stats.fill_values["age"]
(['f', 'm'], 31.0)
>>> inputs, encoded = encode_inputs(stats)
>>> tuple(encoded.shape)  # age, its missing flag, one-hot sex (1 out-of-vocabulary slot + 2)
(None, 5)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import keras
import numpy as np
import pandas as pd
from keras import layers

MISSING_TOKEN = ""
"""What a missing categorical value (``None``/``NaN``) becomes before ``StringLookup``."""


@dataclass(frozen=True)
class TabularSchema:
    """The columns a tabular model reads.

    Attributes:
        numeric: numeric columns (scaled by ``Normalization``).
        categorical: string columns (one-hot encoded by ``StringLookup``; unseen values go to
            an out-of-vocabulary slot).
        may_be_missing: columns that may hold ``NaN``/``None``: numeric ones are filled with the
            training median inside the model and get a 0/1 "was missing" feature; categorical
            ones become :data:`MISSING_TOKEN`. ``NaN`` in any other column is an input error.
        zero_means_missing: numeric columns in which ``0`` is a placeholder for "not measured"
            (Pima's glucose, blood pressure, ...); treated like ``NaN``.
        log_scale: non-negative, heavy-tailed numeric columns passed through ``log1p`` before
            scaling (e.g. capital gain).
    """

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    may_be_missing: tuple[str, ...] = ()
    zero_means_missing: tuple[str, ...] = ()
    log_scale: tuple[str, ...] = ()

    def __post_init__(self):
        columns = self.columns
        if len(set(columns)) != len(columns):
            raise ValueError(f"Expected each column once. Received: columns={columns}")
        for name in ("may_be_missing", "zero_means_missing", "log_scale"):
            unknown = sorted(set(getattr(self, name)) - set(columns))
            if unknown:
                raise ValueError(f"Expected {name} to name schema columns. Received: {unknown}")
        not_numeric = sorted(set(self.zero_means_missing + self.log_scale) - set(self.numeric))
        if not_numeric:
            raise ValueError(
                f"Expected zero_means_missing/log_scale columns to be numeric. "
                f"Received: {not_numeric}"
            )

    @property
    def columns(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


def input_name(column: str) -> str:
    """The Keras input name of a column: ``"education-num"`` → ``"education_num"``.

    Example:

    >>> input_name("fixed acidity")
    'fixed_acidity'
    """
    return "".join(c if c.isalnum() else "_" for c in column)


def split_to_frame(
    features: np.ndarray, feature_names: Sequence[str], schema: TabularSchema
) -> pd.DataFrame:
    """The schema's columns of a loader split (``dataset.train.x``) as a typed DataFrame.

    Numeric columns become ``float64``, categorical ones ``object``; missing values are NA
    (``NaN``/``None``); row order is the split's.

    Example:

    >>> x = np.array([[1.0, "a"], [np.nan, None]], dtype=object)
    >>> schema = TabularSchema(numeric=("n",), categorical=("c",))
    >>> split_to_frame(x, ["n", "c"], schema).dtypes.tolist()
    [dtype('float64'), dtype('O')]
    """
    names = list(feature_names)
    missing = [c for c in schema.columns if c not in names]
    if missing:
        raise ValueError(
            f"Expected the dataset to have columns {list(schema.columns)}. "
            f"Received: feature_names={names} (missing {missing})"
        )
    frame = pd.DataFrame({c: features[:, names.index(c)] for c in schema.columns})
    for column in schema.numeric:
        frame[column] = frame[column].astype("float64")
    for column in schema.categorical:
        frame[column] = frame[column].astype(object)
    return frame


@dataclass
class TabularSplits:
    """Train/val/test DataFrames (schema columns only) and integer labels, in loader order."""

    train_frame: pd.DataFrame
    train_y: np.ndarray
    val_frame: pd.DataFrame
    val_y: np.ndarray
    test_frame: pd.DataFrame
    test_y: np.ndarray
    class_names: list[str]


def tabular_splits(dataset: Any, schema: TabularSchema) -> TabularSplits:
    """The loader's seeded, stratified splits of a tabular dataset as typed DataFrames.

    Example:

    >>> from a2common.data import load_dataset
    >>> splits = tabular_splits(load_dataset("banknote"), TabularSchema(numeric=("variance",)))
    >>> len(splits.train_frame), len(splits.val_frame), len(splits.test_frame)
    (959, 138, 275)
    """
    if dataset.val is None or dataset.feature_names is None:
        raise ValueError(
            f"Expected a tabular dataset with a validation split and feature names. "
            f"Received: dataset {dataset.name!r}"
        )
    names = dataset.feature_names
    return TabularSplits(
        split_to_frame(dataset.train.x, names, schema),
        dataset.train.y.astype(np.int64),
        split_to_frame(dataset.val.x, names, schema),
        dataset.val.y.astype(np.int64),
        split_to_frame(dataset.test.x, names, schema),
        dataset.test.y.astype(np.int64),
        list(dataset.class_names),
    )


def check_frame(frame: Any, schema: TabularSchema) -> pd.DataFrame:
    """Validate a user's DataFrame against ``schema``; return just the schema's columns.

    Extra columns (an id, the target) are ignored. Integer and float columns are both accepted
    as numeric; categorical columns must hold strings (``None``/``NaN`` only where allowed).

    Raises:
        TypeError: ``frame`` is not a ``pandas.DataFrame``, or a column has the wrong type.
        ValueError: a column is missing, the frame is empty, or a column holds NaN where the
            schema does not allow missing values.

    Example:

    >>> schema = TabularSchema(numeric=("age",))
    >>> check_frame(pd.DataFrame({"age": [3], "id": [7]}), schema).columns.tolist()
    ['age']
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"Expected a pandas.DataFrame with columns {list(schema.columns)}. "
            f"Received: {type(frame).__name__}"
        )
    absent = [c for c in schema.columns if c not in frame.columns]
    if absent:
        raise ValueError(
            f"Expected columns {list(schema.columns)}. Received: columns="
            f"{[str(c) for c in frame.columns]} (missing {absent})"
        )
    if len(frame) == 0:
        raise ValueError("Expected at least one row. Received: an empty DataFrame")
    for column in schema.numeric:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise TypeError(
                f"Expected numeric values in column {column!r}. Received: "
                f"dtype={values.dtype}, e.g. {values.iloc[0]!r}"
            )
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        if np.isinf(numbers).any():
            raise ValueError(f"Expected finite values in column {column!r}. Received: inf")
    for column in schema.categorical:
        values = frame[column]
        wrong = [v for v in values[values.notna()] if not isinstance(v, str)]
        if wrong:
            raise TypeError(
                f"Expected strings in categorical column {column!r}. Received: "
                f"{type(wrong[0]).__name__} values, e.g. {wrong[0]!r}"
            )
    for column in schema.columns:
        count = int(frame[column].isna().sum())
        if count and column not in schema.may_be_missing:
            raise ValueError(
                f"Expected no missing values in column {column!r} (only "
                f"{list(schema.may_be_missing)} may be missing). Received: "
                f"{count} NaN/None values"
            )
    return frame.loc[:, list(schema.columns)]


def frame_to_inputs(frame: pd.DataFrame, schema: TabularSchema) -> dict[str, np.ndarray]:
    """One ``(n, 1)`` array per model input: ``float32`` numbers or ``object`` strings.

    Missing categorical values become :data:`MISSING_TOKEN`; missing numbers stay ``NaN`` (the
    model fills them). Call :func:`check_frame` first on data from outside.
    """
    inputs = {}
    for column in schema.numeric:
        values = frame[column].to_numpy("float32", na_value=np.nan)
        inputs[input_name(column)] = values.reshape(-1, 1)
    for column in schema.categorical:
        values = frame[column].astype(object).where(frame[column].notna(), MISSING_TOKEN)
        inputs[input_name(column)] = values.to_numpy(object).reshape(-1, 1)
    return inputs


def make_tabular_dataset(
    inputs: dict[str, np.ndarray],
    labels: Any = None,
    *,
    batch_size: int = 256,
    shuffle: bool = False,
    seed: int = 0,
):
    """A batched ``tf.data.Dataset`` of ``inputs`` (and ``labels``: an array or a dict of them).

    Keras cannot take numpy string arrays directly; string columns become ``tf.string``
    tensors here.

    Example:

    >>> ds = make_tabular_dataset({"sex": np.array([["m"], ["f"]], object)}, np.array([0, 1]))
    >>> [tuple(x["sex"].shape) for x, _ in ds]
    [(2, 1)]
    """
    import tensorflow as tf

    tensors = {
        name: tf.constant(values.astype(str)) if values.dtype == object else tf.constant(values)
        for name, values in inputs.items()
    }
    elements = tensors if labels is None else (tensors, labels)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if shuffle:
        dataset = dataset.shuffle(
            len(next(iter(inputs.values()))), seed=seed, reshuffle_each_iteration=True
        )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _missing_mask(inputs, zero_means_missing: bool):
    missing = keras.ops.isnan(inputs)
    if zero_means_missing:
        missing = keras.ops.logical_or(missing, keras.ops.equal(inputs, 0.0))
    return missing


@keras.saving.register_keras_serializable(package="keras_models")
class FillMissing(layers.Layer):
    """Replace missing values (``NaN``, optionally exact zeros) by ``fill_value``.

    Args:
        fill_value: the value put in place of a missing one (the training median).
        zero_means_missing: treat exact zeros as missing too (a "not measured" placeholder).

    Input shape:
        ``(batch, 1)`` floats.

    Output shape:
        same as the input.

    Example:

    >>> FillMissing(5.0, zero_means_missing=True)(np.array([[np.nan], [0.0], [2.0]])).numpy()
    array([[5.],
           [5.],
           [2.]], dtype=float32)
    """

    def __init__(self, fill_value: float, zero_means_missing: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.fill_value = float(fill_value)
        self.zero_means_missing = bool(zero_means_missing)

    def call(self, inputs):
        inputs = keras.ops.cast(inputs, "float32")
        missing = _missing_mask(inputs, self.zero_means_missing)
        return keras.ops.where(missing, self.fill_value, inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "fill_value": self.fill_value,
            "zero_means_missing": self.zero_means_missing,
        }


@keras.saving.register_keras_serializable(package="keras_models")
class MissingFlag(layers.Layer):
    """1.0 where a value is missing (``NaN``, optionally exact zero), else 0.0.

    Lets a model learn from *whether* a value was measured, which the filled value hides.

    Example:

    >>> MissingFlag()(np.array([[np.nan], [0.0]])).numpy().tolist()
    [[1.0], [0.0]]
    """

    def __init__(self, zero_means_missing: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.zero_means_missing = bool(zero_means_missing)

    def call(self, inputs):
        inputs = keras.ops.cast(inputs, "float32")
        return keras.ops.cast(_missing_mask(inputs, self.zero_means_missing), "float32")

    def get_config(self):
        return {**super().get_config(), "zero_means_missing": self.zero_means_missing}


@keras.saving.register_keras_serializable(package="keras_models")
class Log1p(layers.Layer):
    """``log(1 + x)`` for non-negative, heavy-tailed counts and amounts (negatives clip to 0).

    Example:

    >>> Log1p()(np.array([[0.0], [np.e - 1]])).numpy().round(3).tolist()
    [[0.0], [1.0]]
    """

    def call(self, inputs):
        return keras.ops.log1p(keras.ops.maximum(keras.ops.cast(inputs, "float32"), 0.0))


@dataclass
class FeatureStats:
    """Training-set statistics of every schema column (numpy only; see :func:`encode_inputs`).

    Attributes:
        schema: the schema they were computed for.
        fill_values: median of each ``may_be_missing``/``zero_means_missing`` numeric column.
        means, variances: of each numeric column after filling and ``log1p``.
        vocabularies: sorted distinct values of each categorical column (missing values
            included as :data:`MISSING_TOKEN` when the training data has them).
    """

    schema: TabularSchema
    fill_values: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    variances: dict[str, float] = field(default_factory=dict)
    vocabularies: dict[str, list[str]] = field(default_factory=dict)


def _imputes(schema: TabularSchema, column: str) -> bool:
    return column in schema.may_be_missing or column in schema.zero_means_missing


def fit_feature_stats(frame: pd.DataFrame, schema: TabularSchema) -> FeatureStats:
    """Compute :class:`FeatureStats` on the training frame (never on val/test)."""
    frame = check_frame(frame, schema)
    stats = FeatureStats(schema)
    for column in schema.numeric:
        values = frame[column].to_numpy("float64")
        if _imputes(schema, column):
            missing = np.isnan(values)
            if column in schema.zero_means_missing:
                missing |= values == 0.0
            if missing.all():
                raise ValueError(
                    f"Expected some observed values in column {column!r}. "
                    f"Received: all {len(values)} missing"
                )
            stats.fill_values[column] = float(np.median(values[~missing]))
            values = np.where(missing, stats.fill_values[column], values)
        if column in schema.log_scale:
            values = np.log1p(np.maximum(values, 0.0))
        stats.means[column] = float(values.mean())
        stats.variances[column] = float(max(values.var(), 1e-12))
    for column in schema.categorical:
        values = frame[column].astype(object).where(frame[column].notna(), MISSING_TOKEN)
        stats.vocabularies[column] = sorted({str(v) for v in values})
    return stats


def encode_inputs(stats: FeatureStats) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """Fresh ``keras.Input``\\ s (one per column) and their encoded, concatenated features.

    Numeric column: [:class:`FillMissing`] → [:class:`Log1p`] → ``Normalization`` (training
    mean and variance), followed by its :class:`MissingFlag` (unscaled) if it may be missing.
    Categorical column: ``StringLookup`` one-hot (index 0 is the out-of-vocabulary slot).

    Returns:
        ``(inputs, encoded)``: the dict to pass as ``keras.Model(inputs, ...)`` and a
        ``(batch, n_features)`` float tensor.
    """
    schema = stats.schema
    inputs: dict[str, keras.KerasTensor] = {}
    parts = []
    for column in schema.numeric:
        name = input_name(column)
        tensor = inputs[name] = keras.Input(shape=(1,), dtype="float32", name=name)
        flag = None
        if _imputes(schema, column):
            zeros = column in schema.zero_means_missing
            flag = MissingFlag(zeros, name=f"{name}_missing")(tensor)
            tensor = FillMissing(stats.fill_values[column], zeros, name=f"{name}_fill")(tensor)
        if column in schema.log_scale:
            tensor = Log1p(name=f"{name}_log1p")(tensor)
        parts.append(
            layers.Normalization(
                mean=stats.means[column], variance=stats.variances[column], name=f"{name}_norm"
            )(tensor)
        )
        if flag is not None:
            parts.append(flag)
    for column in schema.categorical:
        name = input_name(column)
        tensor = inputs[name] = keras.Input(shape=(1,), dtype="string", name=name)
        parts.append(
            layers.StringLookup(
                vocabulary=stats.vocabularies[column], output_mode="one_hot", name=f"{name}_lookup"
            )(tensor)
        )
    encoded = parts[0] if len(parts) == 1 else layers.Concatenate(name="features")(parts)
    return inputs, encoded


def encoded_feature_names(stats: FeatureStats) -> list[str]:
    """Names of the columns of :func:`encode_inputs`' output, in order (for coefficients).

    Example:

    >>> schema = TabularSchema(numeric=("age",), categorical=("sex",))
    >>> stats = fit_feature_stats(pd.DataFrame({"age": [1.0], "sex": ["f"]}), schema)
    >>> encoded_feature_names(stats)
    ['age', 'sex=[OOV]', 'sex=f']
    """
    schema = stats.schema
    names = []
    for column in schema.numeric:
        names.append(f"log1p({column})" if column in schema.log_scale else column)
        if _imputes(schema, column):
            names.append(f"{column} missing")
    for column in schema.categorical:
        names += [f"{column}=[OOV]"] + [
            f"{column}={v or '[missing]'}" for v in stats.vocabularies[column]
        ]
    return names


def predict_frame(
    model: keras.Model, frame: Any, schema: TabularSchema, batch_size: int = 1024
) -> Any:
    """Check ``frame`` and return ``model``'s predictions (an array, or a dict for many heads).

    Example:

    >>> schema = TabularSchema(numeric=("age",), categorical=("sex",))
    >>> frame = pd.DataFrame({"age": [30.0, 50.0], "sex": ["f", "m"]})
    >>> inputs, features = encode_inputs(fit_feature_stats(frame, schema))
    >>> model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(features))
    >>> predict_frame(model, frame, schema).shape
    (2, 1)
    >>> predict_frame(model, frame.assign(age=["?", "?"]), schema)
    Traceback (most recent call last):
    ...
    TypeError: Expected numeric values in column 'age'. Received: dtype=..., e.g. '?'
    """
    checked = check_frame(frame, schema)
    dataset = make_tabular_dataset(frame_to_inputs(checked, schema), batch_size=batch_size)
    return model.predict(dataset, verbose=0)
