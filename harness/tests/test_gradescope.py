"""The Gradescope bundle (issue 14): its layout, and run_autograder against a fake /autograder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.gradescope import build_bundle
from autograder.runner import REPO_ROOT

WRITE_RESULTS = (
    '"$PYTHON" -c \'import json, os; json.dump({"score": 7.0, "tests": [{'
    '"score": 7.0, "max_score": 10.0, "name": "t"}], '
    '"output": os.environ["PYTHONPATH"]}, '
    'open(os.environ["RESULTS_DIR"] + "/results.json", "w"))\''
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> tuple[Path, Path]:
    return build_bundle(tmp_path_factory.mktemp("bundle") / "gradescope", REPO_ROOT)


def test_bundle_has_gradescope_entry_points_at_the_zip_root(bundle):
    folder, archive = bundle
    with zipfile.ZipFile(archive) as bundled:
        names = set(bundled.namelist())
        modes = {name: bundled.getinfo(name).external_attr >> 16 for name in names}
    assert {
        "setup.sh",
        "run_autograder",
        "constraints.txt",
        "harness/src/autograder/cli.py",
    } <= names
    assert all(modes[name] & 0o111 for name in ("setup.sh", "run_autograder"))
    assert any(name.startswith("packages/a2common/src/a2common/") for name in names)
    assert not any("__pycache__" in name or "/tests/" in name for name in names)
    assert "shared/data" not in " ".join(names)  # built without shared/
    assert '-c "$SOURCE/constraints.txt"' in (folder / "setup.sh").read_text()


def _autograder(
    tmp_path: Path, bundle_folder: Path, command: str | None, submission: bool = True
) -> tuple[dict, Path]:
    root = tmp_path / "autograder"
    (root / "results").mkdir(parents=True)
    (root / "source").symlink_to(bundle_folder)
    package = root / "submission" / "repo" / "packages" / "student" / "src" / "student"
    if submission:
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        # a deeper packages/ folder is not the repository's: the shallowest one is graded
        (root / "submission" / "aaa" / "vendored" / "packages" / "other").mkdir(parents=True)
    else:
        (root / "submission").mkdir()
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    env.pop("AUTOGRADER_GRADE_CMD", None)
    if command is not None:
        env["AUTOGRADER_GRADE_CMD"] = command
    done = subprocess.run(
        [str(root / "source" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text()), root


def test_results_of_the_grade_are_kept_with_the_submission_on_the_path(bundle, tmp_path):
    results, root = _autograder(tmp_path, bundle[0], WRITE_RESULTS)
    assert results["score"] == 7.0 and results["tests"][0]["max_score"] == 10.0
    path = results["output"].split(":")
    assert path[0] == str(root / "work" / "harness" / "src")
    assert str(root / "work" / "packages" / "student" / "src") in path


def test_failed_tasks_exit_nonzero_but_their_results_stand(bundle, tmp_path):
    results, _ = _autograder(tmp_path, bundle[0], WRITE_RESULTS + "; exit 1")
    assert results["score"] == 7.0


@pytest.mark.parametrize(
    "command, reason",
    [
        ("echo boom; exit 3", "exited with status 3"),
        ("echo '{not json' > \"$RESULTS_DIR/results.json\"", "not valid JSON"),
        ('echo \'{"score": "full"}\' > "$RESULTS_DIR/results.json"', "non-numeric score"),
    ],
)
def test_a_crash_still_leaves_a_valid_zero_score_result(bundle, tmp_path, command, reason):
    results, root = _autograder(tmp_path, bundle[0], command)
    assert results["score"] == 0.0 and results["tests"] == []
    assert reason in results["output"]
    if "boom" in command:
        assert "boom" in results["output"]  # the log tail says what happened
    else:
        assert (root / "results" / "results.invalid.json").is_file()


def test_a_submission_without_packages_is_refused_clearly(bundle, tmp_path):
    results, _ = _autograder(tmp_path, bundle[0], WRITE_RESULTS, submission=False)
    assert results["score"] == 0.0 and "no packages/ folder" in results["output"]


def test_the_default_command_runs_the_harness_quick_grade(bundle, tmp_path):
    # A python that only records its arguments stands in for the real (hours-long) grade.
    fake_python = tmp_path / "python"
    fake_python.write_text('#!/bin/sh\necho "$@" >> "$RESULTS_DIR/args"\nexit 2\n')
    fake_python.chmod(0o755)
    root = tmp_path / "autograder"
    (root / "results").mkdir(parents=True)
    (root / "source").symlink_to(bundle[0])
    (root / "submission" / "packages").mkdir(parents=True)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": str(fake_python)}
    env.pop("AUTOGRADER_GRADE_CMD", None)
    subprocess.run([str(root / "source" / "run_autograder")], env=env, check=True, timeout=60)
    args = (root / "results" / "args").read_text().splitlines()[0].split()
    assert args == ["-m", "autograder", "grade", "--quick", "--out", str(root / "results")]
    # the fake python cannot write the fallback either: the shell's last-resort JSON is valid
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0


def test_make_gradescope_command_builds_the_zip(tmp_path):
    from autograder.cli import main

    assert main(["gradescope", "--out", str(tmp_path / "gs"), "--no-shared"]) == 0
    with zipfile.ZipFile(tmp_path / "gs.zip") as bundled:
        assert "run_autograder" in bundled.namelist()
