"""Step distillation: one student DDIM step lands where the teacher's substeps land; grid, checks and sampling."""

from __future__ import annotations

import warnings

import pytest
import torch
from monai.engines import SupervisedTrainer

from monai_medienet.engines import (
    StepDistillationPrepareBatch,
    check_step_teacher,
    distillation_student,
    generate_synthetic,
    load_diffusion_generator,
)
from monai_medienet.handlers import atomic_torch_save
from monai_medienet.inferers import ClassConditionalLatentDiffusionInferer
from monai_medienet.losses import get_diffusion_loss
from monai_medienet.schedulers import DPMSolverMultistepScheduler, get_scheduler, trailing_timesteps

T = 100


def _setup(make, student_steps=5, teacher_substeps=2, num_train_timesteps=T, **kw):
    teacher = make()
    scheduler = get_scheduler("ddpm", num_train_timesteps=num_train_timesteps)
    teacher_inferer = ClassConditionalLatentDiffusionInferer(scheduler)
    pb = StepDistillationPrepareBatch(
        teacher, teacher_inferer, student_steps, num_train_timesteps, num_classes=2, latent_shape=(2, 8, 8),
        teacher_substeps=teacher_substeps, seed=0, **kw,
    )  # fmt: skip
    return teacher, teacher_inferer, pb


def _ddim(steps, clip=None):
    kw = {"clip_sample": True, "clip_sample_min": clip[0], "clip_sample_max": clip[1]} if clip else {}
    return DPMSolverMultistepScheduler(T, "scaled_linear_beta", solver_order=1, timestep_spacing="trailing",
                                       beta_start=0.0015, beta_end=0.0195, **kw)  # fmt: skip


@pytest.mark.parametrize("teacher_substeps,clip", [(2, None), (3, None), (2, (-0.5, 0.5))])
def test_one_student_step_lands_on_the_teachers_substeps(tiny_class_unet, teacher_substeps, clip):
    teacher, teacher_inferer, pb = _setup(tiny_class_unet, teacher_substeps=teacher_substeps, clip_sample_range=clip)
    images = torch.randn(6, 2, 8, 8)
    latents, target, args, kw = pb({"image": images, "label": torch.tensor([0, 1] * 3)})
    assert args == () and set(kw) == {"noise", "timesteps", "class_labels"}
    assert set(kw["timesteps"].tolist()) <= set(trailing_timesteps(T, 5).tolist())
    noisy = teacher_inferer.scheduler.add_noise(latents, kw["noise"], kw["timesteps"])
    fine, coarse = _ddim(5 * teacher_substeps, clip), _ddim(5)  # the student's own step is not clamped here
    fine.set_timesteps(5 * teacher_substeps)
    coarse.set_timesteps(5)
    for b in range(6):  # the same substeps with the sampler the bundles use (first-order DPM-Solver++ = DDIM)
        z, t = noisy[b : b + 1], int(kw["timesteps"][b])
        ts = fine.timesteps.tolist()
        for m in range(teacher_substeps):
            tm = ts[ts.index(t) + m]
            with torch.no_grad():
                eps = teacher(z, timesteps=torch.tensor([tm]), class_labels=kw["class_labels"][b : b + 1])
            z, _ = fine.step(eps, tm, z)
        one, _ = coarse.step(target[b : b + 1], t, noisy[b : b + 1])
        torch.testing.assert_close(one, z, rtol=1e-4, atol=1e-4)


def test_targets_cover_the_grid_and_differ_from_the_teachers_own_prediction(tiny_class_unet):
    teacher, _, pb = _setup(tiny_class_unet, student_steps=2)
    images = torch.randn(4, 2, 8, 8)
    _, target, _, kw = pb({"image": images, "label": torch.tensor([0, 1, 0, 1])})
    assert torch.isfinite(target).all() and target.dtype == torch.float32
    assert set(kw["timesteps"].tolist()) == {99, 49}
    with torch.no_grad():  # two teacher steps are not one: the student has something to learn
        own = pb.teacher_target(pb.teacher_inferer.scheduler.add_noise(images, kw["noise"], kw["timesteps"]),
                                kw["timesteps"], kw["class_labels"])  # fmt: skip
    assert (target - own).abs().max() > 1e-3


def test_trainer_moves_the_student_towards_the_targets_and_bf16_teacher_is_a_copy(tiny_class_unet):
    teacher, _, pb = _setup(tiny_class_unet, teacher_dtype=torch.bfloat16)
    assert next(teacher.parameters()).dtype == torch.float32 and next(pb.teacher.parameters()).dtype == torch.bfloat16
    student = distillation_student(tiny_class_unet(seed=1))
    inferer = ClassConditionalLatentDiffusionInferer(get_scheduler("ddpm", num_train_timesteps=T))
    loss = get_diffusion_loss("l2")
    data = [{"image": torch.randn(8, 2, 8, 8), "label": torch.tensor([0, 1] * 4)}]
    fixed = [pb(data[0])]

    def gap():
        with torch.no_grad():
            return sum(loss(inferer(lat, student.eval(), **kw), tgt).item() for lat, tgt, _, kw in fixed)

    before = gap()
    trainer = SupervisedTrainer(
        device=torch.device("cpu"), max_epochs=30, train_data_loader=data, network=student.train(),
        optimizer=torch.optim.Adam(student.parameters(), 1e-3), loss_function=loss, inferer=inferer, prepare_batch=pb,
    )  # fmt: skip
    trainer.run()
    assert gap() < 0.5 * before


def test_errors(tiny_class_unet):
    teacher = tiny_class_unet()
    inferer = ClassConditionalLatentDiffusionInferer(get_scheduler("ddpm", num_train_timesteps=T))
    cases = [
        ({"student_steps": 0}, "StepDistillationPrepareBatch: student_steps must be >= 1, got 0"),
        ({"teacher_substeps": 1}, "teacher_substeps must be >= 2, got 1"),
        ({"student_steps": 60}, "student_steps \\* teacher_substeps = 120 exceeds num_train_timesteps 100"),
        ({"clip_sample_range": (1.0, -1.0)}, "clip_sample_range must be \\(lo, hi\\) with lo < hi"),
    ]
    for kw, match in cases:
        args = {"student_steps": 5, **kw}
        with pytest.raises(ValueError, match=match):
            StepDistillationPrepareBatch(teacher, inferer, num_train_timesteps=T, num_classes=2,
                                         latent_shape=(2, 8, 8), **args)  # fmt: skip
    check_step_teacher({}, 10, 2)  # not step-distilled: any grid
    check_step_teacher({"step_distillation": {"student_steps": 20}}, 10, 2)
    with pytest.raises(ValueError, match="step-distilled for 20 steps, but student_steps 5 x teacher_substeps 2 = 10"):
        check_step_teacher({"step_distillation": {"student_steps": 20}}, 5, 2)


def test_step_distilled_checkpoint_samples_on_its_grid_and_warns_off_it(tiny_diffusion_checkpoint, tmp_path):
    ckpt = torch.load(tiny_diffusion_checkpoint(), weights_only=True)
    ckpt["step_distillation"] = {"student_steps": 2, "sampler": "dpmpp_1", "timestep_spacing": "trailing"}
    path = atomic_torch_save(ckpt, tmp_path / "steps2.pt")
    gen = load_diffusion_generator(path)
    assert gen.step_distillation["student_steps"] == 2
    sampler = gen.make_sampler("dpmpp_1")
    sampler.set_timesteps(2)
    expected = trailing_timesteps(gen.scheduler_config["num_train_timesteps"], 2).tolist()
    assert sampler.timestep_spacing == "trailing" and sampler.timesteps.tolist() == expected
    assert not hasattr(gen.make_sampler("ddim"), "timestep_spacing")  # MONAI's DDIM as it is
    # an explicit spacing or clamp mode replaces the student's grid / the checkpoint's setting
    other = gen.make_sampler("dpmpp_2m", timestep_spacing="logsnr", clip_mode="data")
    assert other.timestep_spacing == "logsnr" and other.clip_mode == "data"
    kw = {"num_per_class": 1, "progress": False, "guidance_scale": 1.0}
    with pytest.warns(UserWarning, match="step-distilled for sampler 'dpmpp_1' at 2 steps; sampling it with 'ddim'"):
        generate_synthetic(path, tmp_path / "a", sampler="ddim", num_inference_steps=2, **kw)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*step-distilled.*")
        generate_synthetic(path, tmp_path / "b", sampler="dpmpp_1", num_inference_steps=2, **kw)


def test_truncated_snr_weighting_weights_high_noise_steps_and_the_loss_uses_it(tiny_class_unet):
    from monai_medienet.losses import WeightedDiffusionLoss

    _, _, plain = _setup(tiny_class_unet, num_train_timesteps=1000)  # the bundles' schedule: SNR << 1 at high noise
    _, _, weighted = _setup(tiny_class_unet, num_train_timesteps=1000, loss_weighting="truncated_snr")
    batch = {"image": torch.randn(6, 2, 8, 8), "label": torch.tensor([0, 1] * 3)}
    _, target, _, kw = plain(batch)
    _, out, _, kw_w = weighted(batch)
    torch.testing.assert_close(out["target"], target)  # same draws: same targets, plus weights
    acp = weighted.teacher_inferer.scheduler.alphas_cumprod.double()[kw_w["timesteps"]]
    torch.testing.assert_close(out["weight"], ((1 - acp) / acp).clamp(min=1).float())
    assert out["weight"].max() > 10  # high-noise steps count far more than in the noise-space loss
    loss = WeightedDiffusionLoss("l2")
    pred = torch.zeros_like(target)
    per = target.pow(2).flatten(1).mean(1)
    torch.testing.assert_close(loss(pred, out), (out["weight"] * per).sum() / out["weight"].sum())
    torch.testing.assert_close(loss(pred, target), per.mean())
    with pytest.raises(ValueError, match="expected weights of shape \\(6,\\), got \\(3,\\)"):
        loss(pred, {"target": target, "weight": torch.ones(3)})
    with pytest.raises(ValueError, match="WeightedDiffusionLoss: reduction is fixed"):
        WeightedDiffusionLoss("l2", reduction="sum")
    with pytest.raises(ValueError, match="loss_weighting must be 'none' or 'truncated_snr', got 'snr'"):
        _setup(tiny_class_unet, loss_weighting="snr")
