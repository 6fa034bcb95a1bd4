"""Seed 004, part 2: the Fashion-MNIST DNN study (grid search and label smoothing).

The network is ``784 → n1 (act) → n2 (act) → 10 (softmax)`` on flattened images.
:func:`grid_search_dnn` tries every ``n1, n2 ∈ units`` × ``act ∈ activations`` with
``keras_tuner.GridSearch`` (resumable: its project folder keeps the finished trials) and returns
a table of validation accuracies;
:func:`label_smoothing_study` retrains the best architecture with plain cross-entropy and with
the hand-written :class:`~keras_models.losses.SmoothedCategoricalCrossentropy` and compares
accuracy and calibration.

Example: the study's search trains 12 networks for minutes, so it is shown here, not run::

    from a2common.data import load_dataset
    data = load_dnn_data(load_dataset("fashion_mnist"))
    table = grid_search_dnn(data, epochs=10)
    table[0]  # the best row: GridResult(n1=40, n2=20, activation='tanh', val_accuracy=0.88...)

:func:`load_dnn_data` on a stand-in dataset of 50 random 28x28 images, and the grid's models:

>>> from a2common.data import Dataset, Split
>>> rng = np.random.default_rng(0)
>>> def split(n):
...     return Split(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 2)
>>> data = load_dnn_data(Dataset("tiny", split(40), split(10), None, ["shirt", "shoe"], {}))
>>> data.train_x.shape, data.val_x.shape, data.test_x.shape, data.train_x.dtype
((36, 784), (4, 784), (10, 784), dtype('float32'))
>>> [build_dnn(n1, n2, "relu").count_params() for n1 in UNITS for n2 in UNITS]
[16330, 16950, 32430, 33450]
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import keras
import keras_tuner
import numpy as np

from a2common.keras_training import tensorboard_callback
from a2common.tables import markdown_table
from keras_models.calibration import expected_calibration_error
from keras_models.data import prepare_images, prepare_labels
from keras_models.losses import SmoothedCategoricalCrossentropy
from keras_models.models import build_mlp

FLAT_SHAPE = (784,)
UNITS = (20, 40)
ACTIVATIONS = ("sigmoid", "tanh", "relu")


@dataclass
class DNNData:
    """Flattened ``float32`` images in ``[0, 1]`` and integer labels for the three splits."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: list[str]


def load_dnn_data(
    dataset: Any, val_fraction: float = 0.1, seed: int = 0, train_size: int | None = None
) -> DNNData:
    """Flatten and scale a (Fashion-)MNIST :class:`a2common.data.Dataset`, holding out
    ``val_fraction`` of the training set (stratified, seeded) for validation.

    Args:
        dataset: the loaded dataset (``load_dataset("fashion_mnist")``).
        val_fraction: fraction of the training set held out for validation.
        seed: seed of the split.
        train_size: keep only this many training examples (a seeded subset, for smoke tests).
    """
    from a2common.data import stratified_split
    from keras_models.data import take_subset

    num_classes = len(dataset.class_names)
    images, labels = take_subset(dataset.train.x, dataset.train.y, train_size, seed)
    train, val = stratified_split(images, labels, val_fraction, seed=seed)
    return DNNData(
        train_x=prepare_images(train.x, FLAT_SHAPE),
        train_y=prepare_labels(train.y, num_classes),
        val_x=prepare_images(val.x, FLAT_SHAPE),
        val_y=prepare_labels(val.y, num_classes),
        test_x=prepare_images(dataset.test.x, FLAT_SHAPE),
        test_y=prepare_labels(dataset.test.y, num_classes),
        class_names=list(dataset.class_names),
    )


def build_dnn(
    n1: int = 20,
    n2: int = 40,
    activation: str = "relu",
    num_classes: int = 10,
    loss: keras.losses.Loss | None = None,
    learning_rate: float = 1e-3,
) -> keras.Model:
    """The compiled ``784 → n1 → n2 → 10`` network (Adam; plain cross-entropy by default).

    Labels are one-hot (``CategoricalCrossentropy``-style losses), so plain and smoothed losses
    take the same targets.

    Example:

    >>> build_dnn(20, 40, "relu").count_params()
    16950
    """
    model = build_mlp(
        FLAT_SHAPE,
        hidden_units=(n1, n2),
        num_classes=num_classes,
        activation=activation,
        name=f"dnn_{n1}_{n2}_{activation}",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=loss or keras.losses.CategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    return model


@dataclass
class GridResult:
    """One grid point and its best validation accuracy over the epochs."""

    n1: int
    n2: int
    activation: str
    val_accuracy: float


def _one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[labels]


class DNNHyperModel(keras_tuner.HyperModel):
    """The grid of :func:`grid_search_dnn` as a keras-tuner hypermodel.

    ``n1`` and ``n2`` are chosen from ``units``, ``activation`` from ``activations``. Every
    trial's model starts from the same seed (the session is cleared and the seed set before
    each build), so grid points differ only in their hyperparameters.

    Example:

    >>> hypermodel = DNNHyperModel(units=(4,), activations=("relu",))
    >>> hypermodel.build(keras_tuner.HyperParameters()).count_params()
    3210
    """

    def __init__(
        self,
        units: Sequence[int] = UNITS,
        activations: Sequence[str] = ACTIVATIONS,
        num_classes: int = 10,
        seed: int = 0,
    ) -> None:
        super().__init__(name="fashion_dnn")
        self.units, self.activations = list(units), list(activations)
        self.num_classes, self.seed = num_classes, seed

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        n1 = hp.Choice("n1", self.units)
        n2 = hp.Choice("n2", self.units)
        activation = hp.Choice("activation", self.activations)
        keras.backend.clear_session()  # free the previous trial's graph and functions
        keras.utils.set_random_seed(self.seed)
        return build_dnn(n1, n2, activation, self.num_classes)


def grid_search_dnn(
    data: DNNData,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    units: Sequence[int] = UNITS,
    activations: Sequence[str] = ACTIVATIONS,
    directory: Path | None = None,
    seed: int = 0,
    verbose: int = 0,
) -> list[GridResult]:
    """Try every ``(n1, n2, activation)`` with ``keras_tuner.GridSearch``; best first.

    Each model trains ``epochs`` epochs on ``data.train_*`` from the same seed and is scored by
    its best ``val_accuracy`` on ``data.val_*`` (the test set is not touched). The tuner's
    project folder (named after the settings) lives in ``directory`` (a temporary folder when
    ``None``): run the search again and finished grid points are reloaded, not retrained, so an
    interrupted search resumes. Each trial writes TensorBoard logs to
    ``<project>/tensorboard``.

    Returns:
        One :class:`GridResult` per grid point (``len(units)**2 * len(activations)`` rows),
        sorted by validation accuracy, best first (ties: the smaller network first).
    """
    num_classes = len(data.class_names)
    project = f"grid_{epochs}ep_bs{batch_size}_seed{seed}_n{len(data.train_y)}"
    folder = (
        tempfile.TemporaryDirectory()
        if directory is None
        else contextlib.nullcontext(str(directory))
    )
    with folder as location:
        root = Path(location)
        tuner = keras_tuner.GridSearch(
            DNNHyperModel(units, activations, num_classes, seed),
            objective=keras_tuner.Objective("val_accuracy", direction="max"),
            seed=seed,
            directory=str(root),
            project_name=project,
            overwrite=False,
        )
        tuner.search(
            data.train_x,
            _one_hot(data.train_y, num_classes),
            epochs=epochs,
            batch_size=batch_size,
            verbose=verbose,
            callbacks=[tensorboard_callback(root / project / "tensorboard")],
            validation_data=(data.val_x, _one_hot(data.val_y, num_classes)),
        )
        trials = [t for t in tuner.oracle.trials.values() if t.score is not None]
    results = [
        GridResult(
            int(t.hyperparameters.get("n1")),
            int(t.hyperparameters.get("n2")),
            str(t.hyperparameters.get("activation")),
            float(t.score),
        )
        for t in trials
    ]
    expected = len(units) ** 2 * len(activations)
    if len(results) != expected:
        raise RuntimeError(
            f"Expected {expected} finished grid points. Received: {len(results)} "
            f"(see the tuner's trials in {root / project})"
        )
    # Ties go to the smaller network (fewer parameters), then to grid order.
    return sorted(results, key=lambda r: (-r.val_accuracy, r.n1 * 784 + r.n1 * r.n2 + r.n2 * 10))


@dataclass
class StudyRow:
    """Result of one training run of :func:`train_and_score`."""

    name: str
    alpha: float
    val_accuracy: float
    val_ece: float
    test_accuracy: float
    test_ece: float
    history: dict[str, list[float]]
    train_seconds: float = 0.0


def train_and_score(
    data: DNNData,
    n1: int,
    n2: int,
    activation: str,
    *,
    alpha: float = 0.0,
    hand_written: bool = True,
    epochs: int = 20,
    batch_size: int = 128,
    seed: int = 0,
    verbose: int = 0,
    log_dir: Path | None = None,
) -> tuple[keras.Model, StudyRow]:
    """Train one DNN (``alpha = 0``: plain cross-entropy) and score it on val and test.

    ``hand_written`` selects :class:`SmoothedCategoricalCrossentropy` for ``alpha > 0``
    (otherwise Keras' built-in ``label_smoothing``, for comparison). With ``log_dir``, the run
    writes TensorBoard logs there.
    """
    num_classes = len(data.class_names)
    if alpha == 0.0:
        loss: keras.losses.Loss = keras.losses.CategoricalCrossentropy()
        name = "plain cross-entropy"
    elif hand_written:
        loss = SmoothedCategoricalCrossentropy(alpha=alpha)
        name = f"label smoothing α={alpha:g}"
    else:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=alpha)
        name = f"Keras label_smoothing={alpha:g}"
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build_dnn(n1, n2, activation, num_classes, loss=loss)
    start = time.perf_counter()
    callbacks = [] if log_dir is None else [tensorboard_callback(log_dir)]
    history = model.fit(
        data.train_x,
        _one_hot(data.train_y, num_classes),
        epochs=epochs,
        batch_size=batch_size,
        validation_data=(data.val_x, _one_hot(data.val_y, num_classes)),
        callbacks=callbacks,
        verbose=verbose,
    )
    train_seconds = time.perf_counter() - start
    val_probabilities = model.predict(data.val_x, batch_size=1024, verbose=0)
    test_probabilities = model.predict(data.test_x, batch_size=1024, verbose=0)
    row = StudyRow(
        name=name,
        alpha=alpha,
        val_accuracy=float(np.mean(val_probabilities.argmax(-1) == data.val_y)),
        val_ece=expected_calibration_error(val_probabilities, data.val_y),
        test_accuracy=float(np.mean(test_probabilities.argmax(-1) == data.test_y)),
        test_ece=expected_calibration_error(test_probabilities, data.test_y),
        history={k: [float(v) for v in vs] for k, vs in history.history.items()},
        train_seconds=train_seconds,
    )
    return model, row


def label_smoothing_study(
    data: DNNData,
    n1: int,
    n2: int,
    activation: str,
    *,
    alphas: Sequence[float] = (0.1, 0.15, 0.2),
    epochs: int = 20,
    seed: int = 0,
    verbose: int = 0,
) -> list[StudyRow]:
    """Plain cross-entropy and hand-written label smoothing for each ``alpha``, same seed.

    Returns one :class:`StudyRow` per run, plain cross-entropy first.
    """
    return [
        train_and_score(
            data, n1, n2, activation, alpha=alpha, epochs=epochs, seed=seed, verbose=verbose
        )[1]
        for alpha in (0.0, *alphas)
    ]


def rows_to_markdown(rows: Sequence[Any], columns: Sequence[str]) -> str:
    """The ``columns`` (attribute names) of dataclass ``rows`` as a Markdown table.

    Rendered by :func:`a2common.tables.markdown_table`, the project's one table renderer.

    Example:

    >>> print(rows_to_markdown([GridResult(20, 40, "relu", 0.85)], ["n1", "activation"]))
    | n1 | activation |
    | --- | --- |
    | 20 | relu |
    """
    return markdown_table(columns, [[getattr(row, column) for column in columns] for row in rows])


@dataclass
class DNNStudy:
    """Everything the seed-004 study measured (see :func:`run_dnn_study`).

    Attributes:
        grid: the grid-search table, best validation accuracy first.
        rows: plain cross-entropy (the best architecture retrained and tested) and each
            label-smoothing ``alpha``.
        model_paths: saved model of each row, by row name.
        settings: epochs, sizes and seed of the study.
    """

    grid: list[GridResult]
    rows: list[StudyRow]
    model_paths: dict[str, str]
    settings: dict[str, Any]

    @property
    def best(self) -> GridResult:
        return self.grid[0]


def run_dnn_study(
    data: DNNData,
    work_dir: Path,
    *,
    search_epochs: int = 10,
    final_epochs: int = 20,
    alphas: Sequence[float] = (0.1, 0.15, 0.2),
    seed: int = 0,
    verbose: int = 0,
) -> DNNStudy:
    """Grid search, then retrain the best architecture with and without label smoothing.

    Results and models are cached in ``work_dir`` (in a folder named after the settings): a
    second call loads them instead of training again.

    Example: the study on Fashion-MNIST (12 grid points, then 4 runs of 20 epochs) takes many
    minutes, so it is not run here::

        study = run_dnn_study(data, Path("runs/keras_models/dnn_study"))
        study.best.activation, study.rows[0].test_accuracy  # ('tanh', 0.87...)

    Each of its rows is one :func:`train_and_score` run of the best grid point; one such run
    on 40 random stand-in images:

    >>> from a2common.data import Dataset, Split
    >>> rng = np.random.default_rng(0)
    >>> def split(n):
    ...     return Split(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 2)
    >>> data = load_dnn_data(Dataset("tiny", split(40), split(4), None, ["shirt", "shoe"], {}))
    >>> best = GridResult(n1=4, n2=4, activation="relu", val_accuracy=0.5)
    >>> _, row = train_and_score(data, best.n1, best.n2, best.activation, alpha=0.1, epochs=1)
    >>> row.name, sorted(row.history)
    ('label smoothing α=0.1', ['accuracy', 'loss', 'val_accuracy', 'val_loss'])
    >>> DNNStudy([best], [row], {}, {}).best.activation
    'relu'
    """
    settings = {
        "search_epochs": search_epochs,
        "final_epochs": final_epochs,
        "alphas": list(alphas),
        "seed": seed,
        "train_size": int(len(data.train_y)),
        "val_size": int(len(data.val_y)),
        "test_size": int(len(data.test_y)),
    }
    # "gridsearch": the grid comes from keras_tuner.GridSearch (studies cached by the earlier
    # hand-written grid live in folders named "study_..." and are not re-used).
    folder = Path(work_dir) / (
        f"gridsearch_study_{search_epochs}-{final_epochs}ep_seed{seed}_n{len(data.train_y)}"
    )
    results_file = folder / "study.json"
    if results_file.is_file():
        saved = json.loads(results_file.read_text())
        return DNNStudy(
            [GridResult(**r) for r in saved["grid"]],
            [StudyRow(**r) for r in saved["rows"]],
            saved["model_paths"],
            saved["settings"],
        )
    grid = grid_search_dnn(data, epochs=search_epochs, directory=folder, seed=seed, verbose=verbose)
    best = grid[0]
    rows, model_paths = [], {}
    for alpha in (0.0, *alphas):
        model, row = train_and_score(
            data,
            best.n1,
            best.n2,
            best.activation,
            alpha=alpha,
            epochs=final_epochs,
            seed=seed,
            verbose=verbose,
            log_dir=folder / "tensorboard" / f"alpha{alpha:g}",
        )
        path = folder / f"dnn_alpha{alpha:g}.keras"
        model.save(path)
        rows.append(row)
        model_paths[row.name] = str(path)
    study = DNNStudy(grid, rows, model_paths, settings)
    results_file.write_text(
        json.dumps(
            {
                "grid": [vars(r) for r in grid],
                "rows": [vars(r) for r in rows],
                "model_paths": model_paths,
                "settings": settings,
            },
            indent=1,
        )
    )
    return study
