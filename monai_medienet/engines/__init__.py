"""Training seams for MONAI engines (PrepareBatch, ...)."""

from __future__ import annotations

from .prepare_batch import (
    ClassConditionalDiffusionPrepareBatch,
    GuidanceDistillationPrepareBatch,
    StepDistillationPrepareBatch,
)

__all__ = [
    "ClassConditionalDiffusionPrepareBatch",
    "GuidanceDistillationPrepareBatch",
    "StepDistillationPrepareBatch",
]

# engines of the training stages (autoencoder stage, mixed precision, diffusion glue, generation)
from .amp import AutocastInferer, MixedPrecision  # noqa: E402
from .autoencoder import (  # noqa: E402
    AutoencoderKLLoss,
    AutoencoderPrepareBatch,
    ReconstructionInferer,
    autoencoder_val_metrics,
    build_autoencoder,
    kl_divergence,
)
from .diffusion import (  # noqa: E402
    DiffusionGenerator,
    latent_shape_for,
    load_autoencoder,
    load_diffusion_generator,
    resolve_scale_factor,
)
from .distillation import check_distillation_data, check_step_teacher, distillation_student  # noqa: E402
from .generation import build_near_copy_filter, generate_synthetic, iter_generated_batches  # noqa: E402
from .runner import run_trainer  # noqa: E402
from .screening import plot_nearest_pairs, screen_synthetic  # noqa: E402
from .selection import find_checkpoint_snapshots, select_generator_checkpoint  # noqa: E402

__all__ += [
    "AutocastInferer",
    "AutoencoderKLLoss",
    "AutoencoderPrepareBatch",
    "DiffusionGenerator",
    "MixedPrecision",
    "ReconstructionInferer",
    "autoencoder_val_metrics",
    "build_autoencoder",
    "check_distillation_data",
    "check_step_teacher",
    "distillation_student",
    "kl_divergence",
    "latent_shape_for",
    "load_autoencoder",
    "load_diffusion_generator",
    "find_checkpoint_snapshots",
    "build_near_copy_filter",
    "generate_synthetic",
    "iter_generated_batches",
    "resolve_scale_factor",
    "run_trainer",
    "plot_nearest_pairs",
    "screen_synthetic",
    "select_generator_checkpoint",
]
