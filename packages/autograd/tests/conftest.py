"""pytest configuration for the autograd tests (helpers live in ``autograd_testing``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
# The repository runs pytest with --import-mode=importlib, which does not put test folders on
# sys.path; the shared helpers module (autograd_testing) lives here.
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("autograd", max_examples=20, deadline=None, derandomize=True)
settings.load_profile("autograd")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
