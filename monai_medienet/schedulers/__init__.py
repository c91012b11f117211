"""Samplers: MONAI's DDPM / DDIM plus DPM-Solver++ in MONAI's Scheduler style, and a by-name factory."""

from __future__ import annotations

from .dpm_solver import TIMESTEP_SPACINGS, DPMSolverMultistepScheduler, check_clip_range, trailing_timesteps
from .factory import SCHEDULER_NAMES, get_scheduler

__all__ = [
    "SCHEDULER_NAMES",
    "TIMESTEP_SPACINGS",
    "DPMSolverMultistepScheduler",
    "check_clip_range",
    "get_scheduler",
    "trailing_timesteps",
]
