"""Unsupervised domain adaptation: CIFAR-10 cats/dogs (source) -> animals3 cats/dogs (target).

A real domain shift: the source is CIFAR-10's 32 px cat and dog photos with labels; the target
is the animals3 cat and dog photos (64 px, different cameras, framing and crops; downscaled to
32 px here), whose labels are used **only for evaluation**. Three ways to train the same small
CNN:

* ``"source_only"``: trained on the source, applied to the target (the baseline);
* ``"adabn"``: the source-only network with every BatchNorm's statistics re-estimated on the
  unlabelled target images (Li et al., 2016, *Revisiting Batch Normalization for Practical
  Domain Adaptation*);
* ``"dann"``: domain-adversarial training (Ganin et al., 2016): a domain classifier reads the
  features through a gradient-reversal layer, so the feature extractor learns features that
  classify the source well and do not tell the domains apart.

Example:

>>> features = torch.ones(2, 3, requires_grad=True)
>>> grad_reverse(features, 0.5).sum().backward()
>>> features.grad[0].tolist()
[-0.5, -0.5, -0.5]
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from a2common.data import load_dataset
from a2common.grading import finished_info, is_finished, mark_finished
from lightning_cnn.lightning_callbacks import TrainingHistory
from lightning_cnn.transfer import TransferRun

if TYPE_CHECKING:
    from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig

DOMAIN_CLASSES = ("cat", "dog")
"""Label order of both domains (0 = cat, 1 = dog)."""
METHODS = ("source_only", "adabn", "dann")
DOMAIN_IMAGE_SIZE = 32
FINAL_CHECKPOINT = "model.ckpt"
HISTORY_FILE = "history.json"


class GradientReversal(torch.autograd.Function):
    """Identity forward; the backward pass multiplies the gradient by ``-coefficient``."""

    @staticmethod
    def forward(ctx: Any, inputs: torch.Tensor, coefficient: float) -> torch.Tensor:
        ctx.coefficient = coefficient
        return inputs.view_as(inputs)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.coefficient * grad_output, None


def grad_reverse(inputs: torch.Tensor, coefficient: float = 1.0) -> torch.Tensor:
    """Gradient-reversal layer as a function (see :class:`GradientReversal`)."""
    return GradientReversal.apply(inputs, coefficient)


def dann_coefficient(progress: float, gamma: float = 10.0) -> float:
    """Ganin et al.'s schedule of the reversal strength: 0 at the start, towards 1 at the end.

    Example:

    >>> dann_coefficient(0.0), round(dann_coefficient(1.0), 4)
    (0.0, 0.9999)
    """
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


@dataclass
class Domains:
    """Source (labelled) and target (unlabelled train, labelled test) images, uint8 NHWC 32 px."""

    source_x: np.ndarray
    source_y: np.ndarray
    target_x: np.ndarray
    target_test_x: np.ndarray
    target_test_y: np.ndarray


def downscale(images: np.ndarray, size: int = DOMAIN_IMAGE_SIZE) -> np.ndarray:
    """uint8 ``(n, H, W, 3)`` images resized to ``size`` px (area averaging), uint8.

    Example:

    >>> downscale(np.zeros((2, 64, 64, 3), np.uint8)).shape
    (2, 32, 32, 3)
    """
    tensor = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    resized = F.interpolate(tensor, size=(size, size), mode="area")
    return resized.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def cats_dogs_domains() -> Domains:
    """CIFAR-10 train cats/dogs (source) and animals3 cats/dogs (target), both loader-only.

    Target training images are animals3's train split (labels dropped); the target test set is
    animals3's test split, in the loader's order, pandas removed.
    """
    cifar = load_dataset("cifar10")
    animals = load_dataset("animals3")
    source_ids = [cifar.class_names.index(name) for name in DOMAIN_CLASSES]
    target_ids = [animals.class_names.index(name) for name in ("cats", "dogs")]

    def pick(x: np.ndarray, y: np.ndarray, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        keep = np.isin(y, ids)
        new_label = np.zeros(max(ids) + 1, dtype=np.int64)
        new_label[ids] = np.arange(len(ids))
        return x[keep], new_label[y[keep]]

    source_x, source_y = pick(cifar.train.x, cifar.train.y, source_ids)
    target_x, _ = pick(animals.train.x, animals.train.y, target_ids)
    test_x, test_y = pick(animals.test.x, animals.test.y, target_ids)
    return Domains(source_x, source_y, downscale(target_x), downscale(test_x), test_y)


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU layers and a 2x2 max pooling."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class DomainAdaptationNet(L.LightningModule):
    """A small CNN with a label head and, for DANN, a domain head behind gradient reversal.

    Training batches are ``{"source": (images, labels), "target": (images,)}`` of float
    ``[0, 1]`` NCHW images; validation/prediction batches are ``(images, labels)``.

    Args:
        method: ``"source_only"``, ``"adabn"`` (trained like ``source_only``) or ``"dann"``.
        channels: filters of the three conv blocks.
        learning_rate: AdamW learning rate (cosine decay to 0).
        weight_decay: AdamW decoupled weight decay.
        domain_weight: weight of the domain-classification loss (``dann`` only).

    Example:

    >>> net = DomainAdaptationNet("dann", channels=(4, 8, 8))
    >>> logits, domain_logits = net.heads(torch.rand(2, 3, 32, 32))
    >>> tuple(logits.shape), tuple(domain_logits.shape)
    ((2, 2), (2, 1))
    """

    # buffers (register_buffer), declared for the type checker: nn.Module.__getattr__ is untyped
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        method: str = "dann",
        channels: tuple[int, ...] = (16, 32, 64),
        learning_rate: float = 2e-3,
        weight_decay: float = 5e-4,
        domain_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"Expected method in {METHODS}. Received: method={method!r}")
        self.save_hyperparameters()
        blocks, previous = [], 3
        for width in channels:
            blocks.append(conv_block(previous, width))
            previous = width
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Sequential(nn.Dropout(0.3), nn.Linear(previous, len(DOMAIN_CLASSES)))
        self.domain_classifier = nn.Sequential(
            nn.Linear(previous, 64), nn.ReLU(inplace=True), nn.Linear(64, 1)
        )
        self.register_buffer("mean", torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.25]).view(1, 3, 1, 1))

    def heads(
        self, images: torch.Tensor, coefficient: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Class logits and domain logits (the latter through gradient reversal)."""
        features = self.features((images - self.mean) / self.std)
        return self.classifier(features), self.domain_classifier(
            grad_reverse(features, coefficient)
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features((images - self.mean) / self.std))

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        source_images, source_labels = batch["source"]
        if self.hparams["method"] != "dann":
            logits = self(source_images)
            loss = F.cross_entropy(logits, source_labels)
        else:
            (target_images,) = batch["target"]
            progress = self.global_step / max(int(self.trainer.estimated_stepping_batches), 1)
            # one pass over both domains: BatchNorm sees the mixture, as in DANN
            logits, domain_logits = self.heads(
                torch.cat([source_images, target_images]), dann_coefficient(progress)
            )
            logits = logits[: len(source_images)]
            domains = torch.cat([torch.zeros(len(source_images)), torch.ones(len(target_images))])
            domain_loss = F.binary_cross_entropy_with_logits(
                domain_logits.squeeze(1), domains.to(domain_logits)
            )
            loss = (
                F.cross_entropy(logits, source_labels) + self.hparams["domain_weight"] * domain_loss
            )
            self.log("domain_loss", domain_loss, on_step=False, on_epoch=True)
        accuracy = (logits.argmax(-1) == source_labels).float().mean()
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("train_acc", accuracy, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        logits = self(images)
        self.log("val_loss", F.cross_entropy(logits, labels), prog_bar=True)
        self.log("val_acc", (logits.argmax(-1) == labels).float().mean(), prog_bar=True)

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self(batch[0]).softmax(-1)

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        optimizer = torch.optim.AdamW(
            self.parameters(),
            lr=self.hparams["learning_rate"],
            weight_decay=self.hparams["weight_decay"],
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(int(self.trainer.estimated_stepping_batches), 1)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}


@torch.no_grad()
def adapt_batchnorm(model: nn.Module, target_images: torch.Tensor, batch_size: int = 256) -> None:
    """AdaBN: replace every BatchNorm's running statistics by those of ``target_images``.

    The new statistics are the average of the per-batch statistics over all target images
    (PyTorch's cumulative average, ``momentum=None``); the learned scales and shifts are kept.

    Example:

    >>> net = nn.Sequential(nn.Conv2d(3, 2, 1), nn.BatchNorm2d(2))
    >>> adapt_batchnorm(net, torch.full((4, 3, 8, 8), 2.0))
    >>> net[1].num_batches_tracked.item()
    1
    """
    batchnorms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(bn.momentum, bn.training) for bn in batchnorms]
    was_training = model.training
    model.eval()
    for bn in batchnorms:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    for start in range(0, len(target_images), batch_size):
        model(target_images[start : start + batch_size])
    for bn, (momentum, _) in zip(batchnorms, saved):
        bn.momentum = momentum
    model.train(was_training)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255)


@dataclass(frozen=True)
class DomainAdaptationConfig:
    """How :func:`train_domain_adaptation` trains.

    The defaults are the measured recipe of the package README (6 epochs over the source).
    """

    epochs: int = 6
    batch_size: int = 64
    channels: tuple[int, ...] = (16, 32, 64)
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    domain_weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _flip_augment(batch: list[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
    columns = [torch.stack(column) for column in zip(*batch)]
    flip = torch.rand(len(columns[0])) < 0.5
    columns[0][flip] = columns[0][flip].flip(-1)
    return tuple(columns)


def train_domain_adaptation(
    work_dir: Path | str,
    method: str = "dann",
    config: DomainAdaptationConfig | None = None,
    seed: int = 0,
    domains: Domains | None = None,
    progress: bool = True,
    trainer_kwargs: dict[str, Any] | None = None,
) -> TransferRun:
    """Train (or resume, or load) one method; return target-test probabilities ``(n, 2)``.

    ``adabn`` reuses a finished ``source_only`` model of the same work dir's sibling folder if
    it exists (``work_dir/../source_only``), else trains one in ``work_dir``, then adapts the
    BatchNorm statistics to the target. The validation curves are on the target test set (for
    the learning curves only; no model choice is made with them).

    Args:
        work_dir: checkpoints and the finished model.
        method: one of :data:`METHODS`.
        config: the recipe (default :class:`DomainAdaptationConfig`).
        seed: seeds torch, numpy, Python and the data order.
        domains: the images (default :func:`cats_dogs_domains`; tests pass tiny arrays).
        progress: show Lightning's progress bar (``False``: one line per epoch).
        trainer_kwargs: extra ``L.Trainer`` arguments; they override the defaults
            (``accelerator="auto"``, ``devices="auto"``, the progress switches).

    Example (a few random 32 px images stand in for CIFAR-10 and animals3; one epoch of a
    narrow network; ``progress=False`` prints one line per epoch):

    >>> import tempfile
    >>> rng = np.random.default_rng(0)
    >>> images = [rng.integers(0, 256, (n, 32, 32, 3), np.uint8) for n in (8, 8, 4)]
    >>> domains = Domains(images[0], np.arange(8) % 2, images[1], images[2], np.arange(4) % 2)
    >>> config = DomainAdaptationConfig(epochs=1, batch_size=4, channels=(4, 8, 8))
    >>> work_dir = Path(tempfile.mkdtemp()) / "dann"
    >>> run = train_domain_adaptation(  # on a GPU machine: {"accelerator": "gpu", ...}
    ...     work_dir, "dann", config, domains=domains, progress=False,
    ...     trainer_kwargs={"accelerator": "cpu", "devices": 1},
    ... )  # doctest: +ELLIPSIS
    Epoch 1/1 - ...
    >>> run.test_probabilities.shape, 0 <= run.test_accuracy(domains.target_test_y) <= 1
    ((4, 2), True)
    >>> sorted(run.history)
    ['acc', 'epoch_seconds', 'loss', 'val_acc', 'val_loss']
    """
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.utilities import CombinedLoader

    if method not in METHODS:
        raise ValueError(f"Expected method in {METHODS}. Received: method={method!r}")
    config = config or DomainAdaptationConfig()
    domains = domains if domains is not None else cats_dogs_domains()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    L.seed_everything(seed, workers=True, verbose=False)
    training_method = "source_only" if method == "adabn" else method
    model_dir = work_dir
    if method == "adabn" and is_finished(work_dir.parent / "source_only"):
        model_dir = work_dir.parent / "source_only"
    # a dict display, not dict(...): the caller's trainer_kwargs may override these keys
    common: dict[str, Any] = {
        "accelerator": "auto",
        "devices": "auto",
        "enable_progress_bar": progress,
        "enable_model_summary": progress,
        **(trainer_kwargs or {}),
    }
    test_set = TensorDataset(
        to_tensor(domains.target_test_x), torch.as_tensor(domains.target_test_y, dtype=torch.long)
    )
    test_loader = DataLoader(test_set, batch_size=256)
    final_checkpoint = model_dir / FINAL_CHECKPOINT
    from_cache = is_finished(model_dir) and final_checkpoint.is_file()
    if from_cache:
        model = DomainAdaptationNet.load_from_checkpoint(
            final_checkpoint, map_location="cpu", weights_only=True
        )
        history = json.loads((model_dir / HISTORY_FILE).read_text())
        train_seconds = float(finished_info(model_dir)["train_seconds"])
    else:
        model = DomainAdaptationNet(
            training_method,
            config.channels,
            config.learning_rate,
            config.weight_decay,
            config.domain_weight,
        )
        generator = torch.Generator().manual_seed(seed)
        source = DataLoader(
            TensorDataset(
                to_tensor(domains.source_x), torch.as_tensor(domains.source_y, dtype=torch.long)
            ),
            batch_size=config.batch_size,
            shuffle=True,
            drop_last=True,
            generator=generator,
            collate_fn=_flip_augment,
        )
        target = DataLoader(
            TensorDataset(to_tensor(domains.target_x)),
            batch_size=config.batch_size,
            shuffle=True,
            drop_last=True,
            generator=torch.Generator().manual_seed(seed + 1),
            collate_fn=_flip_augment,
        )
        # "max_size_cycle": an epoch is one pass over the (larger) source; the target cycles
        train_loader = CombinedLoader({"source": source, "target": target}, "max_size_cycle")
        history_callback = TrainingHistory(verbose=not progress)
        checkpoints = ModelCheckpoint(
            dirpath=model_dir / "checkpoints", save_last=True, save_on_train_epoch_end=True
        )
        trainer = L.Trainer(
            max_epochs=config.epochs,
            default_root_dir=model_dir,
            logger=False,
            callbacks=[history_callback, checkpoints],
            **common,
        )
        last = model_dir / "checkpoints" / "last.ckpt"
        trainer.fit(
            model,
            train_dataloaders=train_loader,
            val_dataloaders=test_loader,
            ckpt_path="last" if last.is_file() else None,
        )
        history, train_seconds = history_callback.history, history_callback.train_seconds
        trainer.save_checkpoint(final_checkpoint)
        (model_dir / HISTORY_FILE).write_text(json.dumps(history))
        mark_finished(
            model_dir, train_seconds, epochs=len(history.get("loss", [])), method=training_method
        )
    if method == "adabn":
        adapt_batchnorm(model, to_tensor(domains.target_x))
    model.eval()
    with torch.no_grad():
        probabilities = torch.cat([model(images).softmax(-1) for images, _ in test_loader])
    return TransferRun(model, history, probabilities.numpy(), train_seconds, from_cache)
