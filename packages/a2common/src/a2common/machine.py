"""What CPU this is: its model name and vector instruction sets (read from ``/proc/cpuinfo``).

Light on purpose (no numpy, no TensorFlow): the autograder's report and the compute figures of
:mod:`a2common.compute` both print it beside their numbers.

Example:

>>> isinstance(cpu_model(), str), all(flag.startswith(VECTOR_ISA_PREFIXES) for flag in vector_isa())
(True, True)
"""

from __future__ import annotations

import platform
from pathlib import Path

VECTOR_ISA_PREFIXES = ("avx", "fma", "sse4", "amx")
"""Flags that decide which float kernels oneDNN, OpenBLAS and XLA can use."""


def _first_cpuinfo_value(key: str) -> str | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def cpu_model() -> str:
    """The first CPU's model name (Linux), else ``platform.processor()`` or the architecture."""
    return _first_cpuinfo_value("model name") or platform.processor() or platform.machine()


def vector_isa() -> list[str]:
    """Sorted vector-ISA flags of the first CPU (``avx2``, ``fma``, ``avx512f``...), or []."""
    flags = (_first_cpuinfo_value("flags") or "").split()
    return sorted(flag for flag in flags if flag.startswith(VECTOR_ISA_PREFIXES))
