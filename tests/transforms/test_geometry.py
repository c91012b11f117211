"""raster_affine: a (rows, columns) array from a PNG/JPEG, written as NIfTI, lands on the file in ITK's world space."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from monai.data.utils import orientation_ras_lps

from monai_medienet.io.fixtures import write_test_png
from monai_medienet.transforms import LoadMedicalImage, image_preprocessing, raster_affine


def _blob(shape=(40, 24)) -> np.ndarray:
    """A smooth off-centre blob: transposed, mirrored or shifted copies of it do not correlate with it."""
    i, j = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (255 * np.exp(-((i - 10.0) ** 2 + (j - 6.0) ** 2) / 40.0)).astype(np.uint8)


def test_raster_affine_is_itks_raster_convention_in_ras():
    a = raster_affine()
    assert a.shape == (4, 4) and a.dtype == np.float64
    assert np.allclose(a @ [3.0, 5.0, 2.0, 1.0], [-5.0, -3.0, 2.0, 1.0])  # row 3, column 5 -> LPS (5, 3) -> RAS
    assert np.allclose(orientation_ras_lps(a)[:2, :2], [[0.0, 1.0], [1.0, 0.0]])  # ITK: index (column, row)
    a[0, 0] = 7.0
    assert raster_affine()[0, 0] == 0.0  # a fresh array per call


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_raster_files_load_with_the_raster_affine(tmp_path, suffix):
    x = LoadMedicalImage()(write_test_png(tmp_path / f"x{suffix}", _blob(), rgb=suffix == ".jpg"))
    assert tuple(x.shape) == (1, 40, 24)
    assert np.allclose(np.asarray(x.affine), raster_affine())
    nifti = tmp_path / "x.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 3), np.float32), np.diag([2.0, 3.0, 1.0, 1.0])), str(nifti))
    assert np.allclose(np.asarray(LoadMedicalImage()(nifti).affine), np.diag([2.0, 3.0, 1.0, 1.0]))  # its own


@pytest.mark.parametrize("resize_mode", [None, "pad", "resize"])
def test_nifti_written_with_the_affine_overlays_the_png_in_simpleitk(tmp_path, resize_mode):
    sitk = pytest.importorskip("SimpleITK", reason="SimpleITK (the dev extra) reads both files as ITK viewers do")
    blob = _blob()
    png_path = write_test_png(tmp_path / "x.png", blob)
    if resize_mode is None:
        x, expected = LoadMedicalImage()(png_path), blob.astype(np.float64)
    else:  # the classifier's input grid (32 x 32, aspect kept and padded, or stretched), its affine updated by MONAI
        transform = image_preprocessing(
            (32, 32), channels=1, intensity="dtype", resize_mode=resize_mode, label_key=None, track_meta=True
        )
        x, expected = transform({"image": png_path})["image"], blob / 255.0
    png = sitk.ReadImage(str(png_path))

    def on_png_grid(affine: np.ndarray) -> np.ndarray:
        path = tmp_path / "x.nii.gz"
        nib.save(nib.Nifti1Image(x[0].numpy().astype(np.float32), affine), str(path))
        resampled = sitk.Resample(sitk.ReadImage(str(path)), png, sitk.Transform(), sitk.sitkLinear, -1.0)
        return sitk.GetArrayFromImage(resampled)  # (rows, columns) of the PNG; -1 where the NIfTI does not reach

    overlay = on_png_grid(np.asarray(x.affine, dtype=np.float64))
    assert (overlay >= 0).all()  # the NIfTI covers every pixel of the PNG
    if resize_mode is None:
        np.testing.assert_allclose(overlay, expected, atol=1e-3)
    else:  # down- and up-sampled: the same picture, not the same pixels
        assert np.corrcoef(overlay.ravel(), expected.ravel())[0, 1] > 0.99
        assert np.abs(overlay - expected).max() < 0.1
    assert (on_png_grid(np.eye(4)) < 0).mean() > 0.9  # PILReader's identity affine puts it elsewhere
