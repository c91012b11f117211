"""Content fingerprints of images for leakage checks: same pixels ⇒ same fingerprint, whatever the path."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from monai_medienet.transforms.loading import read_image_array

__all__ = ["dataset_fingerprints", "dataset_hash", "file_sha256", "item_fingerprint"]


def _array_digest(arr: np.ndarray) -> str:
    arr = np.ascontiguousarray(arr)
    h = hashlib.sha256()
    h.update(str(arr.dtype).encode())
    h.update(str(tuple(arr.shape)).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def item_fingerprint(item: dict | str | os.PathLike | np.ndarray, key: str = "image") -> str:
    """sha256 of an image's decoded pixels (dtype, channel-first shape, bytes).

    The image is decoded as :func:`~monai_medienet.transforms.read_image_array` does (native dtype, channel-first,
    grey RGB collapsed to one channel), so the same pixels stored at two paths, or as a file and an array of the same
    dtype, give the same fingerprint.

    Args:
        item: a data dict (its ``key`` entry is used), a path or an array ``(C, H, W[, D])``.
        key: image key of a data dict.

    Returns:
        64-character hex digest.

    Raises:
        ImageLoadError: when the image cannot be decoded (message names the file).
    """
    img = item[key] if isinstance(item, dict) else item
    arr, _ = read_image_array(img, check_finite=False)
    return _array_digest(arr)


def dataset_fingerprints(items: Sequence[dict], key: str = "image", progress: bool = False) -> list[str]:
    """:func:`item_fingerprint` of every item, in order.

    Args:
        items: data dicts.
        key: image key.
        progress: show a tqdm bar.

    Returns:
        One hex digest per item.
    """
    return [item_fingerprint(it, key) for it in tqdm(items, desc="fingerprints", disable=not progress)]


def dataset_hash(
    items: Sequence[dict],
    key: str = "image",
    label_key: str = "label",
    fingerprints: Sequence[str] | None = None,
    ordered: bool = False,
) -> str:
    """sha256 of a labelled dataset (its ``fingerprint:label`` lines, sorted unless ``ordered``).

    Args:
        items: data dicts.
        key: image key.
        label_key: label key (``None`` labels are hashed as ``"None"``).
        fingerprints: precomputed :func:`dataset_fingerprints` of ``items`` (saves decoding twice).
        ordered: hash the lines in the items' order, e.g. for a test split whose per-image predictions are stored in
            that order (two runs' predictions pair image by image only when this hash agrees).

    Returns:
        64-character hex digest; without ``ordered`` the same images with the same labels in any order give the same
        hash.

    Raises:
        ValueError: ``fingerprints`` length differs from ``items``.
    """
    fps = list(fingerprints) if fingerprints is not None else dataset_fingerprints(items, key)
    if len(fps) != len(items):
        raise ValueError(f"dataset_hash: got {len(fps)} fingerprints for {len(items)} items.")
    lines = [f"{fp}:{it.get(label_key)}" for fp, it in zip(fps, items)]
    if not ordered:
        lines.sort()
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def file_sha256(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """sha256 of a file's bytes (e.g. a checkpoint, for manifests).

    Args:
        path: the file.
        chunk_size: read size.

    Returns:
        64-character hex digest.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()
