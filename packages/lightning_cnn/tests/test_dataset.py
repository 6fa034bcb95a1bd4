"""The release command: tree, manifest, datasheet, fixed and disjoint splits, clear errors."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import numpy as np
import pytest

from a2common.data import load_dataset
from lightning_cnn import dataset, release
from lightning_cnn.config import CLASS_NAMES
from lightning_cnn.dataset import main
from lightning_cnn.release import (
    DATASHEET,
    MANIFEST,
    METADATA,
    SPLITS,
    ReleaseError,
    SplitImages,
    list_split,
    read_split,
    verify_release,
    write_release,
)


def test_release_command_writes_a_verifiable_tree(tmp_path, capsys):
    out = tmp_path / "release"
    assert main(["release", str(out), "--limit-per-class", "2", "--quiet"]) == 0
    assert "20 files written" in capsys.readouterr().out  # 18 PNGs + metadata + datasheet
    assert main(["verify", str(out)]) == 0
    for split in SPLITS:
        for name in CLASS_NAMES:
            assert len(list((out / split / name).glob("*.png"))) == 2
    manifest = (out / MANIFEST).read_text().splitlines()
    assert len(manifest) == 20 and all(len(line.split("  ")[0]) == 64 for line in manifest)
    assert not list(tmp_path.glob(".release.partial-*"))  # staging folder moved into place


def test_splits_are_disjoint_and_match_the_project_split(tiny_release, tiny_limit_per_class):
    dataset = load_dataset("animals3")
    loaded = {"train": dataset.train, "val": dataset.val, "test": dataset.test}
    names, pixel_hashes = {}, {}
    for split in SPLITS:
        paths, labels = list_split(tiny_release, split)
        images, read_labels = read_split(tiny_release, split)
        assert images.shape == (3 * tiny_limit_per_class, 64, 64, 3) and images.dtype == np.uint8
        np.testing.assert_array_equal(labels, read_labels)
        names[split] = {p.name for p in paths}
        pixel_hashes[split] = {hashlib.sha256(image.tobytes()).hexdigest() for image in images}
        # PNG is lossless: the release holds exactly the loader's pixels, class by class
        for label in range(3):
            expected = loaded[split].x[loaded[split].y == label][:tiny_limit_per_class]
            np.testing.assert_array_equal(images[labels == label], expected)
    for first, second in [("train", "val"), ("train", "test"), ("val", "test")]:
        assert not names[first] & names[second]
        assert not pixel_hashes[first] & pixel_hashes[second]
    # original file names are kept: cats_00001.jpg became cats_00001.png
    assert all(re.fullmatch(r"(cats|dogs|panda)_\d{5}\.png", name) for name in names["train"])


def test_metadata_and_datasheet(tiny_release, tiny_limit_per_class):
    metadata = json.loads((tiny_release / METADATA).read_text())
    assert metadata["class_names"] == list(CLASS_NAMES)
    assert metadata["counts"]["test"] == {name: tiny_limit_per_class for name in CLASS_NAMES}
    assert metadata["source"]["sha256"] == next(iter(load_dataset("animals3").sha256.values()))
    sheet = (tiny_release / DATASHEET).read_text()
    for section in [
        "## Motivation",
        "## Composition",
        "## Collection process",
        "## Preprocessing",
        "## Uses",
        "## Distribution",
        "Licence caveats",
        "third-party",
    ]:
        assert section in sheet


def test_verify_detects_changed_missing_and_unlisted_files(tiny_release, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_release, copy)
    victim = next((copy / "train" / "cats").glob("*.png"))
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    with pytest.raises(ReleaseError, match="checksum mismatch: train/cats/"):
        verify_release(copy)
    victim.unlink()
    with pytest.raises(ReleaseError, match="missing: train/cats/"):
        verify_release(copy)
    shutil.copy(next((copy / "val" / "dogs").glob("*.png")), copy / "val" / "dogs" / "extra.png")
    with pytest.raises(ReleaseError, match="not in manifest: val/dogs/extra.png"):
        verify_release(copy)
    (copy / MANIFEST).unlink()
    with pytest.raises(ReleaseError, match="SHA256SUMS not found"):
        verify_release(copy)


def test_refuses_to_overwrite(tmp_path, tiny_release, capsys):
    someone_elses = tmp_path / "notes"
    someone_elses.mkdir()
    (someone_elses / "important.txt").write_text("keep me")
    assert main(["release", str(someone_elses), "--limit-per-class", "1", "--quiet"]) == 1
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(["release", str(someone_elses), "--limit-per-class", "1", "--force"]) == 1
    assert "not a release" in capsys.readouterr().err
    assert (someone_elses / "important.txt").read_text() == "keep me"


def test_bad_inputs_raise_clear_errors(tmp_path):
    image = np.zeros((1, 8, 8, 3), np.uint8)
    good = SplitImages(image, np.array([0]), ["a"])
    with pytest.raises(ValueError, match=r"missing \['test'\]"):
        write_release(tmp_path / "r1", {"train": good, "val": good}, ["x"])
    with pytest.raises(ValueError, match="labels outside 0..0"):
        write_release(
            tmp_path / "r2", {s: SplitImages(image, np.array([3]), ["a"]) for s in SPLITS}, ["x"]
        )
    with pytest.raises(ValueError, match="Expected uint8 images"):
        SplitImages(image.astype(np.float32), np.array([0]), ["a"])
    with pytest.raises(ReleaseError, match="Expected a folder"):
        list_split(tmp_path / "nothing", "train")
    assert not (tmp_path / "r1").exists() and not list(tmp_path.glob(".r*.partial-*"))


def test_old_import_path_still_works():
    """Notebooks and users import from ``lightning_cnn.dataset``: the same objects as release."""
    for name in dataset.__all__:
        if name != "main":
            assert getattr(dataset, name) is getattr(release, name)
    assert {"ensure_release", "verify_release", "list_split", "render_datasheet"} <= set(
        dataset.__all__
    )
