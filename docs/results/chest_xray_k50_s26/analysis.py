"""Twenty-sixth session: early stopping on a test-like selection split (k = 50), read out on the other half.

Applies what ``declared.md`` beside this file declared, with the shared analysis of a classifier-recipe lever
(``docs/results/scripts/recipe_lever.py``): tag ``t`` = early stopping on the selection half of the test split (T),
the untagged ``real+aug`` and pools = early stopping on the validation split (V, the control); every run is read out on
the same read-out half (312 images). Bare ``real`` is the T run (item 2 compares like with like). From the repo root:

    python docs/results/chest_xray_k50_s26/analysis.py > docs/results/chest_xray_k50_s26/analysis.md

(the merged reports and figures go to outputs/s26_merged_*).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from recipe_lever import AUG, SYN, Lever, analyse, done, fmt  # noqa: E402

from monai_medienet.evaluation import arms_table, deltas_table, merge_evaluations, pooled_deltas_table  # noqa: E402

K50 = "outputs/medienet_chest_xray_k50_"
GENERATORS = ("ga1", "ga3")


def runs(seeds: str) -> dict[str, str]:
    """The declared runs of one seed set: V (untagged) and T (tag t) folders."""
    folder = {"real": "real", "aug": "real", **{g: g for g in GENERATORS}}
    return {
        "real": f"{K50}real/evaluation_s26_T_real_seeds{seeds}",
        "aug": f"{K50}real/evaluation_s26_V_aug_seeds{seeds}",
        **{g: f"{K50}{g}/evaluation_s26_V_{g}_seeds{seeds}" for g in GENERATORS},
        **{
            f"t{s}": f"{K50}{folder[a]}/evaluation_s26_T_{a}_seeds{seeds}"
            for s, a in (("real", "aug"),) + tuple((g, g) for g in GENERATORS)
        },
    }


LEVER = Lever(
    tag="t",
    description=(
        "Resnet18 300 steps, bf16 autocast (AVX-512 BF16 CPU), 4000 bootstrap draws; DPM-Solver++ 50-step pools of "
        "1000 of the retrained ga1, ga3, 50 per class drawn per classifier (ratio 1); default classic augmentation. "
        "Every run is read out on the read-out half of the test split (312 images). Tag `t` = early stopping on the "
        "selection half of the test split (T); untagged `real+aug` and pools = early stopping on the validation split "
        "(V, the control; the recipe module calls them 'default' and 'stored'); bare `real` is T's. Item 1 (primary) "
        "and the +0.04 target are decided on all ten seeds; item 3 reads T real+aug - V real+aug."
    ),
    recipe_keys=(),
    generators=GENERATORS,
    seed_sets={"Seeds 0-4": runs("01234"), "Seeds 5-9": runs("56789")},
    predictions={1: (-0.010, 0.020), 2: (0.015, 0.050), 3: (0.000, 0.030)},
    out=Path("outputs/s26_merged"),
)


def merged_over_seed_sets(
    folders: dict[str, list[str]], out: Path, deltas: list[list[str]], pools: dict[str, list[str]], untagged: str = ""
) -> dict | None:
    """Pool each source's runs over the seed sets, merge the sources (tagged with their names, except ``untagged``)
    and print the arms, the paired differences and the generator-pooled differences; ``None`` when a run is missing."""
    missing = sorted(f for fs in folders.values() for f in fs if not done(f))
    if missing:
        print(f"Not reported: runs without predictions: {missing}.")
        return None
    for source, fs in folders.items():
        merge_evaluations(fs, out / source, pool_seeds=True, deltas=[])
    runs = [out / s if s == untagged else (s, out / s) for s in folders]
    res = merge_evaluations(runs, out / "merged", deltas=deltas, generator_pools=list(pools.values()), n_boot=4000)
    print(f"Test images {len(res['artifacts']['test_labels'])}, seeds {res['seeds']}.\n")
    print("### Arms\n", *arms_table(res, digits=4), sep="\n")
    print("\n### Paired differences (seeds fixed; two-level: seeds resampled)\n", *deltas_table(res, 4), sep="\n")
    print(
        f"\n### Pooled over generators ({', '.join(GENERATORS)})\n", *pooled_deltas_table(res, 4, list(pools)), sep="\n"
    )
    return res


def fifteen_t_seeds() -> None:
    """Addendum (exploratory): items 1 and 2 over the T runs of seeds 0-4, 5-9 and 10-14, each source pooled first."""
    print("\n## Fifteen T seeds (addendum, exploratory)\n")
    sets = ("01234", "56789", "10-14")
    folders = {
        "real": [f"{K50}real/evaluation_s26_T_real_seeds{s}" for s in sets],
        "treal": [f"{K50}real/evaluation_s26_T_aug_seeds{s}" for s in sets],
        **{f"t{g}": [f"{K50}{g}/evaluation_s26_T_{g}_seeds{s}" for s in sets] for g in GENERATORS},
    }
    pools = {
        "item 1 (T pools - T real+aug)": [f"{AUG}@treal", *(f"{SYN}@t{g}" for g in GENERATORS)],
        "item 2 (T pools - T bare real)": ["real", *(f"{SYN}@t{g}" for g in GENERATORS)],
    }
    deltas = [[f"{AUG}@treal", "real"], *([f"{SYN}@t{g}", f"{AUG}@treal"] for g in GENERATORS)]
    res = merged_over_seed_sets(folders, Path(f"{LEVER.out}_t15"), deltas, pools, untagged="real")
    if res is None:
        return
    print()
    for (name, _), pooled in zip(pools.items(), res["generator_pooled_deltas"].values()):
        a = pooled["metrics"]["auroc"]
        print(f"Fifteen T seeds, {name}, pooled over {', '.join(GENERATORS)}: {fmt(a)}, P(Δ ≤ 0) {a['prob_le_0']:.4f}.")


def bare_real_with_validation_selection() -> None:
    """Exploratory, decided after the declared results were read (10:19 UTC): bare real with early stopping on the
    validation split (V, seeds 0-9), against bare real T, and the V pools against it (item 2 with the usual selection).
    """
    print("\n## Bare real with the usual selection (exploratory, after the results)\n")
    sets = ("01234", "56789")
    folders = {
        "vreal": [f"{K50}real/evaluation_s26_V_real_seeds{s}" for s in sets],
        "treal": [f"{K50}real/evaluation_s26_T_real_seeds{s}" for s in sets],
        **{f"v{g}": [f"{K50}{g}/evaluation_s26_V_{g}_seeds{s}" for s in sets] for g in GENERATORS},
    }
    pools = {"V pools - V bare real": ["real@vreal", *(f"{SYN}@v{g}" for g in GENERATORS)]}
    merged_over_seed_sets(folders, Path(f"{LEVER.out}_vreal"), [["real@treal", "real@vreal"]], pools)


def confirmation(sets: tuple[str, ...], title: str) -> None:
    """Declared at 10:45 UTC (``declared.md``, last section): C1 T pools - T bare real (confirmed when the point is
    >= +0.040 and the interval excludes zero), C2 T pools - T real+aug, over the T runs of ``sets``."""
    print(f"\n## {title}\n")
    folders = {
        "real": [f"{K50}real/evaluation_s26_T_real_seeds{s}" for s in sets],
        "treal": [f"{K50}real/evaluation_s26_T_aug_seeds{s}" for s in sets],
        **{f"t{g}": [f"{K50}{g}/evaluation_s26_T_{g}_seeds{s}" for s in sets] for g in GENERATORS},
    }
    pools = {
        "C1 (T pools - T bare real)": ["real", *(f"{SYN}@t{g}" for g in GENERATORS)],
        "C2 (T pools - T real+aug)": [f"{AUG}@treal", *(f"{SYN}@t{g}" for g in GENERATORS)],
    }
    deltas = [[f"{AUG}@treal", "real"], *([f"{SYN}@t{g}", "real"] for g in GENERATORS)]
    res = merged_over_seed_sets(folders, Path(f"{LEVER.out}_c{sets[0]}_{len(sets)}"), deltas, pools, untagged="real")
    if res is None:
        return
    print()
    c1, c2 = (p["metrics"]["auroc"] for p in res["generator_pooled_deltas"].values())
    ok = c1["delta"] >= 0.040 and c1["ci_low"] > 0
    print(
        f"{title}: C1 {fmt(c1)}, P(Δ ≤ 0) {c1['prob_le_0']:.4f}: the +0.04 {'confirmed' if ok else 'not confirmed'}; "
        f"prediction (+0.015 to +0.045) {'held' if 0.015 <= c1['delta'] <= 0.045 else 'failed'}."
    )
    held2 = -0.005 <= c2["delta"] <= 0.020 and c2["ci_low"] <= 0
    print(
        f"{title}: C2 {fmt(c2)}, P(Δ ≤ 0) {c2['prob_le_0']:.4f}; prediction (-0.005 to +0.020, interval including "
        f"zero) {'held' if held2 else 'failed'}."
    )


if __name__ == "__main__":
    analyse(LEVER)
    fifteen_t_seeds()
    bare_real_with_validation_selection()
    confirmation(("15-19", "20-24"), "Confirmation, seeds 15-24 (declared 10:45 UTC)")
    confirmation(("01234", "56789", "10-14", "15-19", "20-24"), "All twenty-five T seeds (reported)")
