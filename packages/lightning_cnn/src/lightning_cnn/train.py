"""Command line: the graded animals3 CNNs, trained (once) by the autograder.

Usage::

    python -m lightning_cnn.train lightning          # the graded Lightning run
    python -m lightning_cnn.train keras --quick      # the quick (smoke) Keras run

Both open the graded run (``runs/<variant>/<task>/seed0``), asking the autograder to train it
first if it is missing or stale, so this command never trains a second copy of a graded model.
The accuracy is computed by the autograder: see ``assignment2/results/report.md``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

TASKS = {"lightning": "lightning_animals3_cnn", "keras": "keras_animals3_cnn"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (``python -m lightning_cnn.train --help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m lightning_cnn.train",
        description="Open (or make) a graded animals3 CNN run.",
    )
    parser.add_argument("framework", choices=sorted(TASKS))
    parser.add_argument("--quick", action="store_true", help="the smoke variant")
    args = parser.parse_args(argv)
    from a2common.runs import open_graded_run

    run = open_graded_run(TASKS[args.framework], quick=args.quick)
    result = run.result
    print(
        f"{run.task}: {result['epochs']} epochs in {result['train_seconds']:.0f} s, "
        f"{result['parameters']:,} parameters; model {run.model_path()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
