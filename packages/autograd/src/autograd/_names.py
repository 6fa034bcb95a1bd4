"""Name lookups shared by the ``get`` functions of activations, initializers, losses, metrics
and optimizers: one error message, with a "did you mean" hint, for an unknown name.

Example:

>>> print(unknown_name_error("loss", "MSE_", ["mse", "categorical_crossentropy"]))
Unknown loss. Expected one of ['categorical_crossentropy', 'mse']. Received: loss='MSE_'. \
Did you mean 'mse'?
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def unknown_name_error(kind: str, identifier: Any, names: Iterable[str]) -> ValueError:
    """The ``ValueError`` for an unknown ``kind`` name, listing the known ``names``."""
    names = sorted(names)
    close = difflib.get_close_matches(str(identifier).lower(), names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(
        f"Unknown {kind}. Expected one of {names}. Received: {kind}={identifier!r}.{hint}"
    )
