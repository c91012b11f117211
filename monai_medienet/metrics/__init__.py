"""Fidelity, diversity and privacy metrics for synthetic medical images: FID (standard Inception and in-domain),
improved precision/recall, MS-SSIM diversity and a nearest-neighbour memorisation check."""

from __future__ import annotations

from .diversity import MS_SSIM_WEIGHTS, ms_ssim_diversity, ms_ssim_settings
from .fid import (
    FRECHET_METHODS,
    INCEPTION_FEATURE_DIMS,
    ClassifierFeatureExtractor,
    InceptionFeatureExtractor,
    compute_fid,
    extract_features,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_features,
    locate_inception_weights,
)
from .memorization import MemorizationResult, memorization_check, nearest_neighbours
from .precision_recall import knn_radii, precision_recall, realism_score

__all__ = [
    "FRECHET_METHODS",
    "INCEPTION_FEATURE_DIMS",
    "MS_SSIM_WEIGHTS",
    "ClassifierFeatureExtractor",
    "InceptionFeatureExtractor",
    "MemorizationResult",
    "compute_fid",
    "extract_features",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_features",
    "knn_radii",
    "locate_inception_weights",
    "memorization_check",
    "ms_ssim_diversity",
    "ms_ssim_settings",
    "nearest_neighbours",
    "precision_recall",
    "realism_score",
]
