"""Both frameworks' loaders read the same release: shapes, dtypes, same pixels, augmentation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightning_cnn.lightning_data import (
    Animals3DataModule,
    ImageFolderDataset,
    RandomCutout,
    RandomFlipShift,
)
from lightning_cnn.release import ReleaseError, read_split


def test_datamodule_batches_have_the_expected_shapes(tiny_release, tiny_limit_per_class):
    datamodule = Animals3DataModule(tiny_release, batch_size=5, shift_px=4)
    datamodule.prepare_data()  # a verified release: nothing to do
    datamodule.setup("fit")
    images, labels = next(iter(datamodule.train_dataloader()))
    assert images.shape == (5, 3, 64, 64) and images.dtype == torch.float32
    assert labels.dtype == torch.int64 and set(labels.tolist()) <= {0, 1, 2}
    assert 0.0 <= images.min() and images.max() <= 1.0
    val_images, _ = next(iter(datamodule.val_dataloader()))
    assert val_images.shape == (3 * tiny_limit_per_class, 3, 64, 64)
    datamodule.setup("test")
    assert len(datamodule.test_set) == 3 * tiny_limit_per_class
    mean, std = datamodule.channel_stats()
    assert len(mean) == 3 and all(0.0 < s < 1.0 for s in std)


def test_train_subset_is_seeded(tiny_release):
    picks = []
    for _ in range(2):
        datamodule = Animals3DataModule(tiny_release, train_subset=5, seed=3)
        datamodule.setup("fit")
        picks.append(list(datamodule._train_dataset().indices))
    assert picks[0] == picks[1] and len(picks[0]) == 5


def test_keras_and_pillow_loaders_read_identical_pixels(tiny_release, tiny_limit_per_class):
    from lightning_cnn.keras_model import dataset_arrays, load_split

    keras_images, keras_labels = dataset_arrays(load_split(tiny_release, "val", batch_size=4))
    pillow_images, pillow_labels = read_split(tiny_release, "val")
    torch_images = ImageFolderDataset(tiny_release, "val").images.permute(0, 2, 3, 1).numpy()
    assert keras_images.shape == (3 * tiny_limit_per_class, 64, 64, 3)
    assert keras_images.dtype == np.float32
    np.testing.assert_array_equal(keras_images, pillow_images.astype(np.float32))
    np.testing.assert_array_equal(torch_images, pillow_images)
    np.testing.assert_array_equal(keras_labels, pillow_labels)


def test_keras_training_split_is_shuffled_and_subset(tiny_release):
    from lightning_cnn.keras_model import load_split

    dataset = load_split(tiny_release, "train", batch_size=4, shuffle=True, seed=1, take=6)
    batches = list(dataset.as_numpy_iterator())
    assert [len(b[0]) for b in batches] == [4, 2]
    assert batches[0][1].shape == (4, 3)  # one-hot labels


def test_flip_shift_augmentation():
    image = torch.arange(3 * 8 * 8, dtype=torch.float32).reshape(3, 8, 8)
    flipped = RandomFlipShift(shift_px=0, generator=torch.Generator().manual_seed(1))
    outputs = [flipped(image) for _ in range(20)]
    assert any(torch.equal(o, image.flip(-1)) for o in outputs)
    assert any(torch.equal(o, image) for o in outputs)
    shifted = RandomFlipShift(shift_px=2, flip=False, generator=torch.Generator().manual_seed(0))
    out = shifted(image)
    assert out.shape == image.shape
    assert set(out.unique().tolist()) <= set(image.unique().tolist())  # reflection, no zeros


def _erased_boxes(masks: np.ndarray) -> list[tuple[int, int]]:
    """Height and width of the bounding box of each mask's erased pixels."""
    boxes = []
    for mask in masks:
        rows, columns = np.nonzero(mask)
        boxes.append((int(np.ptp(rows)) + 1, int(np.ptp(columns)) + 1))
        assert mask.sum() == boxes[-1][0] * boxes[-1][1]  # a filled rectangle
    return boxes


def test_cutout_fills_a_square_clipped_at_the_borders():
    fill = (0.25, 0.5, 0.75)
    cutout = RandomCutout(8, fill=fill, generator=torch.Generator().manual_seed(0))
    outputs = torch.stack([cutout(torch.ones(3, 16, 16)) for _ in range(200)])
    erased = outputs != 1
    assert torch.equal(erased[:, 0], erased[:, 2])  # all channels erased together
    for channel, value in enumerate(fill):
        assert torch.all(outputs[:, channel][erased[:, channel]] == value)
    boxes = _erased_boxes(erased[:, 0].numpy())
    assert max(boxes) == (8, 8) and min(h * w for h, w in boxes) < 64  # full and clipped
    image = torch.rand(3, 16, 16)
    assert torch.equal(RandomCutout(0, fill=fill)(image), image)
    with pytest.raises(ValueError, match=r"Expected a \(3, H, W\) image"):
        cutout(torch.ones(1, 16, 16))


def test_keras_and_torch_cutout_follow_the_same_rule():
    from lightning_cnn.keras_model import RandomCutout as KerasCutout

    keras_out = KerasCutout(24, seed=0)(np.ones((400, 64, 64, 3), "float32"), training=True)
    keras_masks = keras_out.numpy()[..., 0] == 0
    torch_cutout = RandomCutout(24, fill=(0, 0, 0), generator=torch.Generator().manual_seed(0))
    torch_masks = np.stack(
        [torch_cutout(torch.ones(3, 64, 64))[0].numpy() == 0 for _ in range(400)]
    )
    for masks in (keras_masks, torch_masks):
        boxes = _erased_boxes(masks)
        assert max(boxes) == (24, 24) and min(min(box) for box in boxes) < 24
    # the same clipping rule: the same mean erased area (576 px unclipped), within sampling noise
    assert abs(keras_masks.sum((1, 2)).mean() - torch_masks.sum((1, 2)).mean()) < 25
    assert np.all(KerasCutout(24)(np.ones((2, 64, 64, 3), "float32")).numpy() == 1)  # inference


def test_datamodule_cutout_fills_with_the_training_mean(tiny_release):
    datamodule = Animals3DataModule(tiny_release, batch_size=4, shift_px=0, cutout_px=64)
    datamodule.setup("fit")
    image, _ = datamodule.train_set[0]
    mean = datamodule.channel_stats()[0]
    centre = image[:, 32, 32].tolist()  # a 64 px square always covers the centre
    assert centre == pytest.approx(mean, abs=1e-6)
    assert "RandomCutout(size=64)" in repr(datamodule.train_set.transform)


def test_bad_inputs_raise_clear_errors(tmp_path, tiny_release):
    with pytest.raises(ValueError, match="batch_size >= 1"):
        Animals3DataModule(tiny_release, batch_size=0)
    with pytest.raises(ValueError, match="shift_px >= 0"):
        RandomFlipShift(shift_px=-1)
    with pytest.raises(ValueError, match=r"Expected a \(C, H, W\) image"):
        RandomFlipShift()(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ReleaseError, match="Expected a folder"):
        Animals3DataModule(tmp_path / "absent").setup("fit")
    (tmp_path / "bad" / "train" / "horses").mkdir(parents=True)
    with pytest.raises(ReleaseError, match=r"Expected class folders \['cats', 'dogs', 'panda'\]"):
        ImageFolderDataset(tmp_path / "bad", "train")
