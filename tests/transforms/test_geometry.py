"""raster_affine: a (rows, columns) array from a PNG/JPEG, written as NIfTI, lands on the file in ITK's world space;
the loaders' ``orientation="raster"`` brings NIfTI/DICOM files into that order."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.data.utils import orientation_ras_lps

from monai_medienet.io.fixtures import write_test_dicom, write_test_dicom_series, write_test_nifti, write_test_png
from monai_medienet.transforms import (
    ImageLoadError,
    LoadMedicalImage,
    LoadMedicalImaged,
    image_preprocessing,
    raster_affine,
    raster_axcodes,
    validate_orientation,
)


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


def _itk_nifti_from_png_array(tmp_path, array: np.ndarray):
    """What 3D Slicer / SimpleITK write when they save a PNG as NIfTI: stored (columns, rows), LPS identity."""
    sitk = pytest.importorskip("SimpleITK", reason="SimpleITK (the dev extra) writes NIfTI as ITK-based viewers do")
    path = tmp_path / "from_png.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(array), str(path))
    return path


def test_raster_axcodes_are_the_codes_of_raster_affine():
    assert raster_axcodes(2) == "PL" and raster_axcodes(3) == "PLS"
    assert "".join(nib.aff2axcodes(raster_affine())) == "PLS"
    with pytest.raises(ValueError, match="raster_axcodes: spatial_dims must be 2 or 3, got 4"):
        raster_axcodes(4)


@pytest.mark.parametrize(
    "value, expected", [(None, None), ("raster", "raster"), ("RASTER", "raster"), ("ras", "RAS"), ("PL", "PL")]
)
def test_validate_orientation_accepts(value, expected):
    assert validate_orientation(value, "Owner") == expected


@pytest.mark.parametrize("value", ["RRS", "RAX", "R", "RASP", "", 3])
def test_validate_orientation_rejects_naming_owner_and_value(value):
    with pytest.raises(ValueError, match=f"Owner: orientation must be None, 'raster' or .*got {value!r}"):
        validate_orientation(value, "Owner")


def test_itk_nifti_of_a_png_loads_transposed_as_stored_and_in_png_order_with_raster(tmp_path):
    blob = _blob()
    path = _itk_nifti_from_png_array(tmp_path, blob)
    stored = LoadMedicalImage()(path)
    assert tuple(stored.shape) == (1, 24, 40)  # (columns, rows): MONAI's LoadImage order, our default
    np.testing.assert_array_equal(stored[0].numpy(), blob.T)
    x = LoadMedicalImage(orientation="raster")(path)
    assert tuple(x.shape) == (1, 40, 24)
    np.testing.assert_array_equal(x[0].numpy(), blob)  # pixel for pixel the PNG's array
    assert np.allclose(np.asarray(x.affine), raster_affine())  # and placed where the PNG is
    png = LoadMedicalImage(orientation="raster")(write_test_png(tmp_path / "x.png", blob))
    np.testing.assert_array_equal(png.numpy(), x.numpy())


def test_raster_leaves_png_dicom_and_geometry_less_files_alone(tmp_path):
    blob = _blob()
    for path in (
        write_test_png(tmp_path / "x.png", blob),
        write_test_dicom(tmp_path / "x.dcm", blob.astype(np.uint16)),  # axial plane tags: already (P, L)
        write_test_nifti(tmp_path / "identity.nii.gz", blob),  # identity affine: no geometry recorded
        write_test_dicom_series(tmp_path / "series", np.stack([blob, blob // 2], -1).astype(np.uint16)),
    ):
        a, b = LoadMedicalImage()(path), LoadMedicalImage(orientation="raster")(path)
        assert a.shape == b.shape and torch.equal(a.as_tensor(), b.as_tensor()), path
        assert np.allclose(np.asarray(a.affine), np.asarray(b.affine)), path


def test_explicit_axis_codes_reorient_and_check_the_rank(tmp_path):
    blob = _blob()
    path = write_test_nifti(tmp_path / "identity.nii.gz", blob)  # identity affine: codes "RA"
    x = LoadMedicalImaged(keys="image", orientation="AR")({"image": path})["image"]
    np.testing.assert_array_equal(x[0].numpy(), blob.T)
    assert "".join(nib.aff2axcodes(np.asarray(x.affine))[:2]) == "AR"
    with pytest.raises(ImageLoadError, match=r"identity.nii.gz: orientation 'RAS' names 3 axes but the image has 2"):
        LoadMedicalImage(orientation="RAS")(path)
    arr = torch.from_numpy(blob[None].astype(np.float32))  # arrays carry no geometry: never reoriented
    np.testing.assert_array_equal(LoadMedicalImage(orientation="AR")(arr).numpy(), arr.numpy())


@pytest.mark.parametrize("owner", ["LoadMedicalImage", "LoadMedicalImaged", "image_preprocessing"])
def test_invalid_orientation_names_the_owner(owner):
    build = {
        "LoadMedicalImage": lambda o: LoadMedicalImage(orientation=o),
        "LoadMedicalImaged": lambda o: LoadMedicalImaged(keys="image", orientation=o),
        "image_preprocessing": lambda o: image_preprocessing(16, orientation=o),
    }[owner]
    with pytest.raises(ValueError, match=f"^{owner}: orientation must be .*got 'up'"):
        build("up")


def test_image_preprocessing_records_and_applies_the_orientation(tmp_path):
    blob = _blob()
    path = _itk_nifti_from_png_array(tmp_path, blob)
    pre = image_preprocessing((40, 24), intensity="dtype", label_key=None, orientation="raster")
    assert pre.preprocessing_settings["orientation"] == "raster"
    assert image_preprocessing(16).preprocessing_settings["orientation"] is None
    x = pre({"image": path})["image"]
    np.testing.assert_allclose(x[0].numpy(), blob / 255.0, atol=1e-6)


def test_reoriented_image_keeps_its_metadata_with_tracking_off(tmp_path):
    """ScaleIntensityByDtype reads the original dtype from the metadata: it must survive the reorientation."""
    from monai_medienet.transforms import ScaleIntensityByDtype
    from monai_medienet.utils import meta_tracking

    blob = _blob()
    path = _itk_nifti_from_png_array(tmp_path, blob)  # uint8 in the file
    with meta_tracking(False):
        x = LoadMedicalImage(orientation="raster")(path)
        assert x.meta["medienet_original_dtype"] == "uint8"
        np.testing.assert_allclose(ScaleIntensityByDtype()(x)[0].numpy(), blob / 255.0, atol=1e-6)
