"""Runs graded tasks, each in its own process with a timeout, and scores the results."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from a2common.data import dataset_sha256

from autograder.registry import Task

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CACHE = REPO_ROOT / ".cache" / "grade"
LOG_TAIL_CHARS = 3000


@dataclass
class Outcome:
    """The graded outcome of one task: passed/failed, its metric, and why."""

    task: Task
    quick: bool
    status: str  # "passed" | "failed"
    value: float | None
    seconds: float
    train_seconds: float | None = None
    from_cache: bool = False
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    log_path: str = ""

    @property
    def threshold(self) -> float:
        return self.task.threshold(self.quick)

    @property
    def target_met(self) -> bool | None:
        return None if self.value is None else self.value >= self.task.target


def source_digest(package: str) -> str:
    """sha256 over the source files of ``packages/<package>`` and ``packages/common``."""
    digest = hashlib.sha256()
    for folder in (REPO_ROOT / "packages" / package / "src", REPO_ROOT / "packages/common/src"):
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(task: Task, quick: bool, seed: int) -> str:
    """Key of a task's trained model: code + configuration + data."""
    config = {"entry": task.entry, "params": task.params, "quick": quick, "seed": seed,
              "data": dataset_sha256(task.datasets), "code": source_digest(task.package)}
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _tail(path: Path) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-LOG_TAIL_CHARS:]


def run_task(task: Task, *, quick: bool, seed: int, cache_root: Path = DEFAULT_CACHE,
             log_dir: Path, extra_pythonpath: list[str] | None = None,
             timeout_s: float | None = None) -> Outcome:
    """Run ``task`` in a child process; a crash or time-out becomes a failed outcome."""
    variant = "quick" if quick else "full"
    work_dir = cache_root / f"{task.name}-{variant}-{cache_key(task, quick, seed)}"
    work_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{task.name}.log"
    result_path = work_dir / "result.json"
    result_path.unlink(missing_ok=True)
    limit_s = timeout_s or (task.quick_budget_s if quick else task.budget_s)
    command = [sys.executable, "-m", "autograder.worker", "--entry", task.entry,
               "--work-dir", str(work_dir), "--result", str(result_path), "--seed", str(seed),
               "--params", json.dumps(task.params)] + (["--quick"] if quick else [])
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
           "MPLBACKEND": "Agg"}
    if extra_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([*extra_pythonpath, env.get("PYTHONPATH", "")])
    start = time.perf_counter()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=REPO_ROOT, start_new_session=True)
        try:
            return_code = process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return Outcome(task, quick, "failed", None, time.perf_counter() - start,
                           message=f"Timed out: the task ran longer than its budget of "
                                   f"{limit_s:.0f} s and was stopped.\n{_tail(log_path)}",
                           log_path=str(log_path))
    seconds = time.perf_counter() - start
    if return_code != 0 or not result_path.is_file():
        return Outcome(task, quick, "failed", None, seconds,
                       message=f"Crashed: the task exited with code {return_code} and no result."
                               f"\n{_tail(log_path)}", log_path=str(log_path))
    result = json.loads(result_path.read_text())
    if result["metric"] != task.metric:
        return Outcome(task, quick, "failed", None, seconds, log_path=str(log_path),
                       message=f"The task reported metric {result['metric']!r}, but the "
                               f"registry grades {task.metric!r}.")
    value = float(result["value"])
    passed = value >= task.threshold(quick)
    return Outcome(task, quick, "passed" if passed else "failed", value, seconds,
                   train_seconds=result.get("train_seconds"),
                   from_cache=bool(result.get("from_cache")), details=result.get("details", {}),
                   message="" if passed else (
                       f"{task.metric} {value:.4f} is below the required {task.threshold(quick)}"),
                   log_path=str(log_path))
