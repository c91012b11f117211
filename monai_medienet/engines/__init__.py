"""Training seams for MONAI engines (PrepareBatch, ...)."""

from __future__ import annotations

from .prepare_batch import ClassConditionalDiffusionPrepareBatch

__all__ = [
    "ClassConditionalDiffusionPrepareBatch",
]
