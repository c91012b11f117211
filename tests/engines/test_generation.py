"""load_diffusion_generator / generate_synthetic on a tiny checkpoint built in the test."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from monai_medienet.engines import generate_synthetic, load_diffusion_generator


@pytest.fixture
def checkpoint(tiny_diffusion_checkpoint):
    return tiny_diffusion_checkpoint()


def test_load_generator_uses_ema(checkpoint):
    g = load_diffusion_generator(checkpoint)
    ckpt = torch.load(checkpoint, weights_only=True)
    key = next(iter(ckpt["state"]["ema"]))
    assert torch.equal(g.network.state_dict()[key], ckpt["state"]["ema"][key])
    assert not torch.equal(g.network.state_dict()[key], ckpt["state"]["network"][key])
    assert g.classes == ["normal", "pneumonia"] and g.latent_shape == (2, 8, 8) and g.scale_factor == 0.8
    raw = load_diffusion_generator(checkpoint, use_ema=False)
    assert torch.equal(raw.network.state_dict()[key], ckpt["state"]["network"][key])


def test_generate_writes_manifest_and_is_reproducible(checkpoint, tmp_path):
    kwargs = {"num_per_class": 2, "num_inference_steps": 2, "sampler": "ddim", "batch_size": 3, "seed": 5,
              "progress": False}  # fmt: skip
    out = generate_synthetic(checkpoint, tmp_path / "a", crop_size=(14, 14), **kwargs)
    assert out["num_images"] == 4
    rows = list(csv.DictReader(open(tmp_path / "a" / "manifest.csv")))
    assert [(r["class_name"], int(r["seed"])) for r in rows] == [
        ("normal", 5), ("normal", 6), ("pneumonia", 7), ("pneumonia", 8)
    ]  # fmt: skip
    first = np.asarray(Image.open(tmp_path / "a" / rows[0]["path"]))
    assert first.shape == (14, 14)
    # the same seeds give the same images, whatever the batching
    generate_synthetic(checkpoint, tmp_path / "b", crop_size=(14, 14), **{**kwargs, "batch_size": 4})
    for r in rows:
        a = np.asarray(Image.open(tmp_path / "a" / r["path"]), dtype=np.int16)
        b = np.asarray(Image.open(tmp_path / "b" / r["path"]), dtype=np.int16)
        assert np.abs(a - b).max() <= 1
    with pytest.raises(FileExistsError):
        generate_synthetic(checkpoint, tmp_path / "a", **kwargs)  # no silent overwrite


def test_generate_errors(checkpoint, tmp_path):
    with pytest.raises(ValueError, match="num_per_class"):
        generate_synthetic(checkpoint, tmp_path, num_per_class=0)
    with pytest.raises(ValueError, match="not in the checkpoint classes"):
        generate_synthetic(checkpoint, tmp_path, classes=["covid"], progress=False)
    with pytest.raises(ValueError, match="crop_size"):
        generate_synthetic(checkpoint, tmp_path / "c", num_per_class=1, num_inference_steps=1, sampler="ddim",
                           crop_size=(64, 64), progress=False)  # fmt: skip
    with pytest.raises(ValueError, match=r"generate_synthetic: guidance_interval .* got \(0.8, 0.2\)"):
        generate_synthetic(checkpoint, tmp_path / "d", guidance_interval=(0.8, 0.2))


def test_generate_with_guidance_interval_records_it(checkpoint, tmp_path):
    import json

    kwargs = {"num_per_class": 1, "num_inference_steps": 4, "sampler": "ddim", "seed": 2, "progress": False,
              "guidance_scale": 3.0}  # fmt: skip
    out = generate_synthetic(checkpoint, tmp_path / "gi", guidance_interval=(0.3, 0.6), **kwargs)
    assert out["settings"]["guidance_interval"] == [0.3, 0.6]
    manifest = json.load(open(tmp_path / "gi" / "manifest.json"))
    assert manifest["provenance"]["guidance_interval"] == [0.3, 0.6]
    plain = generate_synthetic(checkpoint, tmp_path / "all", **kwargs)
    assert plain["settings"]["guidance_interval"] is None  # the sampling effect is tested on the inferer


def test_clip_sample_overrides_the_checkpoint_clamp(tiny_diffusion_checkpoint, tmp_path):
    import json

    path = tiny_diffusion_checkpoint()
    ckpt = torch.load(path, weights_only=True)
    # a clamp so tight that it is active at every step: sampling with and without it must differ
    ckpt["scheduler_config"].update(clip_sample=True, clip_sample_min=-0.05, clip_sample_max=0.05)
    torch.save(ckpt, tmp_path / "clamped.pt")
    gen = load_diffusion_generator(tmp_path / "clamped.pt")
    assert gen.make_sampler("ddim").clip_sample and not gen.make_sampler("ddim", clip_sample=False).clip_sample
    assert not gen.make_sampler("dpmpp_2m", clip_sample=False).clip_sample
    assert gen.scheduler_config["clip_sample"]  # the override does not change the generator
    kwargs = {"num_per_class": 1, "num_inference_steps": 3, "sampler": "dpmpp_2m", "seed": 1, "progress": False,
              "fmt": "nifti"}  # fmt: skip
    on = generate_synthetic(tmp_path / "clamped.pt", tmp_path / "on", **kwargs)
    off = generate_synthetic(tmp_path / "clamped.pt", tmp_path / "off", clip_sample=False, **kwargs)
    assert on["settings"]["clip_sample"] is True and off["settings"]["clip_sample"] is False
    assert json.load(open(tmp_path / "off" / "manifest.json"))["provenance"]["clip_sample"] is False
    import nibabel as nib

    rows = list(csv.DictReader(open(tmp_path / "on" / "manifest.csv")))
    a = np.asarray(nib.load(tmp_path / "on" / rows[0]["path"]).dataobj, dtype=np.float32)
    b = np.asarray(nib.load(tmp_path / "off" / rows[0]["path"]).dataobj, dtype=np.float32)
    assert np.abs(a - b).max() > 1e-3
    # a clamp range switches the clamp on, with that range, and is recorded
    plain = tiny_diffusion_checkpoint()
    g = load_diffusion_generator(plain)
    assert not g.make_sampler("ddim").clip_sample
    ranged = g.make_sampler("dpmpp_2m", clip_sample_range=(-2, 2))
    assert ranged.clip_sample and ranged.clip_sample_values == [-2.0, 2.0]
    assert not g.make_sampler("ddim", clip_sample=False, clip_sample_range=(-2, 2)).clip_sample
    out = generate_synthetic(plain, tmp_path / "ranged", clip_sample_range=[-0.05, 0.05], **kwargs)
    assert out["settings"]["clip_sample"] is True and out["settings"]["clip_sample_range"] == [-0.05, 0.05]
    assert off["settings"]["clip_sample_range"] is None
    for bad in ((1, -1), (0.5,), "ab"):
        with pytest.raises(ValueError, match="clip_sample_range"):
            generate_synthetic(plain, tmp_path / "bad", clip_sample_range=bad, **kwargs)
    with pytest.raises(ValueError, match="DiffusionGenerator.make_sampler: clip_sample_range"):
        g.make_sampler("ddim", clip_sample_range=(2, 2))
    # a clamp schedule (DPM-Solver++): recorded, changes the images, validated, refused for other samplers
    ramp = g.make_sampler("dpmpp_2m", clip_sample_range=(-2, 2), clip_sample_range_end=(-1, 1))
    assert ramp.clip_sample_range_end == [-1.0, 1.0]
    sched = generate_synthetic(
        plain, tmp_path / "sched", clip_sample_range=[-0.05, 0.05], clip_sample_range_end=[-0.01, 0.01], **kwargs
    )
    assert sched["settings"]["clip_sample_range_end"] == [-0.01, 0.01]
    assert out["settings"]["clip_sample_range_end"] is None
    rows = list(csv.DictReader(open(tmp_path / "sched" / "manifest.csv")))
    a = np.asarray(nib.load(tmp_path / "sched" / rows[0]["path"]).dataobj, dtype=np.float32)
    b = np.asarray(nib.load(tmp_path / "ranged" / rows[0]["path"]).dataobj, dtype=np.float32)
    assert np.abs(a - b).max() > 1e-4
    with pytest.raises(ValueError, match="generate_synthetic: clip_sample_range_end must have lo < hi"):
        generate_synthetic(plain, tmp_path / "bad", clip_sample_range_end=(1, -1), **kwargs)
    with pytest.raises(ValueError, match="make_sampler: clip_sample_range_end is a DPM-Solver"):
        g.make_sampler("ddim", clip_sample_range_end=(-1, 1))
    with pytest.raises(ValueError, match="make_sampler: clip_sample_range_end needs the clamp on"):
        g.make_sampler("dpmpp_2m", clip_sample_range_end=(-1, 1))  # this checkpoint does not clamp


class _FlagByCall:
    """A stand-in near-copy filter: flags the images at the given positions of the stream it is shown."""

    threshold, percentile = 0.5, 5.0

    def __init__(self, positions):
        self.positions, self.seen = set(positions), 0

    def __call__(self, images):
        flags = np.array([self.seen + i in self.positions for i in range(len(images))])
        self.seen += len(images)
        return flags


def test_generate_drops_near_copies_and_redraws_them_with_new_seeds(checkpoint, tmp_path):
    import json
    import warnings

    kwargs = {"num_per_class": 2, "num_inference_steps": 2, "sampler": "ddim", "batch_size": 4, "seed": 5,
              "progress": False, "crop_size": (14, 14)}  # fmt: skip
    # planned: normal 5, 6, pneumonia 7, 8; the 1st and 3rd are flagged and redrawn (same classes, seeds 9 and 10)
    out = generate_synthetic(checkpoint, tmp_path / "a", near_copy_filter=_FlagByCall({0, 2}), **kwargs)
    rows = list(csv.DictReader(open(tmp_path / "a" / "manifest.csv")))
    assert sorted((r["class_name"], int(r["seed"])) for r in rows) == [
        ("normal", 6), ("normal", 9), ("pneumonia", 8), ("pneumonia", 10)
    ]  # fmt: skip
    nc = out["near_copies"]
    assert out["num_images"] == 4 and nc["num_dropped"] == 2 and nc["redraw_rounds"] == 1
    assert [(d["class"], d["seed"]) for d in nc["dropped"]] == [("normal", 5), ("pneumonia", 7)]
    assert nc["missing_per_class"] == {"normal": 0, "pneumonia": 0}
    assert json.loads((tmp_path / "a" / "near_copies.json").read_text()) == nc
    # without redraws the flagged images are simply not written, and the shortfall is reported
    with pytest.warns(UserWarning, match="short of near-copy-free images"):
        out = generate_synthetic(
            checkpoint, tmp_path / "b", near_copy_filter=_FlagByCall({0, 2}), max_redraw_rounds=0, **kwargs
        )
    assert out["num_images"] == 2 and out["near_copies"]["missing_per_class"] == {"normal": 1, "pneumonia": 1}
    # nothing flagged: the same files as an unscreened run, and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = generate_synthetic(checkpoint, tmp_path / "c", near_copy_filter=_FlagByCall(set()), **kwargs)
    assert out["near_copies"]["num_dropped"] == 0 and out["num_images"] == 4
    with pytest.raises(ValueError, match="max_redraw_rounds"):
        generate_synthetic(checkpoint, tmp_path / "d", max_redraw_rounds=-1, **kwargs)


def test_generate_with_a_real_near_copy_filter_drops_a_copied_training_image(checkpoint, tmp_path):
    from monai_medienet.engines import iter_generated_batches
    from monai_medienet.metrics import NearCopyFilter

    gen = load_diffusion_generator(checkpoint)
    (copied, _), = iter_generated_batches(gen, [(0, 5)], 2.0, "ddim", 2, 1, None, (14, 14))  # fmt: skip
    # the generator's "training set" holds the image seed 5 draws; held-out images sit 1e-3 around it, so only
    # a (near-)identical image falls under the threshold
    g = torch.Generator().manual_seed(0)
    heldout = copied + 1e-3 * torch.randn(10, *copied.shape[1:], generator=g)
    screen = NearCopyFilter(copied, heldout, percentile=5.0)
    out = generate_synthetic(
        checkpoint, tmp_path, num_per_class=2, num_inference_steps=2, sampler="ddim", batch_size=4, seed=5,
        crop_size=(14, 14), near_copy_filter=screen, progress=False,
    )  # fmt: skip
    assert [(d["class"], d["seed"]) for d in out["near_copies"]["dropped"]] == [("normal", 5)]
    rows = list(csv.DictReader(open(tmp_path / "manifest.csv")))
    assert sorted(int(r["seed"]) for r in rows) == [6, 7, 8, 9]
    # images written at 16 px cannot be screened against a 14 px training set
    with pytest.raises(ValueError, match="NearCopyFilter: images of shape"):
        generate_synthetic(checkpoint, tmp_path / "x", num_per_class=1, num_inference_steps=1, sampler="ddim",
                           near_copy_filter=screen, progress=False)  # fmt: skip


def test_iter_generated_batches_uses_a_given_scheduler(checkpoint):
    from monai_medienet.engines import iter_generated_batches

    gen = load_diffusion_generator(checkpoint)
    jobs = [(0, 3), (1, 4)]
    by_name, _ = next(iter_generated_batches(gen, jobs, 2.0, "dpmpp_2m", 3, clip_sample_range=(-1.0, 1.0)))
    built = gen.make_sampler("dpmpp_2m", clip_sample_range=(-1.0, 1.0))
    # the clamp arguments are ignored when a scheduler is given: this one must reproduce the named call exactly
    given, _ = next(iter_generated_batches(gen, jobs, 2.0, "ddim", 3, clip_sample_range=(-4.0, 4.0), scheduler=built))
    assert torch.equal(given, by_name)
    unclamped, _ = next(iter_generated_batches(gen, jobs, 2.0, "dpmpp_2m", 3, clip_sample=False))
    assert not torch.equal(unclamped, by_name)  # the test would pass trivially if the clamp did nothing here
