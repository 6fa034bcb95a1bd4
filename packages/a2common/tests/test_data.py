"""The loader finds, verifies and splits every dataset, and fails with a message naming the fix."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from a2common import data
from a2common.data import (
    DataFile,
    DatasetChecksumError,
    DatasetNotFoundError,
    load_dataset,
    sha256_of,
    stratified_split,
)


def test_every_registered_dataset_loads_with_consistent_splits():
    for name in data.available_datasets():
        dataset = load_dataset(name)
        splits = [dataset.train, dataset.test] + ([dataset.val] if dataset.val else [])
        for split in splits:
            assert len(split.x) == len(split.y) > 0, name
            assert split.y.dtype == np.int64, name
            assert split.y.min() >= 0 and split.y.max() < dataset.num_classes, name
        assert set(dataset.sha256) == {f.relpath for f in data.DATASETS[name].files}


def test_official_splits_and_known_facts():
    mnist = load_dataset("mnist")
    assert mnist.train.x.shape == (60000, 28, 28) and mnist.train.x.dtype == np.uint8
    assert mnist.train.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.test.y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    fashion = load_dataset("fashion_mnist")
    assert fashion.train.x.shape == (60000, 28, 28) and fashion.class_names[9] == "Ankle boot"
    assert np.bincount(fashion.test.y).tolist() == [1000] * 10
    adrenal = load_dataset("adrenalmnist3d")
    assert (len(adrenal.train), len(adrenal.val), len(adrenal.test)) == (1188, 98, 298)
    cifar = load_dataset("cifar10")
    assert cifar.train.x.shape == (50000, 32, 32, 3) and cifar.test.y.shape == (10000,)


def test_made_up_splits_are_seeded_stratified_and_disjoint():
    first, second = load_dataset("animals3"), load_dataset("animals3")
    for split in ("train", "val", "test"):
        assert np.array_equal(getattr(first, split).x, getattr(second, split).x)
    assert (len(first.train), len(first.val), len(first.test)) == (2100, 300, 600)
    assert np.bincount(first.test.y).tolist() == [200, 200, 200]
    flat = {
        split: {img.tobytes() for img in getattr(first, split).x}
        for split in ("train", "val", "test")
    }
    assert not flat["train"] & flat["test"] and not flat["val"] & flat["test"]


def test_stratified_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="Expected 0 < fraction < 1. Received: fraction=1.5"):
        stratified_split(np.zeros((4, 1)), np.array([0, 1, 0, 1]), 1.5)


def test_unknown_name_lists_known_and_suggests():
    with pytest.raises(
        ValueError,
        match=r"Unknown dataset 'fashion-mnist'\. Did you mean "
        r"'fashion_mnist'\?.*Known datasets: .*cifar10",
    ):
        load_dataset("fashion-mnist")


def test_missing_file_names_file_roots_and_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(data.files, "search_roots", lambda: [tmp_path])
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset("fashion_mnist")
    message = str(error.value)
    assert "fashion-mnist/train-images-idx3-ubyte.gz" in message and str(tmp_path) in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_override_comes_first_and_is_verified(monkeypatch, tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"garbage")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    assert data.search_roots()[0] == tmp_path
    with pytest.raises(DatasetChecksumError, match="corrupt or not the expected file"):
        load_dataset("mnist")


def test_search_order_is_override_shared_system_cache(monkeypatch, tmp_path):
    (tmp_path / "override").mkdir()
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "override"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    roots = data.search_roots()
    assert roots[0] == tmp_path / "override"
    assert roots[1].parts[-2:] == ("shared", "data")
    assert roots[-2] == Path("/usr/share/datasets")
    assert roots[-1] == tmp_path / "cache" / "assignment2" / "data"


def test_gz_files_are_verified_by_their_content(tmp_path):
    raw = b"same payload"
    one, two = tmp_path / "a.gz", tmp_path / "b.gz"
    one.write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
    two.write_bytes(gzip.compress(raw, compresslevel=9, mtime=1))
    assert one.read_bytes() != two.read_bytes()
    assert sha256_of(one, decompress=True) == sha256_of(two, decompress=True)


def test_idx_reader_rejects_truncated_files(tmp_path):
    header = bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big")
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(header + bytes(range(10)))
    assert data.readers._read_idx(path).tolist() == list(range(10))
    path.write_bytes(header + bytes(range(5)))
    with pytest.raises(data.DatasetError, match="holds 5 values"):
        data.readers._read_idx(path)


def test_tabular_targets_and_missing_values():
    heart = load_dataset("cleveland_heart")
    assert heart.class_names == ["0", "1"]
    assert heart.feature_names[0] == "age"
    features = np.concatenate([heart.train.x, heart.val.x, heart.test.x]).astype(float)
    assert np.isnan(features).sum() == 6
    adult = load_dataset("adult")
    assert adult.class_names == ["<=50K", ">50K"] and len(adult.test) == 16281


def test_datafile_flags_gz():
    assert DataFile("x.csv.gz", "0").hashes_decompressed
    assert not DataFile("x.npz", "0").hashes_decompressed


def test_override_naming_a_missing_folder_is_an_error_not_a_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "typo"))
    with pytest.raises(DatasetNotFoundError, match="names no folder"):
        load_dataset("mnist")


@pytest.mark.parametrize("damage", ["truncated", "not gzip"])
def test_corrupt_gz_gets_the_same_clear_error_as_npz(monkeypatch, tmp_path, damage):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    original = Path("/usr/share/datasets/fashion-mnist")
    if not original.is_dir():
        pytest.skip("dataset-fashion-mnist is not installed")
    for source in original.iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    target = folder / "t10k-labels-idx1-ubyte.gz"
    good = target.read_bytes()
    target.write_bytes(good[: len(good) // 2] if damage == "truncated" else b"plain bytes")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DatasetChecksumError) as raised:
        load_dataset("fashion_mnist")
    message = str(raised.value)
    assert str(target) in message and "corrupt" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_decoded_cifar_cache_is_verified_and_rebuilt_when_damaged(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = load_dataset("cifar10")
    cache = tmp_path / "assignment2" / "data" / "decoded" / "cifar10_uint8.npz"
    assert cache.is_file()
    # same source hash, altered pixels: must not be trusted
    with np.load(cache) as decoded:
        arrays = {key: decoded[key] for key in decoded.files}
    arrays["x_test"] = arrays["x_test"].copy()
    arrays["x_test"][0] = 0
    np.savez(cache, **arrays)
    assert data.readers._read_decoded_cache(cache) is None
    again = load_dataset("cifar10")
    assert np.array_equal(again.test.x, first.test.x)
    assert data.readers._read_decoded_cache(cache) is not None  # rebuilt
    cache.write_bytes(cache.read_bytes()[:1000])  # truncated
    assert np.array_equal(load_dataset("cifar10").test.x[:5], first.test.x[:5])


def test_select_classes_keeps_loader_order_and_relabels():
    test, names = data.load_split("cifar10", "test", classes=("dog", "cat"))
    full = load_dataset("cifar10").test
    keep = np.isin(full.y, [3, 5])
    assert names == ["dog", "cat"] and len(test) == 2000
    assert np.array_equal(test.x, full.x[keep])
    assert np.array_equal(test.y, np.where(full.y[keep] == 5, 0, 1))
    with pytest.raises(ValueError, match="distinct class names"):
        data.load_split("cifar10", "test", classes=("dog", "wolf"))


def test_wine_labels_are_defined_once_and_exactly():
    red = data.Split(np.zeros((4, 11)), np.array([0, 1, 2, 3]))
    white = data.Split(np.ones((3, 11)), np.array([0, 3, 4]))
    features, labels = data.combine_wine_split(
        red, white, ["3", "5", "6", "7"], ["4", "5", "6", "7", "9"]
    )
    assert features.shape == (7, 11) and features[4:].min() == 1.0 == features[4:].max()
    assert labels["colour"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    # quality: red 3, 5, 6, 7 | white 4, 7, 9
    assert labels["quality_band"].tolist() == [0, 0, 1, 2, 0, 2, 2]


def test_the_public_feature_lists_are_the_loaded_columns_without_the_target():
    # keras_models' schemas read WINE_FEATURES / PIMA_FEATURES instead of the loaded names
    for name, features in [
        ("wine_red", data.WINE_FEATURES),
        ("wine_white", data.WINE_FEATURES),
        ("pima_diabetes", data.PIMA_FEATURES),
    ]:
        dataset = load_dataset(name)
        assert dataset.feature_names == list(features), name
        assert dataset.train.x.shape[1] == len(features), name


def test_wine_colour_and_quality_band_stack_red_then_white_in_every_split():
    red, white = load_dataset("wine_red"), load_dataset("wine_white")
    colour, band = load_dataset("wine_colour"), load_dataset("wine_quality_band")
    assert colour.class_names == ["red", "white"] and band.class_names == ["low", "medium", "high"]
    assert colour.feature_names == band.feature_names == red.feature_names
    assert set(colour.sha256) == set(red.sha256) | set(white.sha256)
    for split in ("train", "val", "test"):
        red_part, white_part = getattr(red, split), getattr(white, split)
        stacked = np.concatenate([red_part.x, white_part.x]).astype(np.float64)
        assert np.array_equal(getattr(colour, split).x, stacked), split
        assert np.array_equal(getattr(band, split).x, stacked), split
        assert getattr(colour, split).y.tolist() == [0] * len(red_part) + [1] * len(white_part)
        quality = np.concatenate(
            [
                np.array(red.class_names, int)[red_part.y],
                np.array(white.class_names, int)[white_part.y],
            ]
        )
        assert np.array_equal(getattr(band, split).y, np.digitize(quality, [5.5, 6.5])), split
    assert (len(colour.train), len(colour.val), len(colour.test)) == (4547, 650, 1300)
    graded, names = data.load_split("wine_quality_band", "test")
    assert names == ["low", "medium", "high"] and np.array_equal(graded.y, band.test.y)
