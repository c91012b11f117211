"""Splits, k-per-class subsets, duplicates, fingerprints and dataset hashes."""

from __future__ import annotations

import numpy as np
import pytest

from monai_medienet.data import (
    dataset_fingerprints,
    dataset_hash,
    drop_duplicates,
    find_duplicates,
    item_fingerprint,
    medmnist_source,
    selection_from_test,
    stratified_split,
    subsample_per_class,
)
from monai_medienet.io import write_test_dicom, write_test_png

RNG = np.random.default_rng(0)


def _items(n_per_class=(30, 10), patients=False):
    items = []
    for label, n in enumerate(n_per_class):
        for i in range(n):
            item = {"image": RNG.integers(0, 256, (1, 4, 4), dtype=np.uint8), "label": label, "id": f"{label}-{i}"}
            if patients:
                item["patient_id"] = f"p{label}-{i // 3}"
            items.append(item)
    return items


def test_subsample_per_class_is_seeded_and_ordered(caplog):
    items = _items()
    a = subsample_per_class(items, 5, seed=0)
    assert [sum(it["label"] == c for it in a) for c in (0, 1)] == [5, 5]
    ids = [it["id"] for it in a]
    assert ids == [it["id"] for it in subsample_per_class(items, 5, seed=0)]
    assert ids != [it["id"] for it in subsample_per_class(items, 5, seed=1)]
    pos = {it["id"]: i for i, it in enumerate(items)}
    assert [pos[i] for i in ids] == sorted(pos[i] for i in ids)
    b = subsample_per_class(items, 20, seed=0)
    assert len(b) == 30 and "class 1 has only 10 items" in caplog.text
    with pytest.raises(ValueError, match="class 1 has only 10"):
        subsample_per_class(items, 20, seed=0, strict=True)
    with pytest.raises(ValueError, match="k must be >= 1"):
        subsample_per_class(items, 0)


def test_stratified_split_keeps_class_proportions():
    items = _items((40, 20))
    parts = stratified_split(items, {"train": 0.5, "val": 0.25, "test": 0.25}, seed=0)
    counts = {k: [sum(it["label"] == c for it in v) for c in (0, 1)] for k, v in parts.items()}
    assert counts == {"train": [20, 10], "val": [10, 5], "test": [10, 5]}
    ids = [it["id"] for v in parts.values() for it in v]
    assert sorted(ids) == sorted(it["id"] for it in items)

    def first_ids(seed):
        return [it["id"] for it in stratified_split(items, [0.5, 0.5], seed=seed)["split_0"]]

    assert first_ids(3) == first_ids(3) and first_ids(3) != first_ids(4)
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(items, {"a": 0.5, "b": 0.4})


def test_stratified_split_is_patient_level():
    items = _items((30, 30), patients=True)
    parts = stratified_split(items, {"train": 0.8, "val": 0.2}, seed=0)
    tr = {it["patient_id"] for it in parts["train"]}
    va = {it["patient_id"] for it in parts["val"]}
    assert va and not tr & va
    assert len(parts["val"]) == 12
    no_pat = stratified_split(items, {"train": 0.8, "val": 0.2}, seed=0, patient_key=None)
    tr = {it["patient_id"] for it in no_pat["train"]}
    assert tr & {it["patient_id"] for it in no_pat["val"]}  # item-level splitting mixes patients


def test_selection_from_test_splits_the_test_split_by_patient():
    items = _items((24, 12), patients=True)
    real = {"train": items[:6], "val": items[6:9], "test": items[9:]}  # test: 15 + 12 images, 3 per patient
    out = selection_from_test(real, 0.5, seed=0)
    assert out["train"] == real["train"]
    sel, readout = out["val"], out["test"]
    assert sorted(it["id"] for it in sel + readout) == sorted(it["id"] for it in real["test"])
    assert not {it["patient_id"] for it in sel} & {it["patient_id"] for it in readout}
    assert {it["label"] for it in sel} == {it["label"] for it in readout} == {0, 1}
    # same seed, same halves; another seed, other halves; select_on="val" keeps the val split, same read-out part
    assert [it["id"] for it in selection_from_test(real, 0.5, seed=0)["test"]] == [it["id"] for it in readout]
    assert [it["id"] for it in selection_from_test(real, 0.5, seed=1)["test"]] != [it["id"] for it in readout]
    control = selection_from_test(real, 0.5, seed=0, select_on="val")
    assert control["val"] == real["val"] and [it["id"] for it in control["test"]] == [it["id"] for it in readout]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fraction": 0.0}, "fraction must be in"),
        ({"fraction": 1.0}, "fraction must be in"),
        ({"select_on": "train"}, "select_on must be one of"),
        ({"fraction": 0.05}, "holds no image of class"),
    ],
)
def test_selection_from_test_errors(kwargs, match):
    items = _items((10, 4))
    with pytest.raises(ValueError, match=match):
        selection_from_test({"train": items[:2], "test": items[2:]}, **kwargs)


def test_selection_from_test_needs_the_splits():
    items = _items((10, 4))
    with pytest.raises(ValueError, match=r"\['val'\] missing"):
        selection_from_test({"train": items[:2], "test": items[2:]}, select_on="val")
    with pytest.raises(ValueError, match="mapping of splits"):
        selection_from_test([items], 0.5)


def test_fingerprint_same_pixels_any_path_or_format(tmp_path):
    pixels = RNG.integers(0, 256, (12, 10), dtype=np.uint8)
    a = write_test_png(tmp_path / "a.png", pixels)
    b = write_test_png(tmp_path / "sub" / "b.png", pixels)
    c = write_test_png(tmp_path / "c.png", pixels, rgb=True)  # RGB copy -> grey after collapse
    d = write_test_dicom(tmp_path / "d.dcm", pixels)
    fa = item_fingerprint({"image": str(a)})
    assert fa == item_fingerprint(str(b)) == item_fingerprint(str(c)) == item_fingerprint(str(d))
    assert fa == item_fingerprint(pixels[None])
    assert fa != item_fingerprint(pixels[None].astype(np.uint16))
    other = pixels.copy()
    other[0, 0] ^= 1
    assert fa != item_fingerprint(other[None])


def test_dataset_hash_is_order_independent_and_label_sensitive():
    items = _items((3, 3))
    h = dataset_hash(items)
    assert h == dataset_hash(items[::-1])
    assert h == dataset_hash(items, fingerprints=dataset_fingerprints(items))
    relabelled = [dict(it, label=1 - it["label"]) for it in items]
    assert h != dataset_hash(relabelled) and h != dataset_hash(items[:-1])
    with pytest.raises(ValueError, match="got 1 fingerprints for 6 items"):
        dataset_hash(items, fingerprints=["x"])
    ordered = dataset_hash(items, ordered=True)
    assert ordered != dataset_hash(items[::-1], ordered=True) and ordered == dataset_hash(list(items), ordered=True)


def test_find_and_drop_duplicates(tmp_path):
    pixels = RNG.integers(0, 256, (8, 8), dtype=np.uint8)
    png = write_test_png(tmp_path / "a.png", pixels)
    dcm = write_test_dicom(tmp_path / "a.dcm", pixels)
    train = [{"image": str(png), "label": 0}, {"image": RNG.integers(0, 256, (1, 8, 8), dtype=np.uint8), "label": 1}]
    test = [{"image": pixels[None].copy(), "label": 0}, {"image": str(dcm), "label": 0}]
    assert find_duplicates(train, test, mode="pixel") == [(0, 0), (0, 1)]
    assert find_duplicates(train, test, mode="bytes") == []  # different encodings
    assert find_duplicates(test, mode="pixel") == [(0, 1)]
    assert find_duplicates(train + [dict(train[0])], mode="bytes") == [(0, 2)]
    assert drop_duplicates(train, test) == [train[1]]
    assert drop_duplicates(test) == [test[0]]
    with pytest.raises(ValueError, match="mode must be"):
        find_duplicates(train, mode="hash")


def test_real_pneumoniamnist_has_no_train_test_pixel_overlap(pneumoniamnist_npz):
    src = medmnist_source(pneumoniamnist_npz)
    assert find_duplicates(src.splits["train"][:500], src.splits["test"], mode="pixel") == []
