"""Data sources (MedMNIST npz, class folders, CSV manifests), splits, fingerprints, real+synthetic mixing, caching."""

from __future__ import annotations

from .datasets import CACHE_MODES, make_dataset
from .fingerprints import dataset_fingerprints, dataset_hash, file_sha256, item_fingerprint
from .materialise import materialise
from .mixing import MixedDataset, mix_real_synthetic
from .source import DataSource
from .sources import (
    KERMANY_PATIENT_REGEX,
    MEDMNIST_INFO,
    class_folder_source,
    manifest_source,
    medmnist_source,
)
from .splits import drop_duplicates, find_duplicates, selection_from_test, stratified_split, subsample_per_class
from .validation import validate_items

__all__ = [
    "CACHE_MODES",
    "KERMANY_PATIENT_REGEX",
    "MEDMNIST_INFO",
    "DataSource",
    "MixedDataset",
    "class_folder_source",
    "dataset_fingerprints",
    "dataset_hash",
    "drop_duplicates",
    "file_sha256",
    "find_duplicates",
    "item_fingerprint",
    "make_dataset",
    "manifest_source",
    "materialise",
    "medmnist_source",
    "mix_real_synthetic",
    "selection_from_test",
    "stratified_split",
    "subsample_per_class",
    "validate_items",
]
