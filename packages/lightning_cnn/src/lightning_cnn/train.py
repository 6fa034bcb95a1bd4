"""Command line for the graded tasks, outside the harness.

Usage::

    python -m lightning_cnn.train lightning runs/lightning_max
    python -m lightning_cnn.train keras runs/keras_gem --pooling gem --threads 2
    python -m lightning_cnn.train keras runs/smoke --quick

It prints a one-line summary; the task writes ``result.json`` (the :class:`TaskResult`) into the
work dir. Running it again on a finished work dir only evaluates; on an interrupted one it resumes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from a2common.grading import TaskContext


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (``python -m lightning_cnn.train --help``)."""
    parser = argparse.ArgumentParser(prog="python -m lightning_cnn.train",
                                     description="Train and evaluate the animals3 CNN.")
    parser.add_argument("framework", choices=["lightning", "keras"])
    parser.add_argument("work_dir", type=Path, help="checkpoints, logs and the finished model")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 epochs on 640 images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pooling", choices=["max", "gem"], default="max")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--release-dir", type=Path, default=None,
                        help="read this animals3 release instead of writing one in WORK_DIR")
    parser.add_argument("--epoch-lines", action="store_true",
                        help="one line per epoch instead of a progress bar (for log files)")
    args = parser.parse_args(argv)

    params: dict = {"pooling": args.pooling, "progress": not args.epoch_lines}
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.threads is not None:
        params["num_threads"] = args.threads
    if args.release_dir is not None:
        params["release_dir"] = str(args.release_dir)
    ctx = TaskContext(quick=args.quick, seed=args.seed, work_dir=args.work_dir, params=params)
    from lightning_cnn import tasks

    grade = tasks.grade_lightning_cnn if args.framework == "lightning" else tasks.grade_keras_cnn
    result = grade(ctx)
    print(f"{args.framework} ({args.pooling} pooling): test accuracy {result.value:.4f}, "
          f"training {result.train_seconds:.0f} s, from cache: {result.from_cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
