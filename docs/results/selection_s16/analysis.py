"""Sixteenth session, item 3: would a test-like held-out split select a chest X-ray generator whose gain holds?

Reads stored predictions (``outputs/s15_valsel/{real_aug,g0..g4}/predictions.npz``: test probabilities of resnet18
classifiers, seeds 0-4, one arm per folder) and simulates a selection split (declared in
``docs/results/chest_xray_k200_s16/declared.md``, item 3): per resplit, a stratified half A of the test images and 3 of
the 5 seeds select the generator with the largest AUROC gain over real+aug; its gain is read on half B with the other
2 seeds. Prints Markdown:

    python docs/results/selection_s16/analysis.py outputs/s15_valsel > docs/results/selection_s16/analysis.md
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

GENERATORS = ["g0", "g1", "g2", "g3", "g4"]


def load(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = np.load(folder / "predictions.npz")
    return z["test_labels"], z["seeds"], z["probs_0"][..., 1]  # (N,), (S,), (S, N) P(class 1)


def main(root: str, resplits: int = 2000, seed: int = 0) -> None:
    base = Path(root)
    labels, seeds, ref = load(base / "real_aug")
    scores = {}
    for g in GENERATORS:
        lab, sd, p = load(base / g)
        if not (np.array_equal(lab, labels) and np.array_equal(sd, seeds)):
            raise ValueError(f"{g}: test labels or seeds differ from real_aug's")
        scores[g] = p
    rng = np.random.default_rng(seed)
    idx = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    n_seeds = len(seeds)

    def gain(g: str, images: np.ndarray, seed_idx: np.ndarray) -> float:
        y = labels[images]
        return float(
            np.mean([roc_auc_score(y, scores[g][s, images]) - roc_auc_score(y, ref[s, images]) for s in seed_idx])
        )

    rows = []
    picks = dict.fromkeys(GENERATORS, 0)
    for _ in range(resplits):
        half_a = np.concatenate([rng.permutation(i)[: len(i) // 2] for i in idx])
        half_b = np.setdiff1d(np.arange(len(labels)), half_a)
        perm = rng.permutation(n_seeds)
        seeds_a, seeds_b = perm[:3], perm[3:]
        on_a = {g: gain(g, half_a, seeds_a) for g in GENERATORS}
        on_b = {g: gain(g, half_b, seeds_b) for g in GENERATORS}
        best = max(on_a, key=on_a.get)
        picks[best] += 1
        avg_b = float(np.mean(list(on_b.values())))
        rank_corr = np.corrcoef(
            np.argsort(np.argsort([on_a[g] for g in GENERATORS])), np.argsort(np.argsort([on_b[g] for g in GENERATORS]))
        )[0, 1]
        rows.append((on_b[best], avg_b, on_b[best] - avg_b, max(on_b.values()), rank_corr))
    arr = np.asarray(rows)

    def fmt(col: int) -> str:
        v = arr[:, col]
        return f"{v.mean():+.4f} [{np.percentile(v, 2.5):+.4f}, {np.percentile(v, 97.5):+.4f}]"

    full = {g: gain(g, np.arange(len(labels)), np.arange(n_seeds)) for g in GENERATORS}
    print(f"# Selecting a generator on a test-like split (stored predictions, {resplits} resplits, seed {seed})\n")
    print(f"Test images {len(labels)} (class counts {[len(i) for i in idx]}), classifier seeds {seeds.tolist()}; ")
    print("selection on a stratified half A of the test images and 3 seeds, ", end="")
    print("read-out on half B and the other 2 seeds.\n")
    print("| quantity over resplits | mean [2.5 %, 97.5 %] |")
    print("|---|---|")
    print(f"| Δ AUROC vs real+aug of the generator selected on A, read on B | {fmt(0)} |")
    print(f"| Δ AUROC vs real+aug of the average generator, on B | {fmt(1)} |")
    print(f"| **selection gain** (selected − average, on B) | **{fmt(2)}** |")
    print(f"| best generator in hindsight on B (oracle) | {fmt(3)} |")
    print(f"| Spearman ρ between the A and B rankings of the five generators | {fmt(4)} |")
    print(f"\nSelection gain > 0 in {100 * float((arr[:, 2] > 0).mean()):.1f} % of resplits.")
    print("\n| generator | Δ AUROC vs real+aug, all 624 images and 5 seeds | selected on A in |")
    print("|---|---|---|")
    for g in GENERATORS:
        print(f"| {g} | {full[g]:+.4f} | {100 * picks[g] / resplits:.1f} % |")


if __name__ == "__main__":
    main(sys.argv[1])
