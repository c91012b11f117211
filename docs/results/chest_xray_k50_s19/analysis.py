"""Nineteenth session: k = 50 chest X-ray generators g1-g3 pooled, and g1's pool after the round-trip screen.

Merges the stored evaluation runs (``predictions.npz`` + ``results.json`` of ``evaluate``: resnet18, 300 steps,
seeds 0-4, fp32 on an AVX2 CPU, the same 624 test images) with :func:`monai_medienet.evaluation.merge_evaluations`
and applies what ``declared.md`` beside this file declared: the generator-pooled difference (three-level bootstrap:
generators, seed pairs, test images) and the paired difference screened - unscreened pool of g1. Generators whose
evaluation is missing are listed as not run. From the repo root:

    python docs/results/chest_xray_k50_s19/analysis.py > docs/results/chest_xray_k50_s19/analysis.md

(the merged report.md and figures go to outputs/s19_merged).
"""

from __future__ import annotations

from pathlib import Path

from monai_medienet.evaluation import generator_pooled_difference, merge_evaluations
from monai_medienet.evaluation.protocol import BOOTSTRAP_SEED
from monai_medienet.evaluation.stats import bootstrap_indices

ROOT = Path("outputs")
REAL = [ROOT / f"medienet_chest_xray_k50_real/evaluation_s18_{a}" for a in ("real", "real+aug")]
GENS = {
    "g1": ROOT / "medienet_chest_xray_k50_g1/evaluation_s18_syn",
    "g2": ROOT / "medienet_chest_xray_k50_g2/evaluation_s19_syn",
    "g3": ROOT / "medienet_chest_xray_k50_g3/evaluation_s19_syn",
}
SCREENED = ("g1rt", ROOT / "medienet_chest_xray_k50_g1/evaluation_s19_screened_roundtrip")
RANDOM = ("g1rand", ROOT / "medienet_chest_xray_k50_g1/evaluation_s19_random_subset")  # item 5's control
SCREENED_MORE = {  # items 6 and 7: the same screen on g2's and g3's pools
    "g2rt": ROOT / "medienet_chest_xray_k50_g2/evaluation_s19_screened_autoencoder",
    "g3rt": ROOT / "medienet_chest_xray_k50_g3/evaluation_s19_screened_autoencoder",
}
ARM = "real+syn+aug"


def done(folder: Path) -> bool:
    return (folder / "predictions.npz").is_file() and (folder / "results.json").is_file()


def main() -> None:
    gens = {g: f for g, f in GENS.items() if done(f)}
    runs = [*REAL, *gens.items()] + [r for r in (SCREENED, RANDOM) if done(r[1])]
    runs += [(t, f) for t, f in SCREENED_MORE.items() if done(f) and t[:2] in gens]
    arms = [f"{ARM}@{g}" for g in gens]
    deltas = [[a, b] for a in arms for b in ("real", "real+aug")]
    primary = None
    if done(SCREENED[1]):
        primary = [f"{ARM}@g1rt", f"{ARM}@g1"]
        deltas += [[f"{ARM}@g1rt", "real+aug"], [f"{ARM}@g1rt", "real"]]
    for t, f in SCREENED_MORE.items():
        if done(f) and t[:2] in gens:
            deltas += [[f"{ARM}@{t}", f"{ARM}@{t[:2]}"], [f"{ARM}@{t}", "real+aug"], [f"{ARM}@{t}", "real"]]
    if done(RANDOM[1]):
        deltas += [[f"{ARM}@g1rt", f"{ARM}@g1rand"], [f"{ARM}@g1rand", f"{ARM}@g1"], [f"{ARM}@g1rand", "real+aug"]]
    screened_arms = [f"{ARM}@{r[0]}" for r in runs if isinstance(r, tuple) and r[0].endswith("rt")]  # exploratory
    res = merge_evaluations(
        runs,
        ROOT / "s19_merged",
        deltas=deltas,
        primary=primary,
        generator_pools=[["real+aug", *arms], ["real", *arms]]
        + ([[b, *screened_arms] for b in ("real+aug", "real")] if len(screened_arms) > 1 else []),
        n_boot=4000,
    )
    missing = [g for g in GENS if g not in gens]
    print("# Chest X-ray 64 px, k = 50 per class: generators g1-g3, a round-trip-screened pool (nineteenth session)\n")
    print(
        f"Test images {len(res['artifacts']['test_labels'])}; resnet18 300 steps, seeds {res['seeds']}, fp32 (AVX2 "
        f"CPU); {res['settings']['n_boot']} bootstrap draws; g1 and the real arms from session 18.\n"
    )
    if missing:
        print(f"Not run (no predictions): {', '.join(missing)}.\n")
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
        mark = " (declared primary, item 2)" if primary and name == " - ".join(primary) else ""
        mark = " (declared primary, item 5)" if name == f"{ARM}@g1rt - {ARM}@g1rand" else mark
        print(f"| {name}{mark} | {a['delta']:+.4f} | [{a['ci_low']:+.4f}, {a['ci_high']:+.4f}] | {two} |")
    print("\n| pooled over generators | per generator | mean Δ AUROC | generators, seeds, images | images only |")
    print("|---|---|---|---|---|")
    for name, d in res["generator_pooled_deltas"].items():
        a = d["metrics"]["auroc"]
        per = ", ".join(f"{x:+.4f}" for x in a["generator_deltas"])
        print(
            f"| {name} | {per} | {a['delta']:+.4f} | [{a['ci_low']:+.4f}, {a['ci_high']:+.4f}] | "
            f"[{a['ci_low_images']:+.4f}, {a['ci_high_images']:+.4f}] |"
        )
    pooled = res["generator_pooled_deltas"][f"mean({', '.join(arms)}) - real+aug"]["metrics"]["auroc"]
    print(
        f"\nItem 1, declared primary (generator-pooled Δ vs real+aug over {len(arms)} generator(s)): "
        f"{pooled['delta']:+.4f}, interval [{pooled['ci_low']:+.4f}, {pooled['ci_high']:+.4f}] "
        f"{'excludes' if pooled['ci_low'] > 0 else 'includes'} zero; prediction (0.000 to +0.015, interval including "
        f"zero) {'held' if 0 <= pooled['delta'] <= 0.015 and pooled['ci_low'] <= 0 else 'failed'}."
    )
    bare = res["generator_pooled_deltas"][f"mean({', '.join(arms)}) - real"]["metrics"]["auroc"]
    print(
        f"Secondary (vs bare real): {bare['delta']:+.4f} [{bare['ci_low']:+.4f}, {bare['ci_high']:+.4f}]; +0.04 "
        f"{'met' if bare['delta'] >= 0.04 and bare['ci_low'] > 0 else 'not met'}; prediction (+0.01 to +0.03) "
        f"{'held' if 0.01 <= bare['delta'] <= 0.03 else 'failed'}."
    )
    if primary:
        d = res["deltas"][" - ".join(primary)]["auroc"]
        held = abs(d["delta"]) < 0.01 and d["ci_low_seeds"] <= 0 <= d["ci_high_seeds"]
        print(
            f"\nItem 2, declared primary (screened - unscreened pool of g1): {d['delta']:+.4f}, seeds resampled "
            f"[{d['ci_low_seeds']:+.4f}, {d['ci_high_seeds']:+.4f}]; prediction (|Δ| < 0.01, interval including "
            f"zero) {'held' if held else 'failed'}."
        )
    screened = [g for g in gens if f"{ARM}@{g}rt" in res["arms"]]
    for g in screened[1:]:
        d = res["deltas"][f"{ARM}@{g}rt - {ARM}@{g}"]["auroc"]
        print(
            f"\nItem {6 if g == 'g2' else 7}, declared primary (screened - unscreened pool of {g}): {d['delta']:+.4f}, "
            f"seeds resampled [{d['ci_low_seeds']:+.4f}, {d['ci_high_seeds']:+.4f}]."
        )
    if len(screened) > 1:
        probs, labels = res["artifacts"]["probs"], res["artifacts"]["test_labels"]
        idx = bootstrap_indices(len(labels), 4000, seed=BOOTSTRAP_SEED, strata=labels)
        pooled = generator_pooled_difference(
            labels, [probs[f"{ARM}@{g}rt"] for g in screened], [probs[f"{ARM}@{g}"] for g in screened], indices=idx
        )["auroc"]
        per = ", ".join(f"{g} {x:+.4f}" for g, x in zip(screened, pooled["generator_deltas"]))
        print(
            f"\nItem 7, screened - unscreened pooled over {len(screened)} generators ({per}): {pooled['delta']:+.4f}, "
            f"three-level interval [{pooled['ci_low']:+.4f}, {pooled['ci_high']:+.4f}], images only "
            f"[{pooled['ci_low_images']:+.4f}, {pooled['ci_high_images']:+.4f}]; prediction (>= 0, interval "
            f"including zero) {'held' if pooled['delta'] >= 0 and pooled['ci_low'] <= 0 else 'failed'}."
        )
    control = res["deltas"].get(f"{ARM}@g1rt - {ARM}@g1rand")
    if control:
        d = control["auroc"]
        print(
            f"\nItem 5, declared primary (screened - random subset of the same size and class counts): "
            f"{d['delta']:+.4f}, seeds resampled [{d['ci_low_seeds']:+.4f}, {d['ci_high_seeds']:+.4f}] "
            f"({'above' if d['ci_low_seeds'] > 0 else 'not above'} zero); prediction (0 to +0.012) "
            f"{'held' if 0 <= d['delta'] <= 0.012 else 'failed'}."
        )
    else:
        print("\nItem 5 (random-subset control): not run (no predictions).")


if __name__ == "__main__":
    main()
