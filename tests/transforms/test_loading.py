"""LoadMedicalImage(d): reader choice by type, channel-first, grey-RGB collapse, and clear errors on bad input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_medienet.io import write_test_dicom, write_test_dicom_series, write_test_nifti, write_test_png
from monai_medienet.transforms import (
    ImageLoadError,
    LoadMedicalImage,
    LoadMedicalImaged,
    is_supported_image_path,
    read_image_array,
)

RNG = np.random.default_rng(0)
GREY8 = RNG.integers(0, 256, (12, 10), dtype=np.uint8)
GREY16 = RNG.integers(0, 65536, (12, 10), dtype=np.uint16)
VOL = RNG.integers(-1000, 1000, (12, 10, 4)).astype(np.int16)


def test_png_8_and_16_bit_keep_pixels_and_display_orientation(tmp_path):
    for arr, name in ((GREY8, "a.png"), (GREY16, "b.png")):
        out, _ = read_image_array(write_test_png(tmp_path / name, arr))
        assert out.shape == (1, 12, 10) and out.dtype == arr.dtype
        np.testing.assert_array_equal(out[0], arr)


def test_rgb_jpeg_with_equal_channels_becomes_one_channel(tmp_path):
    path = write_test_png(tmp_path / "g.jpeg", GREY8, rgb=True)
    out, _ = read_image_array(path)
    assert out.shape == (1, 12, 10)
    kept, _ = read_image_array(path, collapse_equal_channels=False)
    assert kept.shape == (3, 12, 10)


def test_colour_png_keeps_three_channels(tmp_path):
    colour = RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    out, _ = read_image_array(write_test_png(tmp_path / "c.png", colour))
    np.testing.assert_array_equal(out, np.moveaxis(colour, -1, 0))


def test_dicom_file_applies_rescale_and_extensionless_is_detected(tmp_path):
    path = write_test_dicom(tmp_path / "ct.dcm", VOL[..., 0], rescale=(1.0, -1024.0))
    out, _ = read_image_array(path)
    np.testing.assert_allclose(out[0], VOL[..., 0].astype(np.float64) - 1024.0)
    bare = tmp_path / "IMG0001"
    os.replace(path, bare)
    assert is_supported_image_path(bare)
    out2, _ = read_image_array(bare)
    np.testing.assert_array_equal(out, out2)


def test_monochrome1_dicom_is_inverted_over_the_stored_range(tmp_path):
    path = write_test_dicom(tmp_path / "m1.dcm", GREY16, photometric="MONOCHROME1")
    out, _ = read_image_array(path)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out[0], 65535 - GREY16)
    path = write_test_dicom(tmp_path / "m1ct.dcm", VOL[..., 0], rescale=(2.0, -100.0), photometric="MONOCHROME1")
    out, _ = read_image_array(path)
    stored = VOL[..., 0].astype(np.float64) * 2.0 - 100.0
    np.testing.assert_allclose(out[0], (-32768 + 32767) * 2.0 - 200.0 - stored)


def test_dicom_series_folder_is_one_volume(tmp_path):
    folder = write_test_dicom_series(tmp_path / "series", VOL.astype(np.uint16) + 1000)
    img = LoadMedicalImage()(folder)
    assert isinstance(img, MetaTensor) and img.shape == (1, 12, 10, 4) and img.dtype == torch.float32
    np.testing.assert_array_equal(img[0].numpy(), (VOL + 1000).astype(np.float32))


def test_unusable_plane_tags_warn_instead_of_a_silent_identity_affine(tmp_path):
    """Plane tags the reader cannot use (decimal strings over 16 characters) give a warning naming the file; a 2D
    DICOM without plane tags stays quiet (identity is right there); valid tilted tags give their affine, no warning."""
    import warnings

    import pydicom

    c, s = float(np.cos(0.3)), float(np.sin(0.3))
    paths = {}
    for name, iop in [("long", [c, s, 0.0, -s, c, 0.0]), ("valid", [round(v, 6) for v in (c, s, 0.0, -s, c, 0.0)])]:
        paths[name] = write_test_dicom(tmp_path / f"{name}.dcm", GREY16)
        ds = pydicom.dcmread(paths[name])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom itself warns about the over-long strings
            ds.ImageOrientationPatient = iop
        ds.save_as(paths[name])
    paths["none"] = write_test_dicom(tmp_path / "none.dcm", GREY16)
    ds = pydicom.dcmread(paths["none"])
    del ds.ImageOrientationPatient, ds.ImagePositionPatient
    ds.save_as(paths["none"])

    with pytest.warns(UserWarning, match=r"long\.dcm: ImageOrientationPatient / ImagePositionPatient are in the file"):
        _, meta = read_image_array(paths["long"])
    assert np.allclose(np.asarray(meta["affine"])[:3, :3], np.eye(3))
    for name in ("none", "valid"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _, meta = read_image_array(paths[name])
        tilted = not np.allclose(np.abs(np.asarray(meta["affine"])[:3, :3]), np.eye(3), atol=1e-3)
        assert tilted == (name == "valid")


@pytest.mark.parametrize("shape", [(12, 10), (12, 10, 4)])
def test_nifti_2d_and_3d(tmp_path, shape):
    arr = RNG.random(shape).astype(np.float32)
    img = LoadMedicalImage()(write_test_nifti(tmp_path / "x.nii.gz", arr))
    assert img.shape == (1, *shape)
    np.testing.assert_allclose(img[0].numpy(), arr)


def test_numpy_files_follow_channel_first_convention(tmp_path):
    np.save(tmp_path / "a.npy", GREY8[None])
    np.save(tmp_path / "b.npy", GREY8)
    np.savez(tmp_path / "c.npz", image=GREY8[None])
    for name in ("a.npy", "b.npy", "c.npz"):
        out, _ = read_image_array(tmp_path / name)
        assert out.shape == (1, 12, 10), name
    np.savez(tmp_path / "two.npz", a=GREY8[None], b=GREY8[None, :5])
    with pytest.raises(ImageLoadError, match=r"two\.npz: npz holds arrays \['a', 'b'\]; pass npz_key"):
        read_image_array(tmp_path / "two.npz")
    assert read_image_array(tmp_path / "two.npz", npz_key="b")[0].shape == (1, 5, 10)


def test_arrays_pass_through_and_dict_version_keeps_other_keys():
    item = {"image": GREY8[None], "label": 1, "id": "x"}
    out = LoadMedicalImaged(keys="image")(item)
    assert out["label"] == 1 and out["image"].shape == (1, 12, 10)
    assert out["image"].meta["medienet_original_dtype"] == "uint8"
    native = LoadMedicalImage(dtype=None)(torch.from_numpy(GREY16.astype(np.int32))[None])
    assert native.dtype == torch.int32
    half = LoadMedicalImage()(torch.rand(1, 4, 4, dtype=torch.bfloat16))  # generator outputs in bf16
    assert half.dtype == torch.float32 and half.shape == (1, 4, 4)


def test_wrong_rank_array_names_the_item():
    with pytest.raises(ImageLoadError, match=r"item 'bad'.*rank 2"):
        LoadMedicalImaged()({"image": GREY8, "label": 0, "id": "bad"})


def test_nan_pixels_are_rejected_naming_the_file(tmp_path):
    arr = np.zeros((4, 4), np.float32)
    arr[1, 2] = np.nan
    path = write_test_nifti(tmp_path / "nan.nii", arr)
    with pytest.raises(ImageLoadError, match=r"nan\.nii.*1 NaN/Inf"):
        LoadMedicalImage()(path)
    inf = np.full((1, 3, 3), np.inf, np.float32)
    with pytest.raises(ImageLoadError, match="9 NaN/Inf"):
        LoadMedicalImage()(inf)


def test_truncated_dicom_is_a_clear_error(tmp_path):
    path = write_test_dicom(tmp_path / "t.dcm", GREY16)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(ImageLoadError, match=r"t\.dcm: cannot read as DICOM"):
        read_image_array(path)


def test_non_image_missing_and_empty_files(tmp_path):
    note = tmp_path / "notes.txt"
    note.write_text("hello")
    with pytest.raises(ImageLoadError, match=r"notes\.txt: not a supported image file"):
        read_image_array(note)
    with pytest.raises(ImageLoadError, match="file not found"):
        read_image_array(tmp_path / "missing.png")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"empty\.png: file is empty"):
        read_image_array(empty)
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not a png at all")
    with pytest.raises(ImageLoadError, match=r"fake\.png: cannot read as image"):
        read_image_array(fake)


def test_unreadable_file(tmp_path, monkeypatch):
    path = write_test_png(tmp_path / "locked.png", GREY8)
    # chmod 0 does not stop root (tests may run as root), so simulate the permission check failing
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != path)
    with pytest.raises(ImageLoadError, match=r"locked\.png: file is not readable"):
        read_image_array(path)


def test_real_chest_xray_jpeg_loads_as_one_channel(chest_xray_dir):
    path = sorted((chest_xray_dir / "train" / "NORMAL").iterdir())[0]
    img = LoadMedicalImage()(path)
    assert img.shape == (1, 224, 224)
    assert 0 <= float(img.min()) and float(img.max()) <= 255
