"""The training path end to end on a few random images: pipeline, schedule, resume, outputs."""

from dataclasses import replace

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import numpy as np
import pytest

from a2common.data import Dataset, Split
from modern_convnets.training import (
    CONFIGS,
    TrainConfig,
    build_augmentation,
    build_model,
    learning_rate_schedule,
    make_pipeline,
    train,
)


def _random_dataset(seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)

    def split(n: int) -> Split:
        return Split(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n))

    return Dataset("random", split(48), split(12), None, [f"c{i}" for i in range(10)], {})


def test_evaluation_pipeline_keeps_the_loader_order_and_scales_to_unit_range():
    images = np.arange(3 * 2 * 2 * 3, dtype=np.uint8).reshape(3, 2, 2, 3) * 20
    batches = list(make_pipeline(images, np.array([2, 0, 1]), batch_size=2))
    np.testing.assert_allclose(np.concatenate([x for x, _ in batches]), images / 255.0, rtol=1e-6)
    assert np.concatenate([y for _, y in batches]).tolist() == [2, 0, 1]
    ((_, one_hot),) = make_pipeline(images[:1], np.array([2]), 1, num_classes=3)
    assert one_hot.numpy().tolist() == [[0.0, 0.0, 1.0]]
    with pytest.raises(ValueError, match="Expected uint8 images"):
        make_pipeline(images.astype("float32"), np.zeros(3), 2)


def test_training_pipeline_augments_with_flips_and_shifts():
    config = TrainConfig("squeezenet", flip=True, shift_fraction=0.25)
    images = np.zeros((8, 8, 8, 3), np.uint8)
    images[:, :, :4] = 255  # left half white: a flip or a shift changes the image
    augmented = np.concatenate(
        [
            x
            for x, _ in make_pipeline(
                images, np.zeros(8), 8, training=True, augmentation=build_augmentation(config)
            )
        ]
    )
    assert augmented.shape == (8, 8, 8, 3) and 0.0 <= augmented.min() <= augmented.max() <= 1.0
    assert not np.allclose(augmented, images / 255.0)
    assert build_augmentation(replace(config, flip=False, shift_fraction=0.0)) is None


def test_training_pipeline_repeats_batch_for_batch_with_one_seed():
    # Seeded random layers in a parallel map drew in thread order: two runs differed.
    config = TrainConfig("squeezenet", flip=True, shift_fraction=0.25)
    images = np.random.default_rng(0).integers(0, 256, (256, 8, 8, 3), dtype=np.uint8)

    def batches():
        pipeline = make_pipeline(
            images, np.zeros(256), 8, training=True, seed=1, augmentation=build_augmentation(config)
        )
        return np.concatenate([x for x, _ in pipeline])

    np.testing.assert_array_equal(batches(), batches())


def test_learning_rate_warms_up_then_decays_to_almost_zero():
    schedule = learning_rate_schedule(
        TrainConfig("xception", epochs=10, warmup_epochs=2, peak_learning_rate=0.1),
        steps_per_epoch=10,
    )
    rates = [float(schedule(step)) for step in range(100)]
    assert rates[0] == pytest.approx(0.01)
    assert max(rates) == pytest.approx(0.1, rel=1e-3) and int(np.argmax(rates)) == 20
    assert rates[-1] < 0.002


def test_configs_build_for_their_datasets():
    for name, config in CONFIGS.items():
        size, classes = (64, 3) if config.dataset == "animals3" else (32, 10)
        model = build_model(config)
        assert (model.input_shape, model.output_shape) == (
            (None, size, size, 3),
            (None, classes),
        ), name
    with pytest.raises(ValueError, match="Expected architecture"):
        TrainConfig("resnet")
    with pytest.raises(ValueError, match="Expected dataset"):
        TrainConfig("xception", dataset="imagenet")


def test_smoke_fit_resumes_from_cache_and_returns_test_probabilities(tmp_path):
    # the smallest model of the package: tracing the training step dominates the test's time
    config = replace(
        CONFIGS["squeezenet_cifar10"],
        epochs=2,
        batch_size=16,
        model_kwargs={
            **CONFIGS["squeezenet_cifar10"].model_kwargs,
            "width_multiplier": 0.125,
            "batch_norm": False,
            "bypass": False,
        },
    )
    data = _random_dataset()
    run = train(config, tmp_path, data=data, verbose=0)
    assert not run.from_cache
    assert run.test_probabilities.shape == (12, 10)
    np.testing.assert_allclose(run.test_probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert len(run.history["loss"]) == 2 and np.isfinite(run.history["loss"]).all()
    assert run.details["epochs"] == 2 and run.details["train_size"] == 48
    again = train(config, tmp_path, data=data, verbose=0)
    assert again.from_cache
    np.testing.assert_allclose(again.test_probabilities, run.test_probabilities, rtol=1e-5)
