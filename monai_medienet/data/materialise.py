"""Stack a small image set in memory after one pass through a deterministic transform."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

__all__ = ["materialise"]


def materialise(
    items: Sequence[dict], transform: Callable, desc: str = "images", progress: bool = True
) -> tuple[torch.Tensor, np.ndarray]:
    """Pass every item once through a deterministic transform and stack the results in memory.

    Args:
        items: ``{"image": path | array, "label": int}`` dicts.
        transform: dict transform giving ``{"image": (C, H, W) in [0, 1], "label"}`` (e.g.
            ``monai_medienet.transforms.image_preprocessing``).
        desc: name of the set, for the progress bar and error messages.
        progress: show a tqdm bar.

    Returns:
        ``(images (N, C, H, W) float32, labels (N,) int64)``.

    Raises:
        ValueError: an empty set, images that are not ``(C, H, W)``, of different shapes, or outside ``[0, 1]``.
    """
    imgs, labels = [], []
    for it in tqdm(items, desc=desc, disable=not progress, leave=False):
        out = transform(dict(it))
        img = torch.as_tensor(out["image"]).float()
        if hasattr(img, "as_tensor"):
            img = img.as_tensor()
        if img.ndim != 3:
            raise ValueError(f"materialise: the transform must give (C, H, W) images, got {tuple(img.shape)}.")
        imgs.append(img)
        labels.append(int(torch.as_tensor(out["label"]).reshape(-1)[0]))
    if not imgs:
        raise ValueError(f"materialise: the {desc} set is empty.")
    shapes = {tuple(i.shape) for i in imgs}
    if len(shapes) != 1:
        raise ValueError(f"materialise: {desc} images have different shapes {sorted(shapes)}; resize or pad them.")
    x = torch.stack(imgs)
    if x.min() < -1e-3 or x.max() > 1 + 1e-3:
        raise ValueError(
            f"materialise: {desc} images must be in [0, 1] after the transform, got [{x.min():.3g}, {x.max():.3g}]."
        )
    return x, np.asarray(labels, dtype=np.int64)
