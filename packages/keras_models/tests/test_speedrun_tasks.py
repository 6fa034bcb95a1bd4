"""The graded speedrun tasks: quick path on a fake dataset, cache reuse, card, settings."""

import dataclasses
import types

import numpy as np
import pytest

from a2common.grading import TaskContext
from keras_models import speedrun_tasks


def _fake_dataset(image_shape, seed=0):
    rng = np.random.default_rng(seed)

    def split(n):
        labels = np.arange(n) % 10
        images = (rng.random((n, *image_shape)) * 80).astype(np.uint8)
        images[..., 0] += (labels * 17).astype(np.uint8)[:, None, None]  # class sets the level
        return types.SimpleNamespace(
            x=images.squeeze(-1) if image_shape[-1] == 1 else images, y=labels
        )

    return types.SimpleNamespace(train=split(600), test=split(200), sha256="fake")


@pytest.mark.parametrize(
    "task, image_shape", [("cifar10_cnn", (32, 32, 3)), ("mnist_cnn", (28, 28, 1))]
)
def test_quick_grade_predicts_the_test_split_then_reuses(monkeypatch, tmp_path, task, image_shape):
    loaded = []

    def fake_load(name):
        loaded.append(name)
        return _fake_dataset(image_shape)

    monkeypatch.setattr(speedrun_tasks, "load_dataset", fake_load)
    monkeypatch.setattr(speedrun_tasks, "QUICK_TRAIN_SIZE", 400)
    monkeypatch.setattr(
        speedrun_tasks,
        "quick_variant",
        lambda config: dataclasses.replace(
            config, widths=(8, 8, 8), epochs=2, batch_size=64, lookahead=False
        ),
    )
    context = TaskContext(quick=True, seed=0, work_dir=tmp_path)
    first = speedrun_tasks.GRADED_TASKS[task](context)
    assert loaded == [speedrun_tasks.DATASETS[task]]
    assert first.predictions.shape == (200, 10) and first.epochs == 2
    np.testing.assert_allclose(first.predictions.sum(-1), 1.0, rtol=1e-5)
    assert first.details["train_size"] == 400 and first.details["cpu_peak"]["dtype"] in (
        "float32",
        "bfloat16",
    )
    assert (tmp_path / first.model_files[0]).is_file() and not first.card.missing_sections()
    config = first.details["speedrun_config"]
    assert config["widths"] == (8, 8, 8) and config["mirror"] == (task != "mnist_cnn")
    assert ("without mirroring" in first.card.overview) == (task == "mnist_cnn")
    second = speedrun_tasks.GRADED_TASKS[task](context)
    np.testing.assert_allclose(second.predictions, first.predictions, atol=1e-6)
    assert second.train_seconds == pytest.approx(first.train_seconds)
    assert second.details["precision"] == first.details["precision"]


def test_digits_are_never_mirrored_and_quick_variants_are_narrow():
    assert not speedrun_tasks.SPEEDRUNS["mnist_cnn"].mirror
    assert speedrun_tasks.SPEEDRUNS["fashion_cnn"].mirror
    for config in speedrun_tasks.SPEEDRUNS.values():
        quick = speedrun_tasks.quick_variant(config)
        assert quick.epochs == 2 and quick.mirror == config.mirror
        assert quick.digest() != config.digest()
