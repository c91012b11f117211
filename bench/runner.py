"""Plan the cases, run each in a fresh worker subprocess (paired and repeated), and aggregate the results."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.config import MEDIENET_ABLATIONS, get_profile, medienet_available
from bench.worker import RESULT_PREFIX
from monai_medienet.utils import cpu_has_native_bf16

REPO_ROOT = Path(__file__).resolve().parents[1]

# The headline metric of each case (what the median / spread is reported for).
METRICS = {
    "matmul_peak": ["gflops_best", "gflops_median"],
    "sample": ["images_per_s", "seconds", "unet_gflop_per_image"],
    "forward": ["gflops_achieved", "seconds"],
    "train": ["ms_per_step", "images_per_s"],
    "autoencoder": ["encode_images_per_s", "decode_images_per_s"],
    "data_jpeg": ["images_per_s"],
    "data_npz": ["images_per_s"],
    "augment": ["images_per_s", "ms_per_image"],
    "classifier": ["ms_per_step", "images_per_s", "gflop_per_step", "gflops_achieved"],
}


def plan(
    profile_name: str, compile: bool = False, only: list[str] | None = None, native_bf16: bool | None = None
) -> tuple[list[dict], list[dict]]:
    """Return ``(repeated, once)`` case specs for a profile.

    Repeated cases are run ``repeats`` times, interleaved (every repetition runs every case in the same order), so each
    reference figure has a partner measured at about the same time and load. ``once`` holds the agreement check and
    the profiler tables, which are not timings.

    ``native_bf16`` (default: detected) decides whether the forward / autoencoder / profile cases also run in bf16:
    without native bf16 they run in fp32 only (emulated bf16 is ~250x slower than fp32 on such a CPU) and the fast
    path is fp32; the bf16 matmul peak is always measured.
    """
    if native_bf16 is None:
        native_bf16 = cpu_has_native_bf16()
    dtypes = ("fp32", "bf16") if native_bf16 else ("fp32",)
    fast = "bf16" if native_bf16 else "fp32"
    prof = get_profile(profile_name)
    sizes = prof["image_sizes"]
    big = max(sizes)
    med = medienet_available()
    rep: list[dict] = [{"case": "matmul_peak", "params": {"dtype": d}} for d in ("fp32", "bf16")]
    for size in sizes:
        steps = [f"medienet_steps{n}" for n in prof.get("step_distilled_steps", [])]
        steps += [f"medienet_distilled_dpm{n}" for n in prof.get("distilled_dpm_steps", [])]
        pipes = ["monai_ref"] + (["medienet_default", "medienet_fast", "medienet_distilled", *steps] if med else [])
        if med and compile and size == big:  # one compiled shape: each shape costs minutes of compilation
            pipes += ["medienet_fast_compile", "medienet_distilled_compile"] + [f"{p}_compile" for p in steps]
        rep += [{"case": "sample", "params": {"pipeline": p, "image_size": size}} for p in pipes]
    train_pipes = ["monai_ref", "monai_fast"] + (["medienet_default", "medienet_fast"] if med else [])
    rep += [{"case": "train", "params": {"pipeline": p, "image_size": big}} for p in train_pipes]
    kinds = ["monai_cond"] + (["medienet"] if med else [])
    rep += [{"case": "forward", "params": {"kind": k, "dtype": d, "image_size": big}} for d in dtypes for k in kinds]
    if med:  # where the MedIENet overhead comes from (at the fast-path precision): RoPE, multi-attention, decoder
        rep += [
            {"case": "forward", "params": {"kind": k, "dtype": fast, "image_size": big}} for k in MEDIENET_ABLATIONS
        ]
    if compile and med:
        rep += [{"case": "forward", "params": {"kind": "medienet", "dtype": fast, "image_size": big, "compile": True}}]
    large = prof.get("forward_large_batch")
    if large:  # the pool-writing batch, at the fast-path precision (compiled too, with --compile)
        rep += [
            {"case": "forward", "params": {"kind": k, "dtype": fast, "image_size": big, "batch": large}} for k in kinds
        ]
        if compile and med:
            rep += [
                {
                    "case": "forward",
                    "params": {"kind": "medienet", "dtype": fast, "image_size": big, "batch": large, "compile": True},
                }
            ]
    rep += [{"case": "autoencoder", "params": {"dtype": d, "image_size": big}} for d in dtypes]
    rep += [{"case": "data_jpeg", "params": {"image_size": 64}}, {"case": "data_npz", "params": {"image_size": 32}}]
    # the evaluation's classifier runs (where the pipeline's time goes): augmentation and the ResNet step
    # (64 px: the chest X-ray generator's training augmentation, generator_augmentation)
    rep += [{"case": "augment", "params": {"image_size": s, "track_meta": t}} for s in (32, 64) for t in (True, False)]
    rep += [
        {"case": "classifier", "params": {"name": n, "image_size": big, "dtype": d}}
        for d in dtypes
        for n in ("resnet18", "resnet50")
    ]
    once: list[dict] = []
    if med:
        once.append({"case": "agreement", "params": {"image_size": min(sizes)}})
        once += [{"case": "profile", "params": {"kind": "medienet", "dtype": d, "image_size": big}} for d in dtypes]
    once += [
        {"case": "profile", "params": {"kind": "monai_cond", "dtype": fast, "image_size": big}},
        {"case": "profile", "params": {"kind": "monai", "dtype": "fp32", "image_size": big}},  # the reference U-Net
    ]
    if only:
        rep = [s for s in rep if _selected(s, only)]
        once = [s for s in once if _selected(s, only)]
    for s in rep + once:
        s["profile"] = profile_name
    return rep, once


def _selected(spec: dict, only: list[str]) -> bool:
    """A spec is selected by its case name or by a substring of its key (``fast_compile``, ``dtype=bf16``...)."""
    key = case_key(spec)
    return any(tok == spec["case"] or tok in key for tok in only)


def _run_worker(specs: list[dict], timeout: float) -> list[dict]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TQDM_DISABLE", "1")
    cmd = [sys.executable, "-m", "bench.worker", json.dumps(specs)]
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [{**s, "ok": False, "error": f"worker timed out after {timeout:.0f} s"} for s in specs]
    results = [
        json.loads(line[len(RESULT_PREFIX) :]) for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)
    ]
    if len(results) < len(specs):
        err = proc.stderr.strip().splitlines()[-5:]
        done = len(results)
        results += [
            {**s, "ok": False, "error": f"worker exited {proc.returncode}: {' | '.join(err)}"} for s in specs[done:]
        ]
    return results


def run(
    profile_name: str = "full",
    repeats: int | None = None,
    compile: bool = False,
    only: list[str] | None = None,
    isolate: bool = True,
    timeout: float = 1800.0,
    threads: int | None = None,
    log=print,
) -> dict[str, Any]:
    """Run the benchmark and return ``{"meta", "results", "summary"}`` (JSON-serialisable).

    Args:
        profile_name: ``"full"`` or ``"quick"``.
        repeats: repetitions of the timed cases (default: the profile's).
        compile: add the ``torch.compile`` (inductor, freezing) cases.
        only: restrict to these case names.
        isolate: one fresh subprocess per case (honest peak RSS); ``False`` runs all cases in one subprocess.
        timeout: seconds allowed per worker process.
        threads: torch intra-op threads in the workers (default ``configure_threads()``: all available cores). On a
            machine shared with other jobs, ``1`` avoids OpenMP oversubscription collapse.
        log: progress printer.
    """
    prof = get_profile(profile_name)
    repeats = prof["repeats"] if repeats is None else repeats
    rep_specs, once_specs = plan(profile_name, compile=compile, only=only)
    queue: list[dict] = []
    for r in range(repeats):
        queue += [{**s, "repeat": r, "threads": threads} for s in rep_specs]
    queue += [{**s, "repeat": 0, "threads": threads} for s in once_specs]
    meta = {
        "command": " ".join(["python -m bench"] + sys.argv[1:]),
        "profile": profile_name,
        "repeats": repeats,
        "isolated_subprocesses": isolate,
        "threads": threads if threads is not None else len(os.sched_getaffinity(0)),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_start": list(os.getloadavg()),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "python": platform.python_version(),
        "medienet_available": medienet_available(),
        "native_bf16": cpu_has_native_bf16(),
    }
    try:
        import monai
        import torch

        meta.update(torch=torch.__version__, monai=monai.__version__)
    except ImportError:  # pragma: no cover
        pass
    t0 = time.perf_counter()
    results: list[dict] = []
    if isolate:
        for i, spec in enumerate(queue):
            res = _run_worker([spec], timeout)[0]
            res["repeat"] = spec["repeat"]
            results.append(res)
            log(f"[{i + 1}/{len(queue)}] {_label(spec)}: {_short(res)}")
    else:
        out = _run_worker(queue, timeout)
        for spec, res in zip(queue, out):
            res["repeat"] = spec["repeat"]
            results.append(res)
            log(f"{_label(spec)}: {_short(res)}")
    meta["loadavg_end"] = list(os.getloadavg())
    meta["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    meta["total_s"] = time.perf_counter() - t0
    return {"meta": meta, "results": results, "summary": summarise(results)}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    return platform.processor()


def case_key(spec: dict) -> str:
    """Stable key of a case: name plus sorted params, e.g. ``sample[image_size=64,pipeline=monai_ref]``."""
    params = ",".join(f"{k}={v}" for k, v in sorted(spec.get("params", {}).items()))
    return f"{spec['case']}[{params}]"


_label = case_key


def _short(res: dict) -> str:
    if not res.get("ok"):
        return "FAILED " + res.get("error", "")[:200]
    metrics = METRICS.get(res["case"], [])
    vals = ", ".join(f"{m}={res['result'][m]:.4g}" for m in metrics if m in res["result"])
    return f"{vals} (load {res['loadavg_before'][0]:.2f}, rss {res['peak_rss_mb']:.0f} MiB)"


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summarise(results: list[dict]) -> dict[str, Any]:
    """Median / min / max / n over repeats of each case's metrics, peak RSS and load; derived ratios (paired)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for res in results:
        if res.get("ok"):
            groups[case_key(res)].append(res)
    cases: dict[str, Any] = {}
    for key, rs in groups.items():
        name = rs[0]["case"]
        entry: dict[str, Any] = {"case": name, "params": rs[0]["params"]}
        for m in METRICS.get(name, []):
            vals = [r["result"][m] for r in rs if m in r["result"]]
            if vals:
                entry[m] = _stats(vals)
        entry["peak_rss_mb"] = _stats([r["peak_rss_mb"] for r in rs])
        entry["loadavg_1min"] = _stats([r["loadavg_before"][0] for r in rs] + [r["loadavg_after"][0] for r in rs])
        if name in ("agreement", "profile"):
            entry["result"] = rs[0]["result"]
        extra = {k: v for k, v in rs[0]["result"].items() if isinstance(v, (int, str, bool)) or k == "latent_shape"}
        entry["info"] = extra
        cases[key] = entry
    return {"cases": cases, "derived": derived(results)}


def _paired(results: list[dict], num: str, den: str, metric: str, invert: bool = False) -> dict[str, float] | None:
    """Per-repeat ratio ``num / den`` of ``metric`` (``den / num`` when ``invert``), then median and spread."""
    by_rep: dict[int, dict[str, float]] = defaultdict(dict)
    for r in results:
        if r.get("ok") and metric in r.get("result", {}):
            by_rep[r.get("repeat", 0)][case_key(r)] = r["result"][metric]
    ratios = []
    for vals in by_rep.values():
        if num in vals and den in vals and vals[den] > 0 and vals[num] > 0:
            ratios.append(vals[den] / vals[num] if invert else vals[num] / vals[den])
    return _stats(ratios) if ratios else None


def derived(results: list[dict]) -> dict[str, Any]:
    """The target figures: sampling speed-ups, forward fraction of peak, MedIENet overhead, training speed-up."""
    keys = {case_key(r) for r in results if r.get("ok")}
    out: dict[str, Any] = {}
    for key in sorted(keys):
        if key.startswith("sample[") and "pipeline=monai_ref" in key:
            steps = sorted(
                {
                    k.split("pipeline=")[1].split(",")[0].rstrip("]")
                    for k in keys
                    if "pipeline=medienet_steps" in k or "pipeline=medienet_distilled_dpm" in k
                },
                key=lambda p: (p.startswith("medienet_distilled_dpm"), int(re.sub(r"\D", "", p)), p),
                reverse=True,
            )
            for pipe in (
                "medienet_default",
                "medienet_fast",
                "medienet_fast_compile",
                "medienet_distilled",
                "medienet_distilled_compile",
                *steps,
            ):
                other = key.replace("pipeline=monai_ref", f"pipeline={pipe}")
                if other in keys:
                    size = key.split("image_size=")[1].split(",")[0]
                    out[f"sampling_speedup[{pipe} vs monai_ref, {size}px]"] = _paired(
                        results, other, key, "images_per_s"
                    )
    train = {
        p: f"train[image_size={s},pipeline={p}]"
        for k in keys
        if k.startswith("train[")
        for s in [k.split("image_size=")[1].split(",")[0]]
        for p in ("monai_ref", "monai_fast", "medienet_default", "medienet_fast")
    }
    for num, den in (
        ("medienet_fast", "medienet_default"),
        ("medienet_fast", "monai_ref"),
        ("monai_fast", "monai_ref"),
        ("medienet_default", "monai_ref"),
    ):
        if train.get(num) in keys and train.get(den) in keys:
            out[f"train_speedup[{num} vs {den}]"] = _paired(results, train[num], train[den], "ms_per_step", invert=True)
    for k in sorted(keys):
        if k.startswith("augment[") and "track_meta=True" in k and k.replace("True", "False") in keys:
            size = k.split("image_size=")[1].split(",")[0].rstrip("]")
            out[f"augment_speedup[track_meta off vs on, {size}px]"] = _paired(
                results, k.replace("True", "False"), k, "images_per_s"
            )
        if k.startswith("classifier[") and "dtype=fp32" in k and k.replace("fp32", "bf16") in keys:
            name = k.split("name=")[1].split(",")[0].rstrip("]")
            out[f"classifier_speedup[bf16 vs fp32, {name}]"] = _paired(
                results, k.replace("fp32", "bf16"), k, "ms_per_step", invert=True
            )
    # forward: fraction of measured peak (peak = best-of-n of the same repeat) and MedIENet overhead at equal precision
    by_rep: dict[int, dict[str, dict]] = defaultdict(dict)
    for r in results:
        if r.get("ok"):
            by_rep[r.get("repeat", 0)][case_key(r)] = r["result"]
    for dtype in ("fp32", "bf16"):
        peak_key = f"matmul_peak[dtype={dtype}]"
        for k in sorted(keys):
            if k.startswith("forward[") and f"dtype={dtype}" in k:
                fr = [
                    v[k]["gflops_achieved"] / v[peak_key]["gflops_best"]
                    for v in by_rep.values()
                    if k in v and peak_key in v and "gflops_achieved" in v[k]
                ]
                if fr:
                    out[f"forward_fraction_of_peak[{k}]"] = _stats(fr)
        for k in sorted(keys):
            if k.startswith("forward[") and f"dtype={dtype}" in k and "kind=monai_cond" in k and "compile" not in k:
                for kind in ("medienet", *MEDIENET_ABLATIONS):
                    other = k.replace("kind=monai_cond", f"kind={kind}")
                    ratio = _paired(results, other, k, "seconds") if other in keys else None
                    if ratio:
                        at = f", batch {k.split('batch=')[1].split(',')[0]}" if "batch=" in k else ""
                        out[f"forward_time_overhead[{kind} vs monai_cond, {dtype}{at}]"] = {
                            s: (v - 1.0 if s != "n" else v) for s, v in ratio.items()
                        }
    return out
