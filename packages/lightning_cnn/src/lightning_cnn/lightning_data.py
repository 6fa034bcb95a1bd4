"""PyTorch side of the data: a Pillow ``Dataset`` over a release folder, a ``LightningDataModule``.

No torchvision: images are decoded with Pillow and augmented with plain torch ops (random
horizontal flip and a random translation of up to ``shift_px`` pixels, implemented as reflection
padding followed by a random crop, then a cutout square) -- the same ideas as the Keras
pipeline's ``RandomFlip``, ``RandomTranslation`` and ``RandomCutout``. Mixup, which blends
labels too, is done by the model's training step.

Example:

>>> import tempfile, pathlib
>>> from lightning_cnn.release import release_animals3
>>> root = release_animals3(pathlib.Path(tempfile.mkdtemp()) / "r", limit_per_class=2).root
>>> datamodule = Animals3DataModule(root, batch_size=4)
>>> datamodule.setup("fit")
>>> images, labels = next(iter(datamodule.train_dataloader()))
>>> tuple(images.shape), images.dtype
((4, 3, 64, 64), torch.float32)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from lightning_cnn.config import CLASS_NAMES
from lightning_cnn.release import ensure_release, list_split

Transform = Callable[[torch.Tensor], torch.Tensor]


class ImageFolderDataset(Dataset):
    """The images of ``root/<class>/*.png`` as ``(float32 CHW tensor in [0, 1], label)`` pairs.

    Images are decoded with Pillow once, on first use, and kept in memory (3,000 images of
    64x64x3 take 37 MB), so later epochs cost no decoding.

    Args:
        release_root: a release folder (see :mod:`lightning_cnn.release`).
        split: ``"train"``, ``"val"`` or ``"test"``.
        transform: applied to each image tensor (e.g. :class:`RandomFlipShift`).
        class_names: expected class folders, in label order.

    Example (a folder with one PNG per class; a release has the same layout):

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for label, name in enumerate(CLASS_NAMES):
    ...     (root / "val" / name).mkdir(parents=True)
    ...     Image.new("RGB", (64, 64), (80 * label, 0, 0)).save(root / "val" / name / "0.png")
    >>> dataset = ImageFolderDataset(root, "val")
    >>> image, label = dataset[2]
    >>> len(dataset), tuple(image.shape), image.dtype, int(label), round(float(image[0, 0, 0]), 3)
    (3, (3, 64, 64), torch.float32, 2, 0.627)
    """

    def __init__(
        self,
        release_root: Path | str,
        split: str,
        transform: Transform | None = None,
        class_names: Sequence[str] = CLASS_NAMES,
    ) -> None:
        self.paths, labels = list_split(release_root, split, class_names)
        if not self.paths:
            raise ValueError(f"Expected images in {Path(release_root) / split}. Received: none")
        self.labels = torch.from_numpy(labels)
        self.class_names = list(class_names)
        self.transform = transform
        self._images: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def images(self) -> torch.Tensor:
        """All images as a uint8 ``(n, 3, H, W)`` tensor (decoded on first access)."""
        if self._images is None:
            arrays = []
            for path in self.paths:
                with Image.open(path) as image:
                    arrays.append(np.asarray(image.convert("RGB")))
            sizes = {array.shape for array in arrays}
            if len(sizes) != 1:
                raise ValueError(f"Expected images of one size. Received sizes: {sorted(sizes)}")
            self._images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
        return self._images

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index].float().div_(255.0)
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[index]


class RandomFlipShift:
    """Random horizontal flip, then a random translation of at most ``shift_px`` pixels.

    The translation pads by reflection and crops back to the original size at a random
    offset, so no black borders appear (like Keras ``RandomTranslation(fill_mode="reflect")``).

    Example:

    >>> augment = RandomFlipShift(shift_px=4, generator=torch.Generator().manual_seed(0))
    >>> augment(torch.rand(3, 64, 64)).shape
    torch.Size([3, 64, 64])
    """

    def __init__(
        self, shift_px: int = 6, flip: bool = True, generator: torch.Generator | None = None
    ) -> None:
        if shift_px < 0:
            raise ValueError(f"Expected shift_px >= 0. Received: shift_px={shift_px}")
        self.shift_px = shift_px
        self.flip = flip
        self.generator = generator

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim != 3:
            raise ValueError(f"Expected a (C, H, W) image. Received: shape={tuple(image.shape)}")
        if self.flip and torch.rand((), generator=self.generator) < 0.5:
            image = image.flip(-1)
        if self.shift_px:
            pad = self.shift_px
            height, width = image.shape[-2:]
            padded = F.pad(image[None], (pad, pad, pad, pad), mode="reflect")[0]
            top, left = torch.randint(0, 2 * pad + 1, (2,), generator=self.generator).tolist()
            image = padded[:, top : top + height, left : left + width]
        return image

    def __repr__(self) -> str:
        return f"RandomFlipShift(shift_px={self.shift_px}, flip={self.flip})"


class RandomCutout:
    """Sets a ``size x size`` square at a random centre to ``fill`` (cutout).

    The centre is any pixel, so near a border the square is clipped and covers less: rows
    ``max(0, y - size // 2)`` to ``min(height, y + size // 2)``, and likewise for columns --
    the rule of :class:`lightning_cnn.keras_model.RandomCutout`.

    Example:

    >>> cutout = RandomCutout(8, fill=(0.5, 0.5, 0.5), generator=torch.Generator().manual_seed(0))
    >>> image = cutout(torch.zeros(3, 16, 16))
    >>> int((image[0] == 0.5).sum()) <= 64, tuple(image.shape)
    (True, (3, 16, 16))
    """

    def __init__(
        self, size: int, fill: Sequence[float], generator: torch.Generator | None = None
    ) -> None:
        if size < 0:
            raise ValueError(f"Expected size >= 0. Received: size={size}")
        self.size = size
        self.fill = torch.tensor(list(fill), dtype=torch.float32).view(-1, 1, 1)
        self.generator = generator

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim != 3 or image.shape[0] != self.fill.shape[0]:
            raise ValueError(
                f"Expected a ({self.fill.shape[0]}, H, W) image. Received: "
                f"shape={tuple(image.shape)}"
            )
        if not self.size:
            return image
        height, width = image.shape[-2:]
        row, column = (
            int(torch.randint(0, limit, (), generator=self.generator)) for limit in (height, width)
        )
        half = self.size // 2
        top, bottom = max(0, row - half), min(height, row + half)
        left, right = max(0, column - half), min(width, column + half)
        image = image.clone()
        image[:, top:bottom, left:right] = self.fill
        return image

    def __repr__(self) -> str:
        return f"RandomCutout(size={self.size})"


class ChainedTransforms:
    """Applies transforms one after the other.

    >>> chain = ChainedTransforms([RandomFlipShift(shift_px=0, flip=False)])
    >>> chain(torch.ones(3, 4, 4)).shape
    torch.Size([3, 4, 4])
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self) -> str:
        return f"ChainedTransforms({self.transforms})"


class Animals3DataModule(L.LightningDataModule):
    """Train/val/test loaders over an animals3 release folder.

    ``prepare_data`` writes the full release (from ``a2common``'s copy of the dataset) if the
    folder does not hold a verified release yet; ``setup`` builds the three datasets.

    Args:
        release_root: the release folder.
        batch_size: images per batch.
        shift_px: largest random translation of the training augmentation (0: no translation).
        cutout_px: side of the cutout square of the training augmentation, filled with the
            training images' mean colour (0: no cutout).
        num_workers: ``DataLoader`` worker processes (0 is fastest for in-memory data on CPU).
        train_subset: use only this many randomly chosen training images (smoke runs).
        seed: seed of the subset choice and of the training shuffle.
        shuffle_labels: train on randomly permuted labels (a deliberately broken model, for
            the autograder's mutation tests).

    Example (one epoch of a small CNN on a release with one image per class and split):

    >>> import tempfile
    >>> from lightning_cnn.config import CNNConfig
    >>> from lightning_cnn.lightning_model import Animals3Classifier
    >>> from lightning_cnn.release import release_animals3
    >>> root = release_animals3(Path(tempfile.mkdtemp()) / "r", limit_per_class=1).root
    >>> datamodule = Animals3DataModule(root, batch_size=3)
    >>> model = Animals3Classifier(CNNConfig(channels=(4, 8)), *datamodule.channel_stats())
    >>> trainer = L.Trainer(
    ...     max_epochs=1,
    ...     accelerator="cpu",
    ...     logger=False,
    ...     enable_checkpointing=False,
    ...     enable_progress_bar=False,
    ...     enable_model_summary=False,
    ... )
    >>> trainer.fit(model, datamodule=datamodule)
    >>> len(datamodule.train_set), sorted(trainer.callback_metrics)
    (3, ['train_acc', 'train_loss', 'val_acc', 'val_loss'])
    """

    def __init__(
        self,
        release_root: Path | str,
        batch_size: int = 64,
        shift_px: int = 6,
        cutout_px: int = 0,
        num_workers: int = 0,
        train_subset: int | None = None,
        seed: int = 0,
        shuffle_labels: bool = False,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"Expected batch_size >= 1. Received: batch_size={batch_size}")
        self.release_root = Path(release_root)
        self.batch_size = batch_size
        self.shift_px = shift_px
        self.cutout_px = cutout_px
        self.num_workers = num_workers
        self.train_subset = train_subset
        self.seed = seed
        self.shuffle_labels = shuffle_labels
        self.class_names = list(CLASS_NAMES)
        # plain types only, so checkpoints load with torch.load(weights_only=True)
        self.save_hyperparameters(
            {
                "release_root": str(self.release_root),
                "batch_size": batch_size,
                "shift_px": shift_px,
                "cutout_px": cutout_px,
                "train_subset": train_subset,
                "seed": seed,
                "shuffle_labels": shuffle_labels,
            }
        )
        self.train_set: ImageFolderDataset | None = None
        self.val_set: ImageFolderDataset | None = None
        self.test_set: ImageFolderDataset | None = None

    def prepare_data(self) -> None:
        ensure_release(self.release_root)

    def setup(self, stage: str | None = None) -> None:
        if stage in ("fit", None) and self.train_set is None:
            augment: list[Transform] = [RandomFlipShift(self.shift_px)]
            if self.cutout_px:
                augment.append(RandomCutout(self.cutout_px, fill=self.channel_stats()[0]))
            self.train_set = ImageFolderDataset(
                self.release_root, "train", ChainedTransforms(augment)
            )
            if self.shuffle_labels:
                generator = torch.Generator().manual_seed(self.seed)
                order = torch.randperm(len(self.train_set.labels), generator=generator)
                self.train_set.labels = self.train_set.labels[order]
        if stage in ("fit", "validate", None) and self.val_set is None:
            self.val_set = ImageFolderDataset(self.release_root, "val")
        if stage in ("test", "predict", None) and self.test_set is None:
            self.test_set = ImageFolderDataset(self.release_root, "test")

    def channel_stats(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training images in [0, 1] (for normalisation)."""
        images = ImageFolderDataset(self.release_root, "train").images.float().div_(255.0)
        return (images.mean(dim=(0, 2, 3)).tolist(), images.std(dim=(0, 2, 3)).tolist())

    def _train_dataset(self) -> Dataset:
        assert self.train_set is not None, "call setup('fit') first"
        if self.train_subset is None or self.train_subset >= len(self.train_set):
            return self.train_set
        generator = torch.Generator().manual_seed(self.seed)
        indices = torch.randperm(len(self.train_set), generator=generator)[: self.train_subset]
        return torch.utils.data.Subset(self.train_set, indices.tolist())

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self._train_dataset(),
            batch_size=self.batch_size,
            shuffle=True,
            num_workers=self.num_workers,
            generator=torch.Generator().manual_seed(self.seed),
        )

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None, "call setup('fit') or setup('validate') first"
        return DataLoader(self.val_set, batch_size=256, num_workers=self.num_workers)

    def test_dataloader(self) -> DataLoader:
        assert self.test_set is not None, "call setup('test') first"
        return DataLoader(self.test_set, batch_size=256, num_workers=self.num_workers)

    def predict_dataloader(self) -> DataLoader:
        return self.test_dataloader()
