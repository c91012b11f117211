"""Writers for synthetic images (PNG / NIfTI / DICOM Secondary Capture) with a provenance manifest."""

from __future__ import annotations

from .fixtures import write_test_dicom, write_test_dicom_series, write_test_nifti, write_test_png

__all__ = ["write_test_dicom", "write_test_dicom_series", "write_test_nifti", "write_test_png"]
