"""Fixtures: a runs folder of tiny, untrained models laid out like the autograder's.

No test needs the real graded runs: ``tiny_runs`` writes ``full/autograd_mnist_mlp``,
``full/keras_mnist_cnn`` and ``quick/keras_animals3_transfer`` (each ``seed0`` with
``result.json``, ``predictions.npz``, ``manifest.json`` and the model file that
``GradedRun.open`` and ``model_path`` read).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CARD = {
    "overview": "Tiny <untrained> test model.",
    "intended_uses": ["Tests."],
    "factors": [],
    "training_data": "none",
    "evaluation_data": "none",
    "ethical_considerations": [["A risk.", "A mitigation."]],
    "caveats": ["Untrained."],
}


def write_run(root: Path, kind: str, task: str, model_file: str) -> Path:
    """The files GradedRun.open checks, pointing at ``work/<model_file>``."""
    run = root / kind / task / "seed0"
    (run / "work").mkdir(parents=True, exist_ok=True)
    (run / "result.json").write_text(
        json.dumps(
            {
                "train_seconds": 0.0,
                "epochs": 0,
                "parameters": 0,
                "history": {},
                "model_files": [model_file],
                "card": CARD,
                "details": {},
            }
        )
    )
    (run / "manifest.json").write_text("{}")
    np.savez(run / "predictions.npz", output=np.zeros((1, 1)))
    (run / "work" / model_file).parent.mkdir(parents=True, exist_ok=True)
    return run / "work" / model_file


def build_tiny_runs(root: Path) -> Path:
    import keras

    from autograd import Sequential, layers

    mlp = Sequential([layers.Input((784,)), layers.Dense(10, seed=0)])
    mlp.save(write_run(root, "full", "autograd_mnist_mlp", "mlp.npz"))
    keras.utils.set_random_seed(0)
    cnn = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(2, 5, strides=4),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    cnn.save(write_run(root, "full", "keras_mnist_cnn", "cnn/model.keras"))
    animals = keras.Sequential(
        [
            keras.Input((64, 64, 3)),
            keras.layers.Rescaling(1 / 127.5, -1),
            keras.layers.Conv2D(2, 8, strides=8),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )
    animals.save(write_run(root, "quick", "keras_animals3_transfer", "stage2/model.keras"))
    return root


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs root with the three demo models (tiny, untrained)."""
    return build_tiny_runs(tmp_path_factory.mktemp("runs"))


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def drawn_seven(size: int = 280, ink: int = 255, background: int = 0) -> Image.Image:
    canvas = Image.new("L", (size, size), background)
    scale = size / 280
    ImageDraw.Draw(canvas).line(
        [(70 * scale, 70 * scale), (210 * scale, 70 * scale), (120 * scale, 230 * scale)],
        fill=ink,
        width=int(18 * scale),
    )
    return canvas


@pytest.fixture
def digit_png() -> bytes:
    return png_bytes(drawn_seven())


@pytest.fixture
def photo_png() -> bytes:
    rng = np.random.default_rng(0)
    return png_bytes(Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)))


@pytest.fixture
def to_png():
    """``to_png(image) -> bytes``."""
    return png_bytes


@pytest.fixture
def draw_seven():
    """``draw_seven(size=280, ink=255, background=0) -> PIL image``."""
    return drawn_seven
