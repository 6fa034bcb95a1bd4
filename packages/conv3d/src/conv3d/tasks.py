"""Graded tasks: the same 3D CNN on AdrenalMNIST3D, trained with PyTorch and with Keras.

``grade_torch(ctx)`` and ``grade_keras(ctx)`` follow the harness contract of
:mod:`a2common.grading`: train (or resume, or load the finished model) in ``ctx.work_dir``,
then return the probability of "hyperplasia" for each of the 298 volumes of the **test** split,
in the loader's order, averaged over the 8 mirror images of each volume. The autograder loads
the labels itself and computes ACC and ROC-AUC; nothing here looks at the test labels.

``ctx.params`` (all optional):

* ``model``: ``"cnn"`` (default) or ``"resnet"``;
* ``channels``, ``dropout``, ``epochs``, ``batch_size``, ``learning_rate``, ``weight_decay``,
  ``warmup_epochs``: override the recipe (:class:`~conv3d.torch_models.TorchTrainConfig` /
  :class:`~conv3d.keras_models.KerasTrainConfig` defaults);
* ``dataset``: ``"adrenalmnist3d"`` (28³, default) or ``"adrenalmnist3d_64"`` (64³);
* ``num_threads``: CPU threads of the framework (default: the framework's own choice);
* ``shuffle_labels``: train on permuted labels (a broken model, for mutation tests).

``ctx.quick`` trains for :data:`QUICK_EPOCHS` epochs on :data:`QUICK_TRAIN_VOLUMES` training
volumes only (a smoke test of the whole path; it still predicts the whole test split).

Example:

``grade_torch(ctx)`` returns a :class:`~a2common.grading.TaskResult` whose ``predictions``
have shape ``(298,)``; the recipe it trains comes from :func:`torch_config`:

>>> from pathlib import Path
>>> from a2common.grading import TaskContext
>>> ctx = TaskContext(quick=True, seed=0, work_dir=Path("work"), params={"model": "resnet"})
>>> config = torch_config(ctx)
>>> config.model, config.epochs == QUICK_EPOCHS, config.channels, config.seed
('resnet', True, (16, 32, 64), 0)
>>> keras_config(ctx).epochs == QUICK_EPOCHS
True
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from a2common.data import Dataset, load_dataset
from a2common.grading import ModelCardText, TaskContext, TaskResult
from a2common.threads import set_tensorflow_threads
from conv3d.results import TrainResult

QUICK_EPOCHS = 2
QUICK_TRAIN_VOLUMES = 512
DATASETS = ("adrenalmnist3d", "adrenalmnist3d_64")
CPU_TIME_FILE = "cpu_time.json"
_RECIPE_KEYS = (
    "model",
    "channels",
    "dropout",
    "epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "warmup_epochs",
)
_OTHER_KEYS = ("dataset", "num_threads", "shuffle_labels", "progress")


def _checked_params(params: dict[str, Any]) -> dict[str, Any]:
    unknown = set(params) - {*_RECIPE_KEYS, *_OTHER_KEYS}
    if unknown:
        raise ValueError(
            f"Unknown task parameters {sorted(unknown)}. Expected some of: "
            f"{sorted({*_RECIPE_KEYS, *_OTHER_KEYS})}"
        )
    dataset = params.get("dataset", DATASETS[0])
    if dataset not in DATASETS:
        raise ValueError(f"Expected params['dataset'] in {DATASETS}. Received: {dataset!r}")
    return params


def _recipe_options(ctx: TaskContext) -> dict[str, Any]:
    """The recipe settings of ``ctx.params`` (``channels`` as a tuple), seeded by ``ctx.seed``."""
    params = _checked_params(ctx.params or {})
    options = {key: params[key] for key in _RECIPE_KEYS if key in params}
    if "channels" in options:
        options["channels"] = tuple(int(width) for width in options["channels"])
    return {**options, "seed": ctx.seed}


def torch_config(ctx: TaskContext) -> Any:
    """The :class:`~conv3d.torch_models.TorchTrainConfig` of a task (quick: fewer epochs)."""
    from conv3d.torch_models import TorchTrainConfig

    threads = ctx.params.get("num_threads")
    config = TorchTrainConfig(num_threads=int(threads) if threads else None, **_recipe_options(ctx))
    return replace(config, epochs=min(config.epochs, QUICK_EPOCHS)) if ctx.quick else config


def keras_config(ctx: TaskContext) -> Any:
    """The :class:`~conv3d.keras_models.KerasTrainConfig` of a task (quick: fewer epochs)."""
    from conv3d.keras_models import KerasTrainConfig

    config = KerasTrainConfig(**_recipe_options(ctx))
    return replace(config, epochs=min(config.epochs, QUICK_EPOCHS)) if ctx.quick else config


def _training_data(ctx: TaskContext) -> tuple[Dataset, tuple[np.ndarray, ...]]:
    """The dataset and ``(train_x, train_y, val_x, val_y, test_x)`` for the training function."""
    data = load_dataset(ctx.params.get("dataset", DATASETS[0]))
    if data.val is None:
        raise ValueError(
            f"Expected a dataset with a validation split. Received: {data.name!r} without one"
        )
    train_x, train_y = data.train.x, np.asarray(data.train.y)
    rng = np.random.default_rng(ctx.seed)
    if ctx.quick:
        keep = np.sort(rng.permutation(len(train_y))[:QUICK_TRAIN_VOLUMES])
        train_x, train_y = train_x[keep], train_y[keep]
    if ctx.params.get("shuffle_labels"):
        train_y = rng.permutation(train_y)
    return data, (train_x, train_y, data.val.x, data.val.y, data.test.x)


def _cpu_seconds(work_dir: Path, result: TrainResult, spent: float) -> float | None:
    """CPU seconds of training: measured now, or recorded when the model was trained."""
    path = Path(work_dir) / CPU_TIME_FILE
    if result.from_cache:
        return json.loads(path.read_text())["train_cpu_seconds"] if path.is_file() else None
    path.write_text(json.dumps({"train_cpu_seconds": spent}))
    return spent


def _task_result(
    ctx: TaskContext,
    data: Dataset,
    result: TrainResult,
    config: Any,
    *,
    framework: str,
    model_file: str,
    cpu_seconds: float | None,
    train_volumes: int,
) -> TaskResult:
    config_values = json.loads(json.dumps(asdict(config)))
    details = {
        "framework": framework,
        "dataset": data.name,
        "train_volumes": train_volumes,
        "test_volumes": len(data.test.x),
        "volume_shape": list(data.test.x.shape[1:]),
        "config": config_values,
        "from_cache": result.from_cache,
        "train_cpu_seconds": cpu_seconds,
        "tta": "mean over the 8 mirror images" if config.tta_flips else "none",
        "shuffled_labels": bool(ctx.params.get("shuffle_labels", False)),
    }
    history = {key: [float(value) for value in values] for key, values in result.history.items()}
    return TaskResult(
        predictions=np.asarray(result.test_probabilities, dtype=np.float64),
        train_seconds=float(result.train_seconds),
        epochs=result.epochs,
        parameters=result.parameters,
        history=history,
        model_files=[model_file],
        card=model_card(framework, config, data.name, train_volumes),
        details=details,
    )


def grade_torch(ctx: TaskContext) -> TaskResult:
    """Train the 3D CNN with a plain PyTorch loop; return the test-set probabilities.

    :func:`conv3d.torch_models.train_torch` checkpoints model, optimiser, schedule and random
    generators every epoch (``checkpoint.pt``), so an interrupted run resumes to the same
    weights, and loads the finished ``model.pt`` instead of training again. Each epoch is
    reported to the autograder's progress line.
    """
    from conv3d.torch_models import MODEL_FILE, train_torch

    config = torch_config(ctx)
    data, arrays = _training_data(ctx)
    cpu_start = time.process_time()
    result = train_torch(
        config, Path(ctx.work_dir), *arrays, progress=bool(ctx.params.get("progress", True))
    )
    cpu = _cpu_seconds(ctx.work_dir, result, time.process_time() - cpu_start)
    return _task_result(
        ctx,
        data,
        result,
        config,
        framework="pytorch",
        model_file=MODEL_FILE,
        cpu_seconds=cpu,
        train_volumes=len(arrays[0]),
    )


def grade_keras(ctx: TaskContext) -> TaskResult:
    """Train the same 3D CNN with Keras ``model.fit``; return the test-set probabilities.

    :func:`conv3d.keras_models.train_keras` goes through
    :func:`a2common.keras_training.fit_or_load`: ``BackupAndRestore`` every epoch (an
    interrupted run resumes), the finished ``model.keras`` is loaded instead of retrained, and
    every epoch is reported to the autograder's progress line.
    """
    import a2common.tf_env  # noqa: F401  (before TensorFlow)

    set_tensorflow_threads(ctx.params.get("num_threads"))
    from a2common.keras_training import MODEL_FILE
    from conv3d.keras_models import train_keras

    config = keras_config(ctx)
    data, arrays = _training_data(ctx)
    cpu_start = time.process_time()
    result = train_keras(
        config, Path(ctx.work_dir), *arrays, progress=bool(ctx.params.get("progress", True))
    )
    cpu = _cpu_seconds(ctx.work_dir, result, time.process_time() - cpu_start)
    return _task_result(
        ctx,
        data,
        result,
        config,
        framework="keras",
        model_file=MODEL_FILE,
        cpu_seconds=cpu,
        train_volumes=len(arrays[0]),
    )


def model_card(
    framework: str, config: Any, dataset: str, train_volumes: int = 1188
) -> ModelCardText:
    """The model card's author-written sections for one of the two tasks.

    ``train_volumes`` below the full 1,188 marks the QUICK smoke variant in the card.
    """
    quick = train_volumes < 1188
    name = "PyTorch (a plain training loop)" if framework == "pytorch" else "Keras (model.fit)"
    other = "Keras" if framework == "pytorch" else "PyTorch"
    size = "64x64x64" if dataset.endswith("_64") else "28x28x28"
    stages = len(config.channels)
    if config.model == "cnn":
        body = (
            f"{stages} stages of two 3x3x3 Conv3D-BatchNorm-ReLU layers (channels "
            f"{', '.join(map(str, config.channels))}), max-pooling between stages"
        )
    else:
        body = (
            f"a 3x3x3 stem convolution and {stages} residual basic blocks (channels "
            f"{', '.join(map(str, config.channels))}), stride 2 between stages"
        )
    augment = config.augment
    return ModelCardText(
        overview=(
            f"A small 3D convolutional network trained from scratch with {name} to tell "
            f"a normal adrenal gland from adrenal hyperplasia, given the gland's 3D "
            f"shape mask (MedMNIST AdrenalMNIST3D, {size} voxels). It outputs the "
            f"probability of hyperplasia. The same network and recipe exist in {other}; "
            f"the two graded tasks compare the frameworks on identical data."
            + (
                f" QUICK smoke variant: trained on {train_volumes} volumes for "
                f"{config.epochs} epochs only, not a usable model."
                if quick
                else ""
            )
        ),
        architecture=(
            f"Input {size}x1 in [0, 1]; {body}; the first convolution has stride "
            f"{getattr(config, 'stem_stride', 2)} (cheaper on CPU); global average "
            f"pooling, dropout {config.dropout}, one linear output with a sigmoid. "
            f"Prediction averages the probability over the 8 mirror images of the "
            f"volume."
        ),
        intended_uses=[
            "Teaching: one 3D CNN written in PyTorch and in Keras, trained with 3D "
            "augmentation and graded on an official benchmark split.",
            "A reproducible CPU baseline for AdrenalMNIST3D research prototypes.",
        ],
        intended_users=[
            "Students and instructors of deep learning courses.",
            "Researchers comparing 3D classifiers on MedMNIST.",
        ],
        out_of_scope_uses=[
            "Any clinical use: diagnosis, screening or triage of patients. "
            "MedMNIST states that the data is NOT intended for clinical use, "
            "and the model was never validated on patients.",
            "Raw CT scans: the model reads expert-drawn binary shape masks, not "
            "CT intensities; it cannot segment a gland itself.",
            "Other organs, other hospitals' segmentation styles, or volumes not "
            f"centred and resized as MedMNIST does ({size} of a 64 mm cube).",
        ],
        factors=[
            "Class: 229 normal vs 69 hyperplasia test volumes (23% positive); accuracy "
            "is dominated by the normal class, so ROC-AUC and per-class recall matter.",
            "Gland size and shape: hyperplasia enlarges the gland, so small "
            "hyperplastic and large normal glands are the hard cases (see the notebook's "
            "error analysis).",
            "Left vs right gland: both are in the data (two per patient) and are not "
            "labelled, so results cannot be broken down by side.",
            "Patient factors (age, sex, scanner) are not released with MedMNIST and "
            "could not be evaluated.",
        ],
        training_data=(
            f"AdrenalMNIST3D ({dataset}) official train split: {train_volumes:,} "
            f"shape masks (uint8 {{0, 255}}, scaled to [0, 1]); val split (98) for "
            f"the per-epoch curves only (the graded model is the one at the end of "
            f"the schedule). "
            f"Augmentation: flips (p={augment.flip_probability} per axis), "
            f"rotations up to {augment.max_rotation_deg} degrees, shifts up to "
            f"{augment.max_shift_voxels} voxels, zoom +-{augment.max_scale:.0%} "
            f"(p={augment.affine_probability}), intensity jitter. AdamW (lr "
            f"{config.learning_rate}, weight decay {config.weight_decay}), "
            f"{config.warmup_epochs} warm-up epoch then cosine decay, batch "
            f"{config.batch_size}, {config.epochs} epochs. Source: 792 patients of "
            f"Zhongshan Hospital (Fudan University), masks drawn by an expert "
            f"endocrinologist on abdominal CT, split at patient level."
        ),
        evaluation_data=(
            "AdrenalMNIST3D official test split: 298 volumes (229 normal, 69 "
            "hyperplasia), patients disjoint from training; never used for "
            "training or model selection. Metrics as MedMNIST reports them: ACC "
            "at threshold 0.5 and ROC-AUC, computed by the autograder."
        ),
        ethical_considerations=[
            (
                "Medical data: a model card with good numbers can be mistaken for a diagnostic "
                "tool.",
                "The card, README and notebook state that the model is for teaching and research "
                "only and was never clinically validated.",
            ),
            (
                "The data comes from one hospital; performance on other populations, scanners or "
                "annotators is unknown.",
                "Report it as a single-site benchmark result; validate externally before any "
                "other use.",
            ),
            (
                "Patient privacy: MedMNIST releases shape masks only, not CT scans.",
                "The project uses only the released masks, byte-identical to the MedMNIST "
                "release (sha256-verified).",
            ),
        ],
        caveats=[
            "298 test volumes (69 positive): the 95% intervals of ACC and AUC are each "
            "about +-4 points, so differences of a point or two between "
            "seeds or frameworks are noise.",
            "Predicting 'normal' for every volume already scores ACC 0.768; compare ACC "
            "with that, and read the AUC and the per-class recall.",
            "The threshold 0.5 is not tuned; a screening use would choose it on "
            "validation data for a wanted sensitivity.",
            "The recipe was chosen on the 98-volume val split, which is too small to "
            "rank close recipes reliably.",
        ],
    )
