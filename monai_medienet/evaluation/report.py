"""Write the evaluation report: ``results.json``, ``report.md`` (tables) and matplotlib figures (Agg backend)."""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = [
    "load_predictions",
    "plot_auroc_bars",
    "plot_differences",
    "plot_roc_curves",
    "save_predictions",
    "write_report",
]

_METRICS = ("auroc", "accuracy", "sensitivity", "specificity")


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating | float):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, str | int | bool) or x is None:
        return x
    return str(x)


def _fmt(v: Any, nd: int = 3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{nd}f}"


def _sources_text(leakage: dict) -> str:
    """How many generators were checked and whether every synthetic image came from one of them."""
    src = leakage.get("synthetic_sources")
    if not src:
        return ""
    n = leakage.get("num_generators", 1)
    text = f" ({n} generator{'s' if n > 1 else ''}"
    if src.get("verified"):
        per = src.get("images_per_generator", {})
        text += f"; every synthetic image recorded as drawn by one of them: {', '.join(str(v) for v in per.values())})"
    else:
        text += f"; synthetic sources not verified: {src.get('reason', 'no checkpoint_sha256 recorded')})"
    return text


def _training_record_text(t: Mapping) -> str:
    """One generator's training record (``leakage_check["generator_training"][i]``) in words."""
    seed = f"seed {t['training_seed']}" if "training_seed" in t else "seed not recorded"
    if "training_augmentation" not in t:
        aug = "augmentation not recorded"
    elif t["training_augmentation"] is None:
        aug = "its images as they are"
    else:
        a = t["training_augmentation"]
        aug = "augmented copies of its images (" + ", ".join(f"{k} {v}" for k, v in a.items()) + ")"
    return f"{seed}, {aug}"


def _generator_training_text(leakage: Mapping) -> str:
    """How the generator(s) were trained: seed and whether on augmented copies of their images ("" if unknown)."""
    records = leakage.get("generator_training") or []
    if not any(records):  # older checkpoints: nothing recorded
        return ""
    parts = [_training_record_text(t) for t in records]
    if len(set(parts)) == 1:
        many = f" (all {len(parts)})" if len(parts) > 1 else ""
        return f" Generator training{many}: {parts[0]}."
    return " Generator training: " + "; ".join(f"{i}: {p}" for i, p in enumerate(parts)) + "."


def _split_hashes_text(settings: dict) -> str:
    """The ordered hashes of the val and test splits (runs stored before they were recorded: nothing)."""
    h = settings.get("split_hashes")
    return f" Split hashes (ordered sha256): val {h['val'][:12]}, test {h['test'][:12]}." if h else ""


def _pretrain_text(results: Mapping) -> str:
    """The extra budget of ``pretrain`` arms, for the settings paragraph ("" without such arms)."""
    parts = []
    for arm, r in results["arms"].items():
        pre = next((x["pretrain"] for x in r.get("runs", []) if "pretrain" in x), None)
        if pre is not None:
            fine = pre.get("finetune_max_steps", results["settings"]["max_steps"])
            parts.append(f"{arm}: up to {pre['max_steps']}+{fine} steps, fine-tuning lr {pre['finetune_lr']}")
    if not parts:
        return ""
    return (
        " Pretrain arms train first on the whole synthetic pool, then fine-tune on the real images ("
        + "; ".join(parts)
        + "); their steps run read pre-training+fine-tuning."
    )


def _ci(d: Mapping, key: str = "mean", nd: int = 3) -> str:
    return f"{_fmt(d[key], nd)} [{_fmt(d['ci_low'], nd)}, {_fmt(d['ci_high'], nd)}]"


def arms_table(results: Mapping[str, Any], digits: int = 3) -> list[str]:
    """The per-arm test metrics of evaluation (or merged) results as Markdown table lines.

    Args:
        results: the ``results.json`` dict of :func:`~monai_medienet.evaluation.run_evaluation` or
            :func:`~monai_medienet.evaluation.merge_evaluations`.
        digits: decimals of every number.

    Returns:
        Header, separator and one row per arm: AUROC / accuracy / sensitivity / specificity as mean [CI], the seed
        AUROCs, best validation AUROCs, mean validation loss and steps run per seed.
    """
    f = lambda v: _fmt(v, digits)  # noqa: E731
    lines = [
        "| arm | AUROC | accuracy | sensitivity | specificity | seed AUROCs | best val AUROC | val loss (mean) "
        "| steps run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for arm, r in results["arms"].items():
        m = r["metrics"]
        seeds = ", ".join(f(v) for v in m["auroc"]["seed_values"])
        val = ", ".join(f(x["best_val_auroc"]) for x in r["runs"])
        losses = [x["val_loss"] for x in r["runs"] if "val_loss" in x]  # absent in results of older versions
        val_loss = f(float(np.mean(losses))) if len(losses) == len(r["runs"]) else "—"
        # pretrain arms: synthetic pre-training steps + real fine-tuning steps
        steps = ", ".join(
            f"{x['pretrain']['steps_run']}+{x['steps_run']}" if "pretrain" in x else str(x["steps_run"])
            for x in r["runs"]
        )
        ci = [_ci(m[k], nd=digits) for k in ("auroc", "accuracy", "sensitivity", "specificity")]
        lines.append(f"| {arm} | {' | '.join(ci)} | {seeds} | {val} | {val_loss} | {steps} |")
    return lines


def deltas_table(results: Mapping[str, Any], digits: int = 3) -> list[str]:
    """The paired differences of evaluation (or merged) results as Markdown table lines (empty without any).

    Args:
        results: see :func:`arms_table`.
        digits: decimals of every number.

    Returns:
        Header, separator and one row per difference: Δ of the four metrics with the seeds-fixed interval, one-sided
        P(Δ AUROC ≤ 0), its Holm-adjusted P (the declared primary in bold with its raw P), and the two-level interval
        and P with the seed pairs resampled.
    """
    if not results.get("deltas"):
        return []
    f = lambda v: _fmt(v, digits)  # noqa: E731
    lines = [
        "| comparison | Δ AUROC | Δ accuracy | Δ sensitivity | Δ specificity | P(Δ AUROC ≤ 0) | Holm-adjusted P "
        "| Δ AUROC, CI with seeds resampled | P, seeds resampled (Holm) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    primary = (results.get("multiplicity") or {}).get("primary")
    for name, d in results["deltas"].items():
        au = d["auroc"]
        adj = "primary (raw P)" if name == primary else f(au.get("p_holm"))
        if au.get("ci_low_seeds") is None:  # one seed, or results written before the two-level interval
            two_level = "n/a | n/a"
        else:
            p2 = f(au["prob_le_0_seeds"])
            if name != primary and au.get("p_holm_seeds") is not None:
                p2 += f" ({f(au['p_holm_seeds'])})"
            two_level = f"{f(au['delta'])} [{f(au['ci_low_seeds'])}, {f(au['ci_high_seeds'])}] | {p2}"
        ci = [_ci(d[k], "delta", digits) for k in ("auroc", "accuracy", "sensitivity", "specificity")]
        label = f"**{name}**" if name == primary else name
        lines.append(f"| {label} | {' | '.join(ci)} | {f(au['prob_le_0'])} | {adj} | {two_level} |")
    return lines


def pooled_deltas_table(results: Mapping[str, Any], digits: int = 3, labels: Sequence[str] | None = None) -> list[str]:
    """The differences pooled over generators (``merge_evaluations(..., generator_pools=...)``) as Markdown lines.

    Args:
        results: see :func:`arms_table`.
        digits: decimals of every number.
        labels: one name per pooled difference, in order (e.g. the items of a declared plan), shown in a first
            column; ``None``: no such column.

    Returns:
        Header, separator and one row per pooled difference: the generators, Δ AUROC per generator, the mean Δ with
        the three-level interval (generators, seeds, test images), P(Δ ≤ 0) and the test-images-only interval; empty
        without pooled differences.

    Raises:
        ValueError: ``labels`` of another length than the pooled differences.
    """
    pooled = results.get("generator_pooled_deltas") or {}
    if not pooled:
        return []
    if labels is not None and len(labels) != len(pooled):
        raise ValueError(f"pooled_deltas_table: {len(labels)} labels for {len(pooled)} pooled differences.")
    f = lambda v: _fmt(v, digits)  # noqa: E731
    first = "| item " if labels is not None else ""
    lines = [
        f"{first}| comparison | generators | Δ AUROC per generator | mean Δ AUROC [CI: generators, seeds, test images] "
        "| P(Δ AUROC ≤ 0) | CI, test images only |",
        "|---" * (6 + (labels is not None)) + "|",
    ]
    for i, (name, d) in enumerate(pooled.items()):
        au = d["metrics"]["auroc"]
        per = ", ".join(f(x) for x in au["generator_deltas"])
        lead = f"| {labels[i]} " if labels is not None else ""
        lines.append(
            f"{lead}| {name} | {len(d['arms'])} | {per} | {f(au['delta'])} [{f(au['ci_low'])}, {f(au['ci_high'])}] "
            f"| {f(au['prob_le_0'])} | [{f(au['ci_low_images'])}, {f(au['ci_high_images'])}] |"
        )
    return lines


def ratios_table(results: Mapping[str, Any], digits: int = 3) -> list[str]:
    """The AUROC ratios of evaluation (or merged) results, e.g. synthetic-only / real-only, as Markdown table lines.

    Args:
        results: see :func:`arms_table`.
        digits: decimals of every number.

    Returns:
        Header, separator and one row per ratio: the two mean AUROCs, the ratio with its interval (generators, seeds
        and test images resampled), the per-generator ratios, P(ratio < target), the test-images-only interval and
        whether the point ratio reaches the target; empty without ratios.
    """
    ratios = results.get("ratios") or {}
    if not ratios:
        return []
    f = lambda v: _fmt(v, digits)  # noqa: E731
    lines = [
        "| ratio | AUROC A | AUROC B | A / B [CI: generators, seeds, test images] | per generator | P(ratio < target) "
        "| CI, test images only | point ≥ target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, d in ratios.items():
        au = d["metrics"]["auroc"]
        per = ", ".join(f(x) for x in au["generator_ratios"])
        met = "yes" if au["ratio"] >= au["threshold"] else "no"
        lines.append(
            f"| {name} | {f(au['a'])} | {f(au['b'])} | {f(au['ratio'])} [{f(au['ci_low'])}, {f(au['ci_high'])}] | "
            f"{per} | {f(au['prob_below'])} (target {au['threshold']:g}) | [{f(au['ci_low_images'])}, "
            f"{f(au['ci_high_images'])}] | {met} |"
        )
    return lines


def _save(fig: Any, path: str | Path, dpi: int) -> Path:
    """Lay out, write and close a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)


def _roc(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order].astype(bool)
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    tpr = np.r_[0.0, tps / max(1, y.sum())]
    fpr = np.r_[0.0, fps / max(1, (~y).sum())]
    return fpr, tpr


def plot_auroc_bars(results: Mapping[str, Any], path: str | Path) -> Path:
    """Bar chart of seed-averaged test AUROC per arm with bootstrap CIs and the per-seed values as dots.

    Args:
        results: the dict returned by :func:`~monai_medienet.evaluation.run_evaluation`.
        path: PNG file to write.

    Returns:
        The path written.
    """
    arms = list(results["arms"])
    m = [results["arms"][a]["metrics"]["auroc"] for a in arms]
    means = np.array([d["mean"] for d in m])
    err = np.array([[d["mean"] - d["ci_low"] for d in m], [d["ci_high"] - d["mean"] for d in m]])
    fig, ax = plt.subplots(figsize=(1.6 * len(arms) + 2, 4))
    colors = plt.cm.tab10(np.arange(len(arms)))
    ax.bar(range(len(arms)), means, yerr=err, capsize=6, color=colors, alpha=0.8, edgecolor="black")
    for i, d in enumerate(m):
        vals = d["seed_values"]
        ax.scatter(np.full(len(vals), i) + np.linspace(-0.15, 0.15, len(vals)), vals, color="black", s=14, zorder=3)
        ax.text(i, d["ci_high"] + 0.01, f"{d['mean']:.3f}", ha="center", va="bottom", fontsize=9)
    long = max(len(a) for a in arms) > 16
    ax.set_xticks(range(len(arms)), arms, rotation=20 if long else 0, ha="right" if long else "center", fontsize=8)
    lo = np.nanmin([d["ci_low"] for d in m] + [min(d["seed_values"]) for d in m])
    ax.set_ylim(max(0.0, lo - 0.1), 1.05)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_ylabel("test AUROC")
    per_class = results["settings"].get("n_train_real_per_class")
    ax.set_title(
        f"Test AUROC per arm (mean of {len(results['seeds'])} seeds, {int(100 * results['settings']['confidence'])}% "
        f"bootstrap CI; dots = seeds)\nreal training images per class {per_class}, "
        f"{results['settings']['classifier']}, {results['settings']['max_steps']} steps",
        fontsize=9,
    )
    return _save(fig, path, dpi=120)


def plot_differences(results: Mapping[str, Any], path: str | Path, metric: str = "auroc") -> Path | None:
    """Forest plot of the paired differences (and the differences pooled over generators) with their intervals.

    One row per difference ``A - B``: the point estimate (mean over seeds), a thick bar for the interval with the
    seeds held fixed and a thin line for the two-level interval (seed pairs resampled too) where it exists. Rows
    pooled over generators show the three-level interval (generators, seeds, test images) and each generator's own
    difference as a small dot. The declared primary difference is marked.

    Args:
        results: the dict returned by :func:`~monai_medienet.evaluation.run_evaluation` or
            :func:`~monai_medienet.evaluation.merge_evaluations`.
        path: PNG file to write.
        metric: which metric's differences (``"auroc"``, ``"accuracy"``, ...).

    Returns:
        The path written, or ``None`` when there is no difference to show.
    """
    primary = (results.get("multiplicity") or {}).get("primary")
    rows: list[tuple[str, dict, str]] = [
        (name, d[metric], "paired") for name, d in (results.get("deltas") or {}).items() if metric in d
    ]
    rows += [
        (name, d["metrics"][metric], "pooled")
        for name, d in (results.get("generator_pooled_deltas") or {}).items()
        if metric in d.get("metrics", {})
    ]
    if not rows:
        return None
    labels = [
        textwrap.fill(("pooled: " if kind == "pooled" else "") + name + (" (primary)" if name == primary else ""), 64)
        for name, _, kind in reversed(rows)
    ]
    width = 6.0 + 0.055 * max(len(line) for text in labels for line in text.splitlines())  # room for the labels
    height = 0.3 * sum(text.count("\n") + 1 for text in labels) + 0.15 * len(rows) + 1.8
    fig, ax = plt.subplots(figsize=(width, height))
    for y, (name, d, kind) in enumerate(reversed(rows)):
        color = "tab:purple" if kind == "pooled" else ("tab:red" if name == primary else "tab:blue")
        if kind == "paired" and d.get("ci_low_seeds") is not None:
            ax.plot([d["ci_low_seeds"], d["ci_high_seeds"]], [y, y], color=color, lw=1.0, alpha=0.7)
        ax.plot([d["ci_low"], d["ci_high"]], [y, y], color=color, lw=4.0 if kind == "paired" else 2.0, alpha=0.6)
        ax.plot([d["delta"]], [y], "o", color=color, ms=6, zorder=3)
        if kind == "pooled":
            g = d.get("generator_deltas") or []
            ax.scatter(g, np.full(len(g), y + 0.18), color="black", s=10, zorder=3)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.axvline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel(f"difference in test {metric.upper() if metric == 'auroc' else metric} (A - B)")
    conf = int(100 * results["settings"].get("confidence", 0.95))
    ax.set_title(
        f"Paired differences, mean of {len(results['seeds'])} seeds ({conf}% bootstrap intervals)\n"
        "thick: seeds fixed (test images resampled); thin: seed pairs resampled too\n"
        "purple: pooled over generators (generators, seeds, images resampled; dots = each generator)",
        fontsize=8,
    )
    return _save(fig, path, dpi=120)


def plot_roc_curves(results: Mapping[str, Any], path: str | Path) -> Path | None:
    """ROC curves per arm (seed-averaged probabilities); one panel per class for more than two classes.

    Args:
        results: results dict with ``artifacts["probs"]`` and ``artifacts["test_labels"]``.
        path: PNG file to write.

    Returns:
        The path, or ``None`` without artifacts.
    """
    art = results.get("artifacts") or {}
    if "probs" not in art:
        return None
    y = np.asarray(art["test_labels"])
    classes = results["settings"]["classes"]
    panels = [1] if len(classes) == 2 else list(range(len(classes)))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), squeeze=False)
    for ax, c in zip(axes[0], panels):
        for arm, plist in art["probs"].items():
            p = np.mean(np.stack(plist), axis=0)[:, c]
            fpr, tpr = _roc(y == c, p)
            auc = results["arms"][arm]["metrics"]["auroc"]["mean"]
            ax.plot(fpr, tpr, label=f"{arm} (AUROC {auc:.3f})" if len(panels) == 1 else arm)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.set_xlabel("1 - specificity")
        ax.set_ylabel("sensitivity")
        ax.set_title(f"ROC: {classes[c]} vs rest" if len(panels) > 1 else f"ROC ({classes[c]} positive)")
        ax.legend(fontsize=8, loc="lower right")
        ax.set_aspect("equal")
    fig.suptitle("Test ROC per arm (probabilities averaged over seeds)", fontsize=9)
    return _save(fig, path, dpi=120)


def _show(ax: Any, img: np.ndarray) -> None:
    img = np.asarray(img)
    if img.shape[0] == 1:
        ax.imshow(img[0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.clip(np.moveaxis(img[:3], 0, -1), 0, 1))
    ax.set_xticks([])
    ax.set_yticks([])


def _montage(images: np.ndarray, ncol: int) -> np.ndarray:
    n, c, h, w = images.shape
    nrow = max(1, math.ceil(n / ncol))
    out = np.ones((c, nrow * (h + 1), ncol * (w + 1)), dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, ncol)
        out[:, r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = images[i]
    return out


def _plot_samples(results: Mapping[str, Any], path: Path, per_class: int = 16) -> Path | None:
    art = results.get("artifacts") or {}
    xs, ys = art.get("synthetic_images"), art.get("synthetic_labels")
    if xs is None or len(ys) == 0:
        return None
    xr, yr = np.asarray(art["real_train_images"]), np.asarray(art["real_train_labels"])
    xs, ys = np.asarray(xs), np.asarray(ys)
    classes = results["settings"]["classes"]
    ncol = 4
    fig, axes = plt.subplots(len(classes), 2, figsize=(6.4, 3.3 * len(classes)), squeeze=False)
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        for j, (x, y, what) in enumerate(((xr, yr, "real train"), (xs, ys, "synthetic"))):
            idx = np.flatnonzero(y == c)
            idx = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else idx
            ax = axes[c, j]
            if len(idx):
                _show(ax, _montage(x[np.sort(idx)], ncol))
            else:
                ax.axis("off")
            ax.set_title(f"{name}: {what} (n={int((y == c).sum())})", fontsize=8)
    fig.suptitle("Random samples per class: real vs synthetic", fontsize=9)
    return _save(fig, path, dpi=130)


def _plot_augmentation(results: Mapping[str, Any], path: Path) -> Path | None:
    ex = (results.get("artifacts") or {}).get("augmentation_examples")
    if ex is None or len(ex["images"]) == 0:
        return None
    s, classes = results["settings"], results["settings"]["classes"]
    images, aug = np.asarray(ex["images"]), np.asarray(ex["augmented"])
    n, draws = aug.shape[:2]
    fig, axes = plt.subplots(n, draws + 1, figsize=(1.3 * (draws + 1), 1.4 * n + 0.6), squeeze=False)
    for i in range(n):
        _show(axes[i, 0], images[i])
        axes[i, 0].set_ylabel(classes[int(ex["labels"][i])], fontsize=7)
        for j in range(draws):
            _show(axes[i, j + 1], aug[i, j])
    axes[0, 0].set_title("original", fontsize=7)
    for j in range(draws):
        axes[0, j + 1].set_title(f"draw {j + 1}", fontsize=7)
    fig.suptitle(
        f"Classic augmentation: rotation ±{s['rotate_degrees']}°, crop {s['crop_scale']}, jitter "
        f"{s['intensity_jitter']}, gamma {s.get('gamma_range') or 'none'}, flips {s['flip_axes'] or 'none'}",
        fontsize=7,
    )
    return _save(fig, path, dpi=130)


def _plot_nearest(results: Mapping[str, Any], path: Path, n: int = 8) -> Path | None:
    art = results.get("artifacts") or {}
    nn = art.get("nn_pixel")
    if nn is None:
        return None
    xs, xr = np.asarray(art["synthetic_images"]), np.asarray(art["real_train_images"])
    d, idx = np.asarray(nn["distance"]), np.asarray(nn["index"])
    order = np.argsort(d)[:n]
    memo = results["memorization"]["pixel"]
    flagged = set(memo["flagged_indices"])
    fig, axes = plt.subplots(2, len(order), figsize=(1.5 * len(order) + 0.5, 3.6), squeeze=False)
    for j, s in enumerate(order):
        _show(axes[0, j], xs[s])
        _show(axes[1, j], xr[idx[s]])
        mark = " FLAG" if s in flagged else ""
        axes[0, j].set_title(f"syn #{s}{mark}\nd={d[s]:.2f}", fontsize=7, color="red" if mark else "black")
        axes[1, j].set_xlabel(f"train #{idx[s]}", fontsize=7)
    axes[0, 0].set_ylabel("synthetic", fontsize=8)
    axes[1, 0].set_ylabel("nearest real\n(train)", fontsize=8)
    fig.suptitle(
        f"Closest synthetic/training pairs (pixel L2); threshold {memo['threshold']:.2f} = "
        f"{memo['percentile']:g}th pct of real test->train; {memo['num_flagged']}/{memo['num_synthetic']} flagged",
        fontsize=8,
    )
    return _save(fig, path, dpi=130)


def _plot_gradcam(results: Mapping[str, Any], path: Path) -> Path | None:
    g = (results.get("artifacts") or {}).get("gradcam")
    if g is None:
        return None
    imgs, labels, maps = np.asarray(g["images"]), np.asarray(g["labels"]), g["maps"]
    names = list(maps)
    classes = results["settings"]["classes"]
    probs = results["artifacts"].get("probs", {})
    fig, axes = plt.subplots(
        len(imgs), 1 + len(names), figsize=(2.1 * (1 + len(names)), 2.1 * len(imgs)), squeeze=False
    )
    for i in range(len(imgs)):
        _show(axes[i, 0], imgs[i])
        axes[i, 0].set_title(f"test #{int(g['indices'][i])}: {classes[int(labels[i])]}", fontsize=7)
        for j, name in enumerate(names):
            ax = axes[i, 1 + j]
            _show(ax, imgs[i])
            ax.imshow(maps[name][i], cmap="jet", alpha=0.45, vmin=0, vmax=1)
            p = ""
            if name in probs:
                p = f", p(true)={probs[name][0][int(g['indices'][i]), int(labels[i])]:.2f}"
            ax.set_title(f"{name}{p}", fontsize=7)
    fig.suptitle("Grad-CAM (layer4) for the true class; first seed's classifiers", fontsize=8)
    return _save(fig, path, dpi=120)


def _markdown(results: Mapping[str, Any], figures: Mapping[str, str]) -> str:
    s = results["settings"]
    conf = int(100 * s["confidence"])
    if s.get("synthetic_class_ratios") is not None:
        ratio_text = f"Synthetic:real ratio per class {s['synthetic_class_ratios']}"
    else:
        ratio_text = f"Synthetic:real ratio {s['synthetic_ratio']} (class balanced {s['class_balanced']})"
    lines = [
        "# MedIENet augmentation evaluation",
        "",
        f"Classes: {', '.join(s['classes'])}. Real training images per class: {s['n_train_real_per_class']} "
        f"(k_per_class = {s['k_per_class'] if s['k_per_class'] is not None else 'all'}); validation {s['n_val']}, "
        f"test {s['n_test']} {s['n_test_per_class']}; synthetic pool {s['n_synthetic_pool']}." + _split_hashes_text(s),
        f"Classifier {s['classifier']} from scratch, {s['max_steps']} steps (same budget every arm), batch "
        f"{s['batch_size']}, Adam lr {s['lr']}, early stopping on real val AUROC every {s['val_interval']} steps "
        f"(patience {s['patience']}), seeds {results['seeds']}, bf16 {s['bf16']}, device {s['device']}."
        + _pretrain_text(results),
        f"{ratio_text}; "
        f"augmentation: rotation ±{s['rotate_degrees']}°, crop scale {s['crop_scale']}, intensity jitter "
        f"{s['intensity_jitter']}, gamma {s.get('gamma_range') or 'none'}, flip axes {s['flip_axes'] or 'none'}.",
        "Leakage check: "
        + ("passed" if results["leakage_check"].get("checked") else "not run (no generator checkpoint)")
        + _sources_text(results["leakage_check"])
        + "."
        + _generator_training_text(results["leakage_check"]),
        "",
        f"## Test metrics per arm (mean over seeds, {conf}% bootstrap CI)",
        "",
        *arms_table(results),
    ]
    if results["deltas"]:
        lines += [
            "",
            f"## Paired differences (same test images, same seeds; {conf}% bootstrap CI)",
            "",
            *deltas_table(results),
        ]
        multiplicity = results.get("multiplicity") or {}
        alpha = (1.0 - float(s["confidence"])) / 2.0
        lines += [
            "",
            f"P is the one-sided bootstrap probability of no improvement (P < {alpha:g} ⇔ the {conf}% interval lies "
            "above zero). Multiplicity: "
            + (multiplicity.get("note") or "not adjusted (results written before adjustment existed)")
            + ". The first intervals hold the seeds fixed (how sure we are about these seeds' average on new test "
            "images); the last two columns resample the seed pairs as well (two-level bootstrap: also how sure we are "
            "about new training runs; still optimistic with few seeds). A result that clears zero only with the "
            "seeds fixed needs new seeds to confirm it.",
        ]
    pooled = results.get("generator_pooled_deltas") or {}
    if pooled:
        lines += [
            "",
            f"## Differences pooled over generators ({conf}% bootstrap CI)",
            "",
            *pooled_deltas_table(results),
        ]
        lines += [
            "",
            "Each arm is one recipe with another generator's pool (generators trained alike on the same images); the "
            "interval resamples the generators, the seed pairs within each and the test images. With G generators "
            "it carries (G - 1) / G of their variance and has few distinct resamples: read it with the per-generator "
            "differences.",
        ]
    if results.get("ratios"):
        lines += [
            "",
            f"## Ratios of mean AUROC ({conf}% bootstrap CI)",
            "",
            *ratios_table(results),
            "",
            "A ratio compares two arms' means; its seeds are not paired. The interval resamples the test images (the "
            "same draw for both arms), the generators of a pooled numerator, and each arm's seeds. The target "
            "(`ratio_target`, default 0.95: synthetic-only at 0.95 x real-only AUROC) is read on the point ratio; an "
            "interval whose lower end clears it shows it beyond seed and test-image noise.",
        ]
    merged = results.get("merged_from") or []
    if merged:
        lines += [
            "",
            "## Merged runs",
            "",
            (
                "Seeds pooled from separate evaluation runs (same test images and classifier recipe, disjoint seeds; "
                "every arm common to all runs carries all their seeds, intervals and paired differences recomputed "
                "over them)."
                if results["settings"].get("pool_seeds")
                else "Arms from separate evaluation runs (same test images, seeds and classifier recipe; intervals "
                "and paired differences recomputed over the union)."
            )
            + " The settings above are the first run's. In-domain figures are only comparable between runs with the "
            "same feature network."
            + (
                " **Recipe settings allowed to differ between the runs: "
                f"{', '.join(results['settings']['recipe_differences'])}** (each run's values below): a difference "
                "between arms of runs that differ in them compares those recipes."
                if results["settings"].get("recipe_differences")
                else ""
            ),
            "",
            "| run | seeds | arms | settings differing from the first run | in-domain FID (syn vs test) | in-domain "
            "precision / recall | in-domain features | filters kept (median score pool → kept) | pixel near-copies "
            "| data-copying C_T (pixel) | label fidelity: synthetic mean P(own label) per class | generator "
            "training |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for src in merged:
            dom = (src.get("fidelity") or {}).get("in_domain") or {}
            pix = (src.get("memorization") or {}).get("pixel") or {}
            pr = dom.get("precision_recall_synthetic_vs_test") or {}
            lab = ((src.get("fidelity") or {}).get("label") or {}).get("synthetic") or {}
            lab_text = ", ".join(f"{c} {_fmt(e.get('mean_prob_own_label'))}" for c, e in lab.items()) or "-"
            diff = {
                k: v for k, v in src["settings_differing_from_first"].items() if k not in ("arms", "deltas", "seeds")
            }
            filt = "; ".join(
                f"{t}: {_fmt(f['median_score_pool'])} → {_fmt(f['median_score_kept'])}"
                for t, f in (src.get("synthetic_filter") or {}).items()
            )
            lines.append(
                f"| `{src['folder']}` | {src.get('seeds', '-')} | {', '.join(src['arms'].values())}"
                + (f" (dropped: {', '.join(src['dropped_arms'])})" if src.get("dropped_arms") else "")
                + f" | {diff or '-'} | "
                f"{_fmt(dom.get('fid_synthetic_vs_test'), 1)} | {_fmt(pr.get('precision'))} / {_fmt(pr.get('recall'))} "
                f"| {dom.get('extractor', '-')} | {filt or '-'} | {_fmt_near_copies(pix)} | "
                f"{_fmt_data_copying(pix.get('data_copying'))} | {lab_text} | "
                + ("; ".join(_training_record_text(t) for t in src.get("generator_training") or [] if t) or "-")
                + " |"
            )
    sf = results.get("synthetic_filter") or {}
    if sf:
        lines += [
            "",
            "## Synthetic filters (arms with `filter` / `realism` / `hard` / `screen`)",
            "",
            "| token | score | kept per class | median score pool → kept | pool below threshold | scored by |",
            "|---|---|---|---|---|---|",
        ]
        for token, f in sf.items():
            lines.append(
                f"| {token} | {f['score']} | {f['n_kept_per_class']} of {f['n_pool_per_class']} | "
                f"{_fmt(f['median_score_pool'])} → {_fmt(f['median_score_kept'])} | "
                f"{_fmt(f['fraction_pool_below_threshold'])} (< {f['threshold']:g}) | {f['classifier']} |"
            )
        lines.append(
            "\nClassifier filters keep per class the top `keep_fraction` of the pool by the score. Label score < 0.5: "
            "the real classifier disagrees with the conditioning label; hard score < 0: the same disagreement (the "
            "hard filter keeps the least typical label-consistent images); realism score < 1: outside the real k-NN "
            "manifold of the class. Screen (near_copy): every image closer to a generator-training image than the "
            "threshold is dropped (a near copy), the rest kept."
        )
    fid = results.get("fidelity") or {}
    if fid:
        lines += ["", "## Fidelity and diversity", ""]
        inc = fid.get("inception")
        if inc and "error" not in inc:
            lines += ["| Inception | synthetic vs test | real val vs test (reference) |", "|---|---|---|"]
            for k in sorted(x for x in inc if x.startswith("fid_") and x.endswith("_synthetic_vs_test")):
                d = k.split("_")[1]
                lines.append(f"| FID-{d} | {_fmt(inc[k], 2)} | {_fmt(inc[f'fid_{d}_val_vs_test_reference'], 2)} |")
            ps, pr = inc["precision_recall_synthetic_vs_test"], inc["precision_recall_val_vs_test_reference"]
            lines.append(f"| precision (k={ps['k']}) | {_fmt(ps['precision'])} | {_fmt(pr['precision'])} |")
            lines.append(f"| recall (k={ps['k']}) | {_fmt(ps['recall'])} | {_fmt(pr['recall'])} |")
            lines.append(
                f"\nInception sets: {inc['n_synthetic']} synthetic, {inc['n_test']} test, {inc['n_val']} val. "
                f"{inc['note']}."
            )
        elif inc:
            lines.append(f"Inception FID not computed: {inc['error']}")
        dom = fid.get("in_domain")
        if dom:
            ps, pr = dom["precision_recall_synthetic_vs_test"], dom["precision_recall_val_vs_test_reference"]
            lines += [
                "",
                f"In-domain features ({dom['extractor']}, {dom['feature_dim']}-d):",
                "",
                "| in-domain | synthetic vs test | real val vs test (reference) |",
                "|---|---|---|",
                f"| FID | {_fmt(dom['fid_synthetic_vs_test'], 3)} | {_fmt(dom['fid_val_vs_test_reference'], 3)} |",
                f"| FID vs the validation split | {_fmt(dom.get('fid_synthetic_vs_val'), 3)} | — |",
                f"| precision | {_fmt(ps['precision'])} | {_fmt(pr['precision'])} |",
                f"| recall | {_fmt(ps['recall'])} | {_fmt(pr['recall'])} |",
            ]
        lab = fid.get("label")
        if lab:
            ref, ref_va = lab.get("reference") or {}, lab.get("reference_validation") or {}
            lines += [
                "",
                f"Label fidelity per class ({lab['classifier']}): accuracy and mean probability of the own label on "
                "the synthetic images and on real images of the class (test split; validation split, which shares the "
                "training images' distribution):",
                "",
                "| class | synthetic n | synthetic accuracy | synthetic mean P(own label) | real test accuracy | "
                "real test mean P(own label) | real val accuracy | real val mean P(own label) |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for c, e in lab["synthetic"].items():
                r, rv = ref.get(c, {}), ref_va.get(c, {})
                lines.append(
                    f"| {c} | {e['n']} | {_fmt(e.get('accuracy'))} | {_fmt(e.get('mean_prob_own_label'))} | "
                    f"{_fmt(r.get('accuracy'))} | {_fmt(r.get('mean_prob_own_label'))} | "
                    f"{_fmt(rv.get('accuracy'))} | {_fmt(rv.get('mean_prob_own_label'))} |"
                )
        div = fid.get("diversity_ms_ssim")
        if div:
            lines += [
                "",
                "Mean pairwise MS-SSIM per class (lower = more diverse):",
                "",
                "| class | synthetic | real train | real test |",
                "|---|---|---|---|",
            ]
            for c, e in div.items():
                cells = [
                    _fmt(e[k]["ms_ssim_mean"]) if k in e else "n/a" for k in ("synthetic", "real_train", "real_test")
                ]
                lines.append(f"| {c} | " + " | ".join(cells) + " |")
    memo = results.get("memorization") or {}
    if memo:
        lines += [
            "",
            "## Memorisation",
            "",
            "| space | threshold (pct of test→train NN) | fraction of synthetic below | flagged | exact copies | "
            "median syn→train NN | median test→train NN | data-copying C_T |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for space in ("pixel", "feature", "autoencoder"):
            if "skipped" in (memo.get(space) or {}):
                lines.append(f"| {space} | skipped: {memo[space]['skipped']} | | | | | | |")
            elif space in memo:
                m = memo[space]
                lines.append(
                    f"| {space} | {_fmt(m['threshold'])} ({m['percentile']:g}th) | {_fmt(m['fraction_below'])} | "
                    f"{m['num_flagged']}/{m['num_synthetic']} | {m['num_exact_copies']} | "
                    f"{_fmt(m['syn_nn_distance_median'])} | {_fmt(m['test_nn_distance_median'])} | "
                    f"{_fmt_data_copying(m.get('data_copying'))} |"
                )
        if any((memo.get(sp) or {}).get("data_copying") for sp in ("pixel", "feature", "autoencoder")):
            lines.append(
                "\nData-copying C_T (Meehan et al., 2020): per k-means cell of the training images, a z-scored "
                "Mann-Whitney U of synthetic vs held-out (validation) distances to the nearest training image, "
                "averaged; about 0 = as far from the training images as new real images, < -3 = copying, "
                "> 3 = under-fitting (samples farther away than real data). P(farther): probability that a synthetic "
                "image is farther from the training set than a held-out one (0.5 = as far; does not grow with n)."
            )
        lines.append(
            f"\nFlagged synthetic indices (union, drop before release): {memo.get('flagged_union', [])[:50]}"
            + (" …" if len(memo.get("flagged_union", [])) > 50 else "")
        )
    if figures:
        lines += ["", "## Figures", ""]
        for title, f in figures.items():
            lines.append(f"![{title}]({f})")
    lines += ["", f"Bootstrap: {s['bootstrap']}.", f"Runtime {results.get('runtime_seconds', 'n/a')} s.", ""]
    return "\n".join(lines)


def _fmt_near_copies(pix: Mapping[str, Any]) -> str:
    return f"{pix['num_flagged']}/{pix['num_synthetic']}" if "num_flagged" in pix else "n/a"


def _fmt_data_copying(dc: Mapping[str, Any] | None) -> str:
    if not dc:
        return "n/a"
    if dc.get("c_t") is None:
        return f"n/a (no cell with {dc['min_per_cell']} samples)"
    auc = f"; P(farther) {dc['global_auc']:.2f}" if "global_auc" in dc else ""
    return f"{dc['c_t']:+.1f} ({dc['verdict']}; {dc['num_cells_used']}/{dc['num_cells']} cells{auc})"


def save_predictions(results: Mapping[str, Any], path: str | Path) -> Path:
    """Save the test-set predictions behind the metrics, so that arms run in separate jobs can be merged
    (:func:`~monai_medienet.evaluation.merge_evaluations`).

    Args:
        results: the dict returned by :func:`~monai_medienet.evaluation.run_evaluation` (with ``"artifacts"``).
        path: ``.npz`` file to write.

    Returns:
        The path written. Keys: ``test_labels (N,)``, ``seeds (S,)``, ``arms (A,)`` names and ``probs_<i> (S, N, K)``
        for arm ``i``; when the results hold them (runs of :func:`run_evaluation`, not merges), the kept weights'
        real-validation predictions ``val_labels (V,)`` and ``val_probs_<i> (S, V, K)``, for validation-side
        selection criteria computed afterwards.
    """
    art = results["artifacts"]
    arms = list(art["probs"])
    arrays = {f"probs_{i}": np.stack(art["probs"][a]) for i, a in enumerate(arms)}
    val = art.get("val_probs") or {}
    if val and all(a in val for a in arms):
        arrays["val_labels"] = np.asarray(art["val_labels"], dtype=np.int64)
        arrays.update({f"val_probs_{i}": np.stack(val[a]) for i, a in enumerate(arms)})
    path = Path(path)
    np.savez_compressed(
        path,
        test_labels=np.asarray(art["test_labels"], dtype=np.int64),
        seeds=np.asarray(results["seeds"], dtype=np.int64),
        arms=np.asarray(arms, dtype=str),
        **arrays,
    )
    return path


def load_predictions(path: str | Path) -> tuple[np.ndarray, list[int], dict[str, list[np.ndarray]]]:
    """Read a file written by :func:`save_predictions`.

    Returns:
        ``(test_labels (N,), seeds, {arm: [probs (N, K) per seed]})``.
    """
    with np.load(Path(path)) as z:
        arms = [str(a) for a in z["arms"]]
        probs = {a: list(z[f"probs_{i}"]) for i, a in enumerate(arms)}
        return z["test_labels"], [int(s) for s in z["seeds"]], probs


def write_report(results: Mapping[str, Any], output_dir: str | Path) -> dict[str, str]:
    """Write ``results.json``, ``report.md`` and the figures.

    ``results["artifacts"]`` (arrays behind the figures) is not written to JSON; figures needing it are skipped when
    it is absent (e.g. for results re-loaded from JSON).

    Args:
        results: the dict returned by :func:`~monai_medienet.evaluation.run_evaluation`.
        output_dir: target folder (created).

    Returns:
        ``{"results_json": path, "report_md": path, "predictions_npz": path, "<figure>": path, ...}``
        (``predictions.npz`` when the artifacts hold the test probabilities, see :func:`save_predictions`).
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, str] = {}
    plots = {
        "AUROC per arm": ("auroc_bars.png", plot_auroc_bars),
        "ROC curves": ("roc_curves.png", plot_roc_curves),
        "Paired differences": ("differences.png", plot_differences),
        "Samples real vs synthetic": ("samples.png", _plot_samples),
        "Classic augmentation examples": ("augmentation.png", _plot_augmentation),
        "Nearest training images": ("nearest_neighbours.png", _plot_nearest),
        "Grad-CAM": ("gradcam.png", _plot_gradcam),
    }
    for title, (fname, fn) in plots.items():
        if fn(results, out / fname) is not None:
            figures[title] = fname
    (out / "report.md").write_text(_markdown(results, figures))
    payload = {k: v for k, v in results.items() if k not in ("artifacts", "files")}
    payload["figures"] = figures
    (out / "results.json").write_text(json.dumps(_jsonable(payload), indent=2))
    files = {"results_json": str(out / "results.json"), "report_md": str(out / "report.md")}
    art = results.get("artifacts") or {}
    if "probs" in art and "test_labels" in art:
        files["predictions_npz"] = str(save_predictions(results, out / "predictions.npz"))
    files.update({f: str(out / f) for f in figures.values()})
    return files
