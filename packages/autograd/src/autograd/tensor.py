"""The engine: ``Tensor``, ``Variable``, ``GradientTape`` and the differentiable primitives.

A ``Tensor`` wraps a numpy array. While a :class:`GradientTape` is active, every primitive applied
to a tensor that requires gradients records a graph node: the inputs it came from and a
``backward`` closure, its vector-Jacobian product (VJP). Each primitive below defines its forward
computation and its ``backward`` side by side, so the maths can be checked in one glance.

``tape.gradient(target, sources)`` (or ``target.backward()``) sorts the recorded graph
topologically and walks it from the target back to the sources, calling each ``backward`` once.
Gradients of broadcast operands are summed back to the operand's shape in one place
(:func:`unbroadcast`), so the VJPs can ignore broadcasting.

Outside a tape nothing is recorded (as in TensorFlow), which makes inference free of graph cost.
Gradients are first-order: the VJPs work on numpy arrays, not on tensors, so a gradient of a
gradient (nested tapes, or a target computed from ``tape.gradient``'s result) raises an error
instead of silently returning ``None``.

The VJPs read their operands' arrays when the gradient is computed, so every node also records
the *version* of its operands; a :class:`Variable` bumps its version whenever it is assigned
(or updated by an optimizer), and ``gradient`` refuses a graph whose variables changed since
they were recorded, instead of silently differentiating at the new values (as PyTorch does).
"""

from __future__ import annotations

import contextlib
import numbers
from typing import Any, Callable, Iterator, Sequence, Union

import numpy as np

Backward = Callable[[np.ndarray], tuple[Union[np.ndarray, None], ...]]
# float (int included) is listed apart: mypy does not see the builtin numbers as numbers.Number.
TensorLike = Union["Tensor", np.ndarray, float, numbers.Number, Sequence[Any]]

DEFAULT_DTYPE = np.dtype(np.float32)
"""Dtype of tensors made from Python numbers, lists and integer arrays."""

_ACTIVE_TAPES: list["GradientTape"] = []


def is_recording() -> bool:
    """Whether an active :class:`GradientTape` is currently recording operations."""
    for tape in _ACTIVE_TAPES:
        if tape._recording:
            return True
    return False


def to_array(data: TensorLike, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to a real floating numpy array, without copying when possible.

    Float arrays keep their dtype; Python numbers, lists, and integer or boolean arrays become
    :data:`DEFAULT_DTYPE` (float32), unless ``dtype`` is given.
    """
    if isinstance(data, Tensor):
        array = data.data
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
    else:
        array = np.asarray(data)
        if dtype is None and array.dtype.kind in "fiub":
            dtype = DEFAULT_DTYPE
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(
                f"Expected a floating dtype such as 'float32' or 'float64'. Received: dtype={dtype}"
            )
        return array if array.dtype == dtype else array.astype(dtype)
    if array.dtype.kind == "f":
        return array
    if array.dtype.kind in "iub":
        return array.astype(DEFAULT_DTYPE)
    raise TypeError(
        f"Expected real numbers (a float, int or bool array). Received: dtype={array.dtype}"
    )


class Tensor:
    """An n-dimensional array that can take part in automatic differentiation.

    Args:
        data: array-like values. Float arrays keep their dtype; other numbers become float32.
        dtype: optional floating dtype to cast to, e.g. ``"float64"`` for gradient checks.
        requires_grad: whether operations on this tensor are recorded by an active tape.
        name: optional name, shown in ``repr``.

    Example:

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> with GradientTape() as tape:
    ...     y = (x * x).sum()
    >>> tape.gradient(y, x).numpy()
    array([2., 4., 6.], dtype=float32)
    """

    __slots__ = (
        "data",
        "requires_grad",
        "grad",
        "name",
        "_parents",
        "_backward",
        "_op",
        "_version",
        "_parent_versions",
        "__weakref__",
    )
    # Make numpy defer ``ndarray + Tensor`` to ``Tensor.__radd__`` instead of broadcasting.
    __array_ufunc__ = None

    def __init__(
        self,
        data: TensorLike,
        dtype: Any = None,
        requires_grad: bool = False,
        name: str | None = None,
    ) -> None:
        self.data: np.ndarray = to_array(data, dtype)
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self.name = name
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._op = ""
        self._version = 0
        self._parent_versions: tuple[int, ...] = ()

    @classmethod
    def from_op(
        cls, data: np.ndarray, parents: tuple["Tensor", ...], backward: Backward, op: str
    ) -> "Tensor":
        """Wrap the result of a primitive and record it on the graph when a tape is recording.

        ``backward(g)`` must return one gradient (or ``None``) per parent; each may have the
        output's broadcast shape, :func:`unbroadcast` reduces it. Use this to write custom ops.

        Example:

        >>> def cube(x: Tensor) -> Tensor:
        ...     return Tensor.from_op(x.data ** 3, (x,), lambda g: (3 * g * x.data ** 2,), "cube")
        >>> x = Tensor([2.0], requires_grad=True)
        >>> with GradientTape() as tape:
        ...     y = cube(x)
        >>> tape.gradient(y, x).numpy()
        array([12.], dtype=float32)
        """
        out = cls.__new__(cls)
        out.data = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = None
        out.name = None
        out._op = op
        out._version = 0
        if is_recording() and any(parent.requires_grad for parent in parents):
            out.requires_grad = True
            out._parents = parents
            out._parent_versions = tuple(parent._version for parent in parents)
            out._backward = backward
        else:
            out.requires_grad = False
            out._parents = ()
            out._parent_versions = ()
            out._backward = None
        return out

    # ----------------------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def T(self) -> "Tensor":
        return transpose(self)

    @property
    def is_leaf(self) -> bool:
        """True for tensors that were not produced by a recorded operation."""
        return self._backward is None

    def numpy(self) -> np.ndarray:
        """The underlying numpy array (not a copy)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"Expected a tensor with one element. Received: shape={self.shape}")
        return float(self.data.reshape(()))

    def __float__(self) -> float:
        return self.item()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = self.data if dtype is None else self.data.astype(dtype)
        return array.copy() if copy else array

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __repr__(self) -> str:
        extra = ", requires_grad=True" if self.requires_grad else ""
        name = f", name={self.name!r}" if self.name else ""
        body = np.array2string(self.data, separator=", ", threshold=20, precision=4)
        return f"{type(self).__name__}({body}, dtype={self.dtype}{extra}{name})"

    def detach(self) -> "Tensor":
        """A tensor sharing this data that is cut off from the graph."""
        return Tensor(self.data)

    # ------------------------------------------------------------------------------ backward
    def backward(self, gradient: TensorLike | None = None) -> None:
        """Accumulate ``d self / d leaf`` into ``leaf.grad`` for every leaf requiring gradients.

        The graph must have been recorded inside a :class:`GradientTape`. ``gradient`` is the
        upstream gradient; it may be omitted for a one-element tensor.
        """
        if self._backward is None and not self.requires_grad:
            raise RuntimeError(
                "Expected a tensor computed inside a `with GradientTape():` block from tensors "
                "that require gradients. Received: a tensor with no recorded graph "
                f"(shape={self.shape})."
            )
        seed = _seed_gradient(self, gradient)
        leaves = [node for node in _topological_order(self) if node._backward is None]
        wanted = {id(leaf) for leaf in leaves}
        grads = _backpropagate(self, seed, wanted)
        for leaf in leaves:
            grad = grads.get(id(leaf))
            if grad is None:
                continue
            if leaf.grad is None:
                leaf.grad = np.array(grad, dtype=leaf.dtype, copy=True)
            else:
                leaf.grad = leaf.grad + grad

    # ----------------------------------------------------------------------------- operators
    def __add__(self, other: TensorLike) -> "Tensor":
        return add(self, other)

    def __radd__(self, other: TensorLike) -> "Tensor":
        return add(other, self)

    def __sub__(self, other: TensorLike) -> "Tensor":
        return subtract(self, other)

    def __rsub__(self, other: TensorLike) -> "Tensor":
        return subtract(other, self)

    def __mul__(self, other: TensorLike) -> "Tensor":
        return multiply(self, other)

    def __rmul__(self, other: TensorLike) -> "Tensor":
        return multiply(other, self)

    def __truediv__(self, other: TensorLike) -> "Tensor":
        return divide(self, other)

    def __rtruediv__(self, other: TensorLike) -> "Tensor":
        return divide(other, self)

    def __pow__(self, exponent: TensorLike) -> "Tensor":
        return power(self, exponent)

    def __rpow__(self, base: TensorLike) -> "Tensor":
        return power(base, self)

    def __matmul__(self, other: TensorLike) -> "Tensor":
        return matmul(self, other)

    def __rmatmul__(self, other: TensorLike) -> "Tensor":
        return matmul(other, self)

    def __neg__(self) -> "Tensor":
        return negative(self)

    def __getitem__(self, index: Any) -> "Tensor":
        return getitem(self, index)

    # ------------------------------------------------------------------------------- methods
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        return reduce_sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        return reduce_mean(self, axis, keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> "Tensor":
        return reduce_max(self, axis, keepdims)

    def reshape(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape)

    def transpose(self, *axes: int) -> "Tensor":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    def exp(self) -> "Tensor":
        return exp(self)

    def log(self) -> "Tensor":
        return log(self)

    def sqrt(self) -> "Tensor":
        return sqrt(self)

    def abs(self) -> "Tensor":
        return absolute(self)

    def clip(self, min_value: float | None, max_value: float | None) -> "Tensor":
        return clip(self, min_value, max_value)

    def astype(self, dtype: Any) -> "Tensor":
        return cast(self, dtype)


class Variable(Tensor):
    """A mutable tensor holding model state; trainable variables require gradients.

    Optimizers update ``variable.data`` in place. Every change (``assign*``, an optimizer step)
    increments :attr:`version`; a recorded graph that used an older version can no longer be
    differentiated (``tape.gradient`` raises instead of using the new values).

    Args:
        initial_value: array-like initial value (copied).
        dtype: optional floating dtype.
        trainable: whether optimizers should update it (and gradients are recorded).
        name: optional name, used in checkpoints and summaries.

    Example:

    >>> w = Variable([1.0, 2.0], name="w")
    >>> w.assign_sub([0.5, 0.5])
    >>> w.numpy()
    array([0.5, 1.5], dtype=float32)
    """

    __slots__ = ("trainable",)

    def __init__(
        self,
        initial_value: TensorLike,
        dtype: Any = None,
        trainable: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(initial_value, dtype=dtype, requires_grad=trainable, name=name)
        self.data = np.array(self.data, copy=True)
        self.trainable = trainable

    def assign(self, value: TensorLike) -> None:
        """Overwrite the value in place; the shape must not change."""
        array = to_array(value, self.dtype)
        if array.shape != self.shape:
            raise ValueError(
                f"Expected a value of shape {self.shape} for variable "
                f"{self.name!r}. Received: value.shape={array.shape}"
            )
        np.copyto(self.data, array)
        self._version += 1

    def assign_add(self, delta: TensorLike) -> None:
        self.data += to_array(delta, self.dtype)
        self._version += 1

    def assign_sub(self, delta: TensorLike) -> None:
        self.data -= to_array(delta, self.dtype)
        self._version += 1

    @property
    def version(self) -> int:
        """How many times the value was changed in place (assign, optimizer step)."""
        return self._version

    def mark_modified(self) -> None:
        """Record an in-place change made directly to :attr:`data` (optimizers call this)."""
        self._version += 1


def as_tensor(value: TensorLike, dtype: Any = None) -> Tensor:
    """Return ``value`` if it is a tensor (of ``dtype`` when given), else a constant tensor."""
    if isinstance(value, Tensor) and (dtype is None or value.dtype == np.dtype(dtype)):
        return value
    if isinstance(value, Tensor):
        return cast(value, dtype)
    return Tensor(value, dtype=dtype)


def _operands(a: TensorLike, b: TensorLike) -> tuple[Tensor, Tensor]:
    """Tensors for a binary op; a constant operand takes the dtype of the tensor operand."""
    if isinstance(a, Tensor):
        return a, b if isinstance(b, Tensor) else Tensor(b, dtype=a.dtype)
    if isinstance(b, Tensor):
        return Tensor(a, dtype=b.dtype), b
    return Tensor(a), Tensor(b)


# ================================================================================= backprop
def unbroadcast(grad: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape``."""
    if grad.shape != shape:
        extra = grad.ndim - len(shape)
        if extra > 0:
            grad = grad.sum(axis=tuple(range(extra)))
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if stretched:
            grad = grad.sum(axis=stretched, keepdims=True)
        if grad.shape != shape:  # e.g. a () gradient for a (1, 1) operand
            grad = np.broadcast_to(grad, shape)
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


def _topological_order(root: Tensor) -> list[Tensor]:
    """Nodes reachable from ``root`` (through tensors requiring grads), parents first."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def _backpropagate(root: Tensor, seed: np.ndarray, wanted: set[int]) -> dict[int, np.ndarray]:
    """Run every recorded VJP once, in reverse topological order; keep the ``wanted`` grads.

    Intermediate gradients are dropped as soon as they have been propagated.
    """
    order = _topological_order(root)
    for node in order:
        _check_versions(node)
        if node._op == "gradient" and id(node) not in wanted:
            # Differentiating *with respect to* a gradient's value is first-order; through it
            # (to the variables it came from) would need second-order VJPs.
            _second_order_error("a target computed from a gradient")
    grads: dict[int, np.ndarray] = {id(root): seed}
    for node in reversed(order):
        key = id(node)
        grad = grads.get(key) if key in wanted else grads.pop(key, None)
        if grad is None or node._backward is None:
            continue
        for parent, parent_grad in zip(node._parents, node._backward(grad)):
            if parent_grad is None or not parent.requires_grad:
                continue
            parent_grad = unbroadcast(parent_grad, parent.data.shape, parent.data.dtype)
            pkey = id(parent)
            previous = grads.get(pkey)
            grads[pkey] = parent_grad if previous is None else previous + parent_grad
    return grads


def _second_order_error(received: str) -> None:
    raise RuntimeError(
        "Expected first-order gradients only: this library's VJPs work on numpy arrays, so "
        "a gradient of a gradient (e.g. a Hessian through nested tapes) cannot be computed "
        f"and would silently be None. Received: {received}. Differentiate analytically or "
        "use finite differences (autograd.gradcheck.numerical_gradients)."
    )


def _check_versions(node: Tensor) -> None:
    """Raise if an operand of ``node`` was modified in place after ``node`` was recorded."""
    for parent, version in zip(node._parents, node._parent_versions):
        if parent._version != version:
            raise RuntimeError(
                "A variable needed for gradient computation has been modified by an assign "
                f"after it was recorded: {parent.name!r} (shape={parent.shape}) is at version "
                f"{parent._version}; expected version {version}, which the '{node._op}' "
                "operation used. Compute the gradients before updating the variables (call "
                "tape.gradient before optimizer.apply_gradients), or record the computation "
                "again."
            )


def _seed_gradient(target: Tensor, gradient: TensorLike | None) -> np.ndarray:
    if gradient is None:
        if target.size != 1:
            raise ValueError(
                "Expected a one-element target when no output gradient is given. "
                f"Received: target.shape={target.shape}"
            )
        return np.ones_like(target.data)
    seed = to_array(gradient, target.dtype)
    if seed.shape != target.shape:
        raise ValueError(
            f"Expected an output gradient of shape {target.shape}. "
            f"Received: gradient.shape={seed.shape}"
        )
    return seed


class GradientTape:
    """Record operations so that gradients can be computed, like ``tf.GradientTape``.

    Trainable :class:`Variable` objects are watched automatically; call :meth:`watch` for
    other tensors. Nested tapes are allowed (they see the same first-order graph).

    Args:
        persistent: allow more than one :meth:`gradient` call.

    Example:

    >>> w = Variable([[2.0]], name="w")
    >>> x = Tensor([[3.0]])
    >>> with GradientTape() as tape:
    ...     loss = (x @ w).sum()
    >>> [g.numpy() for g in tape.gradient(loss, [w])]
    [array([[3.]], dtype=float32)]
    """

    def __init__(self, persistent: bool = False) -> None:
        self.persistent = persistent
        self._recording = False
        self._used = False
        self._watched: list[Tensor] = []

    def __enter__(self) -> "GradientTape":
        self._recording = True
        _ACTIVE_TAPES.append(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._recording = False
        _ACTIVE_TAPES.remove(self)

    def watch(self, tensors: Tensor | Sequence[Tensor]) -> None:
        """Mark tensors as requiring gradients so that operations on them are recorded."""
        for tensor in _flatten_sources(tensors):
            tensor.requires_grad = True
            self._watched.append(tensor)

    def watched_tensors(self) -> list[Tensor]:
        return list(self._watched)

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Temporarily stop recording on this tape (e.g. for metrics inside a train step)."""
        previous = self._recording
        self._recording = False
        try:
            yield
        finally:
            self._recording = previous

    def gradient(
        self,
        target: Tensor,
        sources: Tensor | Sequence[Tensor],
        output_gradients: TensorLike | None = None,
        unconnected_gradients: str = "none",
    ) -> Any:
        """Gradients of ``target`` with respect to ``sources`` (a tensor or a list of tensors).

        Args:
            target: the tensor to differentiate (any shape if ``output_gradients`` is given).
            sources: a tensor or a list/tuple of tensors.
            output_gradients: the upstream gradient of ``target``; default ones.
            unconnected_gradients: ``"none"`` (return ``None``) or ``"zero"`` for sources that
                do not influence the target.

        Returns:
            A tensor or a list of tensors (or ``None``) matching ``sources``.
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can compute gradients only once. "
                "Use GradientTape(persistent=True) to call gradient() again."
            )
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                "Expected unconnected_gradients to be 'none' or 'zero'. "
                f"Received: unconnected_gradients={unconnected_gradients!r}"
            )
        if not isinstance(target, Tensor):
            raise TypeError(f"Expected target to be a Tensor. Received: {type(target).__name__}")
        source_list = _flatten_sources(sources)
        if target._op == "gradient" and not any(s is target for s in source_list):
            _second_order_error("a target that is itself a gradient")
        self._used = True
        seed = _seed_gradient(target, output_gradients)
        if target.requires_grad:
            grads = _backpropagate(target, seed, {id(s) for s in source_list})
        else:
            grads = {id(target): seed}
        results: list[Tensor | None] = []
        for source in source_list:
            grad = grads.get(id(source))
            if grad is None and unconnected_gradients == "zero":
                grad = np.zeros_like(source.data)
            results.append(None if grad is None else _gradient_result(grad, self))
        return results[0] if isinstance(sources, Tensor) else results


def _gradient_result(grad: np.ndarray, tape: GradientTape) -> Tensor:
    """A gradient as a tensor marked so that differentiating it again is refused.

    Under another recording tape (the nested-tapes pattern for second-order gradients), it is
    recorded like a watched tensor, so that the outer tape finds it in the graph and raises.
    """
    result = Tensor(grad)
    result._op = "gradient"
    result.requires_grad = any(other is not tape and other._recording for other in _ACTIVE_TAPES)
    return result


def _flatten_sources(sources: Tensor | Sequence[Tensor]) -> list[Tensor]:
    if isinstance(sources, Tensor):
        return [sources]
    items = list(sources)
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(
                f"Expected Tensor or Variable sources. "
                f"Received: an element of type {type(item).__name__}"
            )
    return items


# ============================================================================ elementwise
def add(a: TensorLike, b: TensorLike) -> Tensor:
    """``a + b`` with broadcasting."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return g, g

    return Tensor.from_op(a.data + b.data, (a, b), backward, "add")


def subtract(a: TensorLike, b: TensorLike) -> Tensor:
    """``a - b`` with broadcasting."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return g, (-g if b.requires_grad else None)

    return Tensor.from_op(a.data - b.data, (a, b), backward, "subtract")


def multiply(a: TensorLike, b: TensorLike) -> Tensor:
    """``a * b`` with broadcasting."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (g * b.data if a.requires_grad else None, g * a.data if b.requires_grad else None)

    return Tensor.from_op(a.data * b.data, (a, b), backward, "multiply")


def divide(a: TensorLike, b: TensorLike) -> Tensor:
    """``a / b`` with broadcasting."""
    a, b = _operands(a, b)
    out = a.data / b.data

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        return (
            g / b.data if a.requires_grad else None,
            -g * out / b.data if b.requires_grad else None,
        )

    return Tensor.from_op(out, (a, b), backward, "divide")


def power(base: TensorLike, exponent: TensorLike) -> Tensor:
    """``base ** exponent``; the exponent gradient uses ``log(base)`` (needs ``base > 0``)."""
    base, exponent = _operands(base, exponent)
    out = base.data**exponent.data

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        grad_base = grad_exponent = None
        if base.requires_grad:
            grad_base = g * exponent.data * base.data ** (exponent.data - 1)
        if exponent.requires_grad:
            grad_exponent = g * out * np.log(base.data)
        return grad_base, grad_exponent

    return Tensor.from_op(out, (base, exponent), backward, "power")


def negative(a: TensorLike) -> Tensor:
    """``-a``."""
    a = as_tensor(a)
    return Tensor.from_op(-a.data, (a,), lambda g: (-g,), "negative")


def exp(a: TensorLike) -> Tensor:
    """Elementwise ``e ** a``."""
    a = as_tensor(a)
    out = np.exp(a.data)
    return Tensor.from_op(out, (a,), lambda g: (g * out,), "exp")


def log(a: TensorLike) -> Tensor:
    """Elementwise natural logarithm."""
    a = as_tensor(a)
    return Tensor.from_op(np.log(a.data), (a,), lambda g: (g / a.data,), "log")


def sqrt(a: TensorLike) -> Tensor:
    """Elementwise square root."""
    a = as_tensor(a)
    out = np.sqrt(a.data)
    return Tensor.from_op(out, (a,), lambda g: (g * 0.5 / out,), "sqrt")


def absolute(a: TensorLike) -> Tensor:
    """Elementwise ``|a|`` (gradient 0 at 0, like PyTorch)."""
    a = as_tensor(a)
    return Tensor.from_op(np.abs(a.data), (a,), lambda g: (g * np.sign(a.data),), "abs")


def clip(a: TensorLike, min_value: float | None, max_value: float | None) -> Tensor:
    """Clamp to ``[min_value, max_value]``; the gradient passes where the input is in range."""
    a = as_tensor(a)
    out = np.clip(a.data, min_value, max_value)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        inside = np.ones(a.shape, dtype=bool)
        if min_value is not None:
            inside &= a.data >= min_value
        if max_value is not None:
            inside &= a.data <= max_value
        return (g * inside,)

    return Tensor.from_op(out, (a,), backward, "clip")


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise maximum; on ties each operand gets half the gradient (as in PyTorch)."""
    a, b = _operands(a, b)
    return _select(a, b, np.maximum(a.data, b.data), a.data > b.data, "maximum")


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise minimum; on ties each operand gets half the gradient (as in PyTorch)."""
    a, b = _operands(a, b)
    return _select(a, b, np.minimum(a.data, b.data), a.data < b.data, "minimum")


def _select(a: Tensor, b: Tensor, out: np.ndarray, a_wins: np.ndarray, op: str) -> Tensor:
    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        share_a = a_wins + 0.5 * (a.data == b.data)
        return g * share_a, g * (1.0 - share_a)

    return Tensor.from_op(out, (a, b), backward, op)


def where(condition: np.ndarray | Tensor, a: TensorLike, b: TensorLike) -> Tensor:
    """Pick ``a`` where ``condition`` is true, else ``b`` (``condition`` is not differentiated)."""
    a, b = _operands(a, b)
    mask = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zero = np.zeros((), dtype=g.dtype)
        return np.where(mask, g, zero), np.where(mask, zero, g)

    return Tensor.from_op(np.where(mask, a.data, b.data), (a, b), backward, "where")


def cast(a: TensorLike, dtype: Any) -> Tensor:
    """Convert to another floating dtype (the gradient is cast back)."""
    a = as_tensor(a)
    out = to_array(a.data, dtype)
    return Tensor.from_op(out, (a,), lambda g: (g,), "cast")


# ============================================================================== reductions
def _expand_reduced(g: np.ndarray, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Give a reduced gradient back the reduced axes (size 1) so it broadcasts to ``shape``."""
    if axis is not None and not keepdims:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        g = np.expand_dims(g, tuple(ax % len(shape) for ax in axes))
    elif axis is None and not keepdims:
        g = np.reshape(g, (1,) * len(shape))
    return g


def reduce_sum(
    a: TensorLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Tensor:
    """Sum over ``axis`` (all axes by default)."""
    a = as_tensor(a)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (np.broadcast_to(_expand_reduced(g, a.shape, axis, keepdims), a.shape),)

    return Tensor.from_op(np.sum(a.data, axis=axis, keepdims=keepdims), (a,), backward, "sum")


def reduce_mean(
    a: TensorLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Tensor:
    """Mean over ``axis`` (all axes by default)."""
    a = as_tensor(a)
    out = np.mean(a.data, axis=axis, keepdims=keepdims)
    count = a.size // max(out.size, 1) if a.size else 1

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        g = _expand_reduced(g, a.shape, axis, keepdims) / count
        return (np.broadcast_to(g, a.shape),)

    return Tensor.from_op(out, (a,), backward, "mean")


def reduce_max(
    a: TensorLike, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
) -> Tensor:
    """Maximum over ``axis``; tied maxima share the gradient equally (like ``torch.amax``)."""
    a = as_tensor(a)
    out = np.max(a.data, axis=axis, keepdims=keepdims)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        winners = a.data == _expand_reduced(out, a.shape, axis, keepdims)
        ties = np.sum(winners, axis=axis, keepdims=True)
        return (winners * (_expand_reduced(g, a.shape, axis, keepdims) / ties),)

    return Tensor.from_op(out, (a,), backward, "max")


# ================================================================================== shapes
def reshape(a: TensorLike, shape: Sequence[int]) -> Tensor:
    """Same data, new shape (one entry may be -1)."""
    a = as_tensor(a)
    return Tensor.from_op(a.data.reshape(shape), (a,), lambda g: (g.reshape(a.shape),), "reshape")


def transpose(a: TensorLike, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them by default)."""
    a = as_tensor(a)
    axes = tuple(reversed(range(a.ndim))) if axes is None else tuple(axes)
    inverse = tuple(np.argsort(axes))
    return Tensor.from_op(
        a.data.transpose(axes), (a,), lambda g: (g.transpose(inverse),), "transpose"
    )


def expand_dims(a: TensorLike, axis: int) -> Tensor:
    """Insert an axis of length 1."""
    a = as_tensor(a)
    return reshape(a, np.expand_dims(a.data, axis).shape)


def squeeze(a: TensorLike, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove axes of length 1."""
    a = as_tensor(a)
    return reshape(a, np.squeeze(a.data, axis).shape)


def _is_advanced_index(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(item, (list, np.ndarray, Tensor)) for item in items)


def getitem(a: TensorLike, index: Any) -> Tensor:
    """``a[index]`` for basic and advanced (integer/boolean array) indexing."""
    a = as_tensor(a)
    if isinstance(index, Tensor):  # integer positions stored as floats, or a boolean mask
        index = index.data if index.dtype.kind == "b" else index.data.astype(np.intp)
    advanced = _is_advanced_index(index)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = np.zeros(a.shape, dtype=g.dtype)
        if advanced:
            np.add.at(grad, index, g)  # repeated indices must accumulate
        else:
            grad[index] = g
        return (grad,)

    return Tensor.from_op(a.data[index], (a,), backward, "getitem")


def concatenate(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    parts = tuple(as_tensor(t) for t in tensors)
    bounds = np.cumsum([p.shape[axis] for p in parts])[:-1]

    def backward(g: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.split(g, bounds, axis=axis))

    return Tensor.from_op(
        np.concatenate([p.data for p in parts], axis=axis), parts, backward, "concatenate"
    )


def stack(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    parts = tuple(as_tensor(t) for t in tensors)
    out = np.stack([p.data for p in parts], axis=axis)

    def backward(g: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.moveaxis(g, axis, 0))

    return Tensor.from_op(out, parts, backward, "stack")


# ============================================================================ linear algebra
def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """Matrix product with numpy semantics (batched, broadcasting, 1-D operands)."""
    a, b = _operands(a, b)
    out = a.data @ b.data

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a_data, b_data = a.data, b.data
        # Treat 1-D operands as a row (a) / column (b) so the 2-D rules apply, then undo it.
        if b_data.ndim == 1:
            b_data = b_data[:, None]
            g = np.expand_dims(g, -1)
        if a_data.ndim == 1:
            a_data = a_data[None, :]
            g = np.expand_dims(g, -2)
        grad_a = grad_b = None
        if a.requires_grad:
            grad_a = g @ np.swapaxes(b_data, -1, -2)
            if a.ndim == 1:
                grad_a = np.squeeze(grad_a, -2)
        if b.requires_grad:
            grad_b = np.swapaxes(a_data, -1, -2) @ g
            if b.ndim == 1:
                grad_b = np.squeeze(grad_b, -1)
        return grad_a, grad_b

    return Tensor.from_op(out, (a, b), backward, "matmul")


__all__ = [
    "DEFAULT_DTYPE",
    "GradientTape",
    "Tensor",
    "Variable",
    "absolute",
    "add",
    "as_tensor",
    "cast",
    "clip",
    "concatenate",
    "divide",
    "exp",
    "expand_dims",
    "getitem",
    "is_recording",
    "log",
    "matmul",
    "maximum",
    "minimum",
    "multiply",
    "negative",
    "power",
    "reduce_max",
    "reduce_mean",
    "reduce_sum",
    "reshape",
    "sqrt",
    "squeeze",
    "stack",
    "subtract",
    "to_array",
    "transpose",
    "unbroadcast",
    "where",
]
