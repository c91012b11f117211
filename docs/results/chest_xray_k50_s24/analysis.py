"""Twenty-fourth session: stronger classic augmentation for every augmented arm (k = 50 chest X-ray).

Merges the stored evaluation runs (``predictions.npz`` + ``results.json`` of ``evaluate``: resnet18, 300 steps, fp32
on an AVX2 CPU, the same 624 test images) with :func:`monai_medienet.evaluation.merge_evaluations` and applies what
``declared.md`` beside this file declared. This session's runs (tag ``s``: rotation 15 degrees, crop 70-100 %,
intensity jitter 0.2) are merged with the stored default-augmentation runs of the same seeds through the explicit
``recipe_differences`` opt-in. Item 1: the strong-augmentation pools of ga1, ga3 against strong real + augmentation;
item 2: against bare real (stored); item 3: strong against default real + augmentation; all on seeds 5-9, then the
addendum's item 4: the same on seeds 0-4 and on all ten seeds. From the repo root:

    python docs/results/chest_xray_k50_s24/analysis.py > docs/results/chest_xray_k50_s24/analysis.md

(the merged reports and figures go to outputs/s24_merged*).
"""

from __future__ import annotations

from pathlib import Path

from monai_medienet.evaluation import arms_table, deltas_table, merge_evaluations, pooled_deltas_table
from monai_medienet.evaluation.stats import holm_adjust

ROOT = Path("outputs")
K50 = ROOT / "medienet_chest_xray_k50_"
GENERATORS = ("ga1", "ga3")
SYN, AUG = "real+syn+aug", "real+aug"
AUG_KEYS = ("rotate_degrees", "crop_scale", "intensity_jitter")
# per seed set, tag -> folder. Stored default-augmentation runs: real and real+aug (seeds 5-9: session 20, one folder;
# seeds 0-4: session 18, two folders), the unfiltered ratio-1 pools (session 21); this session's strong runs: tag s*
SEEDS59 = {
    "real": f"{K50}real/evaluation_s20_real",
    "aug": f"{K50}real/evaluation_s20_real",
    **{g: f"{K50}{g}/evaluation_s21_seeds56789" for g in GENERATORS},
    **{f"s{g}": f"{K50}{g}/evaluation_s24_strongaug" for g in ("real", *GENERATORS)},
}
SEEDS04 = {
    "real": f"{K50}real/evaluation_s18_real",
    "aug": f"{K50}real/evaluation_s18_real+aug",
    **{g: f"{K50}{g}/evaluation_s21_seeds01234" for g in GENERATORS},
    **{f"s{g}": f"{K50}{g}/evaluation_s24_strongaug_seeds01234" for g in ("real", *GENERATORS)},
}
POOLS = {
    "item 1: strong pools vs strong real+aug": [f"{AUG}@sreal", *(f"{SYN}@s{g}" for g in GENERATORS)],
    "item 2: strong pools vs bare real": ["real", *(f"{SYN}@s{g}" for g in GENERATORS)],
    "default pools vs default real+aug (stored)": [AUG, *(f"{SYN}@{g}" for g in GENERATORS)],
    "strong pools vs default pools": [",".join(f"{SYN}@{g}" for g in GENERATORS), *(f"{SYN}@s{g}" for g in GENERATORS)],
}


def done(folder: str | Path) -> bool:
    return (Path(folder) / "predictions.npz").is_file() and (Path(folder) / "results.json").is_file()


def fmt(a: dict, lo: str = "ci_low", hi: str = "ci_high") -> str:
    return f"{a['delta']:+.4f} [{a[lo]:+.4f}, {a[hi]:+.4f}]"


def merge(folders: dict[str, str | Path], out: Path) -> tuple[dict, dict[str, dict]]:
    """Side-by-side merge of one seed set (real, real+aug untagged; pools and strong runs tagged)."""
    runs = [folders["real"]] if folders["real"] == folders["aug"] else [folders["real"], folders["aug"]]
    runs += [(t, folders[t]) for t in (*GENERATORS, "sreal", *(f"s{g}" for g in GENERATORS))]
    deltas = [[f"{AUG}@sreal", AUG], [f"{AUG}@sreal", "real"], [AUG, "real"]]
    for g in GENERATORS:
        deltas += [[f"{SYN}@s{g}", f"{AUG}@sreal"], [f"{SYN}@s{g}", "real"], [f"{SYN}@s{g}", f"{SYN}@{g}"]]
        deltas += [[f"{SYN}@{g}", AUG]]
    res = merge_evaluations(
        runs, out, deltas=deltas, generator_pools=list(POOLS.values()), n_boot=4000, recipe_differences=AUG_KEYS
    )
    return res, {k: v["metrics"]["auroc"] for k, v in zip(POOLS, res["generator_pooled_deltas"].values())}


def show(res: dict) -> None:
    print("### Arms\n", *arms_table(res, digits=4), sep="\n")
    print("\n### Paired differences (seeds fixed; two-level: seeds resampled)\n", *deltas_table(res, 4), sep="\n")
    print("\n### Pooled over generators (ga1, ga3)\n", *pooled_deltas_table(res, 4, labels=list(POOLS)), sep="\n")


def items(res: dict, pooled: dict[str, dict], name: str) -> None:
    p1, p2 = pooled["item 1: strong pools vs strong real+aug"], pooled["item 2: strong pools vs bare real"]
    d3 = res["deltas"][f"{AUG}@sreal - {AUG}"]["auroc"]
    h2, h3 = holm_adjust([p2["prob_le_0"], d3["prob_le_0_seeds"]])
    print(
        f"\n{name} item 1 (strong pools - strong real+aug, pooled over ga1, ga3): {fmt(p1)}, P(Δ ≤ 0) "
        f"{p1['prob_le_0']:.4f}; prediction (−0.010 to +0.010, interval including zero) "
        f"{'held' if -0.010 <= p1['delta'] <= 0.010 and p1['ci_low'] <= 0 else 'failed'}; the issue's target "
        f"(Δ > 0, interval excluding zero) {'met' if p1['ci_low'] > 0 else 'not met'}."
    )
    print(
        f"{name} item 2 (strong pools - bare real, the +0.04 target): {fmt(p2)}, P(Δ ≤ 0) {p2['prob_le_0']:.4f}, "
        f"Holm over items 2-3 {h2:.4f}; prediction (+0.020 to +0.050) "
        f"{'held' if 0.020 <= p2['delta'] <= 0.050 else 'failed'}; target (point ≥ +0.040, interval excluding zero) "
        f"{'met' if p2['delta'] >= 0.040 and p2['ci_low'] > 0 else 'not met'}."
    )
    print(
        f"{name} item 3 (strong real+aug - default real+aug): {fmt(d3, 'ci_low_seeds', 'ci_high_seeds')} (seeds and "
        f"images resampled; images only [{d3['ci_low']:+.4f}, {d3['ci_high']:+.4f}]), P(Δ ≤ 0) "
        f"{d3['prob_le_0_seeds']:.4f}, Holm {h3:.4f}; prediction (−0.010 to +0.020) "
        f"{'held' if -0.010 <= d3['delta'] <= 0.020 else 'failed'}."
    )


def main() -> None:
    print(
        "Resnet18 300 steps, fp32 (AVX2 CPU), 4000 bootstrap draws; stored DPM-Solver++ 50-step pools of 1000, 50 per "
        "class drawn per classifier (ratio 1). Tag `s` = strong augmentation (rotation 15 degrees, crop 70-100 %, "
        "intensity jitter 0.2); untagged `real+aug` and tags `ga1`, `ga3` = the stored default-augmentation runs "
        "(10 degrees, 85-100 %, 0.1).\n"
    )
    sets = (("Seeds 5-9:", SEEDS59, "s24_merged"), ("Seeds 0-4:", SEEDS04, "s24_merged_seeds01234"))
    for label, folders, out in sets:
        missing = sorted(t for t, f in folders.items() if not done(f))
        print(f"## {label[:-1]}\n")
        if missing:
            print(f"Declared runs without predictions by the cutoff (not run): {missing}.\n")
            return
        res, pooled = merge(folders, ROOT / out)
        print(f"Test images {len(res['artifacts']['test_labels'])}, seeds {res['seeds']}.\n")
        show(res)
        items(res, pooled, label)
        print()
    # ten seeds: every source's seeds 0-4 and 5-9 pooled first (arms common to both runs), then merged side by side
    ten = {}
    for key in SEEDS59:  # "real" and "aug" pool to two folders (seeds 0-4 hold the two arms in two runs)
        out = ROOT / f"s24_merged_ten/{key}"
        merge_evaluations([SEEDS04[key], SEEDS59[key]], out, pool_seeds=True, deltas=[])
        ten[key] = out
    res, pooled = merge(ten, ROOT / "s24_merged_ten/merged")
    print(f"## Ten seeds {res['seeds']} (item 4, declared replication)\n")
    show(res)
    items(res, pooled, "Ten seeds:")


if __name__ == "__main__":
    main()
