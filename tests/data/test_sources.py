"""Data sources: MedMNIST npz (local, absent, MD5), class folders (layouts, val carving, bad files), CSV manifests."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from monai_medienet.data import (
    KERMANY_PATIENT_REGEX,
    DataSource,
    class_folder_source,
    manifest_source,
    medmnist_source,
)
from monai_medienet.io import write_test_dicom, write_test_dicom_series, write_test_nifti, write_test_png
from monai_medienet.transforms import ImageLoadError
from monai_medienet.utils import ClassMap

RNG = np.random.default_rng(0)


def _fake_npz(path, n=(6, 2, 3), rgb=False):
    arrays = {}
    for split, k in zip(("train", "val", "test"), n):
        shape = (k, 28, 28, 3) if rgb else (k, 28, 28)
        arrays[f"{split}_images"] = RNG.integers(0, 256, shape, dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(k) % 2).reshape(-1, 1).astype(np.uint8)
    np.savez(path, **arrays)
    return path


def _grey(h=12, w=10):
    return RNG.integers(0, 256, (h, w), dtype=np.uint8)


# ---------------------------------------------------------------- MedMNIST
def test_medmnist_local_path_and_name_lookup(tmp_path):
    _fake_npz(tmp_path / "breastmnist.npz")
    src = medmnist_source("breastmnist", data_dir=tmp_path)
    assert src.classes == ["malignant", "normal_benign"] and list(src.splits) == ["train", "val", "test"]
    item = src.splits["train"][1]
    assert item["image"].shape == (1, 28, 28) and item["image"].dtype == np.uint8
    assert item["label"] == 1 and isinstance(item["label"], int) and item["id"] == "breastmnist/train/1"
    assert src.class_map == ClassMap(["malignant", "normal_benign"]) and src.class_map.null_index == 2
    by_path = medmnist_source(tmp_path / "breastmnist.npz")
    assert by_path.class_counts("train") == src.class_counts("train") == [3, 3]


def test_medmnist_rgb_and_unknown_name(tmp_path):
    _fake_npz(tmp_path / "othermnist.npz", rgb=True)
    src = medmnist_source(str(tmp_path / "othermnist.npz"))
    assert src.classes == ["0", "1"] and src.splits["val"][0]["image"].shape == (3, 28, 28)


def test_medmnist_absent_without_download_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"pneumoniamnist\.npz not found and download=False"):
        medmnist_source("pneumoniamnist", data_dir=tmp_path / "nothing")


def test_medmnist_md5_is_checked_on_a_present_file_without_downloading(tmp_path):
    _fake_npz(tmp_path / "pneumoniamnist.npz")  # present, wrong content -> MD5 mismatch, no network involved
    with pytest.raises(RuntimeError, match="MD5 of .*pneumoniamnist.npz is"):
        medmnist_source("pneumoniamnist", data_dir=tmp_path, download=True, cache_dir=tmp_path)
    with pytest.raises(RuntimeError, match="MD5"):
        medmnist_source("pneumoniamnist", data_dir=tmp_path, check_md5=True)
    assert medmnist_source("pneumoniamnist", data_dir=tmp_path).class_counts("train") == [3, 3]


def test_medmnist_download_uses_monai_download_url_with_md5(tmp_path, monkeypatch):
    calls = []

    def fake_download(url, filepath, hash_val, hash_type):
        calls.append((url, hash_val, hash_type))
        _fake_npz(filepath)

    monkeypatch.setattr("monai.apps.utils.download_url", fake_download)
    src = medmnist_source("pneumoniamnist", data_dir=tmp_path / "data", download=True, cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache" / "pneumoniamnist.npz").is_file()
    assert calls == [(calls[0][0], "28209eda62fecd6e6a2d98b1501bb15f", "md5")] and "zenodo" in calls[0][0]
    assert len(src.splits["train"]) == 6


def test_medmnist_bad_npz(tmp_path):
    np.savez(tmp_path / "x.npz", train_images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="has no 'train_images'/'train_labels'"):
        medmnist_source(tmp_path / "x.npz")
    (tmp_path / "y.npz").write_bytes(b"garbage")
    with pytest.raises(ImageLoadError, match=r"y\.npz: cannot read as npz"):
        medmnist_source(tmp_path / "y.npz")


def test_real_pneumoniamnist_counts(pneumoniamnist_npz):
    src = medmnist_source(pneumoniamnist_npz, check_md5=True)
    assert src.classes == ["normal", "pneumonia"]
    assert src.class_counts("train") == [1214, 3494]
    assert src.class_counts("val") == [135, 389]
    assert src.class_counts("test") == [234, 390]


# ---------------------------------------------------------------- class folders
def _class_tree(root, layout=("train", "test"), per_class=5):
    for split in layout:
        for cname in ("NORMAL", "PNEUMONIA"):
            for i in range(per_class):
                write_test_png(root / split / cname / f"person{i}_{cname.lower()}_{split}.png", _grey())
    return root


def test_class_folders_with_split_level_carve_stratified_val(tmp_path):
    root = _class_tree(tmp_path / "ds", per_class=10)
    src = class_folder_source(root, val_fraction=0.2, seed=1)
    assert src.classes == ["NORMAL", "PNEUMONIA"] and list(src.splits) == ["train", "val", "test"]
    assert src.class_counts("val") == [2, 2] and src.class_counts("train") == [8, 8]
    assert src.class_counts("test") == [10, 10]
    train_ids = {it["id"] for it in src.splits["train"]}
    assert not train_ids & {it["id"] for it in src.splits["val"]}
    again = class_folder_source(root, val_fraction=0.2, seed=1)
    assert [it["id"] for it in again.splits["val"]] == [it["id"] for it in src.splits["val"]]
    other = class_folder_source(root, val_fraction=0.2, seed=2)
    assert [it["id"] for it in other.splits["val"]] != [it["id"] for it in src.splits["val"]]


def test_class_folders_flat_layout_classes_order_and_case(tmp_path):
    root = tmp_path / "flat"
    for cname in ("b", "a"):
        for i in range(3):
            write_test_png(root / cname / f"{i}.png", _grey())
    src = class_folder_source(root, val_fraction=0.0)
    assert src.classes == ["a", "b"] and list(src.splits) == ["train"]
    src = class_folder_source(root, classes=["B", "A"], val_fraction=0.0)
    assert src.classes == ["B", "A"] and src.splits["train"][0]["image"].endswith("b/0.png")


def test_class_folders_mixed_formats_and_dicom_series(tmp_path):
    root = tmp_path / "mixed"
    write_test_dicom(root / "x" / "a.dcm", _grey().astype(np.uint16))
    write_test_dicom(root / "x" / "NOEXT", _grey().astype(np.uint16))
    write_test_nifti(root / "y" / "b.nii.gz", _grey())
    write_test_dicom_series(root / "y" / "series1", np.stack([_grey()] * 3, -1).astype(np.uint16))
    src = class_folder_source(root, val_fraction=0.0, validate=False)
    assert sorted(it["id"] for it in src.splits["train"]) == ["x/NOEXT", "x/a.dcm", "y/b.nii.gz", "y/series1"]


def test_patient_level_val_split(tmp_path):
    root = tmp_path / "pat"
    for cname in ("NORMAL", "PNEUMONIA"):
        for p in range(6):
            for k in range(3):
                write_test_png(root / "train" / cname / f"person{p}{cname[0]}_virus_{k}.png", _grey(4, 4))
    src = class_folder_source(root, val_fraction=0.34, seed=0, patient_id_regex=r"^(person\d+\w)_")
    tr = {it["patient_id"] for it in src.splits["train"]}
    va = {it["patient_id"] for it in src.splits["val"]}
    assert va and not tr & va and len(tr | va) == 12
    assert src.class_counts("val") == [6, 6]


def test_non_image_file_and_empty_class_folder_raise_or_skip(tmp_path, caplog):
    root = _class_tree(tmp_path / "bad", layout=("train",), per_class=3)
    (root / "train" / "NORMAL" / "readme.txt").write_text("not an image")
    (root / "train" / "NORMAL" / ".DS_Store").write_bytes(b"\0")  # hidden files are ignored
    with pytest.raises(ImageLoadError, match=r"readme\.txt: not an image file"):
        class_folder_source(root)
    with caplog.at_level(logging.WARNING):
        src = class_folder_source(root, on_error="skip", val_fraction=0.0)
    assert src.num_skipped == 1 and "readme.txt" in src.skipped[0][0] and "readme.txt" in caplog.text
    assert src.class_counts("train") == [3, 3]

    (root / "train" / "NORMAL" / "readme.txt").unlink()
    (root / "train" / "EMPTY").mkdir()
    with pytest.raises(ImageLoadError, match=r"EMPTY: class folder for class 'EMPTY' in split 'train' is empty"):
        class_folder_source(root, classes=["NORMAL", "PNEUMONIA", "EMPTY"], extensions=[".png"])
    with pytest.raises(ImageLoadError, match="class folder for class 'MISSING' is missing"):
        class_folder_source(root, classes=["NORMAL", "MISSING"], on_error="raise")


def test_validate_finds_corrupt_nan_and_mixed_channels(tmp_path):
    root = _class_tree(tmp_path / "v", layout=("train",), per_class=3)
    bad = write_test_dicom(root / "train" / "NORMAL" / "trunc.dcm", _grey().astype(np.uint16))
    bad.write_bytes(bad.read_bytes()[:-60])
    nan = np.full((12, 10), np.nan, np.float32)
    write_test_nifti(root / "train" / "PNEUMONIA" / "nan.nii", nan)
    with pytest.raises(ImageLoadError, match=r"trunc\.dcm: cannot read as DICOM"):
        class_folder_source(root, validate=True)
    src = class_folder_source(root, validate=True, on_error="skip", val_fraction=0.0)
    assert sorted(s[0].rsplit("/", 1)[-1] for s in src.skipped) == ["nan.nii", "trunc.dcm"]
    assert src.class_counts("train") == [3, 3]

    colour = RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    write_test_png(root / "train" / "PNEUMONIA" / "colour.png", colour)
    (root / "train" / "NORMAL" / "trunc.dcm").unlink()
    (root / "train" / "PNEUMONIA" / "nan.nii").unlink()
    with pytest.raises(
        ImageLoadError, match=r"mixed channel counts.*3 channel\(s\), 2D: 1 files, e\.g\. .*colour\.png"
    ):
        class_folder_source(root, validate=True)
    src = class_folder_source(root, validate=True, on_error="skip", val_fraction=0.0)
    assert src.num_skipped == 1 and src.skipped[0][0].endswith("colour.png")


def test_kermany_patient_regex():
    import re

    pattern = re.compile(KERMANY_PATIENT_REGEX)
    assert pattern.search("person1000_virus_1681.jpeg").group(1) == "person1000"
    assert pattern.search("IM-0115-0001.jpeg").group(1) == "IM-0115"
    assert pattern.search("NORMAL2-IM-0135-0001.jpeg").group(1) == "NORMAL2-IM-0135"


def test_real_chest_xray_folders(chest_xray_dir):
    src = class_folder_source(chest_xray_dir, classes=["NORMAL", "PNEUMONIA"], patient_id_regex=KERMANY_PATIENT_REGEX)
    listing = {s: [len(list((chest_xray_dir / s / c).glob("*.jpeg"))) for c in src.classes] for s in ("train", "test")}
    assert src.class_counts("test") == listing["test"] == [234, 390]
    train_val = [a + b for a, b in zip(src.class_counts("train"), src.class_counts("val"))]
    assert train_val == listing["train"] == [1341, 3875]
    assert not {it["patient_id"] for it in src.splits["train"]} & {it["patient_id"] for it in src.splits["val"]}


# ---------------------------------------------------------------- manifests
def test_manifest_relative_paths_names_and_splits(tmp_path):
    write_test_png(tmp_path / "imgs" / "a.png", _grey())
    write_test_png(tmp_path / "imgs" / "b.png", _grey())
    abs_path = write_test_png(tmp_path / "elsewhere" / "c.png", _grey())
    csv = tmp_path / "m.csv"
    csv.write_text(f"image,label,split,patient_id\nimgs/a.png,cat,train,p1\nimgs/b.png,dog,test,\n{abs_path},cat,,p2\n")
    src = manifest_source(csv)
    assert src.classes == ["cat", "dog"] and set(src.splits) == {"train", "test"}
    assert src.splits["train"][0] == {"image": str(tmp_path / "imgs" / "a.png"), "label": 0, "id": "imgs/a.png",
                                      "patient_id": "p1"}  # fmt: skip
    assert src.splits["train"][1]["image"] == str(abs_path) and src.splits["test"][0]["label"] == 1
    src = manifest_source(csv, classes=["dog", "cat"])
    assert src.splits["test"][0]["label"] == 0


def test_manifest_label_not_in_class_map_and_missing_file(tmp_path, caplog):
    write_test_png(tmp_path / "a.png", _grey())
    csv = tmp_path / "m.csv"
    csv.write_text("image,label\na.png,0\na.png,5\nmissing.png,1\n")
    with pytest.raises(ValueError, match=r"m\.csv row 3: label 5 is not in the class map \['x', 'y'\]"):
        manifest_source(csv, classes=["x", "y"])
    with caplog.at_level(logging.WARNING):
        src = manifest_source(csv, classes=["x", "y"], on_error="skip")
    assert src.num_skipped == 2 and len(src.splits["train"]) == 1 and "missing.png not found" in caplog.text
    with pytest.raises(ValueError, match="label 'z' is not in the class map"):
        csv.write_text("image,label\na.png,z\n")
        manifest_source(csv, classes=["x", "y"])
    csv.write_text("file,label\na.png,0\n")
    with pytest.raises(ValueError, match="needs columns 'image'"):
        manifest_source(csv)


def test_datasource_rejects_bad_labels():
    with pytest.raises(ValueError, match="label 2, outside"):
        DataSource("x", ["a", "b"], {"train": [{"image": "p", "label": 2, "id": "i"}]})
    with pytest.raises(KeyError, match="no split 'val'"):
        DataSource("x", ["a"], {"train": []}).class_counts("val")


def test_to_csv_freezes_splits_and_loads_back(tmp_path):
    root = _class_tree(tmp_path / "ds", layout=("train", "test"), per_class=4)
    src = class_folder_source(root, val_fraction=0.25, seed=0, patient_id_regex=r"^(person\d+)")
    csv = src.to_csv(tmp_path / "frozen" / "splits.csv")
    back = manifest_source(csv)
    assert back.classes == src.classes and list(back.splits) == list(src.splits)
    for split in src.splits:
        assert [(it["image"], it["label"], it["patient_id"]) for it in back.splits[split]] == [
            (str(Path(it["image"]).resolve()), it["label"], it["patient_id"]) for it in src.splits[split]
        ]
    with pytest.raises(ValueError, match="in-memory array"):
        DataSource("m", ["a"], {"train": [{"image": np.zeros((1, 2, 2)), "label": 0, "id": "x"}]}).to_csv(
            tmp_path / "bad.csv"
        )
