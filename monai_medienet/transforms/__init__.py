"""MONAI-style array + dictionary transforms and Compose builders for loading and preprocessing medical images."""

from __future__ import annotations

from .compose import (
    INTENSITY_MODES,
    RESIZE_MODES,
    UntrackedCompose,
    chain_transforms,
    classic_augmentation,
    image_preprocessing,
)
from .geometry import RASTER, raster_affine, raster_axcodes, validate_orientation
from .intensity import (
    CT_WINDOWS,
    EnsureChannels,
    EnsureChannelsd,
    ScaleIntensityByDtype,
    ScaleIntensityByDtyped,
    ct_window,
)
from .loading import (
    IMAGE_EXTENSIONS,
    ImageLoadError,
    LoadMedicalImage,
    LoadMedicalImaged,
    is_supported_image_path,
    read_image_array,
)
from .spatial import FitAndPad, FitAndPadd

__all__ = [
    "CT_WINDOWS",
    "IMAGE_EXTENSIONS",
    "INTENSITY_MODES",
    "RASTER",
    "RESIZE_MODES",
    "EnsureChannels",
    "EnsureChannelsd",
    "FitAndPad",
    "FitAndPadd",
    "ImageLoadError",
    "LoadMedicalImage",
    "LoadMedicalImaged",
    "ScaleIntensityByDtype",
    "ScaleIntensityByDtyped",
    "UntrackedCompose",
    "chain_transforms",
    "classic_augmentation",
    "ct_window",
    "image_preprocessing",
    "is_supported_image_path",
    "raster_affine",
    "raster_axcodes",
    "read_image_array",
    "validate_orientation",
]
