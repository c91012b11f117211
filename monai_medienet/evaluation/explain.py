"""Grad-CAM explanations (MONAI ``monai.visualize.GradCAM``) of classifiers on the same test images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from monai.visualize import GradCAM

__all__ = ["gradcam_maps", "select_explanation_images"]


def select_explanation_images(labels: Sequence[int] | np.ndarray, n: int = 6, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` test images, alternating over classes (seeded), for explanation panels.

    Args:
        labels: ``(N,)`` labels.
        n: number of images.
        seed: seed.

    Returns:
        Sorted-by-class index array of length ``min(n, N)``.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    pools = [list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)]
    out: list[int] = []
    while len(out) < min(n, len(labels)):
        for p in pools:
            if p and len(out) < n:
                out.append(int(p.pop()))
    return np.asarray(out, dtype=np.int64)


def gradcam_maps(
    networks: Mapping[str, torch.nn.Module],
    images: torch.Tensor,
    labels: Sequence[int] | np.ndarray,
    target_layer: str = "layer4",
    device: str | torch.device = "cpu",
) -> dict[str, np.ndarray]:
    """Grad-CAM maps of each network for the true class of each image.

    Args:
        networks: ``{name: classifier}`` (MONAI ResNets: ``target_layer="layer4"``).
        images: ``(N, C, H, W)`` images.
        labels: ``(N,)`` class whose evidence is shown (the true label, so every network explains the same class).
        target_layer: layer name for :class:`monai.visualize.GradCAM`.
        device: device.

    Returns:
        ``{name: (N, H, W) maps in [0, 1]}``.
    """
    device = torch.device(device)
    out = {}
    for name, net in networks.items():
        net = net.to(device).eval()
        cam = GradCAM(nn_module=net, target_layers=target_layer)
        maps = []
        for img, lab in zip(images, labels):
            m = cam(img.unsqueeze(0).float().to(device), class_idx=int(lab))
            maps.append(m[0, 0].detach().cpu().numpy())
        out[name] = np.stack(maps)
    return out
