"""Class-conditional latent diffusion inferer (training call + guided sampling) and the latent scale factor."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
from monai.inferers import Inferer
from monai.networks.schedulers import DDPMScheduler, Scheduler
from torch import nn
from tqdm.auto import tqdm

__all__ = ["ClassConditionalLatentDiffusionInferer", "check_guidance_interval", "compute_scale_factor"]


def _first_param(module: nn.Module) -> torch.Tensor | None:
    return next(iter(module.parameters()), None)


def _batch_images(batch: Any, image_key: str) -> torch.Tensor:
    if isinstance(batch, Mapping):
        return batch[image_key]
    if isinstance(batch, (list, tuple)):
        return batch[0]
    return batch


class ClassConditionalLatentDiffusionInferer(Inferer):
    """Latent diffusion with class labels and classifier-free guidance, usable as a MONAI engine ``inferer``.

    MONAI's ``SupervisedTrainer`` calls ``inferer(inputs, network, *args, **kwargs)`` with only the diffusion
    network, so this inferer holds the (frozen) autoencoder itself. With ``autoencoder=None`` the inputs are used
    as they are (pixel-space diffusion or pre-encoded latents); the scale factor is applied either way.

    Training call (``__call__``): ``z = encode_stage_2_inputs(images) * scale_factor``; ``z_t = add_noise(z, noise,
    t)``; return ``network(z_t, timesteps=t, class_labels=y)``. Pair it with
    :class:`monai_medienet.engines.ClassConditionalDiffusionPrepareBatch`, which supplies ``noise``, ``timesteps``
    and ``class_labels`` (with label dropout) as keyword arguments.

    Sampling (:meth:`sample`): start from seeded Gaussian latents, run the scheduler with classifier-free guidance
    ``eps = eps_null + s * (eps_cond - eps_null)`` (one batched forward of ``[cond; null]``), then decode
    ``decode_stage_2_outputs(z / scale_factor)``.

    The network must accept ``network(x, timesteps=t, class_labels=y)`` and expose ``null_class_index`` (or
    ``num_classes``), directly or on the model inside a DDP / ``DataParallel`` (``.module``) or ``torch.compile``
    (``._orig_mod``) wrapper; otherwise pass ``null_class_index`` here.

    Args:
        scheduler: the training noise scheduler (MONAI ``Scheduler``; used for ``add_noise`` and as the default
            sampler).
        autoencoder: a MONAI ``AutoencoderKL``-like model with ``encode_stage_2_inputs`` / ``decode_stage_2_outputs``,
            or ``None``. It is put in eval mode and its parameters are frozen (``requires_grad_(False)``).
        scale_factor: latents are multiplied by it after encoding and divided by it before decoding
            (see :func:`compute_scale_factor`).
        latent_shape: ``(C, *spatial)`` of one latent, the default shape for :meth:`sample`.
        null_class_index: label of the "no class" token when the network (or the model it wraps) exposes neither
            ``null_class_index`` nor ``num_classes``.

    Raises:
        ValueError: on a non-positive ``scale_factor``, a malformed ``latent_shape`` or an autoencoder without the
            stage-2 methods.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        autoencoder: nn.Module | None = None,
        scale_factor: float = 1.0,
        latent_shape: Sequence[int] | None = None,
        null_class_index: int | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if not float(scale_factor) > 0:
            raise ValueError(f"{name}: scale_factor must be > 0, got {scale_factor}.")
        if latent_shape is not None and (len(latent_shape) < 2 or any(int(s) < 1 for s in latent_shape)):
            raise ValueError(f"{name}: latent_shape must be (C, *spatial) with positive sizes, got {latent_shape}.")
        if autoencoder is not None and not (
            hasattr(autoencoder, "encode_stage_2_inputs") and hasattr(autoencoder, "decode_stage_2_outputs")
        ):
            raise ValueError(
                f"{name}: autoencoder must provide encode_stage_2_inputs and decode_stage_2_outputs, "
                f"got {type(autoencoder).__name__}."
            )
        self.scheduler = scheduler
        self.autoencoder = autoencoder
        if autoencoder is not None:
            autoencoder.eval()
            autoencoder.requires_grad_(False)
        self.scale_factor = float(scale_factor)
        self.latent_shape = tuple(int(s) for s in latent_shape) if latent_shape is not None else None
        self.null_class_index = null_class_index

    # ----------------------------------------------------------------------------------------------- helpers
    def _null_index(self, network: nn.Module) -> int:
        """The "no class" label: the network's ``null_class_index`` (else ``num_classes``), looked up through
        DDP / ``DataParallel`` (``.module``) and ``torch.compile`` (``._orig_mod``) wrappers, else the constructor's
        ``null_class_index``."""
        idx = None
        net: Any = network
        for _ in range(8):  # nested wrappers, e.g. compile(DDP(model))
            idx = getattr(net, "null_class_index", None)
            if idx is None:
                idx = getattr(net, "num_classes", None)
            inner = getattr(net, "_orig_mod", None)
            if inner is None:
                inner = getattr(net, "module", None)
            if idx is not None or not isinstance(inner, nn.Module):
                break
            net = inner
        if idx is None:
            idx = self.null_class_index
        if idx is None:
            raise ValueError(
                f"{type(self).__name__}: cannot tell the null class of {type(network).__name__}; "
                "pass null_class_index to the inferer."
            )
        return int(idx)

    def _labels(self, class_labels: Any, batch: int | None, null: int, device: torch.device) -> torch.Tensor:
        if class_labels is None:
            if batch is None:
                raise ValueError(f"{type(self).__name__}: class_labels=None needs a batch size.")
            return torch.full((batch,), null, dtype=torch.long, device=device)
        labels = torch.as_tensor(class_labels, device=device).reshape(-1).long()
        if batch is not None and labels.shape[0] != batch:
            raise ValueError(f"{type(self).__name__}: expected {batch} class labels, got {labels.shape[0]}.")
        return labels

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``(B, C_img, *S_img)`` -> scaled latents ``(B, C, *S)`` (no gradient)."""
        if self.autoencoder is None:
            return images * self.scale_factor
        self.autoencoder.to(images.device)
        return self.autoencoder.encode_stage_2_inputs(images) * self.scale_factor

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents ``(B, C, *S)`` -> float32 images ``(B, C_img, *S_img)`` in the autoencoder's range."""
        z = latents.float() / self.scale_factor
        if self.autoencoder is None:
            return z
        self.autoencoder.to(z.device)
        return self.autoencoder.decode_stage_2_outputs(z).float()

    # ---------------------------------------------------------------------------------------------- training
    def __call__(  # type: ignore[override]
        self,
        inputs: torch.Tensor,
        diffusion_model: nn.Module,
        noise: torch.Tensor,
        timesteps: torch.Tensor,
        class_labels: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        """Training / validation forward: encode, add noise, predict.

        Args:
            inputs: images ``(B, C_img, *S_img)`` (or latents when ``autoencoder=None``).
            diffusion_model: the denoising network.
            noise: Gaussian noise shaped like the latents, ``(B, C, *S)``.
            timesteps: ``(B,)`` integer timesteps.
            class_labels: ``(B,)`` labels (``null_class_index`` = no class); ``None`` -> null class for all.
            kwargs: ignored (keeps the engine's extra keyword arguments harmless).

        Returns:
            The network prediction ``(B, C, *S)`` (compared with the engine's target, e.g. the noise).

        Raises:
            ValueError: when ``noise`` does not match the latent shape.
        """
        latents = self.encode(inputs)
        if noise.shape != latents.shape:
            raise ValueError(
                f"{type(self).__name__}: noise shape {tuple(noise.shape)} does not match the latent shape "
                f"{tuple(latents.shape)}; give the PrepareBatch latent_shape={tuple(latents.shape[1:])}."
            )
        noisy = self.scheduler.add_noise(original_samples=latents, noise=noise.to(latents), timesteps=timesteps)
        labels = self._labels(class_labels, latents.shape[0], self._null_index(diffusion_model), latents.device)
        return diffusion_model(noisy, timesteps=timesteps, class_labels=labels)

    # ---------------------------------------------------------------------------------------------- sampling
    def guided_prediction(
        self,
        diffusion_model: nn.Module,
        x: torch.Tensor,
        timesteps: torch.Tensor,
        class_labels: torch.Tensor,
        guidance_scale: float = 1.0,
    ) -> torch.Tensor:
        """Classifier-free guided prediction ``out_null + s * (out_cond - out_null)``.

        One forward pass on the concatenated batch ``[cond; null]``; with ``guidance_scale == 1`` only the
        conditional half is evaluated (the null term cancels exactly).

        Args:
            diffusion_model: the denoising network.
            x: noisy latents ``(B, C, *S)``.
            timesteps: ``(B,)`` timesteps.
            class_labels: ``(B,)`` labels.
            guidance_scale: ``s``; 0 gives the unconditional, 1 the conditional prediction.

        Returns:
            Guided prediction ``(B, C, *S)``.
        """
        if guidance_scale == 1.0:
            return diffusion_model(x, timesteps=timesteps, class_labels=class_labels)
        null = torch.full_like(class_labels, self._null_index(diffusion_model))
        out = diffusion_model(
            torch.cat([x, x]), timesteps=torch.cat([timesteps, timesteps]), class_labels=torch.cat([class_labels, null])
        )
        cond, uncond = out.chunk(2)
        return uncond + guidance_scale * (cond - uncond)

    @torch.no_grad()
    def sample(
        self,
        diffusion_model: nn.Module,
        class_labels: Sequence[int] | torch.Tensor,
        latent_shape: Sequence[int] | None = None,
        guidance_scale: float = 3.0,
        num_inference_steps: int = 20,
        scheduler: Scheduler | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        noise: torch.Tensor | None = None,
        dtype: torch.dtype | None = None,
        progress: bool = True,
        decode: bool = True,
        guidance_interval: Sequence[float] | None = None,
    ) -> torch.Tensor:
        """Generate one image per class label.

        Args:
            diffusion_model: the trained denoising network (its device is used).
            class_labels: ``B`` labels (list or ``(B,)`` tensor); the null index gives unconditional samples.
            latent_shape: ``(C, *S)`` of one latent; defaults to the constructor's ``latent_shape`` (ignored when
                ``noise`` is given).
            guidance_scale: classifier-free guidance scale ``s`` (1 = conditional only, 0 = unconditional).
            num_inference_steps: solver steps. MONAI's DDPM is only exact on the full training schedule, so with a
                ``DDPMScheduler`` the full ``num_train_timesteps`` are used (a warning is given otherwise).
            scheduler: sampler (e.g. from :func:`monai_medienet.schedulers.get_scheduler`); default: the training
                scheduler. Its timesteps are (re)set here.
            seed: seed of a fresh CPU generator (used when ``generator`` is None).
            generator: CPU ``torch.Generator`` for the initial noise and stochastic samplers (DDPM).
            noise: explicit initial latents ``(B, C, *S)``, instead of drawing them.
            dtype: e.g. ``torch.bfloat16``: a copy of the network is cast ONCE to this dtype (no autocast) and run
                in it; the sampler state stays float32. A network whose weights already are in ``dtype`` is used
                as it is (cast it once yourself when you call ``sample`` repeatedly).
            progress: show a tqdm progress bar.
            decode: decode with the autoencoder (else return the unscaled latents ``z / scale_factor``).
            guidance_interval: ``(lo, hi)`` with ``0 <= lo < hi <= 1``: apply guidance only at steps whose timestep
                ``t`` satisfies ``lo <= t / num_train_timesteps <= hi``; the other steps run the conditional branch
                alone (half the batch, so they cost half). ``None`` guides every step. Guidance in a limited
                interval of noise levels (Kynkaenniemi et al., NeurIPS 2024) keeps the class signal of the
                middle noise levels and skips the high-noise steps, where guidance mostly removes diversity, and
                the low-noise steps, where it barely changes the image.

        Returns:
            float32 images ``(B, C_img, *S_img)`` in the autoencoder's output range (or latents if not decoding).

        Raises:
            ValueError: when no latent shape is known, the labels are empty / out of range or the guidance
                interval is malformed.
        """
        name = type(self).__name__
        interval = check_guidance_interval(guidance_interval, name)
        param = _first_param(diffusion_model)
        device = param.device if param is not None else torch.device("cpu")
        labels = self._labels(class_labels, None, 0, device)
        null = self._null_index(diffusion_model)
        if labels.numel() == 0:
            raise ValueError(f"{name}: class_labels must not be empty.")
        if bool((labels < 0).any()) or bool((labels > null).any()):  # checked once, before the loop
            raise ValueError(f"{name}: class labels must be in [0, {null}], got {labels.tolist()}.")
        batch = labels.shape[0]
        if generator is None:
            generator = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        if noise is None:
            shape = tuple(latent_shape) if latent_shape is not None else self.latent_shape
            if shape is None:
                raise ValueError(f"{name}: give latent_shape (here or in the constructor) or noise.")
            noise = torch.randn((batch, *shape), generator=generator, dtype=torch.float32)
        elif noise.shape[0] != batch:
            raise ValueError(f"{name}: noise has batch {noise.shape[0]} but {batch} labels were given.")
        x = noise.to(device=device, dtype=torch.float32)

        scheduler = scheduler if scheduler is not None else self.scheduler
        if isinstance(scheduler, DDPMScheduler) and num_inference_steps != scheduler.num_train_timesteps:
            warnings.warn(
                f"{name}: DDPMScheduler is sampled on its full training schedule "
                f"({scheduler.num_train_timesteps} steps), not {num_inference_steps}.",
                stacklevel=3,
            )
            num_inference_steps = scheduler.num_train_timesteps
        scheduler.set_timesteps(num_inference_steps, device=device)
        step_ts = [int(t) for t in scheduler.timesteps.tolist()]  # one host copy, before the loop
        n_train = int(scheduler.num_train_timesteps)
        scales = [
            guidance_scale if interval is None or interval[0] <= t / n_train <= interval[1] else 1.0 for t in step_ts
        ]

        model = diffusion_model
        if dtype is not None and dtype != torch.float32:
            first = next(diffusion_model.parameters(), None)
            if first is not None and first.dtype != dtype:  # weights already in `dtype`: use them as they are
                model = copy.deepcopy(diffusion_model).to(dtype=dtype)  # cast the weights once per call
        was_training = diffusion_model.training
        model.eval()
        run_dtype = dtype if dtype is not None else torch.float32
        try:
            for t, scale in tqdm(list(zip(step_ts, scales)), desc="sampling", disable=not progress, leave=False):
                t_batch = torch.full((batch,), t, dtype=torch.long, device=device)
                out = self.guided_prediction(model, x.to(run_dtype), t_batch, labels, scale).float()
                x, _ = scheduler.step(out, t, x, generator=generator)
        finally:
            diffusion_model.train(was_training)
        return self.decode(x) if decode else x.float() / self.scale_factor


def check_guidance_interval(interval: Sequence[float] | None, owner: str) -> tuple[float, float] | None:
    """Validate a guidance interval ``(lo, hi)`` of timestep fractions, ``0 <= lo < hi <= 1``.

    Args:
        interval: ``(lo, hi)`` or ``None`` (guide every step).
        owner: name put at the front of the error message (the calling class or function).

    Returns:
        ``(lo, hi)`` as floats, or ``None``.

    Raises:
        ValueError: when ``interval`` is not two numbers with ``0 <= lo < hi <= 1``.
    """
    if interval is None:
        return None
    vals = [float(v) for v in interval]
    if len(vals) != 2 or not 0.0 <= vals[0] < vals[1] <= 1.0:
        raise ValueError(f"{owner}: guidance_interval must be (lo, hi) with 0 <= lo < hi <= 1, got {interval!r}.")
    return vals[0], vals[1]


@torch.no_grad()
def compute_scale_factor(
    autoencoder: nn.Module,
    batches_or_loader: Iterable[Any],
    device: str | torch.device | None = None,
    image_key: str = "image",
    max_batches: int | None = None,
    progress: bool = False,
) -> float:
    """Latent scale factor ``1 / std`` of the autoencoder's training latents (Rombach et al., LDM).

    Args:
        autoencoder: model with ``encode_stage_2_inputs`` (e.g. MONAI's ``AutoencoderKL``).
        batches_or_loader: iterable of image tensors ``(B, C, *S)``, ``(image, label)`` tuples or dicts holding
            ``image_key`` (e.g. a MONAI ``DataLoader``).
        device: device to encode on (default: the autoencoder's).
        image_key: key of the images in dict batches.
        max_batches: stop after this many batches.
        progress: show a tqdm bar.

    Returns:
        ``1 / std`` of all latent values, as a Python float.

    Raises:
        ValueError: when no data was seen or the latents are constant.
    """
    param = _first_param(autoencoder)
    dev = torch.device(device) if device is not None else (param.device if param is not None else torch.device("cpu"))
    was_training = autoencoder.training
    autoencoder.eval()
    total = torch.zeros((), dtype=torch.float64)
    total_sq = torch.zeros((), dtype=torch.float64)
    count = 0
    try:
        for i, batch in enumerate(tqdm(batches_or_loader, desc="scale factor", disable=not progress, leave=False)):
            if max_batches is not None and i >= max_batches:
                break
            z = autoencoder.encode_stage_2_inputs(_batch_images(batch, image_key).to(dev)).double().cpu()
            total += z.sum()
            total_sq += (z * z).sum()
            count += z.numel()
    finally:
        autoencoder.train(was_training)
    if count == 0:
        raise ValueError("compute_scale_factor: no batches were given.")
    var = (total_sq / count - (total / count) ** 2).item() * count / max(count - 1, 1)
    if not var > 0:
        raise ValueError(f"compute_scale_factor: latent variance is {var}; cannot scale.")
    return float(1.0 / var**0.5)
