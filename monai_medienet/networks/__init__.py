"""Networks of MedIENet: rotary position embedding, the multi-attention block, the class-conditional U-Net."""

from __future__ import annotations

from .blocks import MultiAttentionBlock
from .rope import RotaryEmbedding, apply_rotary
from .unet import DECODER_ATTENTION, MEDIENET_ONLY_ARGS, MedIENetUNet, MonaiClassConditionalUNet, build_diffusion_unet

__all__ = [
    "DECODER_ATTENTION",
    "MEDIENET_ONLY_ARGS",
    "MedIENetUNet",
    "MonaiClassConditionalUNet",
    "MultiAttentionBlock",
    "RotaryEmbedding",
    "apply_rotary",
    "build_diffusion_unet",
]
