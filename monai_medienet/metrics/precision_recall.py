"""Improved precision and recall of generative models and the per-sample realism score (k-NN manifolds,
Kynkaenniemi et al., NeurIPS 2019)."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["knn_radii", "precision_recall", "realism_score"]


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


def realism_score(
    real_features: np.ndarray | torch.Tensor,
    fake_features: np.ndarray | torch.Tensor,
    k: int = 3,
    prune_quantile: float = 0.5,
) -> np.ndarray:
    """Per-sample realism score of Kynkaenniemi et al. (2019, eq. 3): how deep each fake sample lies in the real
    k-NN manifold.

    ``R(f) = max_j radius_j / ||f - r_j||`` over the real samples ``r_j`` whose k-NN radius is at most the
    ``prune_quantile`` of all radii (the paper prunes the sparsest half, so that a few outliers with huge balls do not
    make everything look real). ``R >= 1`` means ``f`` is inside at least one (kept) real ball, i.e. counted by
    precision; larger is "more typical". An exact copy of a real sample scores ``inf`` (or a very large
    value: ``torch.cdist`` rounding).

    Args:
        real_features: ``(N1, D)``, ``N1 > k``.
        fake_features: ``(N2, D)``.
        k: neighbourhood size of the real radii.
        prune_quantile: keep real samples with radius <= this quantile of the radii, in ``(0, 1]`` (1 = no pruning).

    Returns:
        ``(N2,)`` float64 scores, ``>= 0``.

    Raises:
        ValueError: mismatched feature dimensions or ``prune_quantile`` outside ``(0, 1]``.
    """
    if not 0.0 < float(prune_quantile) <= 1.0:
        raise ValueError(f"realism_score: prune_quantile must be in (0, 1], got {prune_quantile}.")
    r = torch.as_tensor(np.asarray(real_features), dtype=torch.float64)
    f = torch.as_tensor(np.asarray(fake_features), dtype=torch.float64)
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1]:
        raise ValueError(f"realism_score: feature shapes do not match: {tuple(r.shape)} vs {tuple(f.shape)}.")
    radii = torch.as_tensor(knn_radii(r, k))
    keep = radii <= torch.quantile(radii, float(prune_quantile))
    r, radii = r[keep], radii[keep]
    d = _pairwise(f, r)
    with np.errstate(divide="ignore"):
        ratio = radii.unsqueeze(0) / d  # d == 0 -> inf (exact copy)
    return ratio.max(dim=1).values.numpy()
