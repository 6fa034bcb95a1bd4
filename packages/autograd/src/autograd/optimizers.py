"""Optimizers and learning-rate schedules.

Every optimizer updates ``variable.data`` **in place** with preallocated slot and scratch
buffers, so a training step allocates nothing per parameter. The update rules are PyTorch's
(``torch.optim``), under Keras-style names and defaults; the tests check that five steps give the
same parameters as ``torch.optim``. ``weight_decay`` is L2 regularisation added to the gradient
(``g + wd * w``) for SGD, RMSprop and Adam, and decoupled decay for :class:`AdamW`.

Example:

>>> import numpy as np
>>> from autograd import GradientTape, Variable, optimizers
>>> w = Variable([1.0, -2.0])
>>> opt = optimizers.SGD(learning_rate=0.1)
>>> with GradientTape() as tape:
...     loss = (w * w).sum()
>>> opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
>>> w.numpy()
array([ 0.8, -1.6], dtype=float32)
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence, Union

import numpy as np

from autograd._names import unknown_name_error
from autograd.tensor import Tensor, Variable


# ============================================================================== schedules
class LearningRateSchedule:
    """Maps the optimizer's step count (0 for the first update) to a learning rate.

    Example:

    >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(10)
    0.05
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}


class ExponentialDecay(LearningRateSchedule):
    """``initial * decay_rate ** (step / decay_steps)`` (integer division if ``staircase``).

    Example:

    >>> ExponentialDecay(1.0, 2, 0.5, staircase=True)(3)
    0.5
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False) -> None:
        if decay_steps <= 0:
            raise ValueError(f"Expected decay_steps > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.decay_rate = int(decay_steps), float(decay_rate)
        self.staircase = staircase

    def __call__(self, step: int) -> float:
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate ** exponent

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class CosineDecay(LearningRateSchedule):
    """Optional linear warm-up, then cosine decay from the peak to ``alpha * peak``.

    Args:
        initial_learning_rate: the rate at step 0 (and the peak when there is no warm-up).
        decay_steps: length of the cosine part.
        alpha: final rate as a fraction of the peak.
        warmup_target: peak rate reached after ``warmup_steps`` (``None``: no warm-up).
        warmup_steps: length of the linear warm-up.

    Example:

    >>> schedule = CosineDecay(1.0, decay_steps=10)
    >>> schedule(0), schedule(5), schedule(10)
    (1.0, 0.5, 0.0)
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 warmup_target: float | None = None, warmup_steps: int = 0) -> None:
        if decay_steps <= 0:
            raise ValueError(f"Expected decay_steps > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.alpha = int(decay_steps), float(alpha)
        self.warmup_target, self.warmup_steps = warmup_target, int(warmup_steps)

    def __call__(self, step: int) -> float:
        peak = self.initial_learning_rate
        if self.warmup_target is not None:
            if step < self.warmup_steps:
                return peak + (self.warmup_target - peak) * step / self.warmup_steps
            peak, step = self.warmup_target, step - self.warmup_steps
        progress = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return peak * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``.

    Example:

    >>> schedule = PiecewiseConstantDecay([100], [0.1, 0.01])
    >>> schedule(100), schedule(101)
    (0.1, 0.01)
    """

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError("Expected len(values) == len(boundaries) + 1. Received: "
                             f"len(boundaries)={len(boundaries)}, len(values)={len(values)}")
        self.boundaries, self.values = list(boundaries), [float(v) for v in values]

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values}


_SCHEDULES = {cls.__name__: cls
              for cls in (ExponentialDecay, CosineDecay, PiecewiseConstantDecay)}


# ============================================================================= optimizers
class Optimizer:
    """Base class. Subclasses define ``_slot_names`` and ``_update(variable, grad, slots, lr)``.

    Args:
        learning_rate: a float or a :class:`LearningRateSchedule`.
        weight_decay: L2 coefficient added to the gradient (decoupled in :class:`AdamW`).
        global_clipnorm: if set, scale all gradients so their global L2 norm is at most this.

    Example:

    >>> opt = Adam(learning_rate=0.01)
    >>> opt.learning_rate
    0.01
    """

    _slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float | LearningRateSchedule = 0.001,
                 weight_decay: float | None = None, global_clipnorm: float | None = None,
                 name: str | None = None) -> None:
        if not isinstance(learning_rate, LearningRateSchedule) and not learning_rate > 0:
            raise ValueError(f"Expected a positive learning_rate or a LearningRateSchedule. "
                             f"Received: learning_rate={learning_rate!r}")
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.global_clipnorm = global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._variables: list[Variable] = []
        self._index: dict[int, int] = {}
        self._slots: list[dict[str, np.ndarray]] = []

    @property
    def learning_rate(self) -> float:
        """The learning rate for the next update."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return float(self._learning_rate)

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        self._learning_rate = value

    def build(self, variables: Sequence[Variable]) -> None:
        """Create the slots (momentum buffers, ...) for ``variables``; called automatically."""
        for variable in variables:
            if id(variable) in self._index:
                continue
            self._index[id(variable)] = len(self._variables)
            self._variables.append(variable)
            slots = {name: np.zeros_like(variable.data) for name in self._slot_names}
            slots["scratch"] = np.empty_like(variable.data)
            if self.weight_decay:
                slots["decayed_grad"] = np.empty_like(variable.data)
            self._slots.append(slots)

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]]) -> None:
        """Apply one update, Keras style: ``apply_gradients(zip(grads, variables))``.

        ``None`` gradients (unconnected variables) are skipped.
        """
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        grads = [g.data if isinstance(g, Tensor) else np.asarray(g) for g, _ in pairs]
        variables = [v for _, v in pairs]
        for grad, variable in zip(grads, variables):
            if not isinstance(variable, Variable):
                raise TypeError(f"Expected Variable objects to update. "
                                f"Received: {type(variable).__name__}")
            if grad.shape != variable.shape:
                raise ValueError(f"Expected a gradient of shape {variable.shape} for variable "
                                 f"{variable.name!r}. Received: grad.shape={grad.shape}")
            if not np.isfinite(np.sum(grad)):
                raise ValueError(f"Expected finite gradients. Received: NaN or inf in the "
                                 f"gradient of variable {variable.name!r} at step "
                                 f"{self.iterations} (try a lower learning rate or check the "
                                 "inputs).")
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            if norm > self.global_clipnorm:
                grads = [g * (self.global_clipnorm / norm) for g in grads]
        self.build(variables)
        lr = self.learning_rate
        self.iterations += 1
        for grad, variable in zip(grads, variables):
            self._update(variable.data, grad, self._slots[self._index[id(variable)]], lr)

    def apply(self, grads: Sequence[Any], variables: Sequence[Variable]) -> None:
        """``apply_gradients`` with separate lists (Keras 3 ``optimizer.apply``)."""
        self.apply_gradients(zip(grads, variables))

    def _with_l2(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray]
                 ) -> np.ndarray:
        """``grad + weight_decay * param`` (L2 regularisation), in a preallocated buffer."""
        if not self.weight_decay:
            return grad
        decayed = slots["decayed_grad"]
        np.multiply(param, self.weight_decay, out=decayed)
        decayed += grad
        return decayed

    def _update(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray],
                lr: float) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------------------ state
    def get_state(self) -> dict[str, np.ndarray]:
        """Step count and slot arrays, keyed ``"slot/{variable_index}/{name}"``."""
        state = {"iterations": np.array(self.iterations)}
        for i, slots in enumerate(self._slots):
            for name in self._slot_names:
                state[f"slot/{i}/{name}"] = slots[name]
        return state

    def set_state(self, state: dict[str, np.ndarray], variables: Sequence[Variable]) -> None:
        """Restore :meth:`get_state` output for the same ``variables`` (in the same order)."""
        self.build(variables)
        for i, variable in enumerate(variables):
            slots = self._slots[self._index[id(variable)]]
            for name in self._slot_names:
                key = f"slot/{i}/{name}"
                if key not in state:
                    raise ValueError(f"Expected optimizer state {key!r} for variable "
                                     f"{variable.name!r}. Received keys: {sorted(state)[:5]}...")
                if state[key].shape != variable.shape:
                    raise ValueError(f"Expected {key} of shape {variable.shape}. "
                                     f"Received: shape={state[key].shape}")
                np.copyto(slots[name], state[key])
        self.iterations = int(state["iterations"])

    def get_config(self) -> dict[str, Any]:
        rate = self._learning_rate
        if isinstance(rate, LearningRateSchedule):
            rate = {"class_name": type(rate).__name__, "config": rate.get_config()}
        return {"learning_rate": rate, "weight_decay": self.weight_decay,
                "global_clipnorm": self.global_clipnorm, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Optimizer":
        config = dict(config)
        rate = config.get("learning_rate")
        if isinstance(rate, dict):
            config["learning_rate"] = _SCHEDULES[rate["class_name"]](**rate["config"])
        return cls(**config)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    ``v = momentum * v + g; w -= lr * v`` (PyTorch form; equal to Keras' for a constant rate).

    Example:

    >>> SGD(learning_rate=0.1, momentum=0.9).get_config()["momentum"]
    0.9
    """

    _slot_names = ("momentum",)

    def __init__(self, learning_rate: float | LearningRateSchedule = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Expected 0 <= momentum < 1. Received: momentum={momentum}")
        self.momentum, self.nesterov = float(momentum), nesterov
        if not self.momentum:
            self._slot_names = ()

    def _update(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray],
                lr: float) -> None:
        scratch = slots["scratch"]
        grad = self._with_l2(param, grad, slots)
        if self.momentum:
            velocity = slots["momentum"]
            velocity *= self.momentum
            velocity += grad
            if self.nesterov:
                np.multiply(velocity, self.momentum, out=scratch)
                scratch += grad
                grad = scratch
            else:
                grad = velocity
        np.multiply(grad, lr, out=scratch)
        param -= scratch

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    ``s = rho s + (1 - rho) g^2; w -= lr g / (sqrt(s) + epsilon)`` (optionally centered, with
    momentum), as ``torch.optim.RMSprop(alpha=rho, eps=epsilon)``.

    Example:

    >>> RMSprop().get_config()["rho"]
    0.9
    """

    _slot_names = ("square_avg", "grad_avg", "momentum")

    def __init__(self, learning_rate: float | LearningRateSchedule = 0.001, rho: float = 0.9,
                 momentum: float = 0.0, epsilon: float = 1e-7, centered: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = centered

    def _update(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray],
                lr: float) -> None:
        scratch = slots["scratch"]
        grad = self._with_l2(param, grad, slots)
        square_avg = slots["square_avg"]
        square_avg *= self.rho
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - self.rho
        square_avg += scratch
        if self.centered:
            grad_avg = slots["grad_avg"]
            grad_avg *= self.rho
            np.multiply(grad, 1.0 - self.rho, out=scratch)
            grad_avg += scratch
            np.multiply(grad_avg, grad_avg, out=scratch)
            np.subtract(square_avg, scratch, out=scratch)
            np.sqrt(scratch, out=scratch)
        else:
            np.sqrt(square_avg, out=scratch)
        scratch += self.epsilon
        np.divide(grad, scratch, out=scratch)
        if self.momentum:
            velocity = slots["momentum"]
            velocity *= self.momentum
            velocity += scratch
            np.multiply(velocity, lr, out=scratch)
        else:
            scratch *= lr
        param -= scratch

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """Adam: bias-corrected running means of the gradient and its square.

    ``m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    w -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + epsilon)`` (``torch.optim.Adam``).

    Example:

    >>> Adam(learning_rate=3e-4).learning_rate
    0.0003
    """

    _slot_names = ("m", "v", "v_max")

    def __init__(self, learning_rate: float | LearningRateSchedule = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = amsgrad
        if not amsgrad:
            self._slot_names = ("m", "v")

    def _update(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray],
                lr: float) -> None:
        scratch = slots["scratch"]
        grad = self._with_l2(param, grad, slots)
        m, v = slots["m"], slots["v"]
        m *= self.beta_1
        np.multiply(grad, 1.0 - self.beta_1, out=scratch)
        m += scratch
        v *= self.beta_2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - self.beta_2
        v += scratch
        if self.amsgrad:
            np.maximum(slots["v_max"], v, out=slots["v_max"])
            v = slots["v_max"]
        step = self.iterations
        bias_correction_1 = 1.0 - self.beta_1 ** step
        root_bias_correction_2 = math.sqrt(1.0 - self.beta_2 ** step)
        # m / (sqrt(v) / rbc2 + eps) == rbc2 * m / (sqrt(v) + eps * rbc2): one pass fewer.
        np.sqrt(v, out=scratch)
        scratch += self.epsilon * root_bias_correction_2
        np.divide(m, scratch, out=scratch)
        scratch *= lr * root_bias_correction_2 / bias_correction_1
        param -= scratch

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``w *= 1 - lr * weight_decay``
    before the Adam step, as ``torch.optim.AdamW``.

    Example:

    >>> AdamW(weight_decay=0.01).weight_decay
    0.01
    """

    def __init__(self, learning_rate: float | LearningRateSchedule = 0.001,
                 weight_decay: float = 0.004, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)

    def _with_l2(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray]
                 ) -> np.ndarray:
        return grad  # the decay is decoupled: applied to the weights in _update

    def _update(self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray],
                lr: float) -> None:
        if self.weight_decay:
            param *= 1.0 - lr * self.weight_decay
        super()._update(param, grad, slots, lr)


OptimizerLike = Union[str, Optimizer]

_REGISTRY: dict[str, type[Optimizer]] = {
    "sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
}
_CLASSES = {cls.__name__: cls for cls in _REGISTRY.values()}


def get(identifier: OptimizerLike | dict[str, Any]) -> Optimizer:
    """An optimizer from a name (``"sgd"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``), a config
    dict, or an instance (returned as is).

    Example:

    >>> type(get("adam")).__name__
    'Adam'
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config", {}))
    if isinstance(identifier, str) and identifier.lower() in _REGISTRY:
        return _REGISTRY[identifier.lower()]()
    raise unknown_name_error("optimizer", identifier, _REGISTRY)


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


__all__ = ["SGD", "Adam", "AdamW", "CosineDecay", "ExponentialDecay", "LearningRateSchedule",
           "Optimizer", "PiecewiseConstantDecay", "RMSprop", "get", "serialize"]
