"""The seed-000 graded tasks: whole test split in the loader's order, training facts, reuse."""

import ast
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from a2common.data import load_split
from a2common.grading import TaskContext, TaskResult, dump_json
from keras_models import seed000_tasks
from keras_models.cifar7 import CLASSES

_QUICK = {
    problem: seed000_tasks.graded_config(problem, quick=True) for problem in seed000_tasks.PROBLEMS
}
# Tiny variants so each test trains in seconds; the tasks still predict the whole test split.
_TINY = {
    "pima": dataclasses.replace(_QUICK["pima"], epochs=2),
    "adult": dataclasses.replace(_QUICK["adult"], epochs=1),
    "wine": dataclasses.replace(_QUICK["wine"], epochs=1),
    "cifar7": dataclasses.replace(
        _QUICK["cifar7"], filters=(4,), epochs=1, train_per_class=5, val_per_class=2
    ),
}
# What the registry grades each task on (harness/src/autograder/registry.py): {head: labels}.
_GRADED = {
    "keras_pima_binary": {"output": ("pima_diabetes", None)},
    "keras_cifar7_cnn": {"output": ("cifar10", CLASSES)},
    "keras_adult_logistic": {"output": ("adult", None)},
    "keras_wine_multihead": {
        "colour": ("wine_colour", None),
        "quality_band": ("wine_quality_band", None),
    },
}
_SCORES = ("accuracy", "roc_auc", "f1", "auc", "score", "test_loss")


@pytest.fixture
def tiny(monkeypatch):
    full_config = seed000_tasks.graded_config
    monkeypatch.setattr(
        seed000_tasks,
        "graded_config",
        lambda problem, quick=False: _TINY[problem] if quick else full_config(problem),
    )


def _check(result: TaskResult, task: str, work_dir) -> None:
    predictions = result.prediction_arrays()
    assert set(predictions) == set(_GRADED[task])
    for head, (dataset, classes) in _GRADED[task].items():
        labels, names = load_split(dataset, "test", classes)
        expected = (len(labels),) if len(names) == 2 else (len(labels), len(names))
        assert predictions[head].shape == expected, head
        assert np.all((predictions[head] >= 0) & (predictions[head] <= 1)), head
    assert result.epochs == len(result.history["loss"]) >= 1 and result.parameters > 0
    assert any(name.endswith("macro_f1") for name in result.history)
    assert (work_dir / result.model_files[0]).is_file()
    assert any((work_dir / result.details["tensorboard_dir"]).rglob("events.out.tfevents.*"))
    assert not result.card.missing_sections() and result.card.architecture
    json.loads(dump_json(result.details))  # strict JSON
    flat = json.dumps(result.details).lower()
    assert not any(f'"{name}"' in flat or f'"test_{name}' in flat for name in _SCORES)


@pytest.mark.parametrize("task", ["keras_pima_binary", "keras_wine_multihead"])
def test_quick_task_predicts_the_whole_test_split_then_reuses_its_model(tiny, tmp_path, task):
    grade = seed000_tasks.GRADED_TASKS[task]
    context = TaskContext(quick=True, seed=0, work_dir=tmp_path)
    first = grade(context)
    _check(first, task, tmp_path)
    second = grade(context)
    for head, values in first.prediction_arrays().items():
        np.testing.assert_allclose(second.prediction_arrays()[head], values, rtol=1e-6)
    assert second.train_seconds == pytest.approx(first.train_seconds)
    assert second.history == first.history


def test_adult_task_reports_the_sklearn_comparison_but_no_score(tiny, tmp_path):
    result = seed000_tasks.grade_adult(TaskContext(quick=True, seed=0, work_dir=tmp_path))
    _check(result, "keras_adult_logistic", tmp_path)
    comparison = result.details["sklearn"]
    assert 0.9 <= comparison["prediction_agreement"] <= 1.0
    assert comparison["C"] == _TINY["adult"].C


def test_cifar7_task_predicts_the_7000_graded_photos(tiny, tmp_path):
    result = seed000_tasks.grade_cifar7(TaskContext(quick=True, seed=0, work_dir=tmp_path))
    _check(result, "keras_cifar7_cnn", tmp_path)
    assert result.details["classes"] == list(CLASSES) and result.details["train_images"] == 35


def test_quick_and_full_variants_differ_and_the_four_tasks_are_exported():
    assert set(seed000_tasks.GRADED_TASKS) == set(_GRADED)
    for problem in seed000_tasks.PROBLEMS:
        full = seed000_tasks.graded_config(problem)
        assert _QUICK[problem].epochs < full.epochs and type(_QUICK[problem]) is type(full)
    with pytest.raises(ValueError, match="Expected a problem in"):
        seed000_tasks.graded_config("titanic")


def test_a_task_imports_only_its_own_problem_module():
    """The autograder keys a run by the files its process imported: keep them to one problem."""
    code = (
        "import sys\n"
        "from keras_models import seed000_tasks\n"
        "seed000_tasks.graded_config('wine')\n"
        "print(sorted(m for m in sys.modules if m.startswith('keras_models.')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    imported = set(ast.literal_eval(output.strip().splitlines()[-1]))
    assert "keras_models.multihead" in imported
    assert not imported & {
        "keras_models.binary",
        "keras_models.cifar7",
        "keras_models.logistic",
        "keras_models.tasks",
        "keras_models.models",
    }
