"""Twenty-first session: k = 50 chest X-ray generators trained on augmented copies of their images (ga1, ga3).

Merges the stored evaluation runs (``predictions.npz`` + ``results.json`` of ``evaluate``: resnet18, 300 steps, fp32
on an AVX2 CPU, the same 624 test images) with :func:`monai_medienet.evaluation.merge_evaluations` and applies what
``declared.md`` beside this file declared: item 1, the pooled difference of the augmented generators' pools against
their unaugmented twins' pools (ga1 - g1, ga3 - g3; seeds 5-9, twins from session 20); item 2, the augmented pools
against ``real+aug`` (session 20's, seeds 5-9); both with the three-level bootstrap (generators, seed pairs, test
images), Holm-adjusted over the two. Then the near-copy screens and, exploratory, seeds 0-4 and 0-9. From the repo
root:

    python docs/results/chest_xray_k50_s21/analysis.py > docs/results/chest_xray_k50_s21/analysis.md

(the merged report.md and figures go to outputs/s21_merged).
"""

from __future__ import annotations

import json
from pathlib import Path

from monai_medienet.evaluation import merge_evaluations
from monai_medienet.evaluation.stats import holm_adjust

ROOT = Path("outputs")
K50 = "medienet_chest_xray_k50_"
REAL = ROOT / f"{K50}real/evaluation_s20_real"
TWINS = {"g1": ROOT / f"{K50}g1/evaluation_s20_screen", "g3": ROOT / f"{K50}g3/evaluation_s20_screen"}
AUG = {"ga1": ROOT / f"{K50}ga1/evaluation_s21_seeds56789", "ga3": ROOT / f"{K50}ga3/evaluation_s21_seeds56789"}
TWIN_OF = {"ga1": "g1", "ga3": "g3"}
SYN = "real+syn+aug"


def done(folder: Path) -> bool:
    return (folder / "predictions.npz").is_file() and (folder / "results.json").is_file()


def fmt(a: dict) -> str:
    return f"{a['delta']:+.4f} [{a['ci_low']:+.4f}, {a['ci_high']:+.4f}]"


def screens() -> None:
    print("\n## Near-copy screens of the pools (1000 images each; measurement only, the pools are used unscreened)\n")
    print("| generator | training images augmented | pixel: flagged (threshold) | round trip through its own "
          "autoencoder: flagged (threshold) |")  # fmt: skip
    print("|---|---|---|---|")
    for g in ("g1", "ga1", "g3", "ga3"):
        cells = []
        for space in ("pixel", "autoencoder"):
            f = ROOT / f"{K50}{g}/screened_{space}/near_copies.json"
            if f.is_file():
                d = json.loads(f.read_text())
                cells.append(f"{d['num_dropped']} ({d['fraction_dropped']:.1%}; {d['threshold']:.3f})")
            else:
                cells.append("not run")
        print(f"| {g} | {'yes' if g.startswith('ga') else 'no'} | {cells[0]} | {cells[1]} |")


def main() -> None:
    aug = {g: f for g, f in AUG.items() if done(f)}
    print("# Chest X-ray 64 px, k = 50 per class: generators trained on augmented images (twenty-first session)\n")
    missing = [g for g in AUG if g not in aug]
    if missing:
        print(f"Not run (no predictions by the declared cutoff): {', '.join(missing)}.\n")
    if not aug:
        screens()
        return
    twins = {TWIN_OF[g]: TWINS[TWIN_OF[g]] for g in aug}
    ga, tw = [f"{SYN}@{g}" for g in aug], [f"{SYN}@{TWIN_OF[g]}" for g in aug]
    deltas = [[a, b] for a, b in zip(ga, tw)]
    deltas += [[a, b] for a in ga + tw for b in ("real+aug", "real")] + [["real+aug", "real"]]
    pools = {
        "item 1": [",".join(tw), *ga],
        "item 2": ["real+aug", *ga],
        "augmented vs real": ["real", *ga],
        "twins vs real+aug": ["real+aug", *tw],
    }
    res = merge_evaluations(
        [REAL, *twins.items(), *aug.items()],
        ROOT / "s21_merged",
        deltas=deltas,
        generator_pools=list(pools.values()),
        n_boot=4000,
    )
    pooled = dict(zip(pools, res["generator_pooled_deltas"].values()))
    print(
        f"Test images {len(res['artifacts']['test_labels'])}; resnet18 300 steps, seeds {res['seeds']}, fp32 (AVX2 "
        f"CPU); {res['settings']['n_boot']} bootstrap draws; ga1, ga3: the recipe of g1, g3 (sessions 18-19) with "
        "`generator_augmentation` on; every generator's DPM-Solver++ 50-step pool of 1000, unscreened.\n"
    )
    print("| arm | AUROC (mean of seeds) [95 % CI, test images] | seed AUROCs |")
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
    n = len(aug)
    print(
        f"\nItem 1, declared primary (augmented - unaugmented twin, pooled over {n} pair(s)): {fmt(p1)}, P(Δ ≤ 0) "
        f"{p1['prob_le_0']:.4f}, Holm over the two primaries {h1:.4f}; interval "
        f"{'excludes' if p1['ci_low'] > 0 else 'includes'} zero; prediction (Δ between 0.000 and +0.015, interval "
        f"including zero) {'held' if 0 <= p1['delta'] <= 0.015 and p1['ci_low'] <= 0 else 'failed'}."
    )
    print(
        f"Item 2, declared primary (augmented pools - real+aug, pooled over {n} generator(s)): {fmt(p2)}, P(Δ ≤ 0) "
        f"{p2['prob_le_0']:.4f}, Holm {h2:.4f}; prediction (−0.005 to +0.015, interval including zero) "
        f"{'held' if -0.005 <= p2['delta'] <= 0.015 and p2['ci_low'] <= 0 else 'failed'}; the issue's target "
        f"(Δ > 0, interval excluding zero) {'met' if p2['ci_low'] > 0 else 'not met'}."
    )
    bare = pooled["augmented vs real"]["metrics"]["auroc"]
    print(
        f"Secondary, augmented pools - bare real: {fmt(bare)}; +0.04 {'met' if bare['delta'] >= 0.04 else 'not met'}; "
        f"prediction (+0.025 to +0.045) {'held' if 0.025 <= bare['delta'] <= 0.045 else 'failed'}."
    )
    screens()


# exploratory, after the declared items: seeds 0-4 (real arms session 18, twins sessions 18-19) + seeds 5-9
TEN = {
    "real": [(ROOT / f"{K50}real/evaluation_s18_real", "real"), (REAL, "real")],
    "real+aug": [(ROOT / f"{K50}real/evaluation_s18_real+aug", "real+aug"), (REAL, "real+aug")],
    f"{SYN}@g1": [(ROOT / f"{K50}g1/evaluation_s18_syn", SYN), (TWINS["g1"], SYN)],
    f"{SYN}@g3": [(ROOT / f"{K50}g3/evaluation_s19_syn", SYN), (TWINS["g3"], SYN)],
    **{f"{SYN}@{g}": [(ROOT / f"{K50}{g}/evaluation_s21_seeds01234", SYN), (AUG[g], SYN)] for g in AUG},
}


def more_seeds() -> None:
    """Seeds 0-4 alone and seeds 0-9, for the arms whose runs all finished."""
    import numpy as np

    from monai_medienet.evaluation import generator_pooled_difference, load_predictions
    from monai_medienet.evaluation.protocol import BOOTSTRAP_SEED
    from monai_medienet.evaluation.stats import bootstrap_indices, classification_metrics

    for title, parts_of in (("seeds 0-4", lambda p: p[:1]), ("ten seeds, 0-4 and 5-9", lambda p: p)):
        probs, labels = {}, None
        for arm, parts in TEN.items():
            parts = parts_of(parts)
            if not all(done(f) for f, _ in parts):
                continue
            seqs = []
            for f, name in parts:
                y, _, p = load_predictions(f / "predictions.npz")
                assert labels is None or np.array_equal(labels, y), f
                labels = y
                seqs += p[name]
            probs[arm] = seqs
        ga = [f"{SYN}@{g}" for g in AUG if f"{SYN}@{g}" in probs]
        if not ga:
            print(f"\n## Exploratory: {title}: the augmented generators' runs did not finish\n")
            continue
        tw = [f"{SYN}@{TWIN_OF[a.split('@')[1]]}" for a in ga]
        idx = bootstrap_indices(len(labels), 4000, seed=BOOTSTRAP_SEED, strata=labels)
        print(f"\n## Exploratory: {title} (seeds 0-4 of the twins and real arms from sessions 18-19)\n")
        print("| arm | AUROC, mean of seeds |")
        print("|---|---|")
        for arm, seqs in probs.items():
            mean = np.mean([classification_metrics(labels, s)["auroc"] for s in seqs])
            print(f"| {arm} | {mean:.4f} ({len(seqs)} seeds) |")
        print("\n| comparison | per generator | mean Δ AUROC [generators, seeds, images] | P(Δ ≤ 0) |")
        print("|---|---|---|---|")
        pairs = {
            "augmented - unaugmented twin": (ga, [probs[t] for t in tw]),
            "augmented - real+aug": (ga, probs["real+aug"]),
            "augmented - real": (ga, probs["real"]),
            "twins - real+aug": (tw, probs["real+aug"]),
        }
        for label, (arms, base) in pairs.items():
            a = generator_pooled_difference(labels, [probs[x] for x in arms], base, indices=idx)["auroc"]
            per = ", ".join(f"{x.split('@')[1]} {d:+.4f}" for x, d in zip(arms, a["generator_deltas"]))
            print(f"| {label} | {per} | {fmt(a)} | {a['prob_le_0']:.4f} |")


if __name__ == "__main__":
    main()
    more_seeds()
