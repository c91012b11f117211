"""Sample grids of step-distilled students next to their teacher, same noise and labels (DDIM, trailing grid).

python docs/results/step_distill_s14/grid.py OUT.png "LABEL=CHECKPOINT@STEPS" ["LABEL=CHECKPOINT@STEPS" ...]
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from monai_medienet.engines import load_diffusion_generator  # noqa: E402
from monai_medienet.schedulers import get_scheduler  # noqa: E402


def main(argv: list[str]) -> None:
    out, specs = argv[0], argv[1:]
    torch.set_num_threads(1)
    labels = torch.tensor([0] * 8 + [1] * 8)
    rows, names, noise = [], [], None
    for spec in specs:
        name, _, rest = spec.partition("=")
        path, _, steps = rest.rpartition("@")
        gen = load_diffusion_generator(path)
        if noise is None:
            noise = torch.stack(
                [torch.randn(*gen.latent_shape, generator=torch.Generator().manual_seed(1000 + i)) for i in range(16)]
            )
        sampler = get_scheduler("dpmpp_1", timestep_spacing="trailing", **gen.scheduler_config)
        with torch.no_grad():
            img = gen.inferer.sample(
                gen.network, labels, guidance_scale=1.0, num_inference_steps=int(steps), scheduler=sampler,
                noise=noise.clone(), progress=False,
            )  # fmt: skip
        rows.append(np.concatenate(list(img.float().clamp(0, 1)[:, 0].numpy()), axis=1))
        names.append(f"{name}, {steps} steps")
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
