"""Part-3 models, pipelines and adversarial training on tiny synthetic data."""

import json

import keras
import numpy as np
import pytest

from keras_models.adversarial import STATE_FILE, AdversarialConfig, adversarial_fit, monitor_subset
from keras_models.animals6 import subsample
from keras_models.augment import augment_images, make_train_dataset, mixup
from keras_models.residual import build_default_model, build_your_model


def test_default_model_matches_the_seed_summary():
    model = build_default_model(num_classes=10)
    assert model.output_shape == (None, 10)
    assert model.count_params() == 106_538  # the seed's DefaultModel.summary()


@pytest.mark.parametrize("num_blocks", [1, 2, 3, 4])
def test_your_model_shapes(num_blocks):
    model = build_your_model(num_blocks=num_blocks, feature_maps=4, num_classes=6)
    probabilities = model.predict(np.zeros((2, 32, 32, 3), np.float32), verbose=0)
    assert probabilities.shape == (2, 6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    last_block = model.get_layer(f"block{num_blocks}_pool").output
    assert last_block.shape[-1] == 4 * 2 ** (num_blocks - 1)
    assert last_block.shape[1] == 32 // 2**num_blocks


def test_bfloat16_model_keeps_float32_probabilities_and_its_float32_copy_agrees():
    from keras_models.robust_tasks import ROBUST, _build, float32_copy

    settings = ROBUST[True]
    bf16 = _build(settings, [0.5] * 3, [0.25] * 3, "tiny", "mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after building
    assert bf16.get_layer("block1_conv1").compute_dtype == "bfloat16"
    images = np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)
    low = bf16(images, training=False)
    assert low.dtype == "float32"  # the classifier computes in float32
    copy = float32_copy(bf16, lambda: _build(settings, [0.5] * 3, [0.25] * 3, "tiny"))
    high = copy.predict(images, verbose=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(low), high, atol=0.05)
    assert not np.array_equal(keras.ops.convert_to_numpy(low), high)  # really two precisions


def test_skip_adds_exactly_the_projection_parameters():
    plain = build_your_model(num_blocks=3, feature_maps=8, use_skip=False)
    skip = build_your_model(num_blocks=3, feature_maps=8, use_skip=True)
    # per block: a 1x1 conv without bias (in * out) and a BatchNorm (4 * out)
    widths = [(3, 8), (8, 16), (16, 32)]
    expected = sum(c_in * c_out + 4 * c_out for c_in, c_out in widths)
    assert skip.count_params() - plain.count_params() == expected
    assert not any("projection" in layer.name for layer in plain.layers)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="num_blocks"):
        build_your_model(num_blocks=0)
    with pytest.raises(ValueError, match="drop_rate"):
        build_your_model(drop_rate=1.0)
    with pytest.raises(ValueError, match="one mean and one std"):
        build_your_model(channel_mean=[0.5], channel_std=[0.2])


def test_augmentation_keeps_shape_and_range():
    images = np.random.default_rng(0).random((4, 32, 32, 3)).astype(np.float32)
    out = augment_images(images).numpy()
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1


def test_mixup_mixes_images_and_labels_with_the_same_weight():
    images = np.stack([np.zeros((2, 2, 3)), np.ones((2, 2, 3))]).astype(np.float32)
    labels = np.eye(2, dtype=np.float32)
    mixed_images, mixed_labels = mixup(images, labels, alpha=0.4)
    mixed_images, mixed_labels = mixed_images.numpy(), mixed_labels.numpy()
    np.testing.assert_allclose(mixed_labels.sum(axis=1), 1.0, rtol=1e-6)
    # an image's mean brightness is the weight of the all-ones image, as is its label's 2nd entry
    np.testing.assert_allclose(mixed_images.mean(axis=(1, 2, 3)), mixed_labels[:, 1], atol=1e-6)
    with pytest.raises(ValueError, match="alpha > 0"):
        mixup(images, labels, alpha=0.0)


def test_train_dataset_covers_every_example_once_per_epoch():
    images = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1) * np.ones((1, 4, 4, 3))
    labels = np.arange(10) % 3
    seen = np.concatenate(
        [
            x.numpy()[:, 0, 0, 0]
            for x, _ in make_train_dataset(
                images.astype(np.float32), labels, num_classes=3, batch_size=4
            )
        ]
    )
    assert sorted(seen.tolist()) == list(range(10))


def test_subsample_is_stratified_and_seeded():
    labels = np.repeat(np.arange(3), 10)
    x, y = subsample(np.arange(30), labels, 4, seed=1)
    assert np.bincount(y).tolist() == [4, 4, 4]
    assert np.array_equal(x, subsample(np.arange(30), labels, 4, seed=1)[0])


def _brightness_task():
    """256 seeded 8x8 images whose class is their brightness (0.3 or 0.7), and a builder of a
    mean-brightness classifier (global average pooling + softmax)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 256)
    images = np.clip(
        0.3 + 0.4 * labels[:, None, None, None] + rng.normal(0, 0.05, (256, 8, 8, 3)), 0, 1
    ).astype(np.float32)

    def build():
        return keras.Sequential(
            [
                keras.Input((8, 8, 3)),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )

    return images, labels, build


def test_adversarial_fit_trains_checkpoints_and_resumes(tmp_path):
    images, labels, build = _brightness_task()
    first = AdversarialConfig(epochs=1, batch_size=32, steps=2, learning_rate=0.05, monitor_size=16)
    model, history, _ = adversarial_fit(
        build, tmp_path / "run", images, labels, first, validation=(images, labels)
    )
    assert set(history) == {"loss", "train_accuracy", "val_accuracy", "val_pgd_accuracy"}
    # the custom loop logs to TensorBoard like model.fit does: train and validation scalars
    for split in ("train", "validation"):
        assert list((tmp_path / "run" / "tensorboard" / split).glob("events.out.tfevents*"))
    # a longer run with the same settings except epochs starts over (settings differ) ...
    state = json.loads((tmp_path / "run" / STATE_FILE).read_text())
    assert state["epochs_done"] == 1
    # ... while an interrupted run of the same settings resumes after its last epoch
    second = AdversarialConfig(epochs=3, batch_size=32, steps=2, learning_rate=0.05, monitor_size=0)
    run_dir = tmp_path / "resume"
    run_dir.mkdir()
    (run_dir / STATE_FILE).write_text(
        json.dumps({**state, "config": second.__dict__, "history": {"loss": [9.0]}})
    )
    model.save(run_dir / "checkpoint.keras")
    _, resumed, _ = adversarial_fit(build, run_dir, images, labels, second)
    assert len(resumed["loss"]) == 3 and resumed["loss"][0] == 9.0
    assert resumed["loss"][2] < resumed["loss"][1]  # the restored optimizer keeps learning
    loaded, again, _ = adversarial_fit(build, run_dir, images, labels, second)
    assert again == resumed and loaded.count_params() == model.count_params()


def test_cosine_decay_brings_the_learning_rate_to_zero_by_the_last_step(tmp_path):
    images = np.random.default_rng(0).random((64, 4, 4, 3)).astype(np.float32)
    labels = np.arange(64) % 2

    def build():
        return keras.Sequential(
            [keras.Input((4, 4, 3)), keras.layers.Flatten(), keras.layers.Dense(2, "softmax")]
        )

    config = AdversarialConfig(
        epochs=2, batch_size=16, steps=1, learning_rate=0.01, cosine_decay=True, monitor_size=0
    )
    model, _, _ = adversarial_fit(build, tmp_path, images, labels, config)
    assert int(model.optimizer.iterations) == 8
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
    constant, _, _ = adversarial_fit(
        build,
        tmp_path / "constant",
        images,
        labels,
        AdversarialConfig(**{**config.__dict__, "cosine_decay": False}),
    )
    assert float(constant.optimizer.learning_rate) == pytest.approx(0.01)


def test_clean_warm_start_trains_on_clean_images_then_on_pgd_ones(tmp_path):
    images, labels, build = _brightness_task()
    # eps 0.5 lets the attack move every image to the other class's brightness
    config = AdversarialConfig(
        epochs=1,
        clean_epochs=3,
        batch_size=32,
        epsilon=0.5,
        steps=5,
        step_size=0.2,
        learning_rate=0.3,
        cosine_decay=True,
        monitor_size=0,
    )
    model, history, _ = adversarial_fit(build, tmp_path, images, labels, config)
    accuracy = history["train_accuracy"]
    assert len(accuracy) == 4
    assert accuracy[2] > 0.9  # the clean epochs learn the brightness rule ...
    assert accuracy[3] < 0.5  # ... which the attack then breaks on the PGD batches
    assert int(model.optimizer.iterations) == 4 * 8
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)
    schedule = keras.optimizers.schedules.deserialize(model.optimizer.get_config()["learning_rate"])
    # constant through the 24 clean steps, then the cosine decay over the 8 PGD steps
    assert [float(schedule(step)) for step in (0, 23, 24)] == pytest.approx([0.3] * 3)
    assert float(schedule(28)) == pytest.approx(0.15)


def test_pgd_monitor_attacks_every_class_of_a_class_ordered_split():
    labels = np.repeat(np.arange(6), 500)  # load_animals6's validation split is ordered so
    chosen = monitor_subset(labels, 500, seed=0)
    assert len(chosen) == len(set(chosen.tolist())) == 500
    counts = np.bincount(labels[chosen], minlength=6)
    assert counts.min() >= 83 and counts.max() <= 84  # every class, in proportion
    assert np.array_equal(chosen, monitor_subset(labels, 500, seed=0))  # seeded
    assert np.array_equal(monitor_subset(labels[:10], 50), np.arange(10))  # small: all
