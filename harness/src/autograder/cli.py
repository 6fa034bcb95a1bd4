"""Command line of the autograder.

Examples::

    python -m autograder grade                      # every task (valid graded runs re-used)
    python -m autograder grade --quick              # smoke variants, about a minute each
    python -m autograder grade --package keras_models
    python -m autograder grade --only keras_mnist_mlp --fresh
    python -m autograder ensure keras_mnist_cnn     # make sure the graded run exists (notebooks)
    python -m autograder list

``grade`` trains only the selected tasks (all by default) but lists every task in
``results.json``: one with a valid graded run is graded from it, one without is "not graded in
this run". Ctrl-C (or SIGTERM) stops the running task's whole process group, keeps the finished
tasks in ``results.json`` and exits 130; the next ``grade`` resumes.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.table import Table

from a2common.runs import run_dir, runs_root
from autograder.cards import write_cards
from autograder.environment import problems
from autograder.index import write_index
from autograder.registry import TASKS, Task, tasks_of_package
from autograder.results import build_results, write_results
from autograder.runner import (
    REPO_ROOT,
    Interrupted,
    LabelCache,
    Outcome,
    dirty_sources,
    ensure_run,
    grade_task,
)

DEFAULT_RESULTS = REPO_ROOT / "assignment2" / "results"


@contextmanager
def interruptible() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while the block runs."""

    def handler(signum: int, frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def grade(
    tasks: dict[str, Task],
    train: list[str],
    *,
    quick: bool,
    out_dir: Path,
    root: Path | None,
    console: Console,
    extra_pythonpath: list[str] | None = None,
    cards: bool = False,
) -> tuple[dict, int]:
    """Grade every task of ``tasks`` (training those in ``train``); returns (results, exit code).

    ``results.json`` and ``report.md`` are rewritten after every task.
    """
    start = time.perf_counter()
    outcomes = {
        name: Outcome(task, quick, "not_run", message="not graded yet")
        for name, task in tasks.items()
    }
    labels = LabelCache()

    def save(complete: bool) -> dict:
        results = build_results(
            list(outcomes.values()),
            quick=quick,
            complete=complete,
            wall_seconds=time.perf_counter() - start,
        )
        write_results(results, out_dir)
        return results

    save(complete=False)
    current = ""
    try:
        with interruptible():
            for name, task in tasks.items():
                current = name
                selected = name in train
                if selected:
                    budget = task.quick_budget_s if quick else task.budget_s
                    console.print(
                        f"[bold]{name}[/bold]: {task.title} "
                        f"({'quick' if quick else 'full'}, budget {budget} s)"
                    )
                outcome = grade_task(
                    task,
                    quick=quick,
                    root=root,
                    console=console,
                    label_cache=labels,
                    train=selected,
                    extra_pythonpath=extra_pythonpath,
                )
                outcomes[name] = outcome
                if selected or outcome.state != "not_run":
                    _print_outcome(console, outcome)
                save(complete=False)
    except (Interrupted, KeyboardInterrupt) as reason:
        outcomes[current].state = "interrupted"
        outcomes[current].message = (
            f"Interrupted ({reason or 'Ctrl-C'}) while this task ran; "
            "its checkpoints are kept and the next grade resumes it."
        )
        save(complete=False)
        console.print(
            f"[yellow]Interrupted[/yellow] during {current}: finished tasks are kept in "
            f"{out_dir / 'results.json'}; run the same command again to resume."
        )
        return save(complete=False), 130
    results = save(complete=True)
    _print_table(console, results)
    if cards:
        written, refused = write_cards(results, tasks)
        for path in written:
            console.print(f"wrote {path.relative_to(REPO_ROOT)}")
        for refusal in refused:
            console.print(f"[red]{refusal}[/red]")
    failed = [name for name in train if outcomes[name].state != "passed"]
    return results, 1 if failed else 0


def _print_outcome(console: Console, outcome: Outcome) -> None:
    colour = {"passed": "green", "failed": "red"}.get(outcome.state, "yellow")
    value = "–" if outcome.value is None else f"{outcome.value:.4f}"
    how = " (graded run re-used)" if outcome.from_cache else ""
    console.print(
        f"  [{colour}]{outcome.state}[/{colour}] {outcome.task.name}: "
        f"{outcome.task.primary.name}={value} in {outcome.seconds:.0f} s{how}"
    )
    if outcome.state != "passed" and outcome.message:
        console.print(f"  {outcome.message.splitlines()[0]}")


def _print_table(console: Console, results: dict) -> None:
    table = Table(title=results["output"])
    for column in ("task", "value", "required", "target", "wall time", "status"):
        table.add_column(column)
    for test in results["tests"]:
        extra = test["extra_data"]
        table.add_row(
            extra["task"],
            "–" if extra["value"] is None else f"{extra['value']:.4f}",
            str(extra["required"]),
            str(extra["target"]),
            f"{extra['seconds']:.0f} s",
            extra["state"],
        )
    console.print(table)


def _submission_command(args: argparse.Namespace, console: Console) -> int:
    """The ``submission``, ``docs`` and ``gradescope`` subcommands (issue 14)."""
    if args.command == "gradescope":
        from autograder.gradescope import build_bundle, find_shared

        shared = None if args.no_shared else find_shared()
        folder, archive = build_bundle(args.out, shared=shared)
        console.print(
            f"wrote {folder} and {archive}" + ("" if shared else " (without shared data/weights)")
        )
        return 0
    from autograder import submission

    if args.command == "docs":
        console.print(f"wrote {submission.build_docs()}")
        return 0
    exports, readme = submission.build_submission(
        pdf=not args.no_pdf, progress=lambda e: console.print(f"{e.notebook}: {e.note}")
    )
    console.print(
        f"wrote {readme} ({sum(bool(e.html) for e in exports)} HTML, "
        f"{sum(bool(e.pdf) for e in exports)} PDF exports of {len(exports)} notebooks)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description="assignment2 autograder"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    grade_parser = commands.add_parser("grade", help="train/evaluate tasks and write results")
    grade_parser.add_argument("--quick", action="store_true", help="smoke variants only")
    grade_parser.add_argument(
        "--only", nargs="+", choices=sorted(TASKS), metavar="TASK", help="train only these tasks"
    )
    grade_parser.add_argument("--package", help="train only this package's tasks")
    grade_parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results folder (default assignment2/results[/quick])",
    )
    grade_parser.add_argument(
        "--runs",
        type=Path,
        default=None,
        help="graded runs folder (default $ASSIGNMENT2_RUNS_DIR or runs/)",
    )
    grade_parser.add_argument(
        "--fresh", action="store_true", help="delete the selected tasks' graded runs first"
    )
    grade_parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="write the committed results from a tree with uncommitted source changes",
    )
    ensure_parser = commands.add_parser("ensure", help="make sure a task's graded run exists")
    ensure_parser.add_argument("task", choices=sorted(TASKS), metavar="TASK")
    ensure_parser.add_argument("--quick", action="store_true")
    ensure_parser.add_argument("--seed", type=int, default=None)
    commands.add_parser("list", help="list the graded tasks")
    commands.add_parser("check-env", help="check the installed stack against the pins")
    commands.add_parser("cards", help="model cards + submission index from the last full grade")
    commands.add_parser("index", help="rewrite assignment2/README.md")
    submission_parser = commands.add_parser(
        "submission", help="notebook HTML/PDF exports + assignment2/README.md (issue 14)"
    )
    submission_parser.add_argument("--no-pdf", action="store_true", help="HTML exports only")
    commands.add_parser("docs", help="API reference with pdoc into assignment2/docs/api")
    gradescope_parser = commands.add_parser("gradescope", help="build the Gradescope bundle")
    gradescope_parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "build" / "gradescope",
        help="bundle folder (the zip is written beside it)",
    )
    gradescope_parser.add_argument(
        "--no-shared",
        action="store_true",
        help="leave shared/data and shared/weights out of the bundle",
    )
    args = parser.parse_args(argv)
    console = Console()
    if args.command in ("submission", "docs", "gradescope"):
        return _submission_command(args, console)

    if args.command == "check-env":
        found = problems()
        for problem in found:
            console.print(f"[red]environment problem:[/red] {problem}")
        if not found:
            console.print(
                "environment OK: our packages import from this tree, torch is the "
                "CPU build, PyPI's autograd is absent."
            )
        return 1 if found else 0
    if args.command == "list":
        for task in TASKS.values():
            thresholds = ", ".join(
                f"{m.name}{'' if m.head == 'output' else f'[{m.head}]'} ≥ "
                f"{m.required} (target {m.target})"
                for m in task.metrics
            )
            console.print(f"{task.name:26} {thresholds}, budget {task.budget_s} s — {task.title}")
        return 0
    if args.command == "ensure":
        task = TASKS[args.task]
        seeds = [args.seed] if args.seed is not None else list(task.seeds)
        with interruptible():
            for seed in seeds:
                run = ensure_run(
                    task,
                    quick=args.quick,
                    seed=seed,
                    root=None,
                    timeout_s=task.quick_budget_s if args.quick else task.budget_s,
                    console=console,
                )
                if not run.usable:
                    console.print(f"[red]{task.name} seed {seed}: {run.message}[/red]")
                    return 1
                console.print(
                    f"{task.name} seed {seed}: graded run "
                    f"{'re-used' if run.state == 'cached' else 'trained'} in {run.path}"
                )
        return 0
    if args.command in ("cards", "index"):
        if args.command == "cards":
            import json

            results = json.loads((DEFAULT_RESULTS / "results.json").read_text())
            written, refused = write_cards(results, TASKS)
            for path in written:
                console.print(f"wrote {path}")
            for reason in refused:
                console.print(f"[red]{reason}[/red]")
        console.print(f"wrote {write_index()}")
        return 0

    try:
        train = args.only or (tasks_of_package(args.package) if args.package else list(TASKS))
    except ValueError as error:
        parser.error(str(error))
    out_dir = args.out or (DEFAULT_RESULTS / "quick" if args.quick else DEFAULT_RESULTS)
    committed = out_dir.resolve() == DEFAULT_RESULTS.resolve()
    dirty = dirty_sources() if committed else []
    if dirty and not args.allow_dirty:
        console.print(
            "[red]Refusing to write the committed results from a tree with "
            f"uncommitted source changes[/red] ({', '.join(dirty[:5])}"
            f"{' …' if len(dirty) > 5 else ''}). Commit first, or pass --allow-dirty "
            "(make grade ALLOW_DIRTY=1) for a throw-away grade."
        )
        return 2
    if args.fresh:
        for name in train:
            for seed in TASKS[name].seeds:
                stale = run_dir(name, quick=args.quick, seed=seed, root=args.runs)
                if stale.exists():
                    shutil.rmtree(stale)
    console.print(f"graded runs in {args.runs or runs_root()}")
    _, code = grade(
        TASKS,
        train,
        quick=args.quick,
        out_dir=out_dir,
        root=args.runs,
        console=console,
        cards=committed and not args.quick,
    )
    if committed:
        console.print(f"wrote {write_index()}")
    return code


if __name__ == "__main__":
    sys.exit(main())
