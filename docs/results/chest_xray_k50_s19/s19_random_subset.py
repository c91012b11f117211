"""Item 5: a random subset of g1's pool with the round-trip-screened pool's class counts (the control for item 2).

From the repo root: python <this file>; writes outputs/medienet_chest_xray_k50_g1/random_subset/manifest.{csv,json}
(rows of the pool's manifest, paths relative to the new folder; no image copied).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np

RUN = Path("outputs/medienet_chest_xray_k50_g1")
POOL, SCREENED, OUT = RUN / "synthetic_dpm50", RUN / "screened_roundtrip", RUN / "random_subset"

with open(POOL / "manifest.csv", newline="") as f:
    pool = list(csv.DictReader(f))
with open(SCREENED / "manifest.csv", newline="") as f:
    counts = Counter(r["class_name"] for r in csv.DictReader(f))
rng = np.random.default_rng(0)
keep = []
for cls, n in sorted(counts.items()):
    rows = [i for i, r in enumerate(pool) if r["class_name"] == cls]
    keep += sorted(rng.choice(rows, size=n, replace=False).tolist())
OUT.mkdir(exist_ok=False)
with open(OUT / "manifest.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(pool[0]))
    w.writeheader()
    for i in sorted(keep):
        w.writerow({**pool[i], "path": f"../{POOL.name}/{pool[i]['path']}"})
meta = json.loads((POOL / "manifest.json").read_text())
meta["num_images"] = len(keep)
meta["provenance"] = {
    "filtered": {"random_subset": {"seed": 0, "class_counts": dict(sorted(counts.items()))}},
    "filtered_from": str((POOL / "manifest.csv").resolve()),
    "num_source_images": len(pool),
    "source": meta.get("provenance"),
}
(OUT / "manifest.json").write_text(json.dumps(meta, indent=2))
print(len(keep), dict(sorted(counts.items())), len(set(keep)))
