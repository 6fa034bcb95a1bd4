"""The CIFAR-10 speedrun pieces: whitening layer, alternating flips, data pipeline, a tiny fit."""

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import numpy as np
import pytest

from keras_models.cifar_speedrun import (
    SpeedrunConfig,
    alternating_flip_mask,
    build_speedrun_cnn,
    make_training_data,
    patch_whitening_kernel,
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


def test_whitening_rejects_flat_images():
    with pytest.raises(ValueError, match="height, width, channels"):
        patch_whitening_kernel(np.zeros((4, 32, 32)))
    with pytest.raises(ValueError, match="3 block widths"):
        build_speedrun_cnn(_correlated_images(8), widths=(4, 4))


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


def test_a_tiny_run_learns_and_resumes_from_its_cache(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(256) % 2
    images = rng.random((256, 32, 32, 3)).astype(np.float32) * 0.5
    images[labels == 1, :, :, 0] += 0.5  # class 1 is redder
    config = SpeedrunConfig(widths=(8, 8, 8), epochs=6, batch_size=32, whitening_images=64)
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
    split = types.SimpleNamespace(x=(rng.random((200, 32, 32, 3)) * 255).astype(np.uint8), y=labels)
    monkeypatch.setattr(
        a2common.data, "load_dataset", lambda name: types.SimpleNamespace(train=split)
    )
    from keras_models import cifar_speedrun

    cifar_speedrun.main(["--epochs", "2", "--widths", "8", "8", "8", "--run-dir", str(tmp_path)])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["epochs"] == 2 and printed["widths"] == [8, 8, 8]
    assert 0 <= printed["hold_out_accuracy"] <= 1 and printed["train_seconds"] > 0
    assert (tmp_path / "8_8_8_e2_s0" / "model.keras").is_file()
