"""The CNN in plain PyTorch and its ``LightningModule``.

The network is built by :func:`build_torch_cnn` from a :class:`~lightning_cnn.config.CNNConfig`
(the Keras twin is :func:`lightning_cnn.keras_model.build_keras_cnn`). The module normalises its
input itself (per-channel mean/std of the training split, stored as buffers and saved in the
checkpoint), so it takes images scaled to [0, 1] -- exactly what the data module yields.

Example:

>>> import torch
>>> model = Animals3Classifier(CNNConfig(), mean=[0.5] * 3, std=[0.25] * 3)
>>> model(torch.rand(2, 3, 64, 64)).shape
torch.Size([2, 3])
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Sequence

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from lightning_cnn.config import CNNConfig, TrainConfig, warmup_cosine_factor
from lightning_cnn.torch_pooling import GeneralizedMeanPool2d

if TYPE_CHECKING:
    from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 "same" convolution (no bias: BatchNorm follows), BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def pooling_layer(config: CNNConfig) -> nn.Module:
    """The 2x2 down-sampling layer between stages: max pooling or the custom GeM pooling."""
    if config.pooling == "gem":
        return GeneralizedMeanPool2d(kernel_size=2, p=config.gem_p)
    return nn.MaxPool2d(kernel_size=2)


def build_torch_cnn(config: CNNConfig = CNNConfig()) -> nn.Sequential:
    """The project's CNN as an ``nn.Sequential`` (input: normalised ``(N, 3, 64, 64)``).

    Example:

    >>> build_torch_cnn(CNNConfig(pooling="gem"))(torch.rand(1, 3, 64, 64)).shape
    torch.Size([1, 3])
    """
    layers: list[nn.Module] = []
    in_channels = 3
    for index, out_channels in enumerate(config.channels):
        if index > 0:
            layers.append(pooling_layer(config))
        layers.append(conv_bn_relu(in_channels, out_channels))
        in_channels = out_channels
    layers += [
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(config.dropout),
        nn.Linear(in_channels, config.num_classes),
    ]
    return nn.Sequential(*layers)


class Animals3Classifier(L.LightningModule):
    """Image classifier: normalisation + :func:`build_torch_cnn`, trained with AdamW.

    Logs ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``, ``test_acc`` and the learning
    rate (TensorBoard via the trainer's logger); accuracies come from ``torchmetrics``.

    Args:
        cnn: the network configuration (a :class:`CNNConfig` or its dict form).
        mean, std: per-channel statistics of the training images in [0, 1].
        learning_rate: peak learning rate of the warm-up + cosine schedule.
        weight_decay: AdamW's decoupled weight decay.
        warmup_fraction: fraction of all steps spent warming up.
        label_smoothing: cross-entropy label smoothing.
        mixup_alpha: mixup in the training step (:func:`mixup_batch`; ``0``: none).
        test_time_flip: ``predict_step`` returns the mean of the probabilities of each image
            and of its mirror image.

    Example:

    >>> model = Animals3Classifier.from_train_config(TrainConfig(), [0.5] * 3, [0.25] * 3)
    >>> model.hparams.learning_rate
    0.003
    """

    # buffers (register_buffer), declared for the type checker: nn.Module.__getattr__ is untyped
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        cnn: CNNConfig | dict[str, Any] = CNNConfig(),
        mean: Sequence[float] = (0.5, 0.5, 0.5),
        std: Sequence[float] = (0.25, 0.25, 0.25),
        learning_rate: float = 3e-3,
        weight_decay: float = 5e-2,
        warmup_fraction: float = 0.2,
        label_smoothing: float = 0.1,
        mixup_alpha: float = 0.0,
        test_time_flip: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(cnn, dict):
            cnn = CNNConfig(**{**cnn, "channels": tuple(cnn["channels"])})
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(
                f"Expected 3 channel means and 3 positive stds. Received: "
                f"mean={list(mean)}, std={list(std)}"
            )
        self.save_hyperparameters(
            {
                "cnn": asdict(cnn),
                "mean": list(mean),
                "std": list(std),
                "learning_rate": learning_rate,
                "weight_decay": weight_decay,
                "warmup_fraction": warmup_fraction,
                "label_smoothing": label_smoothing,
                "mixup_alpha": mixup_alpha,
                "test_time_flip": test_time_flip,
            }
        )
        self.config = cnn
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        # channels-last convolutions are markedly faster on CPU (oneDNN) and no slower on GPU
        # torch's stub of Module.to lists no memory_format overload; the runtime accepts it.
        # (unused-ignore: the tox lint environment has no torch, so the network is Any there.)
        self.network = build_torch_cnn(cnn).to(memory_format=torch.channels_last)  # type: ignore[call-overload, unused-ignore]
        self.train_accuracy = MulticlassAccuracy(num_classes=cnn.num_classes, average="micro")
        self.val_accuracy = MulticlassAccuracy(num_classes=cnn.num_classes, average="micro")
        self.test_accuracy = MulticlassAccuracy(num_classes=cnn.num_classes, average="micro")

    @classmethod
    def from_train_config(
        cls, config: TrainConfig, mean: Sequence[float], std: Sequence[float]
    ) -> "Animals3Classifier":
        """Build the module from the framework-neutral :class:`TrainConfig`."""
        return cls(
            config.cnn,
            mean,
            std,
            config.learning_rate,
            config.weight_decay,
            config.warmup_fraction,
            config.label_smoothing,
            config.mixup_alpha,
            config.test_time_flip,
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits for images scaled to [0, 1], shape ``(N, 3, 64, 64)``."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(
                f"Expected images of shape (N, 3, H, W). Received: shape={tuple(images.shape)}"
            )
        normalised = (images - self.mean) / self.std
        return self.network(normalised.contiguous(memory_format=torch.channels_last))

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Label-smoothed cross-entropy; ``labels`` are classes or (mixed) class probabilities."""
        return F.cross_entropy(logits, labels, label_smoothing=self.hparams["label_smoothing"])

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int):
        images, labels = batch
        targets: torch.Tensor = labels
        alpha = self.hparams.get("mixup_alpha", 0.0)
        if alpha:
            images, targets = mixup_batch(images, labels, self.config.num_classes, alpha)
            labels = targets.argmax(dim=-1)  # accuracy against each blend's larger part
        logits = self(images)
        loss = self._loss(logits, targets)
        self.train_accuracy(logits, labels)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("train_acc", self.train_accuracy, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        logits = self(images)
        self.val_accuracy(logits, labels)
        self.log("val_loss", self._loss(logits, labels), prog_bar=True)
        self.log("val_acc", self.val_accuracy, prog_bar=True)

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        logits = self(images)
        self.test_accuracy(logits, labels)
        self.log("test_loss", self._loss(logits, labels))
        self.log("test_acc", self.test_accuracy)

    def predict_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        images, _ = batch
        probabilities = self(images).softmax(dim=-1)
        if self.hparams.get("test_time_flip", False):
            probabilities = (probabilities + self(images.flip(-1)).softmax(dim=-1)) / 2
        return probabilities

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        optimizer = torch.optim.AdamW(
            self.parameters(),
            lr=self.hparams["learning_rate"],
            weight_decay=self.hparams["weight_decay"],
        )
        total_steps = max(int(self.trainer.estimated_stepping_batches), 1)
        warmup_steps = int(self.hparams["warmup_fraction"] * total_steps)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: warmup_cosine_factor(step, total_steps, warmup_steps)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def gem_exponents(self) -> list[float]:
        """The learned ``p`` of every GeM pooling layer (empty with max pooling)."""
        return [
            module.p.item()
            for module in self.modules()
            if isinstance(module, GeneralizedMeanPool2d)
        ]


def mixup_batch(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    alpha: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup: blend each image and its one-hot label with another one of the batch.

    Image ``i`` becomes ``w_i * x_i + (1 - w_i) * x_j`` with ``j`` from one random permutation
    of the batch and ``w_i ~ Beta(alpha, alpha)`` drawn per image; its target is the same blend
    of the two one-hot labels -- what ``keras.layers.MixUp`` does in the Keras pipeline. Draws
    from torch's global random generator (seeded by ``L.seed_everything``).

    Example:

    >>> images, targets = mixup_batch(torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0]), 3, 0.4)
    >>> tuple(images.shape), torch.allclose(targets.sum(dim=-1), torch.ones(4))
    ((4, 3, 8, 8), True)
    """
    if alpha <= 0:
        raise ValueError(f"Expected alpha > 0. Received: alpha={alpha}")
    size = len(labels)
    alphas = torch.full((size,), float(alpha))
    weights = torch.distributions.Beta(alphas, alphas).sample().to(images)
    order = torch.randperm(size).to(images.device)
    one_hot = F.one_hot(labels, num_classes).to(images)
    image_weights = weights.view(-1, 1, 1, 1)
    mixed_images = image_weights * images + (1 - image_weights) * images[order]
    mixed_targets = weights.view(-1, 1) * one_hot + (1 - weights.view(-1, 1)) * one_hot[order]
    return mixed_images, mixed_targets


def stack_predictions(batches: Sequence[object] | None) -> torch.Tensor:
    """One tensor from what ``Trainer.predict`` returns for one predict loader (a tensor a batch).

    Example:

    >>> stack_predictions([torch.zeros(2, 3), torch.ones(1, 3)]).shape
    torch.Size([3, 3])
    """
    if batches is None:
        raise RuntimeError(
            "Expected the predictions of Trainer.predict. Received: None "
            "(was it called with return_predictions=False?)"
        )
    tensors = [batch for batch in batches if isinstance(batch, torch.Tensor)]
    if len(tensors) != len(batches):
        raise RuntimeError(
            "Expected one tensor per predicted batch (a single predict loader). Received: "
            f"{sorted({type(batch).__name__ for batch in batches})}"
        )
    return torch.cat(tensors)
