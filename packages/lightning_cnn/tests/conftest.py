"""Test setup: one thread per framework (the CI machine has 2 shared cores), quiet TensorFlow."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import a2common.tf_env  # noqa: F401

# isort: split

import torch

torch.set_num_threads(1)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

LIMIT_PER_CLASS = 4


@pytest.fixture(scope="session")
def tiny_limit_per_class() -> int:
    """Images per class and split in :func:`tiny_release`."""
    return LIMIT_PER_CLASS


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory) -> Path:
    """A real animals3 release with the first 4 images per class of every split (36 images)."""
    from lightning_cnn.release import release_animals3

    root = tmp_path_factory.mktemp("release") / "animals3_tiny"
    release_animals3(root, limit_per_class=LIMIT_PER_CLASS)
    return root
