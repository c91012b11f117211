"""Twenty-fifth session: a random gamma added to the default classic augmentation of every augmented arm (k = 50).

Applies what ``declared.md`` beside this file declared, with the shared analysis of a classifier-recipe lever
(``docs/results/scripts/recipe_lever.py``): this session's runs (tag ``g``: gamma 0.7-1.5 on top of the default
rotation 10 degrees, crop 85-100 %, jitter 0.1) merged with the stored default-augmentation runs of the same seeds.
From the repo root:

    python docs/results/chest_xray_k50_s25/analysis.py > docs/results/chest_xray_k50_s25/analysis.md

(the merged reports and figures go to outputs/s25_merged_*).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from recipe_lever import Lever, analyse  # noqa: E402

K50 = "outputs/medienet_chest_xray_k50_"
GENERATORS = ("ga1", "ga3")
# stored default-augmentation runs: real and real+aug (seeds 5-9: session 20, one folder; seeds 0-4: session 18, two
# folders), the unfiltered ratio-1 pools (session 21); this session's gamma runs: tag g
SEED_SETS = {
    "Seeds 5-9": {
        "real": f"{K50}real/evaluation_s20_real",
        "aug": f"{K50}real/evaluation_s20_real",
        **{g: f"{K50}{g}/evaluation_s21_seeds56789" for g in GENERATORS},
        **{f"g{s}": f"{K50}{s}/evaluation_s25_gamma_seeds56789" for s in ("real", *GENERATORS)},
    },
    "Seeds 0-4": {
        "real": f"{K50}real/evaluation_s18_real",
        "aug": f"{K50}real/evaluation_s18_real+aug",
        **{g: f"{K50}{g}/evaluation_s21_seeds01234" for g in GENERATORS},
        **{f"g{s}": f"{K50}{s}/evaluation_s25_gamma_seeds01234" for s in ("real", *GENERATORS)},
    },
}
LEVER = Lever(
    tag="g",
    description=(
        "Resnet18 300 steps, fp32 (AVX2 CPU), 4000 bootstrap draws; stored DPM-Solver++ 50-step pools of 1000, 50 per "
        "class drawn per classifier (ratio 1). Tag `g` = the default classic augmentation (rotation 10 degrees, crop "
        "85-100 %, jitter 0.1) plus a random gamma 0.7-1.5 (probability 0.5); untagged `real+aug` and tags `ga1`, "
        "`ga3` = the stored default-augmentation runs. Item 1 (primary) and the +0.04 target are decided on all ten "
        "seeds."
    ),
    recipe_keys=("gamma_range",),
    generators=GENERATORS,
    seed_sets=SEED_SETS,
    predictions={1: (-0.010, 0.015), 2: (0.015, 0.045), 3: (-0.010, 0.020)},
    out=Path("outputs/s25_merged"),
)

if __name__ == "__main__":
    analyse(LEVER)
