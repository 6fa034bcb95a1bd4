"""Runs one graded task in its own process; the runner starts it and reads its JSON result.

Usage (the runner builds this command)::

    python -m autograder.worker --entry keras_models.tasks:grade_mnist_mlp --work-dir DIR \
        --result result.json [--quick] [--seed 0] [--params '{}']
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from a2common.grading import TaskContext, TaskResult


def load_entry(entry: str):
    """Import ``"package.module:function"`` and return the function."""
    module_name, _, function_name = entry.partition(":")
    if not function_name:
        raise ValueError(f"Expected an entry like 'package.module:function'. Received: {entry!r}")
    return getattr(importlib.import_module(module_name), function_name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one graded task.")
    parser.add_argument("--entry", required=True)
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", default="{}")
    args = parser.parse_args(argv)

    args.work_dir.mkdir(parents=True, exist_ok=True)
    context = TaskContext(quick=args.quick, seed=args.seed, work_dir=args.work_dir,
                          params=json.loads(args.params))
    result = load_entry(args.entry)(context)
    if not isinstance(result, TaskResult):
        raise TypeError(f"{args.entry} must return a TaskResult. "
                        f"Received: {type(result).__name__}")
    args.result.write_text(result.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
