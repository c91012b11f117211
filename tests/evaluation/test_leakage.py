from __future__ import annotations

import pytest
import torch

from monai_medienet.evaluation import check_generator_leakage, check_synthetic_sources, load_generator_provenance


def test_no_overlap_passes():
    out = check_generator_leakage(["a", "b"], ["c"], ["d", "e"])
    assert out == {"num_train": 2, "num_val": 1, "num_test": 2, "val_overlap": 0, "test_overlap": 0}


def test_overlap_refused_with_count_and_split():
    with pytest.raises(ValueError, match=r"2 of 3 images of the test split"):
        check_generator_leakage(["a", "b", "c"], ["x"], ["a", "c", "z"])
    with pytest.raises(ValueError, match=r"1 of 1 images of the val split and 1 of 2 images of the test split"):
        check_generator_leakage(["a", "b"], ["b"], ["a", "z"])


def test_provenance_from_checkpoint(tmp_path):
    path = tmp_path / "gen.pt"
    torch.save({"train_fingerprints": ["a", "b"], "classes": ["normal", "pneumonia"], "w": torch.zeros(2)}, path)
    prov = load_generator_provenance(path)
    assert prov == {"train_fingerprints": ["a", "b"], "classes": ["normal", "pneumonia"], "training": {}}
    aug = {"rotate_degrees": 10.0, "flip_axes": []}
    ckpt = {"train_fingerprints": ["a"], "classes": None, "training_seed": 3, "training_augmentation": aug}
    assert load_generator_provenance(ckpt)["training"] == {"training_seed": 3, "training_augmentation": aug}
    ckpt["training_augmentation"] = None  # recorded as off: kept, unlike an older checkpoint without the key
    assert load_generator_provenance(ckpt)["training"] == {"training_seed": 3, "training_augmentation": None}
    with pytest.raises(ValueError, match="train_fingerprints"):
        load_generator_provenance({"classes": ["a"]})


def test_synthetic_sources_must_be_checked_generators():
    items = [{"checkpoint_sha256": "a" * 64}] * 3 + [{"checkpoint_sha256": "b" * 64}, {}]
    out = check_synthetic_sources(items, ["a" * 64, "b" * 64, "c" * 64])
    assert out == {
        "verified": True,
        "num_images": 5,
        "num_unrecorded": 1,
        "images_per_generator": {"a" * 64: 3, "b" * 64: 1},
    }
    with pytest.raises(
        ValueError, match=r"1 synthetic image\(s\) come from generator checkpoint\(s\) \{'bbbbbbbbbbbb': 1\}"
    ):
        check_synthetic_sources(items, ["a" * 64])
    # a pool that records no checkpoint cannot be verified, and says so
    assert check_synthetic_sources([{}, {}], ["a" * 64])["verified"] is False
