"""Graded tasks of seed 000: the four Keras problems as the autograder runs them.

Each ``grade_*`` function follows the harness contract of :mod:`a2common.grading`: it trains
its model in ``ctx.work_dir`` (or resumes an interrupted run, or loads the finished model,
through :func:`keras_models.fitting.fit_run`) and returns what the model predicts for the
**whole test split**, rows in the loader's order; the autograder loads the labels and computes
every graded number::

    grade_pima(ctx)    # (a) Pima diabetes, binary cross-entropy   → P(diabetes), (154,)
    grade_cifar7(ctx)  # (b) 7 CIFAR-10 classes, softmax CNN        → (7000, 7)
    grade_adult(ctx)   # (c) Adult income, logistic regression      → P(>50K), (16281,)
    grade_wine(ctx)    # (d) wine colour + quality band, two heads  → {"colour": (1300,),
                       #                                               "quality_band": (1300, 3)}

:func:`graded_config` gives the configuration each task trains; ``ctx.quick`` trains its
smoke-test variant (a few epochs, on a small image subset for CIFAR-7; it still predicts the
whole test split). Every run writes TensorBoard logs under its folder
(``tensorboard --logdir <work_dir>``) and logs ``val_macro_f1`` each epoch
(:class:`keras_models.callbacks.MacroF1Callback`).

Each task imports only its own problem module, so the autograder's cache key of a run (the
source files its process imported) does not change when another problem's code does.

Example: a task trains on its real dataset (seconds to minutes, even quick), so it is not run
here::

    result = grade_pima(TaskContext(quick=True, seed=0, work_dir=Path("/tmp/pima")))
    result.predictions.shape  # (154,)

What each task trains in its quick variant:

>>> for problem in PROBLEMS:
...     config = graded_config(problem, quick=True)
...     print(problem, type(config).__name__, config.epochs)
pima PimaConfig 8
cifar7 Cifar7Config 5
adult LogisticConfig 2
wine WineConfig 8
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import numpy as np

from a2common.grading import ModelCardText, TaskContext, TaskResult
from a2common.keras_training import MODEL_FILE
from a2common.tables import keras_layer_table
from keras_models.fitting import TrainResult, config_dict

PROBLEMS = ("pima", "cifar7", "adult", "wine")


def graded_config(problem: str, quick: bool = False) -> Any:
    """The configuration the graded task of ``problem`` trains (``quick``: its smoke test).

    The full configurations are the config dataclasses' defaults (chosen on the validation
    splits, see the README), except CIFAR-7: more images and epochs than the validation study
    (1,000 per class, 12 epochs, still improving at the cap), about 10 minutes of CPU on one
    thread. The quick variants take seconds to a minute each.

    Example:

    >>> graded_config("cifar7").train_per_class, graded_config("cifar7", quick=True).epochs
    (1500, 5)
    """
    if problem == "pima":
        from keras_models.binary import PimaConfig

        pima = PimaConfig()
        return dataclasses.replace(pima, epochs=8) if quick else pima
    if problem == "cifar7":
        from keras_models.cifar7 import Cifar7Config

        if quick:
            return Cifar7Config(
                filters=(16, 32), train_per_class=200, val_per_class=30, epochs=5, batch_size=32
            )
        return Cifar7Config(train_per_class=1500, epochs=18, patience=5)
    if problem == "adult":
        from keras_models.logistic import LogisticConfig

        adult = LogisticConfig()
        return dataclasses.replace(adult, epochs=2) if quick else adult
    if problem == "wine":
        from keras_models.multihead import WineConfig

        wine = WineConfig()
        return dataclasses.replace(wine, epochs=8) if quick else wine
    raise ValueError(f"Expected a problem in {PROBLEMS}. Received: {problem!r}")


def _best_epoch(history: dict[str, list[float]]) -> int | None:
    """1-based epoch with the lowest validation loss (the weights early stopping restored)."""
    losses = history.get("val_loss")
    return int(np.nanargmin(losses)) + 1 if losses else None


def _task_result(
    run: TrainResult, ctx: TaskContext, card: ModelCardText, details: dict[str, Any]
) -> TaskResult:
    """The :class:`TaskResult` of a finished :class:`TrainResult` (shared by the four tasks)."""
    work_dir = Path(ctx.work_dir)
    epochs = len(run.history.get("loss", []))
    card.architecture = keras_layer_table(run.model)
    return TaskResult(
        predictions=run.test_probabilities,
        train_seconds=float(run.train_seconds),
        epochs=epochs,
        parameters=int(run.model.count_params()),
        history=run.history,
        model_files=[str((run.work_dir / MODEL_FILE).relative_to(work_dir))],
        card=card,
        details={
            "quick": ctx.quick,
            "seed": ctx.seed,
            "config": config_dict(run.config),
            "epochs_run": epochs,
            "best_epoch": _best_epoch(run.history),
            "tensorboard_dir": str((run.work_dir / "tensorboard").relative_to(work_dir)),
            **details,
        },
    )


_TEACHING_USES = [
    "Teaching: a worked, tested example of a Keras model for this kind of data "
    "(preprocessing inside the model, regularisation, early stopping, a custom "
    "callback, keras-tuner, TensorBoard)."
]
_TEACHING_USERS = ["Students and instructors of an introductory deep-learning course."]
_ONE_SEED = (
    "One seed and one split: differences of a point or two between settings are "
    "within seed-to-seed noise."
)


# --- (a) Pima: binary cross-entropy ---------------------------------------------------------


def grade_pima(ctx: TaskContext) -> TaskResult:
    """Pima diabetes, MLP with binary cross-entropy: P(diabetes) for the 154 test women."""
    from keras_models import binary

    splits = binary.load_pima()
    config = graded_config("pima", ctx.quick)
    run = binary.train_pima(ctx.work_dir, config, seed=ctx.seed, splits=splits)
    card = ModelCardText(
        overview="A small multilayer perceptron (Keras: Functional preprocessing, Sequential "
        "MLP head) that estimates the probability that a woman of Pima Indian "
        "heritage, aged 21 or over, shows signs of diabetes by World Health "
        "Organization criteria, from eight routine measurements. Zeros that mean 'not "
        "measured' (glucose, blood pressure, skin thickness, insulin, BMI) are "
        "filled with the training median and flagged inside the saved model, so it "
        "takes raw rows.",
        intended_uses=[
            *_TEACHING_USES,
            "Illustrating binary cross-entropy, ROC/PR curves and the cost of a "
            "decision threshold on a small, imbalanced medical table.",
        ],
        intended_users=_TEACHING_USERS,
        out_of_scope_uses=[
            "Diagnosis, screening or any decision about a real person.",
            "Any population other than the 1980s study population (women of "
            "Pima heritage near Phoenix, Arizona, aged 21+).",
        ],
        factors=[
            "Class balance: 35% of the women have the positive label; the threshold 0.5 "
            "is not tuned to the costs of missed cases.",
            "Missing measurements: insulin is missing for about half the women and skin "
            "thickness for about 30%; the model sees a 'was missing' flag.",
            "Age and number of pregnancies shift the base rate strongly.",
        ],
        training_data=f"pima_diabetes (shared/data/tabular/pima-indians-diabetes.csv), the "
        f"loader's seeded, stratified 70/10/20 split: {len(splits.train_y)} "
        f"training rows, {len(splits.val_y)} validation rows for early stopping "
        f"(patience {config.patience}) and the macro-F1 callback. Adam "
        f"(learning rate {config.learning_rate:g}), batch {config.batch_size}, "
        f"dropout {config.dropout}, L2 {config.l2:g}, {config.activation} with "
        f"{config.initializer} initialisation.",
        evaluation_data=f"The {len(splits.test_y)}-row test split of the same seeded, "
        f"stratified partition; never used for training or model selection.",
        ethical_considerations=[
            (
                "Health data of an Indigenous community, collected by a US federal study and "
                "reused for decades of benchmarks without benefit to that community.",
                "Teaching use only; cite the source (Smith et al., 1988) and do not deploy.",
            ),
            (
                "A false negative would leave diabetes untreated.",
                "Not for clinical use; the notebook shows how the threshold trades missed cases "
                "against false alarms.",
            ),
        ],
        caveats=[
            f"{len(splits.test_y)} test rows: the 95% interval of the accuracy is about "
            "±7 points wide.",
            "Zeros in the five placeholder columns are treated as missing values.",
            _ONE_SEED,
        ],
    )
    return _task_result(
        run,
        ctx,
        card,
        {
            "dataset": "pima_diabetes",
            "positive_class": "diabetes (Outcome = 1)",
            "train_rows": len(splits.train_y),
            "val_rows": len(splits.val_y),
            "test_rows": len(splits.test_y),
        },
    )


# --- (b) CIFAR-7: sparse categorical cross-entropy --------------------------------------------


def grade_cifar7(ctx: TaskContext) -> TaskResult:
    """7 CIFAR-10 classes, Sequential CNN: class probabilities of the 7,000 test photos."""
    from keras_models import cifar7

    config = graded_config("cifar7", ctx.quick)
    splits = cifar7.load_cifar7(
        train_per_class=config.train_per_class, val_per_class=config.val_per_class, seed=ctx.seed
    )
    run = cifar7.train_cifar7(ctx.work_dir, config, seed=ctx.seed, splits=splits)
    card = ModelCardText(
        overview=f"A Sequential convolutional network ({len(config.filters)} blocks of "
        f"Conv2D-BatchNorm-{config.activation}-MaxPool-Dropout, global average "
        f"pooling, softmax) that classifies 32x32 colour photos into 7 classes: "
        f"{', '.join(cifar7.CLASSES)}. Rescaling and the training-time augmentation "
        f"(flips, shifts) are layers of the model, so it takes uint8 photos.",
        intended_uses=[
            *_TEACHING_USES,
            "Illustrating sparse categorical cross-entropy on real photos gathered "
            "by web image search (CIFAR-10 was collected that way).",
        ],
        intended_users=_TEACHING_USERS,
        out_of_scope_uses=[
            "Photos of anything outside the 7 classes: the model always answers one of them.",
            "Surveillance, or any decision about people or property.",
        ],
        factors=[
            "Class: cat/dog and airplane/bird/ship (sky or water backgrounds) are the hard pairs.",
            "Image quality: 32x32 pixels, re-encoded as quality-75 JPEG in shared/data.",
            "Pose, background and lighting vary freely and are not labelled.",
        ],
        training_data=f"CIFAR-10 training images of the 7 classes (35,000), less a seeded, "
        f"stratified 10% validation hold-out; {config.train_per_class} images "
        f"per class (seeded subset) are trained on and {config.val_per_class} per "
        f"class validate (early stopping, patience {config.patience}; macro-F1 "
        f"callback). {config.optimizer} (learning rate {config.learning_rate:g}), "
        f"batch {config.batch_size}, up to {config.epochs} epochs, dropout "
        f"{config.dropout}, L2 {config.l2:g}, {config.initializer} initialisation.",
        evaluation_data="The official CIFAR-10 test images of the 7 classes: 7,000 photos "
        "(1,000 per class), in the loader's order; never used for training or "
        "model selection.",
        ethical_considerations=[
            (
                "The photos were collected from the web without their authors' consent "
                "(80 Million Tiny Images, since withdrawn for offensive content in other "
                "classes; CIFAR-10 itself was labelled by hand).",
                "Teaching and research use only; no people are classified.",
            )
        ],
        caveats=[
            "A small CNN trained on a subset on a CPU: far below state-of-the-art CIFAR accuracy.",
            "7,000 test photos: the 95% interval of the accuracy is about ±1 point wide.",
            _ONE_SEED,
        ],
    )
    return _task_result(
        run,
        ctx,
        card,
        {
            "dataset": "cifar10",
            "classes": list(cifar7.CLASSES),
            "train_images": int(len(splits.train_y)),
            "val_images": int(len(splits.val_y)),
            "test_images": int(len(splits.test_y)),
        },
    )


# --- (c) Adult: logistic regression -------------------------------------------------------------


def grade_adult(ctx: TaskContext) -> TaskResult:
    """UCI Adult, one sigmoid unit: P(income > 50K) for the 16,281 official test rows.

    ``details["sklearn"]`` compares the unit with scikit-learn's ``LogisticRegression`` (same
    ``C``) fitted on the model's own encoded training features: the fraction of test rows on
    which both predict the same class (which bounds their accuracy gap) and the correlation of
    their coefficients and log-odds. No accuracy is reported: the autograder computes it.
    """
    from keras_models import logistic

    splits = logistic.load_adult()
    config = graded_config("adult", ctx.quick)
    run = logistic.train_logistic(ctx.work_dir, config, seed=ctx.seed, splits=splits)
    comparison = logistic.compare_with_sklearn(run.model, splits, C=config.C)
    card = ModelCardText(
        overview="Logistic regression written as a Keras model: the census features go "
        "through preprocessing layers (standardised numbers, log1p of capital gain "
        "and loss, one-hot categories with a slot for unseen values) into one "
        "Dense(1, sigmoid) unit with an L2 penalty chosen to match scikit-learn's "
        f"LogisticRegression(C={config.C:g}). It estimates the probability that a "
        "person's income exceeded $50K in the 1994 US census.",
        intended_uses=[
            *_TEACHING_USES,
            "Showing that a single-unit network with binary cross-entropy is "
            "logistic regression (coefficients compared with scikit-learn's).",
        ],
        intended_users=_TEACHING_USERS,
        out_of_scope_uses=[
            "Decisions about real people: credit, hiring, insurance, benefits, pricing.",
            "Inferring anyone's income today: the data are from 1994.",
        ],
        factors=[
            "Sex, race and native country are model inputs and the error rates differ "
            "between these groups; the notebook breaks errors down by group.",
            "Class balance: about 24% of people earn >50K.",
            "Missing values ('?') in workclass, occupation and native country are their "
            "own category.",
        ],
        training_data=f"UCI Adult official training file (adult.data, 32,561 rows) less a "
        f"seeded, stratified 10% validation hold-out: {len(splits.train_y)} "
        f"training rows; {len(splits.val_y)} validation rows for early stopping "
        f"(patience {config.patience}) and the macro-F1 callback. Not used: "
        f"fnlwgt (a sampling weight) and education (same as education-num). "
        f"{config.optimizer} (learning rate {config.learning_rate:g}), batch "
        f"{config.batch_size}, zero initialisation (the loss is convex).",
        evaluation_data=f"UCI Adult official test file (adult.test): {len(splits.test_y)} "
        f"rows, never used for training or model selection.",
        ethical_considerations=[
            (
                "The model uses sex and race, and census income reflects historical "
                "discrimination; its predictions reproduce those gaps.",
                "Teaching only; the notebook reports error rates per group and the largest "
                "coefficients, so the reliance on protected attributes is visible.",
            ),
            (
                "Predictions about individuals' income could be misused for profiling.",
                "Not for decisions about people.",
            ),
        ],
        caveats=[
            "A linear model: interactions (e.g. age x education) are not represented.",
            "A full one-hot group plus the intercept can trade weight almost freely, so "
            "single coefficients differ from scikit-learn's even when the predictions "
            "agree; compare within-group contrasts.",
            _ONE_SEED,
        ],
    )
    return _task_result(
        run,
        ctx,
        card,
        {
            "dataset": "adult",
            "positive_class": ">50K",
            "train_rows": len(splits.train_y),
            "val_rows": len(splits.val_y),
            "test_rows": len(splits.test_y),
            "sklearn": {
                "C": config.C,
                "prediction_agreement": comparison.agreement,
                "logit_correlation": comparison.logit_correlation,
                "coefficient_correlation": comparison.coefficient_correlation,
                "centered_coefficient_correlation": comparison.centered_coefficient_correlation,
                "keras_intercept": comparison.keras_intercept,
                "sklearn_intercept": comparison.sklearn_intercept,
            },
        },
    )


# --- (d) wine: two heads ----------------------------------------------------------------------


def grade_wine(ctx: TaskContext) -> TaskResult:
    """Red + white wine, two-head Functional model: ``{"colour": (1300,), "quality_band": ...}``.

    Rows are the loader's ``wine_colour``/``wine_quality_band`` test split (red, then white).
    """
    from keras_models import multihead

    wine = multihead.load_wine()
    config = graded_config("wine", ctx.quick)
    run = multihead.train_wine(ctx.work_dir, config, seed=ctx.seed, splits=wine)
    card = ModelCardText(
        overview="One Keras Functional-API model with two output heads that reads 11 "
        "laboratory measurements of a Portuguese vinho verde wine and predicts (1) its "
        "colour, red or white (sigmoid, binary cross-entropy) and (2) its quality band "
        "from the tasters' median score: low (<= 5), medium (6) or high (>= 7) "
        "(softmax, sparse categorical cross-entropy). A shared trunk of two Dense "
        "layers feeds both heads; the quality head has its own hidden layer.",
        intended_uses=[
            *_TEACHING_USES,
            "Illustrating multi-output models: per-head losses, loss weights and metrics.",
        ],
        intended_users=_TEACHING_USERS,
        out_of_scope_uses=[
            "Certifying, pricing or rating real wines.",
            "Wines from other regions or grape varieties: only vinho verde "
            "samples (2004-2007) were measured.",
        ],
        factors=[
            "Colour: 75% of the wines are white; quality results differ between red and "
            "white wines (the notebook breaks them down).",
            "Quality band: the classes are ordered and unbalanced (high is about 20%); "
            "the score is the median of at least three tasters, a noisy label.",
        ],
        training_data=f"wine_colour / wine_quality_band: the loader's seeded, stratified "
        f"70/10/20 splits of the red (1,599) and white (4,898) wine tables, "
        f"stacked red first: {len(wine.tables.train_y)} training rows, "
        f"{len(wine.tables.val_y)} validation rows for early stopping (patience "
        f"{config.patience}) and the quality head's macro-F1 callback. Adam "
        f"(learning rate {config.learning_rate:g}), batch {config.batch_size}, "
        f"colour loss weight {config.colour_weight}, dropout {config.dropout}, "
        f"L2 {config.l2:g}, {config.activation} with {config.initializer} "
        f"initialisation.",
        evaluation_data=f"The {len(wine.tables.test_y)}-row test split of the same partition "
        f"(red test rows, then white), graded per head; never used for "
        f"training or model selection.",
        ethical_considerations=[
            (
                "Sensory quality is a matter of taste of a few experts from one region.",
                "Present the quality head as a model of those tasters, not of wine quality in "
                "general.",
            )
        ],
        caveats=[
            "Quality bands merge neighbouring scores: a 5 and a 6 are one point apart but "
            "different classes, so many errors are near-misses.",
            "Colour is almost separable from the chemistry; its accuracy says little "
            "about the shared trunk.",
            _ONE_SEED,
        ],
    )
    return _task_result(
        run,
        ctx,
        card,
        {
            "datasets": dict(multihead.DATASETS),
            "heads": list(multihead.HEADS),
            "train_rows": len(wine.tables.train_y),
            "val_rows": len(wine.tables.val_y),
            "test_rows": len(wine.tables.test_y),
        },
    )


GRADED_TASKS: dict[str, Callable[[TaskContext], TaskResult]] = {
    "keras_pima_binary": grade_pima,
    "keras_cifar7_cnn": grade_cifar7,
    "keras_adult_logistic": grade_adult,
    "keras_wine_multihead": grade_wine,
}
"""The registry's task name of each entry function."""
