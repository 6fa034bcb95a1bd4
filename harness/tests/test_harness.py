"""The harness grades honestly: passes, fails, crashes, time-outs and bad data all get an entry."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from autograder.registry import TASKS, Task
from autograder.results import build_results, render_report, write_results
from autograder.runner import cache_key, run_task

TESTS_DIR = Path(__file__).parent


def fake(name: str, entry: str, *, required: float = 0.8, params: dict | None = None) -> Task:
    return Task(name=name, title=f"fake {name}", package="common",
                entry=f"fake_tasks:{entry}", datasets=("mnist",), metric="accuracy",
                required=required, target=0.9, budget_s=60, quick_budget_s=60,
                params=params or {})


@pytest.fixture
def grade(tmp_path):
    def run(task: Task, timeout_s: float | None = None, env: dict | None = None):
        old = dict(os.environ)
        os.environ.update(env or {})
        try:
            return run_task(task, quick=False, seed=0, cache_root=tmp_path / "cache",
                            log_dir=tmp_path / "logs", extra_pythonpath=[str(TESTS_DIR)],
                            timeout_s=timeout_s)
        finally:
            os.environ.clear()
            os.environ.update(old)
    return run


def test_a_working_task_passes_and_is_cached(grade):
    task = fake("digits", "grade_digits")
    first = grade(task)
    assert first.status == "passed", first.message
    assert first.value > 0.85 and not first.from_cache
    second = grade(task)
    assert second.from_cache and second.value == first.value


def test_shuffled_labels_mutation_fails(grade):
    outcome = grade(fake("digits_shuffled", "grade_digits", params={"shuffle_labels": True}))
    assert outcome.status == "failed"
    assert outcome.value < 0.3
    assert "below the required 0.8" in outcome.message


def test_crash_is_a_failed_entry_with_the_error(grade):
    outcome = grade(fake("crash", "grade_crash"))
    assert outcome.status == "failed" and outcome.value is None
    assert "Crashed" in outcome.message and "deliberate crash inside the task" in outcome.message


def test_timeout_stops_the_task(grade):
    outcome = grade(fake("hang", "grade_hang"), timeout_s=3)
    assert outcome.status == "failed"
    assert "Timed out" in outcome.message and outcome.seconds < 30


def test_missing_data_names_the_file_and_the_fix(grade, tmp_path):
    outcome = grade(fake("missing", "grade_missing_data", params={"empty_dir": str(tmp_path)}))
    assert outcome.status == "failed"
    assert "'mnist.npz' was not found" in outcome.message
    assert "ASSIGNMENT2_DATA_DIR" in outcome.message


def test_corrupt_data_fails_on_checksum(grade, tmp_path):
    corrupt_root = tmp_path / "corrupt"
    corrupt_root.mkdir()
    (corrupt_root / "mnist.npz").write_bytes(b"not really mnist")
    outcome = grade(fake("corrupt", "grade_corrupt_data"),
                    env={"ASSIGNMENT2_DATA_DIR": str(corrupt_root)})
    assert outcome.status == "failed"
    assert "corrupt or not the expected file" in outcome.message
    assert str(corrupt_root / "mnist.npz") in outcome.message


def test_unknown_dataset_name_suggests_the_right_one(grade):
    outcome = grade(fake("unknown", "grade_unknown_dataset"))
    assert outcome.status == "failed"
    assert "Unknown dataset 'mnsit'. Did you mean 'mnist'?" in outcome.message


def test_nan_metric_and_wrong_metric_fail(grade):
    assert "finite number" in grade(fake("nan", "grade_nan")).message
    wrong = grade(fake("wrong", "grade_wrong_metric"))
    assert wrong.status == "failed" and "reported metric 'loss'" in wrong.message


def test_cache_key_changes_with_config():
    task = TASKS["keras_mnist_mlp"]
    assert cache_key(task, quick=False, seed=0) == cache_key(task, quick=False, seed=0)
    assert cache_key(task, quick=False, seed=0) != cache_key(task, quick=True, seed=0)
    assert cache_key(task, quick=False, seed=0) != cache_key(task, quick=False, seed=1)


def test_results_json_is_gradescope_shaped_and_report_has_every_task(grade, tmp_path):
    outcomes = [grade(fake("digits", "grade_digits")), grade(fake("crash", "grade_crash"))]
    results = build_results(outcomes, quick=False, seed=0, wall_seconds=1.5)
    json_path, report_path = write_results(results, tmp_path / "out")
    loaded = json.loads(json_path.read_text())
    assert loaded["score"] == 10.0 and loaded["execution_time"] == 1.5
    assert [t["status"] for t in loaded["tests"]] == ["passed", "failed"]
    for test in loaded["tests"]:
        assert {"name", "score", "max_score", "status", "output", "extra_data"} <= set(test)
        assert {"task", "metric", "value", "required", "target", "seconds"} <= set(
            test["extra_data"])
    assert 0.0 <= loaded["tests"][0]["extra_data"]["value"] <= 1.0
    assert loaded["tests"][1]["extra_data"]["value"] is None
    assert {"seed", "package_versions", "git_revision"} <= set(loaded["extra_data"])
    report = report_path.read_text()
    assert "| digits | accuracy |" in report and "| crash | accuracy | – |" in report
    assert "## Failures" in report and "mnist.npz" in render_report(loaded)


def test_registry_entries_are_well_formed():
    for task in TASKS.values():
        module, _, function = task.entry.partition(":")
        assert module and function, task.name
        assert 0 < task.required <= task.target <= 1, task.name
        assert (Path(__file__).parents[2] / "packages" / task.package).is_dir(), task.name


def test_real_keras_task_passes_and_its_shuffled_label_mutant_fails(tmp_path):
    """The end-to-end mutation test on a registered task (quick variant, ~15 s each)."""
    task = TASKS["keras_mnist_mlp"]
    mutant = dataclasses.replace(task, params={**task.params, "shuffle_labels": True})
    common = dict(quick=True, seed=0, cache_root=tmp_path / "cache", log_dir=tmp_path / "logs")
    healthy = run_task(task, **common)
    assert healthy.status == "passed", healthy.message
    broken = run_task(mutant, **common)
    assert broken.status == "failed", broken.value
    assert broken.value < 0.3 and "below the required" in broken.message
