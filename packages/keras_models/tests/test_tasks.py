"""The harness contract: a grade function returns a TaskResult and reuses its cache."""

import dataclasses

import pytest

from a2common.grading import TaskContext, TaskResult
from keras_models import recipe_runs, recipes, tasks


@pytest.fixture
def tiny_mlp(monkeypatch):
    recipe = dataclasses.replace(
        recipes.RECIPES["mnist_mlp"], quick_train_size=1000, quick_test_size=500, quick_epochs=2
    )
    monkeypatch.setitem(recipes.RECIPES, "mnist_mlp", recipe)


def _accuracy(result):
    from a2common.data import load_dataset

    labels = load_dataset("mnist").test.y
    return float((result.predictions.argmax(axis=1) == labels).mean())


def test_grade_mnist_mlp_quick_predicts_the_whole_test_split_then_reuses(tiny_mlp, tmp_path):
    context = TaskContext(quick=True, seed=0, work_dir=tmp_path)
    first = tasks.grade_mnist_mlp(context)
    assert isinstance(first, TaskResult) and first.predictions.shape == (10000, 10)
    assert _accuracy(first) > 0.6 and first.epochs == 2
    assert not set(first.details) & {"test_loss", "test_accuracy_single_view", "test_ece"}
    assert (tmp_path / first.model_files[0]).is_file() and not first.card.missing_sections()
    second = tasks.grade_mnist_mlp(context)
    assert second.predictions == pytest.approx(first.predictions)
    assert second.train_seconds == pytest.approx(first.train_seconds)


def test_shuffled_labels_make_a_chance_level_model(tiny_mlp, tmp_path):
    result = tasks.grade_mnist_mlp(
        TaskContext(quick=True, seed=0, work_dir=tmp_path, params={"shuffle_labels": True})
    )
    assert _accuracy(result) < 0.3
    assert result.details["shuffled_labels"] is True
    assert "shuffled" in result.details["run_dir"]


def test_every_graded_task_is_exported():
    from keras_models import speedrun_tasks

    assert set(tasks.GRADED_TASKS) == {"mnist_mlp"}
    assert set(speedrun_tasks.GRADED_TASKS) == {"mnist_cnn", "fashion_cnn", "cifar10_cnn"}
    every = [*tasks.GRADED_TASKS.values(), *speedrun_tasks.GRADED_TASKS.values()]
    assert all(callable(task) for task in every)


def test_tasks_still_exports_what_notebooks_import_from_it():
    """Notebooks import the recipes and the runner from ``keras_models.tasks``."""
    assert tasks.RECIPES is recipes.RECIPES and tasks.Recipe is recipes.Recipe
    assert tasks.build_recipe_model is recipes.build_recipe_model
    assert tasks.run_recipe is recipe_runs.run_recipe
    assert tasks.TrainedModel is recipe_runs.TrainedModel
    assert tasks.default_work_dir is recipe_runs.default_work_dir
