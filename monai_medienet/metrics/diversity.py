"""Sample diversity as mean pairwise MS-SSIM (MONAI ``MultiScaleSSIMMetric``) — lower means more diverse."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from monai.metrics import MultiScaleSSIMMetric

__all__ = ["MS_SSIM_WEIGHTS", "ms_ssim_diversity", "ms_ssim_settings"]

#: the standard 5-scale weights of Wang et al. (2003); fewer scales use the first ``n`` renormalised.
MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim_settings(min_size: int, max_scales: int = 5, max_kernel: int = 11) -> dict:
    """Kernel size and scale weights that fit an image of smallest side ``min_size``.

    The standard setting (5 scales, 11-px Gaussian) needs images of ~176 px. For small images the number of scales is
    reduced first while keeping the kernel >= 5 px, then the kernel is shrunk: the largest number of scales ``n`` and
    odd kernel ``k in [5, max_kernel]`` such that the coarsest scale still holds a kernel
    (``min_size // 2**(n-1) >= k``) and MONAI's own size check passes. 28 px -> 3 scales, k=7; 64 px -> 4 scales,
    k=7; 224 px -> the standard 5 scales, k=11. Falls back to a single-scale SSIM with ``k=3`` for tiny images.

    Args:
        min_size: smallest spatial side in pixels.
        max_scales: at most this many scales.
        max_kernel: largest kernel size.

    Returns:
        ``{"kernel_size": k, "weights": tuple, "kernel_sigma": 1.5}``.

    Raises:
        ValueError: when ``min_size < 4``.
    """
    if min_size < 4:
        raise ValueError(f"ms_ssim_settings: images must be at least 4 px, got {min_size}.")
    for n in range(min(max_scales, len(MS_SSIM_WEIGHTS)), 0, -1):
        for k in range(max_kernel if max_kernel % 2 else max_kernel - 1, 4, -2):
            monai_ok = min_size // max(1, n - 1) ** 2 > k - 1
            if min_size // 2 ** (n - 1) >= k and monai_ok:
                w = np.asarray(MS_SSIM_WEIGHTS[:n])
                return {"kernel_size": k, "weights": tuple(float(x) for x in w / w.sum()), "kernel_sigma": 1.5}
    return {"kernel_size": 3, "weights": (1.0,), "kernel_sigma": 1.5}


def ms_ssim_diversity(
    images: torch.Tensor | np.ndarray,
    num_pairs: int = 200,
    seed: int = 0,
    kernel_size: int | None = None,
    weights: Sequence[float] | None = None,
    kernel_sigma: float = 1.5,
    batch_size: int = 256,
) -> dict[str, float]:
    """Mean MS-SSIM over random distinct pairs of one image set (a class's synthetic or real images).

    Args:
        images: ``(N, C, H, W)`` in ``[0, 1]``, ``N >= 2``.
        num_pairs: number of random pairs (drawn with a seeded generator, ``i != j``; all pairs when fewer exist).
        seed: pair-sampling seed.
        kernel_size: Gaussian kernel; ``None`` picks via :func:`ms_ssim_settings`.
        weights: scale weights; ``None`` picks via :func:`ms_ssim_settings`.
        kernel_sigma: Gaussian sigma.
        batch_size: pairs per MONAI call.

    Returns:
        ``{"ms_ssim_mean", "ms_ssim_std", "num_pairs", "kernel_size", "num_scales"}``.

    Raises:
        ValueError: when fewer than 2 images or not 4-D.
    """
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images).float()
    if x.ndim != 4 or x.shape[0] < 2:
        raise ValueError(f"ms_ssim_diversity: need (N>=2, C, H, W) images, got shape {tuple(x.shape)}.")
    auto = ms_ssim_settings(min(x.shape[-2:]))
    kernel_size = auto["kernel_size"] if kernel_size is None else kernel_size
    weights = auto["weights"] if weights is None else tuple(weights)
    n = x.shape[0]
    all_pairs = n * (n - 1) // 2
    rng = np.random.default_rng(seed)
    if all_pairs <= num_pairs:
        ii, jj = np.triu_indices(n, k=1)
    else:
        ii = rng.integers(0, n, size=num_pairs)
        jj = (ii + rng.integers(1, n, size=num_pairs)) % n  # j != i
    metric = MultiScaleSSIMMetric(
        spatial_dims=2,
        data_range=1.0,
        kernel_size=kernel_size,
        kernel_sigma=kernel_sigma,
        weights=weights,
        reduction="none",
    )
    vals = []
    for s in range(0, len(ii), batch_size):
        a, b = x[ii[s : s + batch_size]], x[jj[s : s + batch_size]]
        vals.append(metric(a, b).reshape(-1))
    v = torch.cat(vals).double().numpy()
    return {
        "ms_ssim_mean": float(np.nanmean(v)),
        "ms_ssim_std": float(np.nanstd(v)),
        "num_pairs": int(len(v)),
        "kernel_size": int(kernel_size),
        "num_scales": len(weights),
    }
