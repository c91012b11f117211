"""Samplers: MONAI's DDPM / DDIM plus DPM-Solver++ in MONAI's Scheduler style, and a by-name factory."""

from __future__ import annotations

from .dpm_solver import DPMSolverMultistepScheduler
from .factory import SCHEDULER_NAMES, get_scheduler

__all__ = ["SCHEDULER_NAMES", "DPMSolverMultistepScheduler", "get_scheduler"]
