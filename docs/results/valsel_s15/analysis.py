"""Fifteenth session, item 1: does a validation-side criterion rank five chest X-ray generators like their test gain?

Reads the re-run evaluations (``outputs/s15_valsel/{real_aug,g0..g4}``: results.json + predictions.npz with the kept
weights' real-validation predictions), checks that the test AUROCs reproduce the stored ones, and prints the declared
analysis (``docs/results/chest_xray_k200_s15/declared.md``, item 1) as Markdown:

    python docs/results/valsel_s15/analysis.py outputs/s15_valsel > docs/results/valsel_s15/analysis.md
"""

from __future__ import annotations

import json
import sys
from itertools import permutations
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from monai_medienet.evaluation import classification_metrics, cross_entropy

STORED = {  # the same runs as stored by the eleventh / twelfth sessions (test AUROC per seed 0-4)
    "real_aug": ["outputs/medienet_chest_xray_k200_s11/evaluation_s11_aug"],
    "g0": [
        "outputs/medienet_chest_xray_k200/evaluation_s10_r18_dpm50",
        "outputs/medienet_chest_xray_k200/evaluation_s12_dpm50_s34",
    ],
    "g1": ["outputs/medienet_chest_xray_k200_s11/evaluation_s11_dpm50"],
    "g2": ["outputs/medienet_chest_xray_k200_g2/evaluation_s12_dpm50"],
    "g3": ["outputs/medienet_chest_xray_k200_g3/evaluation_s12_dpm50"],
    "g4": ["outputs/medienet_chest_xray_k200_g4/evaluation_s12_dpm50"],
}
CONFIRM = {
    "g0": "+0.011 [+0.003, +0.019] (seeds 5-9, tenth session)",
    "g4": "+0.016 [+0.010, +0.022] (seeds 5-9, thirteenth)",
}


def load(folder: Path) -> dict:
    res = json.loads((folder / "results.json").read_text())
    (arm,) = list(res["arms"])
    with np.load(folder / "predictions.npz") as z:
        i = [str(a) for a in z["arms"]].index(arm)
        test, val = z[f"probs_{i}"], z[f"val_probs_{i}"]
        y_te, y_va = z["test_labels"], z["val_labels"]
    return {
        "seeds": res["seeds"],
        "test_auroc": np.array([classification_metrics(y_te, p)["auroc"] for p in test]),
        "val_loss": np.array([cross_entropy(y_va, p) for p in val]),
        "val_auroc": np.array([classification_metrics(y_va, p)["auroc"] for p in val]),
        "stored_val_loss": np.array([r["val_loss"] for r in res["arms"][arm]["runs"]]),
    }


def stored_test(name: str) -> np.ndarray:
    vals = []
    for d in STORED[name]:
        res = json.loads((Path(d) / "results.json").read_text())
        vals += next(iter(res["arms"].values()))["metrics"]["auroc"]["seed_values"]
    return np.array(vals)


def main(root: str) -> None:
    root = Path(root)
    base = load(root / "real_aug")
    gens = {g: load(root / g) for g in ("g0", "g1", "g2", "g3", "g4")}
    print("## a. Reproduction of the stored test AUROCs (seeds 0-4)\n")
    print("| run | max abs difference re-run vs stored | stored val_loss == recomputed |")
    print("|---|---|---|")
    for name, r in [("real_aug", base), *gens.items()]:
        d = np.abs(r["test_auroc"] - stored_test(name)).max()
        print(f"| {name} | {d:.2e} | {np.allclose(r['val_loss'], r['stored_val_loss'])} |")
    print("\n## b-d. Per generator (means over seeds 0-4; Δ = real+syn+aug(g) − real+aug, paired by seed)\n")
    print("| generator | test Δ AUROC | Δ val loss | Δ val AUROC | val loss per seed |")
    print("|---|---|---|---|---|")
    rows = {}
    for g, r in gens.items():
        rows[g] = (
            (r["test_auroc"] - base["test_auroc"]).mean(),
            (r["val_loss"] - base["val_loss"]).mean(),
            (r["val_auroc"] - base["val_auroc"]).mean(),
        )
        print(f"| {g} | {rows[g][0]:+.4f} | {rows[g][1]:+.4f} | {rows[g][2]:+.4f} | "
              + ", ".join(f"{v:.3f}" for v in r["val_loss"]) + " |")  # fmt: skip
    print(f"\nreal+aug val loss per seed: {', '.join(f'{v:.3f}' for v in base['val_loss'])}; "
          f"val AUROC {', '.join(f'{v:.4f}' for v in base['val_auroc'])}\n")  # fmt: skip
    test = np.array([rows[g][0] for g in gens])
    dloss = np.array([rows[g][1] for g in gens])
    dvauc = np.array([rows[g][2] for g in gens])

    # exact permutation P of rho <= observed under no association (5! orderings)
    def exact_p(x: np.ndarray, y: np.ndarray, rho: float) -> float:
        rhos = [spearmanr(x, np.array(p)).statistic for p in permutations(y)]
        return float(np.mean(np.array(rhos) <= rho + 1e-12))

    rho_l = spearmanr(dloss, test).statistic
    rho_a = spearmanr(dvauc, test).statistic
    print(f"- **b. primary**: Spearman(Δ val loss, test Δ) over 5 generators = **{rho_l:+.2f}** "
          f"(exact P(rho <= observed) = {exact_p(dloss, test, rho_l):.3f}; declared threshold <= -0.9)")  # fmt: skip
    print(f"- c. Spearman(Δ val AUROC, test Δ) = {rho_a:+.2f} (a working criterion would be >= +0.9)")
    pairs_l = np.concatenate([gens[g]["val_loss"] - base["val_loss"] for g in gens])
    pairs_a = np.concatenate([gens[g]["val_auroc"] - base["val_auroc"] for g in gens])
    pairs_t = np.concatenate([gens[g]["test_auroc"] - base["test_auroc"] for g in gens])
    r_l, r_a = spearmanr(pairs_l, pairs_t), spearmanr(pairs_a, pairs_t)
    print(f"- c. over the 25 seed-generator pairs: Spearman(Δ val loss, test Δ) = {r_l.statistic:+.2f} "
          f"(P {r_l.pvalue:.2f}), Spearman(Δ val AUROC, test Δ) = {r_a.statistic:+.2f} "
          f"(P {r_a.pvalue:.2f})")  # fmt: skip
    pick = min(gens, key=lambda g: rows[g][1])
    print(f"- d. lowest mean validation loss picks **{pick}**: test Δ {rows[pick][0]:+.4f} on seeds 0-4 "
          f"(best {max(gens, key=lambda g: rows[g][0])} {test.max():+.4f}, worst {test.min():+.4f}); "
          f"new seeds: {CONFIRM.get(pick, 'not run')}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "outputs/s15_valsel")
