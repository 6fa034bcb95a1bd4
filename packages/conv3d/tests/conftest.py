"""Shared fixtures: small synthetic 'gland masks' whose class is visible in their size."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def make_blobs(count: int, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 {0, 255} volumes ``(count, size, size, size)``: label 1 = a large ellipsoid,
    label 0 = a small one, at random positions (like AdrenalMNIST3D's masks)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    rng.shuffle(labels)
    grid = np.indices((size,) * 3).astype(np.float32)
    volumes = np.zeros((count, size, size, size), np.uint8)
    for index, label in enumerate(labels):
        centre = rng.uniform(size * 0.4, size * 0.6, 3)
        radii = rng.uniform(4.0, 5.5, 3) if label else rng.uniform(2.0, 3.0, 3)
        inside = (((grid - centre[:, None, None, None]) / radii[:, None, None, None]) ** 2).sum(
            0
        ) <= 1
        volumes[index][inside] = 255
    return volumes, labels


@pytest.fixture(name="make_blobs", scope="session")
def make_blobs_fixture():
    """The :func:`make_blobs` factory (test modules cannot import conftest in importlib mode)."""
    return make_blobs


@pytest.fixture(scope="session")
def blobs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        "train": make_blobs(64, seed=0),
        "val": make_blobs(24, seed=1),
        "test": make_blobs(24, seed=2),
    }
