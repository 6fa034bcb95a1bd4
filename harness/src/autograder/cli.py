"""Command line of the autograder.

Examples::

    python -m autograder grade              # every task, full training (cached models reused)
    python -m autograder grade --quick      # smoke variants, about a minute each
    python -m autograder grade --only keras_mnist_mlp --no-cache
    python -m autograder list
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autograder.cards import write_cards
from autograder.environment import problems
from autograder.index import write_index
from autograder.registry import TASKS
from autograder.results import build_results, write_results
from autograder.runner import DEFAULT_CACHE, REPO_ROOT, Outcome, run_task

DEFAULT_RESULTS = REPO_ROOT / "assignment2" / "results"


def grade(names: list[str], *, quick: bool, seed: int, out_dir: Path, cache_root: Path,
          console: Console) -> dict:
    outcomes: list[Outcome] = []
    start = time.perf_counter()
    for name in names:
        task = TASKS[name]
        console.print(f"[bold]{name}[/bold]: {task.title} "
                      f"({'quick' if quick else 'full'}, budget "
                      f"{task.quick_budget_s if quick else task.budget_s} s) …")
        outcome = run_task(task, quick=quick, seed=seed, cache_root=cache_root,
                           log_dir=out_dir / "logs")
        value = "–" if outcome.value is None else f"{outcome.value:.4f}"
        colour = "green" if outcome.status == "passed" else "red"
        cached = " (cached model)" if outcome.from_cache else ""
        console.print(f"  [{colour}]{outcome.status}[/{colour}] {task.metric}={value} "
                      f"in {outcome.seconds:.0f} s{cached}")
        if outcome.status != "passed":
            console.print(f"  {outcome.message.splitlines()[0] if outcome.message else ''}")
        outcomes.append(outcome)
    results = build_results(outcomes, quick=quick, seed=seed,
                            wall_seconds=time.perf_counter() - start)
    json_path, report_path = write_results(results, out_dir)
    table = Table(title=results["output"])
    for column in ("task", "value", "required", "target", "wall time", "status"):
        table.add_column(column)
    for test in results["tests"]:
        extra = test["extra_data"]
        table.add_row(extra["task"], "–" if extra["value"] is None else f"{extra['value']:.4f}",
                      str(extra["required"]), str(extra["target"]), f"{extra['seconds']:.0f} s",
                      test["status"])
    console.print(table)
    console.print(f"Wrote {json_path} and {report_path}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="assignment2 autograder")
    commands = parser.add_subparsers(dest="command", required=True)
    grade_parser = commands.add_parser("grade", help="train/evaluate tasks and write results")
    grade_parser.add_argument("--quick", action="store_true", help="smoke variants only")
    grade_parser.add_argument("--only", nargs="+", choices=sorted(TASKS), metavar="TASK",
                              help="grade only these tasks")
    grade_parser.add_argument("--seed", type=int, default=0)
    grade_parser.add_argument("--out", type=Path, default=None,
                              help="results folder (default assignment2/results[/quick])")
    grade_parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    grade_parser.add_argument("--no-cache", action="store_true",
                              help="delete cached models of the graded tasks first")
    commands.add_parser("list", help="list the graded tasks")
    commands.add_parser("check-env", help="check the installed stack against the pins")
    commands.add_parser("cards", help="model cards + submission index from the last full grade")
    commands.add_parser("index", help="rewrite assignment2/README.md")
    args = parser.parse_args(argv)
    console = Console()

    if args.command == "check-env":
        found = problems()
        for problem in found:
            console.print(f"[red]environment problem:[/red] {problem}")
        if not found:
            console.print("environment OK: our packages import from this tree, torch is the "
                          "CPU build, PyPI's autograd is absent.")
        return 1 if found else 0

    if args.command in ("cards", "index"):
        if args.command == "cards":
            for path in write_cards(DEFAULT_RESULTS / "results.json"):
                console.print(f"wrote {path}")
        console.print(f"wrote {write_index()}")
        return 0
    if args.command == "list":
        for task in TASKS.values():
            console.print(f"{task.name:24} {task.metric} ≥ {task.required} (target "
                          f"{task.target}), budget {task.budget_s} s — {task.title}")
        return 0
    names = args.only or list(TASKS)
    out_dir = args.out or (DEFAULT_RESULTS / "quick" if args.quick else DEFAULT_RESULTS)
    if args.no_cache:
        for name in names:
            for stale in args.cache.glob(f"{name}-*"):
                shutil.rmtree(stale)
    results = grade(names, quick=args.quick, seed=args.seed, out_dir=out_dir,
                    cache_root=args.cache, console=console)
    if out_dir == DEFAULT_RESULTS:
        console.print(f"Wrote {write_index()}")
    return 0 if all(t["status"] == "passed" for t in results["tests"]) else 1


if __name__ == "__main__":
    sys.exit(main())
