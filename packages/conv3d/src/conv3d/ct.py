"""The CT pipeline of the seed's COVID-19 CT classifier: NIfTI in, fixed-size volume out.

MosMedData (chest CTs with and without COVID-19 findings, NIfTI) is not bundled and cannot be
downloaded here, so this module only prepares a user's own files. The steps follow the Keras
example "3D image classification from CT scans" and add the resampling it skips:

1. :func:`read_nifti`: load with nibabel, reorient to the closest canonical (RAS) axes and apply
   the file's intensity scaling, so the voxels are Hounsfield units (HU);
2. :func:`resample_to_spacing`: trilinear resampling to a physical voxel size in mm;
3. :func:`window_hu`: clip to an HU window (lung: -1000 to 400) and scale to [0, 1];
4. :func:`resize_volume`: trilinear resizing to a fixed shape, e.g. 128 x 128 x 64.

:func:`preprocess_ct` chains them; :func:`load_ct_folder` prepares every scan in a folder.

Example:

>>> import numpy as np
>>> window_hu(np.array([-2000.0, -300.0, 1000.0]), -1000, 400).tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import ndimage

NIFTI_SUFFIXES = (".nii", ".nii.gz")


class CTVolumeError(ValueError):
    """A file exists but is not a readable 3D NIfTI volume."""


@dataclass(frozen=True)
class CTConfig:
    """Settings of :func:`preprocess_ct`.

    Attributes:
        target_spacing_mm: voxel size after resampling, per axis (``None`` skips resampling).
        hu_window: ``(low, high)`` Hounsfield window mapped to [0, 1].
        shape: output volume shape ``(x, y, z)`` in the canonical (RAS) axis order.
    """

    target_spacing_mm: tuple[float, float, float] | None = (1.0, 1.0, 2.0)
    hu_window: tuple[float, float] = (-1000.0, 400.0)
    shape: tuple[int, int, int] = (128, 128, 64)


def read_nifti(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a 3D NIfTI file as float32 HU values in canonical (RAS) axis order.

    Returns:
        ``(volume, spacing_mm)``: the array ``(x, y, z)`` and the voxel size per axis.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CTVolumeError: the file is not a readable NIfTI or not a 3D volume.
    """
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"Expected a NIfTI CT scan (.nii or .nii.gz) at {path}. "
            "Received: no such file. Point the pipeline at your own copy of "
            "the scans (MosMedData is not bundled with this project)."
        )
    try:
        image = nib.as_closest_canonical(nib.load(str(path)))
        volume = np.asarray(image.get_fdata(dtype=np.float32))
    except Exception as error:  # nibabel raises several types for truncated or foreign files
        raise CTVolumeError(
            f"Expected a readable NIfTI file. Received: {path} "
            f"({type(error).__name__}: {error}). The file is corrupt, "
            "truncated or not NIfTI; replace it with a good copy."
        ) from error
    if volume.ndim == 4 and volume.shape[3] == 1:
        volume = volume[..., 0]
    if volume.ndim != 3:
        raise CTVolumeError(f"Expected a 3D volume in {path}. Received: shape={volume.shape}.")
    if not np.all(np.isfinite(volume)):
        raise CTVolumeError(f"Expected finite voxel values in {path}. Received: NaN or inf.")
    spacing = np.asarray(image.header.get_zooms()[:3], dtype=np.float64)
    return volume, spacing


def resample_to_spacing(
    volume: np.ndarray,
    spacing_mm: Sequence[float] | np.ndarray,
    target_spacing_mm: Sequence[float],
) -> np.ndarray:
    """Trilinear resampling from ``spacing_mm`` to ``target_spacing_mm`` (same physical extent).

    Example:

    >>> resample_to_spacing(np.zeros((10, 10, 4)), (1, 1, 5), (2, 2, 2.5)).shape
    (5, 5, 8)
    """
    spacing, target = np.asarray(spacing_mm, float), np.asarray(target_spacing_mm, float)
    valid = spacing.shape == target.shape == (3,) and np.all(spacing > 0) and np.all(target > 0)
    if not valid:
        raise ValueError(
            "Expected three positive voxel sizes. Received: "
            f"spacing_mm={spacing_mm}, target_spacing_mm={target_spacing_mm}"
        )
    shape = np.maximum(1, np.round(np.asarray(volume.shape) * spacing / target)).astype(int)
    return resize_volume(volume, tuple(shape))


def window_hu(volume: np.ndarray, low: float = -1000.0, high: float = 400.0) -> np.ndarray:
    """Clip HU values to ``[low, high]`` and scale them linearly to [0, 1] (float32)."""
    if not high > low:
        raise ValueError(f"Expected low < high. Received: low={low}, high={high}")
    return ((np.clip(volume, low, high) - low) / (high - low)).astype(np.float32)


def resize_volume(volume: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Trilinear resizing of a 3D array to exactly ``shape`` (corners aligned).

    Example:

    >>> resize_volume(np.arange(8.0).reshape(2, 2, 2), (3, 3, 3))[1, 1, 1]
    np.float32(3.5)
    """
    if volume.ndim != 3 or len(shape) != 3:
        raise ValueError(
            "Expected a 3D volume and a 3D target shape. "
            f"Received: volume.shape={volume.shape}, shape={tuple(shape)}"
        )
    axes = [np.linspace(0, size - 1, target) for size, target in zip(volume.shape, shape)]
    coordinates = np.meshgrid(*axes, indexing="ij")
    return ndimage.map_coordinates(
        np.asarray(volume, np.float32), coordinates, order=1, mode="nearest"
    ).astype(np.float32)


def preprocess_ct(path: str | Path, config: CTConfig = CTConfig()) -> np.ndarray:
    """Read, resample, window and resize one scan; returns float32 ``config.shape`` in [0, 1].

    Example:

    A synthetic scan: air (-1000 HU) with a bright cube, 2 x 2 x 4 mm voxels.

    >>> import tempfile
    >>> import nibabel as nib
    >>> hu = np.full((8, 8, 4), -1000.0, np.float32)
    >>> hu[2:6, 2:6, 1:3] = 400.0
    >>> path = Path(tempfile.mkdtemp()) / "study_0001.nii.gz"
    >>> nib.save(nib.Nifti1Image(hu, np.diag([2.0, 2.0, 4.0, 1.0])), path)
    >>> volume = preprocess_ct(path, CTConfig(shape=(16, 16, 8)))
    >>> volume.shape, volume.dtype, float(volume.min()), float(volume.max())
    ((16, 16, 8), dtype('float32'), 0.0, 1.0)
    """
    volume, spacing = read_nifti(path)
    if config.target_spacing_mm is not None:
        volume = resample_to_spacing(volume, spacing, config.target_spacing_mm)
    volume = window_hu(volume, *config.hu_window)
    return resize_volume(volume, config.shape)


def nifti_files(folder: str | Path) -> list[Path]:
    """The ``.nii``/``.nii.gz`` files in ``folder``, sorted by name.

    Raises:
        FileNotFoundError: the folder does not exist or holds no NIfTI file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Expected a folder of NIfTI CT scans at {folder}. Received: no "
            "such folder. MosMedData (CT-0 normal, CT-1..4 with findings) "
            "is not bundled; download it and pass its folders."
        )
    files = sorted(p for p in folder.iterdir() if p.name.endswith(NIFTI_SUFFIXES))
    if not files:
        raise FileNotFoundError(f"Expected .nii or .nii.gz files in {folder}. Received: none.")
    return files


def load_ct_folder(folder: str | Path, config: CTConfig = CTConfig()) -> np.ndarray:
    """Every scan of ``folder`` preprocessed and stacked: ``(N, *config.shape)`` float32."""
    return np.stack([preprocess_ct(path, config) for path in nifti_files(folder)])


def load_ct_classes(
    normal_folder: str | Path, abnormal_folder: str | Path, config: CTConfig = CTConfig()
) -> tuple[np.ndarray, np.ndarray]:
    """Volumes and 0/1 labels (0: normal, 1: abnormal) from two folders of scans.

    Example:

    Two folders of synthetic scans (the layout of MosMedData's ``CT-0`` and ``CT-23``):

    >>> import tempfile
    >>> import nibabel as nib
    >>> root = Path(tempfile.mkdtemp())
    >>> for folder, count in (("CT-0", 2), ("CT-23", 1)):
    ...     (root / folder).mkdir()
    ...     for index in range(count):
    ...         hu = np.random.default_rng(index).uniform(-1000, 400, (6, 6, 3))
    ...         image = nib.Nifti1Image(hu.astype(np.float32), np.eye(4))
    ...         nib.save(image, root / folder / f"study_{index:04d}.nii.gz")
    >>> x, y = load_ct_classes(root / "CT-0", root / "CT-23", CTConfig(shape=(8, 8, 4)))
    >>> x.shape, y.tolist()
    ((3, 8, 8, 4), [0, 0, 1])
    """
    normal = load_ct_folder(normal_folder, config)
    abnormal = load_ct_folder(abnormal_folder, config)
    labels = np.concatenate([np.zeros(len(normal), np.int64), np.ones(len(abnormal), np.int64)])
    return np.concatenate([normal, abnormal]), labels
