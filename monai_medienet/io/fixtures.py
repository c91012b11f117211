"""Tiny builders of real-format medical image files (DICOM, DICOM series, NIfTI, PNG/JPEG) for tests and examples.

They write files the way other tools do (pydicom, nibabel, PIL directly), independently of
:class:`~monai_medienet.io.SyntheticImageWriter`, so readers can be tested against them.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import numpy as np

__all__ = ["write_test_dicom", "write_test_dicom_series", "write_test_nifti", "write_test_png"]

_CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def write_test_dicom(
    path: str | os.PathLike,
    array: np.ndarray,
    rescale: tuple[float, float] | None = None,
    modality: str = "CT",
    series_uid: str | None = None,
    study_uid: str | None = None,
    instance_number: int = 1,
    z: float = 0.0,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
) -> Path:
    """Write a single-frame monochrome DICOM file with pydicom.

    Args:
        path: output file.
        array: ``(H, W)`` uint8, uint16 or int16 pixels (stored as is: Rows = H, Columns = W).
        rescale: ``(slope, intercept)`` to store (e.g. ``(1, -1024)`` for CT), or ``None``.
        modality: DICOM Modality.
        series_uid: SeriesInstanceUID (new when ``None``).
        study_uid: StudyInstanceUID (new when ``None``).
        instance_number: InstanceNumber.
        z: third coordinate of ImagePositionPatient (slice position).
        photometric: PhotometricInterpretation (``"MONOCHROME2"`` or ``"MONOCHROME1"``; pixels stored as given).
        bits_stored: BitsStored (default: all allocated bits), e.g. 12 for X-ray.

    Returns:
        The path written.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    arr = np.asarray(array)
    if arr.ndim != 2 or arr.dtype not in (np.uint8, np.uint16, np.int16):
        raise ValueError(f"write_test_dicom: need a 2D uint8/uint16/int16 array, got {arr.dtype} {arr.shape}.")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.Modality = modality
    ds.PatientID = "TEST"
    ds.StudyDate = datetime.date.today().strftime("%Y%m%d")
    ds.InstanceNumber = int(instance_number)
    ds.ImagePositionPatient = [0.0, 0.0, float(z)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [1.0, 1.0]
    ds.SliceThickness = 1.0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = int(arr.shape[0]), int(arr.shape[1])
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = int(bits_stored) if bits_stored else ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if arr.dtype == np.int16 else 0
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = float(rescale[0]), float(rescale[1])
    ds.PixelData = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_test_dicom_series(
    folder: str | os.PathLike, volume: np.ndarray, rescale: tuple[float, float] | None = None
) -> Path:
    """Write a ``(H, W, D)`` volume as ``D`` single-slice DICOM files of one series (``slice_000.dcm``, …).

    Args:
        folder: output folder (created).
        volume: ``(H, W, D)`` uint8/uint16/int16.
        rescale: ``(slope, intercept)`` stored in every slice.

    Returns:
        The folder.
    """
    from pydicom.uid import generate_uid

    vol = np.asarray(volume)
    if vol.ndim != 3:
        raise ValueError(f"write_test_dicom_series: need an (H, W, D) volume, got shape {vol.shape}.")
    series, study = generate_uid(), generate_uid()
    folder = Path(folder)
    for k in range(vol.shape[2]):
        write_test_dicom(
            folder / f"slice_{k:03d}.dcm",
            vol[:, :, k],
            rescale=rescale,
            series_uid=series,
            study_uid=study,
            instance_number=k + 1,
            z=float(k),
        )
    return folder


def write_test_nifti(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` (``(H, W)`` or ``(H, W, D)``) as NIfTI-1 with an identity affine (nibabel).

    Returns:
        The path written.
    """
    import nibabel as nib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.asarray(array), np.eye(4)), str(path))
    return path


def write_test_png(path: str | os.PathLike, array: np.ndarray, rgb: bool = False, quality: int = 95) -> Path:
    """Write an 8-bit (uint8) or 16-bit (uint16) grey image, or an RGB copy of a grey uint8 image, with PIL.

    The format follows the file name (``.png``, ``.jpg``/``.jpeg`` …).

    Args:
        path: output file.
        array: ``(H, W)`` uint8/uint16, or ``(H, W, 3)`` uint8.
        rgb: save a grey uint8 image as 3 equal channels.
        quality: JPEG quality.

    Returns:
        The path written.
    """
    from PIL import Image

    arr = np.asarray(array)
    if rgb and arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    if arr.dtype == np.uint16:
        img = Image.fromarray(arr)  # mode "I;16"
    elif arr.dtype == np.uint8:
        img = Image.fromarray(arr)
    else:
        raise ValueError(f"write_test_png: need uint8 or uint16 pixels, got {arr.dtype}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        img.save(path, quality=quality)
    else:
        img.save(path)
    return path
