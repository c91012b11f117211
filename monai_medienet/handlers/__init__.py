"""Ignite handlers for the MedIENet engines: checkpoints, sample grids, discriminator steps, stage summaries."""

from __future__ import annotations

from .checkpoint import (
    CHECKPOINT_FORMAT_VERSION,
    TrainingCheckpointSaver,
    atomic_torch_save,
    get_rng_states,
    load_training_checkpoint,
    set_rng_states,
)
from .discriminator import DiscriminatorStepHandler
from .ema import EMAMomentumState
from .sample_grid import SampleGridHandler, make_image_grid, save_image_grid
from .summary import StageSummaryHandler

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "DiscriminatorStepHandler",
    "EMAMomentumState",
    "SampleGridHandler",
    "StageSummaryHandler",
    "TrainingCheckpointSaver",
    "atomic_torch_save",
    "get_rng_states",
    "load_training_checkpoint",
    "make_image_grid",
    "save_image_grid",
    "set_rng_states",
]
