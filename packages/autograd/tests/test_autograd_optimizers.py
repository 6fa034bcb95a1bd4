"""Optimizers with ``update_rule="torch"``: parameters after 5 steps equal torch.optim's; schedules;
state; bad input. (The default, Keras 3 rules, are checked in ``test_autograd_keras_parity``.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograd import GradientTape, Tensor, Variable, optimizers
from autograd_testing import assert_close

STEPS = 5


def make_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(6, 4)),
        rng.normal(size=(6, 3)),
        [rng.normal(size=(4, 3)), rng.normal(size=(3,))],
    )


def run_ours(
    optimizer: optimizers.Optimizer, steps: int = STEPS, seed: int = 0, scale: float = 1.0
):
    x, target, init = make_problem(seed)
    params = [Variable(p) for p in init]
    for _ in range(steps):
        with GradientTape() as tape:
            out = (Tensor(x) @ params[0] + params[1]).exp() * 0.1
            loss = ((out - target) ** 2).mean() * scale
        optimizer.apply_gradients(zip(tape.gradient(loss, params), params))
    return [p.numpy() for p in params]


def run_torch(
    make_optimizer, steps: int = STEPS, make_scheduler=None, seed: int = 0, scale: float = 1.0
):
    x, target, init = make_problem(seed)
    params = [torch.tensor(p, requires_grad=True) for p in init]
    optimizer = make_optimizer(params)
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    for _ in range(steps):
        optimizer.zero_grad()
        out = (torch.from_numpy(x) @ params[0] + params[1]).exp() * 0.1
        loss = ((out - torch.from_numpy(target)) ** 2).mean() * scale
        loss.backward()
        optimizer.step()
        if scheduler:
            scheduler.step()
    return [p.detach().numpy() for p in params]


TORCH = {"update_rule": "torch"}

CASES = {
    "sgd": (lambda: optimizers.SGD(0.1, **TORCH), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (
        lambda: optimizers.SGD(0.1, momentum=0.9, **TORCH),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    ),
    "sgd_nesterov_l2": (
        lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True, weight_decay=0.01, **TORCH),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    ),
    "rmsprop": (
        lambda: optimizers.RMSprop(0.01, rho=0.9, epsilon=1e-8, **TORCH),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8),
    ),
    "rmsprop_centered_momentum_l2": (
        lambda: optimizers.RMSprop(
            0.01, rho=0.95, momentum=0.5, centered=True, epsilon=1e-6, weight_decay=0.02, **TORCH
        ),
        lambda p: torch.optim.RMSprop(
            p, lr=0.01, alpha=0.95, momentum=0.5, centered=True, eps=1e-6, weight_decay=0.02
        ),
    ),
    "adam": (
        lambda: optimizers.Adam(0.01, epsilon=1e-8, **TORCH),
        lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8),
    ),
    "adam_amsgrad_l2": (
        lambda: optimizers.Adam(
            0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-7, amsgrad=True, weight_decay=0.05, **TORCH
        ),
        lambda p: torch.optim.Adam(
            p, lr=0.02, betas=(0.8, 0.99), eps=1e-7, amsgrad=True, weight_decay=0.05
        ),
    ),
    "adamw": (
        lambda: optimizers.AdamW(0.01, weight_decay=0.1, epsilon=1e-8, **TORCH),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=1e-8),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_five_steps_match_torch_optim(name):
    ours, theirs = CASES[name]
    for mine, reference in zip(run_ours(ours()), run_torch(theirs)):
        assert_close(mine, reference, what=name)


@pytest.mark.parametrize("name", ["rmsprop", "adam", "adam_amsgrad_l2"])
def test_torch_epsilon_placement_for_small_gradients(name):
    ours, theirs = CASES[name]
    for mine, reference in zip(run_ours(ours(), scale=1e-6), run_torch(theirs, scale=1e-6)):
        assert_close(mine, reference, what=name)


def test_update_rule_is_validated_and_serialized():
    assert optimizers.Adam().update_rule == "keras"
    restored = optimizers.get(optimizers.serialize(optimizers.RMSprop(**TORCH)))
    assert restored.update_rule == "torch"
    with pytest.raises(
        ValueError, match="Expected update_rule 'keras' or 'torch'. Received: update_rule='pytorch'"
    ):
        optimizers.SGD(update_rule="pytorch")
    with pytest.raises(ValueError, match="Only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_parameters_actually_moved():
    _, _, init = make_problem()
    moved = run_ours(optimizers.Adam(0.01))
    assert all(np.abs(a - b).max() > 1e-3 for a, b in zip(moved, init))


def test_exponential_decay_schedule_matches_torch_exponential_lr():
    schedule = optimizers.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.7)
    mine = run_ours(optimizers.SGD(schedule, momentum=0.5, **TORCH))
    reference = run_torch(
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5),
        make_scheduler=lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.7),
    )
    for a, b in zip(mine, reference):
        assert_close(a, b)


def test_cosine_decay_matches_torch_cosine_annealing():
    schedule = optimizers.CosineDecay(0.1, decay_steps=4, alpha=0.1)
    mine = run_ours(optimizers.SGD(schedule, **TORCH))
    reference = run_torch(
        lambda p: torch.optim.SGD(p, lr=0.1),
        make_scheduler=lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 4, eta_min=0.01),
    )
    for a, b in zip(mine, reference):
        assert_close(a, b)


def test_schedule_values():
    warm = optimizers.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=5)
    assert [warm(s) for s in (0, 5, 10, 15, 100)] == pytest.approx([0.0, 1.0, 0.5, 0.0, 0.0])
    steps = optimizers.ExponentialDecay(1.0, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [steps(s) for s in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    pieces = optimizers.PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
    assert [pieces(s) for s in (0, 2, 3, 5)] == [1.0, 1.0, 0.5, 0.1]
    opt = optimizers.Adam(steps)
    assert opt.learning_rate == 1.0
    opt.iterations = 10
    assert opt.learning_rate == 0.5


def test_updates_are_in_place_and_none_gradients_are_skipped():
    w, unused = Variable(np.ones(3)), Variable(np.ones(2))
    storage = w.data
    opt = optimizers.SGD(0.5, momentum=0.9)
    opt.apply_gradients([(np.ones(3), w), (None, unused)])
    assert w.data is storage
    np.testing.assert_allclose(w.numpy(), 0.5)
    np.testing.assert_allclose(unused.numpy(), 1.0)
    assert opt.iterations == 1


def test_global_clipnorm():
    w = Variable(np.zeros(2))
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients([(np.array([3.0, 4.0]), w)])
    np.testing.assert_allclose(w.numpy(), [-0.6, -0.8])


def test_state_round_trip_continues_exactly():
    full = optimizers.Adam(0.01)
    reference = run_ours(full, steps=6)
    first = optimizers.Adam(0.01)
    x, target, init = make_problem()
    params = [Variable(p) for p in init]

    def step(opt):
        with GradientTape() as tape:
            out = (Tensor(x) @ params[0] + params[1]).exp() * 0.1
            loss = ((out - target) ** 2).mean()
        opt.apply_gradients(zip(tape.gradient(loss, params), params))

    for _ in range(3):
        step(first)
    state = {k: v.copy() for k, v in first.get_state().items()}
    second = optimizers.Adam(0.01)
    second.set_state(state, params)
    for _ in range(3):
        step(second)
    for a, b in zip(params, reference):
        np.testing.assert_array_equal(a.numpy(), b)


def test_bad_gradients_and_names_raise_clear_errors():
    w = Variable(np.ones(3), name="dense/kernel")
    opt = optimizers.Adam()
    with pytest.raises(
        ValueError,
        match="Expected finite gradients. Received: NaN or inf in "
        "the gradient of variable 'dense/kernel'",
    ):
        opt.apply_gradients([(np.array([1.0, np.nan, 0.0]), w)])
    with pytest.raises(
        ValueError,
        match=r"Expected a gradient of shape \(3,\) for variable "
        r"'dense/kernel'. Received: grad.shape=\(2,\)",
    ):
        opt.apply_gradients([(np.ones(2), w)])
    with pytest.raises(
        ValueError, match="Unknown optimizer.*Received: optimizer='adma'.*Did you mean 'adam'"
    ):
        optimizers.get("adma")
    with pytest.raises(ValueError, match="Expected a positive learning_rate"):
        optimizers.SGD(-1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(0.1, momentum=1.5)
    assert isinstance(optimizers.get("AdamW"), optimizers.AdamW)
    assert math.isclose(
        optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.3}}).learning_rate, 0.3
    )


def test_state_in_the_earlier_numbered_format_still_loads():
    w, moving, b = (
        Variable(np.ones(2), name="w"),
        Variable(np.ones(3), trainable=False),
        Variable(np.ones(3), name="b"),
    )
    legacy = {
        "iterations": np.array(4),
        "slot/0/m": np.full(2, 0.1),
        "slot/0/v": np.full(2, 0.2),
        "slot/1/m": np.full(3, 0.3),
        "slot/1/v": np.full(3, 0.4),
    }
    opt = optimizers.Adam()
    opt.set_state(legacy, [w, moving, b])
    state = opt.get_state()
    assert opt.iterations == 4 and sorted(state) == [
        "iterations",
        "slot/b/m",
        "slot/b/v",
        "slot/w/m",
        "slot/w/v",
    ]
    np.testing.assert_array_equal(state["slot/b/v"], np.full(3, 0.4))
    with pytest.raises(ValueError, match=r"Received: state for unknown variables \['c'\]"):
        optimizers.Adam().set_state(
            {"iterations": np.array(1), "slot/c/m": np.ones(2), "slot/c/v": np.ones(2)}, [w]
        )
