"""The graded task functions, on synthetic blobs instead of AdrenalMNIST3D (seconds)."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import conv3d.tasks as tasks
from a2common.data import Dataset, Split
from a2common.grading import TaskContext, TaskResult

TINY = {
    "channels": [4, 8],
    "epochs": 6,
    "batch_size": 16,
    "learning_rate": 1e-2,
    "num_threads": 1,
    "progress": False,
}


@pytest.fixture
def fake_data(monkeypatch, blobs):
    """``load_dataset`` of the tasks returns the blobs (train 64, val 24, test 24 volumes)."""
    splits = {name: Split(*blobs[name]) for name in ("train", "val", "test")}
    requested = []

    def load_dataset(name):
        requested.append(name)
        return Dataset(
            name, splits["train"], splits["test"], splits["val"], ["normal", "hyperplasia"], {}
        )

    monkeypatch.setattr(tasks, "load_dataset", load_dataset)
    return requested


def context(tmp_path, quick=False, seed=0, **params):
    return TaskContext(
        quick=quick, seed=seed, work_dir=tmp_path / "work", params={**TINY, **params}
    )


def check_result(result, blobs, work_dir):
    test_x, test_y = blobs["test"]
    assert isinstance(result, TaskResult)
    assert result.predictions.shape == (len(test_y),)
    assert np.all((result.predictions >= 0) & (result.predictions <= 1))
    assert all((work_dir / name).is_file() for name in result.model_files)
    assert result.card.missing_sections() == []
    assert len(result.history["loss"]) == result.epochs
    json.dumps(result.details)  # JSON-ready for result.json
    return roc_auc_score(test_y, result.predictions)


def test_configs_take_params_seed_and_quick(tmp_path):
    ctx = context(tmp_path, seed=3, model="resnet", dropout=0.1)
    config = tasks.torch_config(ctx)
    assert (
        config.model,
        config.channels,
        config.dropout,
        config.epochs,
        config.seed,
        config.num_threads,
    ) == ("resnet", (4, 8), 0.1, 6, 3, 1)
    assert tasks.torch_config(context(tmp_path, quick=True, epochs=20)).epochs == tasks.QUICK_EPOCHS
    assert tasks.torch_config(context(tmp_path, quick=True, epochs=1)).epochs == 1


@pytest.mark.parametrize(
    "params, message",
    [({"epoch": 3}, "Unknown task parameters"), ({"dataset": "mnist"}, "params\\['dataset'\\]")],
)
def test_bad_params_raise_clear_errors(tmp_path, params, message):
    with pytest.raises(ValueError, match=message):
        tasks.torch_config(TaskContext(quick=False, seed=0, work_dir=tmp_path, params=params))


def test_quick_variant_trains_on_a_subset_and_shuffle_permutes_labels(
    tmp_path, fake_data, blobs, monkeypatch
):
    monkeypatch.setattr(tasks, "QUICK_TRAIN_VOLUMES", 40)
    _, (train_x, train_y, *_, test_x) = tasks._training_data(context(tmp_path, quick=True))
    assert len(train_x) == len(train_y) == 40 and len(test_x) == len(blobs["test"][1])
    _, (_, shuffled, *_) = tasks._training_data(context(tmp_path, shuffle_labels=True))
    assert sorted(shuffled) == sorted(blobs["train"][1])
    assert not np.array_equal(shuffled, blobs["train"][1])


def test_grade_torch_learns_and_reloads_the_finished_model(tmp_path, fake_data, blobs):
    ctx = context(tmp_path)
    result = tasks.grade_torch(ctx)
    assert check_result(result, blobs, ctx.work_dir) > 0.85
    assert fake_data == ["adrenalmnist3d"]
    assert result.details["framework"] == "pytorch" and not result.details["from_cache"]
    assert result.details["train_cpu_seconds"] > 0

    again = tasks.grade_torch(ctx)
    assert again.details["from_cache"]
    np.testing.assert_allclose(again.predictions, result.predictions, atol=1e-6)
    assert again.details["train_cpu_seconds"] == result.details["train_cpu_seconds"]
    assert again.train_seconds == pytest.approx(result.train_seconds)


def test_grade_keras_learns_and_reloads_the_finished_model(tmp_path, fake_data, blobs):
    ctx = context(tmp_path, epochs=5)
    result = tasks.grade_keras(ctx)
    assert check_result(result, blobs, ctx.work_dir) > 0.85
    assert result.model_files == ["model.keras"]
    again = tasks.grade_keras(ctx)
    assert again.details["from_cache"]
    np.testing.assert_allclose(again.predictions, result.predictions, atol=1e-5)


def test_card_marks_the_quick_variant():
    config = tasks.torch_config(TaskContext(quick=True, seed=0, work_dir=None))
    assert "QUICK" in tasks.model_card("pytorch", config, "adrenalmnist3d", 512).overview
    full = tasks.model_card("keras", config, "adrenalmnist3d")
    assert "QUICK" not in full.overview and "1,188" in full.training_data
