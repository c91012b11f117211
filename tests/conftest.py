"""Shared fixtures: the real data directory (skipped with a reason when absent) and seeding."""

from __future__ import annotations

import pytest
import torch

from monai_medienet.utils import DATA_DIR_ENV, get_data_dir


def _require(path, what: str):
    if not path.exists():
        pytest.skip(f"{what} not found at {path}; set {DATA_DIR_ENV} to the directory holding the shared data.")
    return path


@pytest.fixture(scope="session")
def data_dir():
    """The real data directory (``MEDIENET_DATA_DIR`` or ``../shared/data``); skips when missing."""
    return _require(get_data_dir(), "the shared data directory")


@pytest.fixture(scope="session")
def pneumoniamnist_npz(data_dir):
    return _require(data_dir / "pneumoniamnist.npz", "pneumoniamnist.npz")


@pytest.fixture(scope="session")
def breastmnist_npz(data_dir):
    return _require(data_dir / "breastmnist.npz", "breastmnist.npz")


@pytest.fixture(scope="session")
def chest_xray_dir(data_dir):
    return _require(data_dir / "chest_xray_pneumonia", "the chest X-ray JPEG folders")


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield


@pytest.fixture
def tiny_diffusion_checkpoint(tmp_path):
    """Factory: ``make(ae_levels=2, classes=("normal", "pneumonia"), image_size=16) -> path`` of a seeded, untrained
    diffusion checkpoint as ``load_diffusion_generator`` reads it (tiny AutoencoderKL + MedIENet, EMA != raw weights,
    latent ``(2, image_size / 2 ** (ae_levels - 1), ...)``)."""
    from monai_medienet.engines import build_autoencoder
    from monai_medienet.handlers import atomic_torch_save
    from monai_medienet.networks import build_diffusion_unet

    def make(ae_levels: int = 2, classes=("normal", "pneumonia"), image_size: int = 16):
        ae_cfg = {
            "spatial_dims": 2, "in_channels": 1, "out_channels": 1, "channels": [8] * ae_levels, "latent_channels": 2,
            "num_res_blocks": 1, "attention_levels": [False] * ae_levels, "norm_num_groups": 4,
            "with_encoder_nonlocal_attn": False, "with_decoder_nonlocal_attn": False,
        }  # fmt: skip
        net_cfg = {
            "name": "medienet", "spatial_dims": 2, "in_channels": 2, "out_channels": 2, "num_classes": len(classes),
            "channels": [16, 16], "attention_levels": [False, True], "num_res_blocks": 1, "num_head_channels": 8,
            "norm_num_groups": 8,
        }  # fmt: skip
        torch.manual_seed(0)
        kwargs = {k: v for k, v in net_cfg.items() if k != "name"}
        net, ema = build_diffusion_unet("medienet", **kwargs), build_diffusion_unet("medienet", **kwargs)
        side = image_size // 2 ** (ae_levels - 1)
        ae = build_autoencoder(ae_cfg)
        ckpt = {
            "state": {"network": net.state_dict(), "ema": ema.state_dict(), "autoencoder": ae.state_dict()},
            "classes": list(classes), "scale_factor": 0.8, "latent_shape": [2, side, side],
            "network_config": net_cfg, "autoencoder_config": ae_cfg,
            "scheduler_config": {"num_train_timesteps": 100, "schedule": "scaled_linear_beta"},
            "train_hash": "h" * 64,
        }  # fmt: skip
        return atomic_torch_save(ckpt, tmp_path / f"diffusion_ae{ae_levels}_{image_size}.pt")

    return make
