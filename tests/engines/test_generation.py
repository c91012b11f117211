"""load_diffusion_generator / generate_synthetic on a tiny checkpoint built in the test."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from monai_medienet.engines import build_autoencoder, generate_synthetic, load_diffusion_generator
from monai_medienet.handlers import atomic_torch_save
from monai_medienet.networks import build_diffusion_unet

AE_CFG = {
    "spatial_dims": 2, "in_channels": 1, "out_channels": 1, "channels": [8, 8], "latent_channels": 2,
    "num_res_blocks": 1, "attention_levels": [False, False], "norm_num_groups": 4,
    "with_encoder_nonlocal_attn": False, "with_decoder_nonlocal_attn": False,
}  # fmt: skip
NET_CFG = {
    "name": "medienet", "spatial_dims": 2, "in_channels": 2, "out_channels": 2, "num_classes": 2,
    "channels": [16, 16], "attention_levels": [False, True], "num_res_blocks": 1, "num_head_channels": 8,
    "norm_num_groups": 8,
}  # fmt: skip


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    ae = build_autoencoder(AE_CFG)
    cfg = dict(NET_CFG)
    net = build_diffusion_unet(cfg.pop("name"), **cfg)
    ema = build_diffusion_unet("medienet", **cfg)
    ckpt = {
        "state": {"network": net.state_dict(), "ema": ema.state_dict(), "autoencoder": ae.state_dict()},
        "classes": ["normal", "pneumonia"],
        "scale_factor": 0.8,
        "latent_shape": [2, 8, 8],
        "network_config": NET_CFG,
        "autoencoder_config": AE_CFG,
        "scheduler_config": {"num_train_timesteps": 100, "schedule": "scaled_linear_beta"},
        "train_hash": "h" * 64,
    }
    return atomic_torch_save(ckpt, tmp_path / "diffusion.pt")


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
