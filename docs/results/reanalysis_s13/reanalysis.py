"""Thirteenth session: the declared comparisons of sessions 9-13 with the two-level interval (seeds resampled too).

Re-merges the stored predictions (``outputs/``, from the repo root) with ``python -m monai_medienet.evaluation merge``,
which now reports, next to the seed-fixed bootstrap interval, the interval that resamples the seed pairs as well.
Writes ``reanalysis.md`` and ``reanalysis.json`` next to this script.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path("outputs")
C, P, B = ROOT / "medienet_chest_xray_k200", ROOT / "medienet_pneumoniamnist_k200", ROOT / "medienet_breastmnist"
OUT = ROOT / "s13_reanalysis"
HERE = Path(__file__).resolve().parent

# (name, runs, A, B, how it was declared)
CASES = [
    (
        "chest g0 converged pool, seeds 5-9 (s10)",
        [C / "evaluation_s10_confirm_merged"],
        "real+syn+aug@dpm50",
        "real+aug",
        "confirmatory primary",
    ),
    (
        "chest g0 pool effect DPM++50 vs DDIM50, seeds 5-9 (s11)",
        [C / "evaluation_s11_seeds5-9_merged"],
        "real+syn+aug@dpm50",
        "real+syn+aug@ddim50",
        "primary",
    ),
    (
        "chest g0 converged pool vs bare real, seeds 5-9 (s11)",
        [C / "evaluation_s11_seeds5-9_merged"],
        "real+syn+aug@dpm50",
        "real",
        "secondary",
    ),
    (
        "chest g1 (second generator), seeds 0-4 (s11)",
        [ROOT / "medienet_chest_xray_k200_s11/evaluation_s11_merged"],
        "real+syn+aug",
        "real+aug",
        "declared replication",
    ),
    ("chest g0, seeds 0-4 (s12)", [ROOT / "s12_merged/all"], "real+syn+aug@g0", "real+aug", "item of a declared set"),
    ("chest g3, seeds 0-4 (s12)", [ROOT / "s12_merged/all"], "real+syn+aug@g3", "real+aug", "item of a declared set"),
    ("chest g4, seeds 0-4 (s12)", [ROOT / "s12_merged/all"], "real+syn+aug@g4", "real+aug", "item of a declared set"),
    (
        "chest pooled pool g0-g4, seeds 0-4 (s12)",
        [ROOT / "s12_merged/all"],
        "real+syn+aug@pooled",
        "real+aug",
        "primary",
    ),
    (
        "chest pooled pool g0-g4, seeds 5-9 (s13)",
        [ROOT / "s13_merged/chest_s5-9"],
        "real+syn+aug@pooled",
        "real+aug",
        "confirmatory primary",
    ),
    (
        "chest g0, seeds 0-9 (s10-s13 pooled)",
        [ROOT / "s13_merged/chest_s0-9"],
        "real+syn+aug@g0",
        "real+aug",
        "exploratory summary",
    ),
    (
        "chest pooled pool, seeds 0-9 (s12+s13)",
        [ROOT / "s13_merged/chest_s0-9"],
        "real+syn+aug@pooled",
        "real+aug",
        "exploratory summary",
    ),
    (
        "chest g4, new seeds 5-9 (s13)",
        [ROOT / "s13_merged/g4_s5-9"],
        "real+syn+aug@g4",
        "real+aug",
        "confirmatory primary",
    ),
    (
        "chest distilled student vs its teacher g0, seeds 0-4 (s12)",
        [ROOT / "s12_merged/student"],
        "real+syn+aug@student",
        "real+syn+aug@g0",
        "primary",
    ),
    (
        "chest resnet50 600 steps, pooled pool, seeds 0-2 (s13)",
        [ROOT / "s13_merged/chest_r50_600"],
        "real+syn+aug@pooled",
        "real+aug",
        "item of a declared set",
    ),
    (
        "PneumoniaMNIST pooled pool g0-g3, seeds 3-7 (s13)",
        [ROOT / "s13_merged/pneumoniamnist_s3-7"],
        "real+syn+aug@pooled",
        "real+aug",
        "primary",
    ),
    (
        "chest resnet50 600 steps, converged pool, seeds 0-2 (s11)",
        [C / "evaluation_s11_r50_600_merged"],
        "real+syn+aug@dpm50",
        "real+aug",
        "primary",
    ),
    (
        "PneumoniaMNIST pool effect DPM++50 vs DDIM50, seeds 0-2 (s11)",
        [P / "evaluation_s11_dpm50_merged"],
        "real+syn+aug@dpm50",
        "real+syn+aug",
        "primary",
    ),
    (
        "PneumoniaMNIST pool effect, seeds 3-7 (s11)",
        [P / "evaluation_s11_s3-7_merged"],
        "real+syn+aug@dpm50",
        "real+syn+aug",
        "confirmatory primary",
    ),
    (
        "PneumoniaMNIST converged pool vs real+aug, seeds 3-7 (s11)",
        [P / "evaluation_s11_s3-7_merged"],
        "real+syn+aug@dpm50",
        "real+aug",
        "secondary",
    ),
    ("PneumoniaMNIST DDIM pool, seeds 0-2 (s9)", [P / "evaluation"], "real+syn+aug", "real+aug", "primary"),
    ("BreastMNIST, seeds 0-9 (s10)", [B / "evaluation_s0-9"], "real+syn+aug", "real+aug", "primary"),
]


def main() -> None:
    rows = []
    for i, (name, runs, a, b, how) in enumerate(CASES):
        if not all((r / "predictions.npz").is_file() for r in runs):
            print(f"skipped (predictions missing): {name}", flush=True)
            continue
        out = OUT / f"case{i:02d}"
        cmd = [sys.executable, "-m", "monai_medienet.evaluation", "merge", *map(str, runs), "--delta", a, b,
               "--output_dir", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True)
        res = json.loads((out / "results.json").read_text())
        d = res["deltas"][f"{a} - {b}"]["auroc"]
        rows.append({"comparison": name, "declared": how, "arms": f"{a} − {b}", "seeds": res["seeds"], **d})
    (HERE / "reanalysis.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "| comparison | declared as | seeds | Δ AUROC | 95 % CI, seeds fixed | P | 95 % CI, seeds resampled too | P |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['comparison']}: {r['arms']} | {r['declared']} | {len(r['seeds'])} | {r['delta']:+.3f} | "
            f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] | {r['prob_le_0']:.3f} | "
            f"[{r['ci_low_seeds']:+.3f}, {r['ci_high_seeds']:+.3f}] | {r['prob_le_0_seeds']:.3f} |"
        )
    (HERE / "reanalysis.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
