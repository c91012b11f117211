"""World geometry for 2D raster images (PNG/JPEG/BMP/TIFF), whose files carry none.

MONAI's ``PILReader`` gives such an image the identity affine, and this package keeps pixels in (rows, columns) order
(see :mod:`monai_medienet.transforms.loading`). Written to NIfTI with that affine, an image or a Grad-CAM map opens
transposed and mirrored in ITK-based viewers (ITK-SNAP, 3D Slicer) next to the PNG it came from: ITK reads a raster
file with index (column, row), unit spacing, origin 0 and identity direction in LPS. :func:`raster_affine` is the
affine that puts a (rows, columns) array where ITK puts the raster file.
"""

from __future__ import annotations

import numpy as np
from monai.data.utils import orientation_ras_lps

__all__ = ["raster_affine"]


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
