"""Improved precision and recall of generative models (k-NN manifolds, Kynkaenniemi et al., NeurIPS 2019)."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["knn_radii", "precision_recall"]


def _pairwise(a: torch.Tensor, b: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    return torch.cat([torch.cdist(a[i : i + chunk], b) for i in range(0, len(a), chunk)], dim=0)


def knn_radii(features: np.ndarray | torch.Tensor, k: int = 3) -> np.ndarray:
    """Distance of every sample to its ``k``-th nearest neighbour in the same set (itself excluded).

    Args:
        features: ``(N, D)``; ``N > k``.
        k: neighbourhood size.

    Returns:
        ``(N,)`` radii.

    Raises:
        ValueError: when ``k < 1`` or ``N <= k``.
    """
    f = torch.as_tensor(np.asarray(features), dtype=torch.float64)
    if k < 1 or f.ndim != 2 or f.shape[0] <= k:
        raise ValueError(f"knn_radii: need (N, D) features with N > k >= 1, got shape {tuple(f.shape)}, k={k}.")
    d = _pairwise(f, f)
    # k+1 smallest includes the zero self-distance
    return torch.kthvalue(d, k + 1, dim=1).values.numpy()


def _coverage_fraction(query: torch.Tensor, support: torch.Tensor, radii: torch.Tensor) -> float:
    """Fraction of ``query`` points inside at least one ball ``B(support_j, radii_j)``."""
    inside = _pairwise(query, support) <= radii.unsqueeze(0)
    return float(inside.any(dim=1).double().mean())


def precision_recall(
    real_features: np.ndarray | torch.Tensor, fake_features: np.ndarray | torch.Tensor, k: int = 3
) -> dict[str, float]:
    """Improved precision/recall: precision = fraction of fake samples inside the real k-NN manifold, recall =
    fraction of real samples inside the fake k-NN manifold.

    Each manifold is the union of balls around its samples with radius = distance to the ``k``-th nearest neighbour
    (Kynkaenniemi et al. use ``k = 3`` with VGG-16 features; any embedding, e.g. Inception or in-domain classifier
    features, can be passed).

    Args:
        real_features: ``(N1, D)``.
        fake_features: ``(N2, D)``.
        k: neighbourhood size.

    Returns:
        ``{"precision": p, "recall": r, "k": k}`` with ``p, r`` in ``[0, 1]``.

    Raises:
        ValueError: on mismatched feature dimensions.
    """
    r = torch.as_tensor(np.asarray(real_features), dtype=torch.float64)
    f = torch.as_tensor(np.asarray(fake_features), dtype=torch.float64)
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1]:
        raise ValueError(f"precision_recall: feature shapes do not match: {tuple(r.shape)} vs {tuple(f.shape)}.")
    r_radii = torch.as_tensor(knn_radii(r, k))
    f_radii = torch.as_tensor(knn_radii(f, k))
    return {
        "precision": _coverage_fraction(f, r, r_radii),
        "recall": _coverage_fraction(r, f, f_radii),
        "k": int(k),
    }
