"""Size, compute and CPU speed of a Keras model: parameters, multiply-adds, inference latency.

**Multiply-adds** (MACs) per image are counted by :func:`a2common.compute.count_multiply_adds`
(re-exported here with :func:`layer_multiply_adds`); see that module for what is counted.

**Latency** is wall time of a compiled forward pass (``tf.function``, inference mode) on random
inputs, per image, as the minimum and median over repetitions after warm-up calls. Measure it
in a fresh process limited to one thread (``python -m modern_convnets.profiling`` does this) and
note the machine's load: the minimum is the steadiest number on a shared machine.

Example:

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, padding="same")])
>>> count_multiply_adds(model)  # 8*8 positions * 4 filters * 3*3*3
6912
"""

from __future__ import annotations

import functools
import os
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import a2common.tf_env  # noqa: F401  (before keras)

# isort: split
import keras
import numpy as np

from a2common.compute import count_multiply_adds, layer_multiply_adds

__all__ = [
    "Latency",
    "count_multiply_adds",
    "layer_multiply_adds",
    "limit_to_one_thread",
    "measure_latency",
    "profile_model",
]


@dataclass
class Latency:
    """Inference time per image in milliseconds at one batch size."""

    batch_size: int
    min_ms_per_image: float
    median_ms_per_image: float
    repetitions: int


def limit_to_one_thread() -> int:
    """Make TensorFlow use one intra-op and one inter-op thread; return the intra-op count.

    Must run before TensorFlow executes its first operation; afterwards the setting can no
    longer change, and this raises unless it is already 1 (e.g. set through
    ``TF_NUM_INTRAOP_THREADS=1``).
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError as error:
        threads = tf.config.threading.get_intra_op_parallelism_threads()
        if threads != 1 and os.environ.get("TF_NUM_INTRAOP_THREADS") != "1":
            raise RuntimeError(
                f"Expected TensorFlow limited to one thread before its first "
                f"operation. Received: intra-op threads={threads} ({error}). "
                f"Fix: set TF_NUM_INTRAOP_THREADS=1 OMP_NUM_THREADS=1."
            ) from None
    return 1


def measure_latency(
    model: keras.Model,
    batch_sizes: Sequence[int] = (1, 64),
    repetitions: int = 20,
    warmup: int = 3,
    seed: int = 0,
) -> list[Latency]:
    """Milliseconds per image of ``model``'s compiled forward pass at each batch size.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    >>> [row.batch_size for row in measure_latency(model, (1, 2), repetitions=2, warmup=1)]
    [1, 2]
    """
    import tensorflow as tf

    if repetitions < 1 or warmup < 1:
        raise ValueError(
            f"Expected repetitions >= 1 and warmup >= 1 (the first call traces). "
            f"Received: repetitions={repetitions}, warmup={warmup}"
        )
    forward = tf.function(lambda images: model(images, training=False))
    rng = np.random.default_rng(seed)
    results = []
    for batch_size in batch_sizes:
        images = tf.constant(rng.random((batch_size, *model.input_shape[1:]), dtype=np.float32))
        for _ in range(warmup):
            forward(images).numpy()
        seconds = []
        for _ in range(repetitions):
            start = time.perf_counter()
            forward(images).numpy()
            seconds.append(time.perf_counter() - start)
        per_image_ms = [1000.0 * s / batch_size for s in seconds]
        results.append(
            Latency(batch_size, min(per_image_ms), statistics.median(per_image_ms), repetitions)
        )
    return results


def profile_model(
    model: keras.Model, batch_sizes: Sequence[int] = (1, 64), repetitions: int = 20, warmup: int = 3
) -> dict:
    """Parameters, multiply-adds per image and latency of ``model`` as one JSON-ready dict.

    Example:

    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    >>> profile_model(model, (1,), repetitions=1, warmup=1)["parameters"]
    112
    """
    latencies = measure_latency(model, batch_sizes, repetitions, warmup) if batch_sizes else []
    import tensorflow as tf

    return {
        "model": model.name,
        "input_shape": list(model.input_shape[1:]),
        "parameters": int(model.count_params()),
        "multiply_adds": count_multiply_adds(model),
        "latency": [asdict(row) for row in latencies],
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "load_average": list(os.getloadavg()),
    }


def _named_models() -> dict[str, Callable[[], keras.Model]]:
    """Builders of the models the CLI can profile: the training configs and the ImageNet nets."""
    from modern_convnets.squeezenet import build_squeezenet
    from modern_convnets.training import CONFIGS, build_model
    from modern_convnets.xception import build_xception

    builders: dict[str, Callable[[], keras.Model]] = {
        name: functools.partial(build_model, config) for name, config in CONFIGS.items()
    }
    builders["squeezenet_v1_0_imagenet"] = lambda: build_squeezenet("1.0")
    builders["squeezenet_v1_1_imagenet"] = lambda: build_squeezenet("1.1")
    builders["xception_imagenet"] = build_xception
    return builders


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m modern_convnets.profiling [NAME ...] [--model-file PATH ...]``: profile the
    training configs (:data:`modern_convnets.training.CONFIGS`), the ImageNet networks or saved
    ``.keras`` models (e.g. a graded run's ``work/model.keras``) on one CPU thread; print one
    JSON line per model."""
    import argparse
    import json

    builders = _named_models()
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"one of {', '.join(sorted(builders))} (default: the training configs)",
    )
    parser.add_argument("--repetitions", type=int, default=20)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64])
    parser.add_argument(
        "--model-file",
        type=Path,
        nargs="+",
        default=[],
        metavar="PATH",
        help="saved .keras models to profile (loaded without compiling)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(builders))
    if unknown:
        parser.error(f"Expected names from {sorted(builders)}. Received: {unknown}")
    missing = [str(path) for path in args.model_file if not path.is_file()]
    if missing:
        parser.error(f"Expected saved .keras model files. Not found: {missing}")
    limit_to_one_thread()
    from modern_convnets.training import CONFIGS

    models = [
        (name, builders[name])
        for name in args.names or ([] if args.model_file else sorted(CONFIGS))
    ]
    models += [
        (str(path), functools.partial(keras.saving.load_model, path, compile=False))
        for path in args.model_file
    ]
    for name, make in models:
        print(
            json.dumps({"name": name, **profile_model(make(), args.batch_sizes, args.repetitions)}),
            flush=True,
        )


if __name__ == "__main__":
    for _variable in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(_variable, "1")
    main()
