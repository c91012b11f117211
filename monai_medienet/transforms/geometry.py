"""World geometry for 2D raster images (PNG/JPEG/BMP/TIFF), whose files carry none.

MONAI's ``PILReader`` gives such an image the identity affine, and this package keeps pixels in (rows, columns) order
(see :mod:`monai_medienet.transforms.loading`). Written to NIfTI with that affine, an image or a Grad-CAM map opens
transposed and mirrored in ITK-based viewers (ITK-SNAP, 3D Slicer) next to the PNG it came from: ITK reads a raster
file with index (column, row), unit spacing, origin 0 and identity direction in LPS. :func:`raster_affine` is the
affine that puts a (rows, columns) array where ITK puts the raster file.

Its axis codes are ``"PL"`` (rows run to posterior, columns to the patient's left; slices of a volume to superior:
``"PLS"``), which is also how an axial DICOM slice is displayed (radiological view). :func:`raster_axcodes` names them
and :func:`validate_orientation` checks the ``orientation`` argument of the loaders, which reorients files that carry
geometry (NIfTI, DICOM) into this order (e.g. a NIfTI written by ITK from a PNG, stored as (columns, rows)).
"""

from __future__ import annotations

import numpy as np
from monai.data.utils import orientation_ras_lps

__all__ = ["RASTER", "raster_affine", "raster_axcodes", "validate_orientation"]

RASTER = "raster"
"""The ``orientation`` value meaning "the raster order of this package": :func:`raster_axcodes` of the image's rank."""

_AXIS_LETTERS = ("LR", "PA", "IS")


def raster_affine() -> np.ndarray:
    """The RAS voxel-to-world affine of a raster image read in (rows, columns) order, as ITK places the file.

    Pixel (row ``i``, column ``j``) lies at LPS ``(j, i, 0)`` for ITK, i.e. RAS ``(-j, -i, 0)``; a third array axis
    (slices of a volume written from stacked raster images) runs along +S. Used by :class:`LoadMedicalImage` for
    PNG/JPEG/BMP/TIFF files and by the NIfTI writers of synthetic images, so that a NIfTI written from such an array
    (e.g. a Grad-CAM map, resized with its affine) overlays the source image in a viewer.

    Returns:
        ``(4, 4)`` float64 RAS affine ``[[0, -1, 0, 0], [-1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]``.
    """
    lps = np.eye(4)
    lps[:2, :2] = [[0.0, 1.0], [1.0, 0.0]]  # index (row, column) -> LPS (column, row), ITK's raster convention
    return orientation_ras_lps(lps)


def raster_axcodes(spatial_dims: int) -> str:
    """The axis codes of :func:`raster_affine` for ``spatial_dims`` spatial axes.

    Args:
        spatial_dims: 2 (``"PL"``) or 3 (``"PLS"``).

    Returns:
        The codes, one letter per array axis, in the labels of MONAI's ``Orientation`` (RAS).

    Raises:
        ValueError: ``spatial_dims`` not 2 or 3.
    """
    if spatial_dims not in (2, 3):
        raise ValueError(f"raster_axcodes: spatial_dims must be 2 or 3, got {spatial_dims!r}.")
    return "PLS"[:spatial_dims]


def validate_orientation(orientation: str | None, owner: str) -> str | None:
    """Check an ``orientation`` argument: ``None``, ``"raster"`` or 2-3 axis codes such as ``"RAS"`` or ``"PL"``.

    Args:
        orientation: the value to check.
        owner: the class or function named in the error.

    Returns:
        ``None``, ``"raster"`` or the codes in upper case.

    Raises:
        ValueError: anything else (codes of another length, unknown letters, two letters of one axis), naming
            ``owner`` and the value.
    """
    if orientation is None:
        return None
    if not isinstance(orientation, str):
        raise ValueError(
            f"{owner}: orientation must be None, {RASTER!r} or axis codes such as 'RAS', got {orientation!r}."
        )
    if orientation.lower() == RASTER:
        return RASTER
    codes = orientation.upper()
    axes = [next((i for i, pair in enumerate(_AXIS_LETTERS) if c in pair), None) for c in codes]
    if len(codes) not in (2, 3) or None in axes or len(set(axes)) != len(axes):
        raise ValueError(
            f"{owner}: orientation must be None, {RASTER!r} or 2-3 axis codes with one letter of each of L/R, P/A, "
            f"I/S (e.g. 'RAS', 'PL'), got {orientation!r}."
        )
    return codes
