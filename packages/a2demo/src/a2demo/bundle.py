"""Copy only what the demo reads into a small folder (for a container image or a server).

``python -m a2demo.bundle RUNS_SRC RUNS_DST [--cards PACKAGES_SRC CARDS_DST]`` copies, for each
demo model and each run kind that exists, the run's ``result.json``, ``manifest.json``,
``predictions.npz`` and the model files its result names, with the same layout
(``<kind>/<task>/seed0/...``), so ``GradedRun.open`` reads the copy as it reads the original.
``--cards`` also copies the autograder's HTML cards (``*/model_cards/*.html``). A missing
source is not an error: the demo then says "not trained yet".

Example:

>>> import tempfile
>>> bundle_runs(Path("/nonexistent"), Path(tempfile.mkdtemp()))
[]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from a2demo.models import DEMO_MODELS, RUN_KINDS

RUN_FILES = ("result.json", "manifest.json", "predictions.npz")


def bundle_runs(source: Path, destination: Path, seed: int = 0) -> list[Path]:
    """Copy the demo models' finished runs from ``source`` to ``destination``; return the run
    folders written."""
    written = []
    for spec in DEMO_MODELS.values():
        for kind in RUN_KINDS:
            run = source / kind / spec.task / f"seed{seed}"
            if not all((run / name).is_file() for name in RUN_FILES):
                continue
            target = destination / kind / spec.task / f"seed{seed}"
            model_files = json.loads((run / "result.json").read_text())["model_files"]
            for name in [*RUN_FILES, *(f"work/{file}" for file in model_files)]:
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(run / name, target / name)
            written.append(target)
    return written


def bundle_cards(packages: Path, destination: Path) -> list[Path]:
    """Copy ``<packages>/<package>/model_cards/*.html`` to the same layout under
    ``destination``."""
    written = []
    for card in sorted(packages.glob("*/model_cards/*.html")) if packages.is_dir() else []:
        target = destination / card.relative_to(packages)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(card, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """Copy the runs (and cards); print what was copied."""
    parser = argparse.ArgumentParser(
        prog="python -m a2demo.bundle", description=__doc__.split("\n")[0]
    )
    parser.add_argument("runs_source", type=Path)
    parser.add_argument("runs_destination", type=Path)
    parser.add_argument("--cards", nargs=2, type=Path, metavar=("PACKAGES_SRC", "CARDS_DST"))
    args = parser.parse_args(argv)
    args.runs_destination.mkdir(parents=True, exist_ok=True)
    runs = bundle_runs(args.runs_source, args.runs_destination)
    cards = bundle_cards(*args.cards) if args.cards else []
    print(f"copied {len(runs)} run(s) and {len(cards)} card(s)")
    for path in [*runs, *cards]:
        print(f"  {path}")
    if not runs:
        print("no demo run found: the demo will say 'not trained yet' (make grade)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
