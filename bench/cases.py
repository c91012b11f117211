"""The benchmark cases. Each case is a function ``(profile, **params) -> dict`` run inside a worker process.

Every case reports wall-clock seconds measured with ``time.perf_counter`` around work that ends in a host-side tensor
(CPU execution is synchronous), after at least one warm-up call so one-time costs (oneDNN primitive creation,
compilation) are reported separately as ``warmup_s``.
"""

from __future__ import annotations

import copy
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from bench.config import (
    build_autoencoder,
    build_unet,
    count_parameters,
    fast_dtype_name,
    latent_shape,
)
from monai_medienet.utils import cpu_has_native_bf16

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
COMPILE_CACHE_ENV = "MEDIENET_BENCH_CACHE"


def _compile_cache_dir() -> str:
    return os.environ.get(COMPILE_CACHE_ENV, os.path.join(os.path.expanduser("~"), ".cache", "monai_medienet_bench"))


# ----------------------------------------------------------------------------------------------------------- peak
def case_matmul_peak(profile: dict[str, Any], dtype: str) -> dict[str, Any]:
    """Measured matmul throughput of this machine: ``torch.mm`` of two ``n x n`` matrices, best and median GFLOP/s."""
    dt = DTYPES[dtype]
    native = dtype != "bf16" or cpu_has_native_bf16()
    n = profile["peak_n"] if native else profile["peak_n_emulated_bf16"]
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(dt)
    b = torch.randn(n, n, generator=g).to(dt)
    out = torch.empty(n, n, dtype=dt)
    for _ in range(2):
        torch.mm(a, b, out=out)
    rates = []
    for _ in range(profile["peak_repeats"]):
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        rates.append(2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return {"n": n, "native": native, "gflops_best": max(rates), "gflops_median": statistics.median(rates)}


# ----------------------------------------------------------------------------------------------------------- samplers
def _count_flops(unet: torch.nn.Module, kind: str, shape: tuple[int, ...], batch: int) -> int:
    """FLOPs of one U-Net forward at ``batch`` latents of ``shape[1:]`` (``FlopCounterMode``; convs and matmuls)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(batch, *shape[1:])
    t = torch.full((batch,), 500, dtype=torch.long)
    y = torch.zeros(batch, dtype=torch.long)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        _call(unet, kind, x, t, y)
    return int(counter.get_total_flops())


def _ddim(steps: int):
    from monai.networks.schedulers import DDIMScheduler

    sched = DDIMScheduler(num_train_timesteps=1000)
    sched.set_timesteps(steps)
    return sched


def _dpm(steps: int, order: int = 2, spacing: str = "logsnr", clip: tuple[float, float] | None = None):
    from monai_medienet.schedulers import DPMSolverMultistepScheduler

    clamp = {}
    if clip is not None:  # clamp schedule: [-start, start] at pure noise to [-end, end] at the clean end
        clamp = {"clip_sample": True, "clip_sample_min": -clip[0], "clip_sample_max": clip[0]}
        clamp["clip_sample_range_end"] = (-clip[1], clip[1])
    sched = DPMSolverMultistepScheduler(num_train_timesteps=1000, solver_order=order, timestep_spacing=spacing, **clamp)
    sched.set_timesteps(steps)
    return sched


def _pipeline_steps(pipeline: str, prefix: str) -> int | None:
    """``N`` of a ``<prefix>N[_compile]`` pipeline, else None."""
    if not pipeline.startswith(prefix):
        return None
    digits = pipeline[len(prefix) :].removesuffix("_compile")
    if not digits.isdigit():
        raise ValueError(f"make_sampler: expected {prefix}<N>[_compile], got {pipeline!r}.")
    return int(digits)


def _step_distilled_steps(pipeline: str) -> int | None:
    """``N`` of a ``medienet_stepsN[_compile]`` pipeline, else None."""
    return _pipeline_steps(pipeline, "medienet_steps")


def make_sampler(profile: dict[str, Any], pipeline: str, image_size: int) -> tuple[Callable[[int], torch.Tensor], dict]:
    """Build the models of ``pipeline`` and return ``run(num_steps) -> images`` plus a dict describing the setup.

    Pipelines:
        ``monai_ref``: MONAI ``DiffusionModelUNet`` (unconditional) + ``LatentDiffusionInferer`` + DDIM, fp32.
        ``medienet_default``: ``MedIENetUNet`` + ``ClassConditionalLatentDiffusionInferer`` + DDIM + CFG, fp32.
        ``medienet_fast``: as default but DPM-Solver++ and, with native bf16, bf16 weights cast once (fp32 without).
        ``medienet_fast_compile``: the fast path plus ``torch.compile`` with inductor weight freezing.
        ``medienet_distilled`` / ``medienet_distilled_compile``: the fast path (/ compiled) at guidance scale 1, the
        sampling cost of a guidance-distilled student (bundle run id ``distill_guidance``: same network, one forward
        per step instead of one on the doubled ``[cond; null]`` batch). Speed only: whether a student keeps the
        teacher's quality is measured on a trained model with ``bench.quality``.
        ``medienet_stepsN`` / ``medienet_stepsN_compile``: the sampling cost of a step-distilled student (bundle run
        id ``distill_steps``): guidance 1, DDIM (first-order DPM-Solver++) on the trailing grid at ``N`` steps, at
        the fast-path precision (/ compiled).
        ``medienet_distilled_dpmN`` / ``medienet_distilled_dpmN_compile``: the guidance-distilled network at ``N``
        DPM-Solver++ 2M steps (log-SNR grid) with the profile's clamp schedule ``distilled_dpm_clip`` (``[A, B]``:
        ``[-A, A]`` at pure noise to ``[-B, B]`` at the clean end) — the few-step setting whose quality
        ``bench.quality`` measures on a trained model, timed here as a whole pipeline.
    """
    n = profile["num_images"]
    ae = build_autoencoder(profile)
    shape = latent_shape(profile, image_size, n)
    info: dict[str, Any] = {"latent_shape": list(shape)}
    if pipeline == "monai_ref":
        from monai.inferers import LatentDiffusionInferer

        unet = build_unet(profile, "monai").eval()
        info["unet_params"] = count_parameters(unet)
        info["unet_flops_per_step"] = _count_flops(unet, "monai", shape, n)

        def run(steps: int) -> torch.Tensor:
            sched = _ddim(steps)
            inferer = LatentDiffusionInferer(sched, scale_factor=1.0)
            noise = torch.randn(shape, generator=torch.Generator().manual_seed(0))
            with torch.no_grad():
                return inferer.sample(noise, ae, unet, sched, verbose=False)

        info["steps"] = profile["ddim_steps"]
        return run, info

    from monai_medienet.inferers import ClassConditionalLatentDiffusionInferer

    unet = build_unet(profile, "medienet").eval()
    info["unet_params"] = count_parameters(unet)
    step_n = _step_distilled_steps(pipeline)
    dpm_n = _pipeline_steps(pipeline, "medienet_distilled_dpm")
    distilled = pipeline.startswith("medienet_distilled") or step_n is not None
    guidance = 1.0 if distilled else profile["guidance_scale"]
    info["guidance_scale"] = guidance
    cfg_batch = n if guidance == 1.0 else 2 * n  # CFG: one forward on [cond; null]
    info["unet_flops_per_step"] = _count_flops(unet, "medienet", shape, cfg_batch)
    labels = torch.arange(n) % profile["num_classes"]
    fast = pipeline.startswith(("medienet_fast", "medienet_distilled", "medienet_steps"))
    fast_dt = DTYPES[fast_dtype_name()]
    dtype = fast_dt if fast and fast_dt != torch.float32 else None
    info["dtype"] = fast_dtype_name() if fast else "fp32"
    if pipeline.endswith("_compile"):
        from monai_medienet.utils.fast import prepare_for_inference

        unet = prepare_for_inference(unet, dtype=fast_dt, compile=True, freeze=True, cache_dir=_compile_cache_dir())
        dtype = None  # weights already cast once; the CastInputs wrapper casts x in and the prediction out
    if step_n is not None:
        info["steps"] = step_n
        sched = _dpm(step_n, order=1, spacing="trailing")
    elif dpm_n is not None:
        start, end = (float(v) for v in profile["distilled_dpm_clip"])
        info["steps"], info["clip_schedule"] = dpm_n, [start, end]
        sched = _dpm(dpm_n, clip=(start, end))
    else:
        info["steps"] = profile["dpm_steps"] if fast else profile["ddim_steps"]
        sched = (_dpm if fast else _ddim)(info["steps"])
    inferer = ClassConditionalLatentDiffusionInferer(
        sched, autoencoder=ae, scale_factor=1.0, null_class_index=profile["num_classes"]
    )

    def run(steps: int) -> torch.Tensor:
        return inferer.sample(
            unet,
            labels,
            latent_shape=shape[1:],
            guidance_scale=guidance,
            num_inference_steps=steps,
            generator=torch.Generator().manual_seed(0),
            dtype=dtype,
            progress=False,
        )

    return run, info


def case_sample(profile: dict[str, Any], pipeline: str, image_size: int) -> dict[str, Any]:
    """Images/s for ``num_images`` images of ``image_size`` px through ``pipeline`` (see :func:`make_sampler`)."""
    t0 = time.perf_counter()
    run, info = make_sampler(profile, pipeline, image_size)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run(2)  # warm-up: lazy init, compilation (the compiled graph does not depend on the step count)
    warmup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    images = run(info["steps"])
    seconds = time.perf_counter() - t0
    n = profile["num_images"]
    return {
        **info,
        "image_size": image_size,
        "num_images": n,
        "build_s": build_s,
        "warmup_s": warmup_s,
        "seconds": seconds,
        "images_per_s": n / seconds,
        "unet_gflop_per_image": info["unet_flops_per_step"] * info["steps"] / n / 1e9,
        "output_shape": list(images.shape),
        "output_finite": bool(torch.isfinite(images).all()),
    }


# ----------------------------------------------------------------------------------------------------------- forward
def _forward_inputs(profile: dict[str, Any], image_size: int, batch: int, dtype: torch.dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(latent_shape(profile, image_size, batch), generator=g).to(dtype)
    t = torch.randint(0, 1000, (batch,), generator=g)
    y = torch.randint(0, profile["num_classes"], (batch,), generator=g)
    return x, t, y


def _call(model, kind: str, x, t, y):
    if kind == "monai":
        return model(x, timesteps=t)
    return model(x, timesteps=t, class_labels=y)


def case_forward(
    profile: dict[str, Any], kind: str, dtype: str, image_size: int, compile: bool = False, batch: int | None = None
) -> dict:
    """U-Net forward at the CFG batch (2 x num_images): FLOPs (``FlopCounterMode``), seconds, achieved GFLOP/s.

    ``kind`` is ``monai_cond`` (plain MONAI U-Net with class embeddings) or ``medienet``; weights are cast once to
    ``dtype`` (``fp32`` / ``bf16``); ``batch`` overrides the number of latents per forward.
    """
    from torch.utils.flop_counter import FlopCounterMode

    dt = DTYPES[dtype]
    batch = 2 * profile["num_images"] if batch is None else int(batch)
    model = build_unet(profile, kind).eval().requires_grad_(False).to(dt)
    x, t, y = _forward_inputs(profile, image_size, batch, dt)
    with torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            _call(model, kind, x, t, y)
        flops = counter.get_total_flops()
        fn = model
        if compile:
            from monai_medienet.utils.fast import prepare_for_inference

            fn = prepare_for_inference(model, dtype=None, compile=True, cache_dir=_compile_cache_dir())
        t0 = time.perf_counter()
        for _ in range(2):
            _call(fn, kind, x, t, y)
        warmup_s = time.perf_counter() - t0
        times = []
        for _ in range(profile["forward_repeats"]):
            t0 = time.perf_counter()
            _call(fn, kind, x, t, y)
            times.append(time.perf_counter() - t0)
    sec = statistics.median(times)
    return {
        "unet_params": count_parameters(model),
        "batch": batch,
        "latent_shape": list(x.shape),
        "flops": flops,
        "warmup_s": warmup_s,
        "seconds": sec,
        "seconds_min": min(times),
        "gflops_achieved": flops / sec / 1e9,
    }


def case_profile(profile: dict[str, Any], kind: str, dtype: str, image_size: int, row_limit: int = 12) -> dict:
    """``torch.profiler`` top ops (self CPU time) of the U-Net forward at the CFG batch."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as tprofile

    dt = DTYPES[dtype]
    model = build_unet(profile, kind).eval().requires_grad_(False).to(dt)
    x, t, y = _forward_inputs(profile, image_size, 2 * profile["num_images"], dt)
    with torch.no_grad():
        for _ in range(3):  # warm-up: oneDNN creates its primitives on the first calls of each shape / dtype
            _call(model, kind, x, t, y)
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(2):
                _call(model, kind, x, t, y)
    avgs = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in avgs) or 1.0
    rows = sorted(avgs, key=lambda e: e.self_cpu_time_total, reverse=True)[:row_limit]
    return {
        "top_ops": [
            {
                "op": e.key,
                "self_cpu_ms": e.self_cpu_time_total / 1e3 / 2,
                "self_pct": 100.0 * e.self_cpu_time_total / total,
                "calls": e.count // 2,
            }
            for e in rows
        ],
        "total_ms_per_forward": total / 1e3 / 2,
    }


# ----------------------------------------------------------------------------------------------------------- train
def _time_steps(step: Callable[[], torch.Tensor], warmup: int, steps: int) -> tuple[float, list[float], torch.Tensor]:
    """Run ``warmup`` untimed then ``steps`` timed calls of ``step``: ``(warm-up s, [s per step], last output)``."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        step()
    warmup_s = time.perf_counter() - t0
    times, out = [], torch.zeros(())
    for _ in range(steps):
        t0 = time.perf_counter()
        out = step()
        times.append(time.perf_counter() - t0)
    return warmup_s, times, out


def case_train(profile: dict[str, Any], pipeline: str, image_size: int, compile: bool = False) -> dict[str, Any]:
    """ms per U-Net training step (noise, forward, MSE, backward, optimiser step) on latents of ``image_size`` px.

    Pipelines: ``monai_ref`` (MONAI U-Net, fp32 eager, ``torch.optim.Adam`` default), ``medienet_default`` (MedIENet,
    fp32 eager, Adam default), ``medienet_fast`` (MedIENet, bf16 autocast where bf16 is native, through the bundles'
    :class:`~monai_medienet.engines.AutocastInferer` with its SDPA math backend for training, + :func:`fast_adam`),
    ``monai_fast`` (MONAI U-Net with the same fast recipe, to separate the network from the recipe). ``compile``: run
    the forward through ``torch.compile`` (inductor; the warm-up includes the compilation; not in the default plan,
    see ``python -m bench.train_compile``).
    """
    from monai.networks.schedulers import DDPMScheduler

    from monai_medienet.engines import AutocastInferer
    from monai_medienet.utils.fast import fast_adam

    batch = profile["train_batch"]
    kind = "monai" if pipeline.startswith("monai") else "medienet"
    fast = pipeline.endswith("fast")
    model = build_unet(profile, kind).train()
    opt = fast_adam(model.parameters(), lr=1e-4) if fast else torch.optim.Adam(model.parameters(), lr=1e-4)
    fwd = torch.compile(model, dynamic=False) if compile else model
    sched = DDPMScheduler(num_train_timesteps=1000)
    # the bundles' training path: MixedPrecision("bf16").wrap() = AutocastInferer (its default SDPA math backend)
    inferer = AutocastInferer(enabled=fast and cpu_has_native_bf16(), device_type="cpu")
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(latent_shape(profile, image_size, batch), generator=g)
    null = profile["num_classes"]

    def step() -> torch.Tensor:
        noise = torch.randn(latents.shape, generator=g)
        t = torch.randint(0, 1000, (batch,), generator=g)
        y = torch.randint(0, profile["num_classes"], (batch,), generator=g)
        y = torch.where(torch.rand(batch, generator=g) < 0.1, torch.full_like(y, null), y)
        noisy = sched.add_noise(latents, noise, t)
        pred = inferer(noisy, lambda x: _call(fwd, kind, x, t, y))
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    warmup_s, times, loss = _time_steps(step, profile["warmup_steps"], profile["train_steps"])
    ms = 1e3 * statistics.median(times)
    return {
        "unet_params": count_parameters(model),
        "batch": batch,
        "warmup_s": warmup_s,
        "ms_per_step": ms,
        "ms_per_step_min": 1e3 * min(times),
        "images_per_s": batch / (ms / 1e3),
        "fused_adam": bool(opt.defaults.get("fused")),
        "loss_finite": bool(torch.isfinite(loss)),
    }


# ------------------------------------------------------------------------------------------------------- autoencoder
def case_autoencoder(profile: dict[str, Any], dtype: str, image_size: int) -> dict[str, Any]:
    """AutoencoderKL encode (``encode_stage_2_inputs``) and decode (``decode_stage_2_outputs``) images/s."""
    dt = DTYPES[dtype]
    n = profile["num_images"]
    ae = build_autoencoder(profile).requires_grad_(False).to(dt)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, image_size, image_size, generator=g).to(dt)
    out: dict[str, Any] = {"batch": n}
    with torch.no_grad():
        z = ae.encode_stage_2_inputs(x)
        ae.decode_stage_2_outputs(z)
        for name, fn, arg in (("encode", ae.encode_stage_2_inputs, x), ("decode", ae.decode_stage_2_outputs, z)):
            times = []
            for _ in range(profile["forward_repeats"]):
                t0 = time.perf_counter()
                fn(arg)
                times.append(time.perf_counter() - t0)
            out[f"{name}_images_per_s"] = n / statistics.median(times)
    return out


# ----------------------------------------------------------------------------------------------------------- data
def case_data_jpeg(profile: dict[str, Any], image_size: int = 64, num_workers: int = 0) -> dict[str, Any]:
    """Images/s loading the chest X-ray JPEG folders with MONAI transforms (load, 1 channel, [0, 1], resize)."""
    from monai.data import DataLoader, Dataset
    from monai.transforms import Compose, EnsureChannelFirstd, Lambdad, LoadImaged, Resized, ScaleIntensityd

    from monai_medienet.utils import get_data_dir

    root = get_data_dir() / "chest_xray_pneumonia" / "train"
    if not root.is_dir():
        return {"skipped": f"{root} not found"}
    files = sorted(str(p) for c in ("NORMAL", "PNEUMONIA") for p in (root / c).glob("*.jpeg"))
    rng = np.random.default_rng(0)
    files = [files[i] for i in rng.choice(len(files), size=min(profile["data_jpeg_files"], len(files)), replace=False)]
    tx = Compose(
        [
            LoadImaged("image", reader="PILReader", image_only=True),
            EnsureChannelFirstd("image"),
            Lambdad("image", lambda im: im[:1]),
            ScaleIntensityd("image", minv=0.0, maxv=1.0),
            Resized("image", (image_size, image_size), mode="area"),
        ]
    )
    loader = DataLoader(Dataset([{"image": f} for f in files], tx), batch_size=16, num_workers=num_workers)
    t0 = time.perf_counter()
    count = 0
    for batch in loader:
        count += batch["image"].shape[0]
    seconds = time.perf_counter() - t0
    return {"files": count, "seconds": seconds, "images_per_s": count / seconds, "num_workers": num_workers}


def case_data_npz(profile: dict[str, Any], image_size: int = 32) -> dict[str, Any]:
    """Images/s from ``pneumoniamnist.npz`` through MONAI transforms (channel, [0, 1], pad 28 -> 32), batch 16."""
    from monai.data import DataLoader, Dataset
    from monai.transforms import Compose, EnsureTyped, Lambdad, SpatialPadd

    from monai_medienet.utils import get_data_dir

    path = get_data_dir() / "pneumoniamnist.npz"
    if not path.is_file():
        return {"skipped": f"{path} not found"}
    split = profile["data_npz_split"]
    t0 = time.perf_counter()
    with np.load(path) as npz:
        images, labels = npz[f"{split}_images"], npz[f"{split}_labels"]
    load_s = time.perf_counter() - t0
    tx = Compose(
        [
            Lambdad("image", lambda a: a[None].astype(np.float32) / 255.0),
            SpatialPadd("image", (image_size, image_size)),
            EnsureTyped("image"),
        ]
    )
    data = [{"image": im, "label": int(lb[0])} for im, lb in zip(images, labels)]
    loader = DataLoader(Dataset(data, tx), batch_size=16, num_workers=0)
    t0 = time.perf_counter()
    count = 0
    for batch in loader:
        count += batch["image"].shape[0]
    seconds = time.perf_counter() - t0
    return {"split": split, "images": count, "npz_load_s": load_s, "seconds": seconds, "images_per_s": count / seconds}


def case_augment(profile: dict[str, Any], image_size: int = 32, track_meta: bool = True) -> dict[str, Any]:
    """Images/s through the evaluation's classic augmentation (MONAI ``RandAffined``, ``RandZoomd``, intensity).

    ``track_meta``: MONAI's global ``MetaTensor`` tracking during the call (``monai.data.set_track_meta``); the
    evaluation switches it off around its augmentation (``monai_medienet.utils.meta_tracking``), and
    ``classic_augmentation`` returns an ``UntrackedCompose`` that does so itself (the generator's training
    augmentation). With tracking on, the same transforms run in a plain ``Compose`` (the path before either).
    """
    from monai.transforms import Compose

    from monai_medienet.transforms import classic_augmentation
    from monai_medienet.utils import meta_tracking

    n = profile["augment_images"]
    g = torch.Generator().manual_seed(0)
    images = [torch.rand(1, image_size, image_size, generator=g) for _ in range(n)]
    aug = classic_augmentation(2, image_size=(image_size, image_size), seed=0)
    if track_meta:
        aug = Compose(list(aug.transforms))
        aug.set_random_state(seed=0)
    with meta_tracking(track_meta):
        aug({"image": images[0].clone()})  # lazy imports / first-call set-up outside the timing
        t0 = time.perf_counter()
        for im in images:
            aug({"image": im.clone()})
        seconds = time.perf_counter() - t0
    return {"images": n, "seconds": seconds, "images_per_s": n / seconds, "ms_per_image": 1e3 * seconds / n}


def case_classifier(
    profile: dict[str, Any],
    name: str = "resnet18",
    image_size: int = 64,
    compile: bool = False,
    dtype: str = "fp32",
) -> dict[str, Any]:
    """ms per training step of the evaluation's downstream classifier (MONAI ResNet from scratch, Adam).

    The same network :func:`monai_medienet.evaluation.build_classifier` builds for ``evaluate`` (stride-2 stem from
    64 px), batch ``classifier_batch``, random images (no data loading, no augmentation): the compute part of one
    protocol step. Also its FLOPs (``torch.utils.flop_counter``, forward + backward) and achieved GFLOP/s.
    ``compile``: the steps run the network through ``torch.compile`` (inductor; compiled during the warm-up).
    ``dtype``: ``"fp32"``, or ``"bf16"``: the forward under the evaluation's own
    :class:`~monai_medienet.engines.AutocastInferer` (``EvaluationConfig.bf16``), loss in fp32, fp32 weights and Adam.
    """
    from torch.utils.flop_counter import FlopCounterMode

    from monai_medienet.engines import AutocastInferer
    from monai_medienet.evaluation import build_classifier

    if dtype not in ("fp32", "bf16"):
        raise ValueError(f"case_classifier: dtype must be 'fp32' or 'bf16', got {dtype!r}.")
    inferer = AutocastInferer(enabled=dtype == "bf16", device_type="cpu")

    batch = profile["classifier_batch"]
    torch.manual_seed(0)
    net = build_classifier(name, 1, 2, image_size=image_size).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, image_size, image_size, generator=g)
    y = torch.randint(0, 2, (batch,), generator=g)

    fwd = torch.compile(net, dynamic=False) if compile else net

    def step() -> torch.Tensor:
        loss = F.cross_entropy(inferer(x, fwd), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    with FlopCounterMode(display=False) as fc:
        loss = F.cross_entropy(inferer(x, net), y)
        loss.backward()
    flops = fc.get_total_flops()
    opt.zero_grad(set_to_none=True)
    warmup_s, times, loss = _time_steps(step, profile["warmup_steps"], profile["train_steps"])
    sec = statistics.median(times)
    return {
        "batch": batch,
        "warmup_s": warmup_s,
        "ms_per_step": 1e3 * sec,
        "images_per_s": batch / sec,
        "gflop_per_step": flops / 1e9,
        "gflops_achieved": flops / 1e9 / sec,
        "loss_finite": bool(torch.isfinite(loss)),
    }


# ----------------------------------------------------------------------------------------------------------- agreement
def case_agreement(profile: dict[str, Any], image_size: int) -> dict[str, Any]:
    """Numerical agreement of the fast path with the reference path on the same (untrained, seeded) MedIENet.

    Same noise, labels and models; compares decoded images of: ``ref`` (DDIM fp32 + CFG) with ``bf16_ddim`` (precision
    only), ``fp32_dpm`` (solver only) and ``fast`` (bf16 + DPM-Solver++). Reports max / mean absolute difference and
    the mean difference relative to the reference's standard deviation.
    """
    from monai_medienet.inferers import ClassConditionalLatentDiffusionInferer

    n = profile["agreement_images"]
    ae = build_autoencoder(profile)
    unet = build_unet(profile, "medienet").eval()
    shape = latent_shape(profile, image_size, n)
    labels = torch.arange(n) % profile["num_classes"]

    def sample(sched_fn, steps: int, dtype: torch.dtype, guidance: float | None = None) -> torch.Tensor:
        inferer = ClassConditionalLatentDiffusionInferer(sched_fn(steps), autoencoder=ae, scale_factor=1.0)
        return inferer.sample(
            unet,
            labels,
            latent_shape=shape[1:],
            guidance_scale=profile["guidance_scale"] if guidance is None else guidance,
            num_inference_steps=steps,
            generator=torch.Generator().manual_seed(0),
            dtype=dtype,
            progress=False,
        ).float()

    ddim, dpm = profile["ddim_steps"], profile["dpm_steps"]
    ref = sample(_ddim, ddim, torch.float32)
    others = {"fp32_dpm": sample(_dpm, dpm, torch.float32)}
    native = cpu_has_native_bf16()
    if native:  # emulated bf16 would take many minutes here, and the fast path does not use it
        others["bf16_ddim"] = sample(_ddim, ddim, torch.bfloat16)
        others["fast"] = sample(_dpm, dpm, torch.bfloat16)
    scale = float(ref.std()) or 1.0
    out: dict[str, Any] = {"ref_std": scale, "ddim_steps": ddim, "dpm_steps": dpm, "native_bf16": native}
    for name, img in others.items():
        diff = (img - ref).abs()
        out[name] = {
            "max_abs": float(diff.max()),
            "mean_abs": float(diff.mean()),
            "mean_abs_rel": float(diff.mean()) / scale,
        }
    if not native:
        return out
    # precision alone without guidance (CFG scale s multiplies the cond - null difference, and its bf16 error, by s)
    ref1 = sample(_ddim, ddim, torch.float32, guidance=1.0)
    diff = (sample(_ddim, ddim, torch.bfloat16, guidance=1.0) - ref1).abs()
    scale1 = float(ref1.std()) or 1.0
    out["bf16_ddim_no_cfg"] = {
        "max_abs": float(diff.max()),
        "mean_abs": float(diff.mean()),
        "mean_abs_rel": float(diff.mean()) / scale1,
    }
    # one guided network evaluation, bf16 weights vs fp32, on the same noisy latents (no accumulation over steps)
    inferer = ClassConditionalLatentDiffusionInferer(_ddim(ddim), autoencoder=ae, scale_factor=1.0)
    unet_bf16 = copy.deepcopy(unet).to(torch.bfloat16)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    per_t = {}
    with torch.no_grad():
        for t in (999, 500, 50):
            tt = torch.full((n,), t, dtype=torch.long)
            e32 = inferer.guided_prediction(unet, x, tt, labels, profile["guidance_scale"])
            e16 = inferer.guided_prediction(unet_bf16, x.to(torch.bfloat16), tt, labels, profile["guidance_scale"])
            per_t[str(t)] = float((e16.float() - e32).abs().mean() / e32.abs().mean())
    out["one_step_bf16_rel_err"] = per_t
    return out


CASES: dict[str, Callable[..., dict[str, Any]]] = {
    "matmul_peak": case_matmul_peak,
    "sample": case_sample,
    "forward": case_forward,
    "profile": case_profile,
    "train": case_train,
    "autoencoder": case_autoencoder,
    "data_jpeg": case_data_jpeg,
    "data_npz": case_data_npz,
    "augment": case_augment,
    "classifier": case_classifier,
    "agreement": case_agreement,
}
