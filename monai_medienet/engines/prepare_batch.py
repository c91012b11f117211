"""PrepareBatch for class-conditional (latent) diffusion training with MONAI's SupervisedTrainer."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from monai.engines.utils import DiffusionPrepareBatch

from monai_medienet.schedulers import trailing_timesteps

__all__ = ["ClassConditionalDiffusionPrepareBatch", "GuidanceDistillationPrepareBatch", "StepDistillationPrepareBatch"]


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
        latents, noisy, args, kw = self.noised_latents(batchdata, device, non_blocking, **kwargs)
        target = self.teacher_target(noisy, kw["timesteps"], kw["class_labels"])
        return latents, target, args, kw

    def noised_latents(
        self,
        batchdata: Mapping[str, Any] | Sequence[Any] | torch.Tensor,
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple, dict[str, torch.Tensor]]:
        """Draw noise, timesteps and labels, encode the images once and noise the latents.

        Returns:
            ``(latents z, noised latents z_t, (), {"noise", "timesteps", "class_labels"})``, latents float32
            ``(B, *latent_shape)``.

        Raises:
            ValueError: when the teacher's autoencoder gives latents of another shape than ``latent_shape``.
        """
        images, _, args, kw = ClassConditionalDiffusionPrepareBatch.__call__(
            self, batchdata, device, non_blocking, **kwargs
        )
        latents = self.teacher_inferer.encode(images).float()
        if latents.shape != kw["noise"].shape:
            raise ValueError(
                f"{type(self).__name__}: latent shape {tuple(latents.shape[1:])} of the teacher's autoencoder differs "
                f"from latent_shape {self.latent_shape}."
            )
        noisy = self.teacher_inferer.scheduler.add_noise(
            original_samples=latents, noise=kw["noise"], timesteps=kw["timesteps"]
        )
        return latents, noisy, args, kw


class StepDistillationPrepareBatch(GuidanceDistillationPrepareBatch):
    """Targets for step distillation: one student sampling step learns ``teacher_substeps`` teacher DDIM steps.

    Progressive distillation (Salimans & Ho, ICLR 2022; stage 2 of Meng et al., CVPR 2023) for an
    epsilon-predicting latent denoiser sampled with deterministic DDIM on the "trailing" grid
    (:func:`~monai_medienet.schedulers.trailing_timesteps`): the student is trained at the ``N = student_steps``
    grid points ``t_j`` only. For a drawn ``j`` the latents are noised to ``z_t`` (``t = t_j``), the frozen teacher
    takes ``k = teacher_substeps`` DDIM steps on the nested ``N k`` grid from ``t_j`` to ``t_{j+1}`` (the clean
    latent after the last point), with its data prediction clamped like the bundles' sampler, and the target is the
    noise prediction with which ONE DDIM step of the student lands on the teacher's result ``z_s``:

    ``x~ = (z_s - (sigma_s / sigma_t) z_t) / (alpha_s - (sigma_s / sigma_t) alpha_t)``,
    ``eps* = (z_t - alpha_t x~) / sigma_t``

    (``alpha_s = 1, sigma_s = 0`` at the clean end, where ``x~ = z_s``). Repeating with the student as the next
    teacher halves the steps each round (e.g. 40 -> 20 -> 10). Sample the student with first-order DPM-Solver++
    (``"dpmpp_1"``, which is DDIM) and ``timestep_spacing="trailing"`` at ``N`` steps.

    Inputs are returned as latents, as in :class:`GuidanceDistillationPrepareBatch` (the trainer's inferer must not
    encode again). The teacher runs ``k`` forward passes per batch (``2 k`` with classifier-free guidance).

    Loss weighting: an error ``d`` of the noise prediction moves the student's data prediction by
    ``d / sqrt(SNR_t)`` (``SNR = alpha^2 / sigma^2``), ~80x at ``t = T - 1`` on the latent-diffusion schedule, where
    the high-noise steps decide an image's layout. A plain noise-space loss gives those steps almost no weight.
    ``loss_weighting="truncated_snr"`` returns ``{"target": eps*, "weight": max(1, 1 / SNR_t)}`` (Salimans & Ho's
    truncated-SNR weighting ``max(SNR, 1)`` of the data-space loss, written in noise space), to be used with
    :class:`~monai_medienet.losses.WeightedDiffusionLoss`; ``"none"`` returns the plain target tensor.

    Args:
        teacher: the frozen teacher denoiser (e.g. a guidance-distilled student, or the previous round's student).
        teacher_inferer: a :class:`~monai_medienet.inferers.ClassConditionalLatentDiffusionInferer` with the
            teacher's autoencoder, scale factor and training scheduler (its ``alphas_cumprod`` define the grid).
        student_steps: ``N``, sampling steps of the student, in ``[1, num_train_timesteps / teacher_substeps]``.
        num_train_timesteps: timesteps of the training scheduler (``T``).
        num_classes: number of real classes; the null class is ``num_classes``.
        latent_shape: ``(C, *S)`` of one latent.
        teacher_substeps: ``k >= 2``, teacher DDIM steps per student step (2 = progressive distillation).
        guidance_scale: classifier-free guidance of the teacher's steps (1 for a guidance-distilled teacher, whose
            guidance is built in; > 1 distils guidance and steps at once).
        clip_sample_range: ``(lo, hi)`` clamp of the teacher's data prediction (the bundles' ``clip_sample_min`` /
            ``clip_sample_max``), or None for no clamping.
        loss_weighting: ``"none"`` or ``"truncated_snr"`` (see above).
        cond_drop_prob: probability to replace a label by the null class (default 0: the student samples
            conditionally).
        teacher_dtype: dtype of the teacher's forward passes (targets are float32).
        image_key: key of the images in dict batches.
        label_key: key of the labels in dict batches.
        seed: seed of an own ``torch.Generator``.
        generator: an explicit CPU ``torch.Generator`` (wins over ``seed``).

    Raises:
        ValueError: on ``student_steps < 1``, ``teacher_substeps < 2``, a grid finer than the training schedule, an
            empty clamp range, an unknown ``loss_weighting`` or the base classes' errors.
    """

    def __init__(
        self,
        teacher: torch.nn.Module,
        teacher_inferer: Any,
        student_steps: int,
        num_train_timesteps: int,
        num_classes: int,
        latent_shape: Sequence[int],
        teacher_substeps: int = 2,
        guidance_scale: float = 1.0,
        clip_sample_range: Sequence[float] | None = None,
        loss_weighting: str = "none",
        cond_drop_prob: float = 0.0,
        teacher_dtype: torch.dtype | None = None,
        image_key: str = "image",
        label_key: str = "label",
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        name = type(self).__name__
        if loss_weighting not in ("none", "truncated_snr"):
            raise ValueError(f"{name}: loss_weighting must be 'none' or 'truncated_snr', got {loss_weighting!r}.")
        if int(student_steps) < 1:
            raise ValueError(f"{name}: student_steps must be >= 1, got {student_steps}.")
        if int(teacher_substeps) < 2:
            raise ValueError(f"{name}: teacher_substeps must be >= 2, got {teacher_substeps}.")
        if int(student_steps) * int(teacher_substeps) > int(num_train_timesteps):
            raise ValueError(
                f"{name}: student_steps * teacher_substeps = {int(student_steps) * int(teacher_substeps)} exceeds "
                f"num_train_timesteps {num_train_timesteps}."
            )
        if clip_sample_range is not None:
            if len(clip_sample_range) != 2 or not float(clip_sample_range[0]) < float(clip_sample_range[1]):
                raise ValueError(f"{name}: clip_sample_range must be (lo, hi) with lo < hi, got {clip_sample_range}.")
        super().__init__(
            teacher,
            teacher_inferer,
            guidance_scale,
            num_train_timesteps,
            num_classes,
            latent_shape,
            cond_drop_prob,
            teacher_dtype,
            image_key,
            label_key,
            seed,
            generator,
        )
        self.student_steps = int(student_steps)
        self.teacher_substeps = int(teacher_substeps)
        self.loss_weighting = loss_weighting
        self.clip_sample_range = (
            (float(clip_sample_range[0]), float(clip_sample_range[1])) if clip_sample_range is not None else None
        )
        fine = torch.from_numpy(trailing_timesteps(num_train_timesteps, self.student_steps * self.teacher_substeps))
        acp = teacher_inferer.scheduler.alphas_cumprod.double()[fine]
        self.fine_timesteps = fine  # (N k,) descending
        self._fine_index = {int(t): i for i, t in enumerate(fine.tolist())}
        # index N k is the clean end point (alpha 1, sigma 0)
        self.fine_alpha = torch.cat([acp.sqrt(), torch.ones(1, dtype=torch.float64)])
        self.fine_sigma = torch.cat([(1.0 - acp).sqrt(), torch.zeros(1, dtype=torch.float64)])
        self.student_timesteps = fine[:: self.teacher_substeps].clone()  # (N,) the student's grid

    def get_timesteps(self, images: torch.Tensor) -> torch.Tensor:
        """Timesteps drawn uniformly from the student's ``N`` grid points, shape ``(B,)``, on the CPU."""
        j = torch.randint(0, self.student_steps, (images.shape[0],), generator=self.generator)
        return self.student_timesteps[j]

    def _coef(self, values: torch.Tensor, index: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """``values[index]`` shaped ``(B, 1, ..., 1)`` to broadcast over ``like``, in its dtype and device."""
        out = values[index].to(device=like.device, dtype=like.dtype)
        return out.reshape(-1, *([1] * (like.ndim - 1)))

    @torch.no_grad()
    def teacher_rollout(
        self, noisy: torch.Tensor, timesteps: torch.Tensor, class_labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The teacher's ``k`` DDIM steps from ``noisy`` at the student grid points ``timesteps``.

        Args:
            noisy: ``z_t`` ``(B, C, *S)``.
            timesteps: ``(B,)`` points of :attr:`student_timesteps`.
            class_labels: ``(B,)`` labels.

        Returns:
            ``(z_s, s_index)``: the teacher's latents at the next student grid point and that point's index into
            :attr:`fine_alpha` / :attr:`fine_sigma` (``N k`` = clean).
        """
        k = self.teacher_substeps
        start = torch.tensor([self._fine_index[int(t)] for t in timesteps.cpu().tolist()], dtype=torch.long)
        z = noisy.float()
        for m in range(k):
            i = start + m
            t = self.fine_timesteps[i].to(noisy.device)
            eps = self.teacher_target(z, t, class_labels)
            a_c, s_c = self._coef(self.fine_alpha, i, z), self._coef(self.fine_sigma, i, z)
            a_n, s_n = self._coef(self.fine_alpha, i + 1, z), self._coef(self.fine_sigma, i + 1, z)
            x0 = (z - s_c * eps) / a_c
            if self.clip_sample_range is not None:
                x0 = x0.clamp(*self.clip_sample_range)
            z = a_n * x0 + s_n * eps  # DDIM (eta 0); the clean end point (a_n 1, s_n 0) gives x0
        return z, start + k

    def student_target(
        self, noisy: torch.Tensor, start: torch.Tensor, landed: torch.Tensor, end: torch.Tensor
    ) -> torch.Tensor:
        """The noise prediction whose single DDIM step from ``noisy`` (grid index ``start``) lands on ``landed``
        (grid index ``end``); float32 ``(B, C, *S)``."""
        z_t, z_s = noisy.double(), landed.double()
        a_t, s_t = self._coef(self.fine_alpha, start, z_t), self._coef(self.fine_sigma, start, z_t)
        a_s, s_s = self._coef(self.fine_alpha, end, z_t), self._coef(self.fine_sigma, end, z_t)
        ratio = s_s / s_t
        x_tilde = (z_s - ratio * z_t) / (a_s - ratio * a_t)
        return ((z_t - a_t * x_tilde) / s_t).float()

    def __call__(
        self,
        batchdata: Mapping[str, Any] | Sequence[Any] | torch.Tensor,
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | dict[str, torch.Tensor], tuple, dict[str, torch.Tensor]]:
        """Prepare one batch (see the class docstring).

        Returns:
            ``(latents (B, *latent_shape), student target (B, *latent_shape), (), {"noise", "timesteps",
            "class_labels"})``; with ``loss_weighting="truncated_snr"`` the target is ``{"target", "weight" (B,)}``.
        """
        latents, noisy, args, kw = self.noised_latents(batchdata, device, non_blocking, **kwargs)
        landed, end = self.teacher_rollout(noisy, kw["timesteps"], kw["class_labels"])
        start = end - self.teacher_substeps
        target = self.student_target(noisy, start, landed, end)
        if self.loss_weighting == "none":
            return latents, target, args, kw
        snr = (self.fine_alpha[start] / self.fine_sigma[start]) ** 2
        weight = torch.clamp(1.0 / snr, min=1.0).float().to(target.device)
        return latents, {"target": target, "weight": weight}, args, kw
