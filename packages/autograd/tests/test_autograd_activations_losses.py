"""Activations and losses against PyTorch and finite differences; stability at logits of +-1000."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import GradientTape, Tensor, activations, losses
from autograd_testing import away_from, check_op, compare_with_torch

shapes = hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)
seeds = st.integers(0, 2**16)

ACTIVATIONS = {
    "relu": (activations.relu, F.relu, (0.0,)),
    "leaky_relu": (activations.leaky_relu, lambda t: F.leaky_relu(t, 0.01), (0.0,)),
    "sigmoid": (activations.sigmoid, torch.sigmoid, ()),
    "tanh": (activations.tanh, torch.tanh, ()),
    "softplus": (activations.softplus, F.softplus, ()),
    "gelu": (activations.gelu, lambda t: F.gelu(t, approximate="tanh"), ()),
    "swish": (activations.swish, F.silu, ()),
    "elu": (activations.elu, F.elu, (0.0,)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(shape=shapes, seed=seeds)
def test_activation_matches_torch_and_finite_differences(name, shape, seed):
    ours, theirs, kinks = ACTIVATIONS[name]
    x = away_from(np.random.default_rng(seed).normal(scale=3.0, size=shape), kinks)
    check_op(ours, theirs, [x])


def test_leaky_relu_custom_slope(rng):
    x = away_from(rng.normal(size=(4, 3)))
    check_op(lambda t: activations.leaky_relu(t, 0.2), lambda t: F.leaky_relu(t, 0.2), [x])


@given(shape=shapes, seed=seeds, data=st.data())
def test_softmax_and_log_softmax_any_axis(shape, seed, data):
    x = np.random.default_rng(seed).normal(scale=3.0, size=shape)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda t: activations.softmax(t, axis), lambda t: torch.softmax(t, axis), [x])
    check_op(lambda t: activations.log_softmax(t, axis), lambda t: torch.log_softmax(t, axis), [x])


@pytest.mark.parametrize(
    "function",
    [
        activations.sigmoid,
        activations.softplus,
        activations.softmax,
        activations.log_softmax,
        activations.swish,
    ],
)
def test_activations_are_finite_at_extreme_inputs(function):
    x = Tensor(np.array([[-1000.0, 0.0, 1000.0]]), requires_grad=True)
    with GradientTape() as tape:
        y = function(x)
        total = y.sum()
    grad = tape.gradient(total, x)
    assert np.isfinite(y.numpy()).all() and np.isfinite(grad.numpy()).all()


def test_softmax_at_plus_minus_1000_matches_torch():
    logits = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    compare_with_torch(activations.softmax, lambda t: torch.softmax(t, -1), [logits])


def test_activation_registry():
    assert activations.get("GELU") is activations.gelu
    assert activations.get(None) is activations.linear
    with pytest.raises(
        ValueError, match="Unknown activation.*Received: activation='rleu'.*Did you mean 'relu'"
    ):
        activations.get("rleu")


# =================================================================================== losses
def one_hot(rng: np.random.Generator, batch: int, classes: int) -> np.ndarray:
    return np.eye(classes)[rng.integers(0, classes, size=batch)]


def probabilities(rng: np.random.Generator, batch: int, classes: int) -> np.ndarray:
    p = rng.uniform(0.05, 1.0, size=(batch, classes))
    return p / p.sum(axis=1, keepdims=True)


@given(
    batch=st.integers(1, 6),
    classes=st.integers(2, 5),
    seed=seeds,
    smoothing=st.sampled_from([0.0, 0.1, 0.3]),
)
def test_cross_entropy_from_logits(batch, classes, seed, smoothing):
    rng = np.random.default_rng(seed)
    y, logits = one_hot(rng, batch, classes), rng.normal(scale=3.0, size=(batch, classes))
    check_op(
        lambda t: losses.categorical_crossentropy(
            y, t, from_logits=True, label_smoothing=smoothing
        ),
        lambda t: F.cross_entropy(t, torch.from_numpy(y), label_smoothing=smoothing),
        [logits],
    )


@given(
    batch=st.integers(1, 6),
    classes=st.integers(2, 5),
    seed=seeds,
    smoothing=st.sampled_from([0.0, 0.2]),
)
def test_cross_entropy_from_probabilities(batch, classes, seed, smoothing):
    rng = np.random.default_rng(seed)
    y, p = one_hot(rng, batch, classes), probabilities(rng, batch, classes)
    y_smooth = y * (1 - smoothing) + smoothing / classes

    def theirs(t):  # Keras semantics: renormalise, clip, then -sum(y log p)
        t = t / t.sum(dim=-1, keepdim=True)
        t = torch.clamp(t, losses.EPSILON, 1 - losses.EPSILON)
        return -(torch.from_numpy(y_smooth) * torch.log(t)).sum(dim=-1).mean()

    check_op(
        lambda t: losses.categorical_crossentropy(y, t, label_smoothing=smoothing), theirs, [p]
    )


def test_cross_entropy_from_probabilities_of_softmax_equals_from_logits(rng):
    y, logits = one_hot(rng, 4, 3), rng.normal(size=(4, 3))
    check_op(
        lambda t: losses.categorical_crossentropy(y, activations.softmax(t)),
        lambda t: F.cross_entropy(t, torch.from_numpy(y)),
        [logits],
    )


def test_sparse_cross_entropy(rng):
    labels = rng.integers(0, 4, size=5)
    logits = rng.normal(size=(5, 4))
    check_op(
        lambda t: losses.sparse_categorical_crossentropy(labels, t, from_logits=True),
        lambda t: F.cross_entropy(t, torch.from_numpy(labels)),
        [logits],
    )
    with pytest.raises(ValueError, match=r"Expected integer labels in \[0, 4\).*max=7"):
        losses.sparse_categorical_crossentropy(np.array([0, 7, 1, 1, 1]), logits)


@pytest.mark.parametrize("from_logits", [True, False])
def test_cross_entropy_is_stable_at_logits_of_1000(from_logits):
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    y = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    x = Tensor(logits, requires_grad=True)
    with GradientTape() as tape:
        pred = x if from_logits else activations.softmax(x)
        loss = losses.categorical_crossentropy(y, pred, from_logits=from_logits)
    grad = tape.gradient(loss, x)
    assert np.isfinite(loss.item()) and np.isfinite(grad.numpy()).all()
    if from_logits:
        expected = F.cross_entropy(torch.tensor(logits), torch.tensor(y)).item()
        assert loss.item() == pytest.approx(expected, rel=1e-12)
        compare_with_torch(
            lambda t: losses.categorical_crossentropy(y, t, from_logits=True),
            lambda t: F.cross_entropy(t, torch.from_numpy(y)),
            [logits],
        )
    else:  # clipped at EPSILON like Keras: the loss is bounded by -log(EPSILON)
        assert loss.item() == pytest.approx(-np.log(losses.EPSILON) / 2, rel=1e-6)


@given(shape=shapes, seed=seeds)
def test_mean_squared_error(shape, seed):
    rng = np.random.default_rng(seed)
    y, pred = rng.normal(size=shape), rng.normal(size=shape)
    check_op(
        lambda t: losses.mean_squared_error(y, t),
        lambda t: F.mse_loss(t, torch.from_numpy(y)),
        [pred],
    )


@given(shape=shapes, seed=seeds)
def test_binary_cross_entropy(shape, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    logits = rng.normal(scale=3.0, size=shape)
    check_op(
        lambda t: losses.binary_crossentropy(y, t, from_logits=True),
        lambda t: F.binary_cross_entropy_with_logits(t, torch.from_numpy(y)),
        [logits],
    )
    p = rng.uniform(0.05, 0.95, size=shape)
    check_op(
        lambda t: losses.binary_crossentropy(y, t),
        lambda t: F.binary_cross_entropy(t, torch.from_numpy(y)),
        [p],
    )


def test_binary_cross_entropy_from_logits_is_stable():
    logits = np.array([1000.0, -1000.0, 0.0])
    y = np.array([0.0, 1.0, 1.0])
    compare_with_torch(
        lambda t: losses.binary_crossentropy(y, t, from_logits=True),
        lambda t: F.binary_cross_entropy_with_logits(t, torch.from_numpy(y)),
        [logits],
    )


@given(
    batch=st.integers(1, 5),
    classes=st.integers(2, 5),
    seed=seeds,
    gamma=st.sampled_from([0.0, 1.0, 2.0]),
    from_logits=st.booleans(),
)
def test_categorical_focal_crossentropy(batch, classes, seed, gamma, from_logits):
    rng = np.random.default_rng(seed)
    y = one_hot(rng, batch, classes)
    pred = rng.normal(size=(batch, classes)) if from_logits else probabilities(rng, batch, classes)

    def theirs(t):
        p = torch.softmax(t, -1) if from_logits else t
        p = torch.clamp(p / p.sum(-1, keepdim=True), losses.EPSILON, 1 - losses.EPSILON)
        weight = 0.25 * (1 - p) ** gamma
        return -(weight * torch.from_numpy(y) * torch.log(p)).sum(-1).mean()

    check_op(
        lambda t: losses.categorical_focal_crossentropy(y, t, gamma=gamma, from_logits=from_logits),
        theirs,
        [pred],
    )


def test_focal_loss_with_gamma_zero_is_scaled_cross_entropy(rng):
    y, logits = one_hot(rng, 4, 3), rng.normal(size=(4, 3))
    focal = losses.CategoricalFocalCrossentropy(alpha=1.0, gamma=0.0, from_logits=True)
    ce = losses.CategoricalCrossentropy(from_logits=True)
    assert focal(y, logits).item() == pytest.approx(ce(y, logits).item(), rel=1e-5)


def test_loss_shape_errors_and_registry():
    with pytest.raises(
        ValueError,
        match=r"Expected y_true and y_pred to have the same shape. "
        r"Received: y_true.shape=\(4,\), y_pred.shape=\(4, 3\)",
    ):
        losses.CategoricalCrossentropy()(np.zeros(4), np.ones((4, 3)))
    assert isinstance(losses.get("focal"), losses.CategoricalFocalCrossentropy)
    with pytest.raises(
        ValueError,
        match="Unknown loss.*Received: loss='categorical_crossentopy'"
        ".*Did you mean 'categorical_crossentropy'",
    ):
        losses.get("categorical_crossentopy")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)


def test_binary_cross_entropy_accepts_labels_without_the_last_axis(rng):
    logits = rng.normal(size=(6, 1))
    labels = (rng.random(6) > 0.5).astype(np.float64)
    for loss in (losses.BinaryCrossentropy(from_logits=True), losses.BinaryCrossentropy()):
        pred = logits if loss.from_logits else 1.0 / (1.0 + np.exp(-logits))
        assert loss(labels, pred).item() == pytest.approx(loss(labels[:, None], pred).item())
    with pytest.raises(ValueError, match="same shape"):
        losses.BinaryCrossentropy()(labels[:4], 1.0 / (1.0 + np.exp(-logits)))
