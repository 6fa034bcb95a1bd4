"""The same CNN in both frameworks: same parameters, same logits for the same weights; it learns."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from a2common.grading import TaskContext
from lightning_cnn.config import CNNConfig, TrainConfig, warmup_cosine_factor
from lightning_cnn.lightning_data import Animals3DataModule
from lightning_cnn.lightning_model import Animals3Classifier, build_torch_cnn, mixup_batch
from lightning_cnn.torch_pooling import GeneralizedMeanPool2d

SMALL = CNNConfig(channels=(4, 8, 8), dropout=0.0)


def copy_torch_weights_to_keras(network: torch.nn.Sequential, model) -> None:
    """Port every conv / BN / GeM / dense weight (PyTorch order -> Keras order)."""
    import keras

    torch_layers = [
        m
        for m in network.modules()
        if isinstance(
            m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear, GeneralizedMeanPool2d)
        )
    ]
    keras_layers = [
        layer
        for layer in model.layers
        if isinstance(
            layer, (keras.layers.Conv2D, keras.layers.BatchNormalization, keras.layers.Dense)
        )
        or "gem" in layer.name
    ]
    assert len(torch_layers) == len(keras_layers)
    for source, target in zip(torch_layers, keras_layers):
        if isinstance(source, torch.nn.Conv2d):
            target.set_weights([source.weight.detach().permute(2, 3, 1, 0).numpy()])
        elif isinstance(source, torch.nn.BatchNorm2d):
            target.set_weights(
                [
                    t.detach().numpy()
                    for t in (source.weight, source.bias, source.running_mean, source.running_var)
                ]
            )
        elif isinstance(source, torch.nn.Linear):
            target.set_weights([source.weight.detach().T.numpy(), source.bias.detach().numpy()])
        else:
            target.set_weights([source.p.detach().numpy()])


@pytest.mark.parametrize("pooling", ["max", "gem"])
def test_keras_and_torch_networks_compute_the_same_function(pooling):
    from lightning_cnn.keras_model import build_keras_cnn

    config = CNNConfig(channels=(4, 8, 8), pooling=pooling, gem_p=2.5)
    torch.manual_seed(0)
    mean, std = [0.4, 0.5, 0.6], [0.2, 0.25, 0.3]
    module = Animals3Classifier(config, mean, std).eval()
    for bn in (m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.running_mean.uniform_(-0.1, 0.1)  # non-trivial statistics, so they must match too
        bn.running_var.uniform_(0.5, 1.5)
    keras_model = build_keras_cnn(config, mean, [s**2 for s in std], shift_px=0)
    copy_torch_weights_to_keras(module.network, keras_model)
    keras_trainable = sum(int(np.prod(w.shape)) for w in keras_model.trainable_weights)
    assert keras_trainable == sum(p.numel() for p in module.parameters())

    images = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3)).astype(np.float32)
    keras_logits = keras_model.predict(images, verbose=0)
    with torch.no_grad():
        torch_logits = module(torch.from_numpy(images / 255.0).permute(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(keras_logits, torch_logits, rtol=1e-4, atol=1e-4)


def test_keras_weights_start_from_the_pytorch_initialisation():
    """Same bounds and spread per layer: U(+-1/sqrt(fan_in)) kernels, the dense bias too."""
    import keras

    from lightning_cnn.keras_model import build_keras_cnn

    config = CNNConfig()
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)
    torch_weights = [
        (m.weight.detach().numpy(), m.weight[0].numel())
        for m in build_torch_cnn(config).modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    keras_model = build_keras_cnn(config, [0.5] * 3, [0.06] * 3)
    keras_kernels = [
        layer.kernel.numpy()
        for layer in keras_model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    ]
    assert len(keras_kernels) == len(torch_weights) == len(config.channels) + 1
    for kernel, (torch_weight, fan_in) in zip(keras_kernels, torch_weights):
        bound = fan_in**-0.5
        assert np.abs(kernel).max() <= bound
        assert np.abs(kernel).max() > 0.95 * bound  # the whole interval is used
        np.testing.assert_allclose(kernel.std(), torch_weight.std(), rtol=0.1)
    bias = keras_model.get_layer("logits").bias.numpy()
    assert 0 < np.abs(bias).max() <= config.channels[-1] ** -0.5


def test_default_network_shapes_and_size():
    network = build_torch_cnn(CNNConfig())
    assert network(torch.rand(2, 3, 64, 64)).shape == (2, 3)
    assert sum(p.numel() for p in network.parameters()) < 2_000_000
    gem = Animals3Classifier(CNNConfig(pooling="gem"))
    assert gem.gem_exponents() == [3.0] * 4


def _check_mixup(images: np.ndarray, targets: np.ndarray, originals: np.ndarray) -> None:
    """Each image of class k was the constant k: a blend must equal its label blend's mean."""
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    expected = targets @ np.arange(targets.shape[1], dtype=np.float32)
    np.testing.assert_allclose(images.reshape(len(images), -1).mean(axis=1), expected, atol=1e-5)
    assert not np.allclose(images, originals)  # something was blended
    assert np.all((targets > 0).sum(axis=1) <= 2)  # two labels at most


def test_mixup_blends_images_and_labels_alike_in_both_frameworks():
    import tensorflow as tf

    from lightning_cnn.keras_model import with_mixup

    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    images = np.broadcast_to(labels[:, None, None, None], (8, 8, 8, 3)).astype(np.float32)
    torch.manual_seed(0)
    mixed, targets = mixup_batch(
        torch.from_numpy(images).permute(0, 3, 1, 2), torch.from_numpy(labels), 3, 0.4
    )
    _check_mixup(mixed.numpy(), targets.numpy(), images.transpose(0, 3, 1, 2))
    batches = tf.data.Dataset.from_tensors((images, np.eye(3, dtype=np.float32)[labels]))
    keras_images, keras_targets = next(iter(with_mixup(batches, 0.4, seed=0)))
    _check_mixup(keras_images.numpy(), keras_targets.numpy(), images)
    with pytest.raises(ValueError, match="alpha > 0"):
        mixup_batch(mixed, torch.from_numpy(labels), 3, 0.0)
    with pytest.raises(ValueError, match="cutout_px >= 0 and mixup_alpha >= 0"):
        TrainConfig(mixup_alpha=-0.1)


def test_keras_mixup_repeats_batch_for_batch_with_one_seed():
    # The seeded MixUp draws from one stateful generator: in a parallel map, thread timing
    # decided which batch got which blend, so two graded runs of one seed differed.
    import tensorflow as tf

    from lightning_cnn.keras_model import with_mixup

    rng = np.random.default_rng(0)
    images = rng.random((256, 8, 8, 3)).astype(np.float32)
    targets = np.eye(3, dtype=np.float32)[np.arange(256) % 3]

    def batches():
        dataset = tf.data.Dataset.from_tensor_slices((images, targets)).batch(8)
        return np.concatenate([x.numpy() for x, _ in with_mixup(dataset, 0.4, seed=1)])

    np.testing.assert_array_equal(batches(), batches())


def test_schedule_warms_up_then_decays_to_zero():
    factors = [warmup_cosine_factor(step, 100, 20) for step in range(101)]
    assert factors[0] == pytest.approx(0.04) and factors[20] == pytest.approx(1.0)
    assert factors[100] == pytest.approx(0.0, abs=1e-12)
    assert max(factors) == factors[20]


def test_a_few_lightning_steps_reduce_the_loss(tiny_release):
    L.seed_everything(0, verbose=False)
    datamodule = Animals3DataModule(tiny_release, batch_size=12, shift_px=0)
    datamodule.setup("fit")
    batch = next(iter(datamodule.train_dataloader()))
    model = Animals3Classifier(SMALL, learning_rate=1e-2, weight_decay=0.0, warmup_fraction=0.0)

    def loss_on_batch() -> float:  # training-mode BatchNorm: 15 steps barely move running stats
        model.train()
        with torch.no_grad():
            return torch.nn.functional.cross_entropy(model(batch[0]), batch[1]).item()

    before = loss_on_batch()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*batch), batch_size=12)
    trainer = L.Trainer(
        max_epochs=15,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_train_batches=1,
        limit_val_batches=0,
    )
    trainer.fit(model, train_dataloaders=loader)
    assert loss_on_batch() < 0.8 * before


def test_a_few_keras_steps_reduce_the_loss(tiny_release):
    import keras

    from lightning_cnn.keras_model import build_keras_cnn, compile_model, load_split

    keras.utils.set_random_seed(0)
    train = load_split(tiny_release, "train", batch_size=12, shuffle=False).take(1).cache()
    config = TrainConfig(
        cnn=SMALL,
        epochs=15,
        learning_rate=1e-2,
        weight_decay=0.0,
        warmup_fraction=0.0,
        label_smoothing=0.0,
    )
    model = compile_model(build_keras_cnn(SMALL, [0.5] * 3, [0.06] * 3), config, steps_per_epoch=1)
    history = model.fit(train, epochs=15, verbose=0).history["loss"]  # training-mode losses
    assert history[-1] < 0.8 * history[0]


def test_test_time_flip_makes_predictions_mirror_invariant_in_both_frameworks():
    import tensorflow as tf

    from lightning_cnn.keras_model import build_keras_cnn, predict_probabilities

    torch.manual_seed(0)
    images = torch.rand(4, 3, 64, 64)
    batch, mirrored = (images, torch.zeros(4)), (images.flip(-1), torch.zeros(4))
    module = Animals3Classifier(SMALL, test_time_flip=True).eval()
    plain = Animals3Classifier(SMALL).eval()
    plain.load_state_dict(module.state_dict())
    with torch.no_grad():
        averaged = module.predict_step(batch, 0)
        torch.testing.assert_close(averaged, module.predict_step(mirrored, 0))
        expected = (plain.predict_step(batch, 0) + plain.predict_step(mirrored, 0)) / 2
        torch.testing.assert_close(averaged, expected)
        assert not torch.allclose(plain.predict_step(batch, 0), averaged)

    model = build_keras_cnn(SMALL, [0.5] * 3, [0.06] * 3)
    pixels = images.permute(0, 2, 3, 1).numpy() * 255

    def dataset(array: np.ndarray) -> tf.data.Dataset:
        return tf.data.Dataset.from_tensor_slices((array, np.zeros(4))).batch(2)

    keras_averaged = predict_probabilities(model, dataset(pixels), test_time_flip=True)
    keras_mirrored = predict_probabilities(model, dataset(pixels[:, :, ::-1]), test_time_flip=True)
    np.testing.assert_allclose(keras_averaged, keras_mirrored, rtol=1e-5, atol=1e-6)
    assert not np.allclose(predict_probabilities(model, dataset(pixels)), keras_averaged)


def test_lightning_task_trains_then_loads_from_cache(tiny_release, tmp_path):
    from lightning_cnn.tasks import grade_lightning_cnn

    ctx = TaskContext(
        quick=True,
        seed=0,
        work_dir=tmp_path / "work",
        params={"release_dir": str(tiny_release), "epochs": 1, "progress": False, "num_threads": 1},
    )
    first = grade_lightning_cnn(ctx)
    assert first.predictions.shape == (12, 3) and first.epochs == 1
    np.testing.assert_allclose(first.predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert first.details["test_images"] == 12 and not first.card.missing_sections()
    assert (tmp_path / "work" / first.model_files[0]).is_file()
    assert (tmp_path / "work" / "checkpoints" / "last.ckpt").is_file()
    assert list((tmp_path / "work" / "tensorboard").rglob("events.out.tfevents*"))
    second = grade_lightning_cnn(ctx)
    np.testing.assert_allclose(second.predictions, first.predictions, rtol=1e-5)
    assert second.train_seconds == pytest.approx(first.train_seconds)


def test_keras_task_trains_then_loads_from_cache(tiny_release, tmp_path):
    from lightning_cnn.tasks import grade_keras_cnn

    ctx = TaskContext(
        quick=True,
        seed=0,
        work_dir=tmp_path / "work",
        params={"release_dir": str(tiny_release), "epochs": 1, "progress": False, "pooling": "gem"},
    )
    first = grade_keras_cnn(ctx)
    assert first.predictions.shape == (12, 3) and first.details["gem_p"]
    assert (tmp_path / "work" / "model.keras").is_file()
    second = grade_keras_cnn(ctx)
    np.testing.assert_allclose(second.predictions, first.predictions, rtol=1e-5)


def test_task_parameters_are_checked(tmp_path):
    from lightning_cnn.tasks import train_config

    ctx = TaskContext(quick=True, seed=0, work_dir=tmp_path, params={"epochz": 3})
    with pytest.raises(ValueError, match=r"Unknown task parameters \['epochz'\]") as error:
        train_config(ctx)
    assert "'progress'" in str(error.value) and "'shuffle_labels'" in str(error.value)
    with pytest.raises(ValueError, match="Expected pooling in"):
        train_config(
            TaskContext(quick=False, seed=0, work_dir=tmp_path, params={"pooling": "median"})
        )
    assert train_config(TaskContext(quick=True, seed=0, work_dir=tmp_path)).epochs == 4


def test_lightning_task_resumes_from_the_last_checkpoint(tiny_release, tmp_path):
    from lightning_cnn.tasks import FINAL_CHECKPOINT, grade_lightning_cnn, load_history

    work = tmp_path / "work"
    params = {"release_dir": str(tiny_release), "progress": False, "num_threads": 1}
    grade_lightning_cnn(
        TaskContext(quick=True, seed=0, work_dir=work, params={**params, "epochs": 1})
    )
    first_epoch_seconds = load_history(work)["epoch_seconds"][0]
    # Pretend the run was interrupted after its first epoch: only the checkpoints are left.
    (work / "FINISHED.json").unlink()
    (work / FINAL_CHECKPOINT).unlink()
    result = grade_lightning_cnn(
        TaskContext(quick=True, seed=0, work_dir=work, params={**params, "epochs": 2})
    )
    history = load_history(work)
    assert result.epochs == 2
    assert len(history["loss"]) == len(history["epoch_seconds"]) == 2
    assert history["epoch_seconds"][0] == first_epoch_seconds  # epoch 1 restored, not redone
