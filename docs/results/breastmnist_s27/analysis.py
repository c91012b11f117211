"""Twenty-seventh session: BreastMNIST synthetic-only training at ratio 3 and ratio 1 against real-only.

Applies what ``declared.md`` beside this file declared: each source's two five-seed runs are pooled
(``merge_evaluations(pool_seeds=True)``), then put side by side (arms ``real``, ``syn@r3g0``, ``syn@r3g1``,
``syn@r1g0``, ``syn@r1g1``) with the ratios of :func:`monai_medienet.evaluation.bootstrap_ratio` (numerator pooled
over g0, g1) and the generator-pooled difference ratio 3 - ratio 1. An item whose runs are incomplete is computed
on the seeds that every run it needs holds, and says so. From the repo root:

    python docs/results/breastmnist_s27/analysis.py > docs/results/breastmnist_s27/analysis.md

(the merged reports and figures go to outputs/s27_merged_*).
"""

from __future__ import annotations

import json
from pathlib import Path

from monai_medienet.evaluation import arms_table, merge_evaluations, pooled_deltas_table, ratios_table

ROOT = "outputs/medienet_breastmnist_s27_"
SETS = ("01234", "56789")
SOURCES = {
    "real": ("real", "R"),
    **{f"r{r}g{g}": (f"g{g}", f"S{r}g{g}") for r in (3, 1) for g in (0, 1)},
    **{f"r3g{g}L750": (f"g{g}L750", f"S3g{g}L750") for g in (0, 1)},  # the addendum's longer-trained generators
}
PREDICTIONS = {1: (0.89, 0.95), 2: (0.000, 0.030), 3: (0.88, 0.94), 4: (0.90, 0.96), 5: (-0.010, 0.030)}
OUT = Path("outputs/s27_merged")


def folders(source: str) -> list[Path]:
    """The finished five-seed runs of one source."""
    folder, job = SOURCES[source]
    runs = [Path(f"{ROOT}{folder}/evaluation_s27_{job}_seeds{s}") for s in SETS]
    return [r for r in runs if (r / "predictions.npz").is_file() and (r / "results.json").is_file()]


def pooled(source: str) -> tuple[Path | None, list[int]]:
    """One folder holding all finished seeds of ``source`` (pooled when both seed sets ran) and its seeds."""
    runs = folders(source)
    if not runs:
        return None, []
    if len(runs) == 1:
        return runs[0], [int(c) for c in runs[0].name.rsplit("seeds", 1)[1]]
    out = OUT / f"pooled_{source}"
    res = merge_evaluations(runs, out, pool_seeds=True, deltas=[], ratios=[])
    return out, list(res["seeds"])


def merged(sources: list[str], name: str, **kw) -> dict | None:
    """Side-by-side merge of ``sources`` on the seeds all of them hold (None when one has none)."""
    folders_seeds = {s: pooled(s) for s in sources}
    common = sorted(set.intersection(*(set(seeds) for _, seeds in folders_seeds.values())))
    if not common:
        print(f"Not computed: a needed source has no finished run ({[s for s in sources if not folders_seeds[s][1]]}).")
        return None
    runs = [folders_seeds["real"][0]] if "real" in sources else []
    runs += [(s, folders_seeds[s][0]) for s in sources if s != "real"]
    res = merge_evaluations(runs, OUT / name, seeds=common, n_boot=4000, **kw)
    complete = len(common) == 10
    print(f"Seeds {common}{'' if complete else ' (incomplete: not every declared run finished)'}.\n")
    return res


def held(value: float, rng: tuple[float, float]) -> str:
    return "held" if rng[0] <= value <= rng[1] else "failed"


def ratio_item(item: int, key: str, au: dict) -> None:
    target = "met (point)" if au["ratio"] >= 0.95 else "not met"
    shown = "; interval lower end ≥ 0.95" if au["ci_low"] >= 0.95 else ""
    print(
        f"\nItem {item} ({key}): {au['ratio']:.4f} [{au['ci_low']:.4f}, {au['ci_high']:.4f}], P(ratio < 0.95) "
        f"{au['prob_below']:.4f}; prediction {PREDICTIONS[item]} {held(au['ratio'], PREDICTIONS[item])}; "
        f"target ≥ 0.95 {target}{shown}."
    )


def addendum() -> None:
    """Items 4-5: generators trained for 750 instead of 375 diffusion epochs, synthetic-only at ratio 3."""
    print("\n## Addendum: generators trained twice as long (items 4 and 5)\n")
    long, short = "syn@r3g0L750,syn@r3g1L750", "syn@r3g0,syn@r3g1"
    res = merged(
        ["real", "r3g0", "r3g1", "r3g0L750", "r3g1L750"],
        "long",
        deltas=[["syn@r3g0L750", "syn@r3g0"], ["syn@r3g1L750", "syn@r3g1"]],
        generator_pools=[[short, "syn@r3g0L750", "syn@r3g1L750"]],
        ratios=[[long, "real"], [short, "real"]],
    )
    if res is None:
        return
    print("### Arms\n", *arms_table(res, digits=4), sep="\n")
    print("\n### Ratios of mean AUROC\n", *ratios_table(res, digits=4), sep="\n")
    print("\n### Longer-trained pools - the 375-epoch pools\n", *pooled_deltas_table(res, digits=4), sep="\n")
    key = f"mean({long.replace(',', ', ')}) / real"
    ratio_item(4, key, res["ratios"][key]["metrics"]["auroc"])
    au = next(iter(res["generator_pooled_deltas"].values()))["metrics"]["auroc"]
    print(
        f"\nItem 5: {au['delta']:+.4f} [{au['ci_low']:+.4f}, {au['ci_high']:+.4f}], "
        f"P(Δ ≤ 0) {au['prob_le_0']:.4f}; prediction {PREDICTIONS[5]} {held(au['delta'], PREDICTIONS[5])}."
    )
    print("\nData-copying C_T of the pools (pixel / in-domain features / autoencoder round trip):\n")
    for g in ("g0L750", "g1L750"):
        for run in folders(f"r3{g}")[:1]:
            memo = json.loads((run / "results.json").read_text())["memorization"]
            c_t = [
                f"{memo[sp]['data_copying']['c_t']:+.1f}" for sp in ("pixel", "feature", "autoencoder") if sp in memo
            ]
            print(f"- {g}: {' / '.join(c_t)}")


def main() -> None:
    print("# Session 27 analysis: BreastMNIST synthetic-only (resnet18 300 steps, bf16, 4000 bootstrap draws)\n")
    print("## Items 1 and 3: synthetic-only / real-only\n")
    r3, r1 = "syn@r3g0,syn@r3g1", "syn@r1g0,syn@r1g1"
    res = merged(
        ["real", "r3g0", "r3g1", "r1g0", "r1g1"],
        "ratios",
        deltas=[],
        ratios=[[r3, "real"], [r1, "real"], *([f"syn@r{r}g{g}", "real"] for r in (3, 1) for g in (0, 1))],
    )
    if res is not None:
        print("### Arms\n", *arms_table(res, digits=4), sep="\n")
        print("\n### Ratios of mean AUROC\n", *ratios_table(res, digits=4), sep="\n")
        for item, key in ((1, f"mean({r3.replace(',', ', ')}) / real"), (3, f"mean({r1.replace(',', ', ')}) / real")):
            ratio_item(item, key, res["ratios"][key]["metrics"]["auroc"])
    print("\n## Item 2: synthetic-only at ratio 3 - at ratio 1, pooled over g0, g1\n")
    res = merged(
        ["r3g0", "r3g1", "r1g0", "r1g1"],
        "ratio3_vs_1",
        deltas=[["syn@r3g0", "syn@r1g0"], ["syn@r3g1", "syn@r1g1"]],
        generator_pools=[[r1, "syn@r3g0", "syn@r3g1"]],
        ratios=[],
    )
    if res is not None:
        print(*pooled_deltas_table(res, digits=4), sep="\n")
        au = next(iter(res["generator_pooled_deltas"].values()))["metrics"]["auroc"]
        print(
            f"\nItem 2: {au['delta']:+.4f} [{au['ci_low']:+.4f}, {au['ci_high']:+.4f}], "
            f"P(Δ ≤ 0) {au['prob_le_0']:.4f}; prediction {PREDICTIONS[2]} {held(au['delta'], PREDICTIONS[2])}."
        )
    addendum()


if __name__ == "__main__":
    main()
