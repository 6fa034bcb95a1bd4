"""The graded task functions on a few random 64x64 images with narrowed models (seconds)."""

from dataclasses import replace
from pathlib import Path

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np
import pytest

from a2common.data import Dataset, Split
from a2common.grading import TaskContext
from modern_convnets import tasks, training
from modern_convnets.training import CONFIGS, build_model

TINY_MODELS = {
    "squeezenet_animals3": {"width_multiplier": 0.125, "bypass": False},
    "xception_animals3": {
        "stem_widths": (4, 8),
        "entry_widths": (8, 16),
        "middle_blocks": 1,
        "exit_widths": (16, 16),
        "head_widths": (16, 16),
    },
}


def _tiny_animals3(seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)

    def split(n: int) -> Split:
        return Split(rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), np.arange(n) % 3)

    return Dataset("animals3", split(24), split(9), split(6), ["cats", "dogs", "panda"], {})


@pytest.fixture
def tiny(monkeypatch):
    """Narrow models and a few random images in place of the animals3 loader."""
    for name, kwargs in TINY_MODELS.items():
        # no weight decay: tracing its per-variable update is a third of this test's time
        monkeypatch.setitem(
            CONFIGS,
            name,
            replace(
                CONFIGS[name],
                weight_decay=None,
                model_kwargs={**CONFIGS[name].model_kwargs, **kwargs},
            ),
        )
    data = _tiny_animals3()
    monkeypatch.setattr(training, "load_dataset", lambda name: data)
    return data


@pytest.mark.parametrize(
    "task, grade",
    [("modern_squeezenet", tasks.grade_squeezenet), ("modern_xception", tasks.grade_xception)],
)
def test_quick_task_returns_whole_test_split_probabilities_and_loads_from_cache(
    tiny, tmp_path, task, grade
):
    ctx = TaskContext(quick=True, seed=0, work_dir=tmp_path)
    result = grade(ctx)
    assert result.predictions.shape == (len(tiny.test.y), 3)
    np.testing.assert_allclose(result.predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert result.epochs == tasks.QUICK_EPOCHS == len(result.history["val_loss"])
    assert result.model_files == ["model.keras"] and (tmp_path / "model.keras").is_file()
    assert result.parameters == keras.saving.load_model(tmp_path / "model.keras").count_params()
    assert result.card.missing_sections() == []
    # the card lists every layer, whole: its parameter total and the output layer's inputs
    architecture = result.card.architecture
    assert f"{result.parameters:,} parameters" in architecture
    model = keras.saving.load_model(tmp_path / "model.keras")
    assert all(f"{layer.name} ({type(layer).__name__})" in architecture for layer in model.layers)
    details = result.details
    assert details["task"] == task and details["quick"] and not details["from_cache"]
    assert details["multiply_adds_per_image"] > 0 and details["train_cpu_seconds"] > 0
    assert not any("accuracy" in key for key in details)  # no self-reported score
    again = grade(ctx)
    assert again.details["from_cache"]
    assert again.details["train_cpu_seconds"] == details["train_cpu_seconds"]
    np.testing.assert_allclose(again.predictions, result.predictions, rtol=1e-5)


def test_quick_config_is_small_and_params_override_the_full_one():
    quick = tasks.task_config("modern_xception", TaskContext(True, 0, Path(".")))
    assert (quick.epochs, quick.train_size, quick.batch_size, quick.bn_momentum) == (
        tasks.QUICK_EPOCHS,
        tasks.QUICK_TRAIN_SIZE,
        tasks.QUICK_BATCH_SIZE,
        tasks.QUICK_BN_MOMENTUM,
    )
    full = tasks.task_config(
        "modern_squeezenet", TaskContext(False, 0, Path("."), params={"epochs": 2})
    )
    assert full.epochs == 2 and full.train_size is None
    assert full.flip and full.shift_fraction > 0  # augmentation in the graded run
    with pytest.raises(ValueError, match="Unknown task parameters"):
        tasks.task_config("modern_squeezenet", TaskContext(False, 0, Path("."), params={"lr": 1}))
    with pytest.raises(ValueError, match="Expected a task"):
        tasks.task_config("modern_resnet", TaskContext(False, 0, Path(".")))


def test_bn_momentum_reaches_every_batchnorm_layer():
    config = replace(CONFIGS["xception_animals3"], bn_momentum=0.9)
    norms = [
        layer
        for layer in build_model(config).layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert norms and {layer.momentum for layer in norms} == {0.9}
    with pytest.raises(ValueError, match="bn_momentum"):
        replace(config, bn_momentum=1.0)
