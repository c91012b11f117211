"""Losses of the diffusion stage."""

from __future__ import annotations

from .diffusion import DIFFUSION_LOSS_NAMES, WeightedDiffusionLoss, get_diffusion_loss

__all__ = ["DIFFUSION_LOSS_NAMES", "WeightedDiffusionLoss", "get_diffusion_loss"]
