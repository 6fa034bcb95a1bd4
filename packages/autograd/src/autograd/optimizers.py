"""Optimizers and learning-rate schedules.

Every optimizer updates ``variable.data`` **in place** with preallocated slot and scratch
buffers, so a training step allocates nothing per parameter.

Two sets of update rules, chosen with ``update_rule``:

* ``"keras"`` (default): Keras 3's ``keras.optimizers`` rules, checked step by step against
  Keras: epsilon added to ``sqrt(v)`` *after* Adam's bias correction is folded into the step
  size, inside the square root for RMSprop; SGD momentum accumulates ``-lr * g`` (so a schedule
  scales each new gradient, not the whole velocity); ``weight_decay`` is decoupled
  (``w -= lr * wd * w`` before the step) for every optimizer.
* ``"torch"``: ``torch.optim``'s rules, checked against PyTorch: epsilon added to the
  bias-corrected ``sqrt(v_hat)`` (Adam) or to ``sqrt(v)`` (RMSprop), momentum accumulates raw
  gradients, ``weight_decay`` is L2 added to the gradient, except in :class:`AdamW`.

Both rules give the same steps for plain SGD and SGD with momentum at a constant rate; Adam and
RMSprop differ where gradients are small compared with epsilon.

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

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        if decay_steps <= 0:
            raise ValueError(f"Expected decay_steps > 0. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.decay_rate = int(decay_steps), float(decay_rate)
        self.staircase = staircase

    def __call__(self, step: int) -> float:
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate**exponent

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


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

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
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
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``.

    Example:

    >>> schedule = PiecewiseConstantDecay([100], [0.1, 0.01])
    >>> schedule(100), schedule(101)
    (0.1, 0.01)
    """

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "Expected len(values) == len(boundaries) + 1. Received: "
                f"len(boundaries)={len(boundaries)}, len(values)={len(values)}"
            )
        self.boundaries, self.values = list(boundaries), [float(v) for v in values]

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values}


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, CosineDecay, PiecewiseConstantDecay)}


# ============================================================================= optimizers
class Optimizer:
    """Base class. Subclasses define ``_slot_names`` and ``_update(variable, grad, slots, lr)``.

    Args:
        learning_rate: a float or a :class:`LearningRateSchedule`.
        weight_decay: decoupled weight decay, ``w -= lr * weight_decay * w`` before each step
            (Keras 3); with ``update_rule="torch"``, L2 added to the gradient (PyTorch's
            ``weight_decay``), except in :class:`AdamW`, where it stays decoupled.
        clipnorm: if set, scale each gradient so its L2 norm is at most this.
        clipvalue: if set, clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: if set, scale all gradients so their global L2 norm is at most this.
        update_rule: ``"keras"`` (Keras 3's update rules, the default) or ``"torch"``
            (``torch.optim``'s); see the module docstring for the differences.
        name: optimizer name.

    Example:

    >>> opt = Adam(learning_rate=0.01)
    >>> opt.learning_rate
    0.01
    """

    _slot_names: tuple[str, ...] = ()
    _decoupled_weight_decay = False  # True where the torch rule decays weights (AdamW)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        update_rule: str = "keras",
        name: str | None = None,
    ) -> None:
        if not isinstance(learning_rate, LearningRateSchedule) and not learning_rate > 0:
            raise ValueError(
                f"Expected a positive learning_rate or a LearningRateSchedule. "
                f"Received: learning_rate={learning_rate!r}"
            )
        if update_rule not in ("keras", "torch"):
            raise ValueError(
                f"Expected update_rule 'keras' or 'torch'. Received: update_rule={update_rule!r}"
            )
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                f"Only one of clipnorm, clipvalue and global_clipnorm can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue = clipnorm, clipvalue
        self.global_clipnorm = global_clipnorm
        self.update_rule = update_rule
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._variables: list[Variable] = []
        self._keys: dict[int, str] = {}  # id(variable) -> its slot key (its name)
        self._slots: dict[str, dict[str, np.ndarray]] = {}  # slot key -> slot arrays

    @property
    def learning_rate(self) -> float:
        """The learning rate for the next update."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return float(self._learning_rate)

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        self._learning_rate = value

    def _slot_key(self, variable: Variable) -> str:
        """The key of ``variable``'s slots: its name (path), e.g. ``"dense_1/kernel"``.

        Keying by name (not by order of first use) lets a checkpoint give every variable its
        own moments back, whatever was frozen when. An unnamed variable, or a second variable
        with a name already taken, gets ``"{name}#{k}"`` in order of first use.
        """
        key = self._keys.get(id(variable))
        if key is None:
            taken = set(self._keys.values())
            key, count = variable.name, 0
            while not key or key in taken:
                count += 1
                key = f"{variable.name or 'variable'}#{count}"
            self._keys[id(variable)] = key
            self._variables.append(variable)  # keeps id(variable) from being reused
        return key

    def build(self, variables: Sequence[Variable]) -> None:
        """Create the slots (momentum buffers, ...) for ``variables``; called automatically."""
        for variable in variables:
            key = self._slot_key(variable)
            if key in self._slots:
                continue
            slots = {name: np.zeros_like(variable.data) for name in self._slot_names}
            slots["scratch"] = np.empty_like(variable.data)
            if self.weight_decay and self.update_rule == "torch":
                slots["decayed_grad"] = np.empty_like(variable.data)
            self._slots[key] = slots

    @property
    def variables(self) -> list[Variable]:
        """The variables that have slots, in order of first use."""
        return [v for v in self._variables if self._keys[id(v)] in self._slots]

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Variable]]) -> None:
        """Apply one update, Keras style: ``apply_gradients(zip(grads, variables))``.

        ``None`` gradients (unconnected variables) are skipped.
        """
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        grads = [g.data if isinstance(g, Tensor) else np.asarray(g) for g, _ in pairs]
        variables = [v for _, v in pairs]
        for grad, variable in zip(grads, variables):
            if not isinstance(variable, Variable):
                raise TypeError(
                    f"Expected Variable objects to update. Received: {type(variable).__name__}"
                )
            if grad.shape != variable.shape:
                raise ValueError(
                    f"Expected a gradient of shape {variable.shape} for variable "
                    f"{variable.name!r}. Received: grad.shape={grad.shape}"
                )
            if not np.isfinite(np.sum(grad)):
                raise ValueError(
                    f"Expected finite gradients. Received: NaN or inf in the "
                    f"gradient of variable {variable.name!r} at step "
                    f"{self.iterations} (try a lower learning rate or check the "
                    "inputs)."
                )
        grads = self._clip(grads)
        self.build(variables)
        lr = self.learning_rate
        self.iterations += 1
        decoupled = self.update_rule == "keras" or self._decoupled_weight_decay
        for grad, variable in zip(grads, variables):
            if self.weight_decay and decoupled:
                variable.data *= 1.0 - lr * self.weight_decay
            self._update(variable.data, grad, self._slots[self._keys[id(variable)]], lr)
            variable.mark_modified()

    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """Keras' clipping: per-gradient norm, per-element value, or global norm."""
        if self.clipnorm is not None:
            norms = [math.sqrt(float(np.vdot(g, g))) for g in grads]
            return [
                g * (self.clipnorm / norm) if norm > self.clipnorm else g
                for g, norm in zip(grads, norms)
            ]
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            if norm > self.global_clipnorm:
                return [g * (self.global_clipnorm / norm) for g in grads]
        return grads

    def apply(self, grads: Sequence[Any], variables: Sequence[Variable]) -> None:
        """``apply_gradients`` with separate lists (Keras 3 ``optimizer.apply``)."""
        self.apply_gradients(zip(grads, variables))

    def _with_l2(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray]
    ) -> np.ndarray:
        """``grad + weight_decay * param`` (L2, torch rule only), in a preallocated buffer."""
        if not self.weight_decay or self.update_rule == "keras" or self._decoupled_weight_decay:
            return grad
        decayed = slots["decayed_grad"]
        np.multiply(param, self.weight_decay, out=decayed)
        decayed += grad
        return decayed

    def _update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------------------ state
    def get_state(self) -> dict[str, np.ndarray]:
        """Step count and slot arrays, keyed ``"slot/{variable name}/{slot name}"``.

        Example:

        >>> w = Variable([1.0], name="w")
        >>> opt = SGD(0.1, momentum=0.9)
        >>> opt.apply_gradients([(np.array([1.0]), w)])
        >>> sorted(opt.get_state())
        ['iterations', 'slot/w/momentum']
        """
        state = {"iterations": np.array(self.iterations)}
        for key, slots in self._slots.items():
            for name in self._slot_names:
                state[f"slot/{key}/{name}"] = slots[name]
        return state

    def set_state(
        self,
        state: dict[str, np.ndarray],
        variables: Sequence[Variable],
        saved_names: Sequence[str] | np.ndarray | None = None,
    ) -> None:
        """Restore :meth:`get_state` output; each slot goes to the variable of its name.

        Args:
            state: what :meth:`get_state` returned.
            variables: every variable the state may refer to (e.g. all of a model's weights,
                frozen ones included); those without saved slots start from zeros, as they
                would have in the saved optimizer.
            saved_names: the names ``variables`` had when the state was saved, if they may
                differ now (a model rebuilt in the same process gets new layer names).
        """
        if "iterations" not in state:
            raise ValueError(
                f"Expected optimizer state with an 'iterations' entry. "
                f"Received keys: {sorted(state)[:5]}"
            )
        saved: dict[str, dict[str, np.ndarray]] = {}
        for full_key, value in state.items():
            if full_key.startswith("slot/"):
                key, _, name = full_key[len("slot/") :].rpartition("/")
                saved.setdefault(key, {})[name] = value
        by_key = {self._slot_key(variable): variable for variable in variables}
        if saved_names is not None:
            renamed = {
                str(old): self._slot_key(variable)
                for old, variable in zip(saved_names, variables)
                if str(old)
            }
            saved = {renamed.get(key, key): arrays for key, arrays in saved.items()}
        if saved and not set(saved) & set(by_key) and all(k.isdigit() for k in saved):
            # Earlier versions numbered the slots in order of first use: the trainable ones.
            trainable = [v for v in variables if v.trainable]
            saved = {
                self._slot_key(trainable[int(k)]): v
                for k, v in saved.items()
                if int(k) < len(trainable)
            }
        unknown = sorted(set(saved) - set(by_key))
        if unknown:
            raise ValueError(
                f"Expected optimizer state for the given variables "
                f"({sorted(by_key)[:5]}...). Received: state for unknown "
                f"variables {unknown[:5]}"
            )
        for key, arrays in saved.items():
            variable = by_key[key]
            for name in self._slot_names:
                if name not in arrays:
                    raise ValueError(
                        f"Expected optimizer state 'slot/{key}/{name}' for "
                        f"variable {variable.name!r}. Received slots: "
                        f"{sorted(arrays)}"
                    )
                if arrays[name].shape != variable.shape:
                    raise ValueError(
                        f"Expected slot/{key}/{name} of shape {variable.shape}. "
                        f"Received: shape={arrays[name].shape}"
                    )
            self.build([variable])
            for name in self._slot_names:
                np.copyto(self._slots[key][name], arrays[name])
        self.iterations = int(state["iterations"])

    def get_config(self) -> dict[str, Any]:
        rate: float | dict[str, Any]
        if isinstance(self._learning_rate, LearningRateSchedule):
            schedule = self._learning_rate
            rate = {"class_name": type(schedule).__name__, "config": schedule.get_config()}
        else:
            rate = self._learning_rate
        return {
            "learning_rate": rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
            "update_rule": self.update_rule,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Optimizer":
        config = dict(config)
        rate = config.get("learning_rate")
        if isinstance(rate, dict):
            config["learning_rate"] = _SCHEDULES[rate["class_name"]](**rate["config"])
        return cls(**config)


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Keras rule: ``m = momentum * m - lr * g; w += m`` (Nesterov:
    ``w += momentum * m - lr * g``). Torch rule: ``v = momentum * v + g; w -= lr * v``
    (Nesterov: ``w -= lr * (g + momentum * v)``). They agree for a constant learning rate.

    Example:

    >>> SGD(learning_rate=0.1, momentum=0.9).get_config()["momentum"]
    0.9
    """

    _slot_names: tuple[str, ...] = ("momentum",)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Expected 0 <= momentum < 1. Received: momentum={momentum}")
        self.momentum, self.nesterov = float(momentum), nesterov
        if not self.momentum:
            self._slot_names = ()

    def _update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        scratch = slots["scratch"]
        grad = self._with_l2(param, grad, slots)
        if not self.momentum:
            np.multiply(grad, lr, out=scratch)
            param -= scratch
        elif self.update_rule == "keras":
            m = slots["momentum"]
            m *= self.momentum
            np.multiply(grad, lr, out=scratch)
            m -= scratch
            if self.nesterov:
                param -= scratch
                np.multiply(m, self.momentum, out=scratch)
                param += scratch
            else:
                param += m
        else:
            velocity = slots["momentum"]
            velocity *= self.momentum
            velocity += grad
            if self.nesterov:
                np.multiply(velocity, self.momentum, out=scratch)
                scratch += grad
            else:
                np.copyto(scratch, velocity)
            scratch *= lr
            param -= scratch

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    ``v = rho v + (1 - rho) g^2`` (centered: ``a = rho a + (1 - rho) g`` and ``v - a^2`` in
    place of ``v``). Keras rule: ``step = lr g / sqrt(v + epsilon)``; torch rule
    (``torch.optim.RMSprop(alpha=rho, eps=epsilon)``): ``step = lr g / (sqrt(v) + epsilon)``.
    With ``momentum``, ``b = momentum b + step`` (torch: of the step before scaling by ``lr``)
    and ``w -= b``; else ``w -= step``.

    Example:

    >>> RMSprop().get_config()["rho"]
    0.9
    """

    _slot_names: tuple[str, ...] = ("square_avg", "grad_avg", "momentum")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = centered
        self._slot_names = (
            ("square_avg",)
            + (("grad_avg",) if centered else ())
            + (("momentum",) if self.momentum else ())
        )

    def _update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
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
        else:
            np.copyto(scratch, square_avg)
        keras_rule = self.update_rule == "keras"
        if keras_rule:
            scratch += self.epsilon
            np.sqrt(scratch, out=scratch)
        else:
            np.sqrt(scratch, out=scratch)
            scratch += self.epsilon
        np.divide(grad, scratch, out=scratch)
        if keras_rule:
            scratch *= lr
        if self.momentum:
            velocity = slots["momentum"]
            velocity *= self.momentum
            velocity += scratch
            np.copyto(scratch, velocity)
        if not keras_rule:
            scratch *= lr
        param -= scratch

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adam(Optimizer):
    """Adam: bias-corrected running means of the gradient and its square.

    ``m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2`` (AMSGrad: ``v`` replaced by its running
    maximum). Keras rule: ``w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)``;
    torch rule (``torch.optim.Adam``): ``w -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) +
    epsilon)``.

    Example:

    >>> Adam(learning_rate=3e-4).learning_rate
    0.0003
    """

    _slot_names: tuple[str, ...] = ("m", "v", "v_max")

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = amsgrad
        if not amsgrad:
            self._slot_names = ("m", "v")

    def _update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
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
        bias_correction_1 = 1.0 - self.beta_1**step
        root_bias_correction_2 = math.sqrt(1.0 - self.beta_2**step)
        np.sqrt(v, out=scratch)
        # torch: m / (sqrt(v) / rbc2 + eps) == rbc2 * m / (sqrt(v) + eps * rbc2).
        epsilon = (
            self.epsilon if self.update_rule == "keras" else (self.epsilon * root_bias_correction_2)
        )
        scratch += epsilon
        np.divide(m, scratch, out=scratch)
        scratch *= lr * root_bias_correction_2 / bias_correction_1
        param -= scratch

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``w -= lr * weight_decay * w``
    before the Adam step, as ``keras.optimizers.AdamW`` (default) and ``torch.optim.AdamW``.

    Example:

    >>> AdamW(weight_decay=0.01).weight_decay
    0.01
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float = 0.004,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


OptimizerLike = Union[str, Optimizer]

_REGISTRY: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
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


__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineDecay",
    "ExponentialDecay",
    "LearningRateSchedule",
    "Optimizer",
    "PiecewiseConstantDecay",
    "RMSprop",
    "get",
    "serialize",
]
