"""Fidelity, diversity and privacy metrics for synthetic medical images: FID (standard Inception and in-domain),
improved precision/recall, MS-SSIM diversity, per-class label fidelity, a nearest-neighbour memorisation check and the
data-copying test."""

from __future__ import annotations

from .data_copying import DataCopyingResult, DataCopyingTest, data_copying_test, kmeans
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
from .label_fidelity import label_fidelity
from .memorization import MemorizationResult, NearCopyFilter, memorization_check, nearest_neighbours
from .precision_recall import knn_radii, precision_recall, realism_score
from .roundtrip import ROUND_TRIP_EXACT_TOL, AutoencoderRoundTrip

__all__ = [
    "AutoencoderRoundTrip",
    "FRECHET_METHODS",
    "INCEPTION_FEATURE_DIMS",
    "MS_SSIM_WEIGHTS",
    "ROUND_TRIP_EXACT_TOL",
    "ClassifierFeatureExtractor",
    "DataCopyingResult",
    "DataCopyingTest",
    "InceptionFeatureExtractor",
    "MemorizationResult",
    "NearCopyFilter",
    "compute_fid",
    "data_copying_test",
    "extract_features",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_features",
    "kmeans",
    "label_fidelity",
    "knn_radii",
    "locate_inception_weights",
    "memorization_check",
    "ms_ssim_diversity",
    "ms_ssim_settings",
    "nearest_neighbours",
    "precision_recall",
    "realism_score",
]
