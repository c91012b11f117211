"""Check that items decode to usable images before training (corrupt files, NaN/Inf, wrong rank, mixed channels)."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence

from tqdm.auto import tqdm

from monai_medienet.transforms.loading import ImageLoadError, read_image_array

__all__ = ["check_on_error", "validate_items"]

logger = logging.getLogger(__name__)


def check_on_error(on_error: str, where: str) -> None:
    """Raise ``ValueError`` unless ``on_error`` is ``"raise"`` or ``"skip"``."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"{where}: on_error must be 'raise' or 'skip', got {on_error!r}.")


def _item_name(item: dict, key: str) -> str:
    img = item.get(key)
    if isinstance(img, (str, os.PathLike)):
        return str(img)
    return f"item {item.get('id', '<array>')!r}"


def validate_items(
    items: Sequence[dict],
    on_error: str = "raise",
    key: str = "image",
    check_channels: bool = True,
    progress: bool = False,
) -> tuple[list[dict], list[tuple[str, str]]]:
    """Decode every item once and keep the usable ones.

    Catches truncated/corrupt or unreadable files, non-image files, NaN/Inf pixels, arrays of the wrong rank and (with
    ``check_channels``) mixed channel counts or mixed 2D/3D images.

    Args:
        items: data dicts.
        on_error: ``"raise"`` (first problem raises, naming the file) or ``"skip"`` (log a warning per file, drop it,
            and report it in the returned list). For mixed channel counts ``"skip"`` keeps the most common count.
        key: image key.
        check_channels: require one channel count and one spatial rank across items.
        progress: show a tqdm bar.

    Returns:
        ``(good_items, skipped)`` with ``skipped`` a list of ``(file or item, reason)``.

    Raises:
        ImageLoadError: with ``on_error="raise"``, for the first bad item (message names the file).
        ValueError: invalid ``on_error``.
    """
    check_on_error(on_error, "validate_items")
    good: list[dict] = []
    kinds: list[tuple[int, int]] = []
    skipped: list[tuple[str, str]] = []
    for item in tqdm(items, desc="validate", disable=not progress):
        name = _item_name(item, key)
        try:
            arr, _ = read_image_array(item[key], name=None if isinstance(item[key], (str, os.PathLike)) else name)
        except ImageLoadError as e:
            if on_error == "raise":
                raise
            logger.warning(f"skipping {name}: {e}")
            skipped.append((name, str(e)))
            continue
        good.append(item)
        kinds.append((arr.shape[0], arr.ndim - 1))
    if check_channels and len(set(kinds)) > 1:
        counts = Counter(kinds)
        majority = counts.most_common(1)[0][0]
        examples = {k: _item_name(good[kinds.index(k)], key) for k in counts}
        desc = "; ".join(f"{c} channel(s), {d}D: {n} files, e.g. {examples[(c, d)]}" for (c, d), n in counts.items())
        if on_error == "raise":
            raise ImageLoadError(f"validate_items: mixed channel counts / dimensions across images: {desc}.")
        kept = []
        for item, k in zip(good, kinds):
            if k == majority:
                kept.append(item)
            else:
                reason = f"has {k[0]} channel(s) ({k[1]}D) but most images have {majority[0]} ({majority[1]}D)"
                logger.warning(f"skipping {_item_name(item, key)}: {reason}")
                skipped.append((_item_name(item, key), reason))
        good = kept
    if skipped:
        logger.warning(f"validate_items: skipped {len(skipped)} of {len(items)} item(s).")
    return good, skipped
