"""Fit an image into a target size without distorting it: shrink (aspect kept) only when too large, then pad."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, Resize, SpatialPad, Transform

__all__ = ["FitAndPad", "FitAndPadd"]


class FitAndPad(Transform):
    """Place a channel-first image in a ``spatial_size`` canvas without distortion.

    Images larger than the canvas in any axis are shrunk by one common factor (``Resize`` with area interpolation,
    aspect ratio kept) until they fit; then the image is zero-padded symmetrically (``SpatialPad``) to exactly
    ``spatial_size``. Images that already fit are only padded (pixels untouched), e.g. MedMNIST 28x28 → 32x32.

    Args:
        spatial_size: target spatial size ``(H, W)`` or ``(H, W, D)``, every entry >= 1.
        pad_value: constant fill value for the border.

    Raises:
        ValueError: invalid ``spatial_size``; from ``__call__`` when the image rank does not match.
    """

    def __init__(self, spatial_size: Sequence[int], pad_value: float = 0.0) -> None:
        size = tuple(int(s) for s in spatial_size)
        if len(size) not in (2, 3) or any(s < 1 for s in size):
            raise ValueError(f"FitAndPad: spatial_size must be 2 or 3 positive ints, got {spatial_size!r}.")
        self.spatial_size = size
        self.pad = SpatialPad(spatial_size=size, mode="constant", value=pad_value)

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        """Return the image with shape ``(C, *spatial_size)``."""
        spatial = tuple(img.shape[1:])
        if len(spatial) != len(self.spatial_size):
            raise ValueError(
                f"FitAndPad: image of shape {tuple(img.shape)} has {len(spatial)} spatial dims, target size "
                f"{self.spatial_size} has {len(self.spatial_size)}."
            )
        scale = min(t / s for t, s in zip(self.spatial_size, spatial))
        if scale < 1.0:
            new = tuple(min(t, max(1, round(s * scale))) for t, s in zip(self.spatial_size, spatial))
            img = Resize(spatial_size=new, mode="area")(img)
        return self.pad(img)


class FitAndPadd(MapTransform):
    """Dictionary version of :class:`FitAndPad`."""

    def __init__(
        self,
        keys: KeysCollection,
        spatial_size: Sequence[int],
        pad_value: float = 0.0,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.fitter = FitAndPad(spatial_size, pad_value=pad_value)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.fitter(d[key])
        return d
