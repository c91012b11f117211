"""Twenty-second session: synthetic:real ratio 5 instead of 1 for the k = 50 chest X-ray pools (ga1, ga3, g1, g3).

Merges the stored evaluation runs (``predictions.npz`` + ``results.json`` of ``evaluate``: resnet18, 300 steps, fp32
on an AVX2 CPU, the same 624 test images, seeds 5-9) with :func:`monai_medienet.evaluation.merge_evaluations` and
applies what ``declared.md`` beside this file declared: item 1, ratio 5 - ratio 1 pooled over the non-copying
generators ga1, ga3; item 2, their ratio-5 pools against ``real+aug``; both with the three-level bootstrap
(generators, seed pairs, test images), Holm-adjusted over the two; item 3 (secondary), the same ratio effect for the
copying twins g1, g3; item 4 (the declared addendum), ratio 5 - ratio 1 for g1, g3 on seeds 0-4, then seeds 0-9.
From the repo root:

    python docs/results/chest_xray_k50_s22/analysis.py > docs/results/chest_xray_k50_s22/analysis.md

(the merged report.md and figures go to outputs/s22_merged).
"""

from __future__ import annotations

import json
from pathlib import Path

from monai_medienet.evaluation import merge_evaluations
from monai_medienet.evaluation.stats import holm_adjust

ROOT = Path("outputs")
K50 = "medienet_chest_xray_k50_"
REAL = ROOT / f"{K50}real/evaluation_s20_real"
RATIO1 = {
    "ga1": ROOT / f"{K50}ga1/evaluation_s21_seeds56789",
    "ga3": ROOT / f"{K50}ga3/evaluation_s21_seeds56789",
    "g1": ROOT / f"{K50}g1/evaluation_s20_screen",
    "g3": ROOT / f"{K50}g3/evaluation_s20_screen",
}
RATIO5 = {g: ROOT / f"{K50}{g}/evaluation_s22_ratio5" for g in RATIO1}
SYN = "real+syn+aug"
NON_COPYING, COPYING = ("ga1", "ga3"), ("g1", "g3")


def done(folder: Path) -> bool:
    return (folder / "predictions.npz").is_file() and (folder / "results.json").is_file()


def fmt(a: dict) -> str:
    return f"{a['delta']:+.4f} [{a['ci_low']:+.4f}, {a['ci_high']:+.4f}]"


def n_synthetic(folder: Path) -> str:
    """Synthetic images per classifier run, as ``evaluate`` recorded them."""
    runs = json.loads((folder / "results.json").read_text())["arms"][SYN]["runs"]
    counts = sorted({r.get("n_train_synthetic") for r in runs}, key=str)
    return ", ".join(str(c) for c in counts)


def main() -> None:
    r5 = {g: f for g, f in RATIO5.items() if done(f)}
    print("# Chest X-ray 64 px, k = 50 per class: synthetic:real ratio 5 (twenty-second session)\n")
    missing = [g for g in RATIO5 if g not in r5]
    if missing:
        print(f"Not run (no predictions by the declared cutoff): {', '.join(missing)}.\n")
    if not r5:
        return
    runs = [REAL, *((g, RATIO1[g]) for g in r5), *((f"r5{g}", f) for g, f in r5.items())]
    deltas = [[f"{SYN}@r5{g}", f"{SYN}@{g}"] for g in r5]
    deltas += [[f"{SYN}@r5{g}", b] for g in r5 for b in ("real+aug", "real")] + [["real+aug", "real"]]
    pools, ga, gg = {}, [g for g in NON_COPYING if g in r5], [g for g in COPYING if g in r5]
    if ga:
        pools["item 1"] = [",".join(f"{SYN}@{g}" for g in ga), *(f"{SYN}@r5{g}" for g in ga)]
        pools["item 2"] = ["real+aug", *(f"{SYN}@r5{g}" for g in ga)]
        pools["non-copying ratio 5 vs real"] = ["real", *(f"{SYN}@r5{g}" for g in ga)]
        pools["non-copying ratio 1 vs real+aug"] = ["real+aug", *(f"{SYN}@{g}" for g in ga)]
    if gg:
        pools["item 3 (copying twins)"] = [",".join(f"{SYN}@{g}" for g in gg), *(f"{SYN}@r5{g}" for g in gg)]
        pools["copying ratio 5 vs real+aug"] = ["real+aug", *(f"{SYN}@r5{g}" for g in gg)]
        pools["copying ratio 5 vs real"] = ["real", *(f"{SYN}@r5{g}" for g in gg)]
    res = merge_evaluations(runs, ROOT / "s22_merged", deltas=deltas, generator_pools=list(pools.values()), n_boot=4000)
    pooled = dict(zip(pools, res["generator_pooled_deltas"].values()))
    print(
        f"Test images {len(res['artifacts']['test_labels'])}; resnet18 300 steps, seeds {res['seeds']}, fp32 (AVX2 "
        f"CPU); {res['settings']['n_boot']} bootstrap draws; every generator's stored DPM-Solver++ 50-step pool of "
        "1000, unscreened; ratio 1 = 50 synthetic images per class beside the 50 real, ratio 5 = 250.\n"
    )
    print("| run | synthetic images per classifier |")
    print("|---|---|")
    for g in r5:
        print(f"| {g} ratio 1 / ratio 5 | {n_synthetic(RATIO1[g])} / {n_synthetic(r5[g])} |")
    print("\n| arm | AUROC (mean of seeds) [95 % CI, test images] | seed AUROCs |")
    print("|---|---|---|")
    for name, arm in res["arms"].items():
        m = arm["metrics"]["auroc"]
        seeds = ", ".join(f"{v:.3f}" for v in m["seed_values"])
        print(f"| {name} | {m['mean']:.4f} [{m['ci_low']:.4f}, {m['ci_high']:.4f}] | {seeds} |")
    print("\n| paired difference | Δ AUROC | seeds fixed | seeds resampled (two-level) |")
    print("|---|---|---|---|")
    for name, d in res["deltas"].items():
        a = d["auroc"]
        two = f"[{a['ci_low_seeds']:+.4f}, {a['ci_high_seeds']:+.4f}]" if a["ci_low_seeds"] is not None else "n/a"
        print(f"| {name} | {a['delta']:+.4f} | [{a['ci_low']:+.4f}, {a['ci_high']:+.4f}] | {two} |")
    print("\n| pooled over generators | comparison | per generator | mean Δ AUROC [generators, seeds, images] | "
          "P(Δ ≤ 0) | images only |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for label, (name, d) in zip(pools, res["generator_pooled_deltas"].items()):
        a = d["metrics"]["auroc"]
        per = ", ".join(f"{x:+.4f}" for x in a["generator_deltas"])
        print(
            f"| {label} | {name} | {per} | {fmt(a)} | {a['prob_le_0']:.4f} | "
            f"[{a['ci_low_images']:+.4f}, {a['ci_high_images']:+.4f}] |"
        )
    if "item 1" in pooled:
        p1, p2 = (pooled[k]["metrics"]["auroc"] for k in ("item 1", "item 2"))
        h1, h2 = holm_adjust([p1["prob_le_0"], p2["prob_le_0"]])
        print(
            f"\nItem 1, declared primary (ratio 5 - ratio 1, pooled over {', '.join(ga)}): {fmt(p1)}, P(Δ ≤ 0) "
            f"{p1['prob_le_0']:.4f}, Holm over the two primaries {h1:.4f}; interval "
            f"{'excludes' if p1['ci_low'] > 0 else 'includes'} zero; prediction (−0.005 to +0.015, interval "
            f"including zero) {'held' if -0.005 <= p1['delta'] <= 0.015 and p1['ci_low'] <= 0 else 'failed'}."
        )
        print(
            f"Item 2, declared primary (ratio-5 non-copying pools - real+aug): {fmt(p2)}, P(Δ ≤ 0) "
            f"{p2['prob_le_0']:.4f}, Holm {h2:.4f}; prediction (−0.010 to +0.010, interval including zero) "
            f"{'held' if -0.010 <= p2['delta'] <= 0.010 and p2['ci_low'] <= 0 else 'failed'}; the issue's target "
            f"(Δ > 0, interval excluding zero) {'met' if p2['ci_low'] > 0 else 'not met'}."
        )
        bare = pooled["non-copying ratio 5 vs real"]["metrics"]["auroc"]
        print(
            f"Against bare real: {fmt(bare)}; +0.04 {'met' if bare['delta'] >= 0.04 else 'not met'}; prediction "
            f"(+0.020 to +0.040) {'held' if 0.020 <= bare['delta'] <= 0.040 else 'failed'}."
        )
    if "item 3 (copying twins)" in pooled and "item 1" in pooled:
        d_ga = pooled["item 1"]["metrics"]["auroc"]["generator_deltas"]
        d_g = pooled["item 3 (copying twins)"]["metrics"]["auroc"]["generator_deltas"]
        p3 = pooled["item 3 (copying twins)"]["metrics"]["auroc"]
        mean = lambda v: sum(v) / len(v)  # noqa: E731
        print(
            f"Item 3, secondary (ratio 5 - ratio 1 for the copying twins): {fmt(p3)}; per generator "
            f"{', '.join(f'{x:+.4f}' for x in d_g)} against the non-copying {', '.join(f'{x:+.4f}' for x in d_ga)}: "
            f"difference of the means {mean(d_ga) - mean(d_g):+.4f} (non-copying - copying; two generators per "
            f"group, no formal test); prediction (copying lose with ratio 5, non-copying less) "
            f"{'held' if p3['delta'] < 0 and mean(d_ga) > mean(d_g) else 'failed'}."
        )


# item 4 (declared addendum): the copying pools at ratio 5 on seeds 0-4, ratio-1 and real arms from sessions 18-19
SEEDS04 = {
    "real": ROOT / f"{K50}real/evaluation_s18_real",
    "real+aug": ROOT / f"{K50}real/evaluation_s18_real+aug",
    "g1": ROOT / f"{K50}g1/evaluation_s18_syn",
    "g3": ROOT / f"{K50}g3/evaluation_s19_syn",
    "r5g1": ROOT / f"{K50}g1/evaluation_s22_ratio5_seeds01234",
    "r5g3": ROOT / f"{K50}g3/evaluation_s22_ratio5_seeds01234",
}
ARM_OF = {"real": "real", "real+aug": "real+aug"}  # the others: real+syn+aug


def item4() -> None:
    """Seeds 0-4 alone (item 4) and seeds 0-9 (exploratory), three-level bootstrap over g1, g3."""
    import numpy as np

    from monai_medienet.evaluation import generator_pooled_difference, load_predictions
    from monai_medienet.evaluation.protocol import BOOTSTRAP_SEED
    from monai_medienet.evaluation.stats import bootstrap_indices, classification_metrics

    print("\n## Item 4 (declared addendum): ratio 5 of the copying pools on seeds 0-4, and seeds 0-9\n")
    missing = [k for k in ("r5g1", "r5g3") if not done(SEEDS04[k])]
    if missing:
        print(f"Not run (no predictions by the declared cutoff): {', '.join(missing)}.")
        return
    ten = {
        "real": [(SEEDS04["real"], "real"), (REAL, "real")],
        "real+aug": [(SEEDS04["real+aug"], "real+aug"), (REAL, "real+aug")],
        **{g: [(SEEDS04[g], SYN), (RATIO1[g], SYN)] for g in ("g1", "g3")},
        **{f"r5{g}": [(SEEDS04[f"r5{g}"], SYN), (RATIO5[g], SYN)] for g in ("g1", "g3")},
    }
    for title, parts_of in (("seeds 0-4 (item 4)", lambda p: p[:1]), ("ten seeds, 0-9 (exploratory)", lambda p: p)):
        probs, labels = {}, None
        for arm, parts in ten.items():
            seqs = []
            for f, name in parts_of(parts):
                y, _, p = load_predictions(f / "predictions.npz")
                assert labels is None or np.array_equal(labels, y), f
                labels = y
                seqs += p[name]
            probs[arm] = seqs
        idx = bootstrap_indices(len(labels), 4000, seed=BOOTSTRAP_SEED, strata=labels)
        print(f"\n### {title}\n")
        print("| arm | AUROC, mean of seeds | seed AUROCs |")
        print("|---|---|---|")
        for arm, seqs in probs.items():
            vals = [classification_metrics(labels, s)["auroc"] for s in seqs]
            print(f"| {arm} | {np.mean(vals):.4f} ({len(seqs)} seeds) | {', '.join(f'{v:.3f}' for v in vals)} |")
        print("\n| comparison | per generator (g1, g3) | mean Δ AUROC [generators, seeds, images] | P(Δ ≤ 0) |")
        print("|---|---|---|---|")
        r5 = [probs["r5g1"], probs["r5g3"]]
        rows = {
            "ratio 5 - ratio 1": (r5, [probs["g1"], probs["g3"]]),
            "ratio 5 - real+aug": (r5, probs["real+aug"]),
            "ratio 5 - real": (r5, probs["real"]),
            "ratio 1 - real+aug": ([probs["g1"], probs["g3"]], probs["real+aug"]),
        }
        res = {}
        for label, (arms, base) in rows.items():
            a = generator_pooled_difference(labels, arms, base, indices=idx)["auroc"]
            res[label] = a
            per = ", ".join(f"{d:+.4f}" for d in a["generator_deltas"])
            print(f"| {label} | {per} | {fmt(a)} | {a['prob_le_0']:.4f} |")
        if title.startswith("seeds 0-4"):
            a = res["ratio 5 - ratio 1"]
            print(
                f"\nItem 4, declared primary (ratio 5 - ratio 1, copying pools g1, g3, seeds 0-4): {fmt(a)}, "
                f"P(Δ ≤ 0) {a['prob_le_0']:.4f}; interval {'excludes' if a['ci_low'] > 0 else 'includes'} zero; "
                f"prediction (0.000 to +0.015, interval including zero) "
                f"{'held' if 0 <= a['delta'] <= 0.015 and a['ci_low'] <= 0 else 'failed'}."
            )


if __name__ == "__main__":
    main()
    item4()
