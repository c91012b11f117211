"""Glue of the diffusion stage: frozen autoencoder from its checkpoint, stored scale factor, sampler bundle.

The diffusion stage itself is MONAI's ``SupervisedTrainer`` with
:class:`~monai_medienet.engines.ClassConditionalDiffusionPrepareBatch` and
:class:`~monai_medienet.inferers.ClassConditionalLatentDiffusionInferer` (see the bundles); this module only holds
the small functions around it that configs call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from monai_medienet.handlers.checkpoint import load_training_checkpoint
from monai_medienet.inferers import ClassConditionalLatentDiffusionInferer, compute_scale_factor
from monai_medienet.networks import build_diffusion_unet
from monai_medienet.schedulers import check_clip_range, get_scheduler
from monai_medienet.utils import resolve_device

from .autoencoder import build_autoencoder

__all__ = [
    "DiffusionGenerator",
    "latent_shape_for",
    "load_autoencoder",
    "load_diffusion_generator",
    "resolve_scale_factor",
]


def latent_shape_for(autoencoder_config: dict[str, Any], image_size: Sequence[int] | int) -> tuple[int, ...]:
    """Latent shape ``(C, *S)`` that ``AutoencoderKL(**autoencoder_config)`` gives for images of ``image_size``.

    Args:
        autoencoder_config: with ``channels`` (one per level; ``len - 1`` downsamplings), ``latent_channels`` and
            ``spatial_dims``.
        image_size: spatial size (int for all dims, or one per dim).

    Raises:
        ValueError: when a spatial size is not divisible by the total downsampling.
    """
    dims = int(autoencoder_config["spatial_dims"])
    sizes = [int(image_size)] * dims if isinstance(image_size, int) else [int(s) for s in image_size]
    factor = 2 ** (len(autoencoder_config["channels"]) - 1)
    if any(s % factor for s in sizes):
        raise ValueError(f"latent_shape_for: image size {sizes} is not divisible by the downsampling {factor}.")
    return (int(autoencoder_config.get("latent_channels", 3)), *[s // factor for s in sizes])


def load_autoencoder(
    checkpoint: str | os.PathLike | dict[str, Any],
    device: str | torch.device | None = None,
    key: str = "autoencoder",
    frozen: bool = True,
) -> torch.nn.Module:
    """Rebuild the ``AutoencoderKL`` stored in a checkpoint (its ``autoencoder_config`` + weights ``state[key]``).

    Args:
        checkpoint: a checkpoint file or an already loaded checkpoint dict.
        device: target device (``"auto"``/None follows availability).
        key: name of the autoencoder weights in ``checkpoint["state"]``.
        frozen: eval mode and ``requires_grad_(False)``.

    Raises:
        KeyError: when the checkpoint has no ``autoencoder_config`` or no weights under ``key``.
    """
    ckpt = checkpoint if isinstance(checkpoint, dict) else load_training_checkpoint(checkpoint)
    if "autoencoder_config" not in ckpt or key not in ckpt.get("state", {}):
        raise KeyError(f"load_autoencoder: checkpoint lacks 'autoencoder_config' or state[{key!r}].")
    net = build_autoencoder(ckpt["autoencoder_config"])
    net.load_state_dict(ckpt["state"][key])
    net = net.to(resolve_device(device))
    if frozen:
        net.eval()
        net.requires_grad_(False)
    return net


def resolve_scale_factor(
    autoencoder: torch.nn.Module,
    loader: Iterable[Any],
    device: str | torch.device | None = None,
    resume_checkpoint: str | os.PathLike | None = None,
    fixed: float | None = None,
    max_batches: int | None = None,
) -> float:
    """The latent scale factor: a fixed value, the value stored in a checkpoint being resumed, or computed.

    Computed as ``1 / std`` of the training latents (core's ``compute_scale_factor``); a resumed run reuses the
    stored value, so the scale never changes during one training.

    Args:
        autoencoder: the frozen autoencoder.
        loader: training batches (dicts with ``"image"``).
        device: encoding device.
        resume_checkpoint: diffusion checkpoint of the run being resumed; used when it exists.
        fixed: explicit value (wins over everything).
        max_batches: limit on the batches used for the estimate.

    Returns:
        The scale factor.
    """
    if fixed is not None:
        return float(fixed)
    if resume_checkpoint is not None and Path(resume_checkpoint).is_file():
        ckpt = torch.load(resume_checkpoint, map_location="cpu", weights_only=True)
        if "scale_factor" in ckpt:
            return float(ckpt["scale_factor"])
    return compute_scale_factor(autoencoder, loader, device=resolve_device(device), max_batches=max_batches)


@dataclass
class DiffusionGenerator:
    """Everything needed to sample from a trained diffusion checkpoint."""

    network: torch.nn.Module
    autoencoder: torch.nn.Module
    inferer: ClassConditionalLatentDiffusionInferer
    classes: list[str]
    latent_shape: tuple[int, ...]
    scale_factor: float
    scheduler_config: dict[str, Any]
    checkpoint: dict[str, Any]

    @property
    def distilled_guidance_scale(self) -> float | None:
        """The guidance scale distilled into this network (bundle run id ``distill_guidance``), else ``None``: a
        distilled student is sampled with ``guidance_scale=1``."""
        distilled = self.checkpoint.get("guidance_distillation")
        return float(distilled["guidance_scale"]) if isinstance(distilled, Mapping) else None

    @property
    def step_distillation(self) -> dict[str, Any] | None:
        """The step-distillation record of this network (bundle run id ``distill_steps``: ``student_steps``,
        ``sampler``, ``timestep_spacing``, ...), else ``None``. Such a student is sampled with DDIM (``"dpmpp_1"``)
        on the trailing grid at ``student_steps`` steps."""
        record = self.checkpoint.get("step_distillation")
        return dict(record) if isinstance(record, Mapping) else None

    def make_sampler(
        self,
        name: str = "dpmpp_2m",
        clip_sample: bool | None = None,
        clip_sample_range: Sequence[float] | None = None,
        clip_sample_range_end: Sequence[float] | None = None,
        **overrides: Any,
    ) -> Any:
        """A sampler on the training noise schedule (``"ddpm"``, ``"ddim"``, ``"dpmpp_2m"``, ``"dpmpp_1"``).

        For a step-distilled network the DPM-Solver++ samplers use the trailing timestep grid it was trained on.

        Args:
            name: sampler name (:func:`~monai_medienet.schedulers.get_scheduler`).
            clip_sample: clamp the data prediction at every step (to the checkpoint's ``clip_sample_min`` /
                ``clip_sample_max``, default [-1, 1]); ``None`` keeps the checkpoint's ``scheduler_config``. The clamp
                changes what a guided sampler draws, by an amount that grows with the number of steps (docs/
                benchmarks.md, fifteenth session); unclamped, DPM-Solver++ converges in about 10 steps.
            clip_sample_range: ``(lo, hi)`` of the clamp, which it switches on unless ``clip_sample`` is ``False``
                (``None``: the checkpoint's range). A tighter clamp lets few-step samplers keep a guided model's
                class fidelity (chest X-ray: DPM-Solver++ 10 at ``(-2, 2)``; docs/benchmarks.md).
            clip_sample_range_end: DPM-Solver++ only: ``(lo, hi)`` of the clamp at the clean end of a clamp schedule
                (the range moves linearly in ``sigma_t`` from the start range at pure noise to this one;
                :class:`~monai_medienet.schedulers.DPMSolverMultistepScheduler`); ``None``: the same range at every
                step. Label agreement follows the clamp at high noise, the in-domain FID the clamp near the clean
                end (docs/benchmarks.md, sixteenth session).
            overrides: further constructor arguments that replace the checkpoint's ``scheduler_config`` entries
                (e.g. ``timestep_spacing="linspace"`` or ``clip_mode="data"`` for DPM-Solver++; an explicit
                ``timestep_spacing`` also replaces a step-distilled network's trailing grid).

        Raises:
            ValueError: for a ``clip_sample_range`` / ``clip_sample_range_end`` that is not ``(lo, hi)`` with
                ``lo < hi``, or a clamp schedule for a sampler other than DPM-Solver++ or with the clamp off.
        """
        config = dict(self.scheduler_config)
        owner = "DiffusionGenerator.make_sampler"
        if clip_sample_range is not None:
            lo, hi = check_clip_range(clip_sample_range, owner)
            config.update(clip_sample=True, clip_sample_min=lo, clip_sample_max=hi)
        if clip_sample_range_end is not None:
            if not str(name).startswith("dpmpp"):
                raise ValueError(f"{owner}: clip_sample_range_end is a DPM-Solver++ option, got sampler {name!r}.")
            config["clip_sample_range_end"] = check_clip_range(clip_sample_range_end, owner, "clip_sample_range_end")
        if clip_sample is not None:
            config["clip_sample"] = bool(clip_sample)
        config.update(overrides)
        if clip_sample_range_end is not None and not config.get("clip_sample", False):
            raise ValueError(
                f"{owner}: clip_sample_range_end needs the clamp on (clip_sample_range, or a checkpoint that clamps); "
                "it would be ignored."
            )
        if self.step_distillation is not None and str(name).startswith("dpmpp"):
            config.setdefault("timestep_spacing", self.step_distillation.get("timestep_spacing", "trailing"))
        return get_scheduler(name, **config)


def load_diffusion_generator(
    checkpoint: str | os.PathLike,
    device: str | torch.device | None = None,
    use_ema: bool = True,
) -> DiffusionGenerator:
    """Rebuild the denoiser (EMA weights by default), the frozen autoencoder and the inferer from one checkpoint.

    The diffusion checkpoint stores ``network_config`` (``{"name": ..., **kwargs}`` for ``build_diffusion_unet``),
    ``autoencoder_config``, ``scheduler_config``, ``scale_factor``, ``latent_shape``, ``classes`` and the weights
    ``state["network"]``, ``state["ema"]``, ``state["autoencoder"]``.

    Args:
        checkpoint: diffusion checkpoint file.
        device: target device.
        use_ema: load the EMA weights (else the raw training weights).

    Raises:
        KeyError: when a required entry is missing.
    """
    ckpt = load_training_checkpoint(checkpoint)
    for key in ("network_config", "autoencoder_config", "scheduler_config", "scale_factor", "classes"):
        if key not in ckpt:
            raise KeyError(f"load_diffusion_generator: checkpoint {checkpoint} has no {key!r}.")
    dev = resolve_device(device)
    cfg = dict(ckpt["network_config"])
    name = cfg.pop("name", "medienet")
    net = build_diffusion_unet(name, **{k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items()})
    weights_key = "ema" if use_ema and "ema" in ckpt["state"] else "network"
    net.load_state_dict(ckpt["state"][weights_key])
    net = net.to(dev).eval()
    ae = load_autoencoder(ckpt, device=dev)
    latent_shape = tuple(int(s) for s in ckpt["latent_shape"])
    scheduler = get_scheduler("ddpm", **ckpt["scheduler_config"])
    inferer = ClassConditionalLatentDiffusionInferer(
        scheduler, autoencoder=ae, scale_factor=float(ckpt["scale_factor"]), latent_shape=latent_shape
    )
    return DiffusionGenerator(
        network=net,
        autoencoder=ae,
        inferer=inferer,
        classes=list(ckpt["classes"]),
        latent_shape=latent_shape,
        scale_factor=float(ckpt["scale_factor"]),
        scheduler_config=dict(ckpt["scheduler_config"]),
        checkpoint=ckpt,
    )
