"""Writers for synthetic images (PNG / NIfTI / DICOM Secondary Capture) with a provenance manifest."""

from __future__ import annotations

from .fixtures import write_test_dicom, write_test_dicom_series, write_test_nifti, write_test_png
from .pooling import filter_manifest, pool_manifests
from .writers import MANIFEST_COLUMNS, SyntheticImageWriter, read_manifest

__all__ = [
    "MANIFEST_COLUMNS",
    "SyntheticImageWriter",
    "filter_manifest",
    "pool_manifests",
    "read_manifest",
    "write_test_dicom",
    "write_test_dicom_series",
    "write_test_nifti",
    "write_test_png",
]
