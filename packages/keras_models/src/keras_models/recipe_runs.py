"""Train a recipe, or load its finished model from the cache, and evaluate it.

:func:`run_recipe` trains one :class:`~keras_models.recipes.Recipe` for notebooks, scripts and
the graded tasks and returns a :class:`TrainedModel`; :func:`default_work_dir` is where
notebooks and the CLI cache the runs. Each run also records its training CPU time in
:data:`CPU_TIME_FILE` and, measured right after training on the same machine, the CPU's float32
matrix-product speed (:func:`a2common.compute.training_compute`), so its training FLOPs can be
set against the machine's arithmetic limit.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from a2common.compute import training_compute
from a2common.data import load_dataset, stratified_split
from a2common.keras_training import finished_model_exists, fit_or_load
from a2common.seeding import seed_everything
from keras_models.calibration import expected_calibration_error
from keras_models.data import (
    make_dataset,
    prepare_images,
    prepare_labels,
    shuffle_labels,
    take_subset,
)
from keras_models.models import build_augmentation
from keras_models.recipes import Recipe, build_recipe_model, build_recipe_optimizer, recipe_digest
from keras_models.training import Evaluation, evaluate_in_chunks

CPU_TIME_FILE = "cpu_time.json"


def default_work_dir() -> Path:
    """Where notebooks and the CLI cache trained models: ``$KERAS_MODELS_WORK_DIR``, else
    ``runs/keras_models`` at the repository root (git-ignored), else under the current folder.
    """
    override = os.environ.get("KERAS_MODELS_WORK_DIR")
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parents[4]
    if (repo_root / "packages" / "keras_models").is_dir():
        return repo_root / "runs" / "keras_models"
    return Path.cwd() / "runs" / "keras_models"


@dataclass
class TrainedModel:
    """What :func:`run_recipe` returns: the model, its history and its test evaluation."""

    recipe: Recipe
    model: keras.Model
    history: dict[str, list[float]]
    train_seconds: float
    from_cache: bool
    evaluation: Evaluation
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: list[str]
    details: dict[str, Any]


def run_recipe(
    recipe: Recipe,
    work_dir: Path,
    *,
    quick: bool = False,
    seed: int = 0,
    shuffle_training_labels: bool = False,
    holdout: bool = False,
    verbose: int = 2,
) -> TrainedModel:
    """Train ``recipe`` (or load the finished model cached in ``work_dir``) and evaluate it.

    The run is cached in a sub-folder of ``work_dir`` named after the recipe, the variant
    (quick/full, shuffled labels, seed) and :func:`recipe_digest`, so variants never overwrite
    each other and a changed recipe never loads a stale model.

    Args:
        recipe: what to train, e.g. ``RECIPES["mnist_mlp"]``.
        work_dir: cache folder; an interrupted run resumes from its last epoch.
        quick: smoke-test variant on a small subset.
        seed: seeds weights, shuffling, augmentation and subsets.
        shuffle_training_labels: train on randomly permuted labels (a broken model).
        holdout: for choosing between recipes without touching the test set: train on 90%
            of the training set and evaluate on the other 10% (stratified, seeded) instead
            of the test set. The returned "test" fields then hold that validation split.
        verbose: Keras ``fit`` verbosity (2 = one line per epoch).

    Example: even the quick variant loads the whole dataset and trains on thousands of images,
    so it is not run here::

        run = run_recipe(RECIPES["mnist_mlp"], Path("/tmp/runs"), quick=True)
        run.evaluation.accuracy  # 0.93...

    What that call trains (the quick variant's subset, epochs and model):

    >>> from keras_models.recipes import RECIPES
    >>> recipe = RECIPES["mnist_mlp"]
    >>> recipe.quick_train_size, recipe.quick_epochs, recipe.batch_size
    (6000, 2, 128)
    >>> build_recipe_model(recipe, num_classes=10, train_images=None, quick=True).output_shape
    (None, 10)
    """
    seed_everything(seed)
    dataset = load_dataset(recipe.dataset)
    num_classes = len(dataset.class_names)
    train_images, train_labels = dataset.train.x, dataset.train.y
    test_images, test_labels = dataset.test.x, dataset.test.y
    if holdout:
        rest, held_out = stratified_split(train_images, train_labels, 0.1, seed=seed)
        train_images, train_labels = rest.x, rest.y
        test_images, test_labels = held_out.x, held_out.y
    if quick:
        train_images, train_labels = take_subset(
            train_images, train_labels, recipe.quick_train_size, seed
        )
        test_images, test_labels = take_subset(
            test_images, test_labels, recipe.quick_test_size, seed
        )
    train_images = prepare_images(train_images, recipe.image_shape)
    train_labels = prepare_labels(train_labels, num_classes)
    test_images = prepare_images(test_images, recipe.image_shape)
    test_labels = prepare_labels(test_labels, num_classes)
    if shuffle_training_labels:
        train_labels = shuffle_labels(train_labels, seed)

    epochs = recipe.quick_epochs if quick else recipe.epochs
    steps_per_epoch = math.ceil(len(train_labels) / recipe.batch_size)
    augmentation = (
        build_augmentation(recipe.augmentation, seed=seed) if recipe.augmentation else None
    )
    train_data = make_dataset(
        train_images,
        train_labels,
        batch_size=recipe.batch_size,
        shuffle=True,
        seed=seed,
        augment=augmentation,
        num_classes=num_classes,
    )

    def build() -> keras.Model:
        model = build_recipe_model(recipe, num_classes, train_images, quick=quick)
        model.compile(
            optimizer=build_recipe_optimizer(recipe, steps_per_epoch * epochs),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
            metrics=["accuracy"],
        )
        return model

    variant = (
        f"{'quick' if quick else 'full'}{'-shuffled' if shuffle_training_labels else ''}"
        f"{'-holdout' if holdout else ''}"
    )
    run_dir = Path(work_dir) / f"{recipe.name}-{variant}-seed{seed}-{recipe_digest(recipe)}"
    from_cache = finished_model_exists(run_dir)
    cpu_start = time.process_time()
    # shuffle=False: the tf.data pipeline already reshuffles every epoch.
    model, history, train_seconds = fit_or_load(
        build, run_dir, train_data, epochs=epochs, verbose=verbose, shuffle=False
    )
    cpu_file = run_dir / CPU_TIME_FILE
    if not from_cache:
        # CPU time of all threads: unlike wall time, it barely changes when other processes
        # share the machine, so it tells how long training takes on an idle one.
        cpu_file.write_text(json.dumps({"train_cpu_seconds": time.process_time() - cpu_start}))
    train_cpu_seconds = (
        json.loads(cpu_file.read_text())["train_cpu_seconds"] if cpu_file.is_file() else None
    )
    compute = training_compute(
        model, len(train_labels) * epochs, train_seconds, run_dir, measure_peak=not from_cache
    )
    evaluation = evaluate_in_chunks(
        model, test_images, test_labels, flip_average=recipe.test_time_flip
    )
    single_view = (
        evaluate_in_chunks(model, test_images, test_labels).accuracy
        if recipe.test_time_flip
        else evaluation.accuracy
    )
    details = {
        "recipe": asdict(recipe),
        "quick": quick,
        "seed": seed,
        "shuffled_labels": shuffle_training_labels,
        "evaluated_on": "validation hold-out (10% of train)" if holdout else "test",
        "train_size": int(len(train_labels)),
        "test_size": int(len(test_labels)),
        "epochs": epochs,
        "parameters": int(model.count_params()),
        "test_loss": evaluation.loss,
        "test_time_flip": recipe.test_time_flip,
        "test_accuracy_single_view": single_view,
        "test_ece": expected_calibration_error(evaluation.probabilities, test_labels),
        "final_train_accuracy": history["accuracy"][-1] if history.get("accuracy") else None,
        "seconds_per_epoch": train_seconds / max(1, epochs),
        "train_cpu_seconds": train_cpu_seconds,
        **compute,
        "target": recipe.target,
        "dataset_sha256": dataset.sha256,
        "run_dir": str(run_dir),
    }
    return TrainedModel(
        recipe,
        model,
        history,
        train_seconds,
        from_cache,
        evaluation,
        test_images,
        test_labels,
        list(dataset.class_names),
        details,
    )
