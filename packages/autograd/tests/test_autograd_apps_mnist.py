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


def test_quick_mlp_grade_learns_and_is_cached(mnist_available, tmp_path):
    ctx = TaskContext(quick=True, seed=0, work_dir=tmp_path)
    first = mnist.grade_mlp(ctx)
    assert first.metric == "accuracy" and first.value > 0.9
    assert first.train_seconds > 0 and not first.from_cache
    assert first.details["train_examples"] == mnist.QUICK_TRAIN_EXAMPLES
    assert (tmp_path / "mlp-quick.npz").is_file()
    assert not (tmp_path / "mlp-quick-backup.npz").exists()
    again = mnist.grade_mlp(ctx)
    assert again.from_cache and again.train_seconds == first.train_seconds
    assert again.value == first.value


def test_a_different_seed_does_not_reuse_the_model(mnist_available, tmp_path):
    mnist.grade_simple(TaskContext(quick=True, seed=0, work_dir=tmp_path,
                                   params={"epochs": 1}))
    other = mnist.grade_simple(TaskContext(quick=True, seed=1, work_dir=tmp_path,
                                           params={"epochs": 1}))
    assert not other.from_cache and other.value > 0.8


def test_recipes_build_the_documented_architectures():
    cnn = mnist.RECIPES["cnn"].build_model(seed=0)
    assert cnn.output_shape == (None, 10)
    assert [type(layer).__name__ for layer in cnn.layers][:3] == ["InputLayer", "Conv2D",
                                                                  "MaxPool2D"]
    simple = mnist.build_simple_model()
    assert sum(type(layer).__name__ == "Dense" for layer in simple.layers) == 1
    out = simple.predict(np.zeros((2, 784), dtype=np.float32))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
