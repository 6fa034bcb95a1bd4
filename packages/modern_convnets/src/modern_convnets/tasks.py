"""Graded tasks: SqueezeNet and Xception trained from scratch on animals3 (cats, dogs, pandas).

``grade_squeezenet(ctx)`` and ``grade_xception(ctx)`` follow the harness contract of
:mod:`a2common.grading`: they train the named configuration of
:data:`modern_convnets.training.CONFIGS` in ``ctx.work_dir`` (a checkpoint every epoch, so an
interrupted run resumes; a finished model is loaded instead of retrained, both through
:func:`a2common.keras_training.fit_or_load`) and return the class probabilities of the 600
animals3 **test** images in the loader's order. The autograder computes the accuracy.

Training uses random flips and shifts and a warm-up + cosine learning-rate schedule
(:mod:`modern_convnets.training`). ``ctx.quick`` trains :data:`QUICK_EPOCHS` epochs on
:data:`QUICK_TRAIN_SIZE` images (a smoke test, still predicting the whole test split).

``ctx.params`` (all optional): ``epochs``, ``batch_size``, ``peak_learning_rate``,
``train_size`` override the configuration.

Example:

``grade_squeezenet(ctx)`` returns a :class:`~a2common.grading.TaskResult` whose
``predictions`` have shape ``(600, 3)``. What it trains, for a quick run with one override:

>>> from pathlib import Path
>>> from a2common.grading import TaskContext
>>> from modern_convnets.training import build_model
>>> ctx = TaskContext(quick=True, seed=0, work_dir=Path("work"), params={"epochs": 2})
>>> config = task_config("modern_squeezenet", ctx)
>>> config.dataset, config.epochs, config.train_size, config.batch_size
('animals3', 2, 384, 32)
>>> build_model(config).output_shape
(None, 3)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from a2common.grading import ModelCardText, TaskContext, TaskResult, is_finished
from a2common.keras_training import MODEL_FILE
from a2common.tables import keras_layer_table
from modern_convnets.profiling import count_multiply_adds
from modern_convnets.squeezenet import VERSIONS
from modern_convnets.training import CONFIGS, TrainConfig, TrainingRun, train

TASK_CONFIGS: dict[str, str] = {
    "modern_squeezenet": "squeezenet_animals3",
    "modern_xception": "xception_animals3",
}
"""Graded task name → name of its configuration in :data:`CONFIGS`."""

QUICK_EPOCHS = 3
QUICK_TRAIN_SIZE = 384
QUICK_BATCH_SIZE = 32
QUICK_BN_MOMENTUM = 0.9
"""The smoke variant: 36 steps; BatchNorm statistics need a short memory to settle in them."""

CPU_TIME_FILE = "cpu_time.json"
_OVERRIDES = ("epochs", "batch_size", "peak_learning_rate", "train_size")


def task_config(task: str, ctx: TaskContext) -> TrainConfig:
    """The :class:`TrainConfig` a task trains: its named config, ``ctx.params``, quick variant.

    Example:

    >>> ctx = TaskContext(quick=True, seed=0, work_dir=Path("."))
    >>> task_config("modern_squeezenet", ctx).epochs == QUICK_EPOCHS
    True
    """
    if task not in TASK_CONFIGS:
        raise ValueError(f"Expected a task in {sorted(TASK_CONFIGS)}. Received: {task!r}")
    unknown = sorted(set(ctx.params or {}) - set(_OVERRIDES))
    if unknown:
        raise ValueError(f"Unknown task parameters {unknown}. Expected some of {_OVERRIDES}.")
    config = replace(
        CONFIGS[TASK_CONFIGS[task]],
        **{key: ctx.params[key] for key in _OVERRIDES if key in ctx.params},
    )
    if ctx.quick:
        config = replace(
            config,
            epochs=min(config.epochs, QUICK_EPOCHS),
            train_size=min(config.train_size or QUICK_TRAIN_SIZE, QUICK_TRAIN_SIZE),
            batch_size=min(config.batch_size, QUICK_BATCH_SIZE),
            warmup_epochs=min(config.warmup_epochs, 0.5),
            bn_momentum=QUICK_BN_MOMENTUM,
        )
    return config


def _train_timed(config: TrainConfig, work_dir: Path, seed: int) -> tuple[TrainingRun, Any]:
    """:func:`train`, recording the training process's CPU seconds beside the wall time.

    On a machine shared with other jobs the wall time depends on their load; the CPU time of
    the process barely does. It is recorded by the session that finishes training (a resumed
    run counts only its last session).
    """
    cpu_file = Path(work_dir) / CPU_TIME_FILE
    trained_before = is_finished(work_dir)
    cpu_start, load_start = time.process_time(), os.getloadavg()[0]
    run = train(config, work_dir, seed=seed, verbose=2)
    if not trained_before:
        cpu_file.write_text(
            json.dumps(
                {
                    "train_cpu_seconds": time.process_time() - cpu_start,
                    "load_average": [round(load_start, 2), round(os.getloadavg()[0], 2)],
                }
            )
        )
    recorded = json.loads(cpu_file.read_text()) if cpu_file.is_file() else {}
    return run, recorded


def _grade(task: str, ctx: TaskContext) -> TaskResult:
    work_dir = Path(ctx.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    config = task_config(task, ctx)
    run, timing = _train_timed(config, work_dir, ctx.seed)
    epochs = len(run.history.get("loss", []))
    details = {
        **run.details,
        "task": task,
        "config_name": TASK_CONFIGS[task],
        "quick": ctx.quick,
        "class_names": run.class_names,
        "multiply_adds_per_image": count_multiply_adds(run.model),
        "train_cpu_seconds": timing.get("train_cpu_seconds"),
        "load_average_during_training": timing.get("load_average"),
        "from_cache": run.from_cache,
    }
    return TaskResult(
        predictions=run.test_probabilities,
        train_seconds=run.train_seconds,
        epochs=epochs,
        parameters=int(run.model.count_params()),
        history=run.history,
        model_files=[MODEL_FILE],
        card=model_card_text(task, config, run),
        details=details,
    )


def grade_squeezenet(ctx: TaskContext) -> TaskResult:
    """SqueezeNet v1.1 (Fire modules, BatchNorm, simple bypass) from scratch on animals3."""
    return _grade("modern_squeezenet", ctx)


def grade_xception(ctx: TaskContext) -> TaskResult:
    """A scaled Xception (entry/middle/exit flows of separable convolutions) on animals3."""
    return _grade("modern_xception", ctx)


def _describe(config: TrainConfig) -> str:
    kwargs = config.model_kwargs
    if config.architecture == "squeezenet":
        version = kwargs.get("version", "1.0")
        layout = VERSIONS[version]
        pools = ", ".join(f"fire{number}" for number in layout["pool_after"])
        extras = [
            text
            for flag, text in (
                (
                    kwargs.get("batch_norm"),
                    "BatchNorm after every convolution but the classifier (not in the paper)",
                ),
                (
                    kwargs.get("bypass"),
                    "the paper's simple bypass (identity shortcuts around "
                    "fire3, fire5, fire7 and fire9)",
                ),
            )
            if flag
        ]
        return (
            f"SqueezeNet v{version} (Iandola et al., 2016) written from stock Keras layers: "
            f"a {layout['stem_kernel_size']}x{layout['stem_kernel_size']} stride-"
            f"{kwargs.get('stem_strides', 2)} conv1, max-pools after conv1, {pools}, eight "
            f"Fire modules (squeeze 1x1 → expand 1x1 ‖ expand 3x3, concatenated) at "
            f"{kwargs.get('width_multiplier', 1.0):g}x the paper's widths, "
            + "".join(f"{text}, " for text in extras)
            + f"dropout {kwargs.get('dropout', 0.5)} and a 1x1 convolutional classifier "
            f"with global average pooling (no fully connected layer)."
        )
    return (
        f"A scaled Xception (Chollet, 2017) written from stock Keras layers: a stem of two "
        f"3x3 convolutions ({', '.join(map(str, kwargs.get('stem_widths', ())))} filters, the "
        f"first with stride {kwargs.get('stem_strides', 2)}), "
        f"{len(kwargs.get('entry_widths', ()))} entry-flow blocks "
        f"({', '.join(map(str, kwargs.get('entry_widths', ())))} filters), "
        f"{kwargs.get('middle_blocks', 8)} middle-flow blocks of three separable "
        f"convolutions with identity shortcuts, an exit block "
        f"({', '.join(map(str, kwargs.get('exit_widths', ())))} filters) and two separable "
        f"convolutions ({', '.join(map(str, kwargs.get('head_widths', ())))} filters), "
        f"global average pooling, dropout {kwargs.get('dropout', 0.0)} and a softmax layer. "
        f"Entry and exit blocks add a strided 1x1 projection of their input to their "
        f"output, middle blocks the input itself; every convolution is followed by "
        f"BatchNorm. The paper's network has 728-wide "
        f"middle blocks and 22.9 M parameters; this one is narrowed for 64x64 images on a "
        f"CPU."
    )


def model_card_text(task: str, config: TrainConfig, run: TrainingRun) -> ModelCardText:
    """The card's prose for a task (the autograder adds every number and figure)."""
    name = "SqueezeNet" if config.architecture == "squeezenet" else "Xception"
    optimizer = "SGD with Nesterov momentum 0.9" if config.optimizer == "sgd" else "AdamW"
    schedule = (
        f"{optimizer}, peak learning rate {config.peak_learning_rate:g} after a "
        f"{config.warmup_epochs:g}-epoch linear warm-up, cosine decay to 1/1000 of the "
        f"peak, decoupled weight decay {config.weight_decay or 0:g}, label smoothing "
        f"{config.label_smoothing:g}, batch {config.batch_size}, BatchNorm momentum "
        f"{config.bn_momentum or 0.99:g}, {config.epochs} epochs"
    )
    augmentation = ("random horizontal flips" if config.flip else "no flips") + (
        f" and shifts up to {config.shift_fraction:.1%} of the height and width (reflected borders)"
        if config.shift_fraction
        else ""
    )
    train_size = run.details.get("train_size")
    return ModelCardText(
        overview=f"{name} trained from scratch (no pretrained weights) to tell cats, dogs and "
        f"pandas apart in 64x64 colour photos (the project's animals3 dataset). It is "
        f"the seed 001 extra-credit exercise: a modern architecture written with the "
        f"Keras functional API, checked against its paper, sized to train on a "
        f"2-core CPU.",
        architecture=_describe(config) + "\n\n" + keras_layer_table(run.model),
        intended_uses=[
            "Teaching: how a published architecture is written from its paper with "
            "stock Keras layers, and how it behaves trained from scratch on a small "
            "dataset.",
            "A from-scratch baseline beside the project's plain CNN and its "
            "pretrained MobileNetV2 transfer model on the same data.",
        ],
        intended_users=["Students and instructors of a deep-learning course."],
        out_of_scope_uses=[
            "Any photo outside the three classes: the model always answers cat, dog or panda.",
            "Decisions about real animals (adoption, wildlife monitoring) or people.",
        ],
        factors=[
            "Class (cats, dogs, pandas): cats and dogs look alike at 64x64 and are "
            "confused far more often than either is with pandas (see the per-class "
            "table and the confusion matrix).",
            "Photo conditions (pose, background, lighting, several animals in one "
            "photo) vary freely and are not labelled, so results cannot be broken down "
            "by them.",
        ],
        training_data=f"animals3 train split ({train_size:,} of its 2,100 photos, 700 per "
        f"class, 64x64x3, scaled to [0, 1]) with {augmentation}; the validation "
        f"split (300 photos) is only monitored, never used to select a "
        f"checkpoint (the graded model is the one at the end of the schedule). "
        f"{schedule}."
        if train_size
        else "animals3 train split.",
        evaluation_data="animals3 test split: 600 photos (200 per class), the seeded "
        "stratified 20% that a2common.data holds out; never used for training "
        "or for choosing the configuration.",
        ethical_considerations=[
            (
                "The photos come from a book's dataset with no stated licence (Kaggle Dogs vs. "
                "Cats and ImageNet originals).",
                "Use for teaching and research only.",
            ),
            (
                "A confident wrong answer on an out-of-distribution photo (another animal, a "
                "person) looks as trustworthy as a right one.",
                "Do not deploy; the model has no reject option.",
            ),
        ],
        caveats=[
            "600 test images: the 95% interval of the accuracy is about ±3 points wide.",
            "One seed, trained once; a different seed can move the accuracy by a point or two.",
            "Trained within a 30-minute single-thread CPU budget: more epochs, larger "
            "inputs or wider layers would likely do better, and a pretrained model "
            "(transfer learning) does much better on this little data.",
            "64x64 inputs lose the detail that separates many cats from dogs.",
        ],
    )
