"""Generate a labelled synthetic dataset (N images per class) from a diffusion checkpoint."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from monai.transforms import CenterSpatialCrop
from tqdm.auto import tqdm

from monai_medienet.utils import resolve_device

from .amp import MixedPrecision
from .diffusion import DiffusionGenerator, load_diffusion_generator

__all__ = ["generate_synthetic", "iter_generated_batches"]


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
    progress: bool = True,
) -> dict[str, Any]:
    """Sample ``num_per_class`` images of every class and write them with ``SyntheticImageWriter`` + manifest.

    Image ``i`` (counted over all classes, class-major) starts from noise drawn with seed ``seed + i``, so each
    image is reproducible from its manifest row alone (same machine, same checkpoint, deterministic sampler).

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
        progress: show a progress bar.

    Returns:
        ``{"output_dir", "manifest", "num_images", "classes", "settings"}``.

    Raises:
        ValueError: for ``num_per_class < 1``, ``batch_size < 1``, an unknown class name or a crop larger than the
            images.
    """
    from monai_medienet.io import SyntheticImageWriter

    if num_per_class < 1:
        raise ValueError(f"generate_synthetic: num_per_class must be >= 1, got {num_per_class}.")
    if batch_size < 1:
        raise ValueError(f"generate_synthetic: batch_size must be >= 1, got {batch_size}.")
    dev = resolve_device(device)
    gen = load_diffusion_generator(checkpoint, device=dev, use_ema=use_ema)
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
    }
    writer = SyntheticImageWriter(output_dir, gen.classes, fmt=fmt, overwrite=overwrite, provenance=settings)
    jobs = [(gen.classes.index(name), seed + i) for i, (name, _) in enumerate(
        (n, k) for n in wanted for k in range(num_per_class))]  # fmt: skip
    written = 0
    bar = tqdm(total=len(jobs), desc="generating", disable=not progress)
    for images, chunk in iter_generated_batches(
        gen, jobs, guidance_scale, sampler, num_inference_steps, batch_size, dtype, crop_size
    ):
        for img, (lab, s) in zip(images, chunk):
            writer.write(img, lab, s)
            written += 1
        bar.update(len(chunk))
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
    print(
        f"=== inference finished ===\n  {written} images ({num_per_class} per class for {wanted}) in {output_dir}\n"
        f"  manifest: {manifest}\n  sampler: {sampler}, steps: {num_inference_steps}, guidance: {guidance_scale}, "
        f"seeds: {seed}..{seed + len(jobs) - 1}"
    )
    return summary


def iter_generated_batches(
    gen: DiffusionGenerator,
    jobs: Sequence[tuple[int, int]],
    guidance_scale: float = 2.0,
    sampler: str = "ddim",
    num_inference_steps: int = 50,
    batch_size: int = 64,
    dtype: torch.dtype | None = None,
    crop_size: Sequence[int] | None = None,
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

    Yields:
        ``(images (B, C, H, W) float32 in [0, 1] on CPU, the batch's jobs)``.

    Raises:
        ValueError: a crop larger than the images.
    """
    scheduler = gen.make_sampler(sampler)
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
