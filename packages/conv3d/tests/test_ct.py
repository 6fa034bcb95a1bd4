"""The CT pipeline on a synthetic NIfTI scan written here; clear errors for bad files."""

import nibabel as nib
import numpy as np
import pytest

from conv3d.ct import (
    CTConfig,
    CTVolumeError,
    load_ct_classes,
    nifti_files,
    preprocess_ct,
    read_nifti,
    resample_to_spacing,
    resize_volume,
    window_hu,
)


def write_scan(path, shape=(40, 40, 12), spacing=(0.8, 0.8, 5.0), sphere_hu=60.0):
    """A 'body' of air (-1000 HU) with a soft-tissue sphere, stored as int16 with scaling."""
    grid = np.indices(shape).astype(np.float32)
    physical = grid * np.asarray(spacing, np.float32)[:, None, None, None]
    centre = (np.asarray(shape) - 1) / 2 * np.asarray(spacing)
    inside = ((physical - centre[:, None, None, None]) ** 2).sum(0) <= 12.0**2
    hu = np.where(inside, sphere_hu, -1000.0)
    image = nib.Nifti1Image(((hu + 1024) / 2).astype(np.int16), np.diag([*spacing, 1.0]))
    image.header.set_slope_inter(2.0, -1024.0)  # stored = (HU + 1024) / 2, as scanners do
    nib.save(image, str(path))
    return hu


def test_read_nifti_returns_hounsfield_units_and_spacing(tmp_path):
    hu = write_scan(tmp_path / "scan.nii.gz")
    volume, spacing = read_nifti(tmp_path / "scan.nii.gz")
    assert volume.shape == hu.shape and np.allclose(volume, hu)
    assert np.allclose(spacing, (0.8, 0.8, 5.0))


def test_preprocess_resamples_windows_and_resizes(tmp_path):
    write_scan(tmp_path / "scan.nii.gz")
    config = CTConfig(target_spacing_mm=(1.0, 1.0, 1.0), shape=(32, 32, 16))
    volume = preprocess_ct(tmp_path / "scan.nii.gz", config)
    assert volume.shape == (32, 32, 16) and volume.dtype == np.float32
    assert volume.min() >= 0 and volume.max() <= 1
    assert volume[0, 0, 0] == pytest.approx(0.0)  # air is the bottom of the lung window
    assert volume[16, 16, 8] == pytest.approx((60 + 1000) / 1400, abs=1e-3)


def test_resampling_keeps_the_physical_extent():
    assert resample_to_spacing(np.zeros((40, 40, 12)), (0.8, 0.8, 5.0), (1, 1, 1)).shape == (
        32,
        32,
        60,
    )


def test_resize_and_window_helpers():
    assert resize_volume(np.ones((5, 6, 7)), (3, 3, 3)).shape == (3, 3, 3)
    assert window_hu(np.array([-1000.0, 400.0])).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="Expected low < high"):
        window_hu(np.zeros(2), 10, 10)


def test_missing_file_says_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="Expected a NIfTI CT scan"):
        read_nifti(tmp_path / "missing.nii.gz")


@pytest.mark.parametrize("content", [b"not a nifti file at all", b""])
def test_corrupt_file_raises_a_clear_error(tmp_path, content):
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(content)
    with pytest.raises(CTVolumeError, match="Expected a readable NIfTI file"):
        read_nifti(path)


def test_truncated_file_raises_a_clear_error(tmp_path):
    write_scan(tmp_path / "scan.nii")
    data = (tmp_path / "scan.nii").read_bytes()
    (tmp_path / "cut.nii").write_bytes(data[: len(data) // 2])
    with pytest.raises(CTVolumeError):
        read_nifti(tmp_path / "cut.nii")


def test_folders_give_stacked_volumes_and_labels(tmp_path):
    for name, hu in (("normal", -500.0), ("abnormal", 60.0)):
        (tmp_path / name).mkdir()
        write_scan(tmp_path / name / "a.nii.gz", sphere_hu=hu)
        write_scan(tmp_path / name / "b.nii.gz", sphere_hu=hu)
    config = CTConfig(target_spacing_mm=None, shape=(16, 16, 8))
    volumes, labels = load_ct_classes(tmp_path / "normal", tmp_path / "abnormal", config)
    assert volumes.shape == (4, 16, 16, 8) and labels.tolist() == [0, 0, 1, 1]
    with pytest.raises(FileNotFoundError, match="MosMedData"):
        nifti_files(tmp_path / "nowhere")
