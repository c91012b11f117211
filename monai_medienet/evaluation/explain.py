"""Grad-CAM explanations (MONAI ``monai.visualize.GradCAM``) of classifiers on the same test images."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

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


@contextmanager
def _scoped_hooks(net: torch.nn.Module) -> Iterator[None]:
    """Remove, on exit, the forward / backward hooks registered on ``net``'s modules inside the block.

    MONAI's ``GradCAM`` registers hooks on its target layer and keeps no handles; without this, every call of
    :func:`gradcam_maps` would leave one more pair of hooks on a network that lives on (e.g. in a server).
    """
    before = {m: (set(m._forward_hooks), set(m._backward_hooks)) for m in net.modules()}
    try:
        yield
    finally:
        for m, (fwd, bwd) in before.items():
            for key in set(m._forward_hooks) - fwd:
                del m._forward_hooks[key]
            for key in set(m._backward_hooks) - bwd:
                del m._backward_hooks[key]


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
        ``{name: (N, H, W) maps in [0, 1]}``. The networks are left without the hooks Grad-CAM needed.
    """
    device = torch.device(device)
    out = {}
    for name, net in networks.items():
        net = net.to(device).eval()
        maps = []
        with _scoped_hooks(net):
            cam = GradCAM(nn_module=net, target_layers=target_layer)
            for img, lab in zip(images, labels):
                m = cam(img.unsqueeze(0).float().to(device), class_idx=int(lab))
                maps.append(m[0, 0].detach().cpu().numpy())
        out[name] = np.stack(maps)
    return out
