"""The autoencoder stage on MONAI's own engines.

The stage trains MONAI's :class:`~monai.networks.nets.AutoencoderKL` with :class:`~monai.engines.SupervisedTrainer`
(no copy of its iteration code):

* :class:`AutoencoderPrepareBatch` makes the target equal to the input image;
* the default ``SimpleInferer`` returns the network's ``(reconstruction, z_mu, z_sigma)`` tuple as the prediction;
* :class:`AutoencoderKLLoss` reads that tuple: L1 reconstruction + ``kl_weight`` * KL, plus an optional perceptual
  term (only when the user supplies a loss built from their own weights: nothing is downloaded) and an optional
  adversarial generator term from a ``PatchDiscriminator`` that
  :class:`~monai_medienet.handlers.DiscriminatorStepHandler` trains and switches on after a warm-up.

Why not ``monai.engines.AdversarialTrainer``: its generator path feeds the prediction straight to the
discriminator (so the KL terms cannot travel with it) and it updates the discriminator from the first iteration
(no warm-up); one ``SupervisedTrainer`` plus a discriminator-step handler covers both without new engine code.

Validation uses :class:`~monai.engines.SupervisedEvaluator` with :class:`ReconstructionInferer` (deterministic
``decode(z_mu)``) and MONAI's MAE / PSNR / SSIM metrics (see :func:`autoencoder_val_metrics`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.engines.utils import PrepareBatch
from monai.handlers import IgniteMetricHandler, MeanAbsoluteError, PeakSignalToNoiseRatio, from_engine
from monai.inferers import Inferer
from monai.losses import PatchAdversarialLoss
from monai.metrics import SSIMMetric
from monai.networks.nets import AutoencoderKL
from monai.utils import CommonKeys

__all__ = [
    "AutoencoderKLLoss",
    "AutoencoderPrepareBatch",
    "ReconstructionInferer",
    "autoencoder_val_metrics",
    "build_autoencoder",
    "kl_divergence",
]


def build_autoencoder(config: dict[str, Any]) -> AutoencoderKL:
    """Build MONAI's ``AutoencoderKL`` from a plain config dict (the ``autoencoder_config`` stored in checkpoints).

    Args:
        config: keyword arguments of ``monai.networks.nets.AutoencoderKL`` (lists are fine for sequences).

    Returns:
        The network.

    Raises:
        ValueError: when ``config`` lacks ``spatial_dims``.
    """
    if "spatial_dims" not in config:
        raise ValueError(f"build_autoencoder: config must contain 'spatial_dims', got keys {sorted(config)}.")
    kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items()}
    return AutoencoderKL(**kwargs)


def kl_divergence(z_mu: torch.Tensor, z_sigma: torch.Tensor) -> torch.Tensor:
    """KL divergence of ``N(z_mu, z_sigma^2)`` from ``N(0, 1)``, summed over latent elements, mean over the batch.

    Args:
        z_mu: ``(B, C, *S)`` latent means.
        z_sigma: ``(B, C, *S)`` latent standard deviations (> 0).

    Returns:
        Scalar tensor.
    """
    z_mu, z_sigma = z_mu.float(), z_sigma.float()
    var = z_sigma.pow(2)
    kl = 0.5 * (z_mu.pow(2) + var - torch.log(var.clamp_min(1e-12)) - 1.0)
    return kl.flatten(1).sum(1).mean()


class AutoencoderPrepareBatch(PrepareBatch):
    """Return ``(image, image)``: the autoencoder reconstructs its input.

    Args:
        image_key: key of the image in the batch dictionary.
    """

    def __init__(self, image_key: str = CommonKeys.IMAGE) -> None:
        self.image_key = image_key

    def __call__(
        self,
        batchdata: dict[str, torch.Tensor],
        device: str | torch.device | None = None,
        non_blocking: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Move the image to ``device`` and return it as input and target.

        Raises:
            KeyError: when the batch has no ``image_key``.
        """
        if self.image_key not in batchdata:
            raise KeyError(f"AutoencoderPrepareBatch: batch has no key {self.image_key!r} ({list(batchdata)}).")
        image = torch.as_tensor(batchdata[self.image_key]).to(device=device, non_blocking=non_blocking, **kwargs)
        return image, image


class ReconstructionInferer(Inferer):
    """Deterministic reconstruction for validation: ``network.decode(network.encode(x)[0])`` (no sampling)."""

    def __call__(self, inputs: torch.Tensor, network: Callable, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Return the ``(B, C, *S)`` reconstruction of ``inputs`` as float32."""
        net = network.module if hasattr(network, "module") else network
        return net.reconstruct(inputs).float()


class AutoencoderKLLoss(torch.nn.Module):
    """Autoencoder objective: L1 + ``kl_weight`` * KL [+ perceptual] [+ adversarial after warm-up].

    Used as ``SupervisedTrainer(loss_function=...)``; the prediction is the network's
    ``(reconstruction, z_mu, z_sigma)`` tuple. The last components are kept in :attr:`components` (floats) for
    logging. The adversarial term is active only while :attr:`adversarial_active` is true (set by
    :class:`~monai_medienet.handlers.DiscriminatorStepHandler` after its warm-up).

    Args:
        kl_weight: weight of the KL term (MONAI's tutorials use 1e-6).
        perceptual_loss: optional callable ``(recon, target) -> scalar``, e.g. ``monai.losses.PerceptualLoss`` built
            from weights the user provides. ``None`` (default) disables the term.
        perceptual_weight: its weight.
        discriminator: optional ``PatchDiscriminator`` whose logits on the reconstruction give the generator term.
        adversarial_weight: weight of the generator adversarial term.
        adversarial_criterion: ``PatchAdversarialLoss`` criterion (``"least_squares"``, ``"bce"``, ``"hinge"``).

    Raises:
        ValueError: for negative weights, or an adversarial weight without discriminator.
    """

    def __init__(
        self,
        kl_weight: float = 1e-6,
        perceptual_loss: Callable | None = None,
        perceptual_weight: float = 0.001,
        discriminator: torch.nn.Module | None = None,
        adversarial_weight: float = 0.01,
        adversarial_criterion: str = "least_squares",
    ) -> None:
        super().__init__()
        for name, value in (
            ("kl_weight", kl_weight),
            ("perceptual_weight", perceptual_weight),
            ("adversarial_weight", adversarial_weight),
        ):
            if value < 0:
                raise ValueError(f"AutoencoderKLLoss: {name} must be >= 0, got {value}.")
        self.kl_weight = float(kl_weight)
        self.perceptual_loss = perceptual_loss
        self.perceptual_weight = float(perceptual_weight)
        # kept out of the module tree: the discriminator is trained and checkpointed on its own
        self._discriminator = [discriminator] if discriminator is not None else []
        self.adversarial_weight = float(adversarial_weight)
        self.adversarial = PatchAdversarialLoss(criterion=adversarial_criterion)
        self.adversarial_active = False
        self.components: dict[str, float] = {}

    @property
    def discriminator(self) -> torch.nn.Module | None:
        """The discriminator used for the generator term, if any."""
        return self._discriminator[0] if self._discriminator else None

    def forward(self, pred: Sequence[torch.Tensor] | torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred: ``(reconstruction, z_mu, z_sigma)`` from ``AutoencoderKL.forward``; a bare reconstruction tensor
                is accepted (no KL term then).
            target: ``(B, C, *S)`` images.

        Returns:
            Scalar loss (float32).
        """
        if isinstance(pred, torch.Tensor):
            recon, z_mu, z_sigma = pred, None, None
        else:
            recon, z_mu, z_sigma = pred[0], pred[1], pred[2]
        recon = recon.float()
        target = target.float()
        l1 = torch.nn.functional.l1_loss(recon, target)
        loss = l1
        comps = {"l1": float(l1.detach())}
        if z_mu is not None and self.kl_weight > 0:
            kl = kl_divergence(z_mu, z_sigma)
            loss = loss + self.kl_weight * kl
            comps["kl"] = float(kl.detach())
        if self.perceptual_loss is not None and self.perceptual_weight > 0:
            p = self.perceptual_loss(recon, target).mean()
            loss = loss + self.perceptual_weight * p
            comps["perceptual"] = float(p.detach())
        disc = self.discriminator
        if disc is not None and self.adversarial_active and self.adversarial_weight > 0:
            logits = disc(recon.contiguous())[-1]
            g = self.adversarial(logits, target_is_real=True, for_discriminator=False)
            loss = loss + self.adversarial_weight * g
            comps["generator"] = float(g.detach())
        self.components = comps
        return loss


def autoencoder_val_metrics(spatial_dims: int = 2, data_range: float = 1.0) -> dict[str, Any]:
    """MONAI metric handlers for autoencoder validation on ``[0, data_range]`` images.

    Returns:
        ``{"val_l1": MeanAbsoluteError, "val_psnr": PeakSignalToNoiseRatio, "val_ssim": SSIM}``; use the first as
        ``key_val_metric`` (lower is better: pair it with ``metric_cmp_fn=operator.lt``) and the others as
        ``additional_metrics``, or all as additional metrics.
    """
    ot = from_engine([CommonKeys.PRED, CommonKeys.LABEL])
    return {
        "val_l1": MeanAbsoluteError(output_transform=ot),
        "val_psnr": PeakSignalToNoiseRatio(max_val=data_range, output_transform=ot),
        "val_ssim": IgniteMetricHandler(
            metric_fn=SSIMMetric(spatial_dims=spatial_dims, data_range=data_range), output_transform=ot
        ),
    }
