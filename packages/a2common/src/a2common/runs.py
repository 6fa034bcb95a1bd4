"""Graded runs: the one place where each graded model is trained, saved and read back.

The autograder trains every graded task into its own run folder::

    runs/<full|quick>/<task>/seed<k>/
        work/             the task's work dir: checkpoints, TensorBoard logs, the saved model
        predictions.npz   what the model predicts for the held-out split (one array per head)
        result.json       training facts: history, epochs, parameters, seconds, card text
        manifest.json     everything that can change the result (code, data, stack, config)
        task.log          the full training log

Notebooks and package command lines read these folders through :func:`open_graded_run`
instead of training their own copy, so every number they show is the graded one. When the run
is missing (or stale), :func:`open_graded_run` asks the autograder to make it; nothing else in
the project trains a graded model.

The root is ``$ASSIGNMENT2_RUNS_DIR`` if set, else ``runs/`` at the repository root.

Example: ``open_graded_run("keras_mnist_cnn")`` makes the run if needed, then opens it as
:meth:`GradedRun.open` does here with a hand-made finished run in a scratch root.

>>> import json, tempfile
>>> root = Path(tempfile.mkdtemp())
>>> path = run_dir("keras_mnist_cnn", root=root)
>>> (path / WORK_DIR).mkdir(parents=True)
>>> np.savez(path / PREDICTIONS_FILE, output=np.full((4, 10), 0.1))
>>> result = {"history": {"accuracy": [0.98, 0.995]}, "model_files": ["model.keras"]}
>>> _ = (path / RESULT_FILE).write_text(json.dumps(result))
>>> _ = (path / MANIFEST_FILE).write_text("{}")
>>> run = GradedRun.open("keras_mnist_cnn", root=root)
>>> run.history["accuracy"][-1], run.predictions().shape
(0.995, (4, 10))
>>> run.model_path().relative_to(root).as_posix()
'full/keras_mnist_cnn/seed0/work/model.keras'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from a2common.grading import ModelCardText

RUNS_ENV = "ASSIGNMENT2_RUNS_DIR"
WORK_DIR = "work"
PREDICTIONS_FILE = "predictions.npz"
RESULT_FILE = "result.json"
MANIFEST_FILE = "manifest.json"
LOG_FILE = "task.log"
PROGRESS_FILE = "progress.jsonl"


def repository_root() -> Path | None:
    """The checkout this package is installed from (editable installs), if any."""
    for ancestor in Path(__file__).resolve().parents:
        if (ancestor / "harness").is_dir() and (ancestor / "packages").is_dir():
            return ancestor
    return None


def runs_root() -> Path:
    """``$ASSIGNMENT2_RUNS_DIR``, else ``<repository>/runs`` (else ``./runs``)."""
    override = os.environ.get(RUNS_ENV)
    if override:
        return Path(override).expanduser()
    return (repository_root() or Path.cwd()) / "runs"


def run_dir(task: str, *, quick: bool = False, seed: int = 0, root: Path | None = None) -> Path:
    """The folder of one graded run.

    Example:

    >>> run_dir("keras_mnist_cnn", root=Path("runs")).as_posix()
    'runs/full/keras_mnist_cnn/seed0'
    """
    return Path(root or runs_root()) / ("quick" if quick else "full") / task / f"seed{seed}"


class RunNotFoundError(FileNotFoundError):
    """A graded run is missing or incomplete; the message says how to make it."""


@dataclass(frozen=True)
class GradedRun:
    """Read-only view of a finished graded run (see the module docstring for the layout).

    Attributes:
        task: the task's name (as in the registry, the model card and results.json).
        path: the run folder.
    """

    task: str
    path: Path

    @property
    def work_dir(self) -> Path:
        """The task's own folder: checkpoints, logs and the saved model."""
        return self.path / WORK_DIR

    @property
    def result(self) -> dict[str, Any]:
        return json.loads((self.path / RESULT_FILE).read_text(encoding="utf-8"))

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads((self.path / MANIFEST_FILE).read_text(encoding="utf-8"))

    @property
    def history(self) -> dict[str, list[float]]:
        return self.result["history"]

    @property
    def details(self) -> dict[str, Any]:
        return self.result["details"]

    @property
    def card(self) -> ModelCardText:
        return ModelCardText.from_dict(self.result["card"])

    def predictions(self, head: str = "output") -> np.ndarray:
        """The graded predictions of ``head`` (a single-output model's head is ``"output"``)."""
        with np.load(self.path / PREDICTIONS_FILE) as archive:
            if head not in archive.files:
                raise KeyError(
                    f"Run {self.path} has no predictions for head {head!r}. Heads: {archive.files}"
                )
            return archive[head]

    def model_path(self, index: int = 0) -> Path:
        """The ``index``-th model file the task reported (``result["model_files"]``)."""
        files = self.result["model_files"]
        if not files:
            raise FileNotFoundError(f"Task {self.task!r} reported no model file in {self.path}.")
        return self.work_dir / files[index]

    def log_text(self) -> str:
        """The training log that the autograder captured."""
        path = self.path / LOG_FILE
        return path.read_text(errors="replace") if path.is_file() else ""

    @classmethod
    def open(
        cls, task: str, *, quick: bool = False, seed: int = 0, root: Path | None = None
    ) -> "GradedRun":
        """Open a finished run, or raise :class:`RunNotFoundError`."""
        path = run_dir(task, quick=quick, seed=seed, root=root)
        missing = [
            name
            for name in (RESULT_FILE, PREDICTIONS_FILE, MANIFEST_FILE)
            if not (path / name).is_file()
        ]
        if missing:
            raise RunNotFoundError(
                f"No finished graded run of {task!r} in {path} (missing {', '.join(missing)}). "
                f"Make it with `python -m autograder ensure {task}"
                f"{' --quick' if quick else ''}` (or `make grade`)."
            )
        return cls(task, path)


def open_graded_run(task: str, *, quick: bool = False, seed: int = 0) -> GradedRun:
    """The graded run of ``task``; asks the autograder to train it first if it is missing or stale.

    The autograder checks the run's manifest (code, data, stack, configuration): a valid run is
    opened as it is, in seconds; otherwise the task is trained exactly as ``make grade`` trains
    it, and its log streams to this process's output.
    """
    command = [sys.executable, "-m", "autograder", "ensure", task, "--seed", str(seed)]
    if quick:
        command.append("--quick")
    try:
        completed = subprocess.run(command, cwd=repository_root() or Path.cwd())
    except FileNotFoundError as error:  # pragma: no cover - python itself missing
        raise RunNotFoundError(str(error)) from error
    if completed.returncode != 0:
        raise RunNotFoundError(
            f"The autograder could not make the graded run of {task!r} (exit code "
            f"{completed.returncode}); see its output above. Is the harness installed "
            f"(`pip install -e harness`, done by `make setup`)?"
        )
    return GradedRun.open(task, quick=quick, seed=seed)
