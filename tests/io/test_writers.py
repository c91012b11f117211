"""SyntheticImageWriter: formats, DICOM synthetic-data tags, provenance, manifest, no-overwrite, round trips."""

from __future__ import annotations

import gzip
import hashlib
import json

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from monai.data import PydicomReader
from monai.transforms import LoadImage
from PIL import Image

from monai_medienet.data import item_fingerprint, manifest_source
from monai_medienet.io import MANIFEST_COLUMNS, SyntheticImageWriter, read_manifest
from monai_medienet.transforms import image_preprocessing

CLASSES = ["normal", "pneumonia"]
PROV = {"sampler": "dpm_solver++", "steps": 20, "guidance_scale": 2.5, "checkpoint_sha256": "ab" * 32}


def _img(shape=(1, 12, 10), seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("fmt", ["png", "nifti", "dicom"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_round_trip_through_manifest_source_and_preprocessing(tmp_path, fmt, bit_depth):
    images = [_img(seed=s) for s in range(3)]
    labels = [0, 1, 1]
    with SyntheticImageWriter(tmp_path, CLASSES, fmt=fmt, bit_depth=bit_depth, provenance=PROV) as writer:
        for s, (img, lb) in enumerate(zip(images, labels)):
            writer.write(img, lb, seed=s)
    src = manifest_source(tmp_path / "manifest.csv")
    assert src.classes == CLASSES and len(src.splits["train"]) == 3
    pre = image_preprocessing((12, 10), intensity="dtype")
    top = (1 << bit_depth) - 1
    by_seed = {int(it["id"].split("seed")[1].split(".")[0]): it for it in src.splits["train"]}
    for s, (img, lb) in enumerate(zip(images, labels)):
        item = by_seed[s]
        assert item["synthetic"] == 1
        out = pre(item)
        assert int(out["label"]) == lb
        torch.testing.assert_close(out["image"], torch.round(img * top) / top, atol=1e-6, rtol=0)


def test_dicom_is_marked_synthetic_and_readable_by_pydicom_and_monai(tmp_path):
    img = _img()
    with SyntheticImageWriter(tmp_path, CLASSES, fmt="dicom", bit_depth=16, provenance=PROV) as writer:
        p1 = writer.write(img, 1, seed=11)
        p2 = writer.write(_img(seed=1), 0, seed=12)
    ds = pydicom.dcmread(p1)
    assert ds.file_meta.MediaStorageSOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    assert ds.SyntheticData == "YES" and ds.ConversionType == "SYN"
    assert list(ds.ImageType) == ["DERIVED", "SECONDARY"]
    assert ds.PatientIdentityRemoved == "YES" and ds.DeidentificationMethod and ds.BurnedInAnnotation == "NO"
    assert ds.Modality == "OT" and "PatientBirthDate" in ds and ds.PatientName == "SYNTHETIC^MEDIENET"
    code = ds.ContributingEquipmentSequence[0].PurposeOfReferenceCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == (
        "109100",
        "DCM",
        "Synthesizing Equipment",
    )
    assert ds.BitsStored == 16 and ds.Rows == 12 and ds.Columns == 10
    ds2 = pydicom.dcmread(p2)
    assert ds.SOPInstanceUID != ds2.SOPInstanceUID and ds.SeriesInstanceUID != ds2.SeriesInstanceUID
    assert json.loads(ds.ImageComments)["provenance"]["sampler"] == "dpm_solver++"
    expected = np.rint(img[0].numpy() * 65535).astype(np.uint16)
    np.testing.assert_array_equal(ds.pixel_array, expected)
    monai_pydicom = LoadImage(image_only=True, reader=PydicomReader())(str(p1))  # MONAI's (W, H) order
    np.testing.assert_array_equal(monai_pydicom.numpy(), expected.T.astype(np.float32))
    monai_auto = LoadImage(image_only=True)(str(p1))  # whatever reader MONAI picks by itself
    np.testing.assert_array_equal(monai_auto.numpy(), expected.T.astype(np.float32))


def test_nifti_and_png_carry_provenance(tmp_path):
    with SyntheticImageWriter(tmp_path / "n", CLASSES, fmt="nifti", provenance=PROV) as writer:
        path = writer.write(_img((1, 6, 5, 4)), 0, seed=3)
    nii = nib.load(str(path))
    assert nii.shape == (6, 5, 4)
    monai_auto = LoadImage(image_only=True)(str(path))
    np.testing.assert_allclose(monai_auto.numpy(), np.rint(_img((1, 6, 5, 4))[0].numpy() * 255) / 255, atol=1e-6)
    assert nii.header["descrip"].tobytes().startswith(b"SYNTHETIC MedIENet normal seed=3")
    ext = json.loads(nii.header.extensions[0].get_content())
    assert ext["provenance"]["steps"] == 20 and ext["medienet"]["seed"] == 3
    assert gzip.decompress(path.read_bytes())[:4]  # a valid gzip stream
    with SyntheticImageWriter(tmp_path / "p", CLASSES, fmt="png", provenance=PROV) as writer:
        path = writer.write(_img((3, 6, 5)), 1, seed=4)
    png = Image.open(path)
    assert png.mode == "RGB" and json.loads(png.text["medienet_provenance"])["medienet"]["class_name"] == "pneumonia"


def test_nifti_opens_like_its_png_twin_in_simpleitk(tmp_path):
    """ITK-based viewers (ITK-SNAP, 3D Slicer) place the NIfTI exactly on the PNG of the same image."""
    sitk = pytest.importorskip("SimpleITK", reason="SimpleITK (the dev extra) reads both files as ITK viewers do")
    img, paths = _img((1, 12, 10)), {}
    for fmt in ("png", "nifti"):
        with SyntheticImageWriter(tmp_path / fmt, CLASSES, fmt=fmt, provenance=PROV) as writer:
            paths[fmt] = writer.write(img, 0, seed=1)
    png, nii = sitk.ReadImage(str(paths["png"])), sitk.ReadImage(str(paths["nifti"]))
    on_png = sitk.Resample(nii, png, sitk.Transform(), sitk.sitkNearestNeighbor, -1.0, sitk.sitkFloat32)
    np.testing.assert_allclose(sitk.GetArrayFromImage(on_png) * 255, sitk.GetArrayFromImage(png), atol=1e-3)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(png), np.rint(img[0].numpy() * 255))  # upright, not transposed


def test_manifest_columns_and_types(tmp_path):
    with SyntheticImageWriter(tmp_path, CLASSES, provenance=PROV) as writer:
        writer.write_batch(torch.rand(2, 1, 8, 8), torch.tensor([1, 0]), seeds=5)
        writer.write(_img((1, 8, 8)) * 1.5 - 0.25, 0, seed=6, guidance_scale=4.0, note="x")
    rows = read_manifest(tmp_path)
    assert list(rows[0])[: len(MANIFEST_COLUMNS)] == list(MANIFEST_COLUMNS)
    assert [r["path"] for r in rows] == ["pneumonia/pneumonia_seed5_0.png", "normal/normal_seed5_1.png",
                                         "normal/normal_seed6.png"]  # fmt: skip
    assert rows[0]["label"] == 1 and rows[0]["seed"] == 5 and rows[0]["steps"] == 20 and rows[0]["batch_index"] == 0
    assert rows[0]["guidance_scale"] == 2.5 and rows[2]["guidance_scale"] == 4.0 and rows[2]["note"] == "x"
    assert rows[0]["checkpoint_sha256"] == "ab" * 32 and rows[0]["package_version"] and rows[0]["time"]
    assert rows[0]["clipped_fraction"] == 0.0 and rows[2]["clipped_fraction"] > 0.0
    sidecar = json.loads((tmp_path / "manifest.json").read_text())
    assert sidecar["classes"] == CLASSES and sidecar["num_images"] == 3


def test_never_overwrites_unless_asked_and_leaves_no_temp_files(tmp_path):
    writer = SyntheticImageWriter(tmp_path, CLASSES)
    path = writer.write(_img(), 0, seed=1)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match=r"normal_seed1\.png already exists; pass overwrite=True"):
        writer.write(_img(seed=9), 0, seed=1)
    assert path.read_bytes() == before
    writer.close()
    again = SyntheticImageWriter(tmp_path, CLASSES, overwrite=True)  # resumes the manifest
    assert len(again) == 1
    again.write(_img(seed=9), 0, seed=1)
    again.close()
    assert path.read_bytes() != before and len(read_manifest(tmp_path)) == 1
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    with pytest.raises(ValueError, match="was written for classes"):
        SyntheticImageWriter(tmp_path, ["a", "b"])


def test_flush_every_writes_manifest_before_close(tmp_path):
    writer = SyntheticImageWriter(tmp_path, CLASSES, flush_every=2)
    writer.write(_img(), 0, seed=1)
    assert not (tmp_path / "manifest.csv").exists()
    writer.write(_img(), 0, seed=2)
    assert len(read_manifest(tmp_path / "manifest.csv")) == 2


def test_writer_errors(tmp_path):
    with pytest.raises(ValueError, match="fmt must be one of"):
        SyntheticImageWriter(tmp_path, CLASSES, fmt="jpeg")
    with pytest.raises(ValueError, match="bit_depth must be 8 or 16"):
        SyntheticImageWriter(tmp_path, CLASSES, bit_depth=12)
    with pytest.raises(ValueError, match="plain JSON"):
        SyntheticImageWriter(tmp_path, CLASSES, provenance={"x": object()})
    writer = SyntheticImageWriter(tmp_path, CLASSES)
    nan = _img()
    nan[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN/Inf"):
        writer.write(nan, 0, seed=0)
    with pytest.raises(ValueError, match="label 2 is outside"):
        writer.write(_img(), 2, seed=0)
    with pytest.raises(ValueError, match=r"got shape \(12, 10\)"):
        writer.write(_img()[0], 0, seed=0)
    with pytest.raises(ValueError, match="PNG needs"):
        SyntheticImageWriter(tmp_path / "b", CLASSES, bit_depth=16).write(_img((3, 4, 4)), 0, seed=0)
    with pytest.raises(ValueError, match="DICOM output needs a"):
        SyntheticImageWriter(tmp_path / "c", CLASSES, fmt="dicom").write(_img((1, 4, 4, 4)), 0, seed=0)
    with pytest.raises(ValueError, match="NIfTI output needs one channel"):
        SyntheticImageWriter(tmp_path / "d", CLASSES, fmt="nifti").write(_img((2, 4, 4)), 0, seed=0)
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "manifest.csv").write_text("path,label,seed\na.png,0,x\n")
    with pytest.raises(ValueError, match="row 2: column 'seed' = 'x' is not a number"):
        read_manifest(tmp_path / "e")
    with pytest.raises(FileNotFoundError):
        read_manifest(tmp_path / "nowhere")


def test_fingerprint_of_written_image_matches_its_quantised_pixels(tmp_path):
    img = _img()
    with SyntheticImageWriter(tmp_path, CLASSES, fmt="png") as writer:
        path = writer.write(img, 0, seed=0)
    quantised = np.rint(img.numpy() * 255).astype(np.uint8)
    assert item_fingerprint(str(path)) == item_fingerprint(quantised)


def test_provenance_aliases_and_checkpoint_hash(tmp_path):
    ckpt = tmp_path / "diffusion.pt"
    ckpt.write_bytes(b"weights")
    prov = {"checkpoint": str(ckpt), "num_inference_steps": 25, "sampler": "ddim", "guidance_scale": 1.0}
    with SyntheticImageWriter(tmp_path / "out", CLASSES, provenance=prov) as writer:
        writer.write(_img(), 0, seed=0)
    row = read_manifest(tmp_path / "out")[0]
    assert row["steps"] == 25 and row["checkpoint_sha256"] == hashlib.sha256(b"weights").hexdigest()
