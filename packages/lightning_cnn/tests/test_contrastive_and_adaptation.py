"""LiT heads and loss, gradient reversal, AdaBN and DANN on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from a2common.data import Dataset, Split
from lightning_cnn.contrastive import (
    TEMPLATES,
    LiTConfig,
    LiTModel,
    ProjectionHead,
    captions,
    clip_loss,
    train_lit,
)
from lightning_cnn.domain_adaptation import (
    DomainAdaptationConfig,
    DomainAdaptationNet,
    Domains,
    adapt_batchnorm,
    dann_coefficient,
    downscale,
    grad_reverse,
    train_domain_adaptation,
)


def log_softmax_at(row: list[float], index: int) -> float:
    return row[index] - math.log(sum(math.exp(value) for value in row))


def test_clip_loss_matches_a_hand_computation():
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    texts = torch.tensor([[0.6, 0.8], [1.0, 0.0]])
    logit_scale = torch.tensor(math.log(2.0))  # logits = 2 * images @ texts.T
    logits = [[1.2, 2.0], [1.6, 0.0]]
    columns = [[1.2, 1.6], [2.0, 0.0]]
    by_rows = -(log_softmax_at(logits[0], 0) + log_softmax_at(logits[1], 1)) / 2
    by_columns = -(log_softmax_at(columns[0], 0) + log_softmax_at(columns[1], 1)) / 2
    expected = (by_rows + by_columns) / 2
    assert clip_loss(images, texts, logit_scale).item() == pytest.approx(expected, rel=1e-6)


def test_clip_loss_with_labels_spreads_the_target_over_same_class_pairs():
    images = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    texts = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    logits = (images @ texts.T).tolist()  # logit_scale 0: scale 1
    columns = [list(column) for column in zip(*logits)]
    positives = [[0, 1], [0, 1], [2]]

    def mean_ce(table: list[list[float]]) -> float:
        return -sum(
            sum(log_softmax_at(row, j) for j in positives[i]) / len(positives[i])
            for i, row in enumerate(table)
        ) / len(table)

    expected = (mean_ce(logits) + mean_ce(columns)) / 2
    loss = clip_loss(images, texts, torch.tensor(0.0), labels)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="Expected two"):
        clip_loss(images, texts[:2], torch.tensor(0.0))


def test_projection_heads_give_unit_vectors_of_the_shared_size():
    image_head, text_head = ProjectionHead(1280, 32), ProjectionHead(384, 32)
    images, texts = image_head(torch.randn(5, 1280)), text_head(torch.randn(7, 384))
    assert images.shape == (5, 32) and texts.shape == (7, 32)
    torch.testing.assert_close(images.norm(dim=1), torch.ones(5))


def test_lit_model_zero_shot_probabilities():
    caption_features = torch.randn(3 * len(TEMPLATES), 384)
    model = LiTModel(caption_features, image_dim=20, embed_dim=8)
    probabilities = model.class_probabilities(torch.randn(4, 20))
    assert probabilities.shape == (4, 3)
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(4))
    assert model.class_embeddings().shape == (3, 8)
    assert captions()[len(TEMPLATES)] == TEMPLATES[0].format("dog")
    with pytest.raises(ValueError, match="caption features"):
        LiTModel(torch.randn(5, 384))


def test_lit_training_separates_easy_features(tmp_path):
    rng = np.random.default_rng(0)
    labels = {split: np.arange(n) % 3 for split, n in (("train", 60), ("val", 12), ("test", 12))}
    features = {
        split: (np.eye(3)[y] * 3 + rng.normal(0, 0.3, (len(y), 3))).astype("float32")
        for split, y in labels.items()
    }
    split = {name: Split(np.zeros((len(y), 1)), y) for name, y in labels.items()}
    data = Dataset(
        "tiny", split["train"], split["test"], split["val"], ["cats", "dogs", "panda"], {}
    )
    # Captions are easy too, and seeded: each class's captions (class-major rows) scatter
    # around their own prototype. Unseeded random captions made this test flaky (one draw in
    # many gave nearly collinear classes and 0.67 test accuracy).
    generator = torch.Generator().manual_seed(0)
    prototypes = 3 * torch.randn(3, 16, generator=generator)
    captions = prototypes.repeat_interleave(len(TEMPLATES), dim=0) + 0.3 * torch.randn(
        3 * len(TEMPLATES), 16, generator=generator
    )
    config = LiTConfig(embed_dim=8, epochs=20, batch_size=20, learning_rate=1e-2)
    run = train_lit(
        tmp_path,
        config,
        data=data,
        features=features,
        caption_features=captions,
        progress=False,
    )
    assert run.test_probabilities.shape == run.linear_probe_probabilities.shape == (12, 3)
    assert run.test_accuracy(labels["test"]) >= 0.9
    assert run.history["loss"][-1] < run.history["loss"][0]


def test_gradient_reversal_flips_the_sign_and_scales():
    features = torch.randn(3, 4, requires_grad=True)
    weights = torch.randn(3, 4)
    reversed_features = grad_reverse(features, 0.7)
    torch.testing.assert_close(reversed_features, features)  # identity forward
    (reversed_features * weights).sum().backward()
    torch.testing.assert_close(features.grad, -0.7 * weights)
    assert dann_coefficient(0.0) == 0.0 and 0.99 < dann_coefficient(1.0) < 1.0


def test_dann_domain_loss_reaches_the_features_reversed():
    net = DomainAdaptationNet("dann", channels=(4, 4, 4))
    images = torch.rand(4, 3, 32, 32)
    _, domain_logits = net.heads(images, coefficient=1.0)
    domain_logits.sum().backward()
    reversed_grad = [p.grad.clone() for p in net.features.parameters()]
    net.zero_grad()
    features = net.features((images - net.mean) / net.std)
    net.domain_classifier(features).sum().backward()
    for flipped, plain in zip(reversed_grad, net.features.parameters()):
        torch.testing.assert_close(flipped, -plain.grad)


def test_adabn_uses_the_target_statistics():
    net = torch.nn.Sequential(torch.nn.BatchNorm2d(3))
    target = torch.rand(10, 3, 4, 4) * 5 + 2
    adapt_batchnorm(net, target, batch_size=5)  # equal batches: exact mean
    torch.testing.assert_close(net[0].running_mean, target.mean(dim=(0, 2, 3)))
    assert net[0].momentum == 0.1 and net.training  # its settings are restored


def tiny_domains() -> Domains:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    return Domains(images[:12], np.arange(12) % 2, images[12:18], images[18:], np.arange(6) % 2)


@pytest.mark.parametrize("method", ["dann", "source_only"])
def test_domain_adaptation_trains_and_predicts_the_target(tmp_path, method):
    config = DomainAdaptationConfig(epochs=1, batch_size=4, channels=(4, 4, 4))
    run = train_domain_adaptation(
        tmp_path / method, method, config, domains=tiny_domains(), progress=False
    )
    assert run.test_probabilities.shape == (6, 2) and not run.from_cache
    assert len(run.history["loss"]) == 1
    if method == "source_only":  # AdaBN reuses the finished source-only model
        adapted = train_domain_adaptation(
            tmp_path / "adabn", "adabn", config, domains=tiny_domains(), progress=False
        )
        assert adapted.from_cache and adapted.test_probabilities.shape == (6, 2)
        assert not np.allclose(adapted.test_probabilities, run.test_probabilities)


def test_downscale_and_method_check():
    assert (
        downscale(np.full((1, 64, 64, 3), 7, np.uint8)).tolist()
        == np.full((1, 32, 32, 3), 7).tolist()
    )
    with pytest.raises(ValueError, match="Expected method in"):
        DomainAdaptationNet("coral")
