"""Real + synthetic mixing and dataset construction with MONAI caches."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from monai_medienet.data import MixedDataset, make_dataset, mix_real_synthetic
from monai_medienet.transforms import image_preprocessing


def _items(counts, tag):
    return [
        {"image": np.full((1, 4, 4), i % 255, np.uint8), "label": label, "id": f"{tag}{label}-{i}"}
        for label, n in enumerate(counts)
        for i in range(n)
    ]


def test_mix_ratio_and_class_balance():
    real, syn = _items((30, 10), "r"), _items((50, 50), "s")
    mixed = mix_real_synthetic(real, syn, ratio=1.0, seed=0)
    assert len(mixed) == 80 and Counter(it["synthetic"] for it in mixed) == {0: 40, 1: 40}
    syn_counts = Counter(it["label"] for it in mixed if it["synthetic"])
    assert syn_counts == {0: 20, 1: 20}
    prop = mix_real_synthetic(real, syn, ratio=0.5, seed=0, class_balanced=False)
    assert Counter(it["label"] for it in prop if it["synthetic"]) == {0: 15, 1: 5}
    assert {it["id"] for it in mixed if not it["synthetic"]} == {it["id"] for it in real}
    assert "synthetic" not in real[0]  # inputs are not modified
    ids = [it["id"] for it in mixed]
    assert ids == [it["id"] for it in mix_real_synthetic(real, syn, ratio=1.0, seed=0)]
    assert ids != [it["id"] for it in mix_real_synthetic(real, syn, ratio=1.0, seed=1)]
    assert len(mix_real_synthetic(real, syn, ratio=0.0)) == 40


def test_mix_errors_when_pool_too_small():
    with pytest.raises(ValueError, match="need 20 synthetic items of class 1 .* the pool has 3"):
        mix_real_synthetic(_items((30, 10), "r"), _items((50, 3), "s"), ratio=1.0)
    with pytest.raises(ValueError, match="ratio must be >= 0"):
        mix_real_synthetic([], [], ratio=-1)


def test_mix_per_class_ratios():
    real, syn = _items((30, 10), "r"), _items((50, 50), "s")
    only0 = mix_real_synthetic(real, syn, ratio=5.0, class_balanced=False, class_ratios={0: 1.0, 1: 0.0})
    assert Counter(it["label"] for it in only0 if it["synthetic"]) == {0: 30}  # ratio / class_balanced ignored
    half = mix_real_synthetic(real, syn, class_ratios={0: 0.5, 1: 2.0}, seed=3)
    assert Counter(it["label"] for it in half if it["synthetic"]) == {0: 15, 1: 20}
    assert len(mix_real_synthetic(real, syn, class_ratios={0: 0.0, 1: 0.0})) == 40
    with pytest.raises(ValueError, match=r"class_ratios must give a ratio >= 0 for every real label \[0, 1\]"):
        mix_real_synthetic(real, syn, class_ratios={0: 1.0})
    with pytest.raises(ValueError, match="class_ratios must give"):
        mix_real_synthetic(real, syn, class_ratios={0: 1.0, 1: -0.5})
    with pytest.raises(ValueError, match="need 60 synthetic items of class 0"):
        mix_real_synthetic(real, syn, class_ratios={0: 2.0, 1: 0.0})
    ds = MixedDataset(real, syn, class_ratios={0: 0.0, 1: 1.0})
    assert Counter(it["label"] for it in ds.data if it["synthetic"]) == {1: 10}


def test_mixed_dataset_is_a_drop_in_dataset_and_redraws_per_epoch():
    real, syn = _items((6, 6), "r"), _items((20, 20), "s")
    ds = MixedDataset(real, syn, transform=image_preprocessing((8, 8), intensity="dtype"), ratio=0.5, seed=0)
    assert len(ds) == 18
    item = ds[0]
    assert item["image"].shape == (1, 8, 8) and item["image"].dtype == torch.float32
    first = [d["id"] for d in ds.data]
    ds.set_epoch(1)
    assert [d["id"] for d in ds.data] != first and len(ds) == 18
    loader = torch.utils.data.DataLoader(ds, batch_size=6)
    batch = next(iter(loader))
    assert batch["image"].shape == (6, 1, 8, 8) and batch["synthetic"].shape == (6,)


@pytest.mark.parametrize("cache", ["none", "memory", "disk"])
def test_make_dataset_cache_modes(tmp_path, cache):
    items = _items((2, 2), "r")
    ds = make_dataset(items, image_preprocessing((8, 8)), cache=cache, cache_dir=tmp_path / "c")
    assert len(ds) == 4 and ds[1]["image"].shape == (1, 8, 8) and int(ds[3]["label"]) == 1


def test_make_dataset_errors():
    with pytest.raises(ValueError, match="cache must be one of"):
        make_dataset([], cache="gpu")
    with pytest.raises(ValueError, match="needs cache_dir"):
        make_dataset([], cache="disk")
