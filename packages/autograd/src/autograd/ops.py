"""The fused primitives behind the layers: ``dense``, ``conv2d``, ``max_pool2d``,
``batch_norm``, ``dropout`` and ``random_shift``.

Each is one graph node whose forward pass and vector-Jacobian product (VJP) sit side by side,
like the element-wise primitives in :mod:`autograd.tensor`; fusing them (one node for
``x @ kernel + bias`` instead of two, one for a whole convolution) keeps the graph small and
lets each VJP reuse what its forward pass computed. The layer classes in
:mod:`autograd.layers` own the weights and the configuration and call these functions.

Images are channels-last, ``(batch, height, width, channels)``, and conv kernels are
``(kernel_height, kernel_width, in_channels, filters)``, as in Keras.

Example:

>>> import numpy as np
>>> from autograd import GradientTape, Tensor, Variable
>>> from autograd.ops import dense
>>> x = Tensor(np.ones((2, 3), dtype="float32"))
>>> kernel, bias = Variable(np.ones((3, 4), dtype="float32")), Variable(np.zeros(4, "float32"))
>>> with GradientTape() as tape:
...     total = dense(x, kernel, bias).sum()
>>> tape.gradient(total, bias).numpy()
array([2., 2., 2., 2.], dtype=float32)
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd.tensor import Tensor


# =================================================================================== dense
def _column_sums(matrix: np.ndarray) -> np.ndarray:
    """``matrix.sum(axis=0)`` for a 2-D array as a BLAS matrix-vector product (several times
    faster than numpy's reduction for tall matrices such as conv bias gradients)."""
    return np.ones(matrix.shape[0], dtype=matrix.dtype) @ matrix


def dense(x: Tensor, kernel: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ kernel + bias`` as one primitive (one output array, no broadcast temporaries)."""
    out = x.data @ kernel.data
    if bias is not None:
        out += bias.data

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        grad_x = g @ kernel.data.T if x.requires_grad else None
        g2 = g.reshape(-1, g.shape[-1])
        grad_kernel = grad_bias = None
        if kernel.requires_grad:
            grad_kernel = x.data.reshape(-1, x.shape[-1]).T @ g2
        if bias is not None and bias.requires_grad:
            grad_bias = _column_sums(g2)
        return grad_x, grad_kernel, grad_bias

    parents = (x, kernel) if bias is None else (x, kernel, bias)
    return Tensor.from_op(out, parents, backward, "dense")


# ================================================================================= dropout
def dropout(x: Tensor, mask: np.ndarray) -> Tensor:
    """``x * mask`` where ``mask`` already holds ``0`` or ``1 / keep_probability``."""
    return Tensor.from_op(x.data * mask, (x,), lambda g: (g * mask,), "dropout")


# ============================================================================ augmentation
def random_shift(x: Tensor, shifts: np.ndarray) -> Tensor:
    """Translate each image of a channels-last batch by whole pixels, filling with zeros.

    Args:
        x: ``(batch, height, width, channels)``.
        shifts: integers of shape ``(batch, 2)``: image ``i`` moves ``shifts[i, 0]`` rows down
            and ``shifts[i, 1]`` columns right (negative: up / left); what leaves the frame is
            lost, what enters is 0.

    The VJP moves the output gradient back by the same shift (the gradient of what was lost
    is 0).
    """
    n, height, width, _ = x.shape
    shifts = np.asarray(shifts)
    if shifts.shape != (n, 2) or shifts.dtype.kind not in "iu":
        raise ValueError(
            f"Expected integer shifts of shape ({n}, 2). Received: "
            f"shifts.shape={shifts.shape}, dtype={shifts.dtype}"
        )
    margin = int(np.abs(shifts).max()) if n else 0
    pad = ((0, 0), (margin, margin), (margin, margin), (0, 0))
    # Output pixel (r, c) of image i reads padded pixel (margin - dy + r, margin - dx + c).
    rows = (margin - shifts[:, 0])[:, None, None] + np.arange(height)[None, :, None]
    cols = (margin - shifts[:, 1])[:, None, None] + np.arange(width)[None, None, :]
    images = np.arange(n)[:, None, None]
    out = np.pad(x.data, pad)[images, rows, cols]

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = np.zeros((n, height + 2 * margin, width + 2 * margin, g.shape[-1]), g.dtype)
        grad[images, rows, cols] = g  # each padded pixel is read at most once: no sums
        return (grad[:, margin : margin + height, margin : margin + width, :],)

    return Tensor.from_op(out, (x,), backward, "random_shift")


# ============================================================================== batch norm
def batch_norm(
    x: Tensor,
    gamma: Tensor,
    beta: Tensor,
    mean: np.ndarray | None = None,
    variance: np.ndarray | None = None,
    epsilon: float = 1e-3,
) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """Normalise over every axis but the last, then scale by ``gamma`` and shift by ``beta``.

    With ``mean``/``variance`` given (inference) those statistics are used; otherwise the batch
    statistics are (training), and they are returned for the moving averages.
    Returns ``(output, mean, variance)``; ``variance`` is the biased batch variance.
    """
    axes = tuple(range(x.ndim - 1))
    training = mean is None
    if mean is None:
        mean = x.data.mean(axis=axes)
        centered = x.data - mean
        variance = np.mean(centered * centered, axis=axes)
    elif variance is None:
        raise ValueError(
            "Expected both mean and variance (inference) or neither (training). "
            "Received: mean without variance"
        )
    else:
        centered = x.data - mean
    inv_std = 1.0 / np.sqrt(variance + epsilon)
    x_hat = centered * inv_std
    out = x_hat * gamma.data + beta.data
    count = x.size // x.shape[-1]

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        grad_beta = g.sum(axis=axes)
        grad_gamma = (g * x_hat).sum(axis=axes)
        grad_x = None
        if x.requires_grad and training:
            # d/dx of gamma * (x - mean) / std when mean and std depend on x as well.
            grad_x = (gamma.data * inv_std / count) * (count * g - grad_beta - x_hat * grad_gamma)
        elif x.requires_grad:
            grad_x = g * (gamma.data * inv_std)
        return grad_x, grad_gamma, grad_beta

    return Tensor.from_op(out, (x, gamma, beta), backward, "batch_norm"), mean, variance


# ================================================================================= conv2d
def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: output ``ceil(size / stride)``, extra padding at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv_padding(
    padding: str, height: int, width: int, kernel: tuple[int, int], strides: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    if padding == "valid":
        return (0, 0), (0, 0)
    return (
        _same_padding(height, kernel[0], strides[0]),
        _same_padding(width, kernel[1], strides[1]),
    )


def _im2col(
    padded: np.ndarray,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    dh: int = 1,
    dw: int = 1,
    ones_column: bool = False,
) -> tuple[np.ndarray, int, int]:
    """Gather every ``kh x kw`` window (taps ``dh``/``dw`` apart) of a padded NHWC batch into
    one row each.

    Returns ``(cols, out_h, out_w)`` with ``cols`` of shape
    ``(n * out_h * out_w, kh * kw * channels)``, ordered ``(kh, kw, channels)`` to match a
    Keras kernel reshaped to ``(kh * kw * channels, filters)``. With ``ones_column`` the rows
    get one more element, 1, so that a bias stacked under the kernel matrix is added by the
    same matrix product (and its gradient comes out of the kernel-gradient product).
    """
    n, _, _, channels = padded.shape
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    # A (n, out_h, out_w, kh, kw, channels) view of the windows; copying it into cols is the
    # only pass over the data.
    windows = sliding_window_view(padded, (span_h, span_w), axis=(1, 2))[
        :, ::sh, ::sw, :, ::dh, ::dw
    ].transpose(0, 1, 2, 4, 5, 3)
    out_h, out_w = windows.shape[1], windows.shape[2]
    width = kh * kw * channels
    cols = np.empty((n * out_h * out_w, width + ones_column), dtype=padded.dtype)
    np.copyto(cols[:, :width].reshape(windows.shape), windows)
    if ones_column:
        cols[:, width] = 1
    return cols, out_h, out_w


# ======================================================================= Winograd F(2x2, 3x3)
# Lavin & Gray (2016): a 2x2 output tile of a 3x3 correlation is A^T [(G w G^T) * (B^T d B)] A
# for the 4x4 input tile d under it: 16 multiplications per tile and channel pair instead of 36.
# Summed over input channels, the 16 element-wise products become 16 matrix products
# (tiles x in_channels) @ (in_channels x filters), 2.25x fewer flops than im2col's one GEMM.
_WINOGRAD_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
# Convolutions with fewer input channels stay on im2col: their GEMMs are too thin to gain
# (measured on one thread, batches of 128: 8 -> 16 channels 25 % slower than im2col, 16 -> 32
# on 14 x 14 images 7 % faster, 16 -> 16 on 28 x 28 25 % faster).
_WINOGRAD_MIN_CHANNELS = 16
# Images per chunk of the Winograd passes (a chunk's tiles should fit in cache).
_WINOGRAD_CHUNK = 16


def _winograd_kernel(kernel: np.ndarray) -> np.ndarray:
    """``G w G^T`` for every (in_channel, filter) pair: ``(3, 3, C, F)`` -> ``(16, C, F)``."""
    g = _WINOGRAD_G.astype(kernel.dtype)
    _, _, channels, filters = kernel.shape
    return np.einsum("ai,bj,ijcf->abcf", g, g, kernel, optimize=True).reshape(16, channels, filters)


def _winograd_input(padded: np.ndarray, th: int, tw: int, out: np.ndarray) -> None:
    """``B^T d B`` for the ``th x tw`` 4x4 tiles (2 apart) of ``padded``, which has
    ``2 * th + 2`` rows and ``2 * tw + 2`` columns, into ``out``: ``(16, n * th * tw, C)``."""
    n, _, _, channels = padded.shape
    v = out.reshape(4, 4, n, th, tw, channels)
    r = [padded[:, i : i + 2 * th : 2] for i in range(4)]  # tile row i of every tile row
    rows = np.empty((4, *r[0].shape), dtype=padded.dtype)  # B^T d
    np.subtract(r[0], r[2], out=rows[0])
    np.add(r[1], r[2], out=rows[1])
    np.subtract(r[2], r[1], out=rows[2])
    np.subtract(r[1], r[3], out=rows[3])
    c = [rows[:, :, :, j : j + 2 * tw : 2] for j in range(4)]  # (B^T d) B
    np.subtract(c[0], c[2], out=v[:, 0])
    np.add(c[1], c[2], out=v[:, 1])
    np.subtract(c[2], c[1], out=v[:, 2])
    np.subtract(c[1], c[3], out=v[:, 3])


def _winograd_output(m: np.ndarray, n: int, th: int, tw: int, out: np.ndarray) -> None:
    """``A^T M A`` per tile, ``(16, n * th * tw, F)``, into ``out``: ``(n, 2 * th, 2 * tw, F)``."""
    filters = m.shape[-1]
    m = m.reshape(4, 4, n, th, tw, filters)
    out = out.reshape(n, th, 2, tw, 2, filters)
    p0 = m[:, 0] + m[:, 1]
    p0 += m[:, 2]
    p1 = m[:, 1] - m[:, 2]
    p1 -= m[:, 3]
    for s, p in enumerate((p0, p1)):
        np.add(p[0], p[1], out=out[:, :, 0, :, s])
        out[:, :, 0, :, s] += p[2]
        np.subtract(p[1], p[2], out=out[:, :, 1, :, s])
        out[:, :, 1, :, s] -= p[3]


def _winograd_output_vjp(g: np.ndarray, th: int, tw: int) -> np.ndarray:
    """The transpose of :func:`_winograd_output`: ``A dY A^T`` per tile,
    ``(n, 2 * th, 2 * tw, F)`` -> ``(16, n * th * tw, F)``."""
    n, _, _, filters = g.shape
    g = g.reshape(n, th, 2, tw, 2, filters)
    dm = np.empty((4, 4, n, th, tw, filters), dtype=g.dtype)
    q1 = np.empty((4, n, th, tw, filters), dtype=g.dtype)
    for r, q in enumerate((dm[0], q1)):  # A dY per tile row, then (A dY) A^T
        y0, y1 = g[:, :, r, :, 0], g[:, :, r, :, 1]
        q[0] = y0
        np.add(y0, y1, out=q[1])
        np.subtract(y0, y1, out=q[2])
        np.negative(y1, out=q[3])
    np.add(dm[0], q1, out=dm[1])
    np.subtract(dm[0], q1, out=dm[2])
    np.negative(q1, out=dm[3])
    return dm.reshape(16, n * th * tw, filters)


def _winograd_input_vjp(dv: np.ndarray, n: int, th: int, tw: int, out: np.ndarray) -> None:
    """The transpose of :func:`_winograd_input`: ``B dV B^T`` per tile, the overlapping tiles
    added up: ``(16, n * th * tw, C)`` into ``out``, ``(n, 2 * th + 2, 2 * tw + 2, C)``."""
    channels = dv.shape[-1]
    dv = dv.reshape(4, 4, n, th, tw, channels)
    # Columns: tile column j of tile tx is padded column 2 * (tx + j // 2) + j % 2, and
    # B dV B^T's columns are dV0, dV1 - dV2 + dV3, dV1 + dV2 - dV0 and -dV3.
    e = np.empty((4, n, th, tw + 1, 2, channels), dtype=dv.dtype)
    e[:, :, :, tw] = 0
    e[:, :, :, :tw, 0] = dv[:, 0]
    np.subtract(dv[:, 1], dv[:, 2], out=e[:, :, :, :tw, 1])
    e[:, :, :, :tw, 1] += dv[:, 3]
    both = dv[:, 1] + dv[:, 2]
    both -= dv[:, 0]
    e[:, :, :, 1:, 0] += both
    e[:, :, :, 1:, 1] -= dv[:, 3]
    e = e.reshape(4, n, th, 2 * tw + 2, channels)
    # Rows, the same way.
    grad = out.reshape(n, th + 1, 2, 2 * tw + 2, channels)
    grad[:, th] = 0
    grad[:, :th, 0] = e[0]
    np.subtract(e[1], e[2], out=grad[:, :th, 1])
    grad[:, :th, 1] += e[3]
    both = e[1] + e[2]
    both -= e[0]
    grad[:, 1:, 0] += both
    grad[:, 1:, 1] -= e[3]


def _winograd_conv2d(
    x: Tensor, kernel: Tensor, bias: Tensor | None, padding: tuple[tuple[int, int], ...]
) -> Tensor:
    """A stride-1, undilated 3x3 :func:`conv2d` by Winograd F(2x2, 3x3); its VJP is the
    transpose of the same computation (so the gradients are exact up to rounding): the output
    gradient's tile transform, then 16 GEMMs each for the kernel and input gradients.

    Both passes run over chunks of :data:`_WINOGRAD_CHUNK` images so that each chunk's
    transformed tiles are still in cache when its GEMMs and inverse transform read them."""
    n, height, width, channels = x.shape
    (top, bottom), (left, right) = padding
    out_h, out_w = height + top + bottom - 2, width + left + right - 2
    th, tw = -(-out_h // 2), -(-out_w // 2)
    # The tiles read 2 * th + 2 rows: one zero row more at the end when out_h is odd (and the
    # same for the columns).
    padded_shape = (n, 2 * th + 2, 2 * tw + 2, channels)
    u = _winograd_kernel(kernel.data)
    u_t = np.ascontiguousarray(u.transpose(0, 2, 1))  # for the input gradient
    filters = u.shape[-1]
    tiles = th * tw
    chunks = [(s, min(s + _WINOGRAD_CHUNK, n)) for s in range(0, n, _WINOGRAD_CHUNK)]
    v = np.empty((16, n * tiles, channels), dtype=np.result_type(x.data, u))
    out = np.empty((n, 2 * th, 2 * tw, filters), dtype=v.dtype)
    # Each chunk is zero-padded in one cache-sized buffer: its border stays zero throughout.
    padded = np.zeros((min(_WINOGRAD_CHUNK, n), *padded_shape[1:]), dtype=x.dtype)
    for s, e in chunks:
        padded[: e - s, top : top + height, left : left + width] = x.data[s:e]
        v_chunk = v[:, s * tiles : e * tiles]
        _winograd_input(padded[: e - s], th, tw, v_chunk)
        m = np.matmul(v_chunk, u)
        if bias is not None:
            m[5] += bias.data  # M[1, 1] enters every output of its tile with weight +1
        _winograd_output(m, e - s, th, tw, out[s:e])
    if (2 * th, 2 * tw) != (out_h, out_w):
        out = np.ascontiguousarray(out[:, :out_h, :out_w])

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        if (2 * th, 2 * tw) != (out_h, out_w):
            full = np.zeros((n, 2 * th, 2 * tw, g.shape[-1]), dtype=g.dtype)
            full[:, :out_h, :out_w] = g
            g = full
        need_kernel = kernel.requires_grad
        need_bias = bias is not None and bias.requires_grad
        du = np.zeros(u.shape, dtype=v.dtype) if need_kernel else None
        grad_bias = np.zeros(filters, dtype=g.dtype) if need_bias else None
        grad_padded = np.empty(padded_shape, dtype=v.dtype) if x.requires_grad else None
        for s, e in chunks:
            dm = _winograd_output_vjp(g[s:e], th, tw)
            if du is not None:
                du += np.matmul(v[:, s * tiles : e * tiles].transpose(0, 2, 1), dm)
            if grad_bias is not None:
                grad_bias += _column_sums(dm[5])
            if grad_padded is not None:
                dv = np.matmul(dm, u_t)
                _winograd_input_vjp(dv, e - s, th, tw, grad_padded[s:e])
        grad_kernel = grad_x = None
        if du is not None:
            gm = _WINOGRAD_G.astype(du.dtype)
            grad_kernel = np.einsum("ai,bj,abcf->ijcf", gm, gm, du.reshape(4, 4, *u.shape[1:]))
        if grad_padded is not None:
            grad_x = grad_padded[:, top : top + height, left : left + width]
        return grad_x, grad_kernel, grad_bias

    parents = (x, kernel) if bias is None else (x, kernel, bias)
    return Tensor.from_op(out, parents, backward, "conv2d")


def conv2d(
    x: Tensor,
    kernel: Tensor,
    bias: Tensor | None = None,
    strides: tuple[int, int] = (1, 1),
    padding: str = "valid",
    dilation_rate: tuple[int, int] = (1, 1),
) -> Tensor:
    """2-D cross-correlation (what deep-learning libraries call convolution), via im2col, or
    via Winograd F(2x2, 3x3) for stride-1, undilated 3x3 kernels on 16 or more input channels
    (2.25x fewer multiplications; the same results up to float rounding).

    Forward: the input windows are gathered into a matrix ``cols`` of shape
    ``(batch * out_h * out_w, kh * kw * in_channels)`` so the convolution is one matrix product
    with the kernel reshaped to ``(kh * kw * in_channels, filters)`` (and the bias stacked under
    it, against a column of ones in ``cols``).

    VJP: the kernel gradient is ``cols.T @ g`` (its last row is the bias gradient); ``cols`` is
    the forward pass's, kept for this. The input gradient scatters the column
    gradients ``g @ K.T`` back onto the image (col2im): per kernel position one matrix product
    and one vectorised add onto a strided view, for any stride.

    Args:
        x: ``(batch, height, width, in_channels)``.
        kernel: ``(kh, kw, in_channels, filters)``.
        bias: ``(filters,)`` or ``None``.
        strides: ``(stride_h, stride_w)``.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's convention).
        dilation_rate: ``(dh, dw)``: kernel taps ``dh`` rows and ``dw`` columns apart (atrous
            convolution); the kernel then spans ``(kh - 1) * dh + 1`` rows.
    """
    n, height, width, channels = x.shape
    kh, kw, _, filters = kernel.shape
    sh, sw = strides
    dh, dw = dilation_rate
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    (top, bottom), (left, right) = _conv_padding(padding, height, width, span, strides)
    if (
        (kh, kw) == (3, 3)
        and tuple(strides) == (1, 1)
        and tuple(dilation_rate) == (1, 1)
        and channels >= _WINOGRAD_MIN_CHANNELS
        and height + top + bottom >= 3
        and width + left + right >= 3
    ):
        return _winograd_conv2d(x, kernel, bias, ((top, bottom), (left, right)))
    padded = x.data
    if top or bottom or left or right:
        padded = np.pad(x.data, ((0, 0), (top, bottom), (left, right), (0, 0)))
    # The bias is one more row of the kernel matrix, multiplied by a column of ones in cols:
    # no separate pass over the output to add it, nor over the output gradient to sum it.
    cols, out_h, out_w = _im2col(padded, kh, kw, sh, sw, dh, dw, ones_column=bias is not None)
    patch = kh * kw * channels  # the length of one window's row in cols
    kernel_matrix = kernel.data.reshape(patch, filters)
    if bias is not None:
        kernel_matrix = np.concatenate(
            [kernel_matrix, bias.data.reshape(1, filters).astype(kernel_matrix.dtype)]
        )
    out = cols @ kernel_matrix

    def input_gradient(g: np.ndarray) -> np.ndarray:
        # col2im, one kernel position at a time: the window element (i, j) of every output
        # position receives g @ K[i, j].T, a contiguous (batch, out_h, out_w, channels) block
        # added onto a strided view of the padded input. Unlike a second im2col over the
        # padded output gradient, this never builds a (kh * kw)-times larger copy of g.
        g_rows = g.reshape(-1, filters)
        grad_padded = np.zeros(padded.shape, dtype=g.dtype)
        for i in range(kh):
            for j in range(kw):
                block = (g_rows @ kernel.data[i, j].T).reshape(n, out_h, out_w, channels)
                row, col = i * dh, j * dw
                grad_padded[
                    :,
                    row : row + sh * (out_h - 1) + 1 : sh,
                    col : col + sw * (out_w - 1) + 1 : sw,
                    :,
                ] += block
        return grad_padded[:, top : top + height, left : left + width, :]

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        g2 = g.reshape(-1, filters)
        grad_kernel = grad_bias = None
        if kernel.requires_grad:
            # With a bias, the last row is cols' column of ones times g: the bias gradient.
            stacked = cols.T @ g2
            grad_kernel = stacked[:patch].reshape(kernel.shape)
            if bias is not None:
                grad_bias = stacked[patch]
        elif bias is not None and bias.requires_grad:
            grad_bias = _column_sums(g2)
        grad_x = input_gradient(g) if x.requires_grad else None
        return grad_x, grad_kernel, grad_bias

    parents = (x, kernel) if bias is None else (x, kernel, bias)
    return Tensor.from_op(out.reshape(n, out_h, out_w, filters), parents, backward, "conv2d")


# ============================================================================= max pooling
def _elementwise_max(arrays: list[np.ndarray]) -> np.ndarray:
    """The elementwise maximum of equally shaped arrays, as a new array."""
    if len(arrays) == 1:
        return arrays[0].copy()
    out = np.maximum(arrays[0], arrays[1])
    for array in arrays[2:]:
        np.maximum(out, array, out=out)
    return out


def max_pool2d(
    x: Tensor,
    pool_size: tuple[int, int] = (2, 2),
    strides: tuple[int, int] | None = None,
    padding: str = "valid",
) -> Tensor:
    """Max over ``pool_size`` windows, channels-last.

    The forward pass takes an elementwise maximum over the ``ph`` strided row views of the
    input, then over the ``pw`` column views of that. The VJP sends each output gradient to the
    first maximal position in row-major window order, as PyTorch does, so ties (e.g. zeros after a
    ReLU) are resolved identically. ``padding="same"`` pads with ``-inf`` (TensorFlow's
    layout: output ``ceil(size / stride)``, extra padding at the end), so padding never wins.
    """
    ph, pw = pool_size
    sh, sw = strides or pool_size
    n, height, width, channels = x.shape
    (top, bottom), (left, right) = _conv_padding(padding, height, width, (ph, pw), (sh, sw))
    data = x.data
    if top or bottom or left or right:
        data = np.pad(data, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=-np.inf)
    padded_h, padded_w = data.shape[1:3]
    out_h, out_w = (padded_h - ph) // sh + 1, (padded_w - pw) // sw + 1

    def view(array: np.ndarray, i: int, j: int) -> np.ndarray:
        return array[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw, :]

    positions = [(i, j) for i in range(ph) for j in range(pw)]  # row-major window order
    # The maximum is separable: over the window's rows first (views of whole image rows, so
    # long contiguous runs), then over its columns of that.
    row_max = _elementwise_max([data[:, i : i + sh * (out_h - 1) + 1 : sh] for i in range(ph)])
    out = _elementwise_max([row_max[:, :, j : j + sw * (out_w - 1) + 1 : sw] for j in range(pw)])

    tiles = (sh, sw) == (ph, pw)  # windows side by side, each input in at most one window

    def tiled_backward(g: np.ndarray) -> np.ndarray:
        """Non-overlapping windows: a few whole-array passes instead of one per position.

        ``winners`` marks every input equal to its window's maximum; where a window has ties
        (common: blank image regions give equal conv outputs), all but the first in row-major
        window order are cleared, as PyTorch routes the gradient to its argmax.
        """
        covered_h, covered_w = out_h * ph, out_w * pw
        blocks = data[:, :covered_h, :covered_w, :].reshape(n, out_h, ph, out_w, pw, channels)
        winners = blocks == out[:, :, None, :, None, :]
        if np.count_nonzero(winners) != out.size:
            claimed = winners[:, :, 0, :, 0, :].copy()
            for i, j in positions[1:]:
                winner = winners[:, :, i, :, j, :]
                winner &= ~claimed
                claimed |= winner
        grad = np.empty(blocks.shape, dtype=g.dtype)
        np.multiply(winners, g[:, :, None, :, None, :], out=grad)
        grad = grad.reshape(n, covered_h, covered_w, channels)
        if (covered_h, covered_w) != (padded_h, padded_w):  # rows or columns no window reads
            full = np.zeros(data.shape, dtype=g.dtype)
            full[:, :covered_h, :covered_w, :] = grad
            grad = full
        return grad

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        if tiles:
            return (tiled_backward(g)[:, top : top + height, left : left + width, :],)
        # Overlapping windows share inputs: accumulate one window position at a time.
        grad = np.zeros(data.shape, dtype=g.dtype)
        unclaimed = np.ones(out.shape, dtype=bool)
        winner = np.empty(out.shape, dtype=bool)
        for index, (i, j) in enumerate(positions):
            if index == len(positions) - 1:
                winner = unclaimed  # no earlier position held the maximum: the last one does
            else:
                np.equal(view(data, i, j), out, out=winner)
                winner &= unclaimed
            view(grad, i, j)[...] += g * winner
            if index < len(positions) - 1:
                unclaimed ^= winner  # winner is a subset of unclaimed: this clears it
        return (grad[:, top : top + height, left : left + width, :],)

    return Tensor.from_op(out, (x,), backward, "max_pool2d")


__all__ = ["batch_norm", "conv2d", "dense", "dropout", "max_pool2d", "random_shift"]
