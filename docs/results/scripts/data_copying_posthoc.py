"""Post-hoc data-copying test (Meehan et al., 2020) in pixel space for synthetic pools written before `evaluate`
reported it. Uses the bundle's own config to rebuild the generator's real training images and the validation split.

    python docs/results/scripts/data_copying_posthoc.py bundles/medienet_chest_xray \
        outputs/medienet_chest_xray_k200/synthetic

Prints one JSON line: C_T, verdict, cells, the near-copy fraction for reference.

    python docs/results/scripts/data_copying_posthoc.py bundles/medienet_chest_xray --ae \
        outputs/medienet_chest_xray_k200/checkpoints/autoencoder.pt

The autoencoder's own share: the validation split is halved (seeded); C_T of half A as it is (real vs real, the null:
about 0) and of half A passed through the autoencoder (encode -> mean latent -> decode), both against half B. A
generator cannot sit closer to its training images than its decoder lets it.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch
from monai.bundle import ConfigParser

from monai_medienet.evaluation.protocol import materialise
from monai_medienet.metrics import data_copying_test, memorization_check


def _parser(bundle: str) -> ConfigParser:
    parser = ConfigParser()
    parser.read_config([os.path.join(bundle, "configs", f) for f in ("common.yaml", "evaluate.yaml", "lowdata.yaml")])
    return parser


def ae_ceiling(bundle: str, ae_checkpoint: str) -> dict:
    from monai_medienet.engines import load_autoencoder

    parser = _parser(bundle)
    transform = parser.get_parsed_content("preprocessing")
    x_tr, _ = materialise(parser.get_parsed_content("train_items"), transform, "real train", False)
    x_va, _ = materialise(parser.get_parsed_content("val_items"), transform, "real val", False)
    perm = np.random.default_rng(0).permutation(len(x_va))
    half_a, half_b = x_va[perm[: len(perm) // 2]], x_va[perm[len(perm) // 2 :]]
    ae = load_autoencoder(ae_checkpoint, device="cpu")
    with torch.no_grad():
        recon = torch.cat([ae.decode(ae.encode(half_a[i : i + 64])[0]) for i in range(0, len(half_a), 64)])
    recon = recon.float().clamp(0, 1)
    null = data_copying_test(half_a, x_tr, half_b, seed=0)
    rec = data_copying_test(recon, x_tr, half_b, seed=0)
    return {
        "ae_checkpoint": ae_checkpoint,
        "n": [len(half_a), len(x_tr), len(half_b)],
        "c_t_real_half_a": null.c_t,
        "c_t_reconstructed_half_a": rec.c_t,
        "auc_real_half_a": null.global_auc,
        "auc_reconstructed_half_a": rec.global_auc,
        "verdicts": [null.verdict, rec.verdict],
        "cells_used": [f"{null.num_cells_used}/{null.num_cells}", f"{rec.num_cells_used}/{rec.num_cells}"],
    }


def main(bundle: str, synthetic_dir: str) -> dict:
    parser = _parser(bundle)
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
        "global_auc": dc.global_auc,
        "pixel_near_copies": f"{memo.summary()['num_flagged']}/{len(x_sy)}",
    }


if __name__ == "__main__":
    if sys.argv[2] == "--ae":
        print(json.dumps(ae_ceiling(sys.argv[1], sys.argv[3])))
    else:
        print(json.dumps(main(sys.argv[1], sys.argv[2])))
