"""The MNIST task functions: a quick grade trains for real, a second call reuses the model."""

from __future__ import annotations

import numpy as np
import pytest

a2common_data = pytest.importorskip("a2common.data")
from a2common.grading import TaskContext  # noqa: E402
from autograd.apps import mnist  # noqa: E402


@pytest.fixture(scope="module")
def mnist_available():
    try:
        a2common_data.load_dataset("mnist")
    except a2common_data.DatasetError as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"MNIST not available: {error}")


def _accuracy(result, labels):
    return float((result.predictions.argmax(axis=1) == labels).mean())


def test_quick_mlp_task_learns_and_reuses_its_model(mnist_available, tmp_path):
    labels = a2common_data.load_dataset("mnist").test.y
    ctx = TaskContext(quick=True, seed=0, work_dir=tmp_path)
    first = mnist.grade_mlp(ctx)
    assert first.predictions.shape == (10000, 10)
    np.testing.assert_allclose(first.predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert _accuracy(first, labels) > 0.9
    assert first.train_seconds > 0 and first.epochs == mnist.RECIPES["mlp"].quick_epochs
    assert first.details["train_examples"] == mnist.QUICK_TRAIN_EXAMPLES
    assert first.model_files == ["mlp-quick.npz"] and not first.card.missing_sections()
    assert not (tmp_path / "mlp-quick-backup.npz").exists()
    again = mnist.grade_mlp(ctx)
    assert again.train_seconds == first.train_seconds
    np.testing.assert_array_equal(again.predictions, first.predictions)


def test_a_different_seed_does_not_reuse_the_model(mnist_available, tmp_path):
    first = mnist.grade_simple(
        TaskContext(quick=True, seed=0, work_dir=tmp_path, params={"epochs": 1})
    )
    other = mnist.grade_simple(
        TaskContext(quick=True, seed=1, work_dir=tmp_path, params={"epochs": 1})
    )
    assert not np.array_equal(first.predictions, other.predictions)


def test_shuffled_labels_make_a_chance_level_model(mnist_available, tmp_path):
    labels = a2common_data.load_dataset("mnist").test.y
    broken = mnist.grade_simple(
        TaskContext(
            quick=True, seed=0, work_dir=tmp_path, params={"epochs": 1, "shuffle_labels": True}
        )
    )
    assert _accuracy(broken, labels) < 0.3


def test_recipes_build_the_documented_architectures():
    cnn = mnist.RECIPES["cnn"].build_model(seed=0)
    assert cnn.output_shape == (None, 10)
    assert [type(layer).__name__ for layer in cnn.layers][:4] == [
        "InputLayer",
        "RandomShift",
        "Conv2D",
        "MaxPool2D",
    ]
    mlp = mnist.RECIPES["mlp"].build_model(seed=0)
    assert [layer.units for layer in mlp.layers if type(layer).__name__ == "Dense"] == [
        256,
        256,
        10,
    ]
    simple = mnist.build_simple_model()
    assert sum(type(layer).__name__ == "Dense" for layer in simple.layers) == 1
    out = simple.predict(np.zeros((2, 784), dtype=np.float32))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
