"""Twentieth session: the round-trip near-copy screen confirmed on new classifier seeds 5-9 (k = 50 chest X-ray).

Merges the stored evaluation runs (``predictions.npz`` + ``results.json`` of ``evaluate``: resnet18, 300 steps,
seeds 5-9, fp32 on an AVX2 CPU, the same 624 test images) with :func:`monai_medienet.evaluation.merge_evaluations`
and applies what ``declared.md`` beside this file declared: item 1, the generator-pooled difference
``real+syn+aug+screen - real+syn+aug`` (each generator against its own unscreened pool); item 2, the screened pools
against ``real+aug`` (shared baseline); both with the three-level bootstrap (generators, seed pairs, test images),
Holm-adjusted over the two. Generators whose evaluation is missing are listed as not run. From the repo root:

    python docs/results/chest_xray_k50_s20/analysis.py > docs/results/chest_xray_k50_s20/analysis.md

(the merged report.md and figures go to outputs/s20_merged).
"""

from __future__ import annotations

import json
from pathlib import Path

from monai_medienet.evaluation import merge_evaluations
from monai_medienet.evaluation.stats import holm_adjust

ROOT = Path("outputs")
REAL = ROOT / "medienet_chest_xray_k50_real/evaluation_s20_real"
GENS = {g: ROOT / f"medienet_chest_xray_k50_{g}/evaluation_s20_screen" for g in ("g1", "g2", "g3")}
KEPT_S19 = {"g1": 494, "g2": 866, "g3": 430}  # the bundle's `screen` run id, session 19 (of 1000)
SYN, SCR = "real+syn+aug", "real+syn+aug+screen"


def done(folder: Path) -> bool:
    return (folder / "predictions.npz").is_file() and (folder / "results.json").is_file()


def fmt(a: dict) -> str:
    return f"{a['delta']:+.4f} [{a['ci_low']:+.4f}, {a['ci_high']:+.4f}]"


def main() -> None:
    gens = {g: f for g, f in GENS.items() if done(f)}
    syn, scr = [f"{SYN}@{g}" for g in gens], [f"{SCR}@{g}" for g in gens]
    deltas = [[f"{SCR}@{g}", f"{SYN}@{g}"] for g in gens]
    deltas += [[a, b] for a in scr + syn for b in ("real+aug", "real")] + [["real+aug", "real"]]
    pools = {
        "item 1": [",".join(syn), *scr],
        "item 2": ["real+aug", *scr],
        "vs real (screened)": ["real", *scr],
        "unscreened vs real+aug": ["real+aug", *syn],
        "unscreened vs real": ["real", *syn],
    }
    res = merge_evaluations(
        [REAL, *gens.items()], ROOT / "s20_merged", deltas=deltas, generator_pools=list(pools.values()), n_boot=4000
    )
    pooled = dict(zip(pools, res["generator_pooled_deltas"].values()))
    print("# Chest X-ray 64 px, k = 50 per class: the round-trip screen on new seeds 5-9 (twentieth session)\n")
    print(
        f"Test images {len(res['artifacts']['test_labels'])}; resnet18 300 steps, seeds {res['seeds']}, fp32 (AVX2 "
        f"CPU); {res['settings']['n_boot']} bootstrap draws; generators g1-g3 of sessions 18-19, their "
        "DPM-Solver++ 50-step pools of 1000.\n"
    )
    missing = [g for g in GENS if g not in gens]
    if missing:
        print(f"Not run (no predictions by the declared cutoff): {', '.join(missing)}.\n")
    print("| generator | screen space | threshold | kept of the pool (this run) | kept by `screen`, session 19 |")
    print("|---|---|---|---|---|")
    for g, f in gens.items():
        flt = json.loads((f / "results.json").read_text()).get("synthetic_filter") or {}
        s = flt.get("screen", {})
        kept = sum(s.get("n_kept_per_class", [])) if s else None
        thr = f"{s['threshold']:.4f}" if s else "n/a"
        print(f"| {g} | {s.get('space')} | {thr} | {kept} ({s.get('n_kept_per_class')}) | {KEPT_S19[g]} |")
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
    p1, p2 = (pooled[k]["metrics"]["auroc"] for k in ("item 1", "item 2"))
    h1, h2 = holm_adjust([p1["prob_le_0"], p2["prob_le_0"]])
    n = len(gens)
    print(
        f"\nItem 1, declared primary (screened - unscreened, each generator against its own pool, pooled over {n} "
        f"generator(s)): {fmt(p1)}, P(Δ ≤ 0) {p1['prob_le_0']:.4f}, Holm over the two primaries {h1:.4f}; interval "
        f"{'excludes' if p1['ci_low'] > 0 else 'includes'} zero; prediction (Δ between 0.000 and +0.015) "
        f"{'held' if 0 <= p1['delta'] <= 0.015 else 'failed'}."
    )
    print(
        f"Item 2, declared primary (screened pools - real+aug, pooled over {n} generator(s)): {fmt(p2)}, P(Δ ≤ 0) "
        f"{p2['prob_le_0']:.4f}, Holm {h2:.4f}; prediction (+0.010 to +0.030, interval excluding zero) "
        f"{'held' if 0.01 <= p2['delta'] <= 0.03 and p2['ci_low'] > 0 else 'failed'}; the issue's target (Δ > 0, "
        f"interval excluding zero) {'met' if p2['ci_low'] > 0 else 'not met'}."
    )
    bare = pooled["vs real (screened)"]["metrics"]["auroc"]
    print(
        f"Secondary, screened pools - bare real: {fmt(bare)}; +0.04 {'met' if bare['delta'] >= 0.04 else 'not met'}; "
        f"prediction (+0.02 to +0.04) {'held' if 0.02 <= bare['delta'] <= 0.04 else 'failed'}."
    )
    un = pooled["unscreened vs real+aug"]["metrics"]["auroc"]
    print(
        f"Secondary, unscreened pools - real+aug (replicates session 19's +0.014): {fmt(un)}; prediction (0.000 to "
        f"+0.020, interval including zero) {'held' if 0 <= un['delta'] <= 0.02 and un['ci_low'] <= 0 else 'failed'}."
    )


# exploratory, after the declared items: seeds 0-4 (sessions 18-19, same recipe, same test images) + seeds 5-9
TEN = {
    "real": [(ROOT / "medienet_chest_xray_k50_real/evaluation_s18_real", "real"), (REAL, "real")],
    "real+aug": [(ROOT / "medienet_chest_xray_k50_real/evaluation_s18_real+aug", "real+aug"), (REAL, "real+aug")],
    **{
        f"{SYN}@{g}": [(ROOT / f"medienet_chest_xray_k50_{g}/{d}", SYN), (GENS[g], SYN)]
        for g, d in (("g1", "evaluation_s18_syn"), ("g2", "evaluation_s19_syn"), ("g3", "evaluation_s19_syn"))
    },
    **{
        f"{SCR}@{g}": [(ROOT / f"medienet_chest_xray_k50_{g}/{d}", SYN), (GENS[g], SCR)]
        for g, d in (("g1", "evaluation_s19_screened_roundtrip"), ("g2", "evaluation_s19_screened_autoencoder"))
    },
}


def ten_seeds() -> None:
    """Seeds 0-9 per arm (the seeds 0-4 screened arms ran as ``real+syn+aug`` on the same screen's output folder)."""
    import numpy as np

    from monai_medienet.evaluation import generator_pooled_difference, load_predictions
    from monai_medienet.evaluation.protocol import BOOTSTRAP_SEED
    from monai_medienet.evaluation.stats import bootstrap_indices

    probs, labels = {}, None
    for arm, parts in TEN.items():
        if not all(done(f) for f, _ in parts):
            continue
        seqs = []
        for f, name in parts:
            y, seeds, p = load_predictions(f / "predictions.npz")
            assert labels is None or np.array_equal(labels, y), f
            labels = y
            seqs += p[name]
        probs[arm] = seqs
    idx = bootstrap_indices(len(labels), 4000, seed=BOOTSTRAP_SEED, strata=labels)
    print("\n## Exploratory: ten seeds (0-4 from sessions 18-19, 5-9 from this session)\n")
    print("| comparison | per generator | mean Δ AUROC [generators, seeds, images] | P(Δ ≤ 0) |")
    print("|---|---|---|---|")
    scr = [a for a in probs if a.startswith(SCR)]
    syn = [a for a in probs if a.startswith(f"{SYN}@")]
    pairs = {
        "screened - unscreened (own pool)": (scr, [a.replace(SCR, SYN) for a in scr]),
        "screened - real+aug": (scr, "real+aug"),
        "screened - real": (scr, "real"),
        "unscreened - real+aug": (syn, "real+aug"),
        "unscreened - real": (syn, "real"),
    }
    for label, (arms, base) in pairs.items():
        b = probs[base] if isinstance(base, str) else [probs[x] for x in base]
        a = generator_pooled_difference(labels, [probs[x] for x in arms], b, indices=idx)["auroc"]
        per = ", ".join(f"{x.split('@')[1]} {d:+.4f}" for x, d in zip(arms, a["generator_deltas"]))
        print(f"| {label} | {per} | {fmt(a)} | {a['prob_le_0']:.4f} |")


if __name__ == "__main__":
    main()
    ten_seeds()
