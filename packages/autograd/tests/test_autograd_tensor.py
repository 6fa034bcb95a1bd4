"""The engine: every primitive against PyTorch and finite differences, broadcasting, the tape."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import GradientTape, Tensor, Variable
from autograd import tensor as T
from autograd_testing import away_from, check_op, compare_with_torch

broadcast_pairs = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4
)
seeds = st.integers(0, 2**16)


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.normal(size=shape)


# ------------------------------------------------------------------ broadcasting binary ops
@given(shapes=broadcast_pairs, seed=seeds)
def test_add_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (normal(rng, s) for s in shapes.input_shapes)
    check_op(T.add, torch.add, [a, b])


@given(shapes=broadcast_pairs, seed=seeds)
def test_subtract_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (normal(rng, s) for s in shapes.input_shapes)
    check_op(T.subtract, torch.sub, [a, b])


@given(shapes=broadcast_pairs, seed=seeds)
def test_multiply_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (normal(rng, s) for s in shapes.input_shapes)
    check_op(T.multiply, torch.mul, [a, b])


@given(shapes=broadcast_pairs, seed=seeds)
def test_divide_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a = normal(rng, shapes.input_shapes[0])
    b = rng.uniform(0.5, 2.0, size=shapes.input_shapes[1]) * rng.choice([-1, 1])
    check_op(T.divide, torch.div, [a, b])


@given(shapes=broadcast_pairs, seed=seeds)
def test_power_with_tensor_exponent(shapes, seed):
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.5, 2.0, size=shapes.input_shapes[0])
    exponent = rng.uniform(-2.0, 2.0, size=shapes.input_shapes[1])
    check_op(T.power, torch.pow, [base, exponent])


@given(shapes=broadcast_pairs, seed=seeds)
def test_maximum_and_minimum_broadcasting(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (normal(rng, s) for s in shapes.input_shapes)
    check_op(T.maximum, torch.maximum, [a, b])
    check_op(T.minimum, torch.minimum, [a, b])


def test_maximum_splits_gradient_on_ties_like_torch():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 5.0, 0.0])
    compare_with_torch(T.maximum, torch.maximum, [a, b])


@pytest.mark.parametrize("exponent", [2.0, 3.0, 0.5, -1.0])
def test_power_with_scalar_exponent(rng, exponent):
    x = rng.uniform(0.5, 2.0, size=(3, 4))
    check_op(lambda t: t**exponent, lambda t: t**exponent, [x])


def test_operators_with_constants_on_either_side(rng):
    x = rng.normal(size=(2, 3))
    c = rng.normal(size=(3,))
    check_op(
        lambda t: 2.0 * t - c / (1.5 + t * t) + (1 - t),
        lambda t: 2.0 * t - torch.from_numpy(c) / (1.5 + t * t) + (1 - t),
        [x],
    )
    check_op(lambda t: c - t, lambda t: torch.from_numpy(c) - t, [x])


# ----------------------------------------------------------------------------- unary ops
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), seed=seeds)
def test_unary_ops(shape, seed):
    rng = np.random.default_rng(seed)
    x = normal(rng, shape)
    positive = rng.uniform(0.2, 3.0, size=shape)
    check_op(T.exp, torch.exp, [x])
    check_op(T.negative, torch.neg, [x])
    check_op(T.log, torch.log, [positive])
    check_op(T.sqrt, torch.sqrt, [positive])
    check_op(T.absolute, torch.abs, [away_from(x)])


def test_clip_matches_torch_clamp(rng):
    x = away_from(rng.normal(size=(4, 5)), points=(-0.5, 0.5))
    check_op(lambda t: T.clip(t, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5), [x])
    check_op(lambda t: T.clip(t, None, 0.5), lambda t: torch.clamp(t, max=0.5), [x])


def test_where(rng):
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    cond = rng.random((3, 4)) > 0.5
    check_op(
        lambda x, y: T.where(cond, x, y),
        lambda x, y: torch.where(torch.from_numpy(cond), x, y),
        [a, b],
    )


def test_cast_sends_gradient_back_in_the_input_dtype():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with GradientTape() as tape:
        y = (T.cast(x, "float32") * 3.0).sum()
    grad = tape.gradient(y, x)
    assert y.dtype == np.float32 and grad.dtype == np.float64
    np.testing.assert_array_equal(grad.numpy(), [3.0, 3.0])


# ------------------------------------------------------------------------------ reductions
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), seed=seeds, data=st.data())
def test_sum_mean_max_over_any_axes(shape, seed, data):
    rng = np.random.default_rng(seed)
    x = normal(rng, shape)
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True, min_size=1))
    axis = tuple(axes)
    keepdims = data.draw(st.booleans())
    check_op(
        lambda t: T.reduce_sum(t, axis, keepdims),
        lambda t: torch.sum(t, dim=axis, keepdim=keepdims),
        [x],
    )
    check_op(
        lambda t: T.reduce_mean(t, axis, keepdims),
        lambda t: torch.mean(t, dim=axis, keepdim=keepdims),
        [x],
    )
    check_op(
        lambda t: T.reduce_max(t, axis, keepdims),
        lambda t: torch.amax(t, dim=axis, keepdim=keepdims),
        [x],
    )


def test_full_reductions_and_negative_axes(rng):
    x = rng.normal(size=(2, 3, 4))
    check_op(lambda t: t.sum(), lambda t: t.sum(), [x])
    check_op(lambda t: t.mean(), lambda t: t.mean(), [x])
    check_op(lambda t: t.max(), lambda t: t.amax(), [x])
    check_op(lambda t: t.sum(axis=-1), lambda t: t.sum(dim=-1), [x])
    check_op(
        lambda t: t.max(axis=(-1, 0), keepdims=True),
        lambda t: t.amax(dim=(-1, 0), keepdim=True),
        [x],
    )


def test_max_shares_gradient_between_ties_like_torch_amax():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    compare_with_torch(lambda t: t.max(axis=1), lambda t: t.amax(dim=1), [x])


# ---------------------------------------------------------------------------------- shapes
def test_reshape_transpose_expand_squeeze(rng):
    x = rng.normal(size=(2, 3, 4))
    check_op(lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6), [x])
    check_op(lambda t: t.reshape((-1,)), lambda t: t.reshape(-1), [x])
    check_op(lambda t: t.transpose(), lambda t: t.permute(2, 1, 0), [x])
    check_op(lambda t: t.transpose(1, 0, 2), lambda t: t.permute(1, 0, 2), [x])
    check_op(lambda t: T.expand_dims(t, 1), lambda t: t.unsqueeze(1), [x])
    check_op(lambda t: T.squeeze(T.expand_dims(t, 0), 0), lambda t: t, [x])
    m = rng.normal(size=(3, 5))
    check_op(lambda t: t.T, lambda t: t.T, [m])


def test_indexing_basic_and_advanced_with_repeats(rng):
    x = rng.normal(size=(5, 4))
    check_op(lambda t: t[1:4, ::2], lambda t: t[1:4, ::2], [x])
    check_op(lambda t: t[-1], lambda t: t[-1], [x])
    index = np.array([0, 2, 2, 4])
    check_op(lambda t: t[index], lambda t: t[torch.from_numpy(index)], [x])
    rows, cols = np.array([0, 1, 1]), np.array([3, 2, 2])
    check_op(
        lambda t: t[rows, cols], lambda t: t[torch.from_numpy(rows), torch.from_numpy(cols)], [x]
    )
    mask = x > 0
    check_op(lambda t: t[mask], lambda t: t[torch.from_numpy(mask)], [x])


def test_concatenate_and_stack(rng):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(4, 3))
    check_op(lambda x, y: T.concatenate([x, y], axis=0), lambda x, y: torch.cat([x, y], 0), [a, b])
    c, d = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    check_op(lambda x, y: T.stack([x, y], axis=1), lambda x, y: torch.stack([x, y], 1), [c, d])


# ---------------------------------------------------------------------------------- matmul
@given(
    batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
    m=st.integers(1, 4),
    k=st.integers(1, 4),
    n=st.integers(1, 4),
    seed=seeds,
)
def test_batched_broadcasting_matmul(batch, m, k, n, seed):
    rng = np.random.default_rng(seed)
    a = normal(rng, (*batch.input_shapes[0], m, k))
    b = normal(rng, (*batch.input_shapes[1], k, n))
    check_op(T.matmul, torch.matmul, [a, b])


@pytest.mark.parametrize(
    "shapes", [((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((3,), (2, 3, 4)), ((2, 4, 3), (3,))]
)
def test_matmul_with_vectors(rng, shapes):
    a, b = (rng.normal(size=s) for s in shapes)
    check_op(T.matmul, torch.matmul, [a, b])


def test_composite_expression_reuses_nodes(rng):
    """A node used several times accumulates gradient from every use."""
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))

    def ours(x, w):
        h = x @ w
        return (h * h + h).exp().sum(axis=0) / (1.0 + (h**2).sum())

    def theirs(x, w):
        h = x @ w
        return (h * h + h).exp().sum(dim=0) / (1.0 + (h**2).sum())

    check_op(ours, theirs, [x, w])


# ---------------------------------------------------------------------------- dtype rules
def test_dtype_rules():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert Tensor([1, 2], dtype="float64").dtype == np.float64
    x = Tensor(np.ones(2, dtype=np.float32))
    assert (x * 2.5).dtype == np.float32
    assert (x + np.ones(2, dtype=np.float64)).dtype == np.float32  # constants follow the tensor
    with pytest.raises(TypeError, match="Expected real numbers.*Received: dtype=<U"):
        Tensor(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="Expected a floating dtype.*Received: dtype=int32"):
        Tensor([1.0], dtype="int32")


def test_tensor_does_not_copy_float_arrays():
    data = np.ones(3, dtype=np.float32)
    assert Tensor(data).data is data
    variable = Variable(data)
    assert variable.data is not data  # variables own their storage (updated in place)


# -------------------------------------------------------------------------------- the tape
def test_nothing_is_recorded_outside_a_tape():
    w = Variable([1.0, 2.0])
    y = (w * w).sum()
    assert y.is_leaf and not y.requires_grad
    with pytest.raises(RuntimeError, match="GradientTape"):
        y.backward()


def test_constants_are_not_recorded_and_watch_makes_them_tracked():
    x = Tensor([1.0, 2.0])
    with GradientTape() as tape:
        y = (x * x).sum()
    assert tape.gradient(y, x) is None
    with GradientTape() as tape:
        tape.watch(x)
        y = (x * x).sum()
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0])


def test_tape_gradient_structures_and_unconnected():
    a, b, unused = Variable([1.0]), Variable([2.0]), Variable([3.0])
    with GradientTape(persistent=True) as tape:
        y = (a * b).sum()
    grads = tape.gradient(y, [a, b, unused])
    assert [g.item() for g in grads[:2]] == [2.0, 1.0] and grads[2] is None
    zeros = tape.gradient(y, [unused], unconnected_gradients="zero")
    assert zeros[0].numpy().tolist() == [0.0]
    assert tape.gradient(y, a).item() == 2.0


def test_non_persistent_tape_is_single_use():
    w = Variable([1.0])
    with GradientTape() as tape:
        y = (w * w).sum()
    tape.gradient(y, w)
    with pytest.raises(RuntimeError, match="only once"):
        tape.gradient(y, w)


def test_stop_recording():
    w = Variable([3.0])
    with GradientTape() as tape:
        y = w * w
        with tape.stop_recording():
            z = w * 10.0
    assert z.is_leaf and not y.is_leaf


def test_output_gradients_and_errors():
    w = Variable([1.0, 2.0])
    with GradientTape(persistent=True) as tape:
        y = w * 3.0
    g = tape.gradient(y, w, output_gradients=np.array([1.0, -1.0], dtype=np.float32))
    np.testing.assert_allclose(g.numpy(), [3.0, -3.0])
    with pytest.raises(ValueError, match="one-element target.*Received: target.shape=\\(2,\\)"):
        tape.gradient(y, w)
    with pytest.raises(ValueError, match="Expected an output gradient of shape \\(2,\\)"):
        tape.gradient(y, w, output_gradients=np.ones(3))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, w, unconnected_gradients="zeros")
    with pytest.raises(TypeError, match="Expected Tensor or Variable sources"):
        tape.gradient(y, [np.ones(2)])


def test_backward_accumulates_into_leaf_grads():
    w = Variable([1.0, 2.0])
    for _ in range(2):
        with GradientTape():
            loss = (w * w).sum()
        loss.backward()
    np.testing.assert_allclose(w.grad, [4.0, 8.0])


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Variable([1.0])
    with GradientTape() as tape:
        y = x
        for _ in range(5000):
            y = y * 1.0001
        total = y.sum()
    grad = tape.gradient(total, x)
    assert abs(grad.item() - 1.0001**5000) < 1e-2


def test_nested_tapes_see_the_same_graph():
    w = Variable([2.0])
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = (w * w).sum()
        assert inner.gradient(y, w).item() == 4.0
    assert outer.gradient(y, w).item() == 4.0


def test_custom_op_through_from_op():
    def cube(x: Tensor) -> Tensor:
        return Tensor.from_op(x.data**3, (x,), lambda g: (3 * g * x.data**2,), "cube")

    check_op(cube, lambda t: t**3, [np.array([0.5, -1.5, 2.0])])


def test_variable_assign_checks_shape():
    w = Variable(np.zeros((2, 2)), name="w")
    with pytest.raises(
        ValueError,
        match=r"Expected a value of shape \(2, 2\).*Received: "
        r"value.shape=\(3,\)",
    ):
        w.assign(np.zeros(3))


def test_item_and_repr():
    assert Tensor([[2.5]]).item() == 2.5
    with pytest.raises(ValueError, match="one element"):
        Tensor([1.0, 2.0]).item()
    assert "requires_grad=True" in repr(Variable([1.0]))
    assert ag.as_tensor(np.ones(2)).shape == (2,)


# ====================================================== variables modified after recording
@pytest.mark.parametrize(
    "modify",
    [
        lambda u: u.assign([5.0, 7.0]),
        lambda u: u.assign_add([1.0, 1.0]),
        lambda u: u.assign_sub([1.0, 1.0]),
        lambda u: ag.optimizers.SGD(0.1).apply_gradients([(np.ones(2), u)]),
    ],
)
def test_gradient_after_the_variable_was_modified_raises(modify):
    u = Variable([1.0, 2.0], name="u")
    with GradientTape(persistent=True) as tape:
        y = (u * u * u).sum()
    np.testing.assert_allclose(tape.gradient(y, u).numpy(), [3.0, 12.0])
    modify(u)  # the recorded graph needs u's old value: d(sum u^3)/du = 3 u^2
    with pytest.raises(
        RuntimeError,
        match="A variable needed for gradient computation has "
        "been modified by an assign after it was recorded"
        ".*'u'",
    ):
        tape.gradient(y, u)
    with pytest.raises(RuntimeError, match="modified by an assign"):
        y.backward()


def test_modified_non_trainable_variable_in_the_graph_also_raises():
    w, scale = Variable([2.0], name="w"), Variable([3.0], trainable=False, name="scale")
    with GradientTape() as tape:
        y = (w * scale).sum()
    scale.assign([10.0])
    with pytest.raises(RuntimeError, match="'scale'"):
        tape.gradient(y, w)


def test_recording_again_after_an_update_works():
    u = Variable([1.0, 2.0])
    optimizer = ag.optimizers.SGD(0.1)
    for _ in range(2):
        with GradientTape() as tape:
            y = (u * u * u).sum()
        grad = tape.gradient(y, u)
        np.testing.assert_allclose(grad.numpy(), 3 * u.numpy() ** 2)
        optimizer.apply_gradients([(grad, u)])


# ================================================================ second-order gradients
def test_gradient_of_a_gradient_raises_instead_of_returning_none():
    x = Variable([1.0, 2.0], name="x")
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = (x * x * x).sum()
        penalty = (inner.gradient(y, x) ** 2).sum()  # as for a gradient penalty or a Hessian
    with pytest.raises(
        RuntimeError,
        match="Expected first-order gradients only.*Received: a target computed from a gradient",
    ):
        outer.gradient(penalty, x)
    with GradientTape(persistent=True) as tape:
        y = (x * x * x).sum()
    first = tape.gradient(y, x)
    np.testing.assert_allclose(first.numpy(), [3.0, 12.0])
    with pytest.raises(
        RuntimeError,
        match="Expected first-order gradients only.*Received: a target that is itself a gradient",
    ):
        tape.gradient(first, x, output_gradients=np.ones(2))
    with GradientTape() as again:
        again.watch(first)
        z = (first * first).sum()
    with pytest.raises(RuntimeError, match="Received: a target computed from a gradient"):
        again.gradient(z, x)
    with GradientTape() as first_order:  # with respect to the gradient's value: fine
        first_order.watch(first)
        z = (first * first).sum()
    np.testing.assert_allclose(first_order.gradient(z, first).numpy(), [6.0, 24.0])
