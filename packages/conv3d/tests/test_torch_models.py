"""PyTorch models: shapes, a tiny training run that learns, resume and cache."""

import numpy as np
import pytest
import torch

import conv3d.torch_models as torch_models
from conv3d.augment import AugmentConfig
from conv3d.metrics import binary_metrics
from conv3d.results import to_volumes
from conv3d.torch_models import (
    Conv3dNet,
    ResNet3d,
    TorchTrainConfig,
    predict_probabilities,
    train_torch,
)

TINY = dict(
    channels=(8, 16),
    epochs=6,
    batch_size=16,
    learning_rate=1e-2,
    num_threads=1,
    augment=AugmentConfig(max_rotation_deg=10, max_shift_voxels=1),
)


@pytest.mark.parametrize("model_class", [Conv3dNet, ResNet3d])
@pytest.mark.parametrize("size", [28, 64])
def test_models_output_one_logit_per_volume(model_class, size):
    model = model_class(channels=(4, 8, 16)).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 1, size, size, size)).shape == (2,)


def test_predictions_are_probabilities_in_test_order(blobs):
    volumes = to_volumes(blobs["test"][0])
    model = Conv3dNet(channels=(4, 8))
    probabilities = predict_probabilities(model, volumes[:8], batch_size=3)
    assert probabilities.shape == (8,)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    single = predict_probabilities(model, volumes[3:4])
    assert single[0] == pytest.approx(probabilities[3], abs=1e-5)


@pytest.mark.parametrize("model", ["cnn", "resnet"])
def test_tiny_training_run_learns(blobs, tmp_path, model):
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = (
        blobs["train"],
        blobs["val"],
        blobs["test"],
    )
    result = train_torch(
        TorchTrainConfig(model=model, **TINY),
        tmp_path,
        train_x,
        train_y,
        val_x,
        val_y,
        test_x,
        progress=False,
    )
    assert result.test_probabilities.shape == (len(test_y),)
    assert binary_metrics(test_y, result.test_probabilities)["roc_auc"] > 0.9
    assert len(result.history["loss"]) == TINY["epochs"]
    assert result.history["loss"][-1] < result.history["loss"][0]


def test_interrupted_run_resumes_to_the_same_model(blobs, tmp_path, monkeypatch):
    args = (*blobs["train"], *blobs["val"], blobs["test"][0])
    config = TorchTrainConfig(**{**TINY, "epochs": 3})
    straight = train_torch(config, tmp_path / "straight", *args, progress=False)

    calls = []

    def interrupt_after_two_epochs(epoch, epochs, metrics=None, stage="train"):
        calls.append(epoch)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(torch_models, "report_epoch", interrupt_after_two_epochs)
    with pytest.raises(KeyboardInterrupt):
        train_torch(config, tmp_path / "resumed", *args, progress=False)
    monkeypatch.undo()
    resumed = train_torch(config, tmp_path / "resumed", *args, progress=False)
    assert calls == [1, 2]
    assert resumed.history["loss"] == pytest.approx(straight.history["loss"])
    assert np.allclose(resumed.test_probabilities, straight.test_probabilities, atol=1e-6)

    cached = train_torch(config, tmp_path / "resumed", *args, progress=False)
    assert cached.from_cache and np.allclose(cached.test_probabilities, resumed.test_probabilities)


def test_a_changed_config_does_not_resume_a_foreign_checkpoint(blobs, tmp_path, monkeypatch):
    args = (*blobs["train"], *blobs["val"], blobs["test"][0])

    def interrupt(epoch, epochs, metrics=None, stage="train"):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch_models, "report_epoch", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_torch(TorchTrainConfig(**{**TINY, "epochs": 2}), tmp_path, *args, progress=False)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="same config"):
        train_torch(TorchTrainConfig(**{**TINY, "epochs": 3}), tmp_path, *args, progress=False)


def test_unknown_model_name_is_rejected(tmp_path, blobs):
    with pytest.raises(ValueError, match="Expected model in"):
        train_torch(
            TorchTrainConfig(model="vgg"),
            tmp_path,
            *blobs["train"],
            *blobs["val"],
            blobs["test"][0],
        )
