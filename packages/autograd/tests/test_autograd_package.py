"""Package-level rules: the library imports numpy only; the gradient checker catches bugs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd
from autograd import Tensor, gradcheck

LIBRARY = Path(autograd.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(p for p in LIBRARY.glob("*.py")), ids=lambda p: p.name)
def test_library_modules_import_numpy_and_stdlib_only(path):
    allowed = {"numpy", "autograd", "__future__"} | set(sys.stdlib_module_names)
    assert imported_roots(path) <= allowed, f"{path.name} imports {imported_roots(path) - allowed}"


def test_importing_the_library_loads_nothing_beyond_numpy():
    code = (
        "import sys, numpy; before = set(sys.modules); import autograd; "
        "print(','.join(sorted(set(sys.modules) - before)))"
    )
    added = (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        .stdout.strip()
        .split(",")
    )
    roots = {name.split(".")[0] for name in added if not name.startswith("_cython_")}
    # numpy submodules load lazily (numpy.random brings Cython's runtime module with it).
    assert roots - set(sys.stdlib_module_names) <= {"autograd", "numpy", "cython_runtime"}, roots


def test_gradient_checker_catches_a_wrong_vjp():
    def wrong_square(x: Tensor) -> Tensor:
        return Tensor.from_op(x.data**2, (x,), lambda g: (g * x.data,), "wrong_square")

    x = np.random.default_rng(0).normal(size=(3, 2))
    result = gradcheck.check_gradients(wrong_square, [x])
    assert not result.ok and result.max_rel_error > 0.3
    with pytest.raises(gradcheck.GradientCheckError, match="Gradient check failed"):
        gradcheck.check_gradients(wrong_square, [x], raise_on_failure=True)
    assert gradcheck.check_gradients(lambda t: t * t, [x]).max_rel_error < 1e-7


def test_every_public_class_has_a_docstring_with_an_example():
    import inspect

    from autograd import (
        callbacks,
        initializers,
        layers,
        losses,
        metrics,
        model,
        optimizers,
        preprocessing,
        tensor,
    )

    missing = []
    for module in (
        callbacks,
        initializers,
        layers,
        losses,
        metrics,
        model,
        optimizers,
        preprocessing,
        tensor,
    ):
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                if ">>>" not in (obj.__doc__ or ""):
                    missing.append(f"{module.__name__}.{name}")
    assert not missing, missing


def test_docstring_examples_run():
    """Every ``Example:`` in the library is a doctest and must pass."""
    import doctest
    import importlib
    import pkgutil

    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    failures, attempted = [], 0
    for info in pkgutil.iter_modules(autograd.__path__, "autograd."):
        if info.name.startswith("autograd.apps"):
            continue
        module = importlib.import_module(info.name)
        result = doctest.testmod(module, optionflags=flags, verbose=False, report=False)
        attempted += result.attempted
        if result.failed:
            failures.append(info.name)
    result = doctest.testmod(autograd, optionflags=flags, report=False)
    assert not failures and not result.failed, failures
    assert attempted > 100
