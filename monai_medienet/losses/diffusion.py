"""Training losses of the diffusion stage (torch's own losses, chosen by name)."""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = ["DIFFUSION_LOSS_NAMES", "get_diffusion_loss"]

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
