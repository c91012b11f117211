"""Analysis of a classifier-recipe lever at k = 50 (sessions 25 on): one setting changed for every augmented arm.

A lever run holds ``real+aug`` (no-generator folder) and ``real+syn+aug`` on each generator's stored pool, on two seed
sets, with one recipe setting changed; the stored default-recipe runs of the same seeds hold bare ``real``, default
``real+aug`` and the default pools. :func:`analyse` merges them with
:func:`monai_medienet.evaluation.merge_evaluations` (the changed settings through its ``recipe_differences`` opt-in),
prints the arms, the paired differences and the generator-pooled differences per seed set and over both sets (each
source's two runs pooled first), and the three declared items: (1) lever pools − lever real + augmentation, (2) lever
pools − bare real, (3) lever real + augmentation − default real + augmentation; items 2 and 3 Holm-adjusted together.
Session 24's ``chest_xray_k50_s24/analysis.py`` is the same analysis written out for one lever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from monai_medienet.evaluation import arms_table, deltas_table, merge_evaluations, pooled_deltas_table
from monai_medienet.evaluation.stats import holm_adjust

SYN, AUG = "real+syn+aug", "real+aug"


@dataclass
class Lever:
    """What one session declared.

    Args:
        tag: tag of the lever runs (the merged arm names read ``real+aug@<tag>real``, ``real+syn+aug@<tag><G>``).
        description: one sentence on the lever and the default it changes.
        recipe_keys: the recipe settings the lever changes (``merge_evaluations(recipe_differences=...)``).
        generators: the generators whose pools are pooled.
        seed_sets: label -> {source -> folder}; sources ``real``, ``aug`` (stored bare real and default real+aug;
            may be one folder), every generator (stored default pool) and ``<tag>real``, ``<tag><G>`` (lever runs).
        predictions: item number (1, 2, 3) -> (low, high) predicted point range.
        out: prefix of the merged output folders.
    """

    tag: str
    description: str
    recipe_keys: Sequence[str]
    generators: Sequence[str]
    seed_sets: dict[str, dict[str, str]]
    predictions: dict[int, tuple[float, float]]
    out: Path


def done(folder: str | Path) -> bool:
    return (Path(folder) / "predictions.npz").is_file() and (Path(folder) / "results.json").is_file()


def fmt(a: dict, lo: str = "ci_low", hi: str = "ci_high") -> str:
    return f"{a['delta']:+.4f} [{a[lo]:+.4f}, {a[hi]:+.4f}]"


def _pools(lv: Lever) -> dict[str, list[str]]:
    t, gens = lv.tag, lv.generators
    return {
        "item 1: lever pools vs lever real+aug": [f"{AUG}@{t}real", *(f"{SYN}@{t}{g}" for g in gens)],
        "item 2: lever pools vs bare real": ["real", *(f"{SYN}@{t}{g}" for g in gens)],
        "default pools vs default real+aug (stored)": [AUG, *(f"{SYN}@{g}" for g in gens)],
        "lever pools vs default pools": [",".join(f"{SYN}@{g}" for g in gens), *(f"{SYN}@{t}{g}" for g in gens)],
    }


def merge(lv: Lever, folders: dict[str, str | Path], out: Path) -> tuple[dict, dict[str, dict]]:
    """Side-by-side merge of one seed set (real, real+aug untagged; pools and lever runs tagged)."""
    t, gens, pools = lv.tag, lv.generators, _pools(lv)
    runs = [folders["real"]] if folders["real"] == folders["aug"] else [folders["real"], folders["aug"]]
    runs += [(s, folders[s]) for s in (*gens, f"{t}real", *(f"{t}{g}" for g in gens))]
    deltas = [[f"{AUG}@{t}real", AUG], [f"{AUG}@{t}real", "real"], [AUG, "real"]]
    for g in gens:
        deltas += [[f"{SYN}@{t}{g}", f"{AUG}@{t}real"], [f"{SYN}@{t}{g}", "real"], [f"{SYN}@{t}{g}", f"{SYN}@{g}"]]
        deltas += [[f"{SYN}@{g}", AUG]]
    res = merge_evaluations(
        runs, out, deltas=deltas, generator_pools=list(pools.values()), n_boot=4000, recipe_differences=lv.recipe_keys
    )
    return res, {k: v["metrics"]["auroc"] for k, v in zip(pools, res["generator_pooled_deltas"].values())}


def show(lv: Lever, res: dict) -> None:
    print("### Arms\n", *arms_table(res, digits=4), sep="\n")
    print("\n### Paired differences (seeds fixed; two-level: seeds resampled)\n", *deltas_table(res, 4), sep="\n")
    labels = list(_pools(lv))
    print(
        f"\n### Pooled over generators ({', '.join(lv.generators)})\n", *pooled_deltas_table(res, 4, labels), sep="\n"
    )


def _held(value: float, rng: tuple[float, float]) -> str:
    return "held" if rng[0] <= value <= rng[1] else "failed"


def items(lv: Lever, res: dict, pooled: dict[str, dict], name: str) -> None:
    """Print the three declared items of one merge."""
    p1, p2 = pooled["item 1: lever pools vs lever real+aug"], pooled["item 2: lever pools vs bare real"]
    d3 = res["deltas"][f"{AUG}@{lv.tag}real - {AUG}"]["auroc"]
    h2, h3 = holm_adjust([p2["prob_le_0"], d3["prob_le_0_seeds"]])
    (a1, b1), (a2, b2), (a3, b3) = lv.predictions[1], lv.predictions[2], lv.predictions[3]
    met2 = "met" if p2["delta"] >= 0.040 and p2["ci_low"] > 0 else "not met"
    print(
        f"\n{name} item 1 (lever pools - lever real+aug, pooled over {', '.join(lv.generators)}): {fmt(p1)}, P(Δ ≤ 0) "
        f"{p1['prob_le_0']:.4f}; prediction ({a1:+.3f} to {b1:+.3f}, interval including zero) "
        f"{'held' if a1 <= p1['delta'] <= b1 and p1['ci_low'] <= 0 else 'failed'}; the issue's target "
        f"(Δ > 0, interval excluding zero) {'met' if p1['ci_low'] > 0 else 'not met'}."
    )
    print(
        f"{name} item 2 (lever pools - bare real, the +0.04 target): {fmt(p2)}, P(Δ ≤ 0) {p2['prob_le_0']:.4f}, "
        f"Holm over items 2-3 {h2:.4f}; prediction ({a2:+.3f} to {b2:+.3f}) {_held(p2['delta'], (a2, b2))}; target "
        f"(point ≥ +0.040, interval excluding zero) {met2}."
    )
    print(
        f"{name} item 3 (lever real+aug - default real+aug): {fmt(d3, 'ci_low_seeds', 'ci_high_seeds')} (seeds and "
        f"images resampled; images only [{d3['ci_low']:+.4f}, {d3['ci_high']:+.4f}]), P(Δ ≤ 0) "
        f"{d3['prob_le_0_seeds']:.4f}, Holm {h3:.4f}; prediction ({a3:+.3f} to {b3:+.3f}) "
        f"{_held(d3['delta'], (a3, b3))}."
    )


def analyse(lv: Lever) -> None:
    """Print the whole analysis (markdown) of ``lv``: each seed set, then all seed sets pooled per source."""
    print(lv.description + "\n")
    sets = list(lv.seed_sets.items())
    for i, (label, folders) in enumerate(sets):
        missing = sorted(s for s, f in folders.items() if not done(f))
        print(f"## {label}\n")
        if missing:
            print(f"Declared runs without predictions by the cutoff (not run): {missing}.\n")
            continue
        res, pooled = merge(lv, folders, Path(f"{lv.out}_{i}"))
        print(f"Test images {len(res['artifacts']['test_labels'])}, seeds {res['seeds']}.\n")
        show(lv, res)
        items(lv, res, pooled, f"{label}:")
        print()
    if any(not done(f) for _, folders in sets for f in folders.values()):
        print("## All seeds\n\nNot reported: declared runs are missing.")
        return
    merged = {}
    for source in sets[0][1]:  # per source, its runs of every seed set pooled first
        out = Path(f"{lv.out}_all/{source}")
        merge_evaluations([folders[source] for _, folders in sets], out, pool_seeds=True, deltas=[])
        merged[source] = out
    res, pooled = merge(lv, merged, Path(f"{lv.out}_all/merged"))
    print(f"## All seeds {res['seeds']} (each source's runs pooled first)\n")
    show(lv, res)
    items(lv, res, pooled, "All seeds:")
