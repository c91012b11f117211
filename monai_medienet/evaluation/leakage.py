"""Refuse to evaluate a generator that saw validation or test images (fingerprint intersection)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch

__all__ = ["check_generator_leakage", "check_synthetic_sources", "load_generator_provenance"]


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
    """Read ``train_fingerprints``, ``classes`` and how it was trained from a generator checkpoint
    (``torch.load(weights_only=True)``).

    Args:
        checkpoint: path to the checkpoint file or the already-loaded dict.

    Returns:
        ``{"train_fingerprints": list[str], "classes": list[str] | None, "training": dict}``; ``training`` holds the
        checkpoint's ``training_seed`` and ``training_augmentation`` (``None``: trained on the images as they are),
        each only when the checkpoint records it (older checkpoints have no ``training_augmentation``).

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
    training = {k: ckpt[k] for k in ("training_seed", "training_augmentation") if k in ckpt}
    return {"train_fingerprints": list(fps), "classes": list(classes) if classes is not None else None,
            "training": training}  # fmt: skip


def check_synthetic_sources(items: Sequence[Mapping[str, Any]], checkpoint_sha256s: Iterable[str]) -> dict[str, Any]:
    """Check that every synthetic image comes from a generator whose leakage was checked.

    A pool's manifest records the sha256 of the checkpoint that drew each image (``checkpoint_sha256``, carried into
    the items by :func:`monai_medienet.data.manifest_source`). Checking one generator for leakage and evaluating
    images of another — a pool drawn before a retrain, or a pooled pool with a source left out — would void the check.

    Args:
        items: synthetic items; those without ``checkpoint_sha256`` are counted, not judged.
        checkpoint_sha256s: sha256 of every generator checkpoint that was checked.

    Returns:
        ``{"verified": bool, "num_images": n, "num_unrecorded": m, "images_per_generator": {sha: count}}``;
        ``verified`` is ``False`` only when no item records a checkpoint.

    Raises:
        ValueError: some images come from an unchecked checkpoint; the message names the sha256 prefixes and counts.
    """
    checked = set(checkpoint_sha256s)
    counts: dict[str, int] = {}
    unrecorded = 0
    for it in items:
        sha = it.get("checkpoint_sha256")
        if not sha:
            unrecorded += 1
            continue
        counts[str(sha)] = counts.get(str(sha), 0) + 1
    unknown = {sha[:12]: n for sha, n in counts.items() if sha not in checked}
    if unknown:
        raise ValueError(
            f"check_synthetic_sources: {sum(unknown.values())} synthetic image(s) come from generator checkpoint(s) "
            f"{unknown} (sha256 prefix: images) that were not leakage-checked (checked: "
            f"{sorted(s[:12] for s in checked)}); pass the checkpoint of every generator in the pool "
            "(bundles: --generator_checkpoint)."
        )
    return {
        "verified": bool(counts),
        "num_images": len(items),
        "num_unrecorded": unrecorded,
        "images_per_generator": counts,
    }
