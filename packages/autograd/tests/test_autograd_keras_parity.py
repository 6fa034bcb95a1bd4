"""Keras 3 is the reference for the Keras-shaped parts: EarlyStopping and the optimizers."""

from __future__ import annotations

import os

import numpy as np
import pytest

from autograd import GradientTape, Tensor, Variable, callbacks, optimizers
from autograd_testing import assert_close

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")


# ============================================================================ EarlyStopping
class StubModel:
    """What a callback touches: ``stop_training`` and the weights."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(1)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, values):
        self.weights = [np.array(v) for v in values]


def epochs_run(stopper, values) -> int:
    """Feed ``values`` as one monitored value per epoch; the number of epochs until a stop."""
    model = StubModel()
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, value in enumerate(values):
        model.weights = [np.array([float(epoch)])]
        stopper.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            return epoch + 1
    return len(values)


SEQUENCES = {
    "never_improves": [1.0] * 10,
    "improves_then_stalls": [5.0, 4.0, 3.0, 3.0, 3.5, 2.99, 3.0, 3.1, 3.2, 3.3, 3.4],
    "always_improves": [10.0 - i for i in range(8)],
    "small_improvements": [1.0, 0.99, 0.985, 0.98, 0.9, 0.89, 0.889, 0.7, 0.7, 0.7],
}


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
@pytest.mark.parametrize("sequence", sorted(SEQUENCES))
@pytest.mark.parametrize(
    "options", [{}, {"min_delta": 0.02}, {"baseline": 3.5}, {"start_from_epoch": 2}]
)
def test_early_stopping_stops_after_the_same_epoch_as_keras(patience, sequence, options):
    values = SEQUENCES[sequence]
    ours = callbacks.EarlyStopping(monitor="val_loss", patience=patience, **options)
    theirs = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, mode="min", **options
    )
    assert epochs_run(ours, values) == epochs_run(theirs, values)


def test_early_stopping_patience_counts_epochs_without_improvement():
    # The numbers: a value that never improves stops after p + 1 epochs, as in Keras.
    for patience, expected in ((1, 2), (2, 3), (3, 4)):
        assert epochs_run(callbacks.EarlyStopping(patience=patience), [1.0] * 10) == expected


def test_early_stopping_restores_the_best_weights_like_keras():
    values = SEQUENCES["improves_then_stalls"]
    for stopper in (
        callbacks.EarlyStopping(patience=3, restore_best_weights=True),
        keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True, mode="min"),
    ):
        model = StubModel()
        stopper.set_model(model)
        stopper.on_train_begin()
        for epoch, value in enumerate(values):
            model.weights = [np.array([float(epoch)])]
            stopper.on_epoch_end(epoch, {"val_loss": value})
            if model.stop_training:
                break
        stopper.on_train_end()
        assert model.weights[0][0] == 5.0  # epoch of the best value, 2.99


# =============================================================================== optimizers
STEPS = 5


def make_problem(seed: int = 0, gradient_scale: float = 1.0):
    """A small regression whose loss gradient (times ``gradient_scale``) drives both sides."""
    rng = np.random.default_rng(seed)
    x, target = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    init = [rng.normal(size=(4, 3)), rng.normal(size=(3,))]

    def gradients(values):
        params = [Variable(v) for v in values]
        with GradientTape() as tape:
            out = (Tensor(x) @ params[0] + params[1]).exp() * 0.1
            loss = ((out - target) ** 2).mean() * gradient_scale
        return [g.numpy() for g in tape.gradient(loss, params)]

    return init, gradients


def trajectories(
    ours: optimizers.Optimizer, theirs, steps: int = STEPS, gradient_scale: float = 1.0
):
    """Parameters after every step, for our optimizer and a ``keras.optimizers`` one."""
    init, gradients = make_problem(gradient_scale=gradient_scale)
    mine = [Variable(p) for p in init]
    reference = [keras.Variable(p, dtype="float64") for p in init]
    for _ in range(steps):
        ours.apply_gradients(zip(gradients([p.numpy() for p in mine]), mine))
        theirs.apply(gradients([np.asarray(p.numpy()) for p in reference]), reference)
        yield [p.numpy().copy() for p in mine], [np.asarray(p.numpy()) for p in reference]


def keras_schedules():
    schedules = keras.optimizers.schedules
    return {
        "exponential": (
            optimizers.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5),
            schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5),
        ),
        "cosine_warmup": (
            optimizers.CosineDecay(
                0.0, decay_steps=3, alpha=0.1, warmup_target=0.05, warmup_steps=2
            ),
            schedules.CosineDecay(
                0.0, decay_steps=3, alpha=0.1, warmup_target=0.05, warmup_steps=2
            ),
        ),
        "piecewise": (
            optimizers.PiecewiseConstantDecay([1, 3], [0.05, 0.02, 0.01]),
            schedules.PiecewiseConstantDecay([1, 3], [0.05, 0.02, 0.01]),
        ),
    }


# (ours, keras) constructors and a learning rate or the name of a schedule from
# keras_schedules(). Keras rounds the learning rate and Adam's betas to float32 even for float64
# variables (a 1e-5 relative difference in 1 - beta_2), so the rates and betas below are exact
# in float32; test_adam_with_default_betas_matches_keras covers the defaults.
ADAM_BETAS = {"beta_1": 0.875, "beta_2": 1.0 - 2.0**-9}

KERAS_CASES = {
    "sgd": (lambda lr: optimizers.SGD(lr), lambda lr: keras.optimizers.SGD(lr), 2.0**-3),
    "sgd_momentum": (
        lambda lr: optimizers.SGD(lr, momentum=0.9),
        lambda lr: keras.optimizers.SGD(lr, momentum=0.9),
        2.0**-3,
    ),
    "sgd_momentum_exponential": (
        lambda lr: optimizers.SGD(lr, momentum=0.9),
        lambda lr: keras.optimizers.SGD(lr, momentum=0.9),
        "exponential",
    ),
    "sgd_nesterov_weight_decay_cosine": (
        lambda lr: optimizers.SGD(lr, momentum=0.8, nesterov=True, weight_decay=0.1),
        lambda lr: keras.optimizers.SGD(lr, momentum=0.8, nesterov=True, weight_decay=0.1),
        "cosine_warmup",
    ),
    "rmsprop": (lambda lr: optimizers.RMSprop(lr), lambda lr: keras.optimizers.RMSprop(lr), 0.01),
    "rmsprop_centered_momentum_weight_decay": (
        lambda lr: optimizers.RMSprop(
            lr, rho=0.95, momentum=0.5, centered=True, epsilon=1e-6, weight_decay=0.02
        ),
        lambda lr: keras.optimizers.RMSprop(
            lr, rho=0.95, momentum=0.5, centered=True, epsilon=1e-6, weight_decay=0.02
        ),
        2.0**-7,
    ),
    "rmsprop_momentum_piecewise": (
        lambda lr: optimizers.RMSprop(lr, momentum=0.9),
        lambda lr: keras.optimizers.RMSprop(lr, momentum=0.9),
        "piecewise",
    ),
    "adam": (
        lambda lr: optimizers.Adam(lr, **ADAM_BETAS),
        lambda lr: keras.optimizers.Adam(lr, **ADAM_BETAS),
        2.0**-7,
    ),
    "adam_amsgrad_weight_decay_clipnorm": (
        lambda lr: optimizers.Adam(
            lr, beta_1=0.75, beta_2=1.0 - 2.0**-6, amsgrad=True, weight_decay=0.05, clipnorm=0.05
        ),
        lambda lr: keras.optimizers.Adam(
            lr, beta_1=0.75, beta_2=1.0 - 2.0**-6, amsgrad=True, weight_decay=0.05, clipnorm=0.05
        ),
        2.0**-6,
    ),
    "adam_cosine_global_clipnorm": (
        lambda lr: optimizers.Adam(lr, global_clipnorm=0.1, **ADAM_BETAS),
        lambda lr: keras.optimizers.Adam(lr, global_clipnorm=0.1, **ADAM_BETAS),
        "cosine_warmup",
    ),
    "adamw": (
        lambda lr: optimizers.AdamW(lr, weight_decay=0.1, **ADAM_BETAS),
        lambda lr: keras.optimizers.AdamW(lr, weight_decay=0.1, **ADAM_BETAS),
        2.0**-7,
    ),
    "adamw_default_decay_clipvalue": (
        lambda lr: optimizers.AdamW(lr, clipvalue=0.01, **ADAM_BETAS),
        lambda lr: keras.optimizers.AdamW(lr, clipvalue=0.01, **ADAM_BETAS),
        2.0**-7,
    ),
}


@pytest.mark.parametrize("name", sorted(KERAS_CASES))
def test_optimizer_matches_keras_step_by_step(name):
    make_ours, make_theirs, rate = KERAS_CASES[name]
    ours_rate, theirs_rate = keras_schedules()[rate] if isinstance(rate, str) else (rate, rate)
    steps = trajectories(make_ours(ours_rate), make_theirs(theirs_rate))
    for step, (mine, reference) in enumerate(steps):
        for a, b in zip(mine, reference):
            assert_close(a, b, rtol=1e-6, what=f"{name}, step {step + 1}")


@pytest.mark.parametrize("name", ["rmsprop", "adam"])
def test_keras_epsilon_placement_matters_for_small_gradients(name):
    # With gradients ~1e-6 the epsilon term dominates; Keras' placement gives different steps
    # than PyTorch's, and ours must follow Keras by default.
    make_ours, make_theirs, rate = KERAS_CASES[name]
    for mine, reference in trajectories(make_ours(rate), make_theirs(rate), gradient_scale=1e-6):
        for a, b in zip(mine, reference):
            assert_close(a, b, rtol=1e-6, what=name)


@pytest.mark.parametrize("gradient_scale", [1.0, 1e-6])
def test_adam_with_default_betas_matches_keras(gradient_scale):
    # Only Keras' float32 rounding of the betas separates the two (relative 1e-5 of a step);
    # PyTorch's epsilon placement would differ by orders of magnitude at gradient_scale=1e-6.
    for mine, reference in trajectories(
        optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), gradient_scale=gradient_scale
    ):
        for a, b in zip(mine, reference):
            assert_close(a, b, rtol=1e-5, what=f"gradient scale {gradient_scale}")


def test_schedules_match_keras():
    for name, (ours, theirs) in keras_schedules().items():
        for step in range(8):
            assert ours(step) == pytest.approx(float(theirs(step)), rel=1e-6), (name, step)
