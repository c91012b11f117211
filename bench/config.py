"""Benchmark profiles (full / quick) and the model builders shared by every case.

The same ``channels`` / ``attention_levels`` / ``num_res_blocks`` / ``num_head_channels`` feed MONAI's
``DiffusionModelUNet`` (reference) and ``MedIENetUNet``, so every paired comparison is at equal channels.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

# One profile = everything a case needs to build its models and size its work.
FULL: dict[str, Any] = {
    "name": "full",
    "unet": {
        "channels": [64, 128, 256],
        "attention_levels": [False, True, True],
        "num_res_blocks": 2,
        "num_head_channels": 32,
        "norm_num_groups": 32,
    },
    "autoencoder": {
        "channels": [32, 64, 64],
        "latent_channels": 4,
        "num_res_blocks": 1,
        "attention_levels": [False, False, False],
    },
    "num_classes": 2,
    "num_images": 16,
    "image_sizes": [64, 32],  # 32 = PneumoniaMNIST 28 px padded to a multiple of the AE downsampling
    "ddim_steps": 50,
    "dpm_steps": 20,
    # step-distilled students (bundle run id distill_steps): DDIM on the trailing grid at these steps, guidance 1
    "step_distilled_steps": [10, 5],
    # the guidance-distilled network at few DPM-Solver++ 2M steps with a clamp schedule (start at pure noise, end at
    # the clean end), the setting bench.quality checks for equal quality on the chest X-ray model (sixteenth session)
    "distilled_dpm_steps": [6, 5],
    "distilled_dpm_clip": [2.0, 1.75],
    "guidance_scale": 3.0,
    "train_batch": 16,
    "train_steps": 8,
    "warmup_steps": 2,
    "forward_repeats": 5,
    # the forward also at the CFG batch of the bundles' inference_batch_size (64 images -> 128 latents), the batch
    # that writes synthetic pools: the 16-image CFG batch leaves the matrix units idle more of the time
    "forward_large_batch": 128,
    "peak_n": 1024,
    "peak_n_emulated_bf16": 256,  # bf16 on a CPU without native bf16 runs at ~0.3 GFLOP/s: a small matrix suffices
    "peak_repeats": 12,
    "data_jpeg_files": 128,
    "data_npz_split": "train",
    "augment_images": 256,
    "classifier_batch": 32,
    "repeats": 3,
    "agreement_images": 4,
}

QUICK: dict[str, Any] = {
    **copy.deepcopy(FULL),
    "name": "quick",
    "unet": {
        "channels": [16, 32],
        "attention_levels": [False, True],
        "num_res_blocks": 1,
        "num_head_channels": 16,
        "norm_num_groups": 8,
    },
    "autoencoder": {
        "channels": [8, 16],
        "latent_channels": 4,
        "num_res_blocks": 1,
        "attention_levels": [False, False],
    },
    "num_images": 2,
    "image_sizes": [32],
    "ddim_steps": 3,
    "dpm_steps": 2,
    "step_distilled_steps": [1],
    "distilled_dpm_steps": [2],
    "train_batch": 2,
    "train_steps": 2,
    "warmup_steps": 1,
    "forward_repeats": 2,
    "forward_large_batch": 8,
    "peak_n": 256,
    "peak_repeats": 3,
    "data_jpeg_files": 8,
    "data_npz_split": "val",
    "augment_images": 8,
    "classifier_batch": 4,
    "repeats": 1,
    "agreement_images": 2,
}

PROFILES = {"full": FULL, "quick": QUICK}


def get_profile(name: str) -> dict[str, Any]:
    """Return a deep copy of the profile ``name`` (``"full"`` or ``"quick"``).

    Raises:
        ValueError: for an unknown profile name.
    """
    if name not in PROFILES:
        raise ValueError(f"bench: unknown profile {name!r}, expected one of {sorted(PROFILES)}.")
    return copy.deepcopy(PROFILES[name])


def ae_downsampling(profile: dict[str, Any]) -> int:
    """Total spatial downsampling factor of the autoencoder of ``profile``."""
    return 2 ** (len(profile["autoencoder"]["channels"]) - 1)


def latent_shape(profile: dict[str, Any], image_size: int, batch: int) -> tuple[int, ...]:
    """Latent shape ``(B, C, H, W)`` for ``batch`` images of ``image_size`` px."""
    side = image_size // ae_downsampling(profile)
    return (batch, profile["autoencoder"]["latent_channels"], side, side)


def build_autoencoder(profile: dict[str, Any], seed: int = 0) -> nn.Module:
    """MONAI ``AutoencoderKL`` (1 channel in/out), seeded, eval mode."""
    from monai.networks.nets import AutoencoderKL

    cfg = profile["autoencoder"]
    torch.manual_seed(seed)
    ae = AutoencoderKL(
        spatial_dims=2,
        in_channels=1,
        out_channels=1,
        channels=tuple(cfg["channels"]),
        latent_channels=cfg["latent_channels"],
        num_res_blocks=cfg["num_res_blocks"],
        attention_levels=tuple(cfg["attention_levels"]),
        norm_num_groups=8,
        with_encoder_nonlocal_attn=False,
        with_decoder_nonlocal_attn=False,
    )
    return ae.eval()


def _perturb_zero_init(model: nn.Module, seed: int) -> None:
    """MONAI zero-initialises output convolutions; give every all-zero weight small random values.

    An untrained network whose output is identically zero makes any numerical comparison meaningless, so the agreement
    and timing cases use this to get a non-trivial (still untrained) network.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1 and torch.count_nonzero(p) == 0:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)


def fast_dtype_name() -> str:
    """The fast path's precision on this CPU: ``"bf16"`` with native bf16, else ``"fp32"``."""
    from monai_medienet.utils import cpu_has_native_bf16

    return "bf16" if cpu_has_native_bf16() else "fp32"


def medienet_available() -> bool:
    """Whether the core colleague's ``monai_medienet.networks`` / inferers / schedulers can be imported."""
    try:
        from monai_medienet.inferers import ClassConditionalLatentDiffusionInferer  # noqa: F401
        from monai_medienet.networks import MedIENetUNet  # noqa: F401
        from monai_medienet.schedulers import DPMSolverMultistepScheduler  # noqa: F401
    except Exception:  # noqa: BLE001 - any import failure means "not yet built"
        return False
    return True


#: U-Net kinds that change one MedIENet argument, for the forward-overhead ablations.
MEDIENET_ABLATIONS: dict[str, dict[str, Any]] = {
    "medienet_norope": {"rope": False},
    "medienet_nomulti": {"multi_attention": False},
    "medienet_light": {"decoder_attention": "self"},
}


def build_unet(profile: dict[str, Any], kind: str, seed: int = 0) -> nn.Module:
    """Build the denoising U-Net of ``kind`` at the profile's channels, seeded, with non-zero output layers.

    Args:
        profile: a benchmark profile.
        kind: ``"monai"`` (MONAI ``DiffusionModelUNet``, unconditional as used by MONAI's ``LatentDiffusionInferer``),
            ``"monai_cond"`` (the plain MONAI U-Net with class embeddings: the equal-channels baseline for the
            RoPE + multi-attention overhead), ``"medienet"`` (``MedIENetUNet``), or the ablations
            ``"medienet_norope"`` (``rope=False``) and ``"medienet_nomulti"`` (``multi_attention=False``: MONAI's
            cross-attention transformer at the encoder attention levels too), and the light decoder
            ``"medienet_light"`` (``decoder_attention="self"``: MONAI's self-attention blocks at the mid block and the
            decoder, the class added to the timestep embedding; the encoder keeps its multi-attention blocks).
        seed: initialisation seed.

    Returns:
        The network in train mode.
    """
    cfg = profile["unet"]
    lat = profile["autoencoder"]["latent_channels"]
    common = {
        "spatial_dims": 2,
        "in_channels": lat,
        "out_channels": lat,
        "channels": tuple(cfg["channels"]),
        "attention_levels": tuple(cfg["attention_levels"]),
        "num_res_blocks": cfg["num_res_blocks"],
        "num_head_channels": cfg["num_head_channels"],
        "norm_num_groups": cfg["norm_num_groups"],
    }
    torch.manual_seed(seed)
    if kind == "monai":
        from monai.networks.nets import DiffusionModelUNet

        net = DiffusionModelUNet(**common)  # MONAI defaults otherwise (as a MONAI user would build it)
    elif kind in ("monai_cond", "medienet", *MEDIENET_ABLATIONS):
        from monai_medienet.networks import build_diffusion_unet

        ablation = MEDIENET_ABLATIONS.get(kind, {})
        name = "monai" if kind == "monai_cond" else "medienet"
        net = build_diffusion_unet(name, num_classes=profile["num_classes"], **common, **ablation)
    else:
        raise ValueError(f"bench: unknown U-Net kind {kind!r}.")
    _perturb_zero_init(net, seed + 1)
    return net


def count_parameters(model: nn.Module) -> int:
    """Number of parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())
