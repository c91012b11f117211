"""Intensity to [0, 1]: dtype-range scaling, CT window presets, and channel-count matching."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, ScaleIntensityRanged, Transform

from .loading import ORIGINAL_DTYPE_KEY, VALUE_RANGE_KEY

__all__ = [
    "CT_WINDOWS",
    "EnsureChannels",
    "EnsureChannelsd",
    "ScaleIntensityByDtype",
    "ScaleIntensityByDtyped",
    "ct_window",
]

CT_WINDOWS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "soft_tissue": (40.0, 400.0),
    "abdomen": (50.0, 400.0),
    "liver": (30.0, 150.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "subdural": (75.0, 215.0),
    "stroke": (40.0, 40.0),
}
"""CT window presets in Hounsfield units as ``name: (level, width)`` (common radiology defaults)."""


def ct_window(preset: str, keys: KeysCollection = "image", allow_missing_keys: bool = False) -> ScaleIntensityRanged:
    """MONAI ``ScaleIntensityRanged`` mapping a CT window preset to [0, 1] (clipped).

    Args:
        preset: a key of :data:`CT_WINDOWS` (e.g. ``"lung"``, ``"mediastinum"``, ``"soft_tissue"``, ``"bone"``,
            ``"brain"``).
        keys: keys to transform.
        allow_missing_keys: don't raise when a key is absent.

    Returns:
        The transform; values are expected in HU (``PydicomReader`` applies rescale slope/intercept).

    Raises:
        ValueError: unknown preset.
    """
    if preset not in CT_WINDOWS:
        raise ValueError(f"ct_window: unknown CT window preset {preset!r}; choose one of {sorted(CT_WINDOWS)}.")
    level, width = CT_WINDOWS[preset]
    return ScaleIntensityRanged(
        keys=keys,
        a_min=level - width / 2.0,
        a_max=level + width / 2.0,
        b_min=0.0,
        b_max=1.0,
        clip=True,
        allow_missing_keys=allow_missing_keys,
    )


class ScaleIntensityByDtype(Transform):
    """Scale by the full range of the stored pixel type: uint8 → /255, uint16 → /65535, DICOM → its stored range.

    For DICOM the range comes from BitsStored, PixelRepresentation and rescale slope/intercept
    (``meta["medienet_value_range"]``, e.g. [0, 4095] for 12-bit X-ray). Otherwise the original dtype is read from
    ``meta["medienet_original_dtype"]`` (both set by :class:`~monai_medienet.transforms.LoadMedicalImage`), else from
    the input's own dtype; floating-point images are assumed to be in [0, 1] already and are only clipped. This keeps
    the absolute intensity scale (unlike per-image min-max), so the same tissue gets the same value in every image.

    Raises:
        ValueError: from ``__call__`` for signed integer images without a known range (use a CT window or
            "minmax"/"percentile").
    """

    def __call__(self, img: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Scale ``img`` (any shape) to float32 in [0, 1]."""
        dtype_name, value_range = None, None
        if isinstance(img, MetaTensor):
            dtype_name = img.meta.get(ORIGINAL_DTYPE_KEY)
            value_range = img.meta.get(VALUE_RANGE_KEY)
        if dtype_name is None:
            dtype_name = str(img.dtype).replace("torch.", "")
        dtype = np.dtype(dtype_name)
        out = img.float() if isinstance(img, torch.Tensor) else torch.as_tensor(np.asarray(img, dtype=np.float32))
        if value_range is not None:
            lo, hi = (float(v) for v in value_range)
            out = (out - lo) / max(hi - lo, 1e-12)
        elif np.issubdtype(dtype, np.unsignedinteger):
            out = out / float(np.iinfo(dtype).max)
        elif np.issubdtype(dtype, np.signedinteger):
            raise ValueError(
                f"ScaleIntensityByDtype: signed integer image (dtype {dtype}) has no fixed [0, max] range; "
                "use intensity='minmax', 'percentile' or a CT window preset."
            )
        return out.clamp(0.0, 1.0)


class ScaleIntensityByDtyped(MapTransform):
    """Dictionary version of :class:`ScaleIntensityByDtype`."""

    def __init__(self, keys: KeysCollection = "image", allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.scaler = ScaleIntensityByDtype()

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.scaler(d[key])
        return d


class EnsureChannels(Transform):
    """Match the channel count of a channel-first image to ``channels``.

    1 → N repeats the channel; 3/4 → 1 takes the mean of the first three (colour) channels; equal counts pass
    through. Anything else is an error (mixed channel counts cannot be reconciled silently).

    Args:
        channels: wanted channel count (>= 1).

    Raises:
        ValueError: ``channels < 1``; from ``__call__`` when the conversion is not defined.
    """

    def __init__(self, channels: int = 1) -> None:
        if int(channels) < 1:
            raise ValueError(f"EnsureChannels: channels must be >= 1, got {channels}.")
        self.channels = int(channels)

    def __call__(self, img: torch.Tensor, name: str | None = None) -> torch.Tensor:
        """Return ``img`` with ``self.channels`` channels (shape ``(channels, *spatial)``)."""
        c = img.shape[0]
        if c == self.channels:
            return img
        if c == 1:
            return img.repeat(self.channels, *([1] * (img.ndim - 1)))
        if self.channels == 1 and c in (3, 4):
            return img[:3].float().mean(dim=0, keepdim=True)
        raise ValueError(
            f"EnsureChannels: {name or 'image'} has {c} channels (shape {tuple(img.shape)}); cannot convert to "
            f"{self.channels} channel(s)."
        )


class EnsureChannelsd(MapTransform):
    """Dictionary version of :class:`EnsureChannels`; errors name the item's file or ``"id"``."""

    def __init__(self, keys: KeysCollection = "image", channels: int = 1, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.converter = EnsureChannels(channels)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            img = d[key]
            name = img.meta.get("filename_or_obj") if isinstance(img, MetaTensor) else None
            d[key] = self.converter(img, name=name or (f"item {d['id']!r}" if "id" in d else None))
        return d
