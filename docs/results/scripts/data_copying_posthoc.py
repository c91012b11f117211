"""Post-hoc data-copying test (Meehan et al., 2020) in pixel space for synthetic pools written before `evaluate`
reported it. Uses the bundle's own config to rebuild the generator's real training images and the validation split.

    python docs/results/scripts/data_copying_posthoc.py bundles/medienet_chest_xray \
        outputs/medienet_chest_xray_k200/synthetic

Prints one JSON line: C_T, verdict, cells, the near-copy fraction for reference.
"""

from __future__ import annotations

import json
import os
import sys

from monai.bundle import ConfigParser

from monai_medienet.evaluation.protocol import materialise
from monai_medienet.metrics import data_copying_test, memorization_check


def main(bundle: str, synthetic_dir: str) -> dict:
    parser = ConfigParser()
    parser.read_config([os.path.join(bundle, "configs", f) for f in ("common.yaml", "evaluate.yaml", "lowdata.yaml")])
    parser["synthetic_dir"] = synthetic_dir
    transform = parser.get_parsed_content("preprocessing")
    x_tr, _ = materialise(parser.get_parsed_content("train_items"), transform, "real train", False)
    x_va, _ = materialise(parser.get_parsed_content("val_items"), transform, "real val", False)
    x_te, _ = materialise(parser.get_parsed_content("data_source").splits["test"], transform, "real test", False)
    x_sy, _ = materialise(parser.get_parsed_content("synthetic_items"), transform, "synthetic", False)
    dc = data_copying_test(x_sy, x_tr, x_va, seed=0)
    memo = memorization_check(x_sy, x_tr, x_te, 5.0)
    return {
        "synthetic_dir": synthetic_dir,
        "n": [len(x_sy), len(x_tr), len(x_va)],
        "c_t": dc.c_t,
        "verdict": dc.verdict,
        "cells_used": f"{dc.num_cells_used}/{dc.num_cells}",
        "global_z": dc.global_z,
        "pixel_near_copies": f"{memo.summary()['num_flagged']}/{len(x_sy)}",
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
