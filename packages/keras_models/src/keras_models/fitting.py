"""One training run of a seed-000 model: cached folder, callbacks, test probabilities.

Every ``train_*`` function of :mod:`~keras_models.binary`, :mod:`~keras_models.cifar7`,
:mod:`~keras_models.logistic` and :mod:`~keras_models.multihead` ends in :func:`fit_run`, which
trains through the project's single train-or-load path (:func:`a2common.keras_training.fit_or_load`:
resumable, cached in a folder named after the run's configuration) with
:func:`~keras_models.callbacks.standard_callbacks` (macro-F1, early stopping, TensorBoard), and
returns a :class:`TrainResult`. :func:`train_tabular` is that path for the three tabular
problems (statistics from the training frame, ``tf.data`` pipelines, test predictions from the
raw test frame through the model's own preprocessing).

Example:

>>> run_folder("runs/keras_models", "pima", {"units": 16})  # doctest: +ELLIPSIS
PosixPath('runs/keras_models/pima-...')
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np

from a2common.keras_training import HISTORY_FILE, fit_or_load
from keras_models.callbacks import MacroF1Callback, standard_callbacks
from keras_models.tabular import (
    FeatureStats,
    TabularSchema,
    TabularSplits,
    fit_feature_stats,
    frame_to_inputs,
    make_tabular_dataset,
    predict_frame,
)


@dataclass
class TrainResult:
    """What a ``train_*`` function returns.

    Attributes:
        model: the trained model (best validation epoch, see early stopping).
        history: per-epoch ``loss``, ``val_loss``, metrics and ``val_macro_f1``.
        test_probabilities: predictions on the test split, rows in the loader's test order
            (each module says its exact order and shape; a dict per head for many heads).
        work_dir: the run's folder (model, history, TensorBoard logs).
        train_seconds: wall time of the training (of the original run when loaded from cache).
        config: the configuration the model was trained with.
    """

    model: keras.Model
    history: dict[str, list[float]]
    test_probabilities: Any
    work_dir: Path
    train_seconds: float
    config: dict[str, Any]


def config_dict(config: Any) -> dict[str, Any]:
    """A dataclass config (or a dict) as a JSON-able dict (tuples become lists)."""
    is_dataclass_instance = is_dataclass(config) and not isinstance(config, type)
    values = asdict(config) if is_dataclass_instance else dict(config)
    return json.loads(json.dumps(values))


def run_folder(work_dir: Path | str, name: str, config: Any) -> Path:
    """``work_dir/<name>-<digest of config>``: a changed config never loads a stale model."""
    text = json.dumps(config_dict(config), sort_keys=True)
    return Path(work_dir) / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def fit_run(
    build_model: Callable[[], keras.Model],
    run_dir: Path,
    train_data: Any,
    validation_data: Any,
    *,
    epochs: int,
    f1_callback: MacroF1Callback | None,
    patience: int,
    monitor: str = "val_loss",
    verbose: int = 2,
) -> tuple[keras.Model, dict[str, list[float]], float]:
    """Train (or load) a model in ``run_dir`` with the standard callbacks.

    ``fit_or_load``'s epoch log is written before the macro-F1 callback adds its value to the
    logs, so the scores are added to the saved history here (``history.json``).

    Returns:
        ``(model, history, train_seconds)``.
    """
    callbacks = standard_callbacks(run_dir, f1_callback, patience=patience, monitor=monitor)
    model, history, seconds = fit_or_load(
        build_model,
        run_dir,
        train_data,
        epochs=epochs,
        validation_data=validation_data,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
    )  # tf.data shuffles
    if f1_callback is not None and f1_callback.values and f1_callback.name not in history:
        epochs_run = len(next(iter(history.values()), []))
        values = [float("nan")] * (epochs_run - len(f1_callback.values)) + f1_callback.values
        history[f1_callback.name] = values[-epochs_run:] if epochs_run else values
        (Path(run_dir) / HISTORY_FILE).write_text(json.dumps(history))
    return model, history, seconds


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """A Keras optimizer by name (``"adam"``, ``"rmsprop"``, ``"sgd"``, ``"adamw"``, ...).

    ``"sgd"`` gets Nesterov momentum 0.9 (plain SGD is rarely the fair comparison).

    Example:

    >>> type(make_optimizer("rmsprop", 1e-3)).__name__
    'RMSprop'
    """
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True)
    return keras.optimizers.get({"class_name": name, "config": {"learning_rate": learning_rate}})


def as_probabilities(outputs: Any) -> Any:
    """Model outputs as ``float64`` arrays; a single sigmoid unit ``(n, 1)`` becomes ``(n,)``."""
    if isinstance(outputs, dict):
        return {name: as_probabilities(value) for name, value in outputs.items()}
    array = np.asarray(outputs, dtype=np.float64)
    return array.reshape(-1) if array.ndim == 2 and array.shape[1] == 1 else array


def tabular_datasets(
    splits: TabularSplits,
    stats: FeatureStats,
    *,
    train_labels: Any = None,
    val_labels: Any = None,
    seed: int = 0,
) -> Callable[[int], tuple[Any, Any]]:
    """``batch_size → (train_data, validation_data)`` for a tabular problem.

    Labels default to ``splits.train_y``/``splits.val_y``; pass dicts for a multi-head model.
    The training pipeline reshuffles every epoch (seeded); validation is not shuffled.
    """
    schema = stats.schema
    train_inputs = frame_to_inputs(splits.train_frame, schema)
    val_inputs = frame_to_inputs(splits.val_frame, schema)
    train_labels = splits.train_y if train_labels is None else train_labels
    val_labels = splits.val_y if val_labels is None else val_labels

    def make(batch_size: int) -> tuple[Any, Any]:
        return (
            make_tabular_dataset(
                train_inputs, train_labels, batch_size=batch_size, shuffle=True, seed=seed
            ),
            make_tabular_dataset(val_inputs, val_labels, batch_size=1024),
        )

    return make


def train_tabular(
    name: str,
    build_model: Callable[[FeatureStats, Any], keras.Model],
    splits: TabularSplits,
    schema: TabularSchema,
    config: Any,
    work_dir: Path | str,
    *,
    train_labels: Any = None,
    val_labels: Any = None,
    f1_output: str | None = None,
    f1_labels: Any = None,
    seed: int = 0,
    verbose: int = 2,
) -> TrainResult:
    """Train ``build_model(stats, config)`` on ``splits`` (or load it) and predict the test split.

    ``config`` must have ``epochs``, ``batch_size`` and ``patience`` fields. Macro-F1 is
    computed on ``f1_labels`` (default ``splits.val_y``) from output ``f1_output``.
    """
    stats = fit_feature_stats(splits.train_frame, schema)
    make = tabular_datasets(
        splits, stats, train_labels=train_labels, val_labels=val_labels, seed=seed
    )
    train_data, validation_data = make(config.batch_size)
    val_inputs = make_tabular_dataset(frame_to_inputs(splits.val_frame, schema), batch_size=1024)
    f1 = MacroF1Callback(
        (val_inputs, splits.val_y if f1_labels is None else f1_labels),
        output=f1_output,
        verbose=int(verbose > 0),
    )
    values = {**config_dict(config), "seed": seed}
    keras.utils.set_random_seed(seed)
    model, history, seconds = fit_run(
        lambda: build_model(stats, config),
        run_folder(work_dir, name, values),
        train_data,
        validation_data,
        epochs=config.epochs,
        f1_callback=f1,
        patience=config.patience,
        verbose=verbose,
    )
    test_probabilities = as_probabilities(predict_frame(model, splits.test_frame, schema))
    return TrainResult(
        model, history, test_probabilities, run_folder(work_dir, name, values), seconds, values
    )
