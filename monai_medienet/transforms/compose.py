"""Compose builders: the package's standard preprocessing, a classic (non-generative) augmentation baseline, and
their cache-friendly chain."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from monai.config import KeysCollection
from monai.transforms import (
    Compose,
    EnsureTyped,
    RandAdjustContrastd,
    RandAffined,
    RandFlipd,
    RandScaleIntensityd,
    RandShiftIntensityd,
    RandZoomd,
    Resized,
    ScaleIntensityd,
    ScaleIntensityRanged,
    ScaleIntensityRangePercentilesd,
)

from .geometry import validate_orientation
from .intensity import CT_WINDOWS, EnsureChannelsd, ScaleIntensityByDtyped, ct_window
from .loading import LoadMedicalImaged
from .spatial import FitAndPadd

__all__ = [
    "INTENSITY_MODES",
    "RESIZE_MODES",
    "UntrackedCompose",
    "chain_transforms",
    "classic_augmentation",
    "image_preprocessing",
]

INTENSITY_MODES: tuple[str, ...] = ("minmax", "percentile", "dtype", "none") + tuple(CT_WINDOWS)
"""Accepted ``intensity`` values of :func:`image_preprocessing`."""
RESIZE_MODES: tuple[str, ...] = ("pad", "resize")


def _intensity_transform(intensity: str, keys: KeysCollection):
    if intensity == "minmax":
        return ScaleIntensityd(keys=keys, minv=0.0, maxv=1.0)
    if intensity == "percentile":
        return ScaleIntensityRangePercentilesd(keys=keys, lower=0.5, upper=99.5, b_min=0.0, b_max=1.0, clip=True)
    if intensity == "dtype":
        return ScaleIntensityByDtyped(keys=keys)
    if intensity in CT_WINDOWS:
        return ct_window(intensity, keys=keys)
    return None  # "none"


def image_preprocessing(
    image_size: Sequence[int] | int,
    channels: int = 1,
    intensity: str = "minmax",
    resize_mode: str = "pad",
    keys: KeysCollection = "image",
    label_key: str | None = "label",
    divisible_by: int | None = None,
    track_meta: bool = False,
    orientation: str | None = None,
) -> Compose:
    """The standard preprocessing from any source item (path or array) to a model-ready item.

    Steps: :class:`LoadMedicalImaged` (reader chosen by file type, channel-first, NaN/Inf check) →
    :class:`EnsureChannelsd` → intensity to [0, 1] → size (``"pad"``: :class:`FitAndPadd`, shrink with aspect kept only
    when too large, then zero-pad — no distortion; ``"resize"``: MONAI ``Resized`` to exactly ``image_size``) →
    ``EnsureTyped`` (image float32, label int64 scalar).

    Args:
        image_size: spatial output size ``(H, W)`` or ``(H, W, D)`` (an int means a square 2D size); choose it
            divisible by the autoencoder's total downsampling (e.g. 32x32 for MedMNIST's 28x28 with 4x downsampling).
        channels: output channel count (1 → N repeats; RGB → 1 averages).
        intensity: ``"minmax"`` (per image, MONAI ``ScaleIntensityd``), ``"percentile"`` (0.5–99.5 %, clipped),
            ``"dtype"`` (the full range of the stored pixel type: uint8/255, uint16/65535, DICOM BitsStored with
            rescale — keeps absolute brightness, recommended for PNG/JPEG, MedMNIST and X-ray DICOM), ``"none"``
            (input already in [0, 1]) or a CT window preset name from :data:`~monai_medienet.transforms.CT_WINDOWS`
            (values in HU).
        resize_mode: ``"pad"`` or ``"resize"``.
        keys: image key(s).
        label_key: label key made an int64 scalar tensor when present (``None`` to leave labels alone).
        divisible_by: when given, ``image_size`` must be divisible by it (guards the autoencoder's downsampling).
        track_meta: keep ``MetaTensor`` outputs (default plain ``torch.Tensor``).
        orientation: axis order of NIfTI/DICOM inputs (``None``: as stored; ``"raster"``: this package's (rows,
            columns) order, e.g. for a NIfTI that ITK wrote from a PNG; or axis codes such as ``"RAS"``), see
            :class:`LoadMedicalImage`.

    Returns:
        A MONAI ``Compose`` mapping ``{"image": path | array, "label": int, ...}`` to
        ``{"image": float32 (C, *image_size) in [0, 1], "label": int64 scalar, ...}``. Its attribute
        ``preprocessing_settings`` (``{"image_size", "channels", "intensity", "resize_mode", "orientation"}``) lets a
        consumer record how its images were made (the evaluation stores it with saved classifiers, for serving).

    Raises:
        ValueError: invalid ``image_size``, ``channels``, ``intensity``, ``resize_mode``, ``orientation`` or
            divisibility.
    """
    size = (int(image_size),) * 2 if isinstance(image_size, (int, np.integer)) else tuple(int(s) for s in image_size)
    if len(size) not in (2, 3) or any(s < 1 for s in size):
        raise ValueError(f"image_preprocessing: image_size must be 2 or 3 positive ints, got {image_size!r}.")
    if int(channels) < 1:
        raise ValueError(f"image_preprocessing: channels must be >= 1, got {channels}.")
    if intensity not in INTENSITY_MODES:
        raise ValueError(f"image_preprocessing: intensity must be one of {INTENSITY_MODES}, got {intensity!r}.")
    if resize_mode not in RESIZE_MODES:
        raise ValueError(f"image_preprocessing: resize_mode must be one of {RESIZE_MODES}, got {resize_mode!r}.")
    if divisible_by is not None:
        if int(divisible_by) < 1:
            raise ValueError(f"image_preprocessing: divisible_by must be >= 1, got {divisible_by}.")
        if any(s % int(divisible_by) for s in size):
            raise ValueError(
                f"image_preprocessing: image_size {size} is not divisible by {divisible_by} (the autoencoder's "
                "downsampling); pad to the next multiple instead."
            )
    orientation = validate_orientation(orientation, "image_preprocessing")
    transforms: list = [
        LoadMedicalImaged(keys=keys, orientation=orientation),
        EnsureChannelsd(keys=keys, channels=channels),
    ]
    scale = _intensity_transform(intensity, keys)
    if scale is not None:
        transforms.append(scale)
    if resize_mode == "pad":
        transforms.append(FitAndPadd(keys=keys, spatial_size=size))
    else:
        transforms.append(Resized(keys=keys, spatial_size=size, mode="area"))
    transforms.append(EnsureTyped(keys=keys, data_type="tensor", dtype=torch.float32, track_meta=track_meta))
    if label_key is not None:
        transforms.append(
            EnsureTyped(
                keys=label_key, data_type="tensor", dtype=torch.int64, track_meta=False, allow_missing_keys=True
            )
        )
    compose = Compose(transforms)
    compose.preprocessing_settings = {  # type: ignore[attr-defined]
        "image_size": list(size),
        "channels": int(channels),
        "intensity": intensity,
        "resize_mode": resize_mode,
        "orientation": orientation,
    }
    return compose


class UntrackedCompose(Compose):
    """A ``Compose`` that runs with MONAI's global ``MetaTensor`` tracking off and restores it afterwards.

    For random augmentation of plain tensors (cached, preprocessed images) the tracking only costs time: MONAI's
    per-sample spatial transforms run ~2.3x faster without it and give bitwise the same pixels (``bench`` case
    ``augment``, ``docs/benchmarks.md``). Outputs are plain tensors.
    """

    def __call__(self, input_, start=0, end=None, threading=False, lazy: bool | None = None):
        from monai_medienet.utils import meta_tracking

        with meta_tracking(False):
            return super().__call__(input_, start=start, end=end, threading=threading, lazy=lazy)


def classic_augmentation(
    spatial_dims: int = 2,
    rotate_degrees: float = 10.0,
    crop_scale: tuple[float, float] = (0.85, 1.0),
    translate_fraction: float = 0.05,
    intensity_jitter: float = 0.1,
    flip_axes: Sequence[int] = (),
    prob: float = 0.5,
    gamma_range: Sequence[float] | None = None,
    keys: KeysCollection = "image",
    image_size: Sequence[int] | None = None,
    seed: int | None = None,
    track_meta: bool = False,
) -> Compose:
    """Classic random augmentation of preprocessed images (float [0, 1], channel-first), MONAI random dict transforms.

    Rotation + translation (``RandAffined``), a random zoom-in equivalent to a random crop of area fraction
    ``crop_scale`` resized back (``RandZoomd``, size kept), brightness/contrast jitter (``RandScaleIntensityd``,
    ``RandShiftIntensityd``) clipped back to [0, 1], an optional random gamma (``RandAdjustContrastd``: each image is
    min-max normalised, raised to a power drawn uniformly from ``gamma_range`` and mapped back to its own range, so it
    stays in [0, 1]) and optional flips. Flips are OFF by default: a horizontal flip of a chest X-ray swaps left/right
    findings and the heart side. Gamma is off by default (``(0.7, 1.5)`` is nnU-Net's default range).

    Args:
        spatial_dims: 2 or 3.
        rotate_degrees: max absolute rotation (degrees; about every axis in 3D); 0 disables.
        crop_scale: ``(min, max)`` kept area fraction in (0, 1]; ``(1, 1)`` disables.
        translate_fraction: max shift as a fraction of ``image_size`` (needs ``image_size``; ignored without it).
        intensity_jitter: max relative contrast change and absolute brightness shift; 0 disables.
        flip_axes: spatial axes to flip at random (0-based, e.g. ``(1,)`` = left/right in ``(H, W)``).
        prob: probability of each random transform.
        gamma_range: ``(min, max)`` gamma of the random gamma transform, ``0 < min <= max``; ``None`` (default)
            disables it. Applied before the brightness/contrast jitter.
        keys: image key(s).
        image_size: spatial size of the inputs (only for translation in pixels).
        seed: seeds the Compose's random state (``Compose.set_random_state``).
        track_meta: keep ``MetaTensor`` outputs (default plain ``torch.Tensor``; the transforms then run with MONAI's
            tracking off, ~2.3x faster, see :class:`UntrackedCompose`).

    Returns:
        A MONAI ``Compose`` of random transforms (an :class:`UntrackedCompose` unless ``track_meta``).

    Raises:
        ValueError: for out-of-range arguments.
    """
    if spatial_dims not in (2, 3):
        raise ValueError(f"classic_augmentation: spatial_dims must be 2 or 3, got {spatial_dims}.")
    lo, hi = (float(crop_scale[0]), float(crop_scale[1]))
    if not 0.0 < lo <= hi <= 1.0:
        raise ValueError(f"classic_augmentation: crop_scale must satisfy 0 < min <= max <= 1, got {crop_scale!r}.")
    if rotate_degrees < 0 or intensity_jitter < 0 or translate_fraction < 0:
        raise ValueError(
            "classic_augmentation: rotate_degrees, intensity_jitter and translate_fraction must be >= 0, got "
            f"{rotate_degrees}, {intensity_jitter}, {translate_fraction}."
        )
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"classic_augmentation: prob must be in [0, 1], got {prob}.")
    if gamma_range is not None:
        if len(gamma_range) != 2 or not 0.0 < float(gamma_range[0]) <= float(gamma_range[1]):
            raise ValueError(
                "classic_augmentation: gamma_range must be (min, max) with 0 < min <= max, or None, got "
                f"{gamma_range!r}."
            )
    bad_axes = [a for a in flip_axes if not 0 <= int(a) < spatial_dims]
    if bad_axes:
        raise ValueError(f"classic_augmentation: flip_axes must be in [0, {spatial_dims}), got {tuple(flip_axes)}.")

    transforms: list = []
    translate = None
    if image_size is not None and translate_fraction > 0:
        translate = [translate_fraction * int(s) for s in image_size]
    if rotate_degrees > 0 or translate is not None:
        rad = float(np.deg2rad(rotate_degrees))
        rotate_range = (rad,) if spatial_dims == 2 else (rad, rad, rad)
        transforms.append(
            RandAffined(
                keys=keys,
                prob=prob,
                rotate_range=rotate_range if rotate_degrees > 0 else None,
                translate_range=translate,
                mode="bilinear",
                padding_mode="zeros",
            )
        )
    if lo < 1.0:
        # zoom z keeps an area fraction 1 / z**spatial_dims of the image
        transforms.append(
            RandZoomd(
                keys=keys,
                prob=prob,
                min_zoom=float(hi ** (-1.0 / spatial_dims)),
                max_zoom=float(lo ** (-1.0 / spatial_dims)),
                mode="area",
                keep_size=True,
            )
        )
    if gamma_range is not None:
        gamma = (float(gamma_range[0]), float(gamma_range[1]))
        transforms.append(RandAdjustContrastd(keys=keys, prob=prob, gamma=gamma))
    if intensity_jitter > 0:
        transforms.append(RandScaleIntensityd(keys=keys, factors=intensity_jitter, prob=prob))
        transforms.append(RandShiftIntensityd(keys=keys, offsets=intensity_jitter, prob=prob))
        transforms.append(ScaleIntensityRanged(keys=keys, a_min=0.0, a_max=1.0, b_min=0.0, b_max=1.0, clip=True))
    for axis in flip_axes:
        transforms.append(RandFlipd(keys=keys, prob=prob, spatial_axis=int(axis)))
    transforms.append(EnsureTyped(keys=keys, data_type="tensor", dtype=torch.float32, track_meta=track_meta))
    compose = Compose(transforms) if track_meta else UntrackedCompose(transforms)
    if seed is not None:
        compose.set_random_state(seed=int(seed))
    return compose


def chain_transforms(*transforms: Callable) -> Compose:
    """One flat ``Compose`` of ``transforms`` (nested ``Compose`` objects unpacked): preprocessing then augmentation.

    ``Compose([preprocessing, augmentation])`` would nest: MONAI's ``CacheDataset`` caches the transforms before the
    first random one, and a nested ``Compose`` counts as random, so nothing would be cached and every image would be
    read and resized again on every epoch. The flat chain caches the deterministic prefix (loading, scaling, resizing)
    and runs only the random tail on the fly. ``Compose.flatten`` keeps ``Compose`` subclasses whole, so an
    :class:`UntrackedCompose` (``classic_augmentation``'s default) still runs without ``MetaTensor`` tracking (and,
    being random, is not cached). The transform objects (and their random states)
    are reused, not copied; ``preprocessing_settings`` of the first transform that has them is carried over.

    Args:
        transforms: MONAI transforms or ``Compose`` objects, applied in order.

    Returns:
        The flat ``Compose``.

    Raises:
        ValueError: no transforms, or one that is not callable.
    """
    if not transforms:
        raise ValueError("chain_transforms: needs at least one transform.")
    bad = [t for t in transforms if not callable(t)]
    if bad:
        raise ValueError(f"chain_transforms: transforms must be callable, got {bad[0]!r}.")
    chained = Compose(list(transforms)).flatten()  # MONAI inlines plain nested Composes, keeps subclasses whole
    for t in transforms:
        settings = getattr(t, "preprocessing_settings", None)
        if settings is not None:
            chained.preprocessing_settings = dict(settings)  # type: ignore[attr-defined]
            break
    return chained
