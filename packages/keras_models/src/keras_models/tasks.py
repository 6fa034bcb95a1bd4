"""Graded tasks: train (or load from the cache) and evaluate on the **test** split.

Each ``grade_*`` function follows the harness contract of :mod:`a2common.grading`::

    grade_mnist_mlp(ctx)    # Sequential MLP on MNIST            (target >= 0.982)
    grade_mnist_cnn(ctx)    # CNN on MNIST                       (target >= 0.996)
    grade_fashion_cnn(ctx)  # CNN on Fashion-MNIST               (target >= 0.945)
    grade_cifar10_cnn(ctx)  # speedrun CNN on CIFAR-10           (target >= 0.90)

and its model card's prose is written here. The training recipe of the first three lives in
:data:`keras_models.recipes.RECIPES`; :func:`keras_models.recipe_runs.run_recipe` trains one
(both are re-exported here, as notebooks import them from this module). CIFAR-10 is trained by
:func:`keras_models.cifar_speedrun.train_speedrun` with :data:`SPEEDRUN` (issue 15).
``ctx.quick`` trains on a small subset for one or two epochs (a smoke test: the accuracy is not
meant to reach the target). ``ctx.params["shuffle_labels"]`` (MLP) shuffles the training
labels, which makes a model that cannot beat chance: the harness uses it to show that a broken
model fails its threshold.

Example: a task loads its dataset and trains (minutes; the quick variant still trains on
thousands of images), so it is not run here::

    result = grade_mnist_mlp(TaskContext(quick=True, seed=0, work_dir=Path("/tmp/mlp")))
    result.predictions.shape  # (10000, 10)

The registry of tasks, and the recipe and model one of them trains:

>>> sorted(GRADED_TASKS)
['cifar10_cnn', 'fashion_cnn', 'mnist_cnn', 'mnist_mlp']
>>> recipe = RECIPES["mnist_mlp"]
>>> recipe.dataset, recipe.target, build_recipe_model(recipe, 10, None).output_shape
('mnist', 0.982, (None, 10))
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

from a2common.compute import training_compute
from a2common.data import load_dataset
from a2common.grading import ModelCardText, TaskContext, TaskResult
from a2common.keras_training import MODEL_FILE, finished_model_exists
from a2common.tables import keras_layer_table
from keras_models.cifar_speedrun import (
    SpeedrunConfig,
    predict_with_tta,
    resolve_precision,
    train_speedrun,
)
from keras_models.data import prepare_images, take_subset
from keras_models.recipe_runs import TrainedModel, default_work_dir, run_recipe
from keras_models.recipes import RECIPES, Recipe, build_recipe_model

__all__ = [
    "GRADED_TASKS",
    "grade_cifar10_cnn",
    "grade_fashion_cnn",
    "grade_mnist_cnn",
    "grade_mnist_mlp",
    "SPEEDRUN",
    "SPEEDRUN_QUICK",
    # Re-exported for the notebooks and scripts that import them from here.
    "RECIPES",
    "Recipe",
    "TrainedModel",
    "build_recipe_model",
    "default_work_dir",
    "run_recipe",
]


_OVERVIEWS = {
    "mnist_mlp": "A Sequential multilayer perceptron (Flatten, two hidden Dense layers of 512 "
    "ReLU units with dropout 0.2, softmax) that classifies 28x28 handwritten digits (MNIST).",
    "mnist_cnn": "A LeNet-shaped convolutional network with BatchNorm and dropout that "
    "classifies 28x28x1 handwritten digits (MNIST), trained with small random "
    "rotations, zooms and shifts.",
    "fashion_cnn": "A two-stage convolutional network with BatchNorm and dropout that "
    "classifies 28x28x1 Fashion-MNIST clothing images into 10 classes. "
    "Predictions average each image and its mirror image.",
    "cifar10_cnn": "An airbench-style speedrun CNN (frozen patch-whitening first layer computed "
    "from the training images, three Conv-Pool-BatchNorm-GELU blocks of 64, 256 and 256 "
    "filters, max-pooled linear head) that classifies 32x32 colour CIFAR-10 photos into 10 "
    "classes. Predictions average six views of each image: itself and its mirror, each "
    "also shifted one pixel up-left and down-right.",
}
_DATA_TEXT = {
    "mnist": (
        "MNIST training split: 60,000 28x28 grey-scale digits, official order.",
        "MNIST test split: the official 10,000 digits, never used for training or model selection.",
        [
            "Digit class.",
            "Writer population: US Census employees and high-school "
            "students; other handwriting is not represented.",
        ],
        [
            "Trained only on centred, size-normalised white-on-black digits: other "
            "handwriting styles, colours, positions or scanned documents need new data."
        ],
    ),
    "fashion_mnist": (
        "Fashion-MNIST training split: 60,000 28x28 grey-scale Zalando product "
        "photos (Debian package dataset-fashion-mnist).",
        "Fashion-MNIST test split: the official 10,000 images.",
        ["Clothing class: shirt, T-shirt/top, pullover and coat are the commonest confusions."],
        [
            "Centred product photos on a plain background only; real-world photos "
            "of clothing are out of distribution."
        ],
    ),
    "cifar10": (
        "CIFAR-10 training split: 50,000 32x32 colour photos (decoded from the "
        "quality-75 JPEG copy in shared/data).",
        "CIFAR-10 test split: the official 10,000 photos.",
        [
            "Object class: cat/dog and automobile/truck are the commonest confusions.",
            "Image quality: the photos were re-encoded as JPEG, so accuracy on the "
            "original PNG-quality images may differ slightly.",
        ],
        ["32x32 images of the 10 CIFAR-10 classes only: anything else is forced into one of them."],
    ),
}


def _card_text(
    name: str,
    dataset: str,
    model: Any,
    settings: str,
    intended_use: str = "Teaching: a worked example of a Keras image classifier and of how far "
    "a small model gets on this dataset.",
    extra_caveats: tuple[str, ...] = (),
) -> ModelCardText:
    """The model card's prose of a graded model (the autograder adds every number)."""
    training, evaluation, factors, caveats = _DATA_TEXT[dataset]
    return ModelCardText(
        overview=_OVERVIEWS.get(name, name),
        architecture=keras_layer_table(model),
        intended_uses=[intended_use],
        intended_users=["Students and instructors of an introductory deep-learning course."],
        out_of_scope_uses=["Decisions about people, documents or products."],
        factors=factors,
        training_data=training + settings,
        evaluation_data=evaluation,
        ethical_considerations=[
            ("Not for decisions about people.", "Use only as a teaching example.")
        ],
        caveats=[
            *caveats,
            "One seed; differences of a few tenths of a percent between runs "
            "are within seed-to-seed noise.",
            *extra_caveats,
        ],
    )


def _card(run: TrainedModel) -> ModelCardText:
    """The model card's prose for a recipe."""
    recipe = run.recipe
    settings = (
        f" Optimizer {recipe.optimizer}, learning rate {recipe.learning_rate:g}"
        f"{' (one-cycle peak)' if recipe.one_cycle else ''}, batch {recipe.batch_size},"
        f" {recipe.epochs} epochs, augmentation {recipe.augmentation or 'none'}, label "
        f"smoothing {recipe.label_smoothing}."
    )
    return _card_text(recipe.name, recipe.dataset, run.model, settings)


_SELF_SCORES = ("test_loss", "test_accuracy_single_view", "test_ece")
"""Diagnostics ``run_recipe`` computes for experiments; a graded task does not report them."""


def _grade(recipe_name: str, ctx: TaskContext, shuffle: bool = False) -> TaskResult:
    # The autograder grades the whole test split, the quick variant included.
    recipe = dataclasses.replace(RECIPES[recipe_name], quick_test_size=None)
    run = run_recipe(
        recipe, ctx.work_dir, quick=ctx.quick, seed=ctx.seed, shuffle_training_labels=shuffle
    )
    run_dir = Path(run.details["run_dir"])
    return TaskResult(
        predictions=run.evaluation.probabilities,
        train_seconds=run.train_seconds,
        epochs=len(run.history.get("loss", [])),
        parameters=run.details["parameters"],
        history=run.history,
        model_files=[str((run_dir / MODEL_FILE).relative_to(ctx.work_dir))],
        card=_card(run),
        details={k: v for k, v in run.details.items() if k not in _SELF_SCORES},
    )


def grade_mnist_mlp(ctx: TaskContext) -> TaskResult:
    """MNIST, Sequential MLP (Flatten → 2 x Dense 512 ReLU → Dense softmax, Adam): test accuracy.

    ``ctx.params["shuffle_labels"] = True`` trains on shuffled labels (a deliberately broken
    model that scores about 0.1).
    """
    return _grade("mnist_mlp", ctx, shuffle=bool(ctx.params.get("shuffle_labels", False)))


def grade_mnist_cnn(ctx: TaskContext) -> TaskResult:
    """MNIST, CNN on ``(28, 28, 1)`` inputs: test accuracy."""
    return _grade("mnist_cnn", ctx)


def grade_fashion_cnn(ctx: TaskContext) -> TaskResult:
    """Fashion-MNIST, CNN on ``(28, 28, 1)`` inputs: test accuracy."""
    return _grade("fashion_cnn", ctx)


SPEEDRUN = SpeedrunConfig()
"""The graded CIFAR-10 speedrun: widths (64, 256, 256), 12 epochs, batch 256 (issue 15)."""

SPEEDRUN_QUICK = SpeedrunConfig(widths=(16, 64, 64), epochs=2, lookahead=False)
"""The smoke-test variant, trained on :data:`SPEEDRUN_QUICK_TRAIN_SIZE` images."""

SPEEDRUN_QUICK_TRAIN_SIZE = 6000


def _speedrun_card(config: SpeedrunConfig, model: Any, precision: str) -> ModelCardText:
    settings = (
        f" Nesterov SGD (momentum {config.momentum}, peak learning rate "
        f"{config.scaled_learning_rate:g} with a triangular warm-up/decay schedule, decoupled "
        f"weight decay {config.weight_decay:g}, BatchNorm shifts at 64x the learning rate), "
        f"batch {config.batch_size}, {config.epochs} epochs, label smoothing "
        f"{config.label_smoothing}, alternating flips and {config.translate_pixels}-pixel "
        f"translations, Lookahead weight averaging from epoch {config.lookahead_start_epoch}; "
        f"computed in {precision}."
    )
    return _card_text(
        "cifar10_cnn",
        "cifar10",
        model,
        settings,
        intended_use="Teaching: a worked example of fast CNN training on a CPU (what each "
        "speedrun trick buys), and of how far a small network gets on CIFAR-10.",
        extra_caveats=(
            "Trained in bfloat16 on CPUs with native bfloat16 arithmetic (AMX) and in float32 "
            "elsewhere, so two machines can give slightly different models.",
        ),
    )


def grade_cifar10_cnn(ctx: TaskContext) -> TaskResult:
    """CIFAR-10, the airbench-style speedrun CNN (:data:`SPEEDRUN`): test accuracy."""
    config = SPEEDRUN_QUICK if ctx.quick else SPEEDRUN
    dataset = load_dataset("cifar10")
    train_images, train_labels = dataset.train.x, dataset.train.y
    if ctx.quick:
        train_images, train_labels = take_subset(
            train_images, train_labels, SPEEDRUN_QUICK_TRAIN_SIZE, ctx.seed
        )
    train_images = prepare_images(train_images, (32, 32, 3))
    variant = "quick" if ctx.quick else "full"
    run_dir = Path(ctx.work_dir) / f"cifar10_speedrun-{variant}-seed{ctx.seed}-{config.digest()}"
    from_cache = finished_model_exists(run_dir)
    model, history, train_seconds = train_speedrun(
        config, run_dir, train_images, train_labels, seed=ctx.seed
    )
    precision = resolve_precision(config.precision)
    if from_cache:
        precision = model.get_layer("block0_conv0").dtype_policy.name
    probabilities = predict_with_tta(
        model, prepare_images(dataset.test.x, (32, 32, 3)), level=config.tta_level
    )
    compute = training_compute(
        model,
        len(train_labels) * config.epochs,
        train_seconds,
        run_dir,
        measure_peak=not from_cache,
        dtype="bfloat16" if precision == "mixed_bfloat16" else "float32",
    )
    return TaskResult(
        predictions=probabilities,
        train_seconds=train_seconds,
        epochs=len(history.get("loss", [])),
        parameters=int(model.count_params()),
        history=history,
        model_files=[str((run_dir / MODEL_FILE).relative_to(ctx.work_dir))],
        card=_speedrun_card(config, model, precision),
        details={
            "speedrun_config": config.as_dict(),
            "precision": precision,
            "quick": ctx.quick,
            "seed": ctx.seed,
            "train_size": int(len(train_labels)),
            "test_size": int(len(dataset.test.y)),
            "seconds_per_epoch": train_seconds / max(1, config.epochs),
            **compute,
            "dataset_sha256": dataset.sha256,
            "run_dir": str(run_dir),
        },
    )


GRADED_TASKS: dict[str, Callable[[TaskContext], TaskResult]] = {
    "mnist_mlp": grade_mnist_mlp,
    "mnist_cnn": grade_mnist_cnn,
    "fashion_cnn": grade_fashion_cnn,
    "cifar10_cnn": grade_cifar10_cnn,
}
