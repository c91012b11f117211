"""Guidance and step distillation: the student network and the checks on the teacher and the data.

The training itself is MONAI's ``SupervisedTrainer`` with
:class:`~monai_medienet.engines.GuidanceDistillationPrepareBatch` or
:class:`~monai_medienet.engines.StepDistillationPrepareBatch` (teacher targets) and a latent-space inferer; the
bundles wire them as the run ids ``distill_guidance`` (``configs/distill.yaml``) and ``distill_steps``
(``configs/distill_steps.yaml``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import torch

__all__ = ["check_distillation_data", "check_step_teacher", "distillation_student"]


def distillation_student(teacher: Any) -> torch.nn.Module:
    """A trainable float32 copy of the teacher's denoiser, the student's starting point.

    Args:
        teacher: a :class:`~monai_medienet.engines.DiffusionGenerator` (its ``network``, the EMA weights by default)
            or the network itself.

    Returns:
        A deep copy in train mode with gradients enabled, on the teacher's device.

    Raises:
        ValueError: when ``teacher`` is neither a module nor has a ``network`` module.
    """
    net = getattr(teacher, "network", teacher)
    if not isinstance(net, torch.nn.Module):
        raise ValueError(
            f"distillation_student: expected a DiffusionGenerator or an nn.Module, got {type(teacher).__name__}."
        )
    return copy.deepcopy(net).float().train().requires_grad_(True)


def check_distillation_data(teacher_checkpoint: Mapping[str, Any], train_fingerprints: Iterable[str]) -> None:
    """Refuse to distil on images other than the teacher's training images.

    The distilled checkpoint inherits the teacher's role in the evaluation (its ``train_fingerprints`` are checked
    for leakage and pick the real training images of the classifier arms), so the student must learn from exactly
    the teacher's training set.

    Args:
        teacher_checkpoint: the teacher's loaded checkpoint dict (``DiffusionGenerator.checkpoint``).
        train_fingerprints: fingerprints of the distillation run's training images.

    Raises:
        ValueError: when the teacher records no fingerprints or the two sets differ (the message gives the counts).
    """
    teacher = teacher_checkpoint.get("train_fingerprints")
    if not isinstance(teacher, list | tuple):
        raise ValueError("check_distillation_data: the teacher checkpoint has no train_fingerprints list.")
    mine = set(train_fingerprints)
    theirs = set(teacher)
    if mine != theirs:
        raise ValueError(
            f"check_distillation_data: the distillation data ({len(mine)} images) is not the teacher's training set "
            f"({len(theirs)} images, {len(mine & theirs)} shared); use the teacher's data config (same dataset, seed, "
            "k_per_class)."
        )


def check_step_teacher(teacher_checkpoint: Mapping[str, Any], student_steps: int, teacher_substeps: int) -> None:
    """Refuse a step-distillation round whose teacher grid is not the grid its teacher was distilled for.

    A step-distilled teacher (checkpoint entry ``step_distillation``) only knows its own ``student_steps`` grid
    points, so the next round must use ``student_steps * teacher_substeps`` equal to them (e.g. a 20-step teacher
    teaches a 10-step student with 2 substeps). A teacher that was not step-distilled can be run at any grid.

    Args:
        teacher_checkpoint: the teacher's loaded checkpoint dict (``DiffusionGenerator.checkpoint``).
        student_steps: steps of the new student.
        teacher_substeps: teacher steps per student step.

    Raises:
        ValueError: when the grids do not match.
    """
    record = teacher_checkpoint.get("step_distillation")
    if not isinstance(record, Mapping):
        return
    teacher_steps = int(record.get("student_steps", -1))
    if int(student_steps) * int(teacher_substeps) != teacher_steps:
        raise ValueError(
            f"check_step_teacher: the teacher was step-distilled for {teacher_steps} steps, but student_steps "
            f"{student_steps} x teacher_substeps {teacher_substeps} = {int(student_steps) * int(teacher_substeps)}; "
            f"use student_steps {teacher_steps // max(int(teacher_substeps), 1)}."
        )
