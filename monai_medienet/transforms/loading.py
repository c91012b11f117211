"""Load any supported medical image (path or array) into a channel-first array, choosing MONAI's reader by type.

Axis convention of this package: spatial axes follow numpy/display order, ``(H, W)`` = (rows, columns) for 2D and
``(H, W, D)`` for volumes, so an image loaded from a PNG, a DICOM file, a NIfTI file written by
:class:`monai_medienet.io.SyntheticImageWriter` or a MedMNIST array all line up pixel for pixel. (MONAI's defaults
for PNG/DICOM swap the first two axes; here ``PILReader(reverse_indexing=False)`` and ``PydicomReader(swap_ij=False)``
are used instead. NIfTI volumes are returned in the order stored in the file unless ``orientation`` asks otherwise.)
A PNG/JPEG/BMP/TIFF file gets the affine :func:`~monai_medienet.transforms.raster_affine` (where ITK-based viewers
place the file) instead of ``PILReader``'s identity, so maps written from it as NIfTI overlay it in those viewers.

``LoadMedicalImage(orientation="raster")`` also brings files that carry geometry into that (rows, columns) order with
MONAI's ``Orientation``: a NIfTI that ITK (3D Slicer, SimpleITK) wrote from a PNG is stored as (columns, rows) and is
transposed back; PNGs and axial DICOM slices are already in that order and are left alone.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor, NibabelReader, NumpyReader, PILReader, PydicomReader
from monai.transforms import MapTransform, Orientation, Transform

from .geometry import RASTER, raster_affine, raster_axcodes, validate_orientation

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageLoadError",
    "LoadMedicalImage",
    "LoadMedicalImaged",
    "is_supported_image_path",
    "read_image_array",
]

ORIGINAL_DTYPE_KEY = "medienet_original_dtype"
VALUE_RANGE_KEY = "medienet_value_range"

_PIL_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
_NIFTI_EXT = (".nii", ".nii.gz")
_DICOM_EXT = (".dcm", ".dicom")
_NUMPY_EXT = (".npy", ".npz")
IMAGE_EXTENSIONS: tuple[str, ...] = _PIL_EXT + _NIFTI_EXT + _DICOM_EXT + _NUMPY_EXT
"""File name endings :class:`LoadMedicalImage` can read (files without an ending are read when they are DICOM)."""


class ImageLoadError(ValueError):
    """A file or array cannot be used as an image; the message names the file (or item) and what is wrong."""


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _has_dicom_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def _reader_kind(path: Path) -> str | None:
    """Which reader family handles ``path`` ("dicom", "nifti", "pil", "numpy"), or ``None`` when unsupported."""
    if path.is_dir():
        return "dicom"  # a DICOM series folder
    suffix = _suffix(path)
    if suffix in _DICOM_EXT:
        return "dicom"
    if suffix in _NIFTI_EXT:
        return "nifti"
    if suffix in _PIL_EXT:
        return "pil"
    if suffix in _NUMPY_EXT:
        return "numpy"
    if _has_dicom_magic(path):  # DICOM files often have no extension
        return "dicom"
    return None


def is_supported_image_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` has a supported image type (by name ending, or the DICOM preamble for extension-less files).

    Args:
        path: a file or a DICOM series folder.

    Returns:
        ``True`` when :class:`LoadMedicalImage` would pick a reader for it (the file may still be corrupt).
    """
    return _reader_kind(Path(path)) is not None


def _is_npz(path: Path) -> bool:
    """Whether ``path`` is an ``.npz`` archive (by name)."""
    return _suffix(path) == ".npz"


def _make_reader(kind: str, npz_key: str | None):
    if kind == "dicom":
        return PydicomReader(swap_ij=False)
    if kind == "nifti":
        return NibabelReader()
    if kind == "pil":
        return PILReader(reverse_indexing=False)
    return NumpyReader(npz_keys=npz_key)


def _channel_first_from_reader(arr: np.ndarray, meta: Mapping, kind: str) -> np.ndarray:
    if kind == "numpy":
        # numpy files follow the item convention: (C, H, W[, D]); a bare 2D array gets a channel axis
        return arr[None] if arr.ndim == 2 else arr
    channel_dim = meta.get("original_channel_dim", float("nan"))
    if isinstance(channel_dim, float) and np.isnan(channel_dim) or channel_dim == "no_channel":
        return arr[None]
    return np.moveaxis(arr, int(channel_dim), 0)


def _dicom_value_range(path: Path, arr: np.ndarray) -> tuple[np.ndarray, tuple[float, float] | None]:
    """Invert MONOCHROME1 DICOM and return the value range of the stored pixel type.

    MONOCHROME1 (0 = white, common for CR/DX X-rays) is mirrored over the full stored range, so that higher values are
    brighter everywhere and the result does not depend on the image content. The range is
    ``[raw_min, raw_max] * RescaleSlope + RescaleIntercept`` with ``raw_min/raw_max`` from BitsStored and
    PixelRepresentation (e.g. ``[0, 4095]`` for 12-bit X-ray), for intensity scaling by the stored range.

    Returns:
        ``(array, (vmin, vmax))``; the range is ``None`` when the header cannot be re-read.
    """
    import pydicom

    first = path
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.is_file() and not f.name.startswith("."))
        if not files:
            return arr, None
        first = files[0]
    try:
        ds = pydicom.dcmread(
            first,
            stop_before_pixels=True,
            specific_tags=["PhotometricInterpretation", "BitsStored", "PixelRepresentation", "RescaleSlope",
                           "RescaleIntercept"],
        )  # fmt: skip
        bits = int(getattr(ds, "BitsStored", 8 * arr.dtype.itemsize))
        signed = int(getattr(ds, "PixelRepresentation", 0)) == 1
        slope, intercept = float(getattr(ds, "RescaleSlope", 1.0)), float(getattr(ds, "RescaleIntercept", 0.0))
        photometric = str(getattr(ds, "PhotometricInterpretation", "")).strip().upper()
    except Exception:  # the pixel read succeeded; a header we cannot re-read is left alone
        return arr, None
    raw_min, raw_max = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    lo, hi = sorted((raw_min * slope + intercept, raw_max * slope + intercept))
    if photometric == "MONOCHROME1":
        total = lo + hi
        if np.issubdtype(arr.dtype, np.integer) and float(total).is_integer():
            arr = (np.int64(total) - arr.astype(np.int64)).astype(arr.dtype)
        else:
            arr = (total - arr.astype(np.float64)).astype(np.result_type(arr.dtype, np.float32))
    return arr, (float(lo), float(hi))


_PLANE_TAG_WARNING = "ImageOrientationPatient"


def _has_plane_tags(obj: Any) -> bool:
    """Whether the pydicom dataset the reader returned (or the first of a series) holds both image plane tags."""
    while isinstance(obj, (list, tuple)) and obj:
        obj = obj[0]
    return hasattr(obj, "__contains__") and "ImageOrientationPatient" in obj and "ImagePositionPatient" in obj


def _reissue_reader_warnings(caught: list[warnings.WarningMessage], obj: Any, label: str) -> None:
    """Pass the reader's warnings on, except MONAI's "plane tags missing, identity affine" one.

    That one is expected and harmless for 2D DICOM without image plane tags (Secondary Capture, many X-ray exports),
    so it is dropped there. When the tags ARE in the file, the reader could not use them (e.g. decimal strings longer
    than DICOM's 16 characters) and silently fell back to the identity affine: that is replaced by a warning that names
    the file and the consequence.
    """
    for w in caught:
        if issubclass(w.category, UserWarning) and _PLANE_TAG_WARNING in str(w.message):
            if _has_plane_tags(obj):  # the datasets the reader already read: no second read
                warnings.warn(
                    f"{label}: ImageOrientationPatient / ImagePositionPatient are in the file but the DICOM reader "
                    "could not use them (e.g. decimal strings longer than DICOM's 16 characters), so the affine is "
                    "the identity: world-space outputs such as a Grad-CAM NIfTI will not line up with the image. "
                    "Re-save the tags with valid decimal strings.",
                    UserWarning,
                    stacklevel=3,
                )
            continue
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def read_image_array(
    img: str | os.PathLike | np.ndarray | torch.Tensor,
    name: str | None = None,
    collapse_equal_channels: bool = True,
    check_finite: bool = True,
    npz_key: str | None = None,
) -> tuple[np.ndarray, dict]:
    """Read one image (path or array) into a channel-first numpy array in its native dtype.

    MONOCHROME1 DICOM is inverted (over the full stored range) so that bright means high everywhere; DICOM ``meta``
    holds ``"medienet_value_range"``: the ``(min, max)`` value the stored pixel type can take after rescaling.

    Args:
        img: a file path (PNG/JPEG/BMP/TIFF 8/16-bit, NIfTI 2D/3D, DICOM file or DICOM series folder, npy/npz) or an
            array/tensor already shaped ``(C, H, W)`` or ``(C, H, W, D)``.
        name: how to name the image in error messages (defaults to the path; arrays are "<array>").
        collapse_equal_channels: turn a 3/4-channel image whose colour channels are all equal (grey JPEG/PNG saved as
            RGB) into one channel.
        check_finite: raise on NaN/Inf pixels.
        npz_key: which array of a multi-array ``.npz`` file to read.

    Returns:
        ``(array, meta)``: ``array`` of shape ``(C, H, W)`` or ``(C, H, W, D)`` in the file's dtype; ``meta`` holds
        the reader's metadata (affine, spacing, ``filename_or_obj`` …), empty for arrays.

    Raises:
        ImageLoadError: unsupported type, missing/unreadable/corrupt file, wrong rank, NaN/Inf pixels; the message
            names the file.

    Warns:
        UserWarning: a DICOM whose image plane tags are present but unusable to the reader (the affine then falls
            back to the identity). A DICOM without plane tags (2D exports) reads silently with the identity affine.
    """
    meta: dict = {}
    if isinstance(img, (np.ndarray, torch.Tensor)):
        label = name or "<array>"
        if isinstance(img, torch.Tensor):
            t = img.detach().cpu()
            arr = (t.float() if t.dtype in (torch.bfloat16, torch.float16) else t).numpy()
        else:
            arr = np.asarray(img)
        if arr.ndim not in (3, 4):
            raise ImageLoadError(
                f"{label}: an image array must be channel-first (C, H, W) or (C, H, W, D), got shape {arr.shape} "
                f"(rank {arr.ndim})."
            )
    elif isinstance(img, (str, os.PathLike)):
        path = Path(img)
        label = name or str(path)
        if not path.exists():
            raise ImageLoadError(f"{label}: file not found.")
        kind = _reader_kind(path)
        if kind is None:
            raise ImageLoadError(
                f"{label}: not a supported image file (name ending {_suffix(path)!r}, no DICOM preamble); supported: "
                f"{', '.join(IMAGE_EXTENSIONS)} or extension-less DICOM."
            )
        if path.is_file() and not os.access(path, os.R_OK):
            raise ImageLoadError(f"{label}: file is not readable (permission denied).")
        if path.is_file() and path.stat().st_size == 0:
            raise ImageLoadError(f"{label}: file is empty (0 bytes).")
        if kind == "numpy" and _is_npz(path) and npz_key is None:
            try:
                with np.load(path) as npz:
                    keys = list(npz.files)
            except Exception as e:
                raise ImageLoadError(f"{label}: cannot read as numpy ({type(e).__name__}: {e}).") from e
            if len(keys) != 1:
                raise ImageLoadError(f"{label}: npz holds arrays {keys}; pass npz_key to choose one.")
        reader = _make_reader(kind, npz_key)
        try:
            if kind == "dicom":
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    obj = reader.read(str(path))
                    arr, meta = reader.get_data(obj)
                _reissue_reader_warnings(caught, obj, label)
            else:
                obj = reader.read(str(path))
                arr, meta = reader.get_data(obj)
            arr = np.asarray(arr)
        except ImageLoadError:
            raise
        except Exception as e:  # readers raise many types; re-raise one clear error naming the file
            what = {"dicom": "DICOM", "nifti": "NIfTI", "pil": "image", "numpy": "numpy"}[kind]
            raise ImageLoadError(f"{label}: cannot read as {what} ({type(e).__name__}: {e}).") from e
        if kind == "dicom":
            arr, value_range = _dicom_value_range(path, arr)
            if value_range is not None:
                meta = dict(meta)
                meta[VALUE_RANGE_KEY] = value_range
        if arr.dtype == object or arr.size == 0:
            raise ImageLoadError(f"{label}: no pixel data (dtype {arr.dtype}, shape {arr.shape}).")
        if kind != "numpy" and arr.ndim not in (2, 3, 4):
            raise ImageLoadError(f"{label}: unsupported image rank {arr.ndim} (shape {arr.shape}).")
        arr = _channel_first_from_reader(arr, meta, kind)
        if kind == "pil":  # the file has no geometry: place it where ITK-based viewers put it (not PIL's identity)
            meta = dict(meta)
            meta["affine"] = raster_affine()
        if arr.ndim not in (3, 4):
            raise ImageLoadError(
                f"{label}: expected a 2D or 3D image, got an array of shape {arr.shape} (rank {arr.ndim}) after "
                "adding the channel axis."
            )
        meta = dict(meta)
        meta["filename_or_obj"] = str(path)
    else:
        raise ImageLoadError(f"{name or '<item>'}: expected a file path or an array, got {type(img).__name__}.")

    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    if not (np.issubdtype(arr.dtype, np.number)):
        raise ImageLoadError(f"{label}: pixel dtype {arr.dtype} is not numeric.")
    if check_finite and np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        n_bad = int((~np.isfinite(arr)).sum())
        raise ImageLoadError(f"{label}: {n_bad} NaN/Inf pixel value(s) in an image of shape {arr.shape}.")
    if collapse_equal_channels and arr.shape[0] in (3, 4):
        colour = arr[:3]
        if (colour[0] == colour[1]).all() and (colour[0] == colour[2]).all():
            arr = arr[:1]
    return np.ascontiguousarray(arr), meta


class LoadMedicalImage(Transform):
    """Load a path (or pass an array through) as a channel-first float32 ``MetaTensor``.

    Readers are chosen by type: MONAI ``PydicomReader`` (DICOM files, also extension-less, and DICOM series folders;
    rescale slope/intercept applied, MONOCHROME1 inverted), ``NibabelReader`` (NIfTI 2D/3D), ``PILReader``
    (PNG/JPEG/BMP/TIFF, 8- or 16-bit) and ``NumpyReader`` (npy/npz). A grey image stored as RGB(A) with equal channels
    becomes one channel. The original dtype (e.g. ``"uint8"``) is kept in ``meta["medienet_original_dtype"]`` and, for
    DICOM, the stored value range (BitsStored, rescale) in ``meta["medienet_value_range"]``, for
    :class:`monai_medienet.transforms.ScaleIntensityByDtype`.

    Args:
        dtype: output dtype (``None`` keeps the file's dtype; uint16 is then widened to int32 for torch).
        collapse_equal_channels: see :func:`read_image_array`.
        check_finite: raise on NaN/Inf pixels.
        npz_key: which array of a multi-array ``.npz`` file to read.
        orientation: axis order of images read from files with geometry (NIfTI, DICOM), applied with MONAI's
            ``Orientation`` (the affine follows, so world-space outputs still line up). ``None`` (default): as stored
            in the file, like MONAI's ``LoadImage``. ``"raster"``: this package's (rows, columns) order, the axis codes
            ``"PL"`` (2D) / ``"PLS"`` (3D) of :func:`~monai_medienet.transforms.raster_affine`; files whose affine is
            the identity (no geometry recorded: NIfTI saved without one, DICOM without image plane tags) are left as
            stored. Axis codes such as ``"RAS"``: reorient every NIfTI/DICOM file to them (their length must match
            the image's spatial rank). PNG/JPEG/BMP/TIFF files (already in raster order), arrays and numpy files are
            never reoriented.

    Raises:
        ValueError: an invalid ``orientation`` (from ``__init__``).
        ImageLoadError: from ``__call__``, naming the file, for any unusable input (also axis codes whose length
            does not match the file's spatial rank).
    """

    def __init__(
        self,
        dtype: np.dtype | type | None = np.float32,
        collapse_equal_channels: bool = True,
        check_finite: bool = True,
        npz_key: str | None = None,
        orientation: str | None = None,
    ) -> None:
        self.dtype = dtype
        self.collapse_equal_channels = collapse_equal_channels
        self.check_finite = check_finite
        self.npz_key = npz_key
        self.orientation = validate_orientation(orientation, type(self).__name__)

    def __call__(self, img: Any, name: str | None = None) -> MetaTensor:
        """Load ``img``.

        Args:
            img: path or array, see :func:`read_image_array`.
            name: name used in error messages.

        Returns:
            ``MetaTensor`` of shape ``(C, H, W)`` or ``(C, H, W, D)``.
        """
        if isinstance(img, MetaTensor):
            original = img.meta.get(ORIGINAL_DTYPE_KEY, str(img.dtype).replace("torch.", ""))
        else:
            original = None
        arr, meta = read_image_array(
            img,
            name=name,
            collapse_equal_channels=self.collapse_equal_channels,
            check_finite=self.check_finite,
            npz_key=self.npz_key,
        )
        meta[ORIGINAL_DTYPE_KEY] = original or str(arr.dtype)
        if self.dtype is not None:
            arr = arr.astype(self.dtype, copy=False)
        elif arr.dtype in (np.uint16, np.uint32):
            arr = arr.astype(np.int64 if arr.dtype == np.uint32 else np.int32)
        affine = meta.pop("affine", None)
        keep = {
            k: v for k, v in meta.items() if k in ("filename_or_obj", "spacing", ORIGINAL_DTYPE_KEY, VALUE_RANGE_KEY)
        }
        out = MetaTensor(torch.from_numpy(np.ascontiguousarray(arr)), affine=affine, meta=keep)
        if self.orientation is not None and affine is not None and isinstance(img, (str, os.PathLike)):
            out = self._reorient(out, Path(img), np.asarray(affine, dtype=np.float64), name)
        return out

    def _reorient(self, img: MetaTensor, path: Path, affine: np.ndarray, name: str | None) -> MetaTensor:
        """Apply ``self.orientation`` to an image read from ``path`` (see the class docstring)."""
        if _reader_kind(path) not in ("nifti", "dicom"):  # raster files are already in raster order; numpy has none
            return img
        spatial = img.ndim - 1
        if self.orientation == RASTER:
            if np.allclose(affine, np.eye(len(affine))):  # no geometry recorded: keep the stored order
                return img
            codes = raster_axcodes(spatial)
        else:
            codes = self.orientation
            if len(codes) != spatial:
                raise ImageLoadError(
                    f"{name or path}: orientation {codes!r} names {len(codes)} axes but the image has {spatial} "
                    f"spatial axes (shape {tuple(img.shape)})."
                )
        from monai_medienet.utils import meta_tracking

        with meta_tracking(True):  # a MetaTensor out even where tracking is off: keeps the original dtype / value range
            return Orientation(axcodes=codes, labels=None)(img)


class LoadMedicalImaged(MapTransform):
    """Dictionary version of :class:`LoadMedicalImage`: loads ``data[key]`` (path or array) for each key.

    Error messages name the file, or for arrays the item's ``"id"`` (else ``"<array>"``).

    Args:
        keys: keys of the items to load (default ``"image"``).
        dtype: output dtype, see :class:`LoadMedicalImage`.
        collapse_equal_channels: see :func:`read_image_array`.
        check_finite: raise on NaN/Inf pixels.
        npz_key: which array of a multi-array ``.npz`` file to read.
        orientation: ``None`` (as stored), ``"raster"`` or axis codes, see :class:`LoadMedicalImage`.
        allow_missing_keys: don't raise when a key is absent.

    Raises:
        ValueError: an invalid ``orientation``.
    """

    def __init__(
        self,
        keys: KeysCollection = "image",
        dtype: np.dtype | type | None = np.float32,
        collapse_equal_channels: bool = True,
        check_finite: bool = True,
        npz_key: str | None = None,
        orientation: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.loader = LoadMedicalImage(
            dtype=dtype,
            collapse_equal_channels=collapse_equal_channels,
            check_finite=check_finite,
            npz_key=npz_key,
            orientation=validate_orientation(orientation, type(self).__name__),
        )

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            value = d[key]
            name = None
            if not isinstance(value, (str, os.PathLike)) and "id" in d:
                name = f"item {d['id']!r}"
            d[key] = self.loader(value, name=name)
        return d
