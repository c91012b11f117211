"""Refuse to evaluate a generator that saw validation or test images (fingerprint intersection)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import torch

__all__ = ["check_generator_leakage", "load_generator_provenance"]


def check_generator_leakage(
    train_fingerprints: Iterable[str],
    val_fingerprints: Iterable[str] = (),
    test_fingerprints: Iterable[str] = (),
) -> dict[str, int]:
    """Check that no image the generator was trained on is in the validation or test split.

    Args:
        train_fingerprints: per-image sha256 of the generator's training images (``checkpoint["train_fingerprints"]``,
            from :func:`monai_medienet.data.dataset_fingerprints`).
        val_fingerprints: fingerprints of the real validation images.
        test_fingerprints: fingerprints of the real test images.

    Returns:
        ``{"num_train": ..., "num_val": ..., "num_test": ..., "val_overlap": 0, "test_overlap": 0}``.

    Raises:
        ValueError: when any fingerprint is shared; the message names the count and the split(s).
    """
    train = set(train_fingerprints)
    val, test = list(val_fingerprints), list(test_fingerprints)
    overlaps = {"val": sum(fp in train for fp in val), "test": sum(fp in train for fp in test)}
    bad = {k: v for k, v in overlaps.items() if v}
    if bad:
        detail = " and ".join(
            f"{n} of {len(val if s == 'val' else test)} images of the {s} split" for s, n in bad.items()
        )
        raise ValueError(
            f"check_generator_leakage: the generator was trained on {detail}; refusing to evaluate "
            "(retrain the generator on training images only)."
        )
    return {"num_train": len(train), "num_val": len(val), "num_test": len(test), "val_overlap": 0, "test_overlap": 0}


def load_generator_provenance(checkpoint: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """Read ``train_fingerprints`` and ``classes`` from a generator checkpoint (``torch.load(weights_only=True)``).

    Args:
        checkpoint: path to the checkpoint file or the already-loaded dict.

    Returns:
        ``{"train_fingerprints": list[str], "classes": list[str] | None}``.

    Raises:
        ValueError: when the checkpoint has no ``train_fingerprints`` list.
    """
    ckpt = (
        checkpoint if isinstance(checkpoint, Mapping) else torch.load(checkpoint, map_location="cpu", weights_only=True)
    )
    fps = ckpt.get("train_fingerprints")
    if not isinstance(fps, list | tuple) or not all(isinstance(f, str) for f in fps):
        raise ValueError(
            "load_generator_provenance: the checkpoint has no 'train_fingerprints' list of str; cannot verify that "
            "the generator never saw validation/test images."
        )
    classes = ckpt.get("classes")
    return {"train_fingerprints": list(fps), "classes": list(classes) if classes is not None else None}
