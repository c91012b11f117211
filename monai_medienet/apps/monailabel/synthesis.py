"""One labelled synthetic image per request from a MedIENet diffusion checkpoint (no MONAI Label needed)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from monai_medienet.engines import load_diffusion_generator
from monai_medienet.engines.generation import iter_generated_batches
from monai_medienet.schedulers import SCHEDULER_NAMES, check_clip_range
from monai_medienet.transforms.geometry import raster_affine

from .params import request_float, request_int, request_str
from .writing import result_path, write_nifti

__all__ = ["SynthesisInference"]

_OWNER = "SynthesisInference"


class SynthesisInference:
    """Sample one image of a requested class with the repository's sampling loop and write it as NIfTI.

    Sampling is :func:`~monai_medienet.engines.generation.iter_generated_batches` (the loop behind
    :func:`~monai_medienet.engines.generate_synthetic`): the image's initial noise is drawn with the request's
    ``seed``, so a request reproduces the image that ``generate_synthetic`` wrote for the same class, seed and
    sampler settings (same machine, same checkpoint).

    Args:
        checkpoint: diffusion checkpoint (``diffusion.pt`` of a bundle run), loaded once with
            :func:`~monai_medienet.engines.load_diffusion_generator`.
        device: compute device (``"auto"``/None: CUDA when available, else CPU).
        use_ema: sample with the EMA weights.
        crop_size: centre-crop the generated image to this spatial size (e.g. ``(28, 28)`` for the MedMNIST bundles,
            which pad 28 px images to 32); ``None``: the model's size.
        sampler: default sampler (one of ``SCHEDULER_NAMES``); ``None``: ``"dpmpp_2m"``, or the sampler a
            step-distilled checkpoint was trained for.
        num_inference_steps: default solver steps; ``None``: 25 (at most ``max_inference_steps``), or the student's
            steps of a step-distilled checkpoint.
        guidance_scale: default classifier-free guidance scale; ``None``: 2.0, or 1.0 for a guidance-distilled
            checkpoint.
        max_inference_steps: largest ``num_inference_steps`` a request may ask for (bounds the time of one request;
            never more than the training schedule's timesteps).
        clip_sample_range: ``(lo, hi)`` clamp of the predicted latent at every step, a server setting (``None``: the
            checkpoint's ``scheduler_config``); see ``DiffusionGenerator.make_sampler``.
        clip_sample_range_end: ``(lo, hi)`` at the clean end of a clamp schedule for DPM-Solver++ requests (needs
            ``clip_sample_range``; other samplers use ``clip_sample_range`` at every step), e.g. ``(-1.75, 1.75)``
            with ``(-2, 2)`` and 6 steps for the guidance-distilled chest X-ray network (docs/user_guide.md).

    Raises:
        FileNotFoundError: a missing checkpoint.
        KeyError: a checkpoint without the entries a diffusion checkpoint has.
        ValueError: a generator with more than one image channel, an unknown default ``sampler``, defaults out of
            range, a bad ``crop_size`` or clamp range, named in the message.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike,
        device: str | torch.device | None = None,
        use_ema: bool = True,
        crop_size: Sequence[int] | None = None,
        sampler: str | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        max_inference_steps: int = 200,
        clip_sample_range: Sequence[float] | None = None,
        clip_sample_range_end: Sequence[float] | None = None,
    ) -> None:
        self.clip_sample_range = (
            None if clip_sample_range is None else list(check_clip_range(clip_sample_range, _OWNER))
        )
        self.clip_sample_range_end = (
            None
            if clip_sample_range_end is None
            else list(check_clip_range(clip_sample_range_end, _OWNER, "clip_sample_range_end"))
        )
        if self.clip_sample_range_end is not None and self.clip_sample_range is None:
            raise ValueError(f"{_OWNER}: clip_sample_range_end needs clip_sample_range (the range at pure noise).")
        self.checkpoint = Path(checkpoint)
        if not self.checkpoint.is_file():
            raise FileNotFoundError(f"{_OWNER}: no diffusion checkpoint {str(checkpoint)!r}.")
        self.generator = load_diffusion_generator(self.checkpoint, device=device, use_ema=use_ema)
        self.use_ema = bool(use_ema)
        out_channels = int(self.generator.checkpoint["autoencoder_config"].get("out_channels", 1))
        if out_channels != 1:
            raise ValueError(f"{_OWNER}: only single-channel generators are served, got out_channels={out_channels}.")
        self.crop_size = None if crop_size is None else [int(c) for c in crop_size]
        if self.crop_size is not None and len(self.crop_size) != len(self.generator.latent_shape) - 1:
            raise ValueError(f"{_OWNER}: crop_size must have one size per spatial axis, got {crop_size!r}.")
        timesteps = int(self.generator.scheduler_config.get("num_train_timesteps", 1000))
        self.max_inference_steps = min(int(max_inference_steps), timesteps)
        if self.max_inference_steps < 1:
            raise ValueError(f"{_OWNER}: max_inference_steps must be >= 1, got {max_inference_steps!r}.")
        steps = self.generator.step_distillation or {}
        distilled = self.generator.distilled_guidance_scale
        self.defaults = {
            "sampler": str(sampler or steps.get("sampler") or "dpmpp_2m"),
            "num_inference_steps": int(
                num_inference_steps or steps.get("student_steps") or min(25, self.max_inference_steps)
            ),
            "guidance_scale": float(guidance_scale if guidance_scale is not None else (1.0 if distilled else 2.0)),
        }
        # the defaults go through the same checks as a request's values
        self._settings(self.defaults)

    @property
    def classes(self) -> list[str]:
        """Class names of the checkpoint; label ``i`` means ``classes[i]``."""
        return list(self.generator.classes)

    def _settings(self, request: Mapping[str, Any]) -> dict[str, Any]:
        d = getattr(self, "defaults", {})
        sampler = request_str(request, "sampler", d.get("sampler", "dpmpp_2m"), _OWNER, choices=SCHEDULER_NAMES)
        steps = request_int(request, "num_inference_steps", d.get("num_inference_steps", 25), _OWNER, minimum=1)
        if steps > self.max_inference_steps:
            raise ValueError(f"{_OWNER}: num_inference_steps must be <= {self.max_inference_steps}, got {steps!r}.")
        guidance = request_float(request, "guidance_scale", d.get("guidance_scale", 2.0), _OWNER, minimum=0.0)
        return {"sampler": sampler, "num_inference_steps": steps, "guidance_scale": guidance}

    def parse_request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Validate a request's sampling parameters.

        Request keys: ``"label"`` (class name, required), ``"seed"`` (int >= 0, default 0), ``"sampler"`` (one of
        ``SCHEDULER_NAMES``), ``"num_inference_steps"`` (1 .. ``max_inference_steps``), ``"guidance_scale"``
        (>= 0; 1 = conditional only); absent ones take the defaults.

        Args:
            request: the request dict (JSON values).

        Returns:
            ``{"label", "label_index", "seed", "sampler", "num_inference_steps", "guidance_scale"}``.

        Raises:
            ValueError: a missing or unknown class name, or a parameter of the wrong type or out of range, naming the
                parameter and the value.
        """
        label = request_str(request, "label", None, _OWNER, choices=self.classes)
        seed = request_int(request, "seed", 0, _OWNER, minimum=0)
        if seed >= 2**63:
            raise ValueError(f"{_OWNER}: seed must be < 2**63, got {seed!r}.")
        return {"label": label, "label_index": self.classes.index(label), "seed": seed, **self._settings(request)}

    @torch.no_grad()
    def sample(self, label_index: int, seed: int, sampler: str, num_inference_steps: int, guidance_scale: float):
        """One image of class ``label_index`` from noise seeded with ``seed``.

        Args:
            label_index: class index in ``[0, K)``.
            seed: noise seed.
            sampler: sampler name.
            num_inference_steps: solver steps.
            guidance_scale: classifier-free guidance scale.

        Returns:
            ``(C, H, W)`` float32 image in [0, 1] on CPU (``crop_size`` and the server's clamp applied).
        """
        images, _ = next(
            iter_generated_batches(
                self.generator,
                [(int(label_index), int(seed))],
                guidance_scale=float(guidance_scale),
                sampler=sampler,
                num_inference_steps=int(num_inference_steps),
                batch_size=1,
                crop_size=self.crop_size,
                clip_sample_range=self.clip_sample_range,
                clip_sample_range_end=self._clamp_end(sampler),
            )
        )
        return images[0]

    def _clamp_end(self, sampler: str) -> list[float] | None:
        """The clamp schedule's end range for ``sampler`` (DPM-Solver++ only)."""
        return self.clip_sample_range_end if str(sampler).startswith("dpmpp") else None

    def __call__(self, request: Mapping[str, Any], output_dir: str | os.PathLike | None = None) -> tuple[str, dict]:
        """Run one request (the MONAI Label ``InferTask.__call__`` contract); see :meth:`parse_request` for keys.

        Args:
            request: the request dict (other keys, e.g. MONAI Label's ``"image"``, are ignored).
            output_dir: folder of the result file (``None``: a new temporary file, which MONAI Label deletes after
                sending it).

        Returns:
            ``(result_file, result_json)``: the synthetic image as float32 NIfTI ``(H, W)`` in [0, 1] (affine
            :func:`~monai_medienet.transforms.raster_affine`: it opens upright, like a PNG, in ITK-based viewers) and
            ``{"label", "label_index", "seed", "sampler", "num_inference_steps", "guidance_scale", "classes",
            "image_shape", "crop_size", "clip_sample_range", "clip_sample_range_end", "use_ema", "checkpoint",
            "train_hash", "synthetic": true}`` (clamp ranges ``None`` = the checkpoint's).

        Raises:
            ValueError: see :meth:`parse_request`.
        """
        settings = self.parse_request(request)
        image = self.sample(
            settings["label_index"],
            settings["seed"],
            settings["sampler"],
            settings["num_inference_steps"],
            settings["guidance_scale"],
        )
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", settings["label"])
        stem = f"synthetic_{safe}_seed{settings['seed']}"
        path = write_nifti(image, result_path(output_dir, stem), affine=raster_affine())
        result = {
            **settings,
            "classes": self.classes,
            "image_shape": list(image.shape),
            "crop_size": self.crop_size,
            "clip_sample_range": self.clip_sample_range,
            "clip_sample_range_end": self._clamp_end(settings["sampler"]),
            "use_ema": self.use_ema,
            "checkpoint": str(self.checkpoint.resolve()),
            "train_hash": str(self.generator.checkpoint.get("train_hash", "")),
            "synthetic": True,
        }
        return str(path), result
