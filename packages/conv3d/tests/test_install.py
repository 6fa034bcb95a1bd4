"""The skeleton installs as its own distribution, from this source tree."""

from importlib import metadata

import conv3d


def test_installed_distribution_matches_the_source_tree():
    assert metadata.version("assignment2-conv3d") == conv3d.__version__
    assert "packages/conv3d/src" in conv3d.__file__
