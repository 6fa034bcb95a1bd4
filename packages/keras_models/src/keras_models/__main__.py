"""Command line: train (or load) one recipe and print its test result as JSON.

Usage::

    python -m keras_models list
    python -m keras_models train mnist_cnn --work-dir runs/keras_models [--quick] [--seed 0]
    python -m keras_models card mnist_cnn --work-dir runs/keras_models   # after a full train
    python -m keras_models study --work-dir runs/keras_models [--quick]  # seed-004 DNN study

``card`` loads the finished (cached) model, evaluates it and writes its model card to
``packages/keras_models/model_cards`` (``--cards-dir`` to change); ``study --cards`` also
writes the DNN study's card.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

CARDS_DIR = Path(__file__).resolve().parents[2] / "model_cards"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keras_models", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the training recipes")
    train = commands.add_parser("train", help="train or load a recipe, evaluate on test")
    train.add_argument("recipe")
    train.add_argument("--work-dir", type=Path, default=None)
    train.add_argument("--quick", action="store_true", help="smoke-test variant")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--shuffle-labels", action="store_true")
    train.add_argument("--holdout", action="store_true",
                       help="train on 90%% of train, evaluate on the other 10%% (not test)")
    train.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                       help="override a recipe field for an experiment (JSON value), e.g. "
                            "--set epochs=20 --set augmentation='\"fashion_flip\"'")
    card = commands.add_parser("card", help="write the model card of a fully trained recipe")
    card.add_argument("recipe")
    card.add_argument("--work-dir", type=Path, default=None)
    card.add_argument("--seed", type=int, default=0)
    card.add_argument("--cards-dir", type=Path, default=CARDS_DIR)
    study = commands.add_parser("study", help="seed-004 Fashion-MNIST DNN study")
    study.add_argument("--work-dir", type=Path, default=None)
    study.add_argument("--quick", action="store_true")
    study.add_argument("--seed", type=int, default=0)
    study.add_argument("--cards", action="store_true", help="also write the model card")
    study.add_argument("--cards-dir", type=Path, default=CARDS_DIR)
    args = parser.parse_args(argv)
    if getattr(args, "work_dir", "unset") is None:
        from keras_models.tasks import default_work_dir

        args.work_dir = default_work_dir()

    if args.command == "study":
        return _study(args)

    from keras_models.tasks import RECIPES, run_recipe

    if args.command == "list":
        for name, recipe in RECIPES.items():
            print(f"{name:14s} {recipe.dataset:14s} target {recipe.target:.3f}")
        return 0
    if args.recipe not in RECIPES:
        parser.error(f"unknown recipe {args.recipe!r}; choose from {', '.join(RECIPES)}")
    if args.command == "card":
        from keras_models.cards import write_recipe_card

        run = run_recipe(RECIPES[args.recipe], args.work_dir, seed=args.seed)
        if not run.from_cache:
            print("note: the model was not cached and has just been trained", file=sys.stderr)
        print(write_recipe_card(run, args.cards_dir))
        return 0
    recipe = RECIPES[args.recipe]
    if args.set:
        overrides = {}
        for item in args.set:
            field, _, value = item.partition("=")
            overrides[field] = json.loads(value)
            if isinstance(overrides[field], list):
                overrides[field] = tuple(overrides[field])
        recipe = dataclasses.replace(recipe, **overrides)
    run = run_recipe(recipe, args.work_dir, quick=args.quick, seed=args.seed,
                     shuffle_training_labels=args.shuffle_labels, holdout=args.holdout)
    summary = {"recipe": args.recipe, "test_accuracy": run.evaluation.accuracy,
               "train_seconds": run.train_seconds, "from_cache": run.from_cache,
               **{k: v for k, v in run.details.items() if k != "recipe"}}
    text = json.dumps(summary, indent=2, default=str)
    (Path(run.details["run_dir"]) / "summary.json").write_text(text)
    print(text)
    return 0


def _study(args: argparse.Namespace) -> int:
    from a2common.data import load_dataset

    from keras_models.search import load_dnn_data, rows_to_markdown, run_dnn_study

    data = load_dnn_data(load_dataset("fashion_mnist"), seed=args.seed,
                         train_size=3000 if args.quick else None)
    epochs = (1, 2) if args.quick else (10, 20)
    study = run_dnn_study(data, args.work_dir / "dnn_study", search_epochs=epochs[0],
                          final_epochs=epochs[1], seed=args.seed, verbose=0)
    print(rows_to_markdown(study.grid, ["n1", "n2", "activation", "val_accuracy"]))
    print()
    print(rows_to_markdown(study.rows, ["name", "val_accuracy", "val_ece", "test_accuracy",
                                        "test_ece", "train_seconds"]))
    if args.cards:
        if args.quick:
            print("no card for a quick run", file=sys.stderr)
            return 1
        from keras_models.cards import write_dnn_study_card

        print(write_dnn_study_card(study, data, args.cards_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
