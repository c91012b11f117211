"""The MONAI Label adapters: importable without monailabel; run for real in the MONAI Label environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

import monai_medienet.apps.monailabel as ml
from monai_medienet.evaluation import build_classifier, save_classifier
from monai_medienet.io.fixtures import write_test_dicom, write_test_png

REPO = Path(__file__).resolve().parents[3]


def test_imports_and_fails_clearly_without_monailabel(tmp_path):
    assert {"ClassificationInference", "SynthesisInference", "MedIENetClassificationTask"} <= set(ml.__all__)
    if ml.HAS_MONAILABEL:
        pytest.skip("monailabel is installed in this environment: the placeholder path is not reachable")
    for task in (ml.MedIENetClassificationTask, ml.MedIENetSynthesisTask):
        with pytest.raises(ImportError, match=rf"{task.__name__}: monailabel is not importable .*\.venv-monailabel"):
            task(tmp_path / "any.pt")


def test_imports_first_in_a_fresh_interpreter():
    # no import-order dependence (e.g. on monai_medienet.evaluation being imported first)
    code = "import monai_medienet.apps.monailabel as m; print(m.HAS_MONAILABEL == m.tasks.HAS_MONAILABEL)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr


_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from monailabel.interfaces.tasks.infer_v2 import InferTask
    import monai_medienet.apps.monailabel as ml
    clf, diff, image, app_dir, studies, dicom, nifti = sys.argv[1:8]
    assert ml.HAS_MONAILABEL
    c = ml.MedIENetClassificationTask(clf, device="cpu")
    s = ml.MedIENetSynthesisTask(diff, device="cpu", max_inference_steps=4)
    assert isinstance(c, InferTask) and isinstance(s, InferTask) and c.is_valid() and s.is_valid()
    out = {"info": [c.info()["type"], s.info()["type"], c.info()["labels"]]}
    f, r = c({"image": image, "gradcam": True})
    out["task_classifier"] = [os.path.isfile(f), r["label"], sum(r["probabilities"].values())]
    os.remove(f)
    # DICOM through this environment's pydicom (< 3), and the PNG as 3D Slicer stores it in NIfTI (columns, rows)
    import pydicom
    out["pydicom"] = pydicom.__version__
    out["dicom_probabilities"] = c({"image": dicom})[1]["probabilities"]
    out["png_vs_nifti"] = [r["probabilities"], c({"image": nifti})[1]["probabilities"]]
    # the sample app, as `monailabel start_server` builds it, and MONAILabelApp.infer (what /infer calls)
    sys.path.insert(0, app_dir)
    from main import MedIENetApp
    app = MedIENetApp(app_dir, studies, {"classifier_checkpoint": clf, "diffusion_checkpoint": diff, "device": "cpu"})
    out["models"] = sorted(app.info()["models"])
    r = app.infer({"model": "medienet_classifier", "image": image, "gradcam": "true"})
    out["app_classifier"] = [os.path.isfile(r["file"]), r["params"]["label"], r["params"]["gradcam_class"]]
    r = app.infer({"model": "medienet_synthesis", "image": image, "label": "pneumonia", "seed": 3,
                   "num_inference_steps": 2, "sampler": "ddim"})
    out["app_synthesis"] = [os.path.isfile(r["file"]), r["params"]["label"], r["params"]["seed"]]
    try:
        app.infer({"model": "medienet_synthesis", "image": image, "label": "cat"})
        out["bad_label"] = "no error"
    except ValueError as e:  # also fastapi's HTTPException: HTTP 400 with the message for REST clients
        out["bad_label"] = [str(e), getattr(e, "status_code", None)]
    print("RESULT" + json.dumps(out))
    """
)


@pytest.mark.slow
def test_adapters_in_the_monailabel_environment(tmp_path, tiny_diffusion_checkpoint):
    python = os.environ.get("MEDIENET_MONAILABEL_PYTHON")
    if not python:
        pytest.skip(
            "MEDIENET_MONAILABEL_PYTHON is not set: point it to the python of the MONAI Label environment "
            "(e.g. .venv-monailabel/bin/python, docs/user_guide.md 'Serving with MONAI Label') to run this test"
        )
    if not Path(python).is_file():
        pytest.skip(f"MEDIENET_MONAILABEL_PYTHON={python!r} is not a file")
    torch.manual_seed(0)
    clf = save_classifier(
        build_classifier("resnet18", 1, 2, 16), tmp_path / "clf.pt", arch="resnet18", in_channels=1, num_classes=2,
        classes=["normal", "pneumonia"], image_size=16,
    )  # fmt: skip
    diff = tiny_diffusion_checkpoint()
    studies = tmp_path / "studies"
    pixels = np.random.default_rng(0).integers(0, 255, (20, 24)).astype(np.uint8)
    image = write_test_png(studies / "img0.png", pixels)
    dicom = write_test_dicom(
        tmp_path / "x.dcm", (pixels.astype(np.uint16) * 16), modality="DX", photometric="MONOCHROME1", bits_stored=12
    )
    nifti = tmp_path / "img0_slicer.nii.gz"  # what ITK writes for the PNG: (columns, rows), LPS identity
    nib.save(nib.Nifti1Image(pixels.T.copy(), np.diag([-1.0, -1.0, 1.0, 1.0])), str(nifti))
    expected_dicom = ml.ClassificationInference(clf, device="cpu")({"image": str(dicom)})[1]["probabilities"]
    app_dir = tmp_path / "app"  # a copy: MONAI Label writes logs/ into the app folder
    app_dir.mkdir()
    shutil.copy(REPO / "tutorials" / "monailabel_app" / "main.py", app_dir / "main.py")
    script = tmp_path / "run_adapters.py"
    script.write_text(_SCRIPT)
    args = [
        python,
        str(script),
        str(clf),
        str(diff),
        str(image),
        str(REPO / "tutorials" / "monailabel_app"),
        str(studies),
        str(dicom),
        str(nifti),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MONAI_LABEL_DATASTORE_AUTO_RELOAD": "false"}
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    out = json.loads(line[len("RESULT") :])
    assert out["info"] == ["classification", "others", ["normal", "pneumonia"]]
    assert out["task_classifier"][0] and out["task_classifier"][1] in ("normal", "pneumonia")
    assert out["task_classifier"][2] == pytest.approx(1.0, abs=1e-6)
    assert int(out["pydicom"].split(".")[0]) < 3  # the environment monailabel pins: same numbers as pydicom 3 here
    assert out["dicom_probabilities"] == pytest.approx(expected_dicom, abs=1e-5)
    assert out["png_vs_nifti"][1] == pytest.approx(out["png_vs_nifti"][0], abs=1e-5)
    assert out["models"] == ["medienet_classifier", "medienet_synthesis"]
    assert out["app_classifier"][0] and out["app_classifier"][1] == out["app_classifier"][2]
    assert out["app_synthesis"] == [True, "pneumonia", 3]
    assert out["bad_label"] == ["SynthesisInference: label must be one of ['normal', 'pneumonia'], got 'cat'.", 400]
