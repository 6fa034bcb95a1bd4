"""set_tensorflow_threads / set_torch_threads: the task parameter reaches the framework."""

import subprocess
import sys
import textwrap

import pytest

from a2common.threads import set_torch_threads


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_tensorflow_gets_the_threads_before_it_starts():
    output = _run(
        """
        from a2common.threads import set_tensorflow_threads
        set_tensorflow_threads(1)
        import tensorflow as tf
        tf.constant(1.0) + 1.0
        print(tf.config.threading.get_intra_op_parallelism_threads(),
              tf.config.threading.get_inter_op_parallelism_threads())
        """
    )
    assert output == "1 1"


def test_a_late_request_warns_instead_of_being_silently_ignored():
    output = _run(
        """
        import warnings
        import tensorflow as tf
        tf.constant(1.0) + 1.0  # starts TensorFlow's thread pools
        from a2common.threads import set_tensorflow_threads
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            set_tensorflow_threads(1)
        print(len(caught), "ignored in this process" in str(caught[0].message))
        """
    )
    assert output == "1 True"


def test_torch_threads_are_set_and_none_keeps_the_default():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        set_torch_threads(None)
        assert torch.get_num_threads() == before
        set_torch_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_zero_or_none_does_not_import_tensorflow():
    output = _run(
        """
        import sys
        from a2common.threads import set_tensorflow_threads
        set_tensorflow_threads(None); set_tensorflow_threads(0)
        print("tensorflow" in sys.modules)
        """
    )
    assert output == "False"
