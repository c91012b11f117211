"""Pick a generator checkpoint by the data-copying test: the training snapshot whose samples sit as far from the
training images as new real images do (Meehan et al.'s C_T closest to 0).

Early in training the samples are farther from the training images than real held-out images (C_T > 0: blurred or
broken images); with a few hundred training images a diffusion model later drifts towards its training set
(C_T < 0: copying). The snapshot in between is the one worth sampling from, and it can be found without any
classifier and without touching the test split.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from monai_medienet.metrics import DataCopyingTest
from monai_medienet.utils import resolve_device

from .amp import MixedPrecision
from .diffusion import load_diffusion_generator
from .generation import center_crop, iter_generated_batches

__all__ = ["find_checkpoint_snapshots", "select_generator_checkpoint"]

_SNAPSHOT = re.compile(r"_iter(\d+)\.pt$")


def find_checkpoint_snapshots(
    checkpoint_dir: str | os.PathLike, name: str = "diffusion", min_iteration: int = 0
) -> list[Path]:
    """The snapshots ``<name>_iter<N>.pt`` that ``TrainingCheckpointSaver(n_saved > 0)`` kept, in training order,
    plus the latest ``<name>.pt`` when it is newer than every snapshot.

    Args:
        checkpoint_dir: the training run's checkpoint directory.
        name: the checkpointer's file stem.
        min_iteration: leave out checkpoints of earlier training iterations (e.g. score only the second half of a run
            whose first half is known to under-fit).

    Returns:
        Paths ordered by iteration.

    Raises:
        FileNotFoundError: when there is no checkpoint at all, or none at or after ``min_iteration``.
    """
    root = Path(checkpoint_dir)
    snaps = sorted(
        (int(m.group(1)), p) for p in root.glob(f"{name}_iter*.pt") if (m := _SNAPSHOT.search(p.name)) is not None
    )
    latest = root / f"{name}.pt"
    if latest.exists():
        # memory-mapped: reads the small engine state, not the weights
        ckpt = torch.load(latest, map_location="cpu", weights_only=False, mmap=True)
        it = int(ckpt.get("engine", {}).get("iteration", -1))
        if not snaps or it > snaps[-1][0]:
            snaps.append((it, latest))
    out = [p for it, p in snaps if it >= min_iteration]
    if not out:
        raise FileNotFoundError(
            f"find_checkpoint_snapshots: no {name}.pt or {name}_iter*.pt of iteration >= {min_iteration} in {root}."
        )
    return out


def select_generator_checkpoint(
    checkpoints: Sequence[str | os.PathLike],
    train_images: torch.Tensor | np.ndarray,
    heldout_images: torch.Tensor | np.ndarray,
    num_per_class: int = 100,
    guidance_scale: float = 2.0,
    sampler: str = "ddim",
    num_inference_steps: int = 50,
    seed: int = 0,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    crop_size: Sequence[int] | None = None,
    num_cells: int | None = None,
    min_per_cell: int = 20,
    output_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Score every checkpoint by the data-copying statistic of its samples and pick the one closest to 0.

    Every checkpoint samples the same ``num_per_class`` images per class from the same seeded noise (EMA weights);
    :class:`~monai_medienet.metrics.DataCopyingTest` compares their pixel distances to the nearest training image with
    those of the held-out real images.

    Args:
        checkpoints: diffusion checkpoints of one training run (e.g. :func:`find_checkpoint_snapshots`).
        train_images: ``(Nt, C, H, W)`` the generator's training images in [0, 1], preprocessed as for evaluation.
        heldout_images: ``(Nh, C, H, W)`` real images the generator never saw (the validation split; never the test
            split, which must stay untouched until the final evaluation).
        num_per_class: samples per class and checkpoint.
        guidance_scale: classifier-free guidance scale.
        sampler: sampler name (``"ddim"``, ``"dpmpp_2m"``, ...).
        num_inference_steps: solver steps.
        seed: base seed (image ``i`` starts from noise seeded ``seed + i``, as in ``generate_synthetic``).
        batch_size: images per sampling batch.
        device: compute device.
        precision: ``"fp32"``, ``"bf16"`` or ``"auto"``.
        crop_size: centre-crop the samples **and** the real images to this size before comparing (e.g. ``(28, 28)``
            for MedMNIST images zero-padded to 32).
        num_cells: k-means cells of the data-copying test (default: its own).
        min_per_cell: minimum samples per scored cell.
        output_dir: when given, write ``checkpoint_selection.json`` and ``checkpoint_selection.png`` (C_T against
            training iteration) there.
        progress: progress bar over checkpoints.

    Returns:
        ``{"selected": path, "criterion", "note", "scores": [{"checkpoint", "iteration", "epoch", "c_t", "verdict",
        "global_z", "global_auc", "num_cells_used", "num_cells"}, ...], "settings"}``; ``selected`` is ``None`` when
        no checkpoint has a finite statistic; ``note`` (also warned) says which way to look when even the selected
        snapshot copies or under-fits.

    Raises:
        ValueError: for no checkpoints, ``num_per_class < 1``, or real images whose shape differs from the samples'.
    """
    if not checkpoints:
        raise ValueError("select_generator_checkpoint: checkpoints must not be empty.")
    if num_per_class < 1:
        raise ValueError(f"select_generator_checkpoint: num_per_class must be >= 1, got {num_per_class}.")
    train, held = torch.as_tensor(train_images), torch.as_tensor(heldout_images)
    if crop_size is not None:
        train, held = center_crop(train.float(), crop_size), center_crop(held.float(), crop_size)
    dev = resolve_device(device)
    mp = MixedPrecision(precision, dev)
    dtype = None if mp.precision == "fp32" else mp.dtype
    if held.shape[1:] != train.shape[1:]:
        raise ValueError(
            f"select_generator_checkpoint: training images {tuple(train.shape[1:])} and held-out images "
            f"{tuple(held.shape[1:])} must have the same shape."
        )
    # k-means cells of the training images and held-out distances: computed once for all snapshots
    reference = DataCopyingTest(train, held, num_cells=num_cells, min_per_cell=min_per_cell, seed=0)
    scores: list[dict[str, Any]] = []
    for path in tqdm(list(checkpoints), desc="scoring checkpoints", disable=not progress):
        gen = load_diffusion_generator(path, device=dev, use_ema=True)
        jobs = [(c, seed + c * num_per_class + k) for c in range(len(gen.classes)) for k in range(num_per_class)]
        samples = torch.cat(
            [
                images
                for images, _ in iter_generated_batches(
                    gen, jobs, guidance_scale, sampler, num_inference_steps, batch_size, dtype, crop_size
                )
            ]
        )
        if samples.shape[1:] != train.shape[1:]:
            raise ValueError(
                f"select_generator_checkpoint: samples {tuple(samples.shape[1:])} and training images "
                f"{tuple(train.shape[1:])} must have the same shape."
            )
        res = reference(samples)
        engine = dict(gen.checkpoint.get("engine", {}))  # Ignite's state_dict: iteration, epoch_length, max_epochs
        if "epoch" not in engine and engine.get("epoch_length"):
            engine["epoch"] = int(engine.get("iteration", -1)) // int(engine["epoch_length"])
        scores.append(
            {
                "checkpoint": str(path),
                "iteration": int(engine.get("iteration", -1)),
                "epoch": int(engine.get("epoch", -1)),
                "c_t": res.c_t if math.isfinite(res.c_t) else None,
                "verdict": res.verdict,
                "global_z": res.global_z,
                "global_auc": res.global_auc,
                "num_cells_used": res.num_cells_used,
                "num_cells": res.num_cells,
            }
        )
    finite = [s for s in scores if s["c_t"] is not None]
    best = min(finite, key=lambda s: abs(s["c_t"])) if finite else None
    note = None
    if best is not None and best["verdict"] != "neither":
        note = (
            f"even the best snapshot (iteration {best['iteration']}) is {best['verdict']} (C_T {best['c_t']:+.2f}): "
            + (
                "train longer or keep later snapshots"
                if best["verdict"] == "underfitting"
                else "keep earlier snapshots or regularise the generator"
            )
        )
        warnings.warn(f"select_generator_checkpoint: {note}.", stacklevel=2)
    out = {
        "selected": best["checkpoint"] if best else None,
        "criterion": "smallest |C_T| (pixel space, held-out real images; Meehan et al. 2020)",
        "note": note,
        "scores": scores,
        "settings": {
            "num_per_class": int(num_per_class),
            "guidance_scale": float(guidance_scale),
            "sampler": sampler,
            "num_inference_steps": int(num_inference_steps),
            "seed": int(seed),
            "precision": mp.precision,
            "crop_size": [int(c) for c in crop_size] if crop_size is not None else None,
            "num_train": int(len(train)),
            "num_heldout": int(len(held)),
        },
    }
    if output_dir is not None:
        _write_selection(out, Path(output_dir))
    if best is not None:
        print(
            f"=== checkpoint selection ===\n  selected {best['checkpoint']} (iteration {best['iteration']}, "
            f"C_T {best['c_t']:+.2f}, {best['verdict']}) out of {len(scores)}"
        )
    return out


def _write_selection(out: dict[str, Any], root: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    root.mkdir(parents=True, exist_ok=True)
    (root / "checkpoint_selection.json").write_text(json.dumps(out, indent=2))
    its = [s["iteration"] for s in out["scores"] if s["c_t"] is not None]
    cts = [s["c_t"] for s in out["scores"] if s["c_t"] is not None]
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.axhspan(-3, 3, color="0.9", label="|C_T| < 3: neither copying nor under-fitting")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.plot(its, cts, "o-", color="tab:blue", label="C_T of the snapshot's samples")
    sel = next((s for s in out["scores"] if s["checkpoint"] == out["selected"]), None)
    if sel is not None:
        ax.plot([sel["iteration"]], [sel["c_t"]], "o", ms=12, mfc="none", mec="tab:red", label="selected")
    ax.set_xlabel("training iteration")
    ax.set_ylabel("data-copying C_T")
    ax.set_title("> 0: farther from the training images than real data; < 0: copying", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(root / "checkpoint_selection.png", dpi=120)
    plt.close(fig)
