"""How much arithmetic a Keras model costs, and how close to this CPU's limit training ran.

**Multiply-adds** (MACs) per example are counted from each layer's input and output shapes, for
the layers that do almost all the arithmetic of a CNN or MLP:

* ``Conv2D``: ``out_h * out_w * out_c * k_h * k_w * in_c / groups``
* ``DepthwiseConv2D``: ``out_h * out_w * in_c * depth_multiplier * k_h * k_w``
* ``SeparableConv2D``: the depthwise part as above plus the pointwise 1x1 part,
  ``out_h * out_w * in_c * depth_multiplier * out_c``
* ``Dense``: ``in_features * units`` per position

Bias additions, BatchNorm, activations, pooling and additions are not counted (together they
are a few per cent). ``FLOPs = 2 * MACs`` if one counts the multiply and the add separately;
papers often say "FLOPs" for MACs (torchvision's "GFLOPS" column is MACs: 0.82 G for
SqueezeNet 1.0). Nested models (a pretrained base inside a classifier) are walked recursively.

**Training FLOPs** are ``3 x 2 x MACs`` per example seen: the backward pass of a convolution or
matrix product costs two products of the forward pass's size (gradients of the input and of the
weights). :func:`measure_matmul_peak` measures what this machine's TensorFlow reaches on a large
matrix product in the precision the run trained in (float32, or bfloat16 for a
``mixed_bfloat16`` run: on CPUs with AMX that is several times faster), the best case for the
same threads, so ``achieved / peak`` says how far a training run is from the arithmetic limit
(data pipeline, small layers, memory traffic and framework overhead make up the rest).

Example:

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, padding="same")])
>>> count_multiply_adds(model)  # 8*8 positions * 4 filters * 3*3*3
6912
>>> training_flops(6912, examples_seen=1000)
41472000
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np

from a2common.machine import cpu_model, vector_isa

TRAINING_FLOPS_PER_MULTIPLY_ADD = 6
"""Forward (2 FLOPs per multiply-add) plus backward (twice the forward)."""


def _positions(shape: Sequence[int | None]) -> int:
    """Number of output positions: the product of all axes except batch and channels."""
    spatial = [d for d in shape[1:-1] if d is not None]
    if len(spatial) < len(shape) - 2:
        raise ValueError(
            f"Expected an output shape with known spatial sizes. Received: shape={tuple(shape)}"
        )
    return int(np.prod(spatial, dtype=np.int64))


def layer_multiply_adds(layer: keras.layers.Layer) -> int:
    """Multiply-adds of one call of ``layer`` on one example (0 for uncounted layer types).

    Example:

    >>> dense = keras.layers.Dense(10)
    >>> _ = dense(keras.Input((64,)))
    >>> layer_multiply_adds(dense)
    640
    """
    if isinstance(layer, keras.Model):
        return count_multiply_adds(layer)
    if not isinstance(
        layer,
        (
            keras.layers.Conv2D,
            keras.layers.DepthwiseConv2D,
            keras.layers.SeparableConv2D,
            keras.layers.Dense,
        ),
    ):
        return 0
    in_shape, out_shape = tuple(layer.input.shape), tuple(layer.output.shape)
    in_channels, out_channels, positions = in_shape[-1], out_shape[-1], _positions(out_shape)
    if isinstance(layer, keras.layers.Dense):
        return positions * in_channels * layer.units
    kernel_area = int(np.prod(layer.kernel_size))
    if isinstance(layer, keras.layers.SeparableConv2D):
        depthwise_channels = in_channels * layer.depth_multiplier
        return positions * depthwise_channels * (kernel_area + out_channels)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return positions * in_channels * layer.depth_multiplier * kernel_area
    return positions * out_channels * kernel_area * in_channels // layer.groups


def count_multiply_adds(model: keras.Model) -> int:
    """Multiply-adds per example of ``model`` (see the module docstring for what is counted)."""
    return sum(layer_multiply_adds(layer) for layer in model.layers)


def training_flops(multiply_adds_per_example: int, examples_seen: int) -> int:
    """FLOPs of training on ``examples_seen`` examples (forward and backward passes)."""
    return TRAINING_FLOPS_PER_MULTIPLY_ADD * int(multiply_adds_per_example) * int(examples_seen)


@dataclass(frozen=True)
class CpuPeak:
    """This machine's CPU and the matrix-product speed TensorFlow reaches on it.

    Attributes:
        cpu: the CPU's model name (:func:`a2common.machine.cpu_model`).
        isa: its vector instruction sets (:func:`a2common.machine.vector_isa`), e.g.
            ``"avx avx2 fma sse4_1 sse4_2"``.
        cores: CPUs this process may run on.
        threads: TensorFlow's intra-op threads (0 means one per core).
        matmul_size: side of the square matrices multiplied.
        dtype: their element type, ``"float32"`` or ``"bfloat16"``.
        peak_flops_per_second: best of the repetitions, ``2 * n**3 / seconds``.
        median_flops_per_second: median of the repetitions (a shared machine is noisy).

    Example::

        peak = measure_matmul_peak()
        f"{peak.peak_flops_per_second / 1e9:.0f} GFLOP/s on {peak.cpu} ({peak.isa})"
    """

    cpu: str
    isa: str
    cores: int
    threads: int
    matmul_size: int
    peak_flops_per_second: float
    median_flops_per_second: float
    dtype: str = "float32"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_matmul_peak(size: int = 2048, repetitions: int = 7, dtype: str = "float32") -> CpuPeak:
    """Time TensorFlow ``size x size`` matrix products of ``dtype`` on all its threads.

    The first product (graph building, thread start-up) is not timed. Takes a few seconds.
    """
    import tensorflow as tf

    if dtype not in ("float32", "bfloat16"):
        raise ValueError(f"Expected dtype 'float32' or 'bfloat16'. Received: dtype={dtype!r}")
    rng = np.random.default_rng(0)
    left = tf.cast(rng.standard_normal((size, size), dtype=np.float32), dtype)
    right = tf.cast(rng.standard_normal((size, size), dtype=np.float32), dtype)
    product = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    product(left, right).numpy()
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        product(left, right).numpy()
        rates.append(2 * size**3 / (time.perf_counter() - start))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return CpuPeak(
        cpu=cpu_model(),
        isa=" ".join(vector_isa()),
        cores=int(cores or 1),
        threads=tf.config.threading.get_intra_op_parallelism_threads(),
        matmul_size=size,
        peak_flops_per_second=max(rates),
        median_flops_per_second=float(np.median(rates)),
        dtype=dtype,
    )


CPU_PEAK_FILE = "cpu_peak.json"


def training_compute(
    model: keras.Model,
    examples_seen: int,
    train_seconds: float,
    run_dir: Path,
    *,
    measure_peak: bool,
    dtype: str = "float32",
) -> dict[str, Any]:
    """Training FLOPs, achieved FLOP/s and the CPU's matmul peak of a run, for its ``details``.

    ``measure_peak`` (right after training, on the machine that trained) times
    :func:`measure_matmul_peak` in ``dtype`` (the precision the run computed in) and saves it
    as ``run_dir / CPU_PEAK_FILE``; a run loaded from its cache reads that file instead
    (``cpu_peak`` is ``None`` if it has none).
    """
    peak_file = Path(run_dir) / CPU_PEAK_FILE
    if measure_peak:
        peak_file.write_text(json.dumps(measure_matmul_peak(dtype=dtype).as_dict()))
    multiply_adds = count_multiply_adds(model)
    flops = training_flops(multiply_adds, examples_seen)
    return {
        "multiply_adds_per_example": multiply_adds,
        "train_flops": flops,
        "achieved_flops_per_second": flops / train_seconds if train_seconds else None,
        "cpu_peak": json.loads(peak_file.read_text()) if peak_file.is_file() else None,
    }
