"""3D CNNs for binary volume classification in PyTorch, and their seeded, resumable training.

Two plain ``nn.Module`` models that output one logit per volume:

* :class:`Conv3dNet`: blocks of (Conv3d-BN-ReLU) x2 + max-pooling, global average pooling,
  dropout and a linear head.
* :class:`ResNet3d`: a small 3D residual network (basic blocks, stride-2 downsampling).

:func:`train_torch` trains either with a clean loop (AdamW, cosine learning rate, 3D
augmentation from :mod:`conv3d.augment`), saves a checkpoint into a work dir after every epoch
so an interrupted run resumes where it stopped, and returns the model, the per-epoch history
and the test-set probabilities of the positive class (averaged over mirror flips).

Example:

>>> import torch
>>> Conv3dNet()(torch.zeros(2, 1, 28, 28, 28)).shape
torch.Size([2])
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import nn

from a2common.grading import finished_info, is_finished, mark_finished
from a2common.progress import report_epoch
from a2common.threads import set_torch_threads
from conv3d.augment import AugmentConfig, augment_batch_torch
from conv3d.metrics import binary_metrics
from conv3d.results import TrainResult, to_volumes

CHECKPOINT_FILE = "checkpoint.pt"
MODEL_FILE = "model.pt"
HISTORY_FILE = "history.json"


class Conv3dNet(nn.Module):
    """A VGG-style 3D CNN: ``len(channels)`` stages of two 3x3x3 convolutions and max-pooling.

    The first convolution has stride ``stem_stride``: on one CPU thread most of the cost of a
    3D CNN sits at full resolution, and a strided first layer makes it about 4x cheaper.

    Args:
        channels: output channels of each stage.
        dropout: dropout rate before the linear head.
        in_channels: channels of the input volume.
        stem_stride: stride of the very first convolution.

    Input shape: ``(N, in_channels, D, H, W)``. Output shape: ``(N,)`` logits.
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32, 64),
        dropout: float = 0.3,
        in_channels: int = 1,
        stem_stride: int = 2,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_channels
        for index, width in enumerate(channels):
            stride = stem_stride if index == 0 else 1
            layers += [_conv_bn_relu(previous, width, stride), _conv_bn_relu(width, width)]
            if index < len(channels) - 1:
                layers.append(nn.MaxPool3d(2))
            previous = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(previous, 1)
        )

    def forward(self, volumes: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(volumes))[:, 0]


class BasicBlock3d(nn.Module):
    """``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))`` with an optional stride."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm3d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv3d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm3d(out_channels),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv3d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm3d(out_channels),
            )

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(inputs) + self.shortcut(inputs))


class ResNet3d(nn.Module):
    """A small 3D ResNet: a stem convolution, one basic block per stage, stride 2 between stages.

    Args:
        channels: width of each stage (the first stage keeps the stem's resolution).
        dropout: dropout rate before the linear head.
        in_channels: channels of the input volume.
        stem_stride: stride of the stem convolution (see :class:`Conv3dNet`).

    Input shape: ``(N, in_channels, D, H, W)``. Output shape: ``(N,)`` logits.
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32, 64),
        dropout: float = 0.3,
        in_channels: int = 1,
        stem_stride: int = 2,
    ) -> None:
        super().__init__()
        self.stem = _conv_bn_relu(in_channels, channels[0], stem_stride)
        blocks = [BasicBlock3d(channels[0], channels[0])]
        blocks += [
            BasicBlock3d(channels[i - 1], channels[i], stride=2) for i in range(1, len(channels))
        ]
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels[-1], 1)
        )

    def forward(self, volumes: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(volumes)))[:, 0]


def _conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm3d(out_channels),
        nn.ReLU(inplace=True),
    )


MODELS: dict[str, Callable[..., nn.Module]] = {"cnn": Conv3dNet, "resnet": ResNet3d}


@dataclass
class TorchTrainConfig:
    """Settings of :func:`train_torch` (defaults: the recipe chosen on the val split).

    Attributes:
        model: ``"cnn"`` (:class:`Conv3dNet`) or ``"resnet"`` (:class:`ResNet3d`).
        channels, dropout: passed to the model.
        epochs, batch_size, learning_rate, weight_decay: AdamW with a cosine schedule (and
            ``warmup_epochs`` of linear warm-up).
        augment: the training-time augmentation (``AugmentConfig.none()`` turns it off).
        tta_flips: average the predicted probability over the 8 mirror images at test time.
        seed: seeds the weights, the batch order and the augmentation.
        num_threads: torch CPU threads (``None`` keeps torch's default).
    """

    model: str = "cnn"
    channels: tuple[int, ...] = (16, 32, 64)
    dropout: float = 0.3
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 1
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    tta_flips: bool = True
    seed: int = 0
    num_threads: int | None = None


def build_torch_model(config: TorchTrainConfig) -> nn.Module:
    """The model named by ``config.model``."""
    if config.model not in MODELS:
        raise ValueError(f"Expected model in {sorted(MODELS)}. Received: {config.model!r}")
    model = MODELS[config.model](channels=config.channels, dropout=config.dropout)
    # oneDNN's 3D convolutions run about 1.5x faster on CPU in channels-last layout
    # torch's stub of Module.to lists no memory_format overload; the runtime accepts it.
    # (unused-ignore: the tox lint environment has no torch, so the model is Any there.)
    return model.to(memory_format=torch.channels_last_3d)  # type: ignore[call-overload, unused-ignore]


@torch.no_grad()
def predict_probabilities(
    model: nn.Module, volumes: np.ndarray, batch_size: int = 64, tta_flips: bool = True
) -> np.ndarray:
    """Sigmoid of the model's logits for ``(N, D, H, W)`` float volumes, flip-averaged if asked."""
    model.eval()
    flip_sets = (
        [()]
        if not tta_flips
        else [tuple(2 + axis for axis in range(3) if (mask >> axis) & 1) for mask in range(8)]
    )
    outputs = []
    for start in range(0, len(volumes), batch_size):
        batch = _channels_last(torch.from_numpy(volumes[start : start + batch_size]))
        probabilities = [
            torch.sigmoid(model(torch.flip(batch, dims) if dims else batch)) for dims in flip_sets
        ]
        outputs.append(torch.stack(probabilities).mean(0))
    return torch.cat(outputs).numpy().astype(np.float64)


def train_torch(
    config: TorchTrainConfig,
    work_dir: Path,
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    val_y: np.ndarray,
    test_x: np.ndarray,
    *,
    progress: bool = True,
) -> TrainResult:
    """Train (or resume, or load) a PyTorch model on volumes and predict the test set.

    Args:
        config: the recipe.
        work_dir: checkpoints (``checkpoint.pt``, written every epoch), the finished model
            (``model.pt``), ``history.json`` and the ``FINISHED.json`` marker.
        train_x, val_x, test_x: uint8 images ``(N, D, H, W)`` as the loader returns them.
        train_y, val_y: 0/1 labels.
        progress: print one line per epoch.

    Returns:
        A :class:`TrainResult`; ``history`` holds ``loss``, ``accuracy``, ``val_loss``,
        ``val_accuracy``, ``val_auc`` and ``learning_rate`` per epoch.

    Example:

    One epoch of a one-stage network on eight random 8x8x8 masks:

    >>> import tempfile
    >>> rng = np.random.default_rng(0)
    >>> x = rng.choice(np.array([0, 255], np.uint8), size=(12, 8, 8, 8))
    >>> y = np.array([0, 1] * 6)
    >>> config = TorchTrainConfig(channels=(4,), epochs=1, batch_size=4, tta_flips=False)
    >>> work_dir = Path(tempfile.mkdtemp())
    >>> result = train_torch(config, work_dir, x[:8], y[:8], x[8:10], y[8:10], x[10:],
    ...                      progress=False)
    >>> result.test_probabilities.shape, sorted(result.history), result.from_cache
    ((2,), ['accuracy', 'learning_rate', 'loss', 'val_accuracy', 'val_auc', 'val_loss'], False)
    >>> sorted(path.name for path in work_dir.iterdir())
    ['FINISHED.json', 'history.json', 'model.pt']

    A second call finds the finished model and loads it instead of training again:

    >>> again = train_torch(config, work_dir, x[:8], y[:8], x[8:10], y[8:10], x[10:],
    ...                     progress=False)
    >>> again.from_cache, bool(np.allclose(again.test_probabilities, result.test_probabilities))
    (True, True)
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    set_torch_threads(config.num_threads)
    torch.manual_seed(config.seed)
    model = build_torch_model(config)
    parameters = sum(p.numel() for p in model.parameters())
    test_volumes = to_volumes(test_x)
    if is_finished(work_dir) and (work_dir / MODEL_FILE).is_file():
        model.load_state_dict(torch.load(work_dir / MODEL_FILE, weights_only=True))
        cached_history = json.loads((work_dir / HISTORY_FILE).read_text())
        probabilities = predict_probabilities(model, test_volumes, tta_flips=config.tta_flips)
        info = finished_info(work_dir)
        return TrainResult(
            model,
            cached_history,
            probabilities,
            float(info["train_seconds"]),
            int(info["epochs"]),
            parameters,
            from_cache=True,
        )

    train_volumes, val_volumes = to_volumes(train_x), to_volumes(val_x)
    train_labels = torch.as_tensor(np.asarray(train_y).ravel(), dtype=torch.float32)
    val_labels = np.asarray(val_y).ravel()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(len(train_volumes) / config.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        _warmup_cosine(config.warmup_epochs * steps_per_epoch, config.epochs * steps_per_epoch),
    )
    generator = torch.Generator().manual_seed(config.seed)
    history: dict[str, list[float]] = {}
    start_epoch, seconds_before = 0, 0.0
    checkpoint_path = work_dir / CHECKPOINT_FILE
    if checkpoint_path.is_file():
        state = torch.load(checkpoint_path, weights_only=False)
        if _without_threads(state["config"]) != _without_threads(_config_dict(config)):
            raise ValueError(
                f"Expected the checkpoint in {checkpoint_path} to come from the same "
                f"config. Received: {state['config']} (now {_config_dict(config)}); "
                "delete the work dir to start over."
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])  # dropout draws from the global generator
        history, start_epoch = state["history"], state["epoch"]
        seconds_before = state["seconds"]
    loss_function = nn.BCEWithLogitsLoss()
    run_start = time.perf_counter()
    for epoch in range(start_epoch, config.epochs):
        model.train()
        order = torch.randperm(len(train_volumes), generator=generator)
        total_loss, correct = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            index = order[start : start + config.batch_size]
            batch = torch.from_numpy(train_volumes[index.numpy()]).unsqueeze(1)
            batch = augment_batch_torch(batch, generator, config.augment)
            labels = train_labels[index]
            logits = model(batch)
            loss = loss_function(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += float(loss.detach()) * len(index)
            correct += int(((logits > 0).float() == labels).sum())
        val_probabilities = predict_probabilities(model, val_volumes, tta_flips=False)
        scores = binary_metrics(val_labels, val_probabilities)
        epoch_metrics = {
            "loss": total_loss / len(order),
            "accuracy": correct / len(order),
            "val_loss": scores["log_loss"],
            "val_accuracy": scores["accuracy"],
            "val_auc": scores["roc_auc"],
            "learning_rate": optimizer.param_groups[0]["lr"],
        }
        for key, value in epoch_metrics.items():
            history.setdefault(key, []).append(float(value))
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "history": history,
                "epoch": epoch + 1,
                "config": _config_dict(config),
                "seconds": seconds_before + time.perf_counter() - run_start,
            },
            checkpoint_path,
        )
        report_epoch(epoch + 1, config.epochs, epoch_metrics)
        if progress:
            print(
                f"epoch {epoch + 1}/{config.epochs} "
                + " ".join(f"{key} {value:.4f}" for key, value in epoch_metrics.items()),
                flush=True,
            )
    train_seconds = seconds_before + time.perf_counter() - run_start
    torch.save(model.state_dict(), work_dir / MODEL_FILE)
    (work_dir / HISTORY_FILE).write_text(json.dumps(history))
    mark_finished(work_dir, train_seconds, epochs=config.epochs, config=_config_dict(config))
    checkpoint_path.unlink(missing_ok=True)
    probabilities = predict_probabilities(model, test_volumes, tta_flips=config.tta_flips)
    return TrainResult(model, history, probabilities, train_seconds, config.epochs, parameters)


def _channels_last(volumes: torch.Tensor) -> torch.Tensor:
    if volumes.dim() == 4:
        volumes = volumes.unsqueeze(1)
    return volumes.contiguous(memory_format=torch.channels_last_3d)


def _warmup_cosine(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def _config_dict(config: TorchTrainConfig) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(config)))


def _without_threads(config: dict[str, Any]) -> dict[str, Any]:
    # the thread count changes speed, not the run: a resume may use another one
    return {key: value for key, value in config.items() if key != "num_threads"}
