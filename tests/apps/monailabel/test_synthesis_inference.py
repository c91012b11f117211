"""SynthesisInference: one labelled synthetic image per request from a tiny diffusion checkpoint."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
import torch

from monai_medienet.apps.monailabel import SynthesisInference
from monai_medienet.engines import iter_generated_batches
from monai_medienet.transforms import raster_affine


def _read(path):
    return np.asarray(nib.load(path).dataobj)


@pytest.fixture
def task(tiny_diffusion_checkpoint):
    return SynthesisInference(tiny_diffusion_checkpoint(), device="cpu", num_inference_steps=2, max_inference_steps=5)


def test_same_seed_same_image_and_other_class_valid(task, tmp_path):
    request = {"label": "pneumonia", "seed": 7, "sampler": "ddim", "num_inference_steps": 2, "guidance_scale": 2.0}
    path_a, meta = task(request, tmp_path / "a")
    path_b, _ = task(dict(request), tmp_path / "b")
    a, b = _read(path_a), _read(path_b)
    assert a.shape == (16, 16) and np.array_equal(a, b)
    assert np.allclose(nib.load(path_a).affine, raster_affine())  # opens upright, like a PNG, in ITK viewers
    assert meta["label"] == "pneumonia" and meta["label_index"] == 1 and meta["seed"] == 7
    assert meta["sampler"] == "ddim" and meta["num_inference_steps"] == 2 and meta["guidance_scale"] == 2.0
    assert meta["synthetic"] is True and meta["classes"] == ["normal", "pneumonia"]
    # the repository's sampling loop, seeded per image like generate_synthetic
    ref, _ = next(iter_generated_batches(task.generator, [(1, 7)], 2.0, "ddim", 2, batch_size=1))
    assert np.allclose(a, ref[0, 0].numpy(), atol=1e-6)
    path_c, meta_c = task({**request, "label": "normal"}, tmp_path / "c")
    c = _read(path_c)
    assert meta_c["label_index"] == 0 and c.shape == (16, 16) and np.isfinite(c).all()
    assert c.min() >= 0.0 and c.max() <= 1.0  # (the untrained fixture's zero-initialised output ignores the class)
    assert not np.array_equal(a, _read(task({**request, "seed": 8}, tmp_path / "d")[0]))


def test_defaults_and_crop(tiny_diffusion_checkpoint, tmp_path):
    task = SynthesisInference(tiny_diffusion_checkpoint(), device="cpu", crop_size=(12, 12), num_inference_steps=1)
    path, meta = task({"label": "normal"}, tmp_path)
    assert _read(path).shape == (12, 12) and meta["crop_size"] == [12, 12]
    assert meta["seed"] == 0 and meta["sampler"] == "dpmpp_2m" and meta["num_inference_steps"] == 1
    assert meta["guidance_scale"] == 2.0


def test_server_clamp_and_schedule(tiny_diffusion_checkpoint, tmp_path):
    ckpt = tiny_diffusion_checkpoint()
    plain = SynthesisInference(ckpt, device="cpu", num_inference_steps=3)
    clamped = SynthesisInference(ckpt, device="cpu", num_inference_steps=3, clip_sample_range=(-0.05, 0.05))
    sched = SynthesisInference(
        ckpt, device="cpu", num_inference_steps=3, clip_sample_range=(-0.05, 0.05), clip_sample_range_end=(-0.01, 0.01)
    )
    request = {"label": "normal", "seed": 3}
    (pa, ma), (pb, mb), (pc, mc) = (t(request, tmp_path / str(i)) for i, t in enumerate((plain, clamped, sched)))
    assert ma["clip_sample_range"] is None and ma["clip_sample_range_end"] is None
    assert mb["clip_sample_range"] == [-0.05, 0.05] and mb["clip_sample_range_end"] is None
    assert mc["clip_sample_range_end"] == [-0.01, 0.01]
    a, b, c = _read(pa), _read(pb), _read(pc)
    assert not np.allclose(a, b) and not np.allclose(b, c)  # the clamp and its schedule change the image
    # the repository's loop with the same settings gives the same image
    ref, _ = next(
        iter_generated_batches(
            sched.generator, [(0, 3)], 2.0, "dpmpp_2m", 3, batch_size=1,
            clip_sample_range=(-0.05, 0.05), clip_sample_range_end=(-0.01, 0.01),
        )
    )  # fmt: skip
    assert np.allclose(c, ref[0, 0].numpy(), atol=1e-6)
    # a DDIM request uses the start range at every step (the schedule is a DPM-Solver++ option)
    pd, md = sched({**request, "sampler": "ddim"}, tmp_path / "d")
    assert md["clip_sample_range_end"] is None
    assert np.allclose(_read(pd), _read(clamped({**request, "sampler": "ddim"}, tmp_path / "e")[0]), atol=1e-6)
    with pytest.raises(ValueError, match="SynthesisInference: clip_sample_range_end needs clip_sample_range"):
        SynthesisInference(ckpt, device="cpu", clip_sample_range_end=(-1, 1))
    with pytest.raises(ValueError, match="SynthesisInference: clip_sample_range must have lo < hi"):
        SynthesisInference(ckpt, device="cpu", clip_sample_range=(1, -1))


@pytest.mark.parametrize(
    "request_, match",
    [
        ({}, r"the request needs 'label' \(one of \['normal', 'pneumonia'\]\)"),
        ({"label": "cat"}, r"label must be one of \['normal', 'pneumonia'\], got 'cat'"),
        ({"label": "normal", "seed": -1}, "seed must be >= 0, got -1"),
        ({"label": "normal", "seed": "abc"}, "seed must be an integer, got 'abc'"),
        ({"label": "normal", "num_inference_steps": 0}, "num_inference_steps must be >= 1, got 0"),
        ({"label": "normal", "num_inference_steps": 6}, "num_inference_steps must be <= 5, got 6"),
        ({"label": "normal", "guidance_scale": "strong"}, "guidance_scale must be a number, got 'strong'"),
        ({"label": "normal", "guidance_scale": float("nan")}, "guidance_scale must be a finite number"),
        ({"label": "normal", "sampler": "euler"}, r"sampler must be one of \[.*'dpmpp_2m'.*\], got 'euler'"),
    ],
)
def test_bad_requests_name_the_class_and_value(task, request_, match):
    with pytest.raises(ValueError, match=f"SynthesisInference: {match}"):
        task.parse_request(request_)


def test_bad_construction(tiny_diffusion_checkpoint, tmp_path):
    with pytest.raises(FileNotFoundError, match="SynthesisInference: no diffusion checkpoint"):
        SynthesisInference(tmp_path / "missing.pt")
    ckpt = tiny_diffusion_checkpoint()
    with pytest.raises(ValueError, match="SynthesisInference: sampler must be one of .* got 'euler'"):
        SynthesisInference(ckpt, sampler="euler")
    with pytest.raises(ValueError, match=r"SynthesisInference: crop_size must have one size per spatial axis"):
        SynthesisInference(ckpt, crop_size=(8,))
    assert torch.load(ckpt, weights_only=True)["classes"] == ["normal", "pneumonia"]
