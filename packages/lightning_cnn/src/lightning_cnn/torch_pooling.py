"""Generalized-mean (GeM) pooling with a learnable exponent, in plain PyTorch.

GeM pooling computes, for every pooling window ``W`` of every channel,

    y = ( mean_{i in W} max(x_i, eps) ** p ) ** (1 / p),   p = clip(p_raw, p_min, p_max)

so ``p = 1`` is average pooling and ``p -> inf`` tends to max pooling; the network learns where
between the two it wants to be (Radenović, Tolias and Chum, "Fine-tuning CNN Image Retrieval with
No Human Annotation", TPAMI 2018). Inputs are clamped to ``eps`` because a fractional power of a
negative number is undefined; after a ReLU that only touches exact zeros.

The Keras twin, :class:`lightning_cnn.keras_pooling.GeneralizedMeanPooling2D`, computes the same
maths; ``tests/test_pooling.py`` checks that both give the same outputs and the same gradients
(for the input and for ``p``).

Example:

>>> import torch
>>> pool = GeneralizedMeanPool2d(kernel_size=2, p=3.0)
>>> pool(torch.rand(8, 16, 32, 32)).shape
torch.Size([8, 16, 16, 16])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lightning_cnn.config import GEM_P_MAX as P_MAX
from lightning_cnn.config import GEM_P_MIN as P_MIN


def generalized_mean_pool2d(
    inputs: torch.Tensor,
    p: torch.Tensor | float,
    kernel_size: int = 2,
    stride: int | None = None,
    eps: float = 1e-6,
) -> torch.Tensor:
    """Functional GeM pooling of an ``(N, C, H, W)`` tensor over ``kernel_size`` windows.

    Args:
        inputs: a 4-D float tensor, channels first.
        p: the exponent, a Python float or a (learnable) scalar tensor; clipped to
            ``[P_MIN, P_MAX]``.
        kernel_size: side of the square pooling window.
        stride: step between windows (default: ``kernel_size``); windows that do not fit are
            dropped ("valid" padding), as in ``nn.AvgPool2d``.
        eps: inputs are clamped to at least ``eps`` before the power.

    Returns:
        ``(N, C, floor((H - k) / s) + 1, floor((W - k) / s) + 1)``.

    Example:

    >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> round(generalized_mean_pool2d(x, p=1.0).item(), 4)  # p = 1: the average
    2.5
    """
    if inputs.ndim != 4:
        raise ValueError(
            f"Expected a 4-D input (N, C, H, W). Received: inputs.shape={tuple(inputs.shape)}"
        )
    p = torch.as_tensor(p, dtype=inputs.dtype, device=inputs.device).clamp(P_MIN, P_MAX)
    powered = inputs.clamp(min=eps).pow(p)
    pooled = F.avg_pool2d(powered, kernel_size=kernel_size, stride=stride or kernel_size)
    return pooled.pow(1.0 / p)


class GeneralizedMeanPool2d(nn.Module):
    """GeM pooling layer with a learnable exponent ``p`` (a drop-in for ``nn.MaxPool2d(k)``).

    Args:
        kernel_size: side of the square pooling window.
        stride: step between windows (default: ``kernel_size``).
        p: initial exponent (3.0 is the usual start, between average and max pooling).
        eps: inputs are clamped to at least ``eps``.
        trainable: learn ``p`` (``True``) or keep it fixed.

    Input shape:
        ``(N, C, H, W)``.

    Output shape:
        ``(N, C, H_out, W_out)`` with ``H_out = floor((H - kernel_size) / stride) + 1``.

    Example:

    >>> pool = GeneralizedMeanPool2d(2, p=3.0)
    >>> y = pool(torch.rand(2, 4, 8, 8)); y.shape, pool.p.requires_grad
    (torch.Size([2, 4, 4, 4]), True)
    """

    def __init__(
        self,
        kernel_size: int = 2,
        stride: int | None = None,
        p: float = 3.0,
        eps: float = 1e-6,
        trainable: bool = True,
    ) -> None:
        super().__init__()
        if kernel_size < 1:
            raise ValueError(f"Expected kernel_size >= 1. Received: kernel_size={kernel_size}")
        if not P_MIN <= p <= P_MAX:
            raise ValueError(f"Expected {P_MIN} <= p <= {P_MAX}. Received: p={p}")
        self.kernel_size = kernel_size
        self.stride = stride or kernel_size
        self.eps = eps
        self.p = nn.Parameter(torch.tensor(float(p)), requires_grad=trainable)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return generalized_mean_pool2d(inputs, self.p, self.kernel_size, self.stride, self.eps)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, "
            f"p={self.p.item():.3f}, eps={self.eps}"
        )
