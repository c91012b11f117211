"""The benchmark harness: planning, worker, aggregation (paired ratios), Markdown, and ``python -m bench --quick``.

No timing assertions anywhere: the figures depend on the machine and its load; only structure and arithmetic are
checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `bench` is a top-level package of the repository, not installed
    sys.path.insert(0, str(REPO_ROOT))

from bench.__main__ import build_parser  # noqa: E402
from bench.config import get_profile, latent_shape  # noqa: E402
from bench.report import main as report_main  # noqa: E402
from bench.report import to_markdown  # noqa: E402
from bench.runner import case_key, plan, summarise  # noqa: E402
from bench.worker import run_spec  # noqa: E402


def test_profiles_and_latent_shape():
    full, quick = get_profile("full"), get_profile("quick")
    assert full["num_images"] == 16 and full["ddim_steps"] == 50 and full["dpm_steps"] == 20
    assert sorted(full["image_sizes"]) == [32, 64]
    assert latent_shape(full, 64, 16) == (16, 4, 16, 16)
    assert latent_shape(full, 32, 16) == (16, 4, 8, 8)
    quick["num_images"] = -1  # a copy: the stored profile is untouched
    assert get_profile("quick")["num_images"] == 2
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("huge")


def test_plan_pairs_reference_and_medienet_cases():
    rep, once = plan("full", native_bf16=True)
    keys = [case_key(s) for s in rep]
    assert len(keys) == len(set(keys))
    for size in (32, 64):
        for pipe in ("monai_ref", "medienet_default", "medienet_fast", "medienet_distilled", "medienet_steps10",
                     "medienet_steps5", "medienet_distilled_dpm5"):  # fmt: skip
            assert f"sample[image_size={size},pipeline={pipe}]" in keys
    assert "train[image_size=64,pipeline=monai_ref]" in keys and "train[image_size=64,pipeline=medienet_fast]" in keys
    assert "matmul_peak[dtype=bf16]" in keys and "matmul_peak[dtype=fp32]" in keys
    assert not any("compile=True" in k or "fast_compile" in k for k in keys)
    assert {s["case"] for s in once} == {"agreement", "profile"}
    assert "augment[image_size=32,track_meta=True]" in keys and "augment[image_size=32,track_meta=False]" in keys
    for d in ("fp32", "bf16"):  # the evaluation's classifier step at both of its precisions (EvaluationConfig.bf16)
        for n in ("resnet18", "resnet50"):
            assert f"classifier[dtype={d},image_size=64,name={n}]" in keys
    rep_c, _ = plan("full", compile=True, native_bf16=True)
    assert any("medienet_fast_compile" in case_key(s) for s in rep_c)
    assert "sample[image_size=64,pipeline=medienet_distilled_compile]" in [case_key(s) for s in rep_c]
    assert "sample[image_size=64,pipeline=medienet_steps5_compile]" in [case_key(s) for s in rep_c]
    assert "sample[image_size=64,pipeline=medienet_distilled_dpm5_compile]" in [case_key(s) for s in rep_c]
    sub, _ = plan("full", compile=True, only=["fast_compile", "compile=True"], native_bf16=True)
    assert [case_key(s) for s in sub] == [
        "sample[image_size=64,pipeline=medienet_fast_compile]",
        "forward[compile=True,dtype=bf16,image_size=64,kind=medienet]",
        "forward[batch=128,compile=True,dtype=bf16,image_size=64,kind=medienet]",
    ]
    # the pool-writing batch (CFG of 64 images), plain MONAI and MedIENet at the fast-path precision
    assert {"forward[batch=128,dtype=bf16,image_size=64,kind=monai_cond]",
            "forward[batch=128,dtype=bf16,image_size=64,kind=medienet]"} <= {case_key(s) for s in rep_c}  # fmt: skip
    only, once_only = plan("quick", only=["train"])
    assert {s["case"] for s in only} == {"train"} and once_only == []


def _res(case, params, result, repeat, load=1.0):
    return {
        "case": case,
        "params": params,
        "result": result,
        "ok": True,
        "repeat": repeat,
        "peak_rss_mb": 100.0 + repeat,
        "loadavg_before": [load, 0, 0],
        "loadavg_after": [load + 1, 0, 0],
    }


def test_summarise_medians_and_paired_ratios():
    results = []
    ref_ips, fast_ips = [2.0, 1.0, 4.0], [20.0, 12.0, 30.0]
    for r in range(3):
        results.append(_res("sample", {"pipeline": "monai_ref", "image_size": 64}, {"images_per_s": ref_ips[r]}, r))
        results.append(
            _res("sample", {"pipeline": "medienet_fast", "image_size": 64}, {"images_per_s": fast_ips[r]}, r)
        )
        for pipe, ips in (("medienet_distilled_dpm5", 30.0), ("medienet_steps10", 12.0)):
            results.append(_res("sample", {"pipeline": pipe, "image_size": 64}, {"images_per_s": ips}, r))
        results.append(_res("matmul_peak", {"dtype": "bf16"}, {"gflops_best": 100.0, "gflops_median": 90.0}, r))
        fwd = {"gflops_achieved": 40.0 + r, "seconds": 1.0}
        results.append(_res("forward", {"kind": "medienet", "dtype": "bf16", "image_size": 64}, fwd, r))
        results.append(_res("forward", {"kind": "monai_cond", "dtype": "bf16", "image_size": 64}, {"seconds": 0.8}, r))
        big = {"dtype": "bf16", "image_size": 64, "batch": 128}
        results.append(_res("forward", {"kind": "medienet", **big}, {"gflops_achieved": 60.0, "seconds": 3.0}, r))
        results.append(_res("forward", {"kind": "monai_cond", **big}, {"seconds": 2.0}, r))
        for d, ms in (("fp32", 1000.0), ("bf16", 250.0 + 50 * r)):
            clf_params = {"name": "resnet18", "dtype": d, "image_size": 64}
            results.append(_res("classifier", clf_params, {"ms_per_step": ms}, r))
    results.append({"case": "train", "params": {"pipeline": "monai_ref", "image_size": 64}, "ok": False, "error": "x"})
    summary = summarise(results)
    cases = summary["cases"]
    ref = cases["sample[image_size=64,pipeline=monai_ref]"]
    assert ref["images_per_s"] == {"median": 2.0, "min": 1.0, "max": 4.0, "n": 3}
    assert ref["peak_rss_mb"]["max"] == 102.0
    assert ref["loadavg_1min"]["min"] == 1.0 and ref["loadavg_1min"]["max"] == 2.0
    assert not any(k.startswith("train[") for k in cases)  # failed cases are not summarised
    der = summary["derived"]
    speed = der["sampling_speedup[medienet_fast vs monai_ref, 64px]"]
    # paired per repeat: 10, 12, 7.5 -> median 10 (not the ratio of medians, 20 / 2 = 10 by coincidence; check spread)
    assert speed["median"] == pytest.approx(10.0) and speed["min"] == pytest.approx(7.5) and speed["max"] == 12.0
    # step-count pipelines get their own speed-ups, each against the same repeat's reference
    assert der["sampling_speedup[medienet_distilled_dpm5 vs monai_ref, 64px]"]["max"] == pytest.approx(30.0)
    assert der["sampling_speedup[medienet_steps10 vs monai_ref, 64px]"]["min"] == pytest.approx(3.0)
    frac = der["forward_fraction_of_peak[forward[dtype=bf16,image_size=64,kind=medienet]]"]
    assert frac["median"] == pytest.approx(0.41)
    assert der["forward_time_overhead[medienet vs monai_cond, bf16]"]["median"] == pytest.approx(0.25)
    # the large-batch forward gets its own figures (not mixed into the CFG-batch ones)
    assert der["forward_fraction_of_peak[forward[batch=128,dtype=bf16,image_size=64,kind=medienet]]"][
        "median"
    ] == pytest.approx(0.6)
    assert der["forward_time_overhead[medienet vs monai_cond, bf16, batch 128]"]["median"] == pytest.approx(0.5)
    clf = der["classifier_speedup[bf16 vs fp32, resnet18]"]  # fp32 ms / bf16 ms per repeat: 4, 3.33, 2.86
    assert clf["median"] == pytest.approx(1000 / 300) and clf["max"] == pytest.approx(4.0)
    md = to_markdown(
        {
            "meta": {
                "command": "python -m bench",
                "started_utc": "t0",
                "profile": "full",
                "repeats": 3,
                "isolated_subprocesses": True,
                "processor": "cpu",
                "cpu_count": 2,
                "python": "3",
                "loadavg_start": [1.0, 1.0, 1.0],
                "loadavg_end": [2.0, 2.0, 2.0],
            },
            "summary": summary,
        }
    )
    assert "| 64 | monai_ref | 2 [1-4] |" in md
    assert "sampling_speedup[medienet_fast vs monai_ref, 64px] | 10 [7.5-12]" in md


def test_report_main_rerenders_saved_json(tmp_path):
    report = {
        "meta": {
            "command": "python -m bench --quick",
            "started_utc": "t0",
            "profile": "quick",
            "repeats": 1,
            "isolated_subprocesses": False,
            "processor": "cpu",
            "cpu_count": 2,
            "python": "3",
            "loadavg_start": [0.5, 0.5, 0.5],
        },
        "summary": summarise([_res("data_npz", {"image_size": 32}, {"images_per_s": 123.0}, 0)]),
    }
    src, dst = tmp_path / "r.json", tmp_path / "r.md"
    src.write_text(json.dumps(report))
    assert report_main([str(src), str(dst)]) == 0
    text = dst.read_text()
    assert "| 32 | 123 | 100 | 1.5 [1.0-2.0] |" in text and "`python -m bench --quick`" in text
    assert report_main([]) == 2


def test_worker_runs_a_case_and_reports_errors():
    ok = run_spec({"case": "matmul_peak", "profile": "quick", "params": {"dtype": "fp32"}})
    assert ok["ok"] and ok["result"]["gflops_best"] > 0 and ok["result"]["n"] == 256
    assert len(ok["loadavg_before"]) == 3 and ok["peak_rss_mb"] > 0
    bad = run_spec({"case": "matmul_peak", "profile": "quick", "params": {"dtype": "int3"}})
    assert not bad["ok"] and "KeyError" in bad["error"]


def test_plan_without_native_bf16_runs_fp32_only_but_measures_the_bf16_peak():
    rep, once = plan("full", compile=True, native_bf16=False)
    keys = [case_key(s) for s in rep + once]
    bf16 = [k for k in keys if "dtype=bf16" in k]
    assert bf16 == ["matmul_peak[dtype=bf16]"]
    assert "classifier[dtype=fp32,image_size=64,name=resnet50]" in keys
    assert "forward[compile=True,dtype=fp32,image_size=64,kind=medienet]" in keys
    assert "forward[dtype=fp32,image_size=64,kind=medienet_norope]" in keys
    assert "forward[dtype=fp32,image_size=64,kind=medienet_light]" in keys


def test_distilled_pipeline_samples_at_guidance_one_with_half_the_network_work():
    from bench.cases import make_sampler
    from bench.config import QUICK

    _, fast = make_sampler(QUICK, "medienet_fast", 32)
    run, distilled = make_sampler(QUICK, "medienet_distilled", 32)
    assert fast["guidance_scale"] == QUICK["guidance_scale"] != 1.0 and distilled["guidance_scale"] == 1.0
    assert distilled["unet_flops_per_step"] * 2 == fast["unet_flops_per_step"]
    assert distilled["dtype"] == fast["dtype"] and distilled["steps"] == fast["steps"]
    assert torch.isfinite(run(2)).all()


def test_step_distilled_pipeline_runs_ddim_on_the_trailing_grid_at_guidance_one():
    from bench.cases import make_sampler
    from bench.config import QUICK

    _, distilled = make_sampler(QUICK, "medienet_distilled", 32)
    run, steps = make_sampler(QUICK, "medienet_steps3", 32)
    assert steps["steps"] == 3 and steps["guidance_scale"] == 1.0 and steps["dtype"] == distilled["dtype"]
    assert steps["unet_flops_per_step"] == distilled["unet_flops_per_step"]
    assert torch.isfinite(run(3)).all()
    with pytest.raises(ValueError, match="expected medienet_steps<N>"):
        make_sampler(QUICK, "medienet_stepsX", 32)


def test_distilled_dpm_pipeline_is_guidance_one_dpm_with_the_clamp_schedule():
    from bench.cases import make_sampler
    from bench.config import QUICK

    _, distilled = make_sampler(QUICK, "medienet_distilled", 32)
    run, info = make_sampler(QUICK, "medienet_distilled_dpm3", 32)
    assert info["steps"] == 3 and info["guidance_scale"] == 1.0 and info["dtype"] == distilled["dtype"]
    assert info["clip_schedule"] == [float(v) for v in QUICK["distilled_dpm_clip"]]
    assert info["unet_flops_per_step"] == distilled["unet_flops_per_step"]
    assert torch.isfinite(run(3)).all()
    with pytest.raises(ValueError, match="expected medienet_distilled_dpm<N>"):
        make_sampler(QUICK, "medienet_distilled_dpmX", 32)


def test_cli_parser():
    args = build_parser().parse_args(["--quick", "--out", "x.json", "--only", "sample", "train"])
    assert args.quick and args.out == "x.json" and args.only == ["sample", "train"] and not args.compile


@pytest.mark.slow
def test_quick_benchmark_runs_and_writes_json(tmp_path):
    out = tmp_path / "quick.json"
    md = tmp_path / "quick.md"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out), "--markdown", str(md)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,  # a guard against a hang, not a timing assertion (a loaded shared CPU took > 600 s)
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["meta"]["profile"] == "quick" and len(report["meta"]["loadavg_start"]) == 3
    failed = [(r["case"], r.get("error")) for r in report["results"] if not r["ok"]]
    assert failed == []
    names = {r["case"] for r in report["results"]}
    assert {"matmul_peak", "sample", "train", "forward", "autoencoder", "data_npz", "data_jpeg"} <= names
    assert {"augment", "classifier"} <= names
    assert "augment_speedup[track_meta off vs on, 32px]" in report["summary"]["derived"]
    for r in report["results"]:
        assert len(r["loadavg_before"]) == 3 and r["peak_rss_mb"] > 0
    samples = [r for r in report["results"] if r["case"] == "sample"]
    assert all(r["result"]["output_finite"] for r in samples)
    assert all(r["result"]["output_shape"] == [2, 1, 32, 32] for r in samples)
    if report["meta"]["medienet_available"]:
        assert any(k.startswith("sampling_speedup[medienet_fast") for k in report["summary"]["derived"])
        assert any(k.startswith("sampling_speedup[medienet_distilled") for k in report["summary"]["derived"])
    assert "### Sampling" in md.read_text()


def test_classifier_and_augment_cases_measure_the_evaluation_pieces():
    from bench.cases import case_augment, case_classifier
    from bench.config import QUICK

    r18 = case_classifier(QUICK, "resnet18", 32)
    r50 = case_classifier(QUICK, "resnet50", 32)
    assert r18["batch"] == QUICK["classifier_batch"] and r18["loss_finite"] and r50["loss_finite"]
    assert r18["ms_per_step"] > 0 and r18["gflops_achieved"] > 0
    assert r50["gflop_per_step"] > 1.5 * r18["gflop_per_step"]  # bottleneck blocks at 4x the width
    b18 = case_classifier(QUICK, "resnet18", 32, dtype="bf16")  # the evaluation's autocast: same FLOPs, finite loss
    assert b18["loss_finite"] and b18["gflop_per_step"] == pytest.approx(r18["gflop_per_step"])
    with pytest.raises(ValueError, match="case_classifier: dtype must be"):
        case_classifier(QUICK, "resnet18", 32, dtype="fp16")
    from monai.data import get_track_meta

    for track in (True, False):
        a = case_augment(QUICK, 32, track)
        assert a["images"] == QUICK["augment_images"] and a["images_per_s"] > 0
        assert get_track_meta() is True  # restored


@pytest.mark.parametrize("kind", ["medienet_norope", "medienet_nomulti", "medienet_light"])
def test_ablation_kinds_change_one_argument(kind):
    from bench.config import MEDIENET_ABLATIONS, build_unet, get_profile

    net = build_unet(get_profile("quick"), kind)
    ((arg, value),) = MEDIENET_ABLATIONS[kind].items()
    if arg == "rope":
        assert all(m.rope is None for m in net.modules() if type(m).__name__ == "MultiAttentionBlock")
    elif arg == "multi_attention":
        assert not any(type(m).__name__ == "MultiAttentionBlock" for m in net.modules())
    else:
        assert net.decoder_attention == value and net.timestep_class_embedding is not None
    with pytest.raises(ValueError, match="unknown U-Net kind"):
        build_unet(get_profile("quick"), "medienet_heavy")


def test_train_compile_measures_eager_steps_and_parses_targets():
    from bench import train_compile
    from bench.config import QUICK

    for target in ("classifier", "unet"):
        res = train_compile.measure(target, compiled=False, profile=QUICK)
        assert res["warmup_s"] > 0 and res["ms_per_step"] > 0 and res["loss_finite"]
    with pytest.raises(ValueError, match="target"):
        train_compile.measure("nonsense", compiled=False, profile=QUICK)
    with pytest.raises(SystemExit):
        train_compile.main(["--target", "nonsense"])
