"""Item 3: the near-copy screen after g1's autoencoder round trip (both sides share the autoencoder's blur).

From the repo root, after lane A (outputs/medienet_chest_xray_k50_g1 with its pool): python <this file>
"""

from __future__ import annotations

import json
import time

import torch
from monai.bundle import ConfigParser

from monai_medienet.engines import build_near_copy_filter, load_autoencoder, screen_synthetic

torch.set_num_threads(1)
C = "bundles/medienet_chest_xray/configs"
RUN = "outputs/medienet_chest_xray_k50_g1"
p = ConfigParser()
p.read_config([f"{C}/common.yaml", f"{C}/inference.yaml", f"{C}/lowdata.yaml"])
p["k_per_class"], p["output_dir"] = 50, RUN


class RoundTrip(torch.nn.Module):
    """(B, C, H, W) in [0, 1] -> the autoencoder's deterministic reconstruction, flattened."""

    def __init__(self, ae: torch.nn.Module):
        super().__init__()
        self.ae = ae

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ae.decode(self.ae.encode(x)[0]).clamp(0, 1).flatten(1)


ae = load_autoencoder(f"{RUN}/checkpoints/autoencoder.pt", device="cpu")
t0 = time.time()
screen = build_near_copy_filter(
    p.get_parsed_content("train_items"),
    p.get_parsed_content("val_items"),
    p.get_parsed_content("preprocessing"),
    None,
    5.0,
    space=RoundTrip(ae),
)
preprocessing = p.get_parsed_content("preprocessing")
out = screen_synthetic(f"{RUN}/synthetic_dpm50", f"{RUN}/screened_roundtrip", screen, preprocessing)
out["wall_time_s"] = round(time.time() - t0, 1)
print(json.dumps(out, indent=2))
