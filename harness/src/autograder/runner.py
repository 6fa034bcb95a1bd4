"""Makes each task's graded runs (or re-uses valid ones) and grades their predictions.

For every seed of a task, :func:`ensure_run` finds its run folder
(:func:`a2common.runs.run_dir`) and

* re-uses it when its manifest matches the tree (code, data, stack, configuration);
* deletes it when it is stale, or resumes it when an earlier grade was interrupted;
* otherwise starts the worker in its own process group with the task's time budget, shows a
  live progress line (epoch k/n, ETA) and keeps the full log in ``task.log``.

:func:`grade_task` then loads the labels itself (``a2common.data``), checks the predictions
and computes every metric (:mod:`autograder.metrics`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from a2common.data import dataset_sha256, load_split
from a2common.progress import PROGRESS_ENV, read_progress
from a2common.runs import LOG_FILE, MANIFEST_FILE, PROGRESS_FILE, GradedRun, run_dir
from autograder import fingerprint, metrics
from autograder.registry import Labels, Task
from autograder.worker import STARTED_FILE

REPO_ROOT = fingerprint.REPO_ROOT
LOG_TAIL_CHARS = 3000
STOP_GRACE_S = 15.0
POLL_S = 0.5


class Interrupted(Exception):
    """The grade was interrupted (Ctrl-C or SIGTERM); the running worker has been stopped."""


@dataclass
class SeedRun:
    """How one seed's run was obtained."""

    seed: int
    path: Path
    state: str  # "cached" | "trained" | "failed" | "interrupted" | "not_run"
    seconds: float = 0.0
    message: str = ""

    @property
    def usable(self) -> bool:
        return self.state in ("cached", "trained")


@dataclass
class Outcome:
    """The graded outcome of one task."""

    task: Task
    quick: bool
    state: str  # "passed" | "failed" | "interrupted" | "not_run"
    runs: list[SeedRun] = field(default_factory=list)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)

    @property
    def from_cache(self) -> bool:
        return bool(self.runs) and all(run.state == "cached" for run in self.runs)

    @property
    def value(self) -> float | None:
        primary = self.metrics.get(metric_key(self.task.primary))
        return None if primary is None else primary["value"]


def metric_key(metric: Any) -> str:
    """``"accuracy"`` for single-output tasks, ``"accuracy[colour]"`` for a head."""
    return metric.name if metric.head == "output" else f"{metric.name}[{metric.head}]"


def run_config(task: Task, *, quick: bool, seed: int) -> dict[str, Any]:
    """What a run is made from, besides code and stack (see :mod:`autograder.fingerprint`)."""
    return {
        "task": task.name,
        "entry": task.entry,
        "params": task.params,
        "quick": quick,
        "seed": seed,
        "data": dataset_sha256(task.all_datasets),
        "contract": fingerprint.CONTRACT_VERSION,
    }


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_status(path: Path, config: dict[str, Any]) -> tuple[str, list[str]]:
    """``("valid" | "stale" | "partial" | "missing", reasons)`` of the run folder ``path``."""
    manifest = _read_json(path / MANIFEST_FILE)
    if manifest is not None:
        reasons = fingerprint.stale_reasons(manifest, config)
        for name, digest in manifest.get("outputs", {}).items():
            output = path / name
            if not output.is_file() or fingerprint.sha256_of(output) != digest:
                reasons.append(f"its output {name} is missing or was altered")
        return ("stale" if reasons else "valid"), reasons
    started = _read_json(path / STARTED_FILE)
    if started is None:
        return ("partial" if (path / "work").exists() else "missing"), []
    reasons = fingerprint.stale_reasons(
        {"config": started.get("config", {}), "files": started.get("files", {})}, config
    )
    return ("stale" if reasons else "partial"), reasons


GENERATED_PATHS = ("assignment2", "packages/*/model_cards", "packages/*/notebooks")
"""Written by grading and by the notebook runner: not counted when checking for a dirty tree."""


def dirty_sources() -> list[str]:
    """Tracked source files that differ from HEAD (generated outputs excluded)."""
    excludes = [f":(exclude,glob){path}/**" for path in GENERATED_PATHS]
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *excludes],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return [line[3:] for line in status.splitlines() if line.strip()]


def git_revision() -> str:
    """``HEAD``'s short hash, with ``-dirty`` when tracked sources differ from it.

    Files that grading itself writes (:data:`GENERATED_PATHS`) do not count, so a grade started
    from a clean tree is not labelled dirty by the results it has written so far.
    """
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return revision + ("-dirty" if dirty_sources() else "")


def _tail(path: Path) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-LOG_TAIL_CHARS:]


def _describe_exit(return_code: int) -> str:
    if return_code == -signal.SIGKILL:
        return "was killed (SIGKILL; likely out of memory)"
    if return_code < 0:
        return f"was killed by signal {signal.Signals(-return_code).name}"
    return f"exited with code {return_code}"


def _progress_text(path: Path, started_at: float, label: str) -> str:
    """``label [stage] epoch k/n (loss ...), 3m10s elapsed, ETA 5m02s`` from the progress file."""
    elapsed = time.time() - started_at
    entries = [entry for entry in read_progress(path) if entry.get("epochs")]
    if not entries:
        return f"{label}: {_clock(elapsed)} elapsed"
    last = entries[-1]
    epoch, epochs = last["epoch"], last["epochs"]
    shown = ", ".join(
        f"{key} {value:.4g}" for key, value in list(last.get("metrics", {}).items())[:3]
    )
    text = f"{label} [{last.get('stage', 'train')}] epoch {epoch}/{epochs}"
    text += f" ({shown})" if shown else ""
    text += f", {_clock(elapsed)} elapsed"
    same_stage = [e for e in entries if e.get("stage") == last.get("stage")]
    first = same_stage[0]
    if last["epoch"] > first["epoch"]:
        per_epoch = (last["time"] - first["time"]) / (last["epoch"] - first["epoch"])
    else:
        per_epoch = last["time"] - started_at
    if 0 < epoch < epochs:
        text += f", ETA {_clock(per_epoch * (epochs - epoch))}"
    return text


def _without_clock(text: str) -> str:
    """A progress line without its elapsed time and ETA: what changes once per epoch."""
    return re.sub(r", [^,]* elapsed.*$", "", text)


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _stop(process: subprocess.Popen) -> None:
    """Stop the worker's whole process group: SIGTERM, then SIGKILL after a grace period."""
    for sig, wait_s in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def ensure_run(
    task: Task,
    *,
    quick: bool,
    seed: int,
    root: Path | None,
    timeout_s: float,
    console: Console,
    extra_pythonpath: list[str] | None = None,
    train: bool = True,
) -> SeedRun:
    """A valid run of ``task`` for ``seed``: re-used, resumed or trained (see module doc)."""
    path = run_dir(task.name, quick=quick, seed=seed, root=root)
    config = run_config(task, quick=quick, seed=seed)
    status, reasons = run_status(path, config)
    label = f"{task.name}" + (f" seed {seed}" if len(task.seeds) > 1 else "")
    if status == "valid":
        return SeedRun(seed, path, "cached")
    if not train:
        return SeedRun(seed, path, "not_run", message=f"no valid run in {path} ({status})")
    if status == "stale":
        console.print(
            f"  {label}: the previous run is stale ({'; '.join(reasons)}): training again"
        )
        shutil.rmtree(path)
    elif status == "partial":
        console.print(f"  {label}: resuming an interrupted run in {path}")
    path.mkdir(parents=True, exist_ok=True)
    progress_path = path / PROGRESS_FILE
    progress_path.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "autograder.worker",
        "--entry",
        task.entry,
        "--run-dir",
        str(path),
        "--config",
        json.dumps(config),
        "--params",
        json.dumps(task.params),
        "--revision",
        git_revision(),
    ]
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MPLBACKEND": "Agg",
        PROGRESS_ENV: str(progress_path),
    }
    if extra_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([*extra_pythonpath, env.get("PYTHONPATH", "")])
    log_path = path / LOG_FILE
    start = time.perf_counter()
    with open(log_path, "a") as log:
        log.write(
            f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(command[:5])} "
            f"(budget {timeout_s:.0f} s)\n"
        )
        log.flush()
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        try:
            return_code = _watch(process, progress_path, start, label, timeout_s, console)
        except BaseException:
            _stop(process)
            raise
    seconds = time.perf_counter() - start
    if return_code is None:
        return SeedRun(
            seed,
            path,
            "failed",
            seconds,
            f"Timed out: the task ran longer than its budget of {timeout_s:.0f} s "
            f"and was stopped (its checkpoints are kept; the next grade resumes)."
            f"\n{_tail(log_path)}",
        )
    if return_code != 0 or not (path / MANIFEST_FILE).is_file():
        return SeedRun(
            seed,
            path,
            "failed",
            seconds,
            f"Crashed: the task {_describe_exit(return_code)} and left no result."
            f"\n{_tail(log_path)}",
        )
    return SeedRun(seed, path, "trained", seconds)


def _watch(
    process: subprocess.Popen,
    progress_path: Path,
    start: float,
    label: str,
    timeout_s: float,
    console: Console,
) -> int | None:
    """Wait for the worker, showing its progress; ``None`` if it ran out of time."""
    shown = ""
    started_at = time.time()
    status = console.status(label) if console.is_terminal else None
    if status:
        status.start()
    try:
        while process.poll() is None:
            if time.perf_counter() - start > timeout_s:
                _stop(process)
                return None
            text = _progress_text(progress_path, started_at, label)
            if status:
                status.update(text)
            elif "epoch" in text and _without_clock(text) != _without_clock(shown):
                console.print(f"  {text}")  # one line per epoch in log files
            shown = text
            time.sleep(POLL_S)
    finally:
        if status:
            status.stop()
    return process.returncode


class LabelCache:
    """Labels loaded once per grade (``a2common.data``), keyed by dataset/split/classes."""

    def __init__(self) -> None:
        self._cache: dict[Labels, tuple[np.ndarray, list[str]]] = {}

    def get(self, labels: Labels) -> tuple[np.ndarray, list[str]]:
        if labels not in self._cache:
            split, names = load_split(labels.dataset, labels.split, labels.classes)
            self._cache[labels] = (np.asarray(split.y), names)
        return self._cache[labels]


def grade_task(
    task: Task,
    *,
    quick: bool,
    root: Path | None,
    console: Console,
    label_cache: LabelCache,
    train: bool = True,
    extra_pythonpath: list[str] | None = None,
) -> Outcome:
    """Obtain every seed's run of ``task`` and grade it."""
    budget = float(task.quick_budget_s if quick else task.budget_s)
    seed_runs: list[SeedRun] = []
    for seed in task.seeds:
        remaining = budget - sum(run.seconds for run in seed_runs if run.state == "trained")
        run = ensure_run(
            task,
            quick=quick,
            seed=seed,
            root=root,
            timeout_s=max(remaining, 1.0),
            console=console,
            extra_pythonpath=extra_pythonpath,
            train=train,
        )
        seed_runs.append(run)
        if not run.usable:
            break
    outcome = Outcome(task, quick, "failed", runs=seed_runs)
    failed = [run for run in seed_runs if not run.usable]
    if failed:
        outcome.state = "not_run" if failed[0].state == "not_run" else "failed"
        outcome.message = failed[0].message
        return outcome
    try:
        _score(outcome, label_cache)
    except metrics.PredictionError as error:
        outcome.message = f"Ungradable predictions: {error}"
        return outcome
    below = [
        f"{key} {entry['value']:.4f} is below the required {entry['required']}"
        for key, entry in outcome.metrics.items()
        if not entry["passed"]
    ]
    outcome.state = "failed" if below else "passed"
    outcome.message = "; ".join(below)
    return outcome


def _score(outcome: Outcome, label_cache: LabelCache) -> None:
    task, quick = outcome.task, outcome.quick
    graded = [GradedRun(task.name, run.path) for run in outcome.runs]
    checked: dict[str, list[np.ndarray]] = {}
    for head, labels in task.labels.items():
        truth, class_names = label_cache.get(labels)
        checked[head] = []
        for run in graded:
            where = f" (head {head!r}, seed {run.path.name})"
            try:
                predictions = run.predictions(head)
            except KeyError as error:
                raise metrics.PredictionError(str(error)) from None
            checked[head].append(
                metrics.check_predictions(predictions, len(truth), len(class_names), where)
            )
        outcome.analysis[head] = {
            "class_names": class_names,
            "examples": int(len(truth)),
            **metrics.class_report(truth, checked[head][0], class_names),
        }
    for metric in task.metrics:
        truth, _ = label_cache.get(task.labels[metric.head])
        values = [metrics.metric_value(metric.name, truth, p) for p in checked[metric.head]]
        intervals = [
            metrics.bootstrap_interval(metric.name, truth, p) for p in checked[metric.head]
        ]
        value = float(np.mean(values))
        threshold = metric.threshold(quick)
        for number in [value, *values]:
            if not (np.isfinite(number) and 0.0 <= number <= 1.0):
                raise metrics.PredictionError(
                    f"{metric.name} came out as {number!r}, outside [0, 1]"
                )
        outcome.metrics[metric_key(metric)] = {
            "metric": metric.name,
            "head": metric.head,
            "value": value,
            "ci95": list(intervals[0]) if len(values) == 1 else None,
            "per_seed": [
                {"seed": run.seed, "value": v, "ci95": list(ci)}
                for run, v, ci in zip(outcome.runs, values, intervals)
            ],
            "std": float(np.std(values)) if len(values) > 1 else None,
            "required": threshold,
            "target": metric.target,
            "passed": value >= threshold,
            "target_met": value >= metric.target,
        }
    results = [run.result for run in graded]
    outcome.facts = {
        "train_seconds": float(sum(r["train_seconds"] for r in results)),
        "epochs": results[0]["epochs"],
        "parameters": results[0]["parameters"],
        "history": results[0]["history"],
        "threads": results[0].get("threads", {}),
        "details": results[0].get("details", {}),
        "trained_revision": results[0].get("revision"),
        "run_dirs": [str(run.path) for run in outcome.runs],
    }
