"""Augmentation keeps shapes, dtypes, value ranges and labels; numpy and torch agree."""

import numpy as np
import pytest
import torch

from conv3d.augment import (
    AugmentConfig,
    affine_warp,
    affine_warp_torch,
    augment_batch,
    augment_batch_torch,
    intensity_jitter,
    random_flip,
    sample_affine,
)


@pytest.fixture
def volumes(make_blobs) -> np.ndarray:
    return make_blobs(8, size=12)[0].astype(np.float32) / 255


def test_augment_keeps_shape_dtype_and_value_range(volumes):
    out = augment_batch(volumes, np.random.default_rng(0), AugmentConfig(intensity_shift=0.3))
    assert out.shape == volumes.shape and out.dtype == volumes.dtype
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not np.allclose(out, volumes)


def test_torch_augment_keeps_shape_dtype_and_value_range(volumes):
    batch = torch.from_numpy(volumes)
    out = augment_batch_torch(
        batch, torch.Generator().manual_seed(0), AugmentConfig(intensity_shift=0.3)
    )
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_no_augmentation_is_the_identity(volumes):
    assert np.array_equal(
        augment_batch(volumes, np.random.default_rng(0), AugmentConfig.none()), volumes
    )
    out = augment_batch_torch(torch.from_numpy(volumes), torch.Generator(), AugmentConfig.none())
    assert np.allclose(out.numpy(), volumes)


def test_flips_only_move_voxels(volumes):
    flipped = random_flip(volumes, np.random.default_rng(3), probability=0.5)
    for before, after in zip(volumes, flipped):
        assert np.array_equal(np.sort(before.ravel()), np.sort(after.ravel()))


def test_same_seed_same_augmentation(volumes):
    first = augment_batch(volumes, np.random.default_rng(7))
    assert np.array_equal(first, augment_batch(volumes, np.random.default_rng(7)))


def test_small_warps_keep_the_class_signal(make_blobs):
    # the label of a blob volume is its size; warping must not turn small into large
    volumes, labels = make_blobs(32, size=16, seed=5)
    volumes = volumes.astype(np.float32) / 255
    out = augment_batch(
        volumes, np.random.default_rng(0), AugmentConfig(intensity_scale=0, intensity_shift=0)
    )
    occupied = out.sum(axis=(1, 2, 3))
    assert occupied[labels == 1].min() > occupied[labels == 0].max()


def test_numpy_and_torch_warps_agree(volumes):
    matrices, shifts = sample_affine(
        len(volumes), np.random.default_rng(0), AugmentConfig(affine_probability=1.0)
    )
    expected = affine_warp(volumes, matrices, shifts)
    actual = affine_warp_torch(
        torch.from_numpy(volumes)[:, None], torch.from_numpy(matrices), torch.from_numpy(shifts)
    )[:, 0].numpy()
    assert np.allclose(actual, expected, atol=1e-4)


def test_shift_moves_content_by_whole_voxels():
    volume = np.zeros((1, 5, 5, 5), np.float32)
    volume[0, 2, 2, 2] = 1
    moved = affine_warp(volume, np.eye(3)[None], np.array([[1.0, 0.0, -1.0]]))
    assert moved[0, 3, 2, 1] == pytest.approx(1.0) and moved.sum() == pytest.approx(1.0)


def test_intensity_jitter_clips_to_the_range(volumes):
    out = intensity_jitter(volumes, np.random.default_rng(0), scale=0.5, shift=0.5)
    assert out.min() >= 0 and out.max() <= 1


def test_rejects_volumes_without_a_batch_axis():
    with pytest.raises(ValueError, match="Expected a batch of volumes"):
        augment_batch(np.zeros((4, 4, 4)), np.random.default_rng(0))
