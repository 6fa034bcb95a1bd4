"""Looking at volumes and at what a 3D CNN looks at: slice grids, projections, Grad-CAM, ROC.

* :func:`plot_slices`: a grid of evenly spaced slices along one axis;
* :func:`max_intensity_projections` / :func:`plot_projections`: the maximum along each axis;
* :func:`grad_cam_torch` and :func:`grad_cam_keras`: 3D Grad-CAM (Selvaraju et al., 2017) of a
  convolutional layer, upsampled to the input grid; :func:`gradient_saliency_torch`:
  ``|d logit / d voxel|``;
* :func:`plot_overlay`: a heat map projected over a volume's projection;
* :func:`plot_roc`: ROC curves with their AUC in the legend.

Example:

>>> import numpy as np
>>> [p.shape for p in max_intensity_projections(np.zeros((4, 5, 6)))]
[(5, 6), (4, 6), (4, 5)]
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np


def max_intensity_projections(volume: np.ndarray) -> list[np.ndarray]:
    """Maximum-intensity projections of a ``(D, H, W)`` volume along axes 0, 1 and 2."""
    volume = _check_volume(volume)
    return [volume.max(axis=axis) for axis in range(3)]


def plot_slices(
    volume: np.ndarray,
    axis: int = 0,
    count: int = 16,
    columns: int = 8,
    title: str | None = None,
    cmap: str = "gray",
) -> Any:
    """A matplotlib figure with ``count`` evenly spaced slices of ``volume`` along ``axis``."""
    import matplotlib.pyplot as plt

    volume = _check_volume(volume)
    count = min(count, volume.shape[axis])
    indices = np.linspace(0, volume.shape[axis] - 1, count).round().astype(int)
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.4 * columns, 1.4 * rows + 0.3), squeeze=False
    )
    for cell, ax in enumerate(axes.flat):
        ax.axis("off")
        if cell < count:
            ax.imshow(
                np.take(volume, indices[cell], axis=axis),
                cmap=cmap,
                vmin=float(volume.min()),
                vmax=float(volume.max()),
            )
            ax.set_title(f"{indices[cell]}", fontsize=7)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_projections(
    volumes: Sequence[np.ndarray], titles: Sequence[str] | None = None, cmap: str = "gray"
) -> Any:
    """One row per volume with its three maximum-intensity projections."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(volumes), 3, figsize=(6, 2 * len(volumes)), squeeze=False)
    for row, volume in enumerate(volumes):
        for axis, projection in enumerate(max_intensity_projections(volume)):
            ax = axes[row, axis]
            ax.imshow(projection, cmap=cmap)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"max over axis {axis}", fontsize=8)
        if titles is not None:
            axes[row, 0].set_ylabel(titles[row], fontsize=8)
    figure.tight_layout()
    return figure


def plot_overlay(
    volume: np.ndarray, heatmap: np.ndarray, title: str | None = None, alpha: float = 0.5
) -> Any:
    """The volume's projections in grey with the heat map's maximum projections on top."""
    import matplotlib.pyplot as plt

    volume, heatmap = _check_volume(volume), _check_volume(heatmap)
    if volume.shape != heatmap.shape:
        raise ValueError(
            "Expected a heat map on the volume's grid. Received: "
            f"volume.shape={volume.shape}, heatmap.shape={heatmap.shape}"
        )
    figure, axes = plt.subplots(1, 3, figsize=(7, 2.5))
    for axis, ax in enumerate(axes):
        ax.imshow(volume.max(axis=axis), cmap="gray")
        ax.imshow(
            heatmap.max(axis=axis),
            cmap="jet",
            alpha=alpha,
            vmin=0,
            vmax=max(float(heatmap.max()), 1e-8),
        )
        ax.axis("off")
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    return figure


def plot_roc(labels: np.ndarray, probabilities: Mapping[str, np.ndarray]) -> Any:
    """ROC curves of several models on the same labels, with the AUC of each in the legend."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_auc_score, roc_curve

    figure, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, scores in probabilities.items():
        false_positive, true_positive, _ = roc_curve(labels, scores)
        ax.plot(
            false_positive, true_positive, label=f"{name} (AUC {roc_auc_score(labels, scores):.3f})"
        )
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    return figure


def _normalise_map(cam: np.ndarray) -> np.ndarray:
    cam = np.maximum(cam, 0)
    return cam / cam.max() if cam.max() > 0 else cam


def grad_cam_torch(model: Any, volume: np.ndarray, layer: Any) -> np.ndarray:
    """3D Grad-CAM of ``layer`` (a module of ``model``) for one ``(D, H, W)`` volume.

    The channel weights are the gradients of the positive-class logit averaged over space; the
    map is ``relu(sum_k weight_k * activation_k)`` upsampled trilinearly to the input grid and
    scaled to [0, 1].

    Example:

    >>> import torch
    >>> from conv3d.torch_models import Conv3dNet
    >>> _ = torch.manual_seed(0)
    >>> model = Conv3dNet(channels=(4, 8))
    >>> volume = np.random.default_rng(0).random((8, 8, 8), dtype=np.float32)
    >>> cam = grad_cam_torch(model, volume, model.features[3])  # the second stage's first conv
    >>> cam.shape, bool(cam.min() >= 0.0 and cam.max() <= 1.0)
    ((8, 8, 8), True)
    """
    import torch
    import torch.nn.functional as F

    volume = _check_volume(volume)
    stored: dict[str, Any] = {}

    def keep(module: Any, inputs: Any, output: Any) -> None:
        stored["activation"] = output
        output.register_hook(lambda grad: stored.__setitem__("gradient", grad))

    handle = layer.register_forward_hook(keep)
    was_training = model.training
    model.eval()
    try:
        inputs = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[None, None]
        logit = model(inputs).reshape(-1)[0]
        model.zero_grad(set_to_none=True)
        logit.backward()
    finally:
        handle.remove()
        model.train(was_training)
    activation, gradient = stored["activation"].detach(), stored["gradient"].detach()
    weights = gradient.mean(dim=(2, 3, 4), keepdim=True)
    cam = torch.relu((weights * activation).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=volume.shape, mode="trilinear", align_corners=False)
    return _normalise_map(cam[0, 0].numpy())


def gradient_saliency_torch(model: Any, volume: np.ndarray) -> np.ndarray:
    """``|d logit / d voxel|`` of the positive-class logit, scaled to [0, 1]."""
    import torch

    volume = _check_volume(volume)
    was_training = model.training
    model.eval()
    inputs = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[None, None]
    inputs.requires_grad_(True)
    model(inputs).reshape(-1)[0].backward()
    model.train(was_training)
    gradient = inputs.grad
    assert gradient is not None  # backward() fills the gradient of a leaf that requires it
    return _normalise_map(gradient[0, 0].abs().numpy())


def grad_cam_keras(model: Any, volume: np.ndarray, layer_name: str) -> np.ndarray:
    """3D Grad-CAM of the layer ``layer_name`` of a Keras model with a sigmoid output.

    Uses the output's logit (``log(p / (1 - p))``) so saturated probabilities still give
    gradients. Example: ``grad_cam_keras(model, volume, "stage1b_relu")``.
    """
    import a2common.tf_env  # noqa: F401

    # isort: split
    import keras
    import tensorflow as tf

    volume = _check_volume(volume)
    probe = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])
    inputs = tf.convert_to_tensor(volume[None, ..., None].astype(np.float32))
    with tf.GradientTape() as tape:
        activation, probability = probe(inputs, training=False)
        probability = tf.clip_by_value(probability[:, 0], 1e-7, 1 - 1e-7)
        logit = tf.math.log(probability / (1 - probability))
    gradient = tape.gradient(logit, activation)
    weights = tf.reduce_mean(gradient, axis=(1, 2, 3), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * activation, axis=-1))[0].numpy()
    from conv3d.ct import resize_volume

    # Grad-CAM's cells cover the input like voxels of a coarser grid: resize corner to corner
    return _normalise_map(resize_volume(cam, volume.shape))


def _check_volume(volume: np.ndarray) -> np.ndarray:
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"Expected one volume of shape (D, H, W). Received: shape={volume.shape}")
    return volume
