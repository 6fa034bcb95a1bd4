"""Seeding for reproducible runs across numpy, Python, Keras and PyTorch."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy, and Keras/TensorFlow and PyTorch if they are imported.

    Call it after importing your framework (it does not import TensorFlow or torch itself, so
    numpy-only code stays fast to start).

    Example:

    >>> seed_everything(0); a = np.random.rand()
    >>> seed_everything(0); a == np.random.rand()
    True
    """
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
