"""monai_medienet: class-conditional latent diffusion (MedIENet) for medical image augmentation on MONAI.

The headline names import from the top level; every subpackage (``networks``, ``schedulers``, ``inferers``,
``engines``, ``handlers``, ``losses``, ``data``, ``transforms``, ``io``, ``metrics``, ``evaluation``, ``utils``)
is also importable on its own and documents the rest.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .data import DataSource, MixedDataset, class_folder_source, manifest_source, medmnist_source, mix_real_synthetic
from .engines import ClassConditionalDiffusionPrepareBatch
from .inferers import ClassConditionalLatentDiffusionInferer, compute_scale_factor
from .io import SyntheticImageWriter, read_manifest
from .losses import get_diffusion_loss
from .networks import (
    MedIENetUNet,
    MonaiClassConditionalUNet,
    MultiAttentionBlock,
    RotaryEmbedding,
    build_diffusion_unet,
)
from .schedulers import DPMSolverMultistepScheduler, get_scheduler
from .transforms import LoadMedicalImaged, classic_augmentation, image_preprocessing
from .utils import ClassMap, get_data_dir, resolve_device

__all__ = [
    "__version__",
    "ClassConditionalDiffusionPrepareBatch",
    "ClassConditionalLatentDiffusionInferer",
    "ClassMap",
    "DPMSolverMultistepScheduler",
    "DataSource",
    "LoadMedicalImaged",
    "MedIENetUNet",
    "MixedDataset",
    "MonaiClassConditionalUNet",
    "MultiAttentionBlock",
    "RotaryEmbedding",
    "SyntheticImageWriter",
    "build_diffusion_unet",
    "class_folder_source",
    "classic_augmentation",
    "compute_scale_factor",
    "get_data_dir",
    "get_diffusion_loss",
    "get_scheduler",
    "image_preprocessing",
    "manifest_source",
    "medmnist_source",
    "mix_real_synthetic",
    "read_manifest",
    "resolve_device",
]
