"""Runs one graded task in its own process and writes its run folder.

The runner starts it (``python -m autograder.worker --entry ... --run-dir ... --config JSON``);
the task trains in ``<run-dir>/work``. The worker then checks the :class:`TaskResult` and
writes ``predictions.npz``, ``result.json`` and, last, ``manifest.json`` (what the run depends
on, see :mod:`autograder.fingerprint`). A run without a manifest is unfinished.

On SIGTERM (the runner stopping an interrupted grade) the worker records which source files
the unfinished run had imported in ``started.json``, so that a resumed run whose code changed
in between starts afresh instead of resuming from incompatible checkpoints.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from a2common.grading import TaskContext, TaskResult, dump_json
from a2common.runs import MANIFEST_FILE, PREDICTIONS_FILE, RESULT_FILE, WORK_DIR
from autograder import fingerprint

STARTED_FILE = "started.json"


def load_entry(entry: str) -> Callable[[TaskContext], TaskResult]:
    """Import ``"package.module:function"`` and return the function."""
    module_name, _, function_name = entry.partition(":")
    if not function_name:
        raise ValueError(f"Expected an entry like 'package.module:function'. Received: {entry!r}")
    return getattr(importlib.import_module(module_name), function_name)


class _OpenedFiles:
    """Repository source files the task opens (settings, templates...), via an audit hook."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        sys.addaudithook(self._hook)

    def _hook(self, event: str, arguments: tuple) -> None:
        if event == "open" and arguments and isinstance(arguments[0], (str, Path)):
            relative = fingerprint.repository_file(arguments[0])
            if relative:
                self.files.add(relative)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _thread_settings() -> dict[str, Any]:
    """Thread counts the frameworks used (for results.json; they change float results)."""
    settings: dict[str, Any] = {
        name: os.environ.get(name)
        for name in (
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "OPENBLAS_CORETYPE",
            "TF_ENABLE_ONEDNN_OPTS",
            "ONEDNN_MAX_CPU_ISA",
        )
        if os.environ.get(name)
    }
    if "torch" in sys.modules:
        settings["torch_threads"] = sys.modules["torch"].get_num_threads()
    if "tensorflow" in sys.modules:
        threading = sys.modules["tensorflow"].config.threading
        settings["tf_intra_op_threads"] = threading.get_intra_op_parallelism_threads()
        settings["tf_inter_op_threads"] = threading.get_inter_op_parallelism_threads()
    return settings


def run(
    entry: str,
    run_dir: Path,
    config: dict[str, Any],
    params: dict[str, Any],
    revision: str = "unknown",
) -> int:
    """Run the task and write the run folder; returns the process exit code."""
    opened = _OpenedFiles()
    work_dir = run_dir / WORK_DIR
    work_dir.mkdir(parents=True, exist_ok=True)
    for stale in (MANIFEST_FILE, RESULT_FILE, PREDICTIONS_FILE):
        (run_dir / stale).unlink(missing_ok=True)
    started = {"config": config, "started_at": time.time()}
    _write_atomically(run_dir / STARTED_FILE, dump_json(started))

    def record_and_stop(signum: int, frame: Any) -> None:
        files = fingerprint.imported_files() | opened.files
        _write_atomically(
            run_dir / STARTED_FILE, dump_json({**started, "files": fingerprint.hash_files(files)})
        )
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, record_and_stop)
    context = TaskContext(
        quick=config["quick"], seed=config["seed"], work_dir=work_dir, params=params
    )
    result = load_entry(entry)(context)
    if not isinstance(result, TaskResult):
        raise TypeError(
            f"{entry} must return an a2common.grading.TaskResult. Received: {type(result).__name__}"
        )
    missing_files = [name for name in result.model_files if not (work_dir / name).is_file()]
    if missing_files:
        raise FileNotFoundError(
            f"{entry} reported model files that are not in its work dir {work_dir}: {missing_files}"
        )
    np.savez(run_dir / PREDICTIONS_FILE, **result.prediction_arrays())
    summary = {
        "train_seconds": result.train_seconds,
        "epochs": result.epochs,
        "parameters": result.parameters,
        "history": result.history,
        "model_files": result.model_files,
        "card": result.card.to_dict(),
        "details": result.details,
        "threads": _thread_settings(),
        "revision": revision,
        "finished_at": time.time(),
    }
    _write_atomically(run_dir / RESULT_FILE, dump_json(summary, indent=1))
    files = fingerprint.imported_files() | opened.files
    manifest = {
        "config": config,
        "files": fingerprint.hash_files(files),
        "distributions": fingerprint.distribution_versions(),
        "outputs": {
            name: fingerprint.sha256_of(run_dir / name) for name in (PREDICTIONS_FILE, RESULT_FILE)
        },
    }
    _write_atomically(run_dir / MANIFEST_FILE, dump_json(manifest, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one graded task (started by the runner).")
    parser.add_argument("--entry", required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--config", required=True, help="JSON: the run's configuration")
    parser.add_argument("--params", default="{}", help="JSON: ctx.params")
    parser.add_argument("--revision", default="unknown", help="git revision of the tree")
    args = parser.parse_args(argv)
    args.run_dir.mkdir(parents=True, exist_ok=True)
    return run(
        args.entry, args.run_dir, json.loads(args.config), json.loads(args.params), args.revision
    )


if __name__ == "__main__":
    sys.exit(main())
