"""Screen an already written synthetic pool for near copies of the generator's training images.

``generate_synthetic(..., near_copy_filter=...)`` screens images before they are written; this module applies the same
:class:`~monai_medienet.metrics.NearCopyFilter` to a pool that exists already (drawn without the screen, or pooled
from several generators trained on the same images) and writes a manifest of the images that pass. No image is copied
or deleted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .generation import center_crop

if TYPE_CHECKING:
    from monai_medienet.metrics import NearCopyFilter

__all__ = ["plot_nearest_pairs", "screen_synthetic"]


def plot_nearest_pairs(
    images: np.ndarray,
    train_images: np.ndarray | Any,
    distance: np.ndarray,
    nearest: np.ndarray,
    flagged: np.ndarray,
    path: str | os.PathLike,
    n: int = 8,
    title: str = "",
    compared: Callable[[np.ndarray], np.ndarray] | None = None,
    compared_label: str = "training,\nas compared",
) -> Path:
    """Picture of the ``n`` closest (image, nearest training image) pairs, closest first; flagged ones marked.

    Args:
        images: ``(N, C, H, W)`` screened images in ``[0, 1]``.
        train_images: ``(Nt, C, H, W)`` training images in ``[0, 1]``.
        distance: ``(N,)`` distance of each image to its nearest training image.
        nearest: ``(N,)`` index of that training image.
        flagged: ``(N,)`` bool, the near copies.
        path: PNG file to write.
        n: number of pairs shown.
        title: figure title.
        compared: maps ``(B, C, H, W)`` training images to the images the screen actually compared (e.g.
            :meth:`~monai_medienet.metrics.AutoencoderRoundTrip.reconstruct`); shown as a third row.
        compared_label: that row's label.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from monai_medienet.evaluation.report import _show as show  # the reports' grey / RGB image panel

    train_images = np.asarray(train_images)
    order = np.argsort(distance)[: max(1, min(n, len(distance)))]
    shown = train_images[nearest[order]]
    rows = [images[order], shown] + ([np.asarray(compared(shown))] if compared is not None else [])
    size = (1.5 * len(order) + 0.5, 1.8 * len(rows) + 0.1)
    fig, axes = plt.subplots(len(rows), len(order), figsize=size, squeeze=False)
    for j, i in enumerate(order):
        for row, imgs in enumerate(rows):
            show(axes[row, j], np.asarray(imgs[j], dtype=np.float32))
        axes[0, j].set_title(
            f"#{i}{' DROP' if flagged[i] else ''}\nd={distance[i]:.3g}", fontsize=7, color="red" if flagged[i] else "k"
        )
        axes[1, j].set_xlabel(f"train #{nearest[i]}", fontsize=7)
    axes[0, 0].set_ylabel("screened", fontsize=8)
    axes[1, 0].set_ylabel("nearest\ntraining", fontsize=8)
    if compared is not None:
        axes[2, 0].set_ylabel(compared_label, fontsize=8)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def _compared_images(screen: NearCopyFilter) -> Callable[[np.ndarray], np.ndarray] | None:
    """The screen's view of images, for pictures: the autoencoder round trip when that is its space, else ``None``."""
    from monai_medienet.metrics import AutoencoderRoundTrip

    extractor = screen.feature_extractor
    if not isinstance(extractor, AutoencoderRoundTrip):
        return None
    device = screen.device

    def compared(images: np.ndarray) -> np.ndarray:
        return extractor.reconstruct(torch.as_tensor(images, device=device)).cpu().numpy()

    return compared


def screen_synthetic(
    pool: str | os.PathLike,
    output_dir: str | os.PathLike,
    near_copy_filter: NearCopyFilter,
    transform: Callable,
    crop_size: Sequence[int] | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Drop the near copies of a written pool: ``output_dir/manifest.csv`` lists the images that pass the screen.

    Also writes ``output_dir/near_copies.png``: the closest image / training-image pairs (:func:`plot_nearest_pairs`).

    Every image of ``pool`` goes through ``transform`` (the training preprocessing, as in
    :func:`~monai_medienet.engines.build_near_copy_filter`) and, with ``crop_size``, is centre-cropped like the
    filter's images; images whose nearest training image is closer than the filter's threshold (or exact copies) are
    left out of the new manifest and listed in ``output_dir/near_copies.json``.

    Args:
        pool: a synthetic pool folder or its ``manifest.csv`` (written by ``generate_synthetic`` or
            :func:`~monai_medienet.io.pool_manifests`). Every image must come from a generator trained on the
            filter's training images (a pooled pool's generators share them; ``evaluate`` enforces it).
        output_dir: folder for the screened ``manifest.csv``, ``manifest.json`` and ``near_copies.json``.
        near_copy_filter: built from the generator's training images and held-out real images
            (:func:`~monai_medienet.engines.build_near_copy_filter`).
        transform: deterministic dict transform to ``(C, H, W)`` in ``[0, 1]``.
        crop_size: the crop the filter's images were given (the bundle's ``output_crop_size``); ``None``: no crop.
        overwrite: replace an existing screened manifest.
        progress: progress bar while loading.

    Returns:
        Summary: ``manifest`` (path), ``num_images``, ``num_dropped``, ``dropped_per_class`` (class name → count),
        ``fraction_dropped``, ``threshold``, ``percentile``, ``space`` (``"pixel"`` or the feature extractor's class
        name), ``nn_distance_median``, ``figure`` (the PNG's path).

    Raises:
        ValueError: an empty pool, images whose shape differs from the filter's, or the errors of
            :func:`~monai_medienet.io.filter_manifest`.
        FileNotFoundError: no manifest (or its sidecar) at ``pool``.
    """
    from monai_medienet.data import manifest_source, materialise
    from monai_medienet.io import filter_manifest, read_manifest

    csv_path = Path(pool).expanduser()
    csv_path = csv_path / "manifest.csv" if csv_path.is_dir() else csv_path
    out_csv = Path(output_dir).expanduser() / "manifest.csv"
    if out_csv.exists() and not overwrite:  # before the screen is computed, not after (filter_manifest checks too)
        raise ValueError(f"screen_synthetic: {out_csv} exists; pass overwrite=True to replace it.")
    records = read_manifest(csv_path)
    if not records:
        raise ValueError(f"screen_synthetic: {csv_path} lists no images.")
    items = manifest_source(csv_path).splits["train"]  # every row, in order (a bad row raises)
    if len(items) != len(records):
        raise ValueError(f"screen_synthetic: {csv_path} lists {len(records)} rows but {len(items)} images load.")
    images = materialise(items, transform, "near-copy screen: synthetic", progress)[0]
    if crop_size is not None:
        images = center_crop(images, crop_size)
    distance, nearest = near_copy_filter.nearest(images)
    flagged = near_copy_filter.is_near_copy(distance)
    settings = {
        "threshold": near_copy_filter.threshold,
        "percentile": near_copy_filter.percentile,
        "space": getattr(near_copy_filter, "space_name", "pixel"),
        "crop_size": None if crop_size is None else [int(c) for c in crop_size],
    }
    out_csv = filter_manifest(
        csv_path, output_dir, ~flagged, provenance={"near_copy_screen": settings}, overwrite=overwrite
    )
    classes = json.loads((out_csv.parent / "manifest.json").read_text())["classes"]
    labels = np.array([int(r["label"]) for r in records])
    dropped = [
        {
            "path": records[i]["path"],
            "label": int(labels[i]),
            "seed": records[i].get("seed"),
            "checkpoint_sha256": records[i].get("checkpoint_sha256"),
            "distance": float(distance[i]),
            "nearest_train_index": int(nearest[i]),
        }
        for i in np.flatnonzero(flagged)
    ]
    summary = {
        "manifest": str(out_csv),
        "source": str(csv_path.resolve()),
        "num_images": len(records),
        "num_dropped": len(dropped),
        "fraction_dropped": len(dropped) / len(records),
        "dropped_per_class": {name: int(np.sum(flagged & (labels == c))) for c, name in enumerate(classes)},
        "nn_distance_median": float(np.median(distance)),
        **settings,
    }
    Path(out_csv.parent, "near_copies.json").write_text(json.dumps({**summary, "dropped": dropped}, indent=2))
    summary["figure"] = str(
        plot_nearest_pairs(
            images,
            near_copy_filter.train_images,
            distance,
            nearest,
            flagged,
            out_csv.parent / "near_copies.png",
            title=f"{len(dropped)}/{len(records)} dropped; distance in {summary['space']} space, threshold "
            f"{near_copy_filter.threshold:.3g} ({near_copy_filter.percentile:g}th pct of held-out -> train)",
            compared=_compared_images(near_copy_filter),
            compared_label="training after\nround trip",
        )
    )
    print(
        f"screened {len(records)} images of {csv_path}: {len(dropped)} near copies dropped "
        f"{summary['dropped_per_class']} (threshold {near_copy_filter.threshold:.4g}, "
        f"{near_copy_filter.percentile:g}th percentile of held-out) -> {out_csv}"
    )
    return summary
