"""Training losses of the diffusion stage (torch's own losses, chosen by name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

__all__ = ["DIFFUSION_LOSS_NAMES", "WeightedDiffusionLoss", "get_diffusion_loss"]

DIFFUSION_LOSS_NAMES = ("l2", "l1", "huber")


def get_diffusion_loss(name: str = "l2", **kwargs: Any) -> nn.Module:
    """Return the loss between the network prediction and the target (noise / velocity).

    Args:
        name: ``"l2"`` (:class:`torch.nn.MSELoss`, default), ``"l1"`` (:class:`torch.nn.L1Loss`) or ``"huber"``
            (:class:`torch.nn.HuberLoss`, e.g. ``delta=0.1``).
        **kwargs: constructor arguments of the torch loss (e.g. ``reduction``, ``delta``).

    Returns:
        The loss module, called as ``loss(pred, target)`` on ``(B, C, *S)`` tensors.

    Raises:
        ValueError: on an unknown ``name``.
    """
    key = str(name).lower()
    if key in ("l2", "mse"):
        return nn.MSELoss(**kwargs)
    if key in ("l1", "mae"):
        return nn.L1Loss(**kwargs)
    if key == "huber":
        return nn.HuberLoss(**kwargs)
    raise ValueError(f"get_diffusion_loss: name must be one of {DIFFUSION_LOSS_NAMES}, got {name!r}.")


class WeightedDiffusionLoss(nn.Module):
    """A diffusion loss with an optional weight per sample, for targets that carry their weights.

    A ``PrepareBatch`` that weights its samples (e.g. :class:`~monai_medienet.engines.StepDistillationPrepareBatch`
    with ``loss_weighting="truncated_snr"``) returns the target as ``{"target": (B, C, *S), "weight": (B,)}``; MONAI's
    ``SupervisedTrainer`` hands it to the loss unchanged. The loss is then the weighted mean
    ``sum_b w_b l_b / sum_b w_b`` of the per-sample losses ``l_b`` (mean over ``C, *S``). A plain tensor target gives
    the unweighted loss of ``get_diffusion_loss(name)``.

    Args:
        name: ``"l2"``, ``"l1"`` or ``"huber"`` (see :func:`get_diffusion_loss`).
        **kwargs: constructor arguments of the torch loss (``reduction`` is set here).

    Raises:
        ValueError: on an unknown ``name`` or a ``reduction`` argument.
    """

    def __init__(self, name: str = "l2", **kwargs: Any) -> None:
        super().__init__()
        if "reduction" in kwargs:
            raise ValueError(f"WeightedDiffusionLoss: reduction is fixed (weighted mean), got {kwargs['reduction']!r}.")
        self.loss = get_diffusion_loss(name, reduction="none", **kwargs)

    def forward(self, pred: torch.Tensor, target: torch.Tensor | Mapping[str, torch.Tensor]) -> torch.Tensor:
        """The (weighted) mean loss.

        Args:
            pred: ``(B, C, *S)`` prediction.
            target: ``(B, C, *S)`` tensor, or ``{"target": (B, C, *S), "weight": (B,)}`` with weights >= 0.

        Raises:
            ValueError: on a weight shape other than ``(B,)``.
        """
        if not isinstance(target, Mapping):
            return self.loss(pred, target).mean()
        per_sample = self.loss(pred, target["target"]).flatten(1).mean(dim=1)
        weight = torch.as_tensor(target["weight"], dtype=per_sample.dtype, device=per_sample.device)
        if weight.shape != per_sample.shape:
            raise ValueError(
                f"WeightedDiffusionLoss: expected weights of shape {tuple(per_sample.shape)}, "
                f"got {tuple(weight.shape)}."
            )
        return (weight * per_sample).sum() / weight.sum().clamp_min(1e-12)
