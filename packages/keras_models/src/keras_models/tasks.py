"""Graded task of the Keras MLP: train (or load from the cache) and evaluate on the **test** split.

The ``grade_*`` function follows the harness contract of :mod:`a2common.grading`::

    grade_mnist_mlp(ctx)    # Sequential MLP on MNIST            (target >= 0.982)

and its model card's prose is written here. Its training recipe lives in
:data:`keras_models.recipes.RECIPES`; :func:`keras_models.recipe_runs.run_recipe` trains it
(both are re-exported here, as notebooks import them from this module). The CNNs of MNIST,
Fashion-MNIST and CIFAR-10 are graded in :mod:`keras_models.speedrun_tasks`. ``ctx.quick``
trains on a small subset for two epochs (a smoke test: the accuracy is not meant to reach the
target). ``ctx.params["shuffle_labels"]`` shuffles the training labels, which makes a model
that cannot beat chance: the harness uses it to show that a broken model fails its threshold.

Example: a task loads its dataset and trains (minutes; the quick variant still trains on
thousands of images), so it is not run here::

    result = grade_mnist_mlp(TaskContext(quick=True, seed=0, work_dir=Path("/tmp/mlp")))
    result.predictions.shape  # (10000, 10)

The registry of tasks, and the recipe and model one of them trains:

>>> sorted(GRADED_TASKS)
['mnist_mlp']
>>> recipe = RECIPES["mnist_mlp"]
>>> recipe.dataset, recipe.target, build_recipe_model(recipe, 10, None).output_shape
('mnist', 0.982, (None, 10))
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from a2common.grading import ModelCardText, TaskContext, TaskResult
from a2common.keras_training import MODEL_FILE
from keras_models.card_text import vision_card_text
from keras_models.recipe_runs import TrainedModel, default_work_dir, run_recipe
from keras_models.recipes import RECIPES, Recipe, build_recipe_model

__all__ = [
    "GRADED_TASKS",
    "grade_mnist_mlp",
    # Re-exported for the notebooks and scripts that import them from here.
    "RECIPES",
    "Recipe",
    "TrainedModel",
    "build_recipe_model",
    "default_work_dir",
    "run_recipe",
]


_OVERVIEW = (
    "A Sequential multilayer perceptron (Flatten, two hidden Dense layers of 512 ReLU units "
    "with dropout 0.2, softmax) that classifies 28x28 handwritten digits (MNIST)."
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
    return vision_card_text(_OVERVIEW, recipe.dataset, run.model, settings)


_SELF_SCORES = ("test_loss", "test_accuracy_single_view", "test_ece")
"""Diagnostics ``run_recipe`` computes for experiments; a graded task does not report them."""


def grade_mnist_mlp(ctx: TaskContext) -> TaskResult:
    """MNIST, Sequential MLP (Flatten → 2 x Dense 512 ReLU → Dense softmax, Adam): test accuracy.

    ``ctx.params["shuffle_labels"] = True`` trains on shuffled labels (a deliberately broken
    model that scores about 0.1).
    """
    shuffle = bool(ctx.params.get("shuffle_labels", False))
    # The autograder grades the whole test split, the quick variant included.
    recipe = dataclasses.replace(RECIPES["mnist_mlp"], quick_test_size=None)
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


GRADED_TASKS: dict[str, Callable[[TaskContext], TaskResult]] = {
    "mnist_mlp": grade_mnist_mlp,
}
