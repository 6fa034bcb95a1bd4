"""Model cards for the trained models, written with :func:`a2common.model_cards.write_model_card`.

Example:

>>> from keras_models.tasks import RECIPES, run_recipe  # doctest: +SKIP
>>> run = run_recipe(RECIPES["mnist_cnn"], Path("runs/keras_models"))  # doctest: +SKIP
>>> write_recipe_card(run, Path("packages/keras_models/model_cards"))  # doctest: +SKIP
PosixPath('packages/keras_models/model_cards/mnist_cnn.html')
"""
from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

OVERVIEWS = {
    "mnist_mlp": "A Sequential multilayer perceptron (Flatten, one hidden Dense layer, softmax) "
                 "that classifies 28x28 handwritten digits (MNIST).",
    "mnist_cnn": "A LeNet-shaped convolutional network with BatchNorm that classifies 28x28x1 "
                 "handwritten digits (MNIST).",
    "fashion_cnn": "A two-stage convolutional network with BatchNorm and dropout that classifies "
                   "28x28x1 Fashion-MNIST clothing images into 10 classes. Predictions average "
                   "each image and its mirror image.",
    "cifar10_cnn": "A small ResNet (D. Page's ResNet-9 layout at a quarter of the width) that "
                   "classifies 32x32 colour CIFAR-10 photos into 10 classes. Predictions "
                   "average each image and its mirror image.",
}
LIMITATIONS = {
    "mnist": ["Trained only on centred, size-normalised white-on-black digits: other "
              "handwriting styles, colours, positions or scanned documents need new data.",
              "Accuracy is measured on MNIST's test set, which comes from the same writers' "
              "population as the training set."],
    "fashion_mnist": ["Trained on centred, grey-scale product photos on a plain background; "
                      "real-world photos of clothing are out of distribution.",
                      "Shirt, T-shirt/top, pullover and coat are often confused (see the "
                      "confusion matrix)."],
    "cifar10": ["32x32 images only; the 10 CIFAR-10 classes only (anything else is forced into "
                "one of them).",
                "CIFAR-10 images here were decoded from quality-75 JPEGs, so accuracy on the "
                "original PNG-quality images may differ slightly.",
                "Cat/dog and automobile/truck are the commonest confusions."],
}
DATASET_TEXT = {
    "mnist": "MNIST (official 60k train / 10k test split)",
    "fashion_mnist": "Fashion-MNIST (official 60k train / 10k test split)",
    "cifar10": "CIFAR-10 (official 50k train / 10k test split)",
}


def wilson_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (``correct`` out of ``total``).

    Example:

    >>> tuple(round(v, 4) for v in wilson_interval(9900, 10000))
    (0.9879, 0.9918)
    """
    if total <= 0 or not 0 <= correct <= total:
        raise ValueError(f"Expected 0 <= correct <= total and total > 0. "
                         f"Received: correct={correct}, total={total}")
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def per_class_recall(labels: np.ndarray, predictions: np.ndarray,
                     class_names: list[str]) -> dict[str, dict[str, float]]:
    """``{class name: {"recall": fraction of that class predicted correctly}}``."""
    return {name: {"recall": float(np.mean(predictions[labels == index] == index))}
            for index, name in enumerate(class_names) if np.any(labels == index)}


def model_summary(model: Any) -> str:
    """The text of ``model.summary()`` (plain, without the rich box characters)."""
    buffer = io.StringIO()
    model.summary(print_fn=lambda line, **_: buffer.write(line + "\n"))
    return buffer.getvalue()


def write_recipe_card(run: Any, out_dir: Path, command: str | None = None) -> Path:
    """Write the card of a graded model from a :class:`keras_models.tasks.TrainedModel`.

    Refuses quick (smoke-test) runs: a card reports the real, full-data measurement.
    """
    from a2common.model_cards import MetricEntry, write_model_card
    from a2common.plotting import plot_confusion_matrix, visualize_metrics

    from keras_models.calibration import expected_calibration_error

    if run.details["quick"]:
        raise ValueError("Expected a full training run for a model card. Received a quick run.")
    recipe, evaluation = run.recipe, run.evaluation
    correct = int(np.sum(evaluation.predictions == run.test_labels))
    total = len(run.test_labels)
    metrics = [
        MetricEntry("test accuracy", evaluation.accuracy,
                    confidence_interval=wilson_interval(correct, total)),
        MetricEntry("test accuracy, single view (no test-time flip)",
                    run.details["test_accuracy_single_view"]),
        MetricEntry("test cross-entropy", evaluation.loss),
        MetricEntry("test expected calibration error (15 bins)",
                    expected_calibration_error(evaluation.probabilities, run.test_labels)),
    ]
    training = {
        "epochs": run.details["epochs"], "seconds": round(run.train_seconds, 1),
        "parameters": run.details["parameters"],
        "command": command or f"python -m keras_models train {recipe.name}",
        "batch_size": recipe.batch_size, "optimizer": recipe.optimizer,
        "learning_rate": (f"{recipe.learning_rate:g}"
                          + (" (one-cycle peak)" if recipe.one_cycle else "")),
        "weight_decay": recipe.weight_decay, "label_smoothing": recipe.label_smoothing,
        "augmentation": recipe.augmentation, "seed": run.details["seed"],
        "cpu_seconds": (None if run.details.get("train_cpu_seconds") is None
                        else round(run.details["train_cpu_seconds"], 1)),
        "hardware": "2-core AMD EPYC CPU, shared with other jobs during training",
    }
    graphics = {
        "Training loss and accuracy per epoch": visualize_metrics(
            run.history, title=f"{recipe.name}: learning curves"),
        "Confusion matrix on the test set": plot_confusion_matrix(
            run.test_labels, evaluation.predictions, run.class_names,
            title=f"{recipe.name}: test confusion matrix"),
    }
    return write_model_card(
        Path(out_dir), name=recipe.name, overview=OVERVIEWS.get(recipe.name, recipe.name),
        metrics=metrics, dataset=DATASET_TEXT[recipe.dataset],
        data_sha256=run.details["dataset_sha256"], training=training,
        limitations=LIMITATIONS[recipe.dataset],
        use_cases=["Teaching: a worked example of a Keras image classifier and its evaluation."],
        ethical_considerations=[("Not for decisions about people.",
                                 "Use only as a teaching example.")],
        per_class=per_class_recall(run.test_labels, evaluation.predictions, run.class_names),
        architecture=model_summary(run.model), graphics=graphics)


def write_dnn_study_card(study: Any, data: Any, out_dir: Path) -> Path:
    """Write the card of the seed-004 Fashion-MNIST DNN (best grid point, plain and smoothed)."""
    import keras
    from a2common.data import dataset_sha256
    from a2common.model_cards import MetricEntry, write_model_card

    from keras_models.calibration import reliability_bins, plot_reliability_diagram

    best = study.best
    metrics = []
    for row in study.rows:
        metrics += [MetricEntry("validation accuracy", row.val_accuracy, slice=row.name),
                    MetricEntry("validation ECE", row.val_ece, slice=row.name),
                    MetricEntry("test accuracy", row.test_accuracy, slice=row.name),
                    MetricEntry("test ECE", row.test_ece, slice=row.name)]
    metrics += [MetricEntry("grid-search validation accuracy", r.val_accuracy,
                            slice=f"n1={r.n1}, n2={r.n2}, {r.activation}") for r in study.grid]
    bins = {}
    for row in study.rows:
        model = keras.saving.load_model(study.model_paths[row.name])
        probabilities = np.asarray(model(data.test_x))
        bins[row.name] = reliability_bins(probabilities, data.test_y)
    settings = study.settings
    sha = {key.split(":", 1)[1]: value
           for key, value in dataset_sha256(["fashion_mnist"]).items()}
    return write_model_card(
        Path(out_dir), name="fashion_dnn",
        overview=(f"The seed-004 Fashion-MNIST network 784 → {best.n1} ({best.activation}) → "
                  f"{best.n2} ({best.activation}) → 10 (softmax), chosen by a grid search over "
                  f"n1, n2 in {{20, 40}} and activation in {{sigmoid, tanh, relu}} on a 10% "
                  f"validation hold-out, then retrained with plain cross-entropy and with "
                  f"hand-written label smoothing (alpha in {settings['alphas']})."),
        metrics=metrics,
        dataset=(f"Fashion-MNIST: {settings['train_size']} train / {settings['val_size']} "
                 f"validation (stratified 10% hold-out) / {settings['test_size']} test"),
        data_sha256=sha,
        training={"epochs": settings["final_epochs"],
                  "seconds": round(study.rows[0].train_seconds, 1),
                  "parameters": 784 * best.n1 + best.n1 + best.n1 * best.n2 + best.n2
                  + best.n2 * 10 + 10,
                  "command": "python -m keras_models study --cards",
                  "optimizer": "adam 1e-3", "batch_size": 128,
                  "search_epochs": settings["search_epochs"], "seed": settings["seed"]},
        limitations=["A tiny fully connected network: about 85-88% test accuracy, far below "
                     "the CNNs of this package.",
                     "Grid and label-smoothing comparisons use one seed each; differences of "
                     "a few tenths of a percent are within run-to-run noise."],
        use_cases=["Teaching: hyper-parameter search and label smoothing on a small network."],
        graphics={"Reliability diagram on the test set": plot_reliability_diagram(
            bins, title="Fashion-MNIST DNN: reliability")})
