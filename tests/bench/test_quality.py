"""``python -m bench.quality``: variant parsing, the Markdown table, and an end-to-end run on real data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from monai_medienet.handlers import atomic_torch_save

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `bench` is a top-level package of the repository, not installed
    sys.path.insert(0, str(REPO_ROOT))

from bench.quality import feature_classifier, main, parse_variant, to_markdown, variant_scheduler  # noqa: E402


def test_parse_variant():
    assert parse_variant("ddim:50:fp32") == {"sampler": "ddim", "steps": 50, "precision": "fp32", "seed": 0}
    assert parse_variant("dpmpp_2m:20:fast:1")["seed"] == 1
    lin = parse_variant("dpmpp_2m@linspace:20:fp32")
    assert lin["sampler"] == "dpmpp_2m@linspace" and lin["timestep_spacing"] == "linspace"
    assert "timestep_spacing" not in parse_variant("dpmpp_2m:20:fp32")
    only = parse_variant("2/dpmpp_1@trailing:10:fast")
    assert only["checkpoint_index"] == 2 and only["timestep_spacing"] == "trailing" and only["steps"] == 10
    assert "checkpoint_index" not in parse_variant("ddim:50:fp32")
    assert parse_variant("dpmpp_2m:40:fast:gi0.1-0.7")["guidance_interval"] == [0.1, 0.7]
    gi = parse_variant("ddim:50:fp32:3:gi0-0.5")
    assert gi["seed"] == 3 and gi["guidance_interval"] == [0.0, 0.5]
    assert "guidance_interval" not in parse_variant("ddim:50:fp32:1")
    assert parse_variant("ddim:200:fp32:clipoff")["clip"] == "off" and "clip" not in parse_variant("ddim:50:fp32")
    full = parse_variant("1/dpmpp_2m@trailing:20:fast:2:gi0.1-0.9:clipdata")
    assert (full["clip"], full["seed"], full["checkpoint_index"]) == ("data", 2, 1)
    assert full["guidance_interval"] == [0.1, 0.9]
    bound = parse_variant("dpmpp_2m:10:fast:clip2.5")
    assert (bound["clip"], bound["clip_bound"]) == ("ddim", 2.5) and "clip_bound_end" not in bound
    sched = parse_variant("dpmpp_2m:5:fast:clip2-3.5")
    assert (sched["clip"], sched["clip_bound"], sched["clip_bound_end"]) == ("ddim", 2.0, 3.5)
    bad_variants = (
        "ddim:50", "ddim:x:fp32", "ddim:50:fp8", "a:1:fp32:2:3", "ddim@linspace:50:fp32", "dpmpp_2m@x:9:fp32",
        "ddim:50:fp32:gi0.5", "ddim:50:fp32:gi0.7-0.2", "ddim:50:fp32:gia-b", "ddim:50:fp32:gi0-1:2",
        "x/ddim:50:fp32", "/ddim:50:fp32", "ddim@trailing:50:fp32", "ddim:50:fp32:clipdata", "ddim:50:fp32:clip",
        "ddim:50:fp32:clipoff:1", "ddim:50:fp32:clipoff:clipoff", "ddim:50:fp32:clip0", "ddim:50:fp32:clipx",
        "ddim:50:fp32:clip2-4", "dpmpp_2m:5:fast:clip2-0", "dpmpp_2m:5:fast:clip2-x",
    )  # fmt: skip
    for bad in bad_variants:
        with pytest.raises(ValueError, match="parse_variant"):
            parse_variant(bad)


def test_markdown_reports_fid_change_relative_to_the_first_row():
    meta = {
        "checkpoint": "c.pt", "guidance_scale": 2.0, "num_per_class": 4, "classes": ["a", "b"], "threads": 1,
        "feature_classifier": {"network": "resnet18", "steps": 3, "best_val_auroc": 0.9},
        "fid_real_val_vs_test": 1.5,
    }  # fmt: skip
    rows = [
        {"sampler": "ddim", "steps": 50, "resolved_precision": "fp32", "seed": 0, "images_per_s": 2.0,
         "fid_vs_test": 10.0},
        {"sampler": "dpmpp_2m", "steps": 20, "resolved_precision": "fp32", "seed": 0, "images_per_s": 5.0,
         "fid_vs_test": 10.4, "fid_vs_reference_set": 0.7, "mean_abs_pixel_diff_vs_reference": 0.01},
    ]  # fmt: skip
    md = to_markdown({"meta": meta, "rows": rows})
    assert "| ddim | 50 | fp32 | 0 | 2.0 | 1.00x | 10.00 | ref |" in md
    assert "| dpmpp_2m | 20 | fp32 | 0 | 5.0 | 2.50x | 10.40 | +4.0 % | 0.70 | 0.0100 |" in md
    # several checkpoints: a checkpoint column, label agreement, the first row stays the reference
    meta2 = {
        **meta,
        "checkpoints": ["c.pt", "light.pt"],
        "real_test_label_agreement": {"label_agreement": 0.9, "label_agreement_per_class": [0.8, 1.0]},
    }
    rows2 = [
        {**rows[0], "checkpoint": "c.pt", "label_agreement": 0.75, "label_agreement_per_class": [0.5, 1.0]},
        {**rows[1], "checkpoint": "light.pt", "label_agreement": 1.0, "label_agreement_per_class": [1.0, 1.0]},
    ]
    md2 = to_markdown({"meta": meta2, "rows": rows2})
    assert "Checkpoints `c.pt`, `light.pt`" in md2 and "real test images: 0.900 (per class 0.800, 1.000)" in md2
    assert "| c.pt | ddim | 50 | fp32 | 0 | 2.0 | 1.00x | 10.00 | ref | nan | nan | 0.750 (0.500, 1.000) |" in md2
    assert "| light.pt | dpmpp_2m | 20 | fp32 | 0 | 5.0 | 2.50x | 10.40 | +4.0 % |" in md2
    md3 = to_markdown({"meta": meta, "rows": [rows[0], {**rows[1], "guidance_interval": [0.1, 0.7]}]})
    assert "| dpmpp_2m, guided 0.1-0.7 | 20 | fp32 |" in md3
    md4 = to_markdown({"meta": meta, "rows": [rows[0], {**rows[1], "distilled_guidance_scale": 2.0}]})
    assert "| dpmpp_2m, guidance 2 distilled (sampled at 1) | 20 | fp32 |" in md4
    md5 = to_markdown({"meta": meta, "rows": [rows[0], {**rows[1], "clip": "off", "fid_vs_val": 3.25}]})
    assert "| dpmpp_2m, no clamp | 20 | fp32 |" in md5 and "| 3.25 |" in md5
    md6 = to_markdown({"meta": meta, "rows": [rows[0], {**rows[1], "clip": "ddim", "clip_bound": 2.5}]})
    assert "| dpmpp_2m, DDIM clamp ±2.5 | 20 | fp32 |" in md6
    md7 = to_markdown(
        {"meta": meta, "rows": [rows[0], {**rows[1], "clip": "ddim", "clip_bound": 2, "clip_bound_end": 4}]}
    )
    assert "| dpmpp_2m, DDIM clamp ±2 → ±4 (schedule over sigma) | 20 | fp32 |" in md7


def test_variant_scheduler_clamp_and_spacing():
    from types import SimpleNamespace

    from monai.networks.schedulers import DDIMScheduler

    from monai_medienet.engines import DiffusionGenerator
    from monai_medienet.schedulers import DPMSolverMultistepScheduler

    config = {"num_train_timesteps": 1000, "clip_sample": True, "clip_sample_min": -4.0, "clip_sample_max": 4.0}
    gen = SimpleNamespace(scheduler_config=config, step_distillation=None)  # a generator's sampler settings only
    gen.make_sampler = lambda *args, **kwargs: DiffusionGenerator.make_sampler(gen, *args, **kwargs)
    assert variant_scheduler(gen, parse_variant("ddim:50:fp32")).clip_sample  # the checkpoint's clamp
    off = variant_scheduler(gen, parse_variant("ddim:50:fp32:clipoff"))
    assert isinstance(off, DDIMScheduler) and not off.clip_sample
    data = variant_scheduler(gen, parse_variant("dpmpp_2m:20:fast:clipdata"))
    assert isinstance(data, DPMSolverMultistepScheduler) and data.clip_sample and data.clip_mode == "data"
    assert data.clip_sample_values == [-4.0, 4.0]
    trailing = variant_scheduler(gen, parse_variant("dpmpp_2m@trailing:20:fast:clipoff"))
    assert not trailing.clip_sample and trailing.timestep_spacing == "trailing"
    tight = variant_scheduler(gen, parse_variant("dpmpp_2m:10:fast:clip2.5"))
    assert tight.clip_sample and tight.clip_mode == "ddim" and tight.clip_sample_values == [-2.5, 2.5]
    assert variant_scheduler(gen, parse_variant("ddim:50:fp32:clip3")).clip_sample_values == [-3.0, 3.0]
    ramp = variant_scheduler(gen, parse_variant("dpmpp_2m:5:fast:clip2-4"))
    assert ramp.clip_sample_values == [-2.0, 2.0] and ramp.clip_sample_range_end == [-4.0, 4.0]
    assert config["clip_sample"]  # the generator's config is not changed
    # a step-distilled checkpoint keeps its trailing grid when only the clamp changes
    student = SimpleNamespace(**{**vars(gen), "step_distillation": {"timestep_spacing": "trailing"}})
    s = variant_scheduler(student, parse_variant("dpmpp_1:10:fast:clipoff"))
    s.set_timesteps(10)
    assert int(s.timesteps[0]) == 999 and not s.clip_sample


def test_feature_classifier_cache_round_trip_and_mismatch(tmp_path):
    g = torch.Generator().manual_seed(0)
    y_tr, y_va = torch.arange(16) % 2, torch.arange(8) % 2
    x_tr = torch.rand(16, 1, 32, 32, generator=g) + y_tr.view(-1, 1, 1, 1) * 0.5
    x_va = torch.rand(8, 1, 32, 32, generator=g) + y_va.view(-1, 1, 1, 1) * 0.5
    cache = tmp_path / "clf.pt"
    net, meta = feature_classifier(x_tr.numpy(), y_tr.numpy(), x_va.numpy(), y_va.numpy(), 2, steps=2, cache=cache)
    assert cache.is_file() and meta["cache"].startswith("wrote")
    again, meta2 = feature_classifier(x_tr.numpy(), y_tr.numpy(), x_va.numpy(), y_va.numpy(), 2, steps=2, cache=cache)
    assert meta2["cache"].startswith("loaded") and meta2["best_val_auroc"] == meta["best_val_auroc"]
    with torch.no_grad():
        assert torch.equal(net(x_va), again(x_va))  # the very same weights, eval mode
    other = x_tr.numpy().copy()
    other[0] += 0.1  # other training images: the cached classifier does not apply
    with pytest.raises(ValueError, match="feature_classifier"):
        feature_classifier(other, y_tr.numpy(), x_va.numpy(), y_va.numpy(), 2, steps=2, cache=cache)
    with pytest.raises(ValueError, match="feature_classifier"):
        feature_classifier(x_tr.numpy(), y_tr.numpy(), x_va.numpy(), y_va.numpy(), 2, steps=3, cache=cache)


def test_quality_end_to_end_on_pneumoniamnist(pneumoniamnist_npz, tiny_diffusion_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIENET_DATA_DIR", str(pneumoniamnist_npz.parent))
    ckpt = tiny_diffusion_checkpoint(ae_levels=3, image_size=32)  # PneumoniaMNIST 28 px padded to 32
    # a guidance-distilled copy (as the bundles' distill_guidance run id writes it) is sampled at guidance 1
    distilled = torch.load(ckpt, weights_only=True)
    distilled["guidance_distillation"] = {"guidance_scale": 2.0, "teacher_checkpoint_sha256": "t" * 64}
    distilled_path = atomic_torch_save(distilled, tmp_path / "distilled.pt")
    b = REPO_ROOT / "bundles" / "medienet_pneumoniamnist" / "configs"
    out, md = tmp_path / "q.json", tmp_path / "q.md"
    rc = main(
        [
            "--config_file", str([str(b / "common.yaml"), str(b / "smoke.yaml")]), "--checkpoint", str(ckpt), str(ckpt),
            str(distilled_path),
            "--variants", "ddim:3:fp32", "ddim:3:fp32:1", "dpmpp_2m:2:fast", "dpmpp_2m@linspace:2:fp32",
            "--num_per_class", "3",
            "--classifier_steps", "2", "--threads", "1", "--out", str(out), "--markdown", str(md),
        ]
    )  # fmt: skip
    assert rc == 0
    text = md.read_text()
    assert "| ddim | 3 | fp32 | 0 |" in text and "| ddim | 3 | fp32 | 1 |" in text and "| dpmpp_2m | 2 |" in text
    assert "| dpmpp_2m@linspace | 2 | fp32 |" in text
    import json

    res = json.loads(out.read_text())
    assert [r["images"] for r in res["rows"]] == [6] * 12  # 4 variants x 3 checkpoints
    assert [r["guidance_scale"] for r in res["rows"]] == [2.0] * 8 + [1.0] * 4
    assert [r["distilled_guidance_scale"] for r in res["rows"]] == [None] * 8 + [2.0] * 4
    assert "guidance 2 distilled (sampled at 1)" in text
    assert res["rows"][3]["timestep_spacing"] == "linspace"
    assert res["rows"][1]["mean_abs_pixel_diff_vs_reference"] > 0  # another noise seed gives other images
    # the second checkpoint (the same file) starts its own reference and reproduces the first one's images
    assert "mean_abs_pixel_diff_vs_reference" not in res["rows"][4]
    assert res["rows"][4]["fid_vs_test"] == pytest.approx(res["rows"][0]["fid_vs_test"], rel=1e-5)
    assert all(0.0 <= a <= 1.0 for r in res["rows"] for a in r["label_agreement_per_class"])
