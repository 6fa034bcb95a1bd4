"""Set a framework's CPU thread count from a task's ``num_threads`` parameter.

Graded tasks accept ``num_threads`` (e.g. ``1`` for runs that must repeat bit for bit, or to
share a machine). ``None`` or ``0`` keeps the framework's own choice. Neither function imports
a framework the caller has not asked for.

Example:

>>> from a2common.threads import set_torch_threads
>>> set_torch_threads(None)  # keeps torch's default: nothing imported, nothing changed
"""

from __future__ import annotations

import warnings


def set_tensorflow_threads(threads: int | None) -> None:
    """Use ``threads`` intra-op threads and at most two inter-op threads in TensorFlow.

    TensorFlow fixes its thread pools when it first runs an op; asked later (e.g. in a test
    process that trained before), it keeps its pools and this function warns instead.

    Example:

    >>> set_tensorflow_threads(0)  # keeps TensorFlow's default
    """
    if not threads:
        return
    threads = int(threads)
    import a2common.tf_env  # noqa: F401  (before TensorFlow)

    # isort: split
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    except RuntimeError:  # TensorFlow already initialised in this process
        current = tf.config.threading.get_intra_op_parallelism_threads()
        if current != threads:
            warnings.warn(
                f"TensorFlow was already initialised with {current or 'its default'} "
                f"intra-op threads; num_threads={threads} is ignored in this process. "
                "Start a new process to change it.",
                RuntimeWarning,
                stacklevel=2,
            )


def set_torch_threads(threads: int | None) -> None:
    """Use ``threads`` intra-op threads in PyTorch (``torch.set_num_threads``).

    Example:

    >>> set_torch_threads(0)  # keeps torch's default
    """
    if not threads:
        return
    import torch

    torch.set_num_threads(int(threads))
