"""Checks that the installed stack is the one this project pins (run by ``make setup``)."""

from __future__ import annotations

from importlib import metadata, util

from autograder.runner import REPO_ROOT

OUR_IMPORTS = {
    "a2common": "a2common",
    "autograd": "autograd",
    "keras_models": "keras_models",
    "lightning_cnn": "lightning_cnn",
    "modern_convnets": "modern_convnets",
    "conv3d": "conv3d",
    "autograder": None,
}


def problems() -> list[str]:
    """Everything wrong with the environment, each with its fix; empty when all is well."""
    found = []
    try:
        metadata.distribution("autograd")
        found.append(
            "PyPI's unrelated 'autograd' distribution is installed and shadows ours: "
            "`pip uninstall autograd`, then `make setup`."
        )
    except metadata.PackageNotFoundError:
        pass
    for module, folder in OUR_IMPORTS.items():
        spec = util.find_spec(module)
        expected = REPO_ROOT / ("harness" if folder is None else f"packages/{folder}")
        if spec is None or spec.origin is None:
            found.append(f"`import {module}` fails: run `make setup`.")
        elif not spec.origin.startswith(str(expected)):
            found.append(
                f"`import {module}` resolves to {spec.origin}, not to {expected}: "
                "another copy is installed; `pip uninstall` it and `make setup`."
            )
    try:
        torch_version = metadata.version("torch")
        if "+cpu" not in torch_version and torch_version != "2.13.0":
            found.append(
                f"torch {torch_version} is not the pinned CPU build 2.13.0+cpu: "
                "`pip install torch==2.13.0` (from pip's find-links folder)."
            )
    except metadata.PackageNotFoundError:
        found.append("torch is not installed: run `make setup`.")
    for distribution in ("nvidia-cublas-cu12", "nvidia-cudnn-cu12", "torchvision"):
        try:
            metadata.distribution(distribution)
            found.append(
                f"{distribution} is installed but the project must not pull it "
                f"(CUDA torch or torchvision): `pip uninstall {distribution}`."
            )
        except metadata.PackageNotFoundError:
            pass
    return found
