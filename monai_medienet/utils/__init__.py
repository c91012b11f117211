"""Conventions shared by every part of the package: data location, class map, device and threads."""

from __future__ import annotations

from .fast import CastInputs, cpu_has_native_bf16, fast_adam, prepare_for_inference, supports_fused_adam
from .misc import (
    DATA_DIR_ENV,
    ClassMap,
    configure_threads,
    get_data_dir,
    meta_tracking,
    resolve_device,
)

__all__ = [
    "DATA_DIR_ENV",
    "CastInputs",
    "ClassMap",
    "configure_threads",
    "cpu_has_native_bf16",
    "fast_adam",
    "get_data_dir",
    "meta_tracking",
    "prepare_for_inference",
    "resolve_device",
    "supports_fused_adam",
]
