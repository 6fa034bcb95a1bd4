"""3D data augmentation for batches of volumes, in numpy and (the same maths) in torch.

Every transform keeps the batch shape, never touches the labels and keeps values inside the
input's value range: flips and permutations only move voxels, the affine warp interpolates
trilinearly (a convex combination of neighbours, zero outside the volume) and the intensity
jitter clips back to ``[low, high]``.

Volumes are ``(N, D, H, W)`` arrays (channel-less); the models add the channel axis.

Example:

>>> import numpy as np
>>> volumes = np.random.default_rng(0).random((4, 28, 28, 28), dtype=np.float32)
>>> augmented = augment_batch(volumes, np.random.default_rng(1), AugmentConfig())
>>> augmented.shape, augmented.dtype, bool(augmented.min() >= 0 and augmented.max() <= 1)
((4, 28, 28, 28), dtype('float32'), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of each random transform (all off: ``AugmentConfig.none()``).

    Attributes:
        flip_probability: chance to mirror each of the three axes independently.
        max_rotation_deg: rotations about each axis are drawn from ``U(-max, max)`` degrees.
        max_shift_voxels: translations along each axis are drawn from ``U(-max, max)`` voxels.
        max_scale: isotropic zoom factor drawn from ``U(1 - max, 1 + max)``.
        affine_probability: chance that a volume is warped at all.
        intensity_scale: multiplicative jitter ``U(1 - s, 1 + s)`` (0 turns it off).
        intensity_shift: additive jitter ``U(-s, s)`` in units of the value range.
        value_range: ``(low, high)`` the output is clipped to after the intensity jitter.
    """

    flip_probability: float = 0.5
    max_rotation_deg: float = 15.0
    max_shift_voxels: float = 2.0
    max_scale: float = 0.1
    affine_probability: float = 0.8
    intensity_scale: float = 0.1
    intensity_shift: float = 0.05
    value_range: tuple[float, float] = (0.0, 1.0)

    @classmethod
    def none(cls) -> "AugmentConfig":
        """A config that returns the input unchanged."""
        return cls(
            flip_probability=0.0, affine_probability=0.0, intensity_scale=0.0, intensity_shift=0.0
        )


def _check_volumes(volumes: Any) -> None:
    if volumes.ndim != 4:
        raise ValueError(
            "Expected a batch of volumes of shape (N, D, H, W). "
            f"Received: volumes.shape={tuple(volumes.shape)}"
        )


def random_flip(
    volumes: np.ndarray, rng: np.random.Generator, probability: float = 0.5
) -> np.ndarray:
    """Mirror each volume along each spatial axis with ``probability``.

    Example:

    >>> v = np.arange(8.0).reshape(1, 2, 2, 2)
    >>> random_flip(v, np.random.default_rng(0), probability=1.0)[0, 0, 0, 0]
    np.float64(7.0)
    """
    _check_volumes(volumes)
    flips = rng.random((len(volumes), 3)) < probability
    out = volumes.copy()
    for index, axes in enumerate(flips):
        chosen = tuple(axis for axis in range(3) if axes[axis])
        if chosen:
            out[index] = np.flip(volumes[index], axis=chosen)
    return out


def rotation_matrix(angles_rad: np.ndarray) -> np.ndarray:
    """Rotation matrices ``Rz @ Ry @ Rx`` for angles of shape ``(N, 3)``; returns ``(N, 3, 3)``."""
    cos, sin = np.cos(angles_rad), np.sin(angles_rad)
    n = len(angles_rad)
    one, zero = np.ones(n), np.zeros(n)
    rx = np.stack([one, zero, zero, zero, cos[:, 0], -sin[:, 0], zero, sin[:, 0], cos[:, 0]], 1)
    ry = np.stack([cos[:, 1], zero, sin[:, 1], zero, one, zero, -sin[:, 1], zero, cos[:, 1]], 1)
    rz = np.stack([cos[:, 2], -sin[:, 2], zero, sin[:, 2], cos[:, 2], zero, zero, zero, one], 1)
    return rz.reshape(n, 3, 3) @ ry.reshape(n, 3, 3) @ rx.reshape(n, 3, 3)


def sample_affine(
    n: int, rng: np.random.Generator, config: AugmentConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` random warps: ``(matrices (N, 3, 3), shifts (N, 3) in voxels)``.

    A volume that is not warped (``affine_probability``) gets the identity.
    """
    angles = np.deg2rad(rng.uniform(-config.max_rotation_deg, config.max_rotation_deg, (n, 3)))
    scales = rng.uniform(1 - config.max_scale, 1 + config.max_scale, (n, 1, 1))
    shifts = rng.uniform(-config.max_shift_voxels, config.max_shift_voxels, (n, 3))
    matrices = rotation_matrix(angles) / scales
    keep = rng.random(n) >= config.affine_probability
    matrices[keep] = np.eye(3)
    shifts[keep] = 0.0
    return matrices, shifts


def affine_warp(volumes: np.ndarray, matrices: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Resample each volume at ``matrix @ (p - centre) + centre - shift`` (trilinear, zero pad).

    ``matrices`` map output to input coordinates about the volume centre, so a rotation matrix
    ``R`` rotates the content by ``R.T``; values outside the volume count as 0, as in torch's
    ``grid_sample`` with zero padding (see :func:`affine_warp_torch`).

    Example:

    >>> v = np.random.default_rng(0).random((2, 5, 6, 7))
    >>> np.allclose(affine_warp(v, np.stack([np.eye(3)] * 2), np.zeros((2, 3))), v)
    True
    """
    _check_volumes(volumes)
    n = len(volumes)
    shape = np.array(volumes.shape[1:])
    centre = (shape - 1) / 2.0
    grid = np.indices(volumes.shape[1:], dtype=np.float32).reshape(3, -1)
    coords = np.einsum("nij,jk->nik", matrices.astype(np.float32), grid - centre[:, None])
    # one voxel of zero padding on every side: clipping into the padded volume then gives 0
    # outside the input without a mask per corner
    coords += (centre - shifts + 1)[:, :, None].astype(np.float32)
    np.clip(coords, 0, shape[None, :, None] + 1, out=coords)
    low = np.minimum(np.floor(coords), shape[None, :, None]).astype(np.int64)
    frac = coords - low
    padded = np.pad(volumes, ((0, 0), (1, 1), (1, 1), (1, 1))).reshape(n, -1)
    strides = np.array([(shape[1] + 2) * (shape[2] + 2), shape[2] + 2, 1])
    base = np.einsum("nik,i->nk", low, strides)
    out = np.zeros(base.shape, dtype=np.float32)
    for corner in range(8):
        offset = np.array([(corner >> 2) & 1, (corner >> 1) & 1, corner & 1])
        weight = np.ones(base.shape, dtype=np.float32)
        for axis in range(3):
            weight *= frac[:, axis] if offset[axis] else 1.0 - frac[:, axis]
        out += weight * np.take_along_axis(padded, base + int(offset @ strides), axis=1)
    return out.reshape(volumes.shape).astype(volumes.dtype, copy=False)


def intensity_jitter(
    volumes: np.ndarray,
    rng: np.random.Generator,
    scale: float = 0.1,
    shift: float = 0.05,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """``v * U(1-scale, 1+scale) + U(-shift, shift) * (high - low)``, clipped to ``value_range``."""
    _check_volumes(volumes)
    low, high = value_range
    n = len(volumes)
    factors = rng.uniform(1 - scale, 1 + scale, (n, 1, 1, 1))
    offsets = rng.uniform(-shift, shift, (n, 1, 1, 1)) * (high - low)
    return np.clip(volumes * factors + offsets, low, high).astype(volumes.dtype, copy=False)


def augment_batch(
    volumes: np.ndarray, rng: np.random.Generator, config: AugmentConfig = AugmentConfig()
) -> np.ndarray:
    """Flip, warp and jitter a batch ``(N, D, H, W)``; the output has the same shape and dtype."""
    _check_volumes(volumes)
    out = random_flip(volumes, rng, config.flip_probability)
    if config.affine_probability > 0:
        out = affine_warp(out, *sample_affine(len(out), rng, config))
    if config.intensity_scale > 0 or config.intensity_shift > 0:
        out = intensity_jitter(
            out, rng, config.intensity_scale, config.intensity_shift, config.value_range
        )
    return out


def augment_batch_torch(
    volumes: Any, generator: Any, config: AugmentConfig = AugmentConfig()
) -> Any:
    """The same transforms on a torch batch ``(N, D, H, W)`` or ``(N, 1, D, H, W)``.

    Uses ``torch.flip`` and ``affine_grid``/``grid_sample`` (trilinear, zero padding); the
    random numbers come from ``generator`` (a seeded ``torch.Generator``).

    Example:

    >>> import torch
    >>> batch = torch.rand(3, 1, 8, 8, 8)
    >>> augment_batch_torch(batch, torch.Generator().manual_seed(0)).shape
    torch.Size([3, 1, 8, 8, 8])
    """
    import torch

    squeeze = volumes.dim() == 4
    if squeeze:
        volumes = volumes.unsqueeze(1)
    if volumes.dim() != 5:
        raise ValueError(
            "Expected a batch of shape (N, D, H, W) or (N, 1, D, H, W). "
            f"Received: volumes.shape={tuple(volumes.shape)}"
        )
    n = volumes.shape[0]

    def uniform(size: tuple[int, ...], low: float, high: float) -> Any:
        return torch.rand(size, generator=generator) * (high - low) + low

    flips = torch.rand((n, 3), generator=generator) < config.flip_probability
    out = volumes.clone()
    for index in range(n):
        dims = [2 + axis for axis in range(3) if flips[index, axis]]
        if dims:
            out[index] = torch.flip(volumes[index : index + 1], dims)[0]
    if config.affine_probability > 0:
        angles = np.deg2rad(
            uniform((n, 3), -config.max_rotation_deg, config.max_rotation_deg).double().numpy()
        )
        scales = uniform((n, 1, 1), 1 - config.max_scale, 1 + config.max_scale).double().numpy()
        shifts = uniform((n, 3), -config.max_shift_voxels, config.max_shift_voxels).double()
        keep = (torch.rand(n, generator=generator) >= config.affine_probability).numpy()
        matrices = rotation_matrix(angles) / scales
        matrices[keep] = np.eye(3)
        shifts[torch.from_numpy(keep)] = 0.0
        out = affine_warp_torch(out, torch.from_numpy(matrices), shifts)
    if config.intensity_scale > 0 or config.intensity_shift > 0:
        low, high = config.value_range
        factors = uniform(
            (n, 1, 1, 1, 1), 1 - config.intensity_scale, 1 + config.intensity_scale
        ).to(out.dtype)
        offsets = uniform((n, 1, 1, 1, 1), -config.intensity_shift, config.intensity_shift).to(
            out.dtype
        ) * (high - low)
        out = torch.clamp(out * factors + offsets, low, high)
    return out[:, 0] if squeeze else out


def affine_warp_torch(volumes: Any, matrices: Any, shifts: Any) -> Any:
    """:func:`affine_warp` for a torch batch ``(N, 1, D, H, W)`` with ``grid_sample``.

    Example:

    >>> import torch
    >>> v = torch.rand(2, 1, 4, 5, 6)
    >>> eye = torch.eye(3, dtype=torch.float64).repeat(2, 1, 1)
    >>> bool(torch.allclose(affine_warp_torch(v, eye, torch.zeros(2, 3)), v, atol=1e-6))
    True
    """
    import torch
    import torch.nn.functional as F

    # affine_grid works in normalised (x, y, z) = (W, H, D) order, [-1, 1] along each axis
    reverse = [2, 1, 0]
    sizes = torch.tensor(volumes.shape[2:], dtype=torch.float64)[reverse]
    half = (sizes - 1) / 2
    theta_matrix = matrices.double()[:, reverse][:, :, reverse]
    theta_matrix = theta_matrix / half[None, :, None] * half[None, None, :]
    theta_shift = -shifts.double()[:, reverse] / half
    theta = torch.cat([theta_matrix, theta_shift[:, :, None]], dim=2).to(volumes.dtype)
    grid = F.affine_grid(theta, list(volumes.shape), align_corners=True)
    return F.grid_sample(volumes, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
