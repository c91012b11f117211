"""Guidance distillation: teacher targets from the PrepareBatch, a student trained by MONAI's SupervisedTrainer."""

from __future__ import annotations

import warnings

import pytest
import torch
from monai.engines import SupervisedTrainer

from monai_medienet.engines import (
    GuidanceDistillationPrepareBatch,
    check_distillation_data,
    distillation_student,
    generate_synthetic,
    load_diffusion_generator,
)
from monai_medienet.handlers import atomic_torch_save
from monai_medienet.inferers import ClassConditionalLatentDiffusionInferer
from monai_medienet.losses import get_diffusion_loss
from monai_medienet.schedulers import get_scheduler


def _setup(make, guidance_scale=2.0, **kw):
    teacher = make()
    scheduler = get_scheduler("ddpm", num_train_timesteps=100)
    teacher_inferer = ClassConditionalLatentDiffusionInferer(scheduler, autoencoder=None, scale_factor=0.5)
    pb = GuidanceDistillationPrepareBatch(
        teacher, teacher_inferer, guidance_scale, 100, num_classes=2, latent_shape=(2, 8, 8), seed=0, **kw
    )
    student_inferer = ClassConditionalLatentDiffusionInferer(scheduler, autoencoder=None, scale_factor=1.0)
    return teacher, teacher_inferer, pb, student_inferer


def test_target_is_the_teachers_guided_prediction_on_the_students_input(tiny_class_unet):
    teacher, teacher_inferer, pb, student_inferer = _setup(tiny_class_unet, guidance_scale=2.0)
    images = torch.rand(4, 2, 8, 8)
    latents, target, args, kw = pb({"image": images, "label": torch.tensor([0, 1, 1, 0])})
    assert args == () and set(kw) == {"noise", "timesteps", "class_labels"}
    torch.testing.assert_close(latents, images * 0.5)  # encoded once, with the teacher's scale factor
    assert kw["class_labels"].tolist() == [0, 1, 1, 0]  # no label dropout by default
    noisy = teacher_inferer.scheduler.add_noise(latents, kw["noise"], kw["timesteps"])
    with torch.no_grad():
        cond = teacher(noisy, timesteps=kw["timesteps"], class_labels=kw["class_labels"])
        null = teacher(noisy, timesteps=kw["timesteps"], class_labels=torch.full((4,), 2))
    torch.testing.assert_close(target, null + 2.0 * (cond - null), rtol=1e-4, atol=1e-5)
    # the student's inferer rebuilds exactly the teacher's input: a student equal to the teacher, distilled at
    # scale 1, has zero loss; at scale 2 it does not
    student = distillation_student(teacher)
    assert student.training and all(p.requires_grad for p in student.parameters())
    with torch.no_grad():
        pred = student_inferer(latents, student.eval(), **kw)
    torch.testing.assert_close(pred, cond)
    _, _, pb1, _ = _setup(tiny_class_unet, guidance_scale=1.0)
    latents1, target1, _, kw1 = pb1({"image": images, "label": torch.tensor([0, 1, 1, 0])})
    with torch.no_grad():
        assert get_diffusion_loss("l2")(student_inferer(latents1, student, **kw1), target1).item() < 1e-10
    assert (target - cond).abs().max() > 1e-3


def test_bf16_teacher_is_a_cast_copy_and_targets_stay_float32(tiny_class_unet):
    teacher, _, pb, _ = _setup(tiny_class_unet, teacher_dtype=torch.bfloat16)
    assert next(teacher.parameters()).dtype == torch.float32  # the caller's module is untouched
    assert next(pb.teacher.parameters()).dtype == torch.bfloat16
    _, target, _, _ = pb({"image": torch.rand(2, 2, 8, 8), "label": torch.tensor([0, 1])})
    assert target.dtype == torch.float32 and torch.isfinite(target).all()


def test_errors(tiny_class_unet):
    teacher = tiny_class_unet()
    inferer = ClassConditionalLatentDiffusionInferer(get_scheduler("ddpm", num_train_timesteps=10))
    with pytest.raises(ValueError, match="GuidanceDistillationPrepareBatch: guidance_scale must be > 0, got 0"):
        GuidanceDistillationPrepareBatch(teacher, inferer, 0, 10, 2, (2, 8, 8))
    with pytest.raises(ValueError, match="latent_shape is required"):
        GuidanceDistillationPrepareBatch(teacher, inferer, 2.0, 10, 2, None)
    with pytest.raises(ValueError, match="teacher_inferer needs encode, guided_prediction and scheduler"):
        GuidanceDistillationPrepareBatch(teacher, object(), 2.0, 10, 2, (2, 8, 8))
    pb = GuidanceDistillationPrepareBatch(teacher, inferer, 2.0, 10, 2, (2, 4, 4))
    with pytest.raises(ValueError, match=r"latent shape \(2, 8, 8\) of the teacher's autoencoder differs"):
        pb({"image": torch.rand(1, 2, 8, 8), "label": torch.tensor([0])})
    with pytest.raises(ValueError, match="expected a DiffusionGenerator or an nn.Module, got int"):
        distillation_student(3)
    check_distillation_data({"train_fingerprints": ["a", "b"]}, ["b", "a"])
    with pytest.raises(ValueError, match=r"\(1 images\) is not the teacher's training set \(2 images, 1 shared\)"):
        check_distillation_data({"train_fingerprints": ["a", "b"]}, ["a"])
    with pytest.raises(ValueError, match="no train_fingerprints"):
        check_distillation_data({}, ["a"])


def test_supervised_trainer_moves_the_student_towards_the_guided_teacher(tiny_class_unet):
    _, _, pb, student_inferer = _setup(tiny_class_unet, guidance_scale=3.0)
    student = distillation_student(tiny_class_unet(seed=1))  # another network: a clear gap to close
    torch.manual_seed(1)
    data = [{"image": torch.rand(8, 2, 8, 8), "label": torch.tensor([0, 1] * 4)}]
    loss = get_diffusion_loss("l2")

    def gap():
        with torch.no_grad():
            return sum(loss(student_inferer(lat, student.eval(), **kw), tgt).item() for lat, tgt, _, kw in fixed)

    fixed = [pb(data[0])]  # one batch of noise levels, held fixed to measure the student-teacher gap
    before = gap()
    trainer = SupervisedTrainer(
        device=torch.device("cpu"), max_epochs=30, train_data_loader=data, network=student.train(),
        optimizer=torch.optim.Adam(student.parameters(), 1e-3), loss_function=loss, inferer=student_inferer,
        prepare_batch=pb,
    )  # fmt: skip
    trainer.run()
    assert trainer.state.iteration == 30
    assert gap() < 0.5 * before


def test_sampling_a_distilled_checkpoint_with_guidance_warns(tiny_diffusion_checkpoint, tmp_path):
    path = tiny_diffusion_checkpoint()
    ckpt = torch.load(path, weights_only=True)
    ckpt["guidance_distillation"] = {"guidance_scale": 2.0, "teacher_checkpoint_sha256": "t" * 64}
    distilled = atomic_torch_save(ckpt, tmp_path / "distilled.pt")
    kw = {"num_per_class": 1, "num_inference_steps": 1, "sampler": "ddim", "progress": False}
    with pytest.warns(UserWarning, match="guidance scale 2.0 distilled into it; sampling it with guidance_scale=3"):
        generate_synthetic(distilled, tmp_path / "a", guidance_scale=3.0, **kw)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*distilled into it.*")
        generate_synthetic(distilled, tmp_path / "b", guidance_scale=1.0, **kw)
    assert load_diffusion_generator(distilled).checkpoint["guidance_distillation"]["guidance_scale"] == 2.0
