"""load_diffusion_generator / generate_synthetic on a tiny checkpoint built in the test."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from monai_medienet.engines import generate_synthetic, load_diffusion_generator


@pytest.fixture
def checkpoint(tiny_diffusion_checkpoint):
    return tiny_diffusion_checkpoint()


def test_load_generator_uses_ema(checkpoint):
    g = load_diffusion_generator(checkpoint)
    ckpt = torch.load(checkpoint, weights_only=True)
    key = next(iter(ckpt["state"]["ema"]))
    assert torch.equal(g.network.state_dict()[key], ckpt["state"]["ema"][key])
    assert not torch.equal(g.network.state_dict()[key], ckpt["state"]["network"][key])
    assert g.classes == ["normal", "pneumonia"] and g.latent_shape == (2, 8, 8) and g.scale_factor == 0.8
    raw = load_diffusion_generator(checkpoint, use_ema=False)
    assert torch.equal(raw.network.state_dict()[key], ckpt["state"]["network"][key])


def test_generate_writes_manifest_and_is_reproducible(checkpoint, tmp_path):
    kwargs = {"num_per_class": 2, "num_inference_steps": 2, "sampler": "ddim", "batch_size": 3, "seed": 5,
              "progress": False}  # fmt: skip
    out = generate_synthetic(checkpoint, tmp_path / "a", crop_size=(14, 14), **kwargs)
    assert out["num_images"] == 4
    rows = list(csv.DictReader(open(tmp_path / "a" / "manifest.csv")))
    assert [(r["class_name"], int(r["seed"])) for r in rows] == [
        ("normal", 5), ("normal", 6), ("pneumonia", 7), ("pneumonia", 8)
    ]  # fmt: skip
    first = np.asarray(Image.open(tmp_path / "a" / rows[0]["path"]))
    assert first.shape == (14, 14)
    # the same seeds give the same images, whatever the batching
    generate_synthetic(checkpoint, tmp_path / "b", crop_size=(14, 14), **{**kwargs, "batch_size": 4})
    for r in rows:
        a = np.asarray(Image.open(tmp_path / "a" / r["path"]), dtype=np.int16)
        b = np.asarray(Image.open(tmp_path / "b" / r["path"]), dtype=np.int16)
        assert np.abs(a - b).max() <= 1
    with pytest.raises(FileExistsError):
        generate_synthetic(checkpoint, tmp_path / "a", **kwargs)  # no silent overwrite


def test_generate_errors(checkpoint, tmp_path):
    with pytest.raises(ValueError, match="num_per_class"):
        generate_synthetic(checkpoint, tmp_path, num_per_class=0)
    with pytest.raises(ValueError, match="not in the checkpoint classes"):
        generate_synthetic(checkpoint, tmp_path, classes=["covid"], progress=False)
    with pytest.raises(ValueError, match="crop_size"):
        generate_synthetic(checkpoint, tmp_path / "c", num_per_class=1, num_inference_steps=1, sampler="ddim",
                           crop_size=(64, 64), progress=False)  # fmt: skip
