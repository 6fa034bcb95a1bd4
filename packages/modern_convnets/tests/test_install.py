"""The skeleton installs as its own distribution, from this source tree."""

from importlib import metadata

import modern_convnets


def test_installed_distribution_matches_the_source_tree():
    assert metadata.version("assignment2-modern-convnets") == modern_convnets.__version__
    assert "packages/modern_convnets/src" in modern_convnets.__file__
