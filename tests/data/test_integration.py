"""End to end on the real data: PneumoniaMNIST + synthetic images written to disk, mixed by changing one line."""

from __future__ import annotations

import torch
from monai.data import DataLoader, Dataset

from monai_medienet.data import MixedDataset, dataset_fingerprints, manifest_source, medmnist_source
from monai_medienet.data import subsample_per_class as k_per_class
from monai_medienet.io import SyntheticImageWriter
from monai_medienet.transforms import image_preprocessing


def test_real_pipeline_gains_synthetic_data_with_one_line(tmp_path, pneumoniamnist_npz):
    real = medmnist_source(pneumoniamnist_npz)
    train = k_per_class(real.splits["train"], 8, seed=0)
    with SyntheticImageWriter(tmp_path / "syn", real.classes, fmt="png") as writer:
        for i in range(16):
            writer.write(torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(i)), i % 2, seed=i)
    synthetic = manifest_source(tmp_path / "syn" / "manifest.csv")
    assert synthetic.classes == real.classes
    transform = image_preprocessing((32, 32), intensity="dtype")

    baseline = Dataset(train, transform=transform)
    mixed = MixedDataset(train, synthetic.splits["train"], transform=transform, ratio=0.5, seed=0)  # the one line
    assert len(baseline) == 16 and len(mixed) == 24
    batch = next(iter(DataLoader(mixed, batch_size=24)))
    assert batch["image"].shape == (24, 1, 32, 32) and batch["image"].dtype == torch.float32
    assert int(batch["synthetic"].sum()) == 8 and sorted(batch["label"].tolist()) == [0] * 12 + [1] * 12
    assert 0.0 <= float(batch["image"].min()) and float(batch["image"].max()) <= 1.0

    # leakage check material: synthetic fingerprints do not collide with the real test split
    syn_fp = set(dataset_fingerprints(synthetic.splits["train"]))
    assert not syn_fp & set(dataset_fingerprints(real.splits["test"][:50]))
