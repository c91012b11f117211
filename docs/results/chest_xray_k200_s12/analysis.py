"""Twelfth session, items 1-3: per-generator deltas, validation-side criteria, rank correlations (from repo root)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path("outputs")
AUG = ROOT / "medienet_chest_xray_k200_s11/evaluation_s11_aug"  # real+aug, seeds 0-4
GENS = {
    "g0": ROOT / "medienet_chest_xray_k200",
    "g1": ROOT / "medienet_chest_xray_k200_s11",
    "g2": ROOT / "medienet_chest_xray_k200_g2",
    "g3": ROOT / "medienet_chest_xray_k200_g3",
    "g4": ROOT / "medienet_chest_xray_k200_g4",
}
SYN = {
    "g1": GENS["g1"] / "evaluation_s11_dpm50",
    "g2": GENS["g2"] / "evaluation_s12_dpm50",
    "g3": GENS["g3"] / "evaluation_s12_dpm50",
    "g4": GENS["g4"] / "evaluation_s12_dpm50",
}
POOLED = ROOT / "chest_xray_k200_pooled_g0-4/evaluation_s12"
OUT = ROOT / "s12_merged"


def merge(*args: str) -> None:
    cmd = [sys.executable, "-m", "monai_medienet.evaluation", "merge", *args]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main() -> None:
    # g0: seeds 0-2 (tenth session) + seeds 3-4 (this session) pooled into one seeds 0-4 run
    g0 = OUT / "g0_seeds0-4"
    merge(
        str(GENS["g0"] / "evaluation_s10_r18_dpm50"), str(GENS["g0"] / "evaluation_s12_dpm50_s34"),
        "--pool_seeds", "--output_dir", str(g0),
    )  # fmt: skip
    SYN["g0"] = g0
    runs = [str(AUG)] + [f"{g}={SYN[g]}" for g in sorted(SYN)]
    if (POOLED / "results.json").is_file():
        runs.append(f"pooled={POOLED}")
    merge(*runs, "--primary", "real+syn+aug@pooled", "real+aug", "--output_dir", str(OUT / "all"))
    res = json.loads((OUT / "all" / "results.json").read_text())
    table = []
    for g in sorted(GENS):
        d = res["deltas"][f"real+syn+aug@{g} - real+aug"]["auroc"]
        val = [r["best_val_auroc"] for r in res["arms"][f"real+syn+aug@{g}"]["runs"]]
        val0 = [r["best_val_auroc"] for r in res["arms"]["real+aug"]["runs"]]
        crit = json.loads((GENS[g] / "criteria_s12" / "results.json").read_text())
        lab = crit["fidelity"]["label"]["synthetic"]
        agree = float(np.mean([lab[c]["accuracy"] for c in lab]))
        mem = crit["memorization"]
        table.append(
            {
                "generator": g,
                "test_delta": d["delta"], "ci_low": d["ci_low"], "ci_high": d["ci_high"], "p_holm": d.get("p_holm"),
                "seed_deltas": d["seed_deltas"],
                "val_delta": float(np.mean(val) - np.mean(val0)),
                "label_agreement": agree,
                "label_agreement_per_class": {c: lab[c]["accuracy"] for c in lab},
                "fid_vs_val": crit["fidelity"]["in_domain"]["fid_synthetic_vs_val"],
                "fid_vs_test": crit["fidelity"]["in_domain"]["fid_synthetic_vs_test"],
                "c_t_pixel": (mem["pixel"].get("data_copying") or {}).get("c_t"),
                "c_t_feature": (mem.get("feature", {}).get("data_copying") or {}).get("c_t"),
            }
        )  # fmt: skip
    delta = np.array([t["test_delta"] for t in table])

    def spearman(x: np.ndarray, y: np.ndarray) -> float:
        rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
        return float(np.corrcoef(rx, ry)[0, 1])

    corr = {}
    for key, sign in (("label_agreement", 1), ("val_delta", 1), ("fid_vs_val", -1), ("c_t_pixel", 0)):
        x = np.array([np.nan if t[key] is None else t[key] for t in table], dtype=float)
        if np.isnan(x).any():
            corr[key] = None
            continue
        rho = spearman(x, delta)
        perms = [spearman(x, delta[list(p)]) for p in itertools.permutations(range(len(x)))]
        if sign == 0:
            p = float(np.mean([abs(r) >= abs(rho) - 1e-12 for r in perms]))
            corr[key] = {"rho": rho, "p_two_sided_exact": p}
        else:
            p = float(np.mean([sign * r >= sign * rho - 1e-12 for r in perms]))
            corr[key] = {"rho": rho, "p_one_sided_exact": p, "direction": "+" if sign > 0 else "-"}
    pooled = res["deltas"].get("real+syn+aug@pooled - real+aug", {}).get("auroc")
    out = {"generators": table, "spearman_vs_test_delta": corr, "pooled": pooled,
           "mean_generator_delta": float(delta.mean())}  # fmt: skip
    (OUT / "criteria.json").write_text(json.dumps(out, indent=2))
    lines = [
        "| generator | Δ AUROC vs real+aug (test) [95 % CI] | val Δ (mean best-val AUROC) | label agreement (NORMAL, "
        "PNEUMONIA) | in-domain FID vs val | vs test | data-copying C_T pixel / feature |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in table:
        per = ", ".join(f"{v:.3f}" for v in t["label_agreement_per_class"].values())
        ct = " / ".join("n/a" if t[k] is None else f"{t[k]:.2f}" for k in ("c_t_pixel", "c_t_feature"))
        lines.append(
            f"| {t['generator']} | {t['test_delta']:+.4f} [{t['ci_low']:+.4f}, {t['ci_high']:+.4f}] | "
            f"{t['val_delta']:+.4f} | {t['label_agreement']:.3f} ({per}) | {t['fid_vs_val']:.1f} | "
            f"{t['fid_vs_test']:.1f} | {ct} |"
        )
    lines += ["", "| criterion | Spearman ρ with test Δ (5 generators) | exact permutation P |", "|---|---|---|"]
    for k, v in corr.items():
        if v is None:
            lines.append(f"| {k} | n/a | n/a |")
        else:
            p = v.get("p_one_sided_exact", v.get("p_two_sided_exact"))
            kind = f"one-sided ({v['direction']})" if "direction" in v else "two-sided"
            lines.append(f"| {k} | {v['rho']:+.2f} | {p:.3f} ({kind}) |")
    if pooled:
        lines += ["", f"Pooled pool (100 per class from each of g0-g4): Δ {pooled['delta']:+.4f} "
                      f"[{pooled['ci_low']:+.4f}, {pooled['ci_high']:+.4f}], P {pooled['prob_le_0']:.3f}; "
                      f"mean of the five generators' Δ {delta.mean():+.4f}."]  # fmt: skip
    (OUT / "criteria.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
