"""monai_medienet: class-conditional latent diffusion (MedIENet) for medical image augmentation on MONAI."""

from __future__ import annotations

__version__ = "0.1.0"
