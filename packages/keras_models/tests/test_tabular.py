import keras
import numpy as np
import pandas as pd
import pytest

from keras_models.tabular import (
    FillMissing,
    Log1p,
    MissingFlag,
    TabularSchema,
    check_frame,
    encode_inputs,
    encoded_feature_names,
    fit_feature_stats,
    frame_to_inputs,
    input_name,
    make_tabular_dataset,
    predict_frame,
    split_to_frame,
)

SCHEMA = TabularSchema(
    numeric=("age", "glucose", "income"),
    categorical=("city",),
    may_be_missing=("age", "glucose", "city"),
    zero_means_missing=("glucose",),
    log_scale=("income",),
)


def _frame():
    return pd.DataFrame(
        {
            "age": [20.0, np.nan, 40.0, 60.0],
            "glucose": [100.0, 0.0, 120.0, np.nan],
            "income": [0.0, 10.0, 1000.0, 5.0],
            "city": ["Oslo", None, "Rome", "Oslo"],
        }
    )


def test_schema_rejects_unknown_and_non_numeric_columns():
    with pytest.raises(ValueError, match="may_be_missing"):
        TabularSchema(numeric=("a",), may_be_missing=("b",))
    with pytest.raises(ValueError, match="numeric"):
        TabularSchema(numeric=("a",), categorical=("c",), log_scale=("c",))
    with pytest.raises(ValueError, match="once"):
        TabularSchema(numeric=("a",), categorical=("a",))


def test_split_to_frame_types_columns_and_keeps_row_order():
    x = np.array([[1.0, "x", 9.0], [np.nan, None, 8.0]], dtype=object)
    frame = split_to_frame(
        x, ["n", "c", "unused"], TabularSchema(numeric=("n",), categorical=("c",))
    )
    assert frame.columns.tolist() == ["n", "c"]
    assert frame["n"].dtype == np.float64 and np.isnan(frame["n"][1])
    assert frame["c"][0] == "x" and frame["c"].isna().tolist() == [False, True]


def test_feature_stats_ignore_missing_and_placeholder_zeros():
    stats = fit_feature_stats(_frame(), SCHEMA)
    assert stats.fill_values == {"age": 40.0, "glucose": 110.0}
    assert stats.vocabularies["city"] == ["", "Oslo", "Rome"]  # "" = missing
    np.testing.assert_allclose(stats.means["income"], np.log1p([0, 10, 1000, 5]).mean())


def test_custom_layers_fill_flag_and_log_and_serialise():
    values = np.array([[np.nan], [0.0], [3.0]], dtype="float32")
    np.testing.assert_allclose(FillMissing(7.0)(values).numpy().ravel(), [7.0, 0.0, 3.0])
    np.testing.assert_allclose(FillMissing(7.0, True)(values).numpy().ravel(), [7.0, 7.0, 3.0])
    np.testing.assert_allclose(MissingFlag(True)(values).numpy().ravel(), [1.0, 1.0, 0.0])
    np.testing.assert_allclose(
        Log1p()(np.array([[-1.0], [3.0]])).numpy().ravel(), [0.0, np.log(4.0)], rtol=1e-6
    )
    clone = FillMissing.from_config(FillMissing(2.5, True, name="f").get_config())
    assert clone.fill_value == 2.5 and clone.zero_means_missing


def test_encoded_width_matches_feature_names():
    stats = fit_feature_stats(_frame(), SCHEMA)
    inputs, encoded = encode_inputs(stats)
    names = encoded_feature_names(stats)
    # age + flag, glucose + flag, log1p(income), city one-hot: OOV, missing, Oslo, Rome
    assert names[:5] == ["age", "age missing", "glucose", "glucose missing", "log1p(income)"]
    assert encoded.shape[-1] == len(names) == 9
    assert sorted(inputs) == ["age", "city", "glucose", "income"]
    assert input_name("education-num") == "education_num"


def test_saved_model_runs_on_raw_rows_with_missing_values(tmp_path):
    frame = _frame()
    stats = fit_feature_stats(frame, SCHEMA)
    inputs, encoded = encode_inputs(stats)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(encoded))
    model.compile("adam", "binary_crossentropy")
    model.fit(
        make_tabular_dataset(frame_to_inputs(frame, SCHEMA), np.array([0, 1, 0, 1])),
        epochs=1,
        verbose=0,
        shuffle=False,
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    raw = frame.assign(city=["Oslo", "Paris", None, "Rome"])  # an unseen city and a missing one
    expected = predict_frame(model, raw, SCHEMA)
    np.testing.assert_allclose(predict_frame(loaded, raw, SCHEMA), expected, rtol=1e-5)
    assert expected.shape == (4, 1) and np.all(np.isfinite(expected))


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda f: f.drop(columns=["income"]), ValueError, r"missing \['income'\]"),
        (lambda f: f.assign(income=["1", "2", "3", "4"]), TypeError, "numeric values in column"),
        (lambda f: f.assign(income=[1.0, np.nan, 2.0, 3.0]), ValueError, "no missing values"),
        (lambda f: f.assign(income=[1.0, np.inf, 2.0, 3.0]), ValueError, "finite"),
        (lambda f: f.assign(city=[1, 2, 3, 4]), TypeError, "strings in categorical column 'city'"),
        (lambda f: f.iloc[:0], ValueError, "at least one row"),
        (lambda f: f.to_numpy(), TypeError, "pandas.DataFrame"),
    ],
)
def test_check_frame_errors_say_what_was_expected_and_received(change, error, message):
    with pytest.raises(error, match=message):
        check_frame(change(_frame()), SCHEMA)


def test_nullable_integers_and_pandas_strings_are_accepted():
    frame = _frame().assign(
        age=pd.array([20, None, 40, 60], dtype="Int64"),
        city=pd.array(["Oslo", None, "Rome", "Oslo"], dtype="string"),
    )
    inputs = frame_to_inputs(check_frame(frame, SCHEMA), SCHEMA)
    assert np.isnan(inputs["age"][1, 0]) and inputs["age"].dtype == np.float32
    assert inputs["city"][:, 0].tolist() == ["Oslo", "", "Rome", "Oslo"]


def test_check_frame_ignores_extra_columns_and_accepts_integers():
    frame = _frame().assign(income=[1, 2, 3, 4], target=[0, 1, 0, 1])
    assert check_frame(frame, SCHEMA).columns.tolist() == ["age", "glucose", "income", "city"]
