"""Eighteenth session, item 1: more chest X-ray generators at k = 50 real images per class.

Reads the stored test predictions (``predictions.npz`` of ``evaluate``: resnet18, 300 steps, seeds 0-4, fp32 on
an AVX2 CPU) of the arms real and real+aug (one run each) and real+syn+aug of each k = 50 generator
(``training_seed`` 1; g2 was stopped before its pool, see ``declared.md``), and applies what ``declared.md`` beside
this file declared. Intervals: seeds fixed (test images resampled within
class) and two-level (test images within class and the classifier seeds resampled), 4000 draws. From the repo root:

    python docs/results/chest_xray_k50_s18/analysis.py > docs/results/chest_xray_k50_s18/analysis.md
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from monai_medienet.evaluation.report import load_predictions

ROOT = Path("outputs")
REAL = {a: ROOT / f"medienet_chest_xray_k50_real/evaluation_s18_{a}" for a in ("real", "real+aug")}
GENS = {f"g{s}": ROOT / f"medienet_chest_xray_k50_g{s}/evaluation_s18_syn" for s in (1, 2)}


def load(folder: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    labels, seeds, probs = load_predictions(folder / "predictions.npz")
    if seeds != [0, 1, 2, 3, 4]:
        raise ValueError(f"{folder}: seeds {seeds}, expected 0-4")
    return labels, {a: np.stack(p)[..., 1] for a, p in probs.items()}  # (S, N) P(class 1)


def auroc(y: np.ndarray, p: np.ndarray, images: np.ndarray, seeds: np.ndarray) -> float:
    return float(np.mean([roc_auc_score(y[images], p[s, images]) for s in seeds]))


def main(draws: int = 4000, seed: int = 0) -> None:
    labels, base = load(REAL["real"])
    y_aug, aug = load(REAL["real+aug"])
    if not np.array_equal(y_aug, labels):
        raise ValueError("the real and real+aug runs have different test labels")
    arms = {"real": base["real"], "real+aug": aug["real+aug"]}
    missing = []
    for g, folder in GENS.items():
        if not (folder / "predictions.npz").is_file():
            missing.append(g)
            continue
        y, p = load(folder)
        if not np.array_equal(y, labels):
            raise ValueError(f"{folder}: test labels differ from the real arms'")
        arms[g] = p["real+syn+aug"]
    gens = [g for g in GENS if g in arms]
    everything, all_seeds = np.arange(len(labels)), np.arange(5)

    def stats(images: np.ndarray, seeds: np.ndarray) -> dict[str, float]:
        a = {k: auroc(labels, v, images, seeds) for k, v in arms.items()}
        out = dict(a)
        for g in gens:
            out[f"{g} - real"] = a[g] - a["real"]
            out[f"{g} - real+aug"] = a[g] - a["real+aug"]
        if gens:
            out["mean - real"] = float(np.mean([out[f"{g} - real"] for g in gens]))
            out["mean - real+aug"] = float(np.mean([out[f"{g} - real+aug"] for g in gens]))
        return out

    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    fixed, two = [], []
    for _ in range(draws):
        images = np.concatenate([rng.choice(i, len(i)) for i in by_class])
        fixed.append(stats(images, all_seeds))
        two.append(stats(images, rng.choice(all_seeds, 5)))
    point = stats(everything, all_seeds)

    def ci(key: str, boot: list[dict[str, float]]) -> str:
        v = np.asarray([b[key] for b in boot])
        return f"[{np.percentile(v, 2.5):+.4f}, {np.percentile(v, 97.5):+.4f}]"

    print("# Chest X-ray 64 px, k = 50 per class: generators g1, g2 (eighteenth session)\n")
    print(f"Test images {len(labels)}; resnet18 300 steps, seeds 0-4, fp32 (AVX2 CPU); {draws} bootstrap draws.\n")
    if missing:
        print(f"Not run (no predictions): {', '.join(missing)}.\n")
    print("| arm | AUROC (mean of seeds) | seed AUROCs |")
    print("|---|---|---|")
    for k, v in arms.items():
        name = k if k in ("real", "real+aug") else f"real+syn+aug, {k}"
        per_seed = ", ".join(f"{roc_auc_score(labels, v[s]):.3f}" for s in all_seeds)
        print(f"| {name} | {point[k]:.4f} | {per_seed} |")
    print("\n| difference | point | seeds fixed | seeds resampled (two-level) |")
    print("|---|---|---|---|")
    keys = [f"{g} - {b}" for g in gens for b in ("real", "real+aug")]
    keys += ["mean - real", "mean - real+aug"] if len(gens) > 1 else []
    for key in keys:
        print(f"| {key} | {point[key]:+.4f} | {ci(key, fixed)} | {ci(key, two)} |")
    for g in gens:
        v = np.asarray([b[f"{g} - real"] for b in two])
        lo = np.percentile(v, 2.5)
        print(
            f"\n{g}, declared primary Δ vs bare real {point[f'{g} - real']:+.4f}: two-level interval "
            f"{'excludes' if lo > 0 else 'includes'} zero; +0.04 target "
            f"{'met' if point[f'{g} - real'] >= 0.04 and lo > 0 else 'not met'}."
        )


if __name__ == "__main__":
    main()
