"""Build a sampler / training scheduler by name so configs can switch samplers."""

from __future__ import annotations

from typing import Any

from monai.networks.schedulers import DDIMScheduler, DDPMScheduler, Scheduler

from .dpm_solver import DPMSolverMultistepScheduler

__all__ = ["SCHEDULER_NAMES", "get_scheduler"]

SCHEDULER_NAMES = ("ddpm", "ddim", "dpmpp_2m", "dpmpp_1")

#: beta range used when a ``*_beta`` schedule is asked for without ``beta_start``/``beta_end`` (the LDM values).
_LDM_BETAS = {"beta_start": 0.0015, "beta_end": 0.0195}


def get_scheduler(
    name: str,
    num_train_timesteps: int = 1000,
    schedule: str = "scaled_linear_beta",
    prediction_type: str = "epsilon",
    clip_sample: bool = False,
    clip_mode: str = "ddim",
    **kwargs: Any,
) -> Scheduler:
    """Create a MONAI-style scheduler by name.

    All schedulers built with the same ``num_train_timesteps``/``schedule``/beta arguments share the same noise
    schedule, so a network trained with the ``"ddpm"`` scheduler can be sampled with any of them.

    Args:
        name: ``"ddpm"`` (MONAI's DDPMScheduler, ancestral sampling over the full training schedule),
            ``"ddim"`` (MONAI's DDIMScheduler, deterministic), ``"dpmpp_2m"`` (DPM-Solver++ 2M) or ``"dpmpp_1"``
            (first-order DPM-Solver++).
        num_train_timesteps: diffusion steps of the training schedule.
        schedule: MONAI ``NoiseSchedules`` name. For ``"linear_beta"``/``"scaled_linear_beta"``/``"sigmoid_beta"``
            ``beta_start``/``beta_end`` default to the latent-diffusion values 0.0015 / 0.0195.
        prediction_type: ``"epsilon"``, ``"v_prediction"`` or ``"sample"``.
        clip_sample: clamp the predicted ``x0`` to [-1, 1] (off by default: latents are not bounded); the range is
            set with ``clip_sample_min`` / ``clip_sample_max``.
        clip_mode: DPM-Solver++ only (ignored by ``"ddpm"`` / ``"ddim"``): ``"ddim"`` makes a clamped ``x0`` act as in
            MONAI's DDIM, ``"data"`` clamps only the data prediction (see ``DPMSolverMultistepScheduler``).
        **kwargs: further constructor arguments of the chosen scheduler or of the schedule function.

    Returns:
        The scheduler.

    Raises:
        ValueError: on an unknown ``name``.
    """
    key = str(name).lower()
    if key not in SCHEDULER_NAMES:
        raise ValueError(f"get_scheduler: name must be one of {SCHEDULER_NAMES}, got {name!r}.")
    if schedule.endswith("_beta"):
        kwargs = {**_LDM_BETAS, **kwargs}
    common = {
        "num_train_timesteps": num_train_timesteps,
        "schedule": schedule,
        "prediction_type": prediction_type,
        "clip_sample": clip_sample,
    }
    if key == "ddpm":
        return DDPMScheduler(**common, **kwargs)
    if key == "ddim":
        return DDIMScheduler(**common, **kwargs)
    return DPMSolverMultistepScheduler(
        **common, solver_order=2 if key == "dpmpp_2m" else 1, clip_mode=clip_mode, **kwargs
    )
