"""Command line: train (or load) one recipe and print its test result as JSON.

Usage::

    python -m keras_models list
    python -m keras_models train mnist_cnn [--quick]      # the graded run (made by the autograder)
    python -m keras_models experiment fashion_lenet_cnn --set epochs=20  # 90/10 hold-out
    python -m keras_models study --work-dir runs/keras_models [--quick]  # seed-004 DNN study
    python -m keras_models tune [pima|cifar7|adult|wine|all] [--quick] [--kind hyperband]
    python -m keras_models animals6-study --work-dir runs/study/animals6 [--quick]

``train NAME`` opens the graded run of task ``keras_NAME`` (one of :data:`GRADED_MODELS`: the MNIST
MLP recipe and the three speedrun CNNs), asking the autograder to train it first if needed, so no
graded model is trained twice; the autograder computes its test accuracy and writes its model
card. ``experiment RECIPE`` trains a variant of a :data:`keras_models.recipes.RECIPES` entry on 90%
of the training set and reports accuracy on the other 10% (the test split stays untouched); the
speedrun CNNs have their own hold-out command, ``python -m keras_models.speedrun``.

``tune`` runs the bounded keras-tuner search of each seed-000 problem on its validation split
into ``runs/tune/<problem>/`` (``runs/tune-quick/`` with ``--quick``, a two-trial smoke run):
each trial's TensorBoard logs, and ``best_hyperparameters.json`` with the best trial's values
and score. Run it again and finished trials are reloaded, not retrained.

``animals6-study`` runs seed 004 part 3's experiments (:mod:`keras_models.animals6_study`:
``DefaultModel``, the 12-run grid, augmentation, mixup, SAM, two more seeds) into one JSON record
per run under ``--work-dir`` (default ``runs/study/animals6``, ``runs/study/animals6-quick``
with ``--quick``); finished runs are reused, and it prints the tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # the CLI imports Keras only for the commands that need it
    from keras_models.tuning import SearchResult

GRADED_MODELS = ("mnist_mlp", "mnist_cnn", "fashion_cnn", "cifar10_cnn")
"""Names ``train`` accepts: graded task ``keras_<name>`` (the first is ``RECIPES["mnist_mlp"]``,
the others ``speedrun_tasks.SPEEDRUNS[<name>]``). Written out rather than read from
``speedrun_tasks.GRADED_TASKS`` so that parsing the command line does not import Keras;
``tests/test_cli.py`` checks that the two agree."""
TUNE_PROBLEMS = ("pima", "cifar7", "adult", "wine")
"""The seed-000 problems with a keras-tuner search (``python -m keras_models tune``)."""
QUICK_TUNE_BOUNDS: dict[str, dict[str, Any]] = {
    "pima": {"max_trials": 2, "epochs": 2},
    "adult": {"max_trials": 2, "epochs": 1},
    "wine": {"max_trials": 2, "epochs": 2},
    "cifar7": {"max_trials": 2, "epochs": 1, "train_per_class": 30},
}
"""Bounds of ``tune --quick`` (a smoke run); the full searches use each ``tune_*``'s defaults."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m keras_models",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the training recipes and the graded models")
    train = commands.add_parser("train", help="open (or make) the graded run of a model")
    train.add_argument("model", choices=GRADED_MODELS)
    train.add_argument("--quick", action="store_true", help="smoke-test variant")
    experiment = commands.add_parser(
        "experiment", help="train a variant on a 90/10 hold-out of train"
    )
    experiment.add_argument("recipe")
    experiment.add_argument("--work-dir", type=Path, default=None)
    experiment.add_argument("--quick", action="store_true", help="smoke-test variant")
    experiment.add_argument("--seed", type=int, default=0)
    experiment.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a recipe field (JSON value), e.g. --set epochs=20 "
        "--set augmentation='\"fashion_flip\"'",
    )
    study = commands.add_parser("study", help="seed-004 Fashion-MNIST DNN study")
    study.add_argument("--work-dir", type=Path, default=None)
    study.add_argument("--quick", action="store_true")
    study.add_argument("--seed", type=int, default=0)
    tune = commands.add_parser("tune", help="seed-000 keras-tuner searches (resumable)")
    tune.add_argument("problem", nargs="?", default="all", choices=(*TUNE_PROBLEMS, "all"))
    tune.add_argument("--quick", action="store_true", help="two tiny trials per problem")
    tune.add_argument("--kind", choices=("random", "hyperband"), default="random")
    tune.add_argument(
        "--root",
        type=Path,
        default=None,
        help="folder of the searches (default runs/tune, runs/tune-quick)",
    )
    tune.add_argument("--seed", type=int, default=0)
    animals6 = commands.add_parser(
        "animals6-study", help="seed-004 part-3 study on animals6 (resumable)"
    )
    animals6.add_argument("--work-dir", type=Path, default=None)
    animals6.add_argument("--quick", action="store_true", help="tiny smoke-test runs")
    args = parser.parse_args(argv)
    if args.command == "animals6-study":
        return _animals6_study(args)
    if getattr(args, "work_dir", "unset") is None:
        from keras_models.recipe_runs import default_work_dir

        args.work_dir = default_work_dir()

    if args.command == "study":
        return _study(args)
    if args.command == "tune":
        return _tune(args)

    from keras_models.recipe_runs import run_recipe
    from keras_models.recipes import RECIPES

    if args.command == "list":
        print("recipes (python -m keras_models experiment RECIPE):")
        for name, recipe in RECIPES.items():
            print(f"  {name:20s} {recipe.dataset:14s} target {recipe.target:.3f}")
        print("graded models (python -m keras_models train NAME opens task keras_NAME):")
        print("  " + ", ".join(GRADED_MODELS))
        return 0
    if args.command == "train":
        from a2common.runs import open_graded_run

        run = open_graded_run(f"keras_{args.model}", quick=args.quick)
        result = run.result
        print(
            json.dumps(
                {
                    "run": str(run.path),
                    "model": str(run.model_path()),
                    "epochs": result["epochs"],
                    "parameters": result["parameters"],
                    "train_seconds": round(result["train_seconds"], 1),
                },
                indent=2,
            )
        )
        print("Test accuracy (computed by the autograder): assignment2/results/report.md")
        return 0
    if args.recipe not in RECIPES:
        parser.error(f"unknown recipe {args.recipe!r}; choose from {', '.join(RECIPES)}")
    recipe = RECIPES[args.recipe]
    if args.set:
        overrides = {}
        for item in args.set:
            field, _, value = item.partition("=")
            overrides[field] = json.loads(value)
            if isinstance(overrides[field], list):
                overrides[field] = tuple(overrides[field])
        recipe = dataclasses.replace(recipe, **overrides)
    trained = run_recipe(recipe, args.work_dir, quick=args.quick, seed=args.seed, holdout=True)
    summary = {
        "recipe": args.recipe,
        "holdout_accuracy": trained.evaluation.accuracy,
        "train_seconds": trained.train_seconds,
        "from_cache": trained.from_cache,
        **{k: v for k, v in trained.details.items() if k != "recipe"},
    }
    text = json.dumps(summary, indent=2, default=str)
    (Path(trained.details["run_dir"]) / "summary.json").write_text(text)
    print(text)
    return 0


def _study(args: argparse.Namespace) -> int:
    from a2common.data import load_dataset
    from keras_models.search import load_dnn_data, rows_to_markdown, run_dnn_study

    data = load_dnn_data(
        load_dataset("fashion_mnist"), seed=args.seed, train_size=3000 if args.quick else None
    )
    epochs = (1, 2) if args.quick else (10, 20)
    study = run_dnn_study(
        data,
        args.work_dir / "dnn_study",
        search_epochs=epochs[0],
        final_epochs=epochs[1],
        seed=args.seed,
        verbose=0,
    )
    print(rows_to_markdown(study.grid, ["n1", "n2", "activation", "val_accuracy"]))
    print()
    print(
        rows_to_markdown(
            study.rows,
            ["name", "val_accuracy", "val_ece", "test_accuracy", "test_ece", "train_seconds"],
        )
    )
    return 0


def _animals6_study(args: argparse.Namespace) -> int:
    from a2common.runs import runs_root
    from keras_models import animals6_study as study

    work_dir = args.work_dir or runs_root() / "study" / (
        "animals6-quick" if args.quick else "animals6"
    )
    results = study.run_study(work_dir, quick=args.quick, log=lambda line: print(line, flush=True))
    noise = study.seed_noise(results)
    print()
    print(study.frame_to_markdown(study.grid_frame(results)))
    print()
    print(study.frame_to_markdown(study.skip_frame(results)))
    print()
    print(
        f"best on validation: {results.best.config.name}; seed noise (3 seeds): test "
        f"{noise['test_mean']:.4f} ± {noise['test_std']:.4f}, val "
        f"{noise['val_mean']:.4f} ± {noise['val_std']:.4f}"
    )
    print(study.frame_to_markdown(study.comparison_frame(results)))
    return 0


def _tune(args: argparse.Namespace) -> int:
    from a2common.runs import runs_root
    from a2common.tables import markdown_table
    from keras_models import binary, cifar7, logistic, multihead

    searches: dict[str, Callable[..., SearchResult]] = {
        "pima": binary.tune_pima,
        "cifar7": cifar7.tune_cifar7,
        "adult": logistic.tune_logistic,
        "wine": multihead.tune_wine,
    }
    root = args.root or runs_root() / ("tune-quick" if args.quick else "tune")
    problems = TUNE_PROBLEMS if args.problem == "all" else (args.problem,)
    rows = []
    for problem in problems:
        bounds = QUICK_TUNE_BOUNDS[problem] if args.quick else {}
        print(f"== {problem}: {args.kind} search in {root / problem}", flush=True)
        start = time.perf_counter()
        search = searches[problem](
            root / problem, seed=args.seed, kind=args.kind, verbose=2, **bounds
        )
        seconds = time.perf_counter() - start
        print(
            f"== {problem}: best {search.objective} {search.best_score:.4f} "
            f"({len(search.trials)} trials, {seconds:.0f} s this session): "
            f"{search.directory}/best_hyperparameters.json",
            flush=True,
        )
        rows.append(
            [
                problem,
                search.objective,
                search.best_score,
                len(search.trials),
                json.dumps(search.best_values),
                round(seconds),
            ]
        )
    print(
        markdown_table(
            [
                "problem",
                "objective (validation)",
                "best",
                "trials",
                "best hyperparameters",
                "seconds",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
