"""Twenty-third session: the ``hard`` filter (least typical label-consistent half) of the non-copying k = 50 pools.

Merges the stored evaluation runs (``predictions.npz`` + ``results.json`` of ``evaluate``: resnet18, 300 steps, fp32
on an AVX2 CPU, the same 624 test images) with :func:`monai_medienet.evaluation.merge_evaluations` and applies what
``declared.md`` beside this file declared, on seeds 5-9: item 1, the hard-filtered pools of ga1, ga3 against
``real+aug``; item 2, against the same pools unfiltered; both pooled over the two generators with the three-level
bootstrap (generators, seed pairs, test images), Holm-adjusted over the two; item 3, what the filter kept. Then the
addendum's item 4: item 2 on seeds 0-4, and (exploratory) all ten seeds. From the repo root:

    python docs/results/chest_xray_k50_s23/analysis.py > docs/results/chest_xray_k50_s23/analysis.md

(the merged reports and figures go to outputs/s23_merged*).
"""

from __future__ import annotations

import json
from pathlib import Path

from monai_medienet.evaluation import arms_table, deltas_table, merge_evaluations, pooled_deltas_table
from monai_medienet.evaluation.stats import holm_adjust

ROOT = Path("outputs")
K50 = ROOT / "medienet_chest_xray_k50_"
GENERATORS = ("ga1", "ga3")
SYN, ARM = "real+syn+aug", "real+syn+aug+hard"
# per seed set: real, real+aug, the unfiltered ratio-1 pools (session 21) and the hard-filtered pools (this session)
SEEDS59 = {
    "real": f"{K50}real/evaluation_s20_real",
    "real+aug": f"{K50}real/evaluation_s20_real",
    **{g: f"{K50}{g}/evaluation_s21_seeds56789" for g in GENERATORS},
    **{f"h{g}": f"{K50}{g}/evaluation_s23_hard" for g in GENERATORS},
}
SEEDS04 = {
    "real": f"{K50}real/evaluation_s18_real",
    "real+aug": f"{K50}real/evaluation_s18_real+aug",
    **{g: f"{K50}{g}/evaluation_s21_seeds01234" for g in GENERATORS},
    **{f"h{g}": f"{K50}{g}/evaluation_s23_hard_seeds01234" for g in GENERATORS},
}
POOLS = {
    "hard vs real+aug": ["real+aug", *(f"{ARM}@h{g}" for g in GENERATORS)],
    "hard vs unfiltered": [",".join(f"{SYN}@{g}" for g in GENERATORS), *(f"{ARM}@h{g}" for g in GENERATORS)],
    "hard vs bare real": ["real", *(f"{ARM}@h{g}" for g in GENERATORS)],
    "unfiltered vs real+aug": ["real+aug", *(f"{SYN}@{g}" for g in GENERATORS)],
}


def done(folder: str | Path) -> bool:
    return (Path(folder) / "predictions.npz").is_file() and (Path(folder) / "results.json").is_file()


def fmt(a: dict) -> str:
    return f"{a['delta']:+.4f} [{a['ci_low']:+.4f}, {a['ci_high']:+.4f}]"


def merge(folders: dict[str, str | Path], out: Path) -> tuple[dict, dict[str, dict]]:
    """Side-by-side merge of one seed set: tags g / hg, real and real+aug untagged; the pooled differences by name."""
    runs = [folders["real"]] if folders["real"] == folders["real+aug"] else [folders["real"], folders["real+aug"]]
    runs += [(t, folders[t]) for t in (*GENERATORS, *(f"h{g}" for g in GENERATORS))]
    deltas = [[f"{ARM}@h{g}", b] for g in GENERATORS for b in ("real+aug", "real", f"{SYN}@{g}")]
    res = merge_evaluations(
        runs, out, deltas=deltas + [["real+aug", "real"]], generator_pools=list(POOLS.values()), n_boot=4000
    )
    return res, {k: v["metrics"]["auroc"] for k, v in zip(POOLS, res["generator_pooled_deltas"].values())}


def show(res: dict) -> None:
    print("### Arms\n", *arms_table(res, digits=4), sep="\n")
    print("\n### Paired differences (seeds fixed; two-level: seeds resampled)\n", *deltas_table(res, 4), sep="\n")
    print("\n### Pooled over generators (ga1, ga3)\n", *pooled_deltas_table(res, 4, labels=list(POOLS)), sep="\n")


def items_1_to_3() -> None:
    res, pooled = merge(SEEDS59, ROOT / "s23_merged")
    print(
        f"Test images {len(res['artifacts']['test_labels'])}; resnet18 300 steps, fp32 (AVX2 CPU); "
        f"{res['settings']['n_boot']} bootstrap draws; every generator's stored DPM-Solver++ 50-step pool of 1000; the "
        "filter keeps 250 per class, of which 50 per class are drawn per classifier (ratio 1).\n"
    )
    print(f"## Items 1-3: seeds {res['seeds']}\n")
    show(res)
    p1, p2, pr = (pooled[k] for k in ("hard vs real+aug", "hard vs unfiltered", "hard vs bare real"))
    h1, h2 = holm_adjust([p1["prob_le_0"], p2["prob_le_0"]])
    print(
        f"\nItem 1, declared primary (hard-filtered pools - real+aug, pooled over ga1, ga3): {fmt(p1)}, P(Δ ≤ 0) "
        f"{p1['prob_le_0']:.4f}, Holm over items 1-2 {h1:.4f}; prediction (−0.010 to +0.010, interval including "
        f"zero) {'held' if -0.010 <= p1['delta'] <= 0.010 and p1['ci_low'] <= 0 else 'failed'}; the issue's target "
        f"(Δ > 0, interval excluding zero) {'met' if p1['ci_low'] > 0 else 'not met'}."
    )
    print(
        f"Against bare real (target +0.04): {fmt(pr)}; prediction (+0.015 to +0.035) "
        f"{'held' if 0.015 <= pr['delta'] <= 0.035 else 'failed'}."
    )
    print(
        f"Item 2 (hard - unfiltered, same pools and seeds): {fmt(p2)}, P(Δ ≤ 0) {p2['prob_le_0']:.4f}, Holm "
        f"{h2:.4f}; prediction (−0.010 to +0.005, interval including zero) "
        f"{'held' if -0.010 <= p2['delta'] <= 0.005 and p2['ci_low'] <= 0 else 'failed'}."
    )
    print("\n## Item 3: what the filter kept\n")
    print(
        "| seeds (filter classifier: real+aug resnet18 of the first seed) | generator | median 1 − p(own label): "
        "pool / kept half | share given another label: NORMAL / PNEUMONIA | lowest kept score per class |"
    )
    print("|---|---|---|---|---|")
    for seeds, folders in (("5-9", SEEDS59), ("0-4", SEEDS04)):
        for g in GENERATORS:
            if not done(folders[f"h{g}"]):
                continue
            s = json.loads((Path(folders[f"h{g}"]) / "results.json").read_text())["synthetic_filter"]["hard"]
            other = " / ".join(f"{c['fraction_pool_below_threshold']:.3f}" for c in s["per_class"])
            low = " / ".join(f"{c['min_score_kept']:.4f}" for c in s["per_class"])
            print(f"| {seeds} | {g} | {s['median_score_pool']:.4f} / {s['median_score_kept']:.4f} | {other} | {low} |")
    print(
        "\n(Score: 1 − p(own label) for images the classifier labels as conditioned, p − 1 < 0 for the others, which "
        "are kept last; medians over both classes. PneumoniaMNIST k = 200, fifth session: 0.001 / 0.003.)"
    )


def item_4() -> None:
    print("\n## Item 4 (declared addendum): hard - unfiltered on seeds 0-4, and all ten seeds (exploratory)\n")
    missing = [g for g in GENERATORS if not done(SEEDS04[f"h{g}"])]
    if missing:
        print(f"Not run (no predictions by the declared cutoff): {', '.join(missing)}.")
        return
    res, pooled = merge(SEEDS04, ROOT / "s23_merged_seeds01234")
    print(f"### Seeds {res['seeds']}\n")
    show(res)
    p4 = pooled["hard vs unfiltered"]
    print(
        f"\nItem 4, declared primary (hard - unfiltered, pooled over ga1, ga3, seeds 0-4): {fmt(p4)}, P(Δ ≤ 0) "
        f"{p4['prob_le_0']:.4f}; interval {'excludes' if p4['ci_low'] > 0 else 'includes'} zero; prediction "
        f"(0.000 to +0.015, interval including zero) "
        f"{'held' if 0 <= p4['delta'] <= 0.015 and p4['ci_low'] <= 0 else 'failed'}."
    )
    # ten seeds: every source's seeds 0-4 and 5-9 pooled first (arms common to both runs), then merged side by side
    ten = {}
    for key in SEEDS59:
        out = ROOT / f"s23_merged_ten/{key}"
        pair = [SEEDS04[key], SEEDS59[key]]
        merge_evaluations(pair, out, pool_seeds=True, deltas=[])
        ten[key] = out
    res, pooled = merge(ten, ROOT / "s23_merged_ten/merged")
    print(f"\n### Ten seeds {res['seeds']} (exploratory)\n")
    show(res)


if __name__ == "__main__":
    items_1_to_3()
    item_4()
