import dataclasses
import json

import keras_tuner
import pytest

from keras_models.binary import PIMA_SCHEMA, PimaConfig, build_model, load_pima, tune_pima
from keras_models.tabular import TabularSplits, fit_feature_stats
from keras_models.tuning import BEST_FILE, apply_hyperparameters


def _small_pima() -> TabularSplits:
    splits = load_pima()
    return dataclasses.replace(
        splits, train_frame=splits.train_frame.iloc[:120], train_y=splits.train_y[:120]
    )


def test_tiny_random_search_saves_the_best_trial_and_resumes(tmp_path):
    splits = _small_pima()
    search = tune_pima(tmp_path, max_trials=2, epochs=2, splits=splits)
    assert len(search.trials) == 2
    assert search.trials[0]["score"] >= search.trials[1]["score"]
    assert search.best_values["batch_size"] in (16, 32, 64)
    saved = json.loads((tmp_path / "pima_tuner" / BEST_FILE).read_text())
    assert saved["best_values"] == search.best_values
    assert any((tmp_path / "pima_tuner" / "tensorboard").rglob("events.out.tfevents.*"))
    again = tune_pima(tmp_path, max_trials=2, epochs=2, splits=splits)  # reloads, trains nothing
    assert again.trials == search.trials
    config = apply_hyperparameters(PimaConfig(), search.best_values)
    assert config.units == search.best_values["units"] and config.epochs == PimaConfig().epochs


def test_build_model_samples_a_valid_config():
    stats = fit_feature_stats(load_pima().train_frame, PIMA_SCHEMA)
    hp = keras_tuner.HyperParameters()
    model = build_model(hp, stats)
    assert model.output_shape == (None, 1)
    assert {"units", "layers", "dropout", "l2", "learning_rate"} <= set(hp.values)


def test_unknown_search_kind_is_rejected(tmp_path):
    from keras_models.tuning import run_search

    with pytest.raises(ValueError, match="kind='random' or 'hyperband'"):
        run_search(None, tmp_path, "x", kind="grid")


def test_hyperband_search_runs_and_its_bookkeeping_is_not_a_config_field(tmp_path):
    search = tune_pima(tmp_path, epochs=2, kind="hyperband", splits=_small_pima())
    assert search.trials and "tuner/epochs" in search.best_values
    config = apply_hyperparameters(PimaConfig(), search.best_values)
    assert config.optimizer == search.best_values["optimizer"]
