"""Sixteenth session, item 1: per sampler setting and noise seed, label agreement and in-domain FID vs val, with means.

Reads the ``bench.quality`` JSON files of this folder (all scored by the same cached feature classifier) and prints
Markdown (a setting measured at the same seed in two files keeps one value: the runs are deterministic, the
reference reproduced 30.37 at seed 0 in every file):

    python docs/results/clamp_s16/summary.py docs/results/clamp_s16 > docs/results/clamp_s16/summary.md
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np


def setting(row: dict) -> str:
    net = "guidance-distilled" if row.get("distilled_guidance_scale") is not None else "g0 guided"
    clamp = "±4 (checkpoint)" if row.get("clip_bound") is None else f"±{row['clip_bound']:g}"
    if row.get("clip_bound_end") is not None:
        clamp += f" → ±{row['clip_bound_end']:g}"
    return f"{net}, {row['sampler']} {row['steps']}, {clamp}"


def main(folder: str) -> None:
    table: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
    for path in sorted(Path(folder).glob("s16_*.json")):
        for row in json.loads(path.read_text())["rows"]:
            table[setting(row)][int(row["seed"])] = (row["label_agreement"], row["fid_vs_val"])
    ref_key = "g0 guided, ddim 50, ±4 (checkpoint)"
    ref = table[ref_key]
    print("| setting | noise seeds | label agreement per seed (mean) | FID vs val per seed (mean) | "
          "mean FID / reference's mean FID at the same seeds |")  # fmt: skip
    print("|---|---|---|---|---|")
    for key in [ref_key] + sorted(k for k in table if k != ref_key):
        seeds = sorted(table[key])
        la = [table[key][s][0] for s in seeds]
        fid = [table[key][s][1] for s in seeds]
        common = [s for s in seeds if s in ref]
        ratio = np.mean([table[key][s][1] for s in common]) / np.mean([ref[s][1] for s in common]) if common else None
        print(
            f"| {key} | {', '.join(map(str, seeds))} | {', '.join(f'{v:.3f}' for v in la)} ({np.mean(la):.3f}) | "
            f"{', '.join(f'{v:.1f}' for v in fid)} ({np.mean(fid):.2f}) | "
            f"{'—' if ratio is None else f'x{ratio:.3f}'} |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
