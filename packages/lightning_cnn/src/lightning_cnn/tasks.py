"""Graded tasks: the same CNN trained from scratch on the animals3 release, in Lightning and Keras.

``grade_lightning_cnn(ctx)`` and ``grade_keras_cnn(ctx)`` follow the harness contract of
:mod:`a2common.grading`: train (or resume, or load the finished model) in ``ctx.work_dir``, then
return the class probabilities of the 600 **test** images (the autograder computes the
accuracy). Both read the same image-folder release, written into the work dir (or read from
``ctx.params["release_dir"]``) by :func:`lightning_cnn.release.ensure_release`.

``ctx.params`` (all optional):

* ``pooling``: ``"max"`` (default) or ``"gem"`` (the custom generalized-mean pooling layer);
* ``epochs``, ``batch_size``, ``learning_rate``, ``weight_decay``, ``shift_px``, ``cutout_px``,
  ``mixup_alpha``, ``label_smoothing``, ``warmup_fraction``: override :class:`TrainConfig`;
* ``num_threads``: CPU threads for the framework (default: the framework's own choice);
* ``release_dir``: an existing (verified) release folder to read instead of writing one;
* ``progress``: show progress bars (default ``True``); ``False`` prints one line per epoch;
* ``shuffle_labels``: train on permuted labels (a broken model, for mutation tests).

Example: ``grade_lightning_cnn(ctx)`` trains on the whole release and returns the ``(600, 3)``
test probabilities (minutes, even quick). What it trains is :func:`train_config` of the
context: the defaults, the quick variant's epochs and the ``ctx.params`` overrides:

>>> ctx = TaskContext(quick=True, seed=0, work_dir=Path("w"), params={"pooling": "gem"})
>>> config = train_config(ctx)
>>> config.epochs, config.cnn.pooling, config.batch_size
(4, 'gem', 64)
>>> train_config(TaskContext(quick=False, seed=0, work_dir=Path("w"), params={"epochs": 2})).epochs
2
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from a2common.grading import (
    ModelCardText,
    TaskContext,
    TaskResult,
    finished_info,
    is_finished,
    mark_finished,
)
from a2common.seeding import seed_everything
from a2common.threads import set_tensorflow_threads, set_torch_threads
from lightning_cnn.config import CNNConfig, TrainConfig
from lightning_cnn.release import ensure_release, list_split, verify_release

QUICK_EPOCHS = 4
QUICK_TRAIN_IMAGES = 640
FINAL_CHECKPOINT = "model.ckpt"
HISTORY_FILE = "history.json"
_CONFIG_KEYS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "shift_px",
    "cutout_px",
    "mixup_alpha",
    "label_smoothing",
    "warmup_fraction",
)


def train_config(ctx: TaskContext) -> TrainConfig:
    """The :class:`TrainConfig` of a task: defaults, ``ctx.params`` overrides, quick variant."""
    params = ctx.params or {}
    known = {*_CONFIG_KEYS, "pooling", "num_threads", "release_dir", "progress", "shuffle_labels"}
    if unknown := set(params) - known:
        raise ValueError(
            f"Unknown task parameters {sorted(unknown)}. Expected some of: {sorted(known)}"
        )
    config = TrainConfig(
        cnn=CNNConfig(pooling=params.get("pooling", "max")),
        **{key: params[key] for key in _CONFIG_KEYS if key in params},
    )
    if ctx.quick:
        config = replace(config, epochs=min(config.epochs, QUICK_EPOCHS))
    return config


def _release(ctx: TaskContext) -> Path:
    """The release to read: ``params["release_dir"]`` (verified as it is) or one in the work dir."""
    if "release_dir" in ctx.params:
        release = Path(ctx.params["release_dir"])
        verify_release(release)
        return release
    return ensure_release(Path(ctx.work_dir) / "animals3_release", require_full=True)


def load_history(work_dir: Path) -> dict[str, list[float]]:
    """Per-epoch history of a Lightning run (``loss``, ``acc``, ``val_loss``, ``val_acc``...)."""
    return json.loads((Path(work_dir) / HISTORY_FILE).read_text())


def _check_test_order(release: Path, labels: np.ndarray) -> None:
    """The release's test images must be the loader's test split, in its order."""
    from a2common.data import load_split

    expected, _ = load_split("animals3", "test")
    if len(labels) == len(expected.y) and not np.array_equal(labels, expected.y):
        raise RuntimeError(
            f"The test images of {release} are not in the order of "
            f"a2common.data's animals3 test split; rewrite the release."
        )


def _result(
    ctx: TaskContext,
    release: Path,
    probabilities: np.ndarray,
    *,
    train_seconds: float,
    history: dict[str, list[float]],
    parameters: int,
    model_file: str,
    config: TrainConfig,
    framework: str,
    **extra: Any,
) -> TaskResult:
    _, labels = list_split(release, "test")
    _check_test_order(release, labels)
    details = {
        "test_images": int(len(labels)),
        "config": config.to_dict(),
        "framework": framework,
        **extra,
    }
    return TaskResult(
        predictions=probabilities,
        train_seconds=train_seconds,
        epochs=len(history.get("loss", [])),
        parameters=parameters,
        history={k: v for k, v in history.items() if k != "epoch_seconds"},
        model_files=[model_file],
        card=_card(framework, config),
        details=details,
    )


def _card(framework: str, config: TrainConfig) -> ModelCardText:
    name = "PyTorch Lightning" if framework == "lightning" else "Keras"
    return ModelCardText(
        overview=f"A {len(config.cnn.channels)}-block convolutional network "
        f"(3x3 conv, BatchNorm, ReLU, {config.cnn.pooling} pooling; global average "
        f"pooling, dropout {config.cnn.dropout}, linear classifier) trained from "
        f"scratch with {name} on the project's animals3 release (cats, dogs, pandas; "
        f"64x64 photos). The same network and recipe exist in the other framework."
        + (
            " Its predictions average the probabilities of each photo and its mirror image."
            if config.test_time_flip
            else ""
        ),
        intended_uses=[
            "Teaching: one image classifier written in Keras and in PyTorch "
            "Lightning, compared on the same data.",
            "A from-scratch baseline for the transfer-learning models.",
        ],
        intended_users=["Students and instructors."],
        out_of_scope_uses=[
            "Any animal or photo outside the three classes: the model always "
            "answers cat, dog or panda.",
            "Decisions about real animals (adoption, wildlife monitoring).",
        ],
        factors=[
            "Class (cats, dogs, pandas): cats and dogs are confused far more often than "
            "either with pandas.",
            "Photo conditions (pose, background, lighting) vary freely; they are not "
            "labelled, so the card cannot break results down by them.",
        ],
        training_data=f"animals3 release, train split (2,100 photos, 700 per class) with random "
        f"flips, shifts up to {config.shift_px} px, {config.cutout_px} px cutout squares and "
        f"mixup (alpha {config.mixup_alpha}); validation split (300) for "
        f"checkpoints and early stopping. {config.epochs} epochs planned, AdamW, "
        f"warm-up + cosine schedule, label smoothing {config.label_smoothing}.",
        evaluation_data="animals3 release, test split: 600 photos (200 per class), the seeded "
        "stratified 20% that a2common.data holds out; never used in training.",
        ethical_considerations=[
            (
                "The photos come from a book's dataset with no stated licence (Kaggle Dogs vs. "
                "Cats and ImageNet originals).",
                "Use for teaching and research only; see the release's DATASHEET.md.",
            )
        ],
        caveats=[
            "600 test images: the 95% interval is about ±3 points wide.",
            "64x64 inputs lose detail; the transfer-learning models do much better.",
            "One seed; framework differences of a point or two are within seed noise.",
        ],
    )


def grade_lightning_cnn(ctx: TaskContext) -> TaskResult:
    """Train the CNN with PyTorch Lightning on the animals3 release; return test probabilities.

    Checkpoints (``last.ckpt`` every epoch, best by ``val_loss``) go to
    ``ctx.work_dir/checkpoints``; an interrupted run resumes from ``last.ckpt``; TensorBoard
    logs go to ``ctx.work_dir/tensorboard``. The graded model is the one at the end of the
    learning-rate schedule, saved as ``ctx.work_dir/model.ckpt``.
    """
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
    from lightning.pytorch.loggers import TensorBoardLogger

    from lightning_cnn.lightning_callbacks import TrainingHistory
    from lightning_cnn.lightning_data import Animals3DataModule
    from lightning_cnn.lightning_model import Animals3Classifier, stack_predictions

    set_torch_threads(ctx.params.get("num_threads"))
    work_dir = Path(ctx.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    config = train_config(ctx)
    progress = bool(ctx.params.get("progress", True))
    L.seed_everything(ctx.seed, workers=True, verbose=False)
    release = _release(ctx)
    datamodule = Animals3DataModule(
        release,
        batch_size=config.batch_size,
        shift_px=config.shift_px,
        cutout_px=config.cutout_px,
        train_subset=QUICK_TRAIN_IMAGES if ctx.quick else None,
        seed=ctx.seed,
        shuffle_labels=bool(ctx.params.get("shuffle_labels", False)),
    )
    final_checkpoint = work_dir / FINAL_CHECKPOINT
    trainer_kwargs: dict[str, Any] = dict(
        accelerator="auto",
        devices="auto",
        enable_progress_bar=progress,
        enable_model_summary=progress,
    )
    from_cache = is_finished(work_dir) and final_checkpoint.is_file()
    extra: dict[str, Any] = {}
    if from_cache:
        model = Animals3Classifier.load_from_checkpoint(final_checkpoint, map_location="cpu")
        train_seconds = float(finished_info(work_dir)["train_seconds"])
        trainer = L.Trainer(logger=False, **trainer_kwargs)
    else:
        mean, std = datamodule.channel_stats()
        model = Animals3Classifier.from_train_config(config, mean, std)
        history = TrainingHistory(verbose=not progress)
        checkpoints = ModelCheckpoint(
            dirpath=work_dir / "checkpoints",
            monitor="val_loss",
            mode="min",
            save_last=True,
            save_on_train_epoch_end=True,
            filename="best-{epoch:02d}-{val_acc:.3f}",
        )
        trainer = L.Trainer(
            max_epochs=config.epochs,
            default_root_dir=work_dir,
            logger=TensorBoardLogger(work_dir, name="tensorboard", default_hp_metric=False),
            callbacks=[
                history,
                checkpoints,
                LearningRateMonitor("epoch"),
                EarlyStopping("val_loss", patience=config.early_stopping_patience),
            ],
            log_every_n_steps=10,
            **trainer_kwargs,
        )
        resume = "last" if (work_dir / "checkpoints" / "last.ckpt").is_file() else None
        trainer.fit(model, datamodule=datamodule, ckpt_path=resume)
        train_seconds = history.train_seconds
        trainer.save_checkpoint(final_checkpoint)
        (work_dir / HISTORY_FILE).write_text(json.dumps(history.history))
        mark_finished(
            work_dir,
            train_seconds,
            epochs=len(history.history.get("loss", [])),
            framework="lightning",
            train_cpu_seconds=history.train_cpu_seconds,
            best_checkpoint=Path(checkpoints.best_model_path).name,
        )
    info = finished_info(work_dir)
    extra.update(
        epochs_run=info.get("epochs"),
        train_cpu_seconds=info.get("train_cpu_seconds"),
        best_checkpoint=info.get("best_checkpoint"),
    )
    model.eval()
    datamodule.setup("predict")
    batches = trainer.predict(model, datamodule=datamodule)
    probabilities = stack_predictions(batches).float().cpu().numpy()
    extra.update(device=str(trainer.strategy.root_device), gem_p=model.gem_exponents())
    return _result(
        ctx,
        release,
        probabilities,
        train_seconds=train_seconds,
        history=load_history(work_dir),
        parameters=sum(p.numel() for p in model.parameters()),
        model_file=FINAL_CHECKPOINT,
        config=config,
        framework="lightning",
        **extra,
    )


def grade_keras_cnn(ctx: TaskContext) -> TaskResult:
    """Train the same CNN with Keras on the animals3 release; return test probabilities.

    Uses :func:`a2common.keras_training.fit_or_load` (``BackupAndRestore`` every epoch, so an
    interrupted run resumes; a finished ``model.keras`` is loaded instead of retrained), with
    TensorBoard, best-model checkpoint, early stopping and an epoch-timer callback.
    """
    import a2common.tf_env  # noqa: F401  (before TensorFlow)

    set_tensorflow_threads(ctx.params.get("num_threads"))
    import keras

    from a2common.keras_training import fit_or_load
    from lightning_cnn.keras_model import (
        EPOCH_TIMES_FILE,
        EpochTimer,
        build_keras_cnn,
        channel_stats,
        compile_model,
        load_split,
        predict_probabilities,
        training_callbacks,
        with_mixup,
    )
    from lightning_cnn.keras_pooling import GeneralizedMeanPooling2D

    work_dir = Path(ctx.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    config = train_config(ctx)
    seed_everything(ctx.seed)
    keras.utils.set_random_seed(ctx.seed)
    release = _release(ctx)
    subset = QUICK_TRAIN_IMAGES if ctx.quick else None
    train_ds = load_split(
        release, "train", config.batch_size, shuffle=True, seed=ctx.seed, take=subset
    )
    if config.mixup_alpha:
        train_ds = with_mixup(train_ds, config.mixup_alpha, seed=ctx.seed)
    val_ds = load_split(release, "val", batch_size=256)
    test_ds = load_split(release, "test", batch_size=256)
    steps_per_epoch = int(train_ds.cardinality())
    if steps_per_epoch <= 0:
        steps_per_epoch = math.ceil((subset or 2100) / config.batch_size)

    def build_model() -> keras.Model:
        mean, variance = channel_stats(load_split(release, "train", batch_size=256))
        model = build_keras_cnn(
            config.cnn, mean, variance, config.shift_px, seed=ctx.seed, cutout_px=config.cutout_px
        )
        return compile_model(model, config, steps_per_epoch)

    verbose = "auto" if ctx.params.get("progress", True) else 2
    model, history, train_seconds = fit_or_load(
        build_model,
        work_dir,
        train_ds,
        epochs=config.epochs,
        validation_data=val_ds,
        callbacks=training_callbacks(work_dir, config),
        verbose=verbose,
        shuffle=False,
    )  # train_ds reshuffles itself every epoch
    probabilities = predict_probabilities(model, test_ds, config.test_time_flip)
    gem_p = [
        float(layer.p.numpy())
        for layer in model.layers
        if isinstance(layer, GeneralizedMeanPooling2D)
    ]
    epoch_times = EpochTimer.read(work_dir / EPOCH_TIMES_FILE)
    if epoch_times["seconds"]:  # the sum over all epochs, resumed sessions included
        train_seconds = float(sum(epoch_times["seconds"]))
    return _result(
        ctx,
        release,
        probabilities,
        train_seconds=train_seconds,
        history=history,
        parameters=int(model.count_params()),
        model_file="model.keras",
        config=config,
        framework="keras",
        gem_p=gem_p,
        train_cpu_seconds=(
            float(sum(epoch_times["cpu_seconds"])) if epoch_times["cpu_seconds"] else None
        ),
    )
