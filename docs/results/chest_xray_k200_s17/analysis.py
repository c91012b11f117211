"""Seventeenth session, item 1: do larger chest X-ray generators give a larger downstream gain?

Reads stored test predictions (``predictions.npz`` of ``evaluate``: resnet18, 300 steps, seeds 0-4, one arm per
folder) of real+aug, the five small generators g0-g4 (U-Net [32, 64, 64]) and the large ones (U-Net [64, 128, 128],
``training_seed`` 5-7), and applies the rule declared in ``declared.md`` beside this file. Intervals: two-level
bootstrap (test images resampled within class, and the classifier seeds resampled), 4000 draws. From the repo root:

    python docs/results/chest_xray_k200_s17/analysis.py > docs/results/chest_xray_k200_s17/analysis.md
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path("outputs")
# seeds 0-4 with validation predictions (fifteenth session): bit-identical re-runs of the twelfth session's arms
REAL_AUG = ROOT / "s15_valsel/real_aug"
REAL = ROOT / "s16_eval/real_s0-4"
SMALL = {g: ROOT / "s15_valsel" / g for g in ("g0", "g1", "g2", "g3", "g4")}
LARGE = {f"g{s}": ROOT / f"medienet_chest_xray_k200_big{s}/evaluation_s17_dpm50" for s in (5, 6, 7)}
SMALL_RUNS = {"g0": "", "g1": "_s11", "g2": "_g2", "g3": "_g3", "g4": "_g4"}
CRITERIA = {  # pools judged by the seed-0 real+aug classifier (twelfth session for g0-g4)
    **{g: ROOT / f"medienet_chest_xray_k200{suffix}/criteria_s12" for g, suffix in SMALL_RUNS.items()},
    **{f"g{s}": ROOT / f"medienet_chest_xray_k200_big{s}/criteria_s17" for s in (5, 6, 7)},
}
PRIMARY = ("g5", "g6")


def load(folder: Path, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    z = np.load(folder / "predictions.npz")
    if labels is not None and not np.array_equal(z["test_labels"], labels):
        raise ValueError(f"{folder}: test labels differ from real+aug's")
    if z["seeds"].tolist() != [0, 1, 2, 3, 4]:
        raise ValueError(f"{folder}: seeds {z['seeds'].tolist()}, expected 0-4")
    return z["test_labels"], z["probs_0"][..., 1]  # (N,), (S, N) P(class 1)


def auroc(y: np.ndarray, p: np.ndarray, images: np.ndarray, seeds: np.ndarray) -> float:
    return float(np.mean([roc_auc_score(y[images], p[s, images]) for s in seeds]))


def main(draws: int = 4000, seed: int = 0) -> None:
    labels, ref = load(REAL_AUG)
    gens = {g: load(f, labels)[1] for g, f in {**SMALL, **LARGE}.items() if (f / "predictions.npz").is_file()}
    missing = sorted(set(LARGE) - set(gens))
    large = [g for g in LARGE if g in gens]
    everything, all_seeds = np.arange(len(labels)), np.arange(5)
    base = auroc(labels, ref, everything, all_seeds)
    delta = {g: auroc(labels, p, everything, all_seeds) - base for g, p in gens.items()}
    real = auroc(labels, load(REAL, labels)[1], everything, all_seeds) if (REAL / "predictions.npz").is_file() else None

    def stats(images: np.ndarray, seeds: np.ndarray) -> dict[str, float]:
        b = auroc(labels, ref, images, seeds)
        d = {g: auroc(labels, gens[g], images, seeds) - b for g in gens}
        small_mean = float(np.mean([d[g] for g in SMALL]))
        out = {"primary": float(np.mean([d[g] for g in PRIMARY])), "small": small_mean}
        out["primary - small"] = out["primary"] - small_mean
        if large:
            out["large"] = float(np.mean([d[g] for g in large]))
            out["large - small"] = out["large"] - small_mean
        return out

    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    boot = []
    for _ in range(draws):
        images = np.concatenate([rng.choice(i, len(i)) for i in by_class])
        boot.append(stats(images, rng.choice(all_seeds, 5)))
    point = stats(everything, all_seeds)

    def ci(key: str) -> str:
        v = np.asarray([b[key] for b in boot])
        return f"{point[key]:+.4f} [{np.percentile(v, 2.5):+.4f}, {np.percentile(v, 97.5):+.4f}]"

    print("# Generator size: large (U-Net [64, 128, 128]) against small ([32, 64, 64]) chest X-ray generators\n")
    print(f"Test images {len(labels)}, resnet18 300 steps, seeds 0-4; real+aug AUROC {base:.4f}", end="")
    print(f", bare real {real:.4f}." if real is not None else ".")
    if missing:
        print(f"\nNot run (missing predictions): {', '.join(missing)}.")
    print("\n| generator | U-Net | AUROC | Δ vs real+aug | Δ vs bare real | C_T (verdict) | label agreement | "
          "in-domain FID vs val | pixel near-copies |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for g in sorted(gens, key=lambda k: int(k[1:])):
        size = "[32, 64, 64]" if g in SMALL else "[64, 128, 128]"
        vs_real = f"{delta[g] + base - real:+.4f}" if real is not None else "—"
        crit = "— | — | — | —"
        cfile = CRITERIA.get(g, Path("-")) / "results.json"
        if cfile.is_file():
            r = json.loads(cfile.read_text())
            lab = r["fidelity"]["label"]["synthetic"]
            agree = float(np.mean([lab[c]["accuracy"] for c in lab]))
            pix = r["memorization"]["pixel"]
            dc = pix["data_copying"]
            fid_txt = f"{r['fidelity']['in_domain']['fid_synthetic_vs_val']:.1f}"
            crit = f"{dc['c_t']:+.1f} ({dc['verdict']}) | {agree:.3f} | {fid_txt} | {100 * pix['fraction_below']:.1f} %"
        print(f"| {g} | {size} | {delta[g] + base:.4f} | {delta[g]:+.4f} | {vs_real} | {crit} |")
    print("\nTwo-level bootstrap (test images within class and seeds resampled, "
          f"{draws} draws, seed {seed}):\n")  # fmt: skip
    print("| quantity | point [95 % interval] |")
    print("|---|---|")
    print(f"| mean Δ of the five small generators | {ci('small')} |")
    print(f"| **declared primary: mean Δ of {' and '.join(PRIMARY)}** | **{ci('primary')}** |")
    print(f"| primary − small mean | {ci('primary - small')} |")
    if large and large != list(PRIMARY):
        print(f"| mean Δ of all large ({', '.join(large)}) | {ci('large')} |")
        print(f"| all large − small mean | {ci('large - small')} |")
    p = point["primary"]
    both = all(delta[g] > 0.010 for g in PRIMARY)
    verdict = (
        "size helps" if p > 0.016 and both
        else "size hurts" if p < 0.004
        else "no difference detectable with two generators"
    )  # fmt: skip
    small_sd = float(np.std([delta[g] for g in SMALL], ddof=1))
    print(f"\nDeclared rule (small mean {point['small']:+.4f}, between-generator sd {small_sd:.4f}; 'helps' if the "
          f"primary > +0.016 and both > +0.010, 'hurts' if < +0.004): **{verdict}**.")  # fmt: skip


if __name__ == "__main__":
    main()
