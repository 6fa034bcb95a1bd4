"""The speedrun pieces: whitening layer, identity init, scaled biases, schedule,
weight averaging, alternating flips, data pipeline, test-time augmentation, a tiny fit."""

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np
import pytest

from keras_models.speedrun import (
    LookaheadAveraging,
    PartialIdentity,
    ScaledBias,
    SpeedrunConfig,
    TriangularSchedule,
    alternating_flip_mask,
    build_speedrun_cnn,
    dtype_policy,
    make_training_data,
    model_precision,
    parse_overrides,
    patch_whitening_kernel,
    predict_with_tta,
    resolve_precision,
    train_speedrun,
)


def _correlated_images(n=200, size=16, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.random((n, size, size, 1))
    # Strongly correlated channels and neighbouring pixels, as in photos.
    images = np.concatenate([base, 0.8 * base + 0.2 * rng.random(base.shape), base**2], axis=-1)
    return (images + np.roll(images, 1, axis=2)).astype(np.float32) / 2


def test_whitening_layer_decorrelates_patches():
    images = _correlated_images()
    model = build_speedrun_cnn(images, widths=(4, 4, 4))
    whitened = model.get_layer("whiten")(model.get_layer("standardize")(images)).numpy()
    features = whitened[..., :12].reshape(-1, 12)
    covariance = np.cov(features, rowvar=False)
    np.testing.assert_allclose(covariance, np.eye(12), atol=0.05)
    np.testing.assert_allclose(whitened[..., 12:], -whitened[..., :12], atol=1e-5)
    assert not model.get_layer("whiten").trainable


def test_identity_init_passes_the_input_channels_through():
    kernel = PartialIdentity(seed=1)((3, 3, 4, 6)).numpy()
    image = np.random.default_rng(0).random((1, 8, 8, 4)).astype(np.float32)
    output = keras.ops.conv(image, kernel, padding="same").numpy()
    np.testing.assert_allclose(output[..., :4], image, atol=1e-6)
    rest = kernel[..., 4:]
    assert np.abs(rest).max() <= 1 / np.sqrt(36) and rest.std() > 0.05


def test_scaled_bias_moves_multiplier_squared_faster_under_sgd():
    inputs = np.zeros((4, 3), np.float32)
    targets = np.ones((4, 3), np.float32)
    moved = {}
    for multiplier in (1.0, 8.0):
        model = keras.Sequential([keras.Input((3,)), ScaledBias(multiplier)])
        model.compile(optimizer=keras.optimizers.SGD(1e-4), loss="mse")
        model.train_on_batch(inputs, targets)
        moved[multiplier] = model.predict(inputs, verbose=0)[0, 0]
    np.testing.assert_allclose(moved[8.0] / moved[1.0], 64.0, rtol=1e-3)


def test_triangular_schedule_rises_then_falls_linearly():
    schedule = TriangularSchedule(2.0, total_steps=200, warmup_fraction=0.25)
    values = np.array([float(schedule(step)) for step in range(201)])
    assert values[0] == pytest.approx(0.4) and values.argmax() == 50
    assert values[50] == pytest.approx(2.0) and values[200] == pytest.approx(0.14)
    np.testing.assert_allclose(np.diff(values[:50]), 1.6 / 50, rtol=1e-4)
    np.testing.assert_allclose(np.diff(values[50:]), -1.86 / 150, rtol=1e-4)
    with pytest.raises(ValueError, match="total_steps"):
        TriangularSchedule(1.0, total_steps=1)


def test_lookahead_keeps_the_moving_average_and_hands_it_to_the_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    callback = LookaheadAveraging(total_steps=20, start_step=10, every=5)
    callback.set_model(model)
    first = [w.copy() for w in model.get_weights()]
    model.optimizer.iterations.assign(10)
    callback.on_train_batch_end(0)  # the average starts from the weights at step 10
    model.set_weights([w + 1.0 for w in first])
    model.optimizer.iterations.assign(12)
    callback.on_train_batch_end(0)  # not a multiple of 5: nothing happens
    np.testing.assert_allclose(model.get_weights()[0], first[0] + 1.0)
    model.optimizer.iterations.assign(15)
    callback.on_train_batch_end(0)
    rho = 0.95**5 * (15 / 20) ** 3
    for weight, start in zip(model.get_weights(), first):
        np.testing.assert_allclose(weight, start + (1 - rho), rtol=1e-6)
    model.set_weights([w + 5.0 for w in first])
    callback.on_epoch_end(0)
    for weight, start in zip(model.get_weights(), first):
        np.testing.assert_allclose(weight, start + (1 - rho), rtol=1e-6)


def test_test_time_augmentation_weighs_six_views():
    rng = np.random.default_rng(0)
    images = rng.random((5, 6, 6, 1)).astype(np.float32)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )

    def plain(batch):
        return model.predict(batch, verbose=0).astype(np.float64)

    def mirror(batch):
        return (plain(batch) + plain(batch[:, :, ::-1])) / 2

    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    expected = mirror(images) / 2 + (mirror(padded[:, :6, :6]) + mirror(padded[:, 2:, 2:])) / 4
    np.testing.assert_allclose(predict_with_tta(model, images, level=2), expected, rtol=1e-6)
    np.testing.assert_allclose(predict_with_tta(model, images, level=1), mirror(images))
    np.testing.assert_allclose(predict_with_tta(model, images, level=0), plain(images))
    unmirrored = plain(images) / 2 + (plain(padded[:, :6, :6]) + plain(padded[:, 2:, 2:])) / 4
    np.testing.assert_allclose(
        predict_with_tta(model, images, level=2, mirror=False), unmirrored, rtol=1e-6
    )
    np.testing.assert_allclose(
        predict_with_tta(model, images, level=1, mirror=False), plain(images)
    )
    with pytest.raises(ValueError, match="level 0, 1 or 2"):
        predict_with_tta(model, images, level=3)


def test_bfloat16_network_still_outputs_float32_probabilities():
    with dtype_policy("mixed_bfloat16"):
        model = build_speedrun_cnn(_correlated_images(16, size=32), widths=(8, 8, 8))
    assert keras.mixed_precision.global_policy().name == "float32"
    assert model.get_layer("block0_conv0").compute_dtype == "bfloat16"
    assert model_precision(model) == "mixed_bfloat16"
    probabilities = model.predict(_correlated_images(4, size=32), verbose=0)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


def test_dtype_policy_is_restored_when_the_block_raises():
    with pytest.raises(RuntimeError, match="inside"):
        with dtype_policy("mixed_bfloat16"):
            assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
            raise RuntimeError("inside")
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize("activation", ["silu", "relu"])
def test_activation_setting_reaches_every_activation_layer(activation):
    images = _correlated_images(16, size=16)
    model = build_speedrun_cnn(images, widths=(4, 4, 4), activation=activation)
    functions = {
        layer.activation.__name__
        for layer in model.layers
        if isinstance(layer, keras.layers.Activation)
    }
    assert functions == {activation}
    inputs = model.get_layer("block0_bn0").output
    probe = keras.Model(model.inputs, [inputs, model.get_layer("block0_act0").output])
    before, after = probe.predict(images, verbose=0)
    expected = keras.activations.get(activation)(model.get_layer("block0_shift0")(before)).numpy()
    np.testing.assert_allclose(after, expected, atol=1e-5)
    with pytest.raises(ValueError, match="activation in"):
        build_speedrun_cnn(images, widths=(4, 4, 4), activation="tanh")
    assert SpeedrunConfig(activation="silu").digest() != SpeedrunConfig().digest()


def test_settings_are_checked():
    assert resolve_precision("auto") in ("float32", "mixed_bfloat16")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("float16")
    assert parse_overrides(["batch_size=512", "tta_level=1"]) == {"batch_size": 512, "tta_level": 1}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_overrides(["no_such_setting=1"])
    with pytest.raises(ValueError, match="true or false"):
        parse_overrides(["lookahead=maybe"])
    assert SpeedrunConfig(epochs=3).digest() != SpeedrunConfig().digest()


def test_whitening_rejects_flat_images():
    with pytest.raises(ValueError, match="height, width, channels"):
        patch_whitening_kernel(np.zeros((4, 32, 32)))
    with pytest.raises(ValueError, match="3 block widths"):
        build_speedrun_cnn(_correlated_images(8), widths=(4, 4))
    with pytest.raises(ValueError, match="vary in every channel"):
        build_speedrun_cnn(np.zeros((4, 16, 16, 1), np.float32), widths=(4, 4, 4))
    with pytest.raises(ValueError, match="finite"):
        build_speedrun_cnn(np.full((4, 16, 16, 1), np.nan, np.float32), widths=(4, 4, 4))
    with pytest.raises(ValueError, match=">= 16"):
        build_speedrun_cnn(_correlated_images(8, size=8), widths=(4, 4, 4))


def test_grey_scale_digits_get_a_one_channel_network():
    images = _correlated_images(32, size=28)[..., :1]
    model = build_speedrun_cnn(images, widths=(4, 8, 8), name="mnist_speedrun")
    assert model.input_shape == (None, 28, 28, 1) and model.name == "mnist_speedrun"
    assert model.get_layer("whiten").kernel.shape == (2, 2, 1, 8)
    assert model.predict(images[:2], verbose=0).shape == (2, 10)


def test_each_image_is_mirrored_in_exactly_one_of_two_consecutive_epochs():
    masks = [alternating_flip_mask(1000, epoch, seed=3) for epoch in range(4)]
    assert np.all(masks[0] ^ masks[1]) and np.all(masks[1] ^ masks[2])
    assert 0.45 < masks[0].mean() < 0.55


def test_pipeline_yields_every_image_once_per_epoch_flipped_on_schedule():
    n, batch = 10, 4
    images = np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 3, 1))
    images[:, :, 0, :] += 100  # the left column marks whether an image is mirrored
    labels = np.arange(n) % 3
    data = make_training_data(
        images, labels, epochs=2, batch_size=batch, num_classes=3, translate_pixels=0, seed=1
    )
    batches = [(x.numpy(), y.numpy()) for x, y in data]
    assert [len(x) for x, _ in batches] == [4, 4, 2, 4, 4, 2]
    for epoch in range(2):
        x = np.concatenate([b[0] for b in batches[3 * epoch : 3 * epoch + 3]])
        y = np.concatenate([b[1] for b in batches[3 * epoch : 3 * epoch + 3]])
        index = (x[:, 0, 1, 0]).astype(int)  # the middle column holds the image's index
        assert sorted(index) == list(range(n))
        np.testing.assert_array_equal(y.argmax(-1), labels[index])
        mirrored = x[:, 0, 2, 0] >= 100
        np.testing.assert_array_equal(mirrored, alternating_flip_mask(n, epoch, 1)[index])
    unmirrored = make_training_data(
        images, labels, epochs=2, batch_size=batch, num_classes=3, translate_pixels=0, mirror=False
    )
    x = np.concatenate([x.numpy() for x, _ in unmirrored])
    assert len(x) == 2 * n and not np.any(x[:, 0, 2, 0] >= 100)


def test_the_shifted_pipeline_repeats_batch_for_batch_with_one_seed():
    # The seeded RandomTranslation draws from one stateful generator: in a parallel map,
    # thread timing decided which batch got which shift, so two runs differed.
    rng = np.random.default_rng(0)
    images, labels = rng.random((256, 16, 16, 1)).astype(np.float32), np.arange(256) % 10

    def batches(translate_pixels=2):
        data = make_training_data(
            images, labels, epochs=2, batch_size=8, translate_pixels=translate_pixels, seed=3
        )
        return np.concatenate([x.numpy() for x, _ in data])

    first, second = batches(), batches()
    assert not np.array_equal(first, batches(translate_pixels=0))  # the shifts are there
    np.testing.assert_array_equal(first, second)


def test_two_tiny_runs_with_one_seed_train_identically(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.arange(128) % 2
    images = rng.random((128, 16, 16, 3)).astype(np.float32)
    config = SpeedrunConfig(
        widths=(4, 4, 4), epochs=3, batch_size=16, whitening_images=32, precision="float32"
    )
    assert config.translate_pixels > 0
    losses = [
        train_speedrun(config, tmp_path / run, images, labels, verbose=0)[1]["loss"]
        for run in ("first", "second")
    ]
    assert losses[0] == losses[1]


def test_a_tiny_run_learns_and_resumes_from_its_cache(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(256) % 2
    images = rng.random((256, 32, 32, 3)).astype(np.float32) * 0.5
    images[labels == 1, :, :, 0] += 0.5  # class 1 is redder
    config = SpeedrunConfig(
        widths=(8, 8, 8),
        epochs=6,
        batch_size=32,
        whitening_images=64,
        lookahead_start_epoch=2,
        precision="float32",
    )
    model, history, seconds = train_speedrun(config, tmp_path, images, labels, verbose=0)
    assert len(history["loss"]) == 6 and history["loss"][-1] < history["loss"][0]
    assert (model.predict(images, verbose=0).argmax(-1) == labels).mean() > 0.9
    again, _, cached_seconds = train_speedrun(config, tmp_path, images, labels, verbose=0)
    assert cached_seconds == seconds
    np.testing.assert_allclose(
        again.predict(images[:8], verbose=0), model.predict(images[:8], verbose=0), atol=1e-6
    )


def test_hold_out_cli_trains_and_prints_its_scores(monkeypatch, tmp_path, capsys):
    import json
    import types

    import a2common.data

    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    split = types.SimpleNamespace(x=(rng.random((200, 28, 28)) * 255).astype(np.uint8), y=labels)
    loaded = []

    def fake_load(name):
        loaded.append(name)
        return types.SimpleNamespace(train=split)

    monkeypatch.setattr(a2common.data, "load_dataset", fake_load)
    from keras_models import speedrun

    settings = ["epochs=2", "widths=8,8,8", "precision=float32", "mirror=false"]
    speedrun.main(["--set", *settings, "--dataset", "mnist", "--run-dir", str(tmp_path)])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert loaded == ["mnist"] and printed["dataset"] == "mnist"
    assert printed["epochs"] == 2 and printed["widths"] == [8, 8, 8] and not printed["mirror"]
    assert all(0 <= printed[f"hold_out_accuracy_tta{level}"] <= 1 for level in (0, 1, 2))
    # Without mirroring, level 1 (image + mirror) is the plain prediction.
    assert printed["hold_out_accuracy_tta1"] == printed["hold_out_accuracy_tta0"]
    assert printed["train_seconds"] > 0 and printed["precision_used"] == "float32"
    digest = SpeedrunConfig(**speedrun.parse_overrides(settings)).digest()
    assert (tmp_path / f"mnist-{digest}_s0" / "model.keras").is_file()
    with pytest.raises(SystemExit):
        speedrun.main(["--set", "epochs"])
    with pytest.raises(SystemExit):
        speedrun.main(["--dataset", "imagenet"])
