"""PrepareBatch for class-conditional (latent) diffusion training with MONAI's SupervisedTrainer."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from monai.engines.utils import DiffusionPrepareBatch

__all__ = ["ClassConditionalDiffusionPrepareBatch", "GuidanceDistillationPrepareBatch"]


class ClassConditionalDiffusionPrepareBatch(DiffusionPrepareBatch):
    """Noise, timesteps and (dropped-out) class labels for one diffusion training batch.

    Use as ``prepare_batch`` of MONAI's ``SupervisedTrainer`` together with
    :class:`monai_medienet.inferers.ClassConditionalLatentDiffusionInferer` (the engine's ``_iteration`` is used
    as it is). Returns ``(images, target, (), {"noise": noise, "timesteps": t, "class_labels": y})`` where
    ``target`` is the noise (epsilon prediction), ``noise`` has the latent shape ``(B, *latent_shape)`` (image shape
    when ``latent_shape`` is None) and each label is replaced by the null class with probability ``cond_drop_prob``
    (classifier-free guidance training). Batches without labels train the null class only.

    Random draws use this object's own CPU generator when ``seed`` or ``generator`` is given (reproducible
    regardless of the global RNG), else the global RNG; they are made on the CPU and then moved to ``device``.

    Args:
        num_train_timesteps: timesteps of the training scheduler; ``t`` is drawn uniformly from ``[0, T)``.
        num_classes: number of real classes; the null class is ``num_classes``.
        latent_shape: ``(C, *S)`` of one latent, or None for pixel-space diffusion (noise shaped like the images).
        cond_drop_prob: probability to replace a label by the null class, in ``[0, 1]``.
        image_key: key of the images in dict batches.
        label_key: key of the labels in dict batches (missing key -> null class).
        seed: seed of an own ``torch.Generator``.
        generator: an explicit CPU ``torch.Generator`` (wins over ``seed``).

    Raises:
        ValueError: on invalid sizes or probabilities.
    """

    def __init__(
        self,
        num_train_timesteps: int,
        num_classes: int,
        latent_shape: Sequence[int] | None = None,
        cond_drop_prob: float = 0.1,
        image_key: str = "image",
        label_key: str = "label",
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        name = type(self).__name__
        if num_train_timesteps < 1:
            raise ValueError(f"{name}: num_train_timesteps must be >= 1, got {num_train_timesteps}.")
        if num_classes < 1:
            raise ValueError(f"{name}: num_classes must be >= 1, got {num_classes}.")
        if not 0.0 <= cond_drop_prob <= 1.0:
            raise ValueError(f"{name}: cond_drop_prob must be in [0, 1], got {cond_drop_prob}.")
        if latent_shape is not None and (len(latent_shape) < 2 or any(int(s) < 1 for s in latent_shape)):
            raise ValueError(f"{name}: latent_shape must be (C, *spatial) with positive sizes, got {latent_shape}.")
        super().__init__(num_train_timesteps=num_train_timesteps, condition_name=None)
        self.num_classes = int(num_classes)
        self.null_class_index = int(num_classes)
        self.latent_shape = tuple(int(s) for s in latent_shape) if latent_shape is not None else None
        self.cond_drop_prob = float(cond_drop_prob)
        self.image_key = image_key
        self.label_key = label_key
        if generator is None and seed is not None:
            generator = torch.Generator().manual_seed(int(seed))
        self.generator = generator

    def get_noise(self, images: torch.Tensor) -> torch.Tensor:
        """Standard normal noise, ``(B, *latent_shape)`` (or the image shape), float32 on the CPU."""
        shape = (images.shape[0], *self.latent_shape) if self.latent_shape is not None else tuple(images.shape)
        return torch.randn(shape, generator=self.generator, dtype=torch.float32)

    def get_timesteps(self, images: torch.Tensor) -> torch.Tensor:
        """Uniform integer timesteps in ``[0, num_train_timesteps)``, shape ``(B,)``, on the CPU."""
        return torch.randint(0, self.num_train_timesteps, (images.shape[0],), generator=self.generator)

    def get_class_labels(self, labels: Any, batch: int) -> torch.Tensor:
        """Labels as ``(B,)`` long with label dropout to the null class applied (CPU).

        Args:
            labels: ``(B,)`` / ``(B, 1)`` integer labels in ``[0, num_classes)``, or None (all null).
            batch: batch size ``B``.

        Raises:
            ValueError: on a label count different from ``B`` or labels outside ``[0, num_classes]``.
        """
        if labels is None:
            return torch.full((batch,), self.null_class_index, dtype=torch.long)
        labels = torch.as_tensor(labels).detach().cpu().reshape(-1).long()
        if labels.shape[0] != batch:
            raise ValueError(f"{type(self).__name__}: expected {batch} labels, got shape {tuple(labels.shape)}.")
        if bool((labels < 0).any()) or bool((labels > self.null_class_index).any()):
            raise ValueError(
                f"{type(self).__name__}: labels must be in [0, {self.num_classes}], got {labels.tolist()}."
            )
        if self.cond_drop_prob > 0:
            drop = torch.rand(batch, generator=self.generator) < self.cond_drop_prob
            labels = torch.where(drop, torch.full_like(labels, self.null_class_index), labels)
        return labels

    def __call__(
        self,
        batchdata: Mapping[str, Any] | Sequence[Any] | torch.Tensor,
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple, dict[str, torch.Tensor]]:
        """Prepare one batch (see the class docstring).

        Args:
            batchdata: dict with ``image_key`` (and ``label_key``), an ``(images, labels)`` pair or an image tensor.
            device: target device.
            non_blocking: passed to ``Tensor.to``.
            kwargs: further ``Tensor.to`` arguments.

        Returns:
            ``(images, noise, (), {"noise": (B, *latent_shape), "timesteps": (B,), "class_labels": (B,)})``.
        """
        if isinstance(batchdata, Mapping):
            images, labels = batchdata[self.image_key], batchdata.get(self.label_key)
        elif isinstance(batchdata, (list, tuple)):
            images, labels = batchdata[0], (batchdata[1] if len(batchdata) > 1 else None)
        else:
            images, labels = batchdata, None
        images = torch.as_tensor(images).to(device, non_blocking=non_blocking, **kwargs)
        batch = images.shape[0]
        noise = self.get_noise(images).to(device, non_blocking=non_blocking, **kwargs)
        timesteps = self.get_timesteps(images).to(device, non_blocking=non_blocking)
        class_labels = self.get_class_labels(labels, batch).to(device, non_blocking=non_blocking)
        target = self.get_target(images, noise, timesteps)
        return images, target, (), {"noise": noise, "timesteps": timesteps, "class_labels": class_labels}


class GuidanceDistillationPrepareBatch(ClassConditionalDiffusionPrepareBatch):
    """Targets for distilling classifier-free guidance into a student that needs one forward pass per step.

    The first stage of guidance distillation (Meng et al., CVPR 2023) for one fixed guidance scale ``s``: the
    student learns ``eps_s(z_t, t, y) = eps_null + s * (eps_y - eps_null)`` of a frozen teacher, so sampling the
    student with ``guidance_scale=1`` costs half the network evaluations of guided sampling.

    Each batch is encoded once with the teacher's inferer (``z = encode(images)``, scaled latents), noised with the
    drawn noise and timesteps (``z_t = add_noise(z, noise, t)``) and the teacher's guided prediction on ``z_t`` is
    the target. The returned inputs are the latents ``z``, so the trainer's inferer must add the same noise and not
    encode again (AutoencoderKL's encoder samples): use
    ``ClassConditionalLatentDiffusionInferer(scheduler, autoencoder=None, scale_factor=1.0)``.

    Args:
        teacher: the trained denoiser, frozen here (eval mode, ``requires_grad_(False)``; with ``teacher_dtype`` a
            cast copy is frozen and the given module is left untouched).
        teacher_inferer: a :class:`~monai_medienet.inferers.ClassConditionalLatentDiffusionInferer` holding the
            teacher's autoencoder, scale factor and training scheduler (``encode``, ``scheduler.add_noise`` and
            ``guided_prediction`` are used).
        guidance_scale: ``s`` distilled into the student, > 0 (1 distils the plain conditional prediction).
        num_train_timesteps: timesteps of the training scheduler; ``t`` is drawn uniformly from ``[0, T)``.
        num_classes: number of real classes; the null class is ``num_classes``.
        latent_shape: ``(C, *S)`` of one latent.
        cond_drop_prob: probability to replace a label by the null class (the student then also learns the
            teacher's unconditional prediction, which guided sampling never asks for: default 0).
        teacher_dtype: dtype of the teacher's forward passes (``torch.bfloat16`` halves their cost on CPUs with
            native bf16; the target is returned as float32). The teacher's weights are cast once, here.
        image_key: key of the images in dict batches.
        label_key: key of the labels in dict batches.
        seed: seed of an own ``torch.Generator``.
        generator: an explicit CPU ``torch.Generator`` (wins over ``seed``).

    Raises:
        ValueError: on a non-positive ``guidance_scale``, a missing ``latent_shape`` or the base class's errors.
    """

    def __init__(
        self,
        teacher: torch.nn.Module,
        teacher_inferer: Any,
        guidance_scale: float,
        num_train_timesteps: int,
        num_classes: int,
        latent_shape: Sequence[int],
        cond_drop_prob: float = 0.0,
        teacher_dtype: torch.dtype | None = None,
        image_key: str = "image",
        label_key: str = "label",
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        name = type(self).__name__
        if latent_shape is None:
            raise ValueError(f"{name}: latent_shape is required (the student is trained on latents).")
        if not float(guidance_scale) > 0:
            raise ValueError(f"{name}: guidance_scale must be > 0, got {guidance_scale}.")
        for attr in ("encode", "guided_prediction", "scheduler"):
            if not hasattr(teacher_inferer, attr):
                raise ValueError(
                    f"{name}: teacher_inferer needs encode, guided_prediction and scheduler "
                    f"(a ClassConditionalLatentDiffusionInferer), got {type(teacher_inferer).__name__}."
                )
        super().__init__(
            num_train_timesteps, num_classes, latent_shape, cond_drop_prob, image_key, label_key, seed, generator
        )
        if teacher_dtype is not None:  # a cast copy: the caller's network (e.g. a student's source) stays as it is
            teacher = copy.deepcopy(teacher).to(dtype=teacher_dtype)
        self.teacher = teacher.eval().requires_grad_(False)
        self.teacher_dtype = teacher_dtype
        self.teacher_inferer = teacher_inferer
        self.guidance_scale = float(guidance_scale)

    @torch.no_grad()
    def teacher_target(self, noisy: torch.Tensor, timesteps: torch.Tensor, class_labels: torch.Tensor) -> torch.Tensor:
        """The teacher's guided prediction on ``noisy`` ``(B, C, *S)``, float32."""
        self.teacher.to(noisy.device)
        x = noisy.to(self.teacher_dtype) if self.teacher_dtype is not None else noisy
        out = self.teacher_inferer.guided_prediction(self.teacher, x, timesteps, class_labels, self.guidance_scale)
        return out.float()

    def __call__(
        self,
        batchdata: Mapping[str, Any] | Sequence[Any] | torch.Tensor,
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple, dict[str, torch.Tensor]]:
        """Prepare one batch (see the class docstring).

        Returns:
            ``(latents (B, *latent_shape), teacher target (B, *latent_shape), (), {"noise", "timesteps",
            "class_labels"})``.
        """
        images, _, args, kw = super().__call__(batchdata, device, non_blocking, **kwargs)
        latents = self.teacher_inferer.encode(images).float()
        if latents.shape != kw["noise"].shape:
            raise ValueError(
                f"{type(self).__name__}: latent shape {tuple(latents.shape[1:])} of the teacher's autoencoder differs "
                f"from latent_shape {self.latent_shape}."
            )
        noisy = self.teacher_inferer.scheduler.add_noise(
            original_samples=latents, noise=kw["noise"], timesteps=kw["timesteps"]
        )
        target = self.teacher_target(noisy, kw["timesteps"], kw["class_labels"])
        return latents, target, args, kw
