"""How much of the step-distillation target has a student learned, along the sampling trajectory?

Starting from pure noise (as sampling does), the teacher walks the student's grid; at grid points j the script
compares the student's noise prediction with its one-step target (the eps that lands one student step on the
teacher's substeps) and reports  MSE(student, target) / MSE(teacher's own eps, target):  1 = learned nothing,
0 = learned the target exactly.

    python docs/results/step_distill_s14/gap.py [--noclip] TEACHER.pt STUDENT_STEPS SUBSTEPS STUDENT.pt [STUDENT.pt ...]

``--noclip`` (fifteenth session): the teacher's substeps do not clamp the data prediction, whatever its checkpoint's
``scheduler_config`` says (for students distilled with ``--scheduler_config#clip_sample False``).
"""

from __future__ import annotations

import sys

import torch

from monai_medienet.engines import StepDistillationPrepareBatch, load_diffusion_generator


def main(argv: list[str]) -> None:
    noclip = bool(argv) and argv[0] == "--noclip"
    argv = argv[1:] if noclip else argv
    teacher_path, n, k, students = argv[0], int(argv[1]), int(argv[2]), argv[3:]
    torch.set_num_threads(1)
    teacher = load_diffusion_generator(teacher_path)
    cfg = teacher.scheduler_config
    clip = (cfg["clip_sample_min"], cfg["clip_sample_max"]) if cfg.get("clip_sample") and not noclip else None
    pb = StepDistillationPrepareBatch(
        teacher.network, teacher.inferer, n, cfg["num_train_timesteps"], len(teacher.classes), teacher.latent_shape,
        teacher_substeps=k, clip_sample_range=clip,
    )  # fmt: skip
    nets = {s: load_diffusion_generator(s).network for s in students}
    b = 32
    labels = torch.tensor([0, 1] * (b // 2))
    z = torch.randn(b, *teacher.latent_shape, generator=torch.Generator().manual_seed(0))
    report = sorted({0, 1, n // 4, n - 1})
    print("| j | t | teacher vs target (MSE) | " + " | ".join(students) + " |")
    print("|---|---|---|" + "---|" * len(students))
    for j in range(n):
        t = torch.full((b,), int(pb.student_timesteps[j]))
        landed, end = pb.teacher_rollout(z, t, labels)
        if j in report:
            target = pb.student_target(z, end - k, landed, end)
            with torch.no_grad():
                base = (teacher.network(z, timesteps=t, class_labels=labels) - target).pow(2).mean().item()
                ratios = [
                    (net(z, timesteps=t, class_labels=labels) - target).pow(2).mean().item() / base
                    for net in nets.values()
                ]
            print(f"| {j} | {int(t[0])} | {base:.2e} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |", flush=True)
        z = landed


if __name__ == "__main__":
    main(sys.argv[1:])
