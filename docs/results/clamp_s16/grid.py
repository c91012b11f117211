"""Sample grids of the chest X-ray reference sampler and the sixteenth session's few-step settings (same noise and
labels in every synthetic row) beside real validation images.

    python docs/results/clamp_s16/grid.py OUT.png GUIDED_CHECKPOINT DISTILLED_CHECKPOINT
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "clamp_s15"))
from grid import _real, save_rows  # noqa: E402  (the fifteenth session's real-image row and plotting)

from monai_medienet.engines import load_diffusion_generator  # noqa: E402

SETTINGS = [  # (row title, checkpoint index, guidance, sampler, steps, clamp range at pure noise, at the clean end)
    ("g0 guided at 2, DDIM 50, clamp ±4 (reference)", 0, 2.0, "ddim", 50, None, None),
    ("guidance-distilled, DPM-Solver++ 6, clamp ±2 -> ±1.75 (passes)", 1, 1.0, "dpmpp_2m", 6, (-2, 2), (-1.75, 1.75)),
    ("guidance-distilled, DPM-Solver++ 6, clamp ±2 constant", 1, 1.0, "dpmpp_2m", 6, (-2, 2), None),
    ("guidance-distilled, DPM-Solver++ 5, clamp ±2 -> ±1.75 (label agreement 0.91)", 1, 1.0, "dpmpp_2m", 5, (-2, 2),
     (-1.75, 1.75)),
    ("guidance-distilled, DPM-Solver++ 5, clamp ±2.5 -> ±1.5 (label agreement 0.78)", 1, 1.0, "dpmpp_2m", 5,
     (-2.5, 2.5), (-1.5, 1.5)),
]  # fmt: skip


def main(argv: list[str]) -> None:
    out, ckpts = argv[0], argv[1:3]
    torch.set_num_threads(1)
    gens = [load_diffusion_generator(c) for c in ckpts]
    labels = torch.tensor([0] * 8 + [1] * 8)
    shape = gens[0].latent_shape
    noise = torch.stack([torch.randn(*shape, generator=torch.Generator().manual_seed(i)) for i in range(16)])
    rows, names = [], []
    for title, index, guidance, name, steps, start, end in SETTINGS:
        gen = gens[index]
        sampler = (
            gen.make_sampler(name)
            if start is None
            else gen.make_sampler(name, clip_sample_range=start, clip_sample_range_end=end)
        )
        with torch.no_grad():
            img = gen.inferer.sample(
                gen.network, labels, guidance_scale=guidance, num_inference_steps=steps, scheduler=sampler,
                noise=noise.clone(), progress=False,
            )  # fmt: skip
        rows.append(np.concatenate(list(img.float().clamp(0, 1)[:, 0].numpy()), axis=1))
        names.append(title)
    rows.append(_real("val"))
    names.append("real val split (first 8 per class)")
    save_rows(rows, names, out)


if __name__ == "__main__":
    main(sys.argv[1:])
