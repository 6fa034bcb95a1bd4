"""Keras models: shapes, the tf.data pipeline, and a tiny training run that learns."""

import numpy as np
import pytest

from conv3d.augment import AugmentConfig
from conv3d.keras_models import (
    KerasTrainConfig,
    build_keras_cnn,
    build_keras_resnet,
    make_dataset,
    train_keras,
)
from conv3d.metrics import binary_metrics


@pytest.mark.parametrize("builder", [build_keras_cnn, build_keras_resnet])
@pytest.mark.parametrize("size", [28, 64])
def test_models_output_one_probability_per_volume(builder, size):
    model = builder((size, size, size, 1), channels=(4, 8, 16))
    assert model.output_shape == (None, 1)
    output = model.predict(np.zeros((2, size, size, size, 1), np.float32), verbose=0)
    assert output.shape == (2, 1) and np.all((output >= 0) & (output <= 1))


def test_dataset_keeps_labels_with_their_volumes(make_blobs):
    volumes, labels = make_blobs(20, size=16)
    data = make_dataset(
        volumes.astype(np.float32) / 255,
        labels,
        6,
        seed=1,
        augment=AugmentConfig(intensity_scale=0, intensity_shift=0),
        shuffle=True,
    )
    occupied, seen_labels = [], []
    for batch, batch_labels in data:
        occupied += list(batch.numpy().sum(axis=(1, 2, 3, 4)))
        seen_labels += list(batch_labels.numpy()[:, 0])
    occupied, seen_labels = np.array(occupied), np.array(seen_labels)
    # shuffled and warped, a large blob (label 1) still arrives with label 1
    assert sorted(seen_labels) == sorted(labels)
    assert occupied[seen_labels == 1].min() > occupied[seen_labels == 0].max()


def test_tiny_training_run_learns(blobs, tmp_path):
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = (
        blobs["train"],
        blobs["val"],
        blobs["test"],
    )
    config = KerasTrainConfig(
        channels=(8, 16),
        epochs=5,
        batch_size=16,
        learning_rate=1e-2,
        augment=AugmentConfig(max_rotation_deg=10, max_shift_voxels=1),
    )
    result = train_keras(config, tmp_path, train_x, train_y, val_x, val_y, test_x, progress=False)
    assert result.test_probabilities.shape == (len(test_y),)
    assert binary_metrics(test_y, result.test_probabilities)["roc_auc"] > 0.9
    assert len(result.history["loss"]) == 5
    cached = train_keras(config, tmp_path, train_x, train_y, val_x, val_y, test_x, progress=False)
    assert cached.from_cache
    assert np.allclose(cached.test_probabilities, result.test_probabilities, atol=1e-5)
