"""The autograder grades honestly: it computes every number itself, so fabricated, constant,
permuted or partial predictions fail; crashes, time-outs and bad data get a clear entry; runs
are re-used only while nothing they depend on changed; an interrupted grade keeps its work."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from autograder import fingerprint
from autograder.cli import grade
from autograder.registry import TASKS, Labels, Metric, Task
from autograder.results import render_report
from autograder.runner import LabelCache, grade_task, run_config, run_status

TESTS_DIR = Path(__file__).parent


def fake(name: str, entry: str, *, required: float = 0.7, **options) -> Task:
    return Task(
        name=name,
        title=f"fake {name}",
        package="a2common",
        entry=f"fake_tasks:{entry}",
        labels={"output": Labels("mnist")},
        metrics=(Metric("accuracy", required, 0.9),),
        budget_s=120,
        **options,
    )


@pytest.fixture
def runs(tmp_path):
    def run(task: Task, env: dict | None = None):
        old = dict(os.environ)
        os.environ.update(env or {})
        try:
            return grade_task(
                task,
                quick=False,
                root=tmp_path / "runs",
                console=Console(),
                label_cache=LabelCache(),
                extra_pythonpath=[str(TESTS_DIR)],
            )
        finally:
            os.environ.clear()
            os.environ.update(old)

    return run


def test_an_honest_task_is_graded_by_the_harness_and_its_run_reused(runs, tmp_path):
    task = fake("centroid", "grade_centroid")
    first = runs(task)
    assert first.state == "passed", first.message
    assert 0.75 < first.value < 0.9 and not first.from_cache
    entry = first.metrics["accuracy"]
    assert entry["ci95"][0] < first.value < entry["ci95"][1]
    assert sum(c["support"] for c in first.analysis["output"]["per_class"].values()) == 10000
    second = runs(task)
    assert second.from_cache and second.value == first.value
    run_folder = tmp_path / "runs/full/centroid/seed0"
    assert (run_folder / "work/calls.txt").read_text() == "x"  # trained once, not twice
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert "harness/tests/fake_tasks.py" in manifest["files"]
    assert "numpy" in manifest["distributions"]


@pytest.mark.parametrize(
    "entry, params, expected",
    [
        ("grade_centroid", {"shuffle_labels": True}, "below the required 0.7"),
        ("grade_constant", {}, "below the required 0.7"),
        ("grade_permuted", {}, "below the required 0.7"),
        ("grade_subset", {}, "Received: 1000 rows"),
        ("grade_logits", {}, "Expected probabilities in [0, 1]"),
        ("grade_nan", {}, "NaN or infinite"),
        ("grade_fabricated", {}, "unexpected keyword argument 'value'"),
    ],
)
def test_numpy_mutants_fail(runs, entry, params, expected):
    outcome = runs(fake(f"mutant_{entry}", entry, params=params))
    assert outcome.state == "failed"
    assert expected in outcome.message
    assert outcome.value is None or outcome.value < 0.3


def test_crash_timeout_and_data_errors_are_clear(runs, tmp_path):
    crash = runs(fake("crash", "grade_crash"))
    assert "Crashed" in crash.message and "deliberate crash inside the task" in crash.message
    hang = runs(dataclasses.replace(fake("hang", "grade_hang"), budget_s=3))
    assert "Timed out" in hang.message and hang.seconds < 30
    missing = runs(fake("missing", "grade_missing_data", params={"empty_dir": str(tmp_path)}))
    assert "'mnist.npz' was not found" in missing.message
    unknown = runs(fake("unknown", "grade_unknown_dataset"))
    assert "Unknown dataset 'mnsit'. Did you mean 'mnist'?" in unknown.message


def test_corrupt_data_fails_on_checksum(runs, tmp_path):
    corrupt_root = tmp_path / "corrupt"
    corrupt_root.mkdir()
    (corrupt_root / "mnist.npz").write_bytes(b"not really mnist")
    outcome = runs(
        fake("corrupt", "grade_centroid"), env={"ASSIGNMENT2_DATA_DIR": str(corrupt_root)}
    )
    assert outcome.state == "failed" and "corrupt or not the expected file" in outcome.message


def test_a_run_is_stale_when_config_code_or_outputs_change(runs, tmp_path):
    task = fake("centroid", "grade_centroid")
    runs(task)
    folder = tmp_path / "runs/full/centroid/seed0"
    config = run_config(task, quick=False, seed=0)
    assert run_status(folder, config) == ("valid", [])
    changed = run_config(dataclasses.replace(task, params={"extra": 1}), quick=False, seed=0)
    assert run_status(folder, changed)[0] == "stale"
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["harness/tests/fake_tasks.py"] = "0" * 64  # as if the code had changed
    (folder / "manifest.json").write_text(json.dumps(manifest))
    status, reasons = run_status(folder, config)
    assert status == "stale" and "fake_tasks.py" in reasons[0]
    manifest["files"].pop("harness/tests/fake_tasks.py")
    manifest["distributions"]["numpy"] = "0.0.1"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert "numpy 0.0.1" in run_status(folder, config)[1][0]
    manifest["distributions"]["numpy"] = np.__version__
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "predictions.npz").write_bytes(b"truncated")
    assert "predictions.npz is missing or was altered" in run_status(folder, config)[1][0]
    retrained = runs(task)  # a stale run is trained again, not graded
    assert retrained.state == "passed" and not retrained.from_cache


def test_documentation_edits_keep_a_run_but_code_edits_make_it_stale(tmp_path, monkeypatch):
    monkeypatch.setattr(fingerprint, "REPO_ROOT", tmp_path)
    module = tmp_path / "packages/x/src/x/train.py"
    module.parent.mkdir(parents=True)
    module.write_text('"""Train."""\n\nEPOCHS = 3\n\n\ndef lr():\n    return 0.1\n')
    manifest = {"files": fingerprint.hash_files({"packages/x/src/x/train.py"})}
    assert manifest["files"]["packages/x/src/x/train.py"].startswith("ast-sha256:")
    module.write_text(
        '"""Train a model (reworded)."""\nEPOCHS = 3  # three epochs\n\n'
        'def lr():\n    """The learning rate."""\n    return  0.1\n'
    )
    assert fingerprint.stale_reasons(manifest, {}) == []
    module.write_text('"""Train."""\n\nEPOCHS = 4\n\n\ndef lr():\n    return 0.1\n')
    assert "1 source file(s) changed (packages/x/src/x/train.py)" in fingerprint.stale_reasons(
        manifest, {}
    )
    module.write_text("EPOCHS = (\n")  # a module that no longer parses is compared byte-wise
    assert fingerprint.stale_reasons(manifest, {})
    settings = tmp_path / "packages/x/src/x/settings.json"
    settings.write_text('{"epochs": 3}')
    manifest = {"files": fingerprint.hash_files({"packages/x/src/x/settings.json"})}
    settings.write_text('{"epochs":  3}')  # other files: any byte counts
    assert fingerprint.stale_reasons(manifest, {})


def test_non_json_settings_file_opened_by_a_task_is_part_of_the_key(tmp_path):
    settings = fingerprint.REPO_ROOT / "harness" / "tests" / "fake_tasks.py"
    assert fingerprint.repository_file(settings) == "harness/tests/fake_tasks.py"
    assert fingerprint.repository_file(tmp_path / "x.json") is None


def test_results_json_is_strict_gradescope_json_and_lists_every_task(tmp_path):
    tasks = {
        "centroid": fake("centroid", "grade_centroid"),
        "crash": fake("crash", "grade_crash"),
        "skipped": fake("skipped", "grade_centroid"),
    }
    results, code = grade(
        tasks,
        ["centroid", "crash"],
        quick=False,
        out_dir=tmp_path / "out",
        root=tmp_path / "runs",
        console=Console(),
        extra_pythonpath=[str(TESTS_DIR)],
    )
    assert code == 1
    text = (tmp_path / "out/results.json").read_text()
    loaded = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert loaded["score"] == 10.0 and loaded["extra_data"]["complete"] is True
    states = [t["extra_data"]["state"] for t in loaded["tests"]]
    assert states == ["passed", "failed", "not_run"]
    assert [t["status"] for t in loaded["tests"]] == ["passed", "failed", "failed"]
    machine = loaded["extra_data"]["machine"]
    assert machine["cpu_count"] >= 1 and "blas" in machine
    report = (tmp_path / "out/report.md").read_text()
    assert "| centroid | accuracy |" in report and "not graded in this run" in report
    assert "## Failures" in report and "deliberate crash" in render_report(loaded)
    # A task that reports its training compute gets a row against the measured peak.
    assert "## Training compute" not in report
    loaded["tests"][0]["extra_data"]["details"].update(
        multiply_adds_per_example=2_000_000,
        train_flops=6e15,
        achieved_flops_per_second=5e10,
        cpu_peak={"cpu": "Test CPU", "isa": "avx2 fma", "cores": 2, "peak_flops_per_second": 2e11},
    )
    compute = render_report(loaded).split("## Training compute")[1].split("\n## ")[0]
    assert "| centroid | 2.00 | 6.0000 |" in compute
    assert "| 50.0 | 200.0 (float32) | 25 % | Test CPU (avx2 fma; 2 cores) |" in compute
    assert "crash" not in compute
    # A bfloat16 run is measured against the bfloat16 peak it was trained at.
    loaded["tests"][0]["extra_data"]["details"]["cpu_peak"].update(
        peak_flops_per_second=1e12, dtype="bfloat16"
    )
    assert "| 50.0 | 1000.0 (bfloat16) | 5 % |" in render_report(loaded)


def test_interrupted_grade_keeps_finished_tasks_stops_the_worker_and_resumes(tmp_path):
    script = tmp_path / "grade_fakes.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS_DIR)!r})
        from pathlib import Path
        from rich.console import Console
        from test_harness import fake
        from autograder.cli import grade
        tasks = {{"first": fake("first", "grade_centroid"),
                  "slow": fake("slow", "grade_slow", params={{"epochs": 40}})}}
        _, code = grade(tasks, list(tasks), quick=False, out_dir=Path({str(tmp_path / "out")!r}),
                        root=Path({str(tmp_path / "runs")!r}), console=Console(),
                        extra_pythonpath=[{str(TESTS_DIR)!r}])
        sys.exit(code)
    """)
    )
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    checkpoint = tmp_path / "runs/full/slow/seed0/work/checkpoint.json"
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert checkpoint.exists(), "the slow task never started"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    results = json.loads((tmp_path / "out/results.json").read_text())
    assert [t["extra_data"]["state"] for t in results["tests"]] == ["passed", "interrupted"]
    assert results["extra_data"]["complete"] is False
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "runs")], capture_output=True, text=True
    ).stdout
    assert leftovers == "", "a worker survived the interruption"
    epochs_done = json.loads(checkpoint.read_text())["epochs"]
    assert 0 < epochs_done < 40
    started = json.loads((checkpoint.parents[1] / "started.json").read_text())
    assert "harness/tests/fake_tasks.py" in started["files"]
    # the next grade resumes from the checkpoint instead of starting over
    os.environ["FAKE_EPOCH_S"] = "0.01"
    try:
        resumed = grade_task(
            fake("slow", "grade_slow", params={"epochs": 40}),
            quick=False,
            root=tmp_path / "runs",
            console=Console(),
            label_cache=LabelCache(),
            extra_pythonpath=[str(TESTS_DIR)],
        )
    finally:
        del os.environ["FAKE_EPOCH_S"]
    assert resumed.state == "passed", resumed.message
    assert resumed.facts["details"]["resumed_from"] >= epochs_done


def test_registry_entries_are_well_formed():
    for task in TASKS.values():
        module, _, function = task.entry.partition(":")
        assert module and function, task.name
        for metric in task.metrics:
            assert 0 < metric.required <= metric.target <= 1, task.name
        assert (Path(__file__).parents[2] / "packages" / task.package).is_dir(), task.name


@pytest.mark.parametrize(
    "task_name, params",
    [
        ("autograd_mnist_simple", {}),  # numpy: our autograd library
        ("keras_mnist_mlp", {}),  # Keras
        ("lightning_animals3_cnn", {"progress": False}),  # PyTorch Lightning
    ],
)
def test_real_task_passes_and_its_shuffled_label_mutant_fails(tmp_path, task_name, params):
    """End-to-end on registered tasks (quick variants): the harness grades the predictions."""
    task = dataclasses.replace(TASKS[task_name], params={**TASKS[task_name].params, **params})
    mutant = dataclasses.replace(task, params={**task.params, "shuffle_labels": True})
    common = dict(quick=True, root=tmp_path / "runs", console=Console(), label_cache=LabelCache())
    healthy = grade_task(task, **common)
    assert healthy.state == "passed", healthy.message
    broken = grade_task(mutant, **common)
    assert broken.state == "failed", broken.value
    assert broken.value < task.primary.quick_required and "below the required" in broken.message


class _FakeWorker:
    """A process stand-in that finishes after ``polls`` calls of ``poll()``."""

    def __init__(self, polls: int) -> None:
        self.polls, self.returncode = polls, None

    def poll(self):
        self.polls -= 1
        if self.polls <= 0:
            self.returncode = 0
        return self.returncode


def test_a_log_file_gets_one_progress_line_per_epoch_not_one_per_poll(tmp_path, monkeypatch):
    from autograder import runner

    monkeypatch.setattr(runner, "POLL_S", 0.01)
    progress = tmp_path / "progress.jsonl"
    progress.write_text(
        "".join(
            json.dumps(
                {
                    "time": time.time(),
                    "stage": "train",
                    "epoch": epoch,
                    "epochs": 5,
                    "metrics": {"loss": 1.0 / epoch},
                }
            )
            + "\n"
            for epoch in (1, 2)
        )
    )
    log = tmp_path / "grade.log"
    with open(log, "w") as stream:
        console = Console(file=stream, force_terminal=False, width=200)
        code = runner._watch(
            _FakeWorker(polls=150),
            progress,
            time.perf_counter(),
            "task",
            timeout_s=60,
            console=console,
        )
    lines = [line for line in log.read_text().splitlines() if "epoch" in line]
    assert code == 0
    assert len(lines) == 1 and "epoch 2/5" in lines[0], lines  # 1.5 s of polling, one line


def test_revision_is_dirty_for_edited_sources_but_not_for_what_grading_writes(
    tmp_path, monkeypatch
):
    from autograder import runner

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    source = tmp_path / "packages/a2demo/src/model.py"
    results = tmp_path / "assignment2/results/results.json"
    for path in (source, results):
        path.parent.mkdir(parents=True)
        path.write_text("0\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    monkeypatch.setattr(runner, "REPO_ROOT", tmp_path)
    results.write_text("written by the grade\n")
    assert not runner.git_revision().endswith("-dirty")
    source.write_text("1\n")
    assert runner.git_revision().endswith("-dirty")
    assert runner.dirty_sources() == ["packages/a2demo/src/model.py"]
