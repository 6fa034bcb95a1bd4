"""Plotting helpers shared by every notebook: learning curves, image grids, confusion matrices.

Each function draws on a new (or given) matplotlib figure and returns it, so notebooks show it
and scripts can ``fig.savefig(...)``.

Example:

>>> fig = visualize_metrics({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib

if matplotlib.get_backend().lower() == "agg" or not matplotlib.rcParams.get("backend"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def visualize_metrics(history: Mapping[str, Sequence[float]], title: str = "Learning curves"):
    """Plot each metric of a training history against the epoch, train and validation together.

    ``history`` maps names to per-epoch values, e.g. Keras' ``History.history``; a key
    ``val_<name>`` is drawn on the same axes as ``<name>``.
    """
    names = [k for k in history if not k.startswith("val_") and k not in ("lr", "learning_rate")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def visualize_images(
    images: np.ndarray,
    labels: Sequence[int],
    class_names: Sequence[str],
    predictions: Sequence[int] | None = None,
    columns: int = 10,
    title: str | None = None,
):
    """Show images in a grid, titled with the label (and the prediction, red when wrong)."""
    images = np.asarray(images)
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows), squeeze=False)
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index >= len(images):
            continue
        image = images[index]
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        axis.imshow(image, cmap="gray" if image.ndim == 2 else None)
        caption = str(class_names[labels[index]])
        color = "black"
        if predictions is not None:
            caption = f"{caption}\npred: {class_names[predictions[index]]}"
            color = "green" if predictions[index] == labels[index] else "red"
        axis.set_title(caption, fontsize=7, color=color)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    labels: Sequence[int],
    predictions: Sequence[int],
    class_names: Sequence[str],
    normalize: bool = False,
    title: str = "Confusion matrix",
):
    """Confusion matrix of integer labels vs predictions (scikit-learn's display)."""
    from sklearn.metrics import confusion_matrix

    counts = confusion_matrix(labels, predictions, labels=list(range(len(class_names))))
    return plot_confusion_matrix_counts(counts, class_names, normalize=normalize, title=title)


def plot_confusion_matrix_counts(
    counts: np.ndarray,
    class_names: Sequence[str],
    normalize: bool = False,
    title: str = "Confusion matrix",
):
    """Draw a confusion matrix given as counts (rows: true class, columns: predicted)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    counts = np.asarray(counts)
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    size = max(4.0, 0.55 * len(class_names) + 2)
    fig, axis = plt.subplots(figsize=(size, size))
    ConfusionMatrixDisplay(shown, display_labels=list(class_names)).plot(
        ax=axis, colorbar=False, values_format=".2f" if normalize else "d", xticks_rotation=45
    )
    axis.set_title(title)
    fig.tight_layout()
    return fig


def plot_roc_curve(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    title: str = "ROC curve",
):
    """ROC curve of a binary classifier's positive-class scores, with its AUC in the legend."""
    from sklearn.metrics import RocCurveDisplay

    fig, axis = plt.subplots(figsize=(4.5, 4.5))
    RocCurveDisplay.from_predictions(labels, scores, ax=axis)
    axis.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    axis.set_title(title)
    axis.legend(loc="lower right")
    fig.tight_layout()
    return fig


def correct_and_wrong(
    labels: np.ndarray, predictions: np.ndarray, count: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``count`` random correct and ``count`` random wrong predictions."""
    rng = np.random.default_rng(seed)
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    correct = np.flatnonzero(labels == predictions)
    wrong = np.flatnonzero(labels != predictions)
    return (rng.permutation(correct)[:count], rng.permutation(wrong)[:count])
