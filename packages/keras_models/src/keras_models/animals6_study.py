"""Seed 004 part 3 as a resumable study on animals6 (CIFAR-10's six animal classes).

The experiment design of the seed's questions 3.1-3.7 and 3.10, one training run per record:

1. ``DefaultModel``: the baseline (:func:`keras_models.residual.build_default_model`).
2. The 12-run grid of ``YourModel``: ``num_blocks`` ∈ {2, 3, 4} × ``use_skip`` ∈ {False, True}
   × learning rate ∈ {1e-3, 1e-4}; the best configuration is chosen on **validation** accuracy
   only (:func:`best_grid_record`). Skip against no skip at equal depth: :func:`skip_frame`.
3. The best configuration again, one change at a time (same seed, so the only difference is the
   change): augmentation (flips, pad-and-crop, colour jitter), mixup (α = 0.2), SAM (ρ = 0.05,
   Adam inside); and with two more seeds, to measure how much accuracy moves by chance alone
   (:func:`comparison_frame`).

Every run uses Adam and early stopping on the validation accuracy (patience 3, best weights
restored). A run writes ``<work_dir>/<run name>.json`` (:class:`RunRecord`: its config, per-epoch
history, train/validation/test accuracy computed with scikit-learn from the model's predictions,
the test confusion matrix, wall seconds, library versions), atomically. Run the study again and
a record whose config equals the requested one is reused; a record with another config is
retrained (a log line says so); an unreadable record stops the study with
:class:`CorruptRecordError`, which names the file to delete.

Example: the full study loads CIFAR-10 and trains 18 models (about half an hour), so it is not
run here::

    results = run_study("runs/study/animals6")
    print(frame_to_markdown(grid_frame(results)))

The grid, and the pick of the best run on validation accuracy (not test accuracy):

>>> grid = grid_configs(QUICK)
>>> len(grid), grid[0].name
(12, 'grid_b2_noskip_lr0.001')
>>> records = [_demo_record(grid[0], val=0.60, test=0.70),
...            _demo_record(grid[1], val=0.65, test=0.50)]
>>> best_grid_record(records).config.name
'grid_b2_noskip_lr0.0001'
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix

from a2common.tables import markdown_table
from keras_models.animals6 import ANIMAL_CLASSES, Animals6, load_animals6

Log = Callable[[str], None]
SPLITS = ("train", "val", "test")
GRID_BLOCKS = (2, 3, 4)
GRID_SKIP = (False, True)
GRID_LEARNING_RATES = (1e-3, 1e-4)
MIXUP_ALPHA = 0.2
SAM_RHO = 0.05
NOISE_SEEDS = (1, 2)
"""Extra seeds of the best plain configuration (the baseline itself is seed 0)."""


@dataclass(frozen=True)
class StudySizes:
    """Data size, width and training length shared by every run of a study."""

    train_per_class: int | None
    feature_maps: int
    epochs: int
    batch_size: int = 128
    patience: int = 3
    drop_rate: float = 0.2
    bn_momentum: float = 0.99


# Sized for ~25-33 min on a quiet 2-core CPU (estimated, not yet timed): a clean epoch of 27,000
# images at 3 blocks x 32 feature maps takes ~150 s there, so 6,000 images at 16 maps (1/4 of the
# multiply-adds) take ~8-11 s, plus ~2 s of validation. 18 runs of at most 7 epochs, each then
# predicting 15,000 images; DefaultModel costs ~2x a grid run per epoch, SAM ~2x.
FULL = StudySizes(train_per_class=1000, feature_maps=16, epochs=7)
# A smoke test: BatchNorm momentum 0.5 so the moving averages settle within a handful of steps.
QUICK = StudySizes(train_per_class=30, feature_maps=4, epochs=1, batch_size=32, bn_momentum=0.5)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run (a changed field means a new run)."""

    name: str
    model: Literal["default", "your_model"]
    num_blocks: int
    use_skip: bool
    lr: float
    augment: bool
    mixup_alpha: float | None
    sam_rho: float | None
    seed: int
    epochs: int
    train_per_class: int | None
    feature_maps: int
    batch_size: int
    patience: int
    drop_rate: float = 0.2
    bn_momentum: float = 0.99
    data_seed: int = 0
    """Seed of the validation split and training subset: fixed, so seeds change only training."""

    def to_dict(self) -> dict[str, Any]:
        """The config as stored in a record (JSON types)."""
        return json.loads(json.dumps(asdict(self)))


@dataclass(frozen=True)
class RunRecord:
    """The result of one run, as stored in ``<work_dir>/<config.name>.json``."""

    config: RunConfig
    history: dict[str, list[float]]
    accuracy: dict[str, float]
    """``accuracy_score`` of the predictions, by split (train, val, test)."""
    predictions: dict[str, list[int]]
    """Predicted class of every image, by split, in the loader's order."""
    test_confusion: list[list[int]]
    train_seconds: float
    parameters: int
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        """Epochs trained (early stopping may end a run before ``config.epochs``)."""
        return len(self.history.get("loss", []))

    @property
    def best_epoch(self) -> int:
        """The epoch (1-based) with the best validation accuracy: its weights were kept."""
        return int(np.argmax(self.history["val_accuracy"])) + 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {**asdict(self), "config": self.config.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunRecord:
        """Inverse of :meth:`to_dict` (``KeyError``/``TypeError`` when a field is missing)."""
        return cls(**{**values, "config": RunConfig(**values["config"])})


class CorruptRecordError(RuntimeError):
    """A record file exists but cannot be read; the message names the file to delete."""


def _config(sizes: StudySizes, **fields: Any) -> RunConfig:
    return RunConfig(
        **{
            "augment": False,
            "mixup_alpha": None,
            "sam_rho": None,
            "seed": 0,
            **fields,
            **{f.name: getattr(sizes, f.name) for f in dataclasses.fields(sizes)},
        }
    )


def default_config(sizes: StudySizes) -> RunConfig:
    """Step 1: the seed's ``DefaultModel`` (its fixed 32/64 filters), Adam 1e-3."""
    return _config(sizes, name="default", model="default", num_blocks=2, use_skip=False, lr=1e-3)


def grid_configs(sizes: StudySizes) -> list[RunConfig]:
    """Steps 2-3: the 12 ``YourModel`` configurations, named ``grid_b<blocks>_<skip>_lr<lr>``."""
    return [
        _config(
            sizes,
            name=f"grid_b{blocks}_{'skip' if skip else 'noskip'}_lr{lr:g}",
            model="your_model",
            num_blocks=blocks,
            use_skip=skip,
            lr=lr,
        )
        for blocks in GRID_BLOCKS
        for skip in GRID_SKIP
        for lr in GRID_LEARNING_RATES
    ]


def follow_up_configs(best: RunConfig) -> list[RunConfig]:
    """Steps 4, 5, 8 and the seed noise: the best grid config with one change each."""
    change = dataclasses.replace
    return [
        change(best, name="best_augment", augment=True),
        change(best, name="best_mixup", mixup_alpha=MIXUP_ALPHA),
        change(best, name="best_sam", sam_rho=SAM_RHO),
        *(change(best, name=f"best_seed{seed}", seed=seed) for seed in NOISE_SEEDS),
    ]


def best_grid_record(records: Sequence[RunRecord]) -> RunRecord:
    """The record with the best validation accuracy; test accuracy is unused.

    Equal validation accuracies (3,000 photos give steps of 1/3,000, and runs do tie) are
    broken by the lower validation loss at the kept epoch, then by grid order.
    """
    if not records:
        raise ValueError("Expected at least one grid record. Received: none")

    def rank(record: RunRecord) -> tuple[float, float]:
        val_loss = record.history.get("val_loss", [])
        loss = val_loss[record.best_epoch - 1] if len(val_loss) >= record.best_epoch else np.inf
        return (record.accuracy["val"], -loss)

    return max(records, key=rank)


def _versions() -> dict[str, str]:
    import keras
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
    }


def build_model(config: RunConfig, data: Animals6) -> Any:
    """The compiled model of ``config`` (standardised with the training split's statistics)."""
    import keras

    from keras_models.residual import build_default_model, build_your_model
    from keras_models.sam import SAMModel

    mean, std = data.channel_statistics()
    num_classes = len(data.class_names)
    if config.model == "default":
        model = build_default_model(
            num_classes=num_classes, channel_mean=mean, channel_std=std, name=config.name
        )
    else:
        model = build_your_model(
            num_classes=num_classes,
            num_blocks=config.num_blocks,
            feature_maps=config.feature_maps,
            use_skip=config.use_skip,
            drop_rate=config.drop_rate,
            bn_momentum=config.bn_momentum,
            channel_mean=mean,
            channel_std=std,
            name=config.name,
        )
    if config.sam_rho is not None:
        model = SAMModel(model, rho=config.sam_rho, name=f"{config.name}_sam")
    model.compile(
        keras.optimizers.Adam(config.lr), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def train_run(config: RunConfig, data: Animals6, log: Log = print) -> RunRecord:
    """Train one run (early stopping on validation accuracy) and score it with scikit-learn."""
    import keras

    from a2common.seeding import seed_everything
    from keras_models.augment import make_train_dataset

    seed_everything(config.seed)
    num_classes = len(data.class_names)
    model = build_model(config, data)
    train = make_train_dataset(
        data.train_images,
        data.train_labels,
        num_classes=num_classes,
        batch_size=config.batch_size,
        seed=config.seed,
        augment=config.augment,
        mixup_alpha=config.mixup_alpha,
    )
    val_one_hot = np.eye(num_classes, dtype=np.float32)[data.val_labels]
    progress = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: log(
            f"  {config.name} epoch {epoch + 1}/{config.epochs}: loss {logs['loss']:.3f} "
            f"acc {logs['accuracy']:.3f} val_acc {logs['val_accuracy']:.3f}"
        )
    )
    stop = keras.callbacks.EarlyStopping(
        "val_accuracy", patience=config.patience, restore_best_weights=True
    )
    start = time.perf_counter()
    history = model.fit(
        train,
        epochs=config.epochs,
        validation_data=(data.val_images, val_one_hot),
        callbacks=[stop, progress],
        shuffle=False,  # make_train_dataset shuffles
        verbose=0,
    )
    seconds = time.perf_counter() - start
    images = {split: getattr(data, f"{split}_images") for split in SPLITS}
    labels = {split: getattr(data, f"{split}_labels") for split in SPLITS}
    predicted = model.predict(np.concatenate(list(images.values())), batch_size=500, verbose=0)
    predicted = predicted.argmax(axis=1)
    ends = np.cumsum([len(images[split]) for split in SPLITS])
    predictions = dict(zip(SPLITS, np.split(predicted, ends[:-1])))
    return RunRecord(
        config=config,
        history={key: [float(v) for v in values] for key, values in history.history.items()},
        accuracy={
            split: float(accuracy_score(labels[split], predictions[split])) for split in SPLITS
        },
        predictions={split: predictions[split].tolist() for split in SPLITS},
        test_confusion=confusion_matrix(
            labels["test"], predictions["test"], labels=list(range(num_classes))
        ).tolist(),
        train_seconds=seconds,
        parameters=int(model.count_params()),
        versions=_versions(),
    )


def record_path(work_dir: str | Path, name: str) -> Path:
    """Where the record of run ``name`` lives."""
    return Path(work_dir) / f"{name}.json"


def read_record(path: Path) -> RunRecord:
    """Load a record, or raise :class:`CorruptRecordError` naming the file and the fix."""
    try:
        return RunRecord.from_dict(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CorruptRecordError(
            f"Cannot read the study record {path} ({type(error).__name__}: {error}). "
            f"Delete it to retrain that run: rm '{path}'"
        ) from error


def write_record(record: RunRecord, path: Path) -> None:
    """Write ``record`` atomically: a temporary file in the same folder, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(record.to_dict(), stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_or_load(
    config: RunConfig, data: Callable[[], Animals6], work_dir: str | Path, log: Log = print
) -> RunRecord:
    """Reuse the record of ``config`` if its stored config is equal, else train and write it.

    ``data`` is called only when the run has to be trained.
    """
    path = record_path(work_dir, config.name)
    if path.exists():
        record = read_record(path)
        if record.config == config:
            log(f"{config.name}: reusing {path}")
            return record
        changed = sorted(
            key for key, value in config.to_dict().items() if record.config.to_dict()[key] != value
        )
        changes = ", ".join(changed)
        log(f"{config.name}: {path} holds another config (changed: {changes}); retraining")
    log(f"{config.name}: training")
    record = train_run(config, data(), log)
    write_record(record, path)
    log(
        f"{config.name}: val {record.accuracy['val']:.4f} test {record.accuracy['test']:.4f} "
        f"({record.epochs} epochs, {record.train_seconds:.0f} s) -> {path}"
    )
    return record


@dataclass(frozen=True)
class StudyResults:
    """All records of a study: the baseline, the grid, the best pick and its follow-ups."""

    default: RunRecord
    grid: list[RunRecord]
    best: RunRecord
    """The grid record with the best validation accuracy (seed 0, no augmentation)."""
    follow_ups: dict[str, RunRecord]
    """``best_augment``, ``best_mixup``, ``best_sam``, ``best_seed1``, ``best_seed2``."""

    @property
    def seeds(self) -> list[RunRecord]:
        """The best plain configuration with seeds 0, 1, 2."""
        return [self.best, *(self.follow_ups[f"best_seed{seed}"] for seed in NOISE_SEEDS)]

    @property
    def records(self) -> dict[str, RunRecord]:
        """Every record, by run name."""
        runs = [self.default, *self.grid, *self.follow_ups.values()]
        return {record.config.name: record for record in runs}


def run_study(
    work_dir: str | Path,
    quick: bool = False,
    sizes: StudySizes | None = None,
    log: Log = print,
) -> StudyResults:
    """Run (or reuse) every run of the study in ``work_dir``; ``sizes`` overrides FULL/QUICK."""
    sizes = sizes or (QUICK if quick else FULL)
    loaded: dict[tuple[int, int | None], Animals6] = {}

    def data_for(config: RunConfig) -> Callable[[], Animals6]:
        def load() -> Animals6:
            key = (config.data_seed, config.train_per_class)
            if key not in loaded:
                loaded[key] = load_animals6(*key)
            return loaded[key]

        return load

    def run(config: RunConfig) -> RunRecord:
        return run_or_load(config, data_for(config), work_dir, log)

    default = run(default_config(sizes))
    grid = [run(config) for config in grid_configs(sizes)]
    best = best_grid_record(grid)
    log(f"best on validation accuracy: {best.config.name} (val {best.accuracy['val']:.4f})")
    follow_ups = {config.name: run(config) for config in follow_up_configs(best.config)}
    return StudyResults(default, grid, best, follow_ups)


def _row(record: RunRecord) -> dict[str, Any]:
    config = record.config
    return {
        "run": config.name,
        "num_blocks": config.num_blocks,
        "use_skip": config.use_skip,
        "lr": config.lr,
        "train_accuracy": record.accuracy["train"],
        "val_accuracy": record.accuracy["val"],
        "test_accuracy": record.accuracy["test"],
        "epochs": record.epochs,
        "best_epoch": record.best_epoch,
        "seconds": round(record.train_seconds, 1),
    }


def grid_frame(results: StudyResults) -> pd.DataFrame:
    """The 12 grid runs (and ``DefaultModel`` first), best validation accuracy first."""
    grid = pd.DataFrame([_row(record) for record in results.grid])
    grid = grid.sort_values("val_accuracy", ascending=False, kind="stable")
    default = pd.DataFrame([_row(results.default)]).assign(num_blocks=None, use_skip=None)
    return pd.concat([default, grid], ignore_index=True)


def skip_frame(results: StudyResults) -> pd.DataFrame:
    """Validation accuracy with and without skips at equal depth and learning rate."""
    grid = pd.DataFrame([_row(record) for record in results.grid])
    table = grid.pivot_table(index=["num_blocks", "lr"], columns="use_skip", values="val_accuracy")
    table = table.rename(columns={False: "no_skip", True: "skip"})
    return table.assign(skip_minus_no_skip=table["skip"] - table["no_skip"]).reset_index()


def seed_noise(results: StudyResults) -> dict[str, float]:
    """Mean and sample standard deviation (ddof=1) of val/test accuracy over the three seeds."""
    noise: dict[str, float] = {}
    for split in ("val", "test"):
        values = np.array([record.accuracy[split] for record in results.seeds])
        noise[f"{split}_mean"] = float(values.mean())
        noise[f"{split}_std"] = float(values.std(ddof=1))
    return noise


def comparison_frame(results: StudyResults) -> pd.DataFrame:
    """Augmentation, mixup and SAM against the best plain run (same seed), next to seed noise.

    ``*_gain`` is the change over the plain seed-0 run; ``test_gain_in_stds`` divides the test
    gain by the seeds' standard deviation (|value| < 2 is within what chance alone moves).
    """
    noise = seed_noise(results)
    changes = {
        "best_augment": "+ augmentation (flip, crop, colour)",
        "best_mixup": f"+ mixup (alpha {MIXUP_ALPHA})",
        "best_sam": f"SAM (rho {SAM_RHO}) around Adam",
    }
    runs = [(results.best, "plain (seed 0)")]
    runs += [
        (results.follow_ups[f"best_seed{seed}"], f"plain, seed {seed}") for seed in NOISE_SEEDS
    ]
    runs += [(results.follow_ups[name], change) for name, change in changes.items()]
    rows = []
    for record, change in runs:
        val_gain = record.accuracy["val"] - results.best.accuracy["val"]
        test_gain = record.accuracy["test"] - results.best.accuracy["test"]
        rows.append(
            {
                "run": record.config.name,
                "change": change,
                "val_accuracy": record.accuracy["val"],
                "test_accuracy": record.accuracy["test"],
                "val_gain": val_gain,
                "test_gain": test_gain,
                "test_gain_in_stds": test_gain / noise["test_std"] if noise["test_std"] else None,
                "epochs": record.epochs,
                "seconds": round(record.train_seconds, 1),
            }
        )
    return pd.DataFrame(rows)


def frame_to_markdown(frame: pd.DataFrame) -> str:
    """A table of this module as Markdown (:func:`a2common.tables.markdown_table`)."""
    rows = [
        [None if value is None or value != value else value for value in row]
        for row in frame.itertuples(index=False)
    ]
    return markdown_table([str(column) for column in frame.columns], rows)


def _demo_record(config: RunConfig, val: float, test: float, val_loss: float = 1.0) -> RunRecord:
    """A record with given accuracies and no training (docstring example and tests)."""
    return RunRecord(
        config=config,
        history={"loss": [1.0], "accuracy": [0.5], "val_loss": [val_loss], "val_accuracy": [val]},
        accuracy={"train": 0.5, "val": val, "test": test},
        predictions={split: [] for split in SPLITS},
        test_confusion=[[0] * len(ANIMAL_CLASSES) for _ in ANIMAL_CLASSES],
        train_seconds=0.0,
        parameters=0,
    )
