"""Smoke tests of the figures and of 3D Grad-CAM / saliency for both frameworks."""

import matplotlib
import numpy as np
import pytest
import torch

from conv3d.torch_models import Conv3dNet
from conv3d.visualize import (
    grad_cam_keras,
    grad_cam_torch,
    gradient_saliency_torch,
    max_intensity_projections,
    plot_overlay,
    plot_projections,
    plot_roc,
    plot_slices,
)

matplotlib.use("Agg")


@pytest.fixture
def volume(make_blobs) -> np.ndarray:
    return make_blobs(2, size=16)[0][1].astype(np.float32) / 255


def test_projections_and_figures(volume):
    import matplotlib.pyplot as plt

    projections = max_intensity_projections(volume)
    assert [p.shape for p in projections] == [(16, 16)] * 3
    assert projections[0].max() == volume.max()
    figures = [
        plot_slices(volume, axis=2, count=6, columns=3, title="slices"),
        plot_projections([volume, volume], titles=["a", "b"]),
        plot_overlay(volume, volume, title="overlay"),
        plot_roc(np.array([0, 1, 0, 1]), {"model": np.array([0.1, 0.9, 0.4, 0.6])}),
    ]
    assert len(figures[0].axes) == 6 and len(figures[1].axes) == 6
    for figure in figures:
        plt.close(figure)


def test_torch_grad_cam_and_saliency_are_maps_on_the_input_grid(volume):
    torch.manual_seed(0)
    model = Conv3dNet(channels=(4, 8))
    cam = grad_cam_torch(model, volume, model.features[-1])
    saliency = gradient_saliency_torch(model, volume)
    for heatmap in (cam, saliency):
        assert heatmap.shape == volume.shape
        assert heatmap.min() >= 0 and heatmap.max() <= 1
    assert saliency.max() == pytest.approx(1.0)
    assert model.training  # restored after the backward pass


def test_keras_grad_cam_is_a_map_on_the_input_grid(volume):
    from conv3d.keras_models import build_keras_cnn

    model = build_keras_cnn((16, 16, 16, 1), channels=(4, 8))
    cam = grad_cam_keras(model, volume, "stage1b_relu")
    assert cam.shape == volume.shape and cam.min() >= 0 and cam.max() <= 1


def test_rejects_a_batch_where_one_volume_is_expected():
    with pytest.raises(ValueError, match="Expected one volume"):
        max_intensity_projections(np.zeros((2, 4, 4, 4)))
