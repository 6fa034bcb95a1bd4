"""keras-tuner searches for the seed-000 models: resumable, bounded, batch size included.

Each problem module defines ``build_model(hp, ...)`` whose hyperparameter names are the fields of
its config dataclass, so the best trial turns back into a config with
:func:`apply_hyperparameters`. :class:`TunableModel` wraps such a function as a
``keras_tuner.HyperModel`` whose ``fit`` also tunes the mini-batch size (the data pipelines are
built per trial by a ``make_datasets(batch_size)`` callable). :func:`run_search` runs
``RandomSearch`` or ``Hyperband`` with its project folder inside the work folder: run it again
and finished trials are reloaded, not retrained.

Example (one trial of one epoch on 32 random rows; a real search uses ``max_trials=8``,
``epochs=40``):

>>> import tempfile
>>> import numpy as np
>>> import tensorflow as tf
>>> rng = np.random.default_rng(0)
>>> x = rng.random((32, 3), dtype=np.float32)
>>> y = (x.sum(axis=1) > 1.5).astype(np.int64)
>>> def make_datasets(batch_size):
...     data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
...     return data, data  # (train, validation)
>>> def build(hp):
...     model = keras.Sequential([keras.Input((3,)),
...                               keras.layers.Dense(hp.Choice("units", [4, 8]), "relu"),
...                               keras.layers.Dense(2, activation="softmax")])
...     model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
...     return model
>>> search = run_search(TunableModel(build, make_datasets, batch_sizes=(8, 16)),
...                     tempfile.mkdtemp(), "demo", max_trials=1, epochs=1)
>>> sorted(search.best_values), len(search.trials), search.objective
(['batch_size', 'units'], 1, 'val_accuracy')
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import keras_tuner

from a2common.keras_training import tensorboard_callback

BEST_FILE = "best_hyperparameters.json"


class TunableModel(keras_tuner.HyperModel):
    """A ``build_model(hp)`` function plus a tuned mini-batch size.

    Args:
        build_model: returns a compiled model for a ``keras_tuner.HyperParameters``.
        make_datasets: ``batch_size → (train_data, validation_data)`` (e.g. ``tf.data``
            pipelines, which fix their batch size when they are built).
        batch_sizes: the choices of ``hp.Choice("batch_size", ...)``.
    """

    def __init__(
        self,
        build_model: Callable[[keras_tuner.HyperParameters], keras.Model],
        make_datasets: Callable[[int], tuple[Any, Any]],
        batch_sizes: Sequence[int] = (32, 64, 128),
        name: str | None = None,
    ):
        super().__init__(name=name)
        self.build_model = build_model
        self.make_datasets = make_datasets
        self.batch_sizes = list(batch_sizes)

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        return self.build_model(hp)

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs):
        batch_size = hp.Choice("batch_size", self.batch_sizes)
        train_data, validation_data = self.make_datasets(batch_size)
        kwargs.setdefault("shuffle", False)  # the pipelines shuffle themselves
        return model.fit(train_data, validation_data=validation_data, **kwargs)


@dataclass
class SearchResult:
    """The outcome of :func:`run_search` (also saved as ``best_hyperparameters.json``).

    Attributes:
        best_values: hyperparameters of the best trial.
        best_score: its objective value (best epoch).
        objective: e.g. ``"val_accuracy"``.
        trials: ``{"trial_id", "values", "score"}`` of every finished trial, best first.
        directory: the tuner's project folder.
    """

    best_values: dict[str, Any]
    best_score: float
    objective: str
    trials: list[dict[str, Any]]
    directory: str


def run_search(
    hypermodel: keras_tuner.HyperModel,
    work_dir: Path | str,
    project_name: str,
    *,
    objective: str = "val_accuracy",
    direction: str = "max",
    kind: str = "random",
    max_trials: int = 10,
    epochs: int = 50,
    patience: int = 8,
    seed: int = 0,
    verbose: int = 0,
) -> SearchResult:
    """Run (or resume) a keras-tuner search in ``work_dir/project_name``.

    Args:
        hypermodel: usually a :class:`TunableModel`.
        work_dir: folder of the search (the tuner's ``directory=``); TensorBoard logs of each
            trial go to ``work_dir/project_name/tensorboard``.
        objective, direction: the validation metric to optimise and ``"max"``/``"min"``.
        kind: ``"random"`` (``RandomSearch``, ``max_trials`` trials) or ``"hyperband"``
            (``Hyperband`` with ``max_epochs=epochs`` and factor 3, one iteration; it
            ignores ``max_trials``: its bracket sizes follow from ``epochs``).
        max_trials, epochs: bounds of the search; each trial also stops early after
            ``patience`` epochs without improvement of the objective.
        seed: seed of the tuner's sampling.
    """
    if kind not in ("random", "hyperband"):
        raise ValueError(f"Expected kind='random' or 'hyperband'. Received: kind={kind!r}")
    folder = Path(work_dir) / project_name
    goal = keras_tuner.Objective(objective, direction=direction)
    common = dict(
        objective=goal,
        seed=seed,
        directory=str(work_dir),
        project_name=project_name,
        overwrite=False,
        max_consecutive_failed_trials=1,
    )
    if kind == "random":
        tuner = keras_tuner.RandomSearch(hypermodel, max_trials=max_trials, **common)
    else:
        tuner = keras_tuner.Hyperband(
            hypermodel, max_epochs=epochs, factor=3, hyperband_iterations=1, **common
        )
    callbacks = [
        keras.callbacks.EarlyStopping(monitor=objective, mode=direction, patience=patience),
        tensorboard_callback(folder / "tensorboard"),
    ]
    tuner.search(epochs=epochs, callbacks=callbacks, verbose=verbose)
    finished = [t for t in tuner.oracle.trials.values() if t.score is not None]
    finished.sort(key=lambda t: t.score, reverse=direction == "max")
    if not finished:
        raise RuntimeError(
            f"Expected at least one finished trial in {folder}. Received: none "
            f"(see the tuner's log for the failed trials)"
        )
    trials = [
        {"trial_id": t.trial_id, "values": dict(t.hyperparameters.values), "score": float(t.score)}
        for t in finished
    ]
    result = SearchResult(
        best_values=trials[0]["values"],
        best_score=trials[0]["score"],
        objective=objective,
        trials=trials,
        directory=str(folder),
    )
    (folder / BEST_FILE).write_text(json.dumps(dataclasses.asdict(result), indent=1))
    return result


def apply_hyperparameters(config: Any, values: dict[str, Any]) -> Any:
    """A copy of the dataclass ``config`` with the fields named in ``values`` replaced.

    Names that are not fields (Hyperband's bookkeeping ``tuner/epochs`` ...) are ignored.

    Example:

    >>> @dataclasses.dataclass(frozen=True)
    ... class Config:
    ...     units: int = 8
    >>> apply_hyperparameters(Config(), {"units": 32, "tuner/epochs": 4})
    Config(units=32)
    """
    names = {f.name for f in dataclasses.fields(config)}
    return dataclasses.replace(config, **{k: v for k, v in values.items() if k in names})
