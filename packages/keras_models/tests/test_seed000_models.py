"""The four seed-000 models: data preparation, model building, predict input checks, training."""

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest

from a2common.data import load_dataset, load_split
from keras_models.binary import (
    PIMA_SCHEMA,
    PimaConfig,
    build_pima_model,
    load_pima,
    predict_pima,
    train_pima,
)
from keras_models.cifar7 import (
    CLASSES,
    Cifar7Config,
    ImageSplits,
    build_cifar7_model,
    check_images,
    load_cifar7,
    predict_cifar7,
    train_cifar7,
)
from keras_models.logistic import (
    ADULT_SCHEMA,
    UNIT_NAME,
    LogisticConfig,
    build_logistic_model,
    compare_with_sklearn,
    l2_for_C,
    load_adult,
    train_logistic,
)
from keras_models.multihead import (
    DATASETS,
    WINE_SCHEMA,
    WineConfig,
    build_wine_model,
    load_wine,
    predict_wine,
    train_wine,
)
from keras_models.tabular import TabularSplits, fit_feature_stats


@pytest.fixture(scope="module")
def adult():
    return load_adult()


def _small(splits: TabularSplits, n: int) -> TabularSplits:
    """The first ``n`` rows of train/val/test (reindexed), for fast tests."""

    def head(frame):
        return frame.iloc[:n].reset_index(drop=True)

    return TabularSplits(
        head(splits.train_frame),
        splits.train_y[:n],
        head(splits.val_frame),
        splits.val_y[:n],
        head(splits.test_frame),
        splits.test_y[:n],
        splits.class_names,
    )


# --- (a) Pima: binary cross-entropy ---------------------------------------------------------


def test_pima_splits_are_the_loaders_and_zeros_are_missing():
    splits = load_pima()
    sizes = len(splits.train_frame), len(splits.val_frame), len(splits.test_frame)
    assert sizes == (537, 77, 154)
    assert splits.train_frame.columns.tolist() == list(PIMA_SCHEMA.numeric)
    stats = fit_feature_stats(splits.train_frame, PIMA_SCHEMA)
    insulin = splits.train_frame["Insulin"]
    assert stats.fill_values["Insulin"] == np.median(insulin[insulin > 0])


def test_pima_model_shapes_and_layers():
    stats = fit_feature_stats(load_pima().train_frame, PIMA_SCHEMA)
    model = build_pima_model(stats, PimaConfig(units=16, layers=2, dropout=0.3))
    assert model.output_shape == (None, 1) and len(model.inputs) == 8
    head = model.get_layer("mlp")
    assert isinstance(head, keras.Sequential)
    dense = [layer for layer in head.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [16, 8, 1]
    assert head.layers[0].kernel_regularizer.l2 == pytest.approx(PimaConfig().l2)


def test_pima_trains_saves_and_predicts_raw_rows(tmp_path):
    splits = _small(load_pima(), 60)
    result = train_pima(tmp_path, PimaConfig(epochs=2, units=8), splits=splits, verbose=0)
    assert result.test_probabilities.shape == (60,)
    assert len(result.history["val_macro_f1"]) == len(result.history["loss"]) == 2
    assert (result.work_dir / "model.keras").is_file()
    assert any((result.work_dir / "tensorboard").rglob("events.out.tfevents.*"))
    loaded = keras.saving.load_model(result.work_dir / "model.keras")
    row = splits.test_frame.iloc[:2].copy()
    row.loc[0, "Insulin"] = np.nan  # not measured: allowed
    np.testing.assert_allclose(
        predict_pima(loaded, row), predict_pima(result.model, row), rtol=1e-5
    )
    again = train_pima(tmp_path, PimaConfig(epochs=2, units=8), splits=splits, verbose=0)
    assert again.history == result.history  # loaded from the cache, not retrained


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda f: f.drop(columns=["Glucose"]), ValueError, r"missing \['Glucose'\]"),
        (lambda f: f.assign(Age=np.nan), ValueError, "no missing values in column 'Age'"),
        (lambda f: f.assign(BMI="33.1"), TypeError, "numeric values in column 'BMI'"),
    ],
)
def test_predict_pima_rejects_bad_frames(change, error, message):
    stats = fit_feature_stats(load_pima().train_frame, PIMA_SCHEMA)
    model = build_pima_model(stats)
    frame = load_pima().test_frame.iloc[:3]
    with pytest.raises(error, match=message):
        predict_pima(model, change(frame))


# --- (b) 7 CIFAR-10 classes: sparse categorical cross-entropy --------------------------------


def _tiny_images(n_per_class: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(CLASSES)), n_per_class)
    images = rng.integers(0, 256, size=(len(labels), 32, 32, 3), dtype=np.uint8)
    images[..., 0] = (labels * 36)[:, None, None]  # the red channel gives the class away
    return images, labels


def test_cifar7_test_rows_are_the_ones_the_autograder_grades():
    splits = load_cifar7(train_per_class=5, val_per_class=2)
    graded, names = load_split("cifar10", "test", classes=CLASSES)
    assert names == list(CLASSES) and np.array_equal(splits.test_y, graded.y)
    assert np.array_equal(splits.test_x, graded.x) and len(graded) == 7000
    full = load_dataset("cifar10").test
    assert np.array_equal(full.x[splits.test_index], splits.test_x)
    assert np.bincount(splits.train_y).tolist() == [5] * 7


def test_cifar7_model_is_sequential_with_preprocessing_inside():
    model = build_cifar7_model(Cifar7Config(filters=(8, 16)))
    assert isinstance(model, keras.Sequential)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 7)
    assert isinstance(model.layers[0], keras.layers.Rescaling)
    assert model.loss.__class__.__name__ == "SparseCategoricalCrossentropy"


def test_cifar7_trains_on_tiny_images(tmp_path):
    images, labels = _tiny_images(8)
    splits = ImageSplits(
        images,
        labels,
        images[::2],
        labels[::2],
        images[1::2],
        labels[1::2],
        list(CLASSES),
        np.arange(len(labels))[1::2],
    )
    config = Cifar7Config(filters=(4, 8), epochs=1, batch_size=16)
    result = train_cifar7(tmp_path, config, splits=splits, verbose=0)
    assert result.test_probabilities.shape == (28, 7)
    np.testing.assert_allclose(result.test_probabilities.sum(-1), 1.0, rtol=1e-5)
    assert "val_macro_f1" in result.history


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 32, 32), np.uint8), r"\(n, 32, 32, 3\)"),
        (np.zeros((2, 64, 64, 3), np.uint8), r"Received: images.shape=\(2, 64, 64, 3\)"),
        (np.zeros((2, 3072), np.uint8), r"\(n, 32, 32, 3\)"),
        (np.full((1, 32, 32, 3), np.nan, np.float32), "finite"),
        (np.full((1, 32, 32, 3), "a"), "numeric"),
        (np.full((1, 32, 32, 3), 200.0, np.float32), r"\[0, 1\]"),
    ],
)
def test_cifar7_predict_rejects_bad_images(images, message):
    with pytest.raises(ValueError, match=message):
        check_images(images)


def test_cifar7_predict_accepts_uint8_and_unit_floats_alike():
    model = build_cifar7_model(Cifar7Config(filters=(4,)))
    images, _ = _tiny_images(1)
    from_uint8 = predict_cifar7(model, images)
    np.testing.assert_allclose(predict_cifar7(model, images / 255.0), from_uint8, atol=1e-5)
    assert predict_cifar7(model, images[0]).shape == (1, 7)


# --- (c) Adult: logistic regression -----------------------------------------------------------


def test_logistic_model_is_one_unit_on_the_encoded_features(adult):
    splits = _small(adult, 300)
    stats = fit_feature_stats(splits.train_frame, ADULT_SCHEMA)
    model = build_logistic_model(stats, LogisticConfig(C=0.5), n_train=300)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.name for layer in dense] == [UNIT_NAME] and dense[0].units == 1
    width = model.get_layer(UNIT_NAME).kernel.shape[0]
    assert model.count_params() - _non_trainable(model) == width + 1
    assert dense[0].kernel_regularizer.l2 == pytest.approx(l2_for_C(0.5, 300)) == 1 / 300


def _non_trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)


def test_logistic_matches_sklearn_on_a_small_slice(tmp_path, adult):
    splits = _small(adult, 800)
    config = LogisticConfig(epochs=12, batch_size=100, learning_rate=0.1, patience=12)
    result = train_logistic(tmp_path, config, splits=splits, verbose=0)
    comparison = compare_with_sklearn(result.model, splits, C=config.C)
    assert abs(comparison.accuracy_gap) <= 0.03
    assert comparison.agreement >= 0.95 and comparison.logit_correlation > 0.97
    assert comparison.centered_coefficient_correlation > 0.8
    assert len(comparison.feature_names) == len(comparison.keras_coefficients)
    assert comparison.top_coefficients(3)[0][0] in comparison.feature_names


# --- (d) Wine: two heads ----------------------------------------------------------------------


def test_wine_labels_are_the_loaders_wine_colour_and_quality_band():
    wine = load_wine()
    for split, labels, frame in [
        ("train", wine.train_labels, wine.tables.train_frame),
        ("val", wine.val_labels, wine.tables.val_frame),
        ("test", wine.test_labels, wine.tables.test_frame),
    ]:
        for head, dataset in DATASETS.items():
            graded, _ = load_split(dataset, split)
            assert np.array_equal(labels[head], graded.y), (split, head)
            np.testing.assert_array_equal(frame.to_numpy(float), graded.x)


def test_wine_splits_stack_red_then_white():
    wine = load_wine()
    red, white = load_dataset("wine_red"), load_dataset("wine_white")
    assert len(wine.tables.test_frame) == len(red.test.y) + len(white.test.y)
    assert wine.test_labels["colour"][: len(red.test.y)].sum() == 0
    np.testing.assert_allclose(
        wine.tables.test_frame.iloc[0].to_numpy(float), red.test.x[0].astype(float)
    )


def test_wine_model_has_two_heads_with_their_own_losses():
    stats = fit_feature_stats(load_wine().tables.train_frame, WINE_SCHEMA)
    model = build_wine_model(stats, WineConfig(units=16))
    outputs = {
        name: tuple(model.get_layer(name).output.shape) for name in ("colour", "quality_band")
    }
    assert outputs == {"colour": (None, 1), "quality_band": (None, 3)}
    assert set(model.loss) == {"colour", "quality_band"}


def test_wine_trains_and_predicts_both_heads(tmp_path):
    wine = load_wine()
    keep = np.r_[0:40, len(wine.tables.train_frame) - 40 : len(wine.tables.train_frame)]

    def take(frame, labels, rows):
        return frame.iloc[rows].reset_index(drop=True), {k: v[rows] for k, v in labels.items()}

    train_frame, train_labels = take(wine.tables.train_frame, wine.train_labels, keep)
    small = dataclasses.replace(
        wine,
        train_labels=train_labels,
        tables=dataclasses.replace(
            wine.tables, train_frame=train_frame, train_y=train_labels["quality_band"]
        ),
    )
    result = train_wine(tmp_path, WineConfig(epochs=1, units=8), splits=small, verbose=0)
    n_test = len(wine.tables.test_frame)
    assert result.test_probabilities["colour"].shape == (n_test,)
    assert result.test_probabilities["quality_band"].shape == (n_test, 3)
    assert "val_quality_band_macro_f1" in result.history
    with pytest.raises(ValueError, match=r"missing \['alcohol'\]"):
        predict_wine(result.model, wine.tables.test_frame.drop(columns=["alcohol"]))
    with pytest.raises(TypeError, match="DataFrame"):
        predict_wine(result.model, pd.Series([1.0]))
