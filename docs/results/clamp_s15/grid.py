"""Sample grids of the chest X-ray generator with and without the sampler's clamp, beside real validation and test
images (same noise and labels in every synthetic row; guidance 2, fifteenth session).

    python docs/results/clamp_s15/grid.py OUT.png CHECKPOINT
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from monai.bundle import ConfigParser  # noqa: E402

from monai_medienet.data.materialise import materialise  # noqa: E402
from monai_medienet.engines import load_diffusion_generator  # noqa: E402

SETTINGS = [  # (row title, sampler, steps, clamp: True = the checkpoint's [-4, 4], False = none, (lo, hi) = that range)
    ("DDIM 50, clamped to [-4, 4] (bundle default, the reference)", "ddim", 50, True),
    ("DPM-Solver++ 2M 20, clamped to [-4, 4]", "dpmpp_2m", 20, True),
    ("DDIM 50, no clamp", "ddim", 50, False),
    ("DPM-Solver++ 2M 10, no clamp", "dpmpp_2m", 10, False),
    ("DPM-Solver++ 2M 10, clamped to [-1.5, 1.5]", "dpmpp_2m", 10, (-1.5, 1.5)),
]


def _real(split: str, per_class: int = 8) -> np.ndarray:
    c = "bundles/medienet_chest_xray/configs"
    parser = ConfigParser()
    parser.read_config([f"{c}/common.yaml", f"{c}/lowdata.yaml"])
    source = parser.get_parsed_content("data_source")
    items = source.splits[split]
    pick = [i for k in (0, 1) for i in [j for j, it in enumerate(items) if int(it["label"]) == k][:per_class]]
    x, _ = materialise([items[i] for i in pick], parser.get_parsed_content("preprocessing"), f"real {split}")
    return np.concatenate(list(np.asarray(x)[:, 0]), axis=1)


def main(argv: list[str]) -> None:
    out, ckpt = argv[0], argv[1]
    torch.set_num_threads(1)
    gen = load_diffusion_generator(ckpt)
    labels = torch.tensor([0] * 8 + [1] * 8)
    noise = torch.stack([torch.randn(*gen.latent_shape, generator=torch.Generator().manual_seed(i)) for i in range(16)])
    rows, names = [], []
    for title, name, steps, clamp in SETTINGS:
        with torch.no_grad():
            img = gen.inferer.sample(
                gen.network, labels, guidance_scale=2.0, num_inference_steps=steps,
                scheduler=gen.make_sampler(name, clip_sample=True, clip_sample_range=clamp)
                if isinstance(clamp, tuple)
                else gen.make_sampler(name, clip_sample=clamp),
                noise=noise.clone(), progress=False,
            )  # fmt: skip
        rows.append(np.concatenate(list(img.float().clamp(0, 1)[:, 0].numpy()), axis=1))
        names.append(title)
    for split in ("val", "test"):
        rows.append(_real(split))
        names.append(f"real {split} split (first 8 per class)")
    save_rows(rows, names, out)


def save_rows(rows: list[np.ndarray], names: list[str], out: str) -> None:
    """One titled image strip per row (8 NORMAL then 8 PNEUMONIA images), saved as a grey-level PNG."""
    fig, axes = plt.subplots(len(rows), 1, figsize=(16, 1.25 * len(rows)))
    for ax, row, name in zip(np.atleast_1d(axes), rows, names):
        ax.imshow(row, cmap="gray", vmin=0, vmax=1)
        ax.set_title(name + "   (NORMAL: left 8, PNEUMONIA: right 8)", fontsize=9, loc="left")
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    from PIL import Image  # grey levels only: a much smaller file

    Image.open(out).convert("L").save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1:])
