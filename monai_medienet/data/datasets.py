"""Wrap items + transform in a MONAI dataset, cached in memory or on disk."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from monai.data import CacheDataset, Dataset, PersistentDataset

__all__ = ["CACHE_MODES", "make_dataset"]

CACHE_MODES = ("none", "memory", "disk")


def make_dataset(
    items: Sequence[dict],
    transform: Callable | None = None,
    cache: str = "none",
    cache_dir: str | os.PathLike | None = None,
    cache_rate: float = 1.0,
    num_workers: int | None = 0,
    progress: bool = False,
) -> Dataset:
    """A MONAI dataset over ``items``: plain ``Dataset``, ``CacheDataset`` (``"memory"``) or ``PersistentDataset``
    (``"disk"``). The caches keep the results of the transforms up to the first random one.

    Args:
        items: data dicts.
        transform: MONAI transform (e.g. ``image_preprocessing(...)`` + ``classic_augmentation(...)``).
        cache: ``"none"``, ``"memory"`` or ``"disk"``.
        cache_dir: folder for ``"disk"`` (required there).
        cache_rate: fraction cached for ``"memory"``.
        num_workers: workers used to fill the memory cache.
        progress: progress bar while filling the memory cache.

    Returns:
        The dataset.

    Raises:
        ValueError: unknown ``cache`` or ``"disk"`` without ``cache_dir``.
    """
    if cache not in CACHE_MODES:
        raise ValueError(f"make_dataset: cache must be one of {CACHE_MODES}, got {cache!r}.")
    items = list(items)
    if cache == "memory":
        return CacheDataset(items, transform=transform, cache_rate=cache_rate, num_workers=num_workers,
                            progress=progress)  # fmt: skip
    if cache == "disk":
        if cache_dir is None:
            raise ValueError("make_dataset: cache='disk' needs cache_dir.")
        os.makedirs(cache_dir, exist_ok=True)
        return PersistentDataset(items, transform=transform, cache_dir=cache_dir)
    return Dataset(items, transform=transform)
