"""Sampler quality on a *trained* model: does the fast path keep the quality of DDIM-50 fp32?

``python -m bench`` times untrained networks; whether fewer DPM-Solver++ steps (and bf16, where the CPU has it) keep
the samples' quality can only be judged on a trained generator. This script samples the same noise and labels with
several sampler variants and scores every set with the in-domain FID against the real test split (features of a
resnet18 trained here on the real training split, early-stopped on real validation AUROC) and with its label agreement
(the fraction of images of each class that this real classifier assigns to the class they were generated for):

    python -m bench.quality --config_file "['bundles/medienet_pneumoniamnist/configs/common.yaml', \
        'bundles/medienet_pneumoniamnist/configs/lowdata.yaml']" --num_per_class 250 \
        --variants ddim:50:fp32 dpmpp_2m:20:fast dpmpp_2m:10:fast --out q.json --markdown q.md

Several ``--checkpoint`` files (e.g. two network variants trained alike) are scored with the same feature classifier,
noise and labels; the first row of the first checkpoint is the reference of the FID change.

Reference rows make the 5 % criterion interpretable: DDIM-50 with a second noise seed (how much the FID of the same
sampler moves with the draw) and real validation vs test (the floor). ``fast`` precision is bf16 where the CPU computes
it natively, else fp32 (see :func:`monai_medienet.utils.cpu_has_native_bf16`).
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from monai_medienet.evaluation import materialise
from monai_medienet.inferers import check_guidance_interval

__all__ = ["CLIP_TOKENS", "feature_classifier", "parse_variant", "run_quality", "to_markdown", "variant_scheduler"]


#: clamp tokens of a variant: ``clipoff`` samples without the checkpoint's clamp of the data prediction,
#: ``clipdata`` clamps only the data prediction (DPM-Solver++ ``clip_mode="data"``), ``clipddim`` forces MONAI DDIM's
#: clamp (``clip_mode="ddim"``, the bundles' setting).
CLIP_TOKENS = {"clipoff": "off", "clipdata": "data", "clipddim": "ddim"}


def parse_variant(text: str) -> dict[str, Any]:
    """Parse ``[K/]sampler[@spacing]:steps:precision[:seed][:giLO-HI][:clip]`` (precision ``fp32``|``bf16``|``fast``).

    ``@spacing`` (DPM-Solver++ only: ``logsnr``, its default, ``linspace`` or ``trailing``) picks the inference
    timestep spacing, e.g. ``dpmpp_2m@linspace:20:fp32``; the sampler column of the report keeps the whole token.
    ``giLO-HI`` limits classifier-free guidance to timesteps ``LO <= t / T <= HI``
    (e.g. ``dpmpp_2m:40:fast:gi0.1-0.7``).
    A ``K/`` prefix runs the variant for the ``K``-th (0-based) ``--checkpoint`` only, e.g. a step-distilled student
    at its own grid: ``2/dpmpp_1@trailing:10:fast``. A last token from :data:`CLIP_TOKENS` changes the clamp of the
    data prediction against the checkpoint's ``scheduler_config`` (``clipdata`` for ``dpmpp_*`` samplers only), e.g.
    ``ddim:200:fp32:clipoff``; ``clipR`` (e.g. ``clip3``) clamps like MONAI's DDIM to ``[-R, R]``; ``clipA-B``
    (e.g. ``clip2-4``, ``dpmpp_*`` only) is a clamp schedule from ``[-A, A]`` at pure noise to ``[-B, B]`` at the
    clean end, linear in ``sigma_t`` (DPM-Solver++ ``clip_sample_range_end``).

    Raises:
        ValueError: for a malformed variant.
    """
    from monai_medienet.schedulers import TIMESTEP_SPACINGS

    msg = (
        "parse_variant: expected [K/]sampler[@spacing]:steps:fp32|bf16|fast[:seed][:giLO-HI]"
        f"[:{'|'.join(CLIP_TOKENS)}|clipR|clipA-B], got {text!r}."
    )
    only, slash, body = text.partition("/")
    if not slash:
        only, body = "", text
    elif not only.isdigit():
        raise ValueError(msg)
    parts = body.split(":")
    if len(parts) < 3 or parts[2] not in ("fp32", "bf16", "fast") or not parts[1].isdigit():
        raise ValueError(msg)
    name, _, spacing = parts[0].partition("@")
    if spacing and (not name.startswith("dpmpp") or spacing not in TIMESTEP_SPACINGS):
        raise ValueError(
            f"parse_variant: @spacing is one of {TIMESTEP_SPACINGS} and only for dpmpp_* samplers, got {text!r}."
        )
    out: dict[str, Any] = {"sampler": parts[0], "steps": int(parts[1]), "precision": parts[2], "seed": 0}
    if only:
        out["checkpoint_index"] = int(only)
    extra = parts[3:]
    if extra and extra[0].isdigit():
        out["seed"] = int(extra.pop(0))
    if extra and extra[0].startswith("gi"):
        lo, sep, hi = extra.pop(0)[2:].partition("-")
        try:
            interval = check_guidance_interval((float(lo), float(hi)) if sep else (), "parse_variant")
        except ValueError as err:  # a non-number, a missing "-" or an interval outside 0 <= LO < HI <= 1
            raise ValueError(f"{msg} {err}") from None
        out["guidance_interval"] = list(interval)
    if extra and extra[0] in CLIP_TOKENS:
        out["clip"] = CLIP_TOKENS[extra.pop(0)]
        if out["clip"] == "data" and not name.startswith("dpmpp"):
            raise ValueError(f"parse_variant: clipdata is a DPM-Solver++ clamp mode, got {text!r}.")
    elif extra and extra[0].startswith("clip"):  # clipR: MONAI DDIM's clamp to [-R, R]; clipA-B: a schedule
        start, sep, end = extra[0][4:].partition("-")
        try:
            bound, bound_end = float(start), (float(end) if sep else None)
        except ValueError:
            raise ValueError(msg) from None
        if not bound > 0 or (bound_end is not None and not bound_end > 0):
            raise ValueError(f"parse_variant: the clamp bounds of clipR / clipA-B must be > 0, got {text!r}.")
        if bound_end is not None and not name.startswith("dpmpp"):
            raise ValueError(f"parse_variant: a clamp schedule clipA-B is for dpmpp_* samplers only, got {text!r}.")
        extra.pop(0)
        out["clip"], out["clip_bound"] = "ddim", bound
        if bound_end is not None:
            out["clip_bound_end"] = bound_end
    if extra:
        raise ValueError(msg)
    if spacing:
        out["timestep_spacing"] = spacing
    return out


def variant_scheduler(gen: Any, variant: dict[str, Any]) -> Any:
    """The sampler of a parsed variant for a loaded generator (:class:`~monai_medienet.engines.DiffusionGenerator`).

    ``gen.make_sampler`` with the variant's spacing (``dpmpp_*``; a step-distilled checkpoint keeps its own grid unless
    the variant names one) and clamp (``clip``: ``"off"``, ``"data"``, ``"ddim"``, with ``clip_bound`` /
    ``clip_bound_end`` for a ``[-R, R]`` clamp or a schedule).
    """
    name = variant["sampler"].partition("@")[0]
    overrides: dict[str, Any] = {}
    if name.startswith("dpmpp") and variant.get("timestep_spacing") is not None:
        overrides["timestep_spacing"] = variant["timestep_spacing"]
    clip = variant.get("clip")
    if clip in ("data", "ddim"):
        overrides["clip_mode"] = clip
    bound, end = variant.get("clip_bound"), variant.get("clip_bound_end")
    return gen.make_sampler(
        name,
        clip_sample=None if clip is None else clip != "off",
        clip_sample_range=None if bound is None else (-float(bound), float(bound)),
        clip_sample_range_end=None if end is None else (-float(end), float(end)),
        **overrides,
    )


def _sample(
    gen: Any, variant: dict[str, Any], num_per_class: int, guidance: float, batch: int
) -> tuple[torch.Tensor, float]:
    from monai_medienet.utils import cpu_has_native_bf16

    prec = variant["precision"]
    if prec == "fast":
        prec = "bf16" if cpu_has_native_bf16() else "fp32"
    dtype = torch.bfloat16 if prec == "bf16" else None
    variant["resolved_precision"] = prec
    # a cast copy: the caller's fp32 network stays untouched for the next variant
    network = gen.network if dtype is None else copy.deepcopy(gen.network).to(dtype=dtype)
    scheduler = variant_scheduler(gen, variant)
    jobs = [(c, variant["seed"] * 1_000_000 + i) for c in range(len(gen.classes)) for i in range(num_per_class)]
    out = []
    t0 = time.perf_counter()
    for s in tqdm(range(0, len(jobs), batch), desc=f"{variant['sampler']}-{variant['steps']} {prec}", leave=False):
        chunk = jobs[s : s + batch]
        labels = torch.tensor([c for c, _ in chunk])
        noise = torch.stack(
            [torch.randn(gen.latent_shape, generator=torch.Generator().manual_seed(k)) for _, k in chunk]
        )
        img = gen.inferer.sample(
            network, labels, guidance_scale=guidance, num_inference_steps=variant["steps"], scheduler=scheduler,
            noise=noise, dtype=dtype, progress=False, guidance_interval=variant.get("guidance_interval"),
        )  # fmt: skip
        out.append(img.float().clamp(0, 1).cpu())
    seconds = time.perf_counter() - t0
    return torch.cat(out), seconds


def _keep_centre(images: torch.Tensor, crop: list[int]) -> torch.Tensor:
    """Zero everything outside the centred ``crop`` region of ``(N, C, H, W)`` images (crop, then zero-pad back)."""
    out = torch.zeros_like(images)
    h0, w0 = (images.shape[2] - crop[0]) // 2, (images.shape[3] - crop[1]) // 2
    out[:, :, h0 : h0 + crop[0], w0 : w0 + crop[1]] = images[:, :, h0 : h0 + crop[0], w0 : w0 + crop[1]]
    return out


def _label_agreement(network: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, classes: list[str]) -> dict:
    """The real classifier's accuracy per class on ``images`` drawn for ``labels`` (:func:`label_fidelity`)."""
    from monai_medienet.metrics import label_fidelity

    network.eval()
    with torch.no_grad():
        probs = torch.cat([network(images[i : i + 64]).softmax(dim=1) for i in range(0, len(images), 64)])
    per_class = label_fidelity(probs.numpy(), labels.numpy(), classes)["synthetic"]
    n = [per_class[c]["n"] for c in classes]
    acc = [per_class[c]["accuracy"] for c in classes]
    overall = sum(a * k for a, k in zip(acc, n)) / max(sum(n), 1)
    return {"label_agreement": float(overall), "label_agreement_per_class": [float(a) for a in acc]}


def feature_classifier(
    x_tr: Any,
    y_tr: Any,
    x_va: Any,
    y_va: Any,
    num_classes: int,
    steps: int = 300,
    seed: int = 0,
    cache: str | Path | None = None,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The in-domain feature classifier: a MONAI resnet18 from scratch on all real training images, early-stopped on
    real validation AUROC, optionally cached in a file.

    The classifier's training depends on the thread count (oneDNN's reductions), so two runs of ``bench.quality``
    otherwise score with different features; with ``cache`` the first run writes ``{"state_dict", "key", ...}`` and the
    next runs load it, after checking that its key (SHA-256 of the training and validation images and labels, steps,
    seed) matches.

    Args:
        x_tr: ``(N, C, H, W)`` real training images; ``y_tr`` their ``(N,)`` labels.
        x_va: ``(V, C, H, W)`` real validation images; ``y_va`` their labels.
        num_classes: classes.
        steps: optimisation steps.
        seed: seed of the initialisation and data order.
        cache: ``.pt`` file to load or write (``None``: train, no file).

    Returns:
        ``(network in eval mode, meta)`` with ``meta`` = ``{"steps", "seed", "best_val_auroc", "seconds", "cache"}``
        (``seconds`` of the training run, also when loaded).

    Raises:
        ValueError: when the cached classifier's key differs (other data, steps or seed).
    """
    import hashlib

    import numpy as np
    from monai.data import Dataset

    from monai_medienet.evaluation import build_classifier, train_classifier

    digest = hashlib.sha256()
    for a in (x_tr, y_tr, x_va, y_va):
        arr = np.ascontiguousarray(np.asarray(a))
        digest.update(str((arr.shape, arr.dtype.str)).encode())
        digest.update(arr.tobytes())
    key = {"data_sha256": digest.hexdigest(), "steps": int(steps), "seed": int(seed), "num_classes": int(num_classes)}
    torch.manual_seed(seed)
    net = build_classifier("resnet18", int(x_tr.shape[1]), num_classes, min(int(v) for v in x_tr.shape[2:]))
    if cache is not None and Path(cache).is_file():
        stored = torch.load(cache, map_location="cpu", weights_only=True)
        if stored.get("key") != key:
            raise ValueError(
                f"feature_classifier: {cache} was trained with {stored.get('key')}, this run needs {key}; "
                "remove the file or pass another cache."
            )
        net.load_state_dict(stored["state_dict"])
        meta = {k: stored[k] for k in ("best_val_auroc", "seconds")}
        return net.eval(), {"steps": int(steps), "seed": int(seed), **meta, "cache": f"loaded {cache}"}
    train_items = [{"image": x_tr[i], "label": int(y_tr[i])} for i in range(len(y_tr))]
    val_items = [{"image": x_va[i], "label": int(y_va[i])} for i in range(len(y_va))]
    t0 = time.perf_counter()
    trained = train_classifier(
        net, Dataset(train_items), val_items, num_classes, max_steps=steps, batch_size=32, seed=seed,
        device="cpu", desc="feature classifier (all real train)",
    )  # fmt: skip
    meta = {"best_val_auroc": float(trained.best_val_auroc), "seconds": round(time.perf_counter() - t0, 1)}
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in trained.network.state_dict().items()}
        torch.save({"state_dict": state, "key": key, **meta}, cache)
    return trained.network.eval(), {"steps": int(steps), "seed": int(seed), **meta, "cache": cache and f"wrote {cache}"}


def run_quality(
    config_files: list[str],
    checkpoint: str | Sequence[str] | None = None,
    variants: list[str] | None = None,
    num_per_class: int = 250,
    guidance_scale: float | None = None,
    batch_size: int = 64,
    classifier_steps: int = 300,
    seed: int = 0,
    classifier_cache: str | Path | None = None,
) -> dict[str, Any]:
    """Sample every variant from one trained checkpoint and score it (see the module docstring).

    Args:
        config_files: bundle config files giving ``data_source``, ``preprocessing``, ``diffusion_checkpoint_path``
            and ``guidance_scale`` (e.g. ``common.yaml`` + ``lowdata.yaml``).
        checkpoint: diffusion checkpoint, or several scored alike (default: the config's ``diffusion_checkpoint_path``).
        variants: ``sampler:steps:precision[:seed]`` strings; the first is the reference.
        num_per_class: images per class and variant.
        guidance_scale: classifier-free guidance (default: the config's); a guidance-distilled checkpoint (bundle run
            id ``distill_guidance``) is sampled at 1, its distilled scale being built in.
        batch_size: sampling batch.
        classifier_steps: optimisation steps of the feature classifier.
        seed: seed of the feature classifier.
        classifier_cache: file of the feature classifier (:func:`feature_classifier`): trained and written when
            absent, loaded when present, so that the FIDs and label agreements of separate runs compare.

    Returns:
        ``{"meta", "rows"}``: per checkpoint and variant the images/s, in-domain FID vs real test and vs the
        checkpoint's reference set, the mean absolute pixel difference to that reference (same noise and labels) and
        the label agreement (overall and per class).

    Raises:
        ValueError: when a checkpoint's classes or image size differ from the data's, or the cached classifier was
            trained on other data or settings.
    """
    from monai.bundle import ConfigParser

    from monai_medienet.engines.diffusion import load_diffusion_generator
    from monai_medienet.metrics import ClassifierFeatureExtractor, extract_features, frechet_distance_from_features

    variants = variants or ["ddim:50:fp32", "ddim:50:fp32:1", "dpmpp_2m:20:fast", "dpmpp_2m:10:fast"]
    specs = [parse_variant(v) for v in variants]
    n_ckpt = 1 if checkpoint is None or isinstance(checkpoint, (str, Path)) else len(checkpoint)
    for spec, text in zip(specs, variants):
        if spec.get("checkpoint_index", 0) >= n_ckpt:
            raise ValueError(f"run_quality: variant {text!r} names checkpoint {spec['checkpoint_index']} of {n_ckpt}.")
    parser = ConfigParser()
    parser.read_config(config_files)
    checkpoint = checkpoint or parser.get_parsed_content("diffusion_checkpoint_path")
    checkpoints = [str(checkpoint)] if isinstance(checkpoint, (str, Path)) else [str(c) for c in checkpoint]
    guidance = float(guidance_scale if guidance_scale is not None else parser.get_parsed_content("guidance_scale"))
    source = parser.get_parsed_content("data_source")
    transform = parser.get_parsed_content("preprocessing")
    x_tr, y_tr = materialise(source.splits["train"], transform, "real train")
    x_va, y_va = materialise(source.splits["val"], transform, "real val")
    x_te, y_te = materialise(source.splits["test"], transform, "real test")
    num_classes = len(source.classes)
    clf_net, clf_meta = feature_classifier(
        x_tr, y_tr, x_va, y_va, num_classes, classifier_steps, seed, classifier_cache
    )
    feat = ClassifierFeatureExtractor(clf_net)
    f_te = extract_features(feat, x_te, 64)
    f_va = extract_features(feat, x_va, 64)
    crop = parser.get_parsed_content("output_crop_size") if "output_crop_size" in parser else None
    real_test = _label_agreement(clf_net, x_te, torch.as_tensor(y_te).long(), list(source.classes))
    rows: list[dict[str, Any]] = []
    for index, ckpt in enumerate(checkpoints):
        gen = load_diffusion_generator(ckpt, device="cpu")
        if list(gen.classes) != list(source.classes):
            raise ValueError(f"run_quality: checkpoint classes {gen.classes} differ from the data's {source.classes}.")
        # a guidance-distilled student has its guidance built in: sampled with scale 1 (one forward per step)
        ckpt_guidance = 1.0 if gen.distilled_guidance_scale is not None else guidance
        ref_imgs = ref_feat = None
        for variant in specs:
            if variant.get("checkpoint_index", index) != index:
                continue
            spec = dict(variant)
            imgs, seconds = _sample(gen, spec, num_per_class, ckpt_guidance, batch_size)
            labels = torch.arange(num_classes).repeat_interleave(num_per_class)  # _sample's order
            if crop is not None:  # as written to disk (e.g. 28 px MedMNIST) and zero-padded back by the preprocessing
                imgs = _keep_centre(imgs, [int(c) for c in crop])
            if imgs.shape[1:] != x_te.shape[1:]:
                raise ValueError(
                    f"run_quality: generated {tuple(imgs.shape[1:])} vs real {tuple(x_te.shape[1:])} images."
                )
            f = extract_features(feat, imgs, 64)
            row = {
                "checkpoint": ckpt,
                "guidance_scale": ckpt_guidance,
                "distilled_guidance_scale": gen.distilled_guidance_scale,
                **spec,
                "images": int(len(imgs)),
                "seconds": round(seconds, 2),
                "images_per_s": len(imgs) / seconds,
                "fid_vs_test": frechet_distance_from_features(f, f_te, "eigh"),
                # the validation split is drawn from the generator's training distribution; the test split may not be
                "fid_vs_val": frechet_distance_from_features(f, f_va, "eigh"),
                **_label_agreement(clf_net, imgs, labels, list(source.classes)),
            }
            if ref_imgs is None:
                ref_imgs, ref_feat = imgs, f
            else:
                row["fid_vs_reference_set"] = frechet_distance_from_features(f, ref_feat, "eigh")
                row["mean_abs_pixel_diff_vs_reference"] = float((imgs - ref_imgs).abs().mean())
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items()}), flush=True)
    return {
        "meta": {
            "command": " ".join(["python -m bench.quality"] + sys.argv[1:]),
            "checkpoint": checkpoints[0],
            "checkpoints": checkpoints,
            "guidance_scale": guidance,
            "num_per_class": num_per_class,
            "classes": list(source.classes),
            "n_real": {"train": len(y_tr), "val": len(y_va), "test": len(y_te)},
            "feature_classifier": {"network": "resnet18 (MONAI, from scratch) on ALL real train images", **clf_meta},
            "fid_real_val_vs_test": frechet_distance_from_features(f_va, f_te, "eigh"),
            "real_test_label_agreement": real_test,
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "rows": rows,
    }


def _interval_tag(row: dict[str, Any]) -> str:
    gi = row.get("guidance_interval")
    tag = f", guided {gi[0]:g}-{gi[1]:g}" if gi else ""
    if row.get("distilled_guidance_scale") is not None:
        tag += f", guidance {row['distilled_guidance_scale']:g} distilled (sampled at 1)"
    if row.get("clip"):
        tag += {"off": ", no clamp", "data": ", clamp of x0 only", "ddim": ", DDIM clamp"}[row["clip"]]
        if row.get("clip_bound") is not None:
            tag += f" ±{row['clip_bound']:g}"
            if row.get("clip_bound_end") is not None:
                tag += f" → ±{row['clip_bound_end']:g} (schedule over sigma)"
    return tag


def to_markdown(res: dict[str, Any]) -> str:
    """A Markdown table of :func:`run_quality`'s result (FID change relative to the first, reference, row)."""
    m = res["meta"]
    ref = res["rows"][0]
    ckpts = m.get("checkpoints", [m["checkpoint"]])
    multi = len(ckpts) > 1
    real_agree = m.get("real_test_label_agreement")
    lines = [
        f"Checkpoint{'s' if multi else ''} {', '.join(f'`{c}`' for c in ckpts)}, guidance {m['guidance_scale']}, "
        f"{m['num_per_class']} images per class "
        f"({', '.join(m['classes'])}), {m['threads']} thread(s). In-domain features: "
        f"{m['feature_classifier']['network']}, {m['feature_classifier']['steps']} steps, best val AUROC "
        f"{m['feature_classifier']['best_val_auroc']:.3f}. "
        f"Real val vs test FID (floor): {m['fid_real_val_vs_test']:.2f}."
        + (
            f" Label agreement of the real classifier on real test images: {real_agree['label_agreement']:.3f} "
            f"(per class {', '.join(f'{a:.3f}' for a in real_agree['label_agreement_per_class'])})."
            if real_agree
            else ""
        ),
        "",
        ("| checkpoint " if multi else "")
        + "| sampler | steps | precision | noise seed | images/s | speed vs ref | in-domain FID vs test | Δ FID vs ref "
        "| FID vs ref set | mean abs pixel diff vs ref | label agreement (per class) | in-domain FID vs val |",
        ("|---" if multi else "") + "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        d = (r["fid_vs_test"] / ref["fid_vs_test"] - 1.0) * 100
        agree = (
            f"{r['label_agreement']:.3f} ({', '.join(f'{a:.3f}' for a in r['label_agreement_per_class'])})"
            if "label_agreement" in r
            else "—"
        )
        lines.append(
            (f"| {r.get('checkpoint', ckpts[0])} " if multi else "")
            + f"| {r['sampler']}{_interval_tag(r)} | {r['steps']} | {r['resolved_precision']} | {r['seed']} | "
            f"{r['images_per_s']:.1f} | "
            f"{r['images_per_s'] / ref['images_per_s']:.2f}x | {r['fid_vs_test']:.2f} | "
            f"{'ref' if r is ref else f'{d:+.1f} %'} | {r.get('fid_vs_reference_set', float('nan')):.2f} | "
            f"{r.get('mean_abs_pixel_diff_vs_reference', float('nan')):.4f} | {agree} | "
            f"{r.get('fid_vs_val', float('nan')):.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    p = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    p.add_argument("--config_file", required=True, help="a Python list literal of bundle config files")
    p.add_argument("--checkpoint", nargs="+", default=None, help="one or more diffusion checkpoints, scored alike")
    p.add_argument(
        "--variants",
        nargs="+",
        default=None,
        help="[K/]sampler[@spacing]:steps:fp32|bf16|fast[:noise_seed][:giLO-HI][:clipoff|clipdata|clipddim|clipR|clipA-B]",
    )
    p.add_argument("--num_per_class", type=int, default=250)
    p.add_argument("--guidance_scale", type=float, default=None)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--classifier_steps", type=int, default=300)
    p.add_argument(
        "--classifier_cache", default=None, help="feature classifier file: written when absent, loaded when present"
    )
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--markdown", default=None)
    a = p.parse_args(argv)
    from monai_medienet.utils import configure_threads

    configure_threads(a.threads)
    files = ast.literal_eval(a.config_file) if a.config_file.startswith("[") else [a.config_file]
    res = run_quality(
        files, a.checkpoint, a.variants, a.num_per_class, a.guidance_scale, a.batch_size, a.classifier_steps,
        classifier_cache=a.classifier_cache,
    )  # fmt: skip
    md = to_markdown(res)
    print(md)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1))
    if a.markdown:
        Path(a.markdown).write_text(md + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
