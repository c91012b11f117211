"""Inferers: class-conditional latent diffusion (training call, classifier-free guided sampling)."""

from __future__ import annotations

from .latent import ClassConditionalLatentDiffusionInferer, check_guidance_interval, compute_scale_factor

__all__ = ["ClassConditionalLatentDiffusionInferer", "check_guidance_interval", "compute_scale_factor"]
