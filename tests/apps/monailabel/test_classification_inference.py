"""ClassificationInference: a saved classifier served on DICOM / NIfTI / PNG files, without MONAI Label."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch

from monai_medienet.apps.monailabel import ClassificationInference
from monai_medienet.evaluation import build_classifier, save_classifier
from monai_medienet.io.fixtures import write_test_dicom, write_test_nifti, write_test_png
from monai_medienet.transforms import LoadMedicalImage, image_preprocessing


def _save(tmp_path, size):
    torch.manual_seed(0)
    net = build_classifier("resnet18", 1, 2, size)
    extra = {"preprocessing": {"intensity": "dtype", "resize_mode": "pad"}}
    return save_classifier(
        net, tmp_path / f"clf{size}.pt", arch="resnet18", in_channels=1, num_classes=2,
        classes=["normal", "pneumonia"], image_size=size, extra=extra,
    )  # fmt: skip


@pytest.fixture
def classifier_path(tmp_path):
    return _save(tmp_path, 16)


def _pixels(shape=(20, 24), dtype=np.uint16, high=4000):
    return np.random.default_rng(0).integers(0, high, size=shape).astype(dtype)


def test_dicom_probabilities_match_the_evaluation_preprocessing(tmp_path, classifier_path):
    path = write_test_dicom(tmp_path / "x.dcm", _pixels(), modality="DX", bits_stored=12)
    task = ClassificationInference(classifier_path, device="cpu")
    result_file, result = task({"image": str(path)})
    assert result_file is None
    probs = np.array([result["probabilities"][c] for c in ["normal", "pneumonia"]])
    assert probs.sum() == pytest.approx(1.0, abs=1e-6) and (probs >= 0).all()
    assert result["label"] == ["normal", "pneumonia"][int(np.argmax(probs))] == result["classes"][result["label_index"]]
    assert [p["score"] for p in result["prediction"]] == pytest.approx(probs.tolist())
    # the same pipeline the bundles' evaluation uses, applied by hand
    x = image_preprocessing((16, 16), channels=1, intensity="dtype", resize_mode="pad", label_key=None)({"image": path})
    with torch.no_grad():
        expected = torch.softmax(task.classifier.network(x["image"][None]), dim=1)[0].numpy()
    assert probs == pytest.approx(expected, abs=1e-6)
    assert float(x["image"].max()) <= 1.0 and result["image_size"] == [16, 16]


def test_nifti_gradcam_is_written_on_the_input_grid(tmp_path):
    # 32 px: layer4 is 2x2 (at 16 px it is 1x1 and every Grad-CAM map is constant, normalised to 0)
    classifier_path = _save(tmp_path, 32)
    path = write_test_nifti(tmp_path / "x.nii.gz", _pixels((32, 32)))
    task = ClassificationInference(classifier_path, device="cpu")
    result_file, result = task({"image": str(path), "gradcam": "true", "gradcam_class": "pneumonia"}, tmp_path / "out")
    cam = nib.load(result_file)
    assert cam.shape == (32, 32) and result["gradcam_class"] == "pneumonia"
    data = np.asarray(cam.dataobj)
    assert np.isfinite(data).all() and data.min() >= 0.0 and data.max() <= 1.0 + 1e-6
    assert np.allclose(cam.affine, np.eye(4))  # a 32x32 input is not moved by the pad: the input's affine
    for _ in range(2):  # repeated maps reuse one GradCAM: no hooks pile up on the served network
        task({"image": str(path), "gradcam": True}, tmp_path / "out")
    assert len(task.classifier.network.layer4._forward_hooks) == 1
    # the same maps as the evaluation's gradcam_maps gives (on a separate copy of the network), for each class
    from monai_medienet.evaluation import gradcam_maps, load_classifier

    net = load_classifier(classifier_path, device="cpu").network
    x = task.preprocess(path).as_tensor()[None]
    peaks = []
    for index, name in enumerate(task.classes):
        served = np.asarray(nib.load(task({"image": str(path), "gradcam": 1, "gradcam_class": name})[0]).dataobj)
        assert np.allclose(gradcam_maps({"c": net}, x, [index])["c"][0], served, atol=1e-5)
        peaks.append(served.max())
    assert max(peaks) > 0.5  # (an untrained network's map can be all zero for one class: ReLU of negative evidence)


def test_dicom_gradcam_overlays_the_input_in_world_space(tmp_path):
    """A viewer overlays the map on the DICOM by the affine: same directions, same centre, the field of view scaled."""
    import pydicom

    classifier_path = _save(tmp_path, 32)
    path = write_test_dicom(tmp_path / "x.dcm", _pixels((40, 24)), modality="DX", bits_stored=12)
    ds = pydicom.dcmread(path)  # a plane with anisotropic pixels away from the origin, tilted about z
    c, s = round(float(np.cos(0.3)), 6), round(float(np.sin(0.3)), 6)  # DICOM decimal strings: <= 16 characters
    ds.ImageOrientationPatient = [c, s, 0.0, -s, c, 0.0]
    ds.PixelSpacing, ds.ImagePositionPatient = [0.5, 0.25], [10.0, -20.0, 30.0]
    ds.save_as(path)
    task = ClassificationInference(classifier_path, device="cpu")
    x = task.preprocess(path)
    a_in = np.asarray(LoadMedicalImage()(path).affine, dtype=np.float64)
    a_map = nib.load(task({"image": str(path), "gradcam": True}, tmp_path / "out")[0]).affine
    assert np.allclose(a_map, np.asarray(x.affine))
    # in-plane axes point the same way (rows: the DICOM column direction, LPS -> RAS)
    unit = lambda a: a[:3, :2] / np.linalg.norm(a[:3, :2], axis=0)  # noqa: E731
    assert np.allclose(unit(a_map), unit(a_in), atol=1e-6)
    assert np.allclose(unit(a_in)[:, 0], [s, -c, 0.0], atol=1e-5)  # RAS of the column cosine (-s, c, 0)
    # the input's centre lands on the map's centre (pad: symmetric), its corners inside the map
    centre_world = a_in @ np.array([19.5, 11.5, 0.0, 1.0])
    assert np.allclose((np.linalg.inv(a_map) @ centre_world)[:2], [15.5, 15.5], atol=0.51)
    for corner in ([-0.5, -0.5], [39.5, 23.5]):
        ij = (np.linalg.inv(a_map) @ a_in @ np.array([*corner, 0.0, 1.0]))[:2]
        assert (ij >= -0.5 - 1e-6).all() and (ij <= 31.5 + 1e-6).all()


def test_png_gradcam_overlays_the_png_in_simpleitk(tmp_path):
    """PNG/JPEG carry no geometry: the map gets the one ITK-based viewers give the file, so it lands on the image."""
    sitk = pytest.importorskip("SimpleITK", reason="SimpleITK (the dev extra) reads both files as ITK viewers do")
    classifier_path = _save(tmp_path, 32)
    i, j = np.mgrid[0:40, 0:24]
    blob = (255 * np.exp(-((i - 10.0) ** 2 + (j - 6.0) ** 2) / 40.0)).astype(np.uint8)  # off-centre, not symmetric
    path = write_test_png(tmp_path / "x.png", blob)
    task = ClassificationInference(classifier_path, device="cpu")
    cam_file = task({"image": str(path), "gradcam": True}, tmp_path / "out")[0]
    x = task.preprocess(path)  # the classifier input, the map's grid
    grid = nib.load(cam_file)
    assert grid.shape == (32, 32) and np.allclose(grid.affine, np.asarray(x.affine))
    png = sitk.ReadImage(str(path))
    on_png = sitk.Resample(sitk.ReadImage(cam_file), png, sitk.Transform(), sitk.sitkLinear, -1.0)
    on_png = sitk.GetArrayFromImage(on_png)
    assert (on_png >= 0).all()  # the map covers the whole image
    # the classifier's input written on the map's grid lands on the PNG itself
    nib.save(nib.Nifti1Image(x[0].numpy().astype(np.float32), grid.affine), str(tmp_path / "input.nii.gz"))
    back = sitk.Resample(sitk.ReadImage(str(tmp_path / "input.nii.gz")), png, sitk.Transform(), sitk.sitkLinear, -1.0)
    assert np.corrcoef(sitk.GetArrayFromImage(back).ravel(), blob.ravel())[0, 1] > 0.99


def test_png_and_rgb_jpeg_read(tmp_path, classifier_path):
    task = ClassificationInference(classifier_path, device="cpu")
    png = write_test_png(tmp_path / "x.png", _pixels((28, 28), np.uint8, 255))
    jpg = write_test_png(tmp_path / "x.jpg", _pixels((40, 40), np.uint8, 255), rgb=True)
    for path in (png, jpg):
        _, result = task({"image": str(path)})
        assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    "request_, match",
    [
        ({}, "the request needs 'image'"),
        ({"gradcam": "maybe"}, "gradcam must be a boolean .*'maybe'"),
        (
            {"gradcam": True, "gradcam_class": "cat"},
            r"gradcam_class must be one of \['normal', 'pneumonia'\], got 'cat'",
        ),
    ],
)
def test_bad_requests_name_the_class_and_value(tmp_path, classifier_path, request_, match):
    path = write_test_png(tmp_path / "x.png", _pixels((16, 16), np.uint8, 255))
    task = ClassificationInference(classifier_path, device="cpu")
    request = {"image": str(path), **request_} if request_ else {}
    with pytest.raises(ValueError, match=f"ClassificationInference: {match}"):
        task(request)


def test_bad_inputs_and_settings(tmp_path, classifier_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    task = ClassificationInference(classifier_path, device="cpu")
    with pytest.raises(ValueError, match="notes.txt"):
        task({"image": str(bad)})
    signed = write_test_nifti(tmp_path / "ct.nii.gz", _pixels((16, 16), np.int16, 1000))
    with pytest.raises(ValueError, match="ClassificationInference: cannot preprocess .*ct.nii.gz.*signed integer"):
        task({"image": str(signed)})
    with pytest.raises(ValueError, match="ClassificationInference: intensity must be one of .* got 'bogus'"):
        ClassificationInference(classifier_path, intensity="bogus")
    with pytest.raises(ValueError, match="ClassificationInference: target_layer 'layer9' is not a layer"):
        ClassificationInference(classifier_path, target_layer="layer9")
    assert ClassificationInference(classifier_path, intensity="minmax")({"image": str(signed)})[1]["label"]


def test_itk_nifti_of_a_png_is_classified_as_the_png(tmp_path, classifier_path):
    """3D Slicer / SimpleITK store a PNG as NIfTI (columns, rows): served upright, not on its side."""
    sitk = pytest.importorskip("SimpleITK", reason="SimpleITK (the dev extra) writes NIfTI as 3D Slicer does")
    i, j = np.mgrid[0:40, 0:24]
    blob = (255 * np.exp(-((i - 10.0) ** 2 + (j - 6.0) ** 2) / 40.0)).astype(np.uint8)
    png = write_test_png(tmp_path / "x.png", blob)
    nifti = tmp_path / "x.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(blob), str(nifti))
    task = ClassificationInference(classifier_path, device="cpu")
    assert task.orientation == "raster"
    np.testing.assert_allclose(task.preprocess(nifti).numpy(), task.preprocess(png).numpy(), atol=1e-6)
    result = task({"image": str(nifti)})[1]
    assert result["preprocessing"]["orientation"] == "raster"
    assert result["probabilities"] == pytest.approx(task({"image": str(png)})[1]["probabilities"], abs=1e-6)
    stored = ClassificationInference(classifier_path, device="cpu", orientation="LP")  # the file's own order
    assert tuple(stored.preprocess(nifti).shape) == (1, 16, 16)
    assert not np.allclose(stored.preprocess(nifti).numpy(), task.preprocess(png).numpy(), atol=1e-3)


def test_orientation_comes_from_the_checkpoint_then_raster(tmp_path):
    torch.manual_seed(0)
    net = build_classifier("resnet18", 1, 2, 16)
    path = save_classifier(
        net, tmp_path / "clf.pt", arch="resnet18", in_channels=1, num_classes=2, classes=["a", "b"], image_size=16,
        extra={"preprocessing": {"intensity": "dtype", "resize_mode": "pad", "orientation": "RAS"}},
    )  # fmt: skip
    assert ClassificationInference(path, device="cpu").orientation == "RAS"
    assert ClassificationInference(path, device="cpu", orientation="raster").orientation == "raster"
    with pytest.raises(ValueError, match="ClassificationInference: orientation must be .*got 'sideways'"):
        ClassificationInference(path, device="cpu", orientation="sideways")
