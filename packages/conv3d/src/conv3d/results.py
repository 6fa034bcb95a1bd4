"""What a training function returns, and the one conversion of loader images to model input.

Framework-free, so the Keras and the PyTorch modules share it without importing each other.

Example:

>>> to_volumes(np.full((1, 2, 2, 2), 255, np.uint8)).max()
np.float32(1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class TrainResult:
    """What a training function returns.

    Attributes:
        model: the trained model (``nn.Module`` in eval mode, or a ``keras.Model``).
        history: per-epoch curves, e.g. ``{"loss": [...], "val_auc": [...]}``.
        test_probabilities: probability of the positive class per test volume, ``(n_test,)``,
            in the loader's test order.
        train_seconds: wall time of training (of the original run when loaded from the cache).
        epochs: epochs trained.
        parameters: number of parameters of the model.
        from_cache: whether the finished model was loaded from the work dir.
    """

    model: Any
    history: dict[str, list[float]]
    test_probabilities: np.ndarray
    train_seconds: float
    epochs: int
    parameters: int
    from_cache: bool = False


def to_volumes(images: np.ndarray) -> np.ndarray:
    """Loader images ``(N, D, H, W)`` uint8 {0, 255} to float32 in [0, 1]."""
    if images.ndim != 4:
        raise ValueError(f"Expected images of shape (N, D, H, W). Received: shape={images.shape}")
    return np.asarray(images, dtype=np.float32) / 255.0
