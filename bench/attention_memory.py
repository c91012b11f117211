"""Peak memory of a MedIENet training step, SDPA math backend vs fused kernel: ``python -m bench.attention_memory``.

:class:`~monai_medienet.engines.AutocastInferer` runs ``scaled_dot_product_attention`` with PyTorch's math backend in
CPU bf16 training forwards (a faster backward at the bundles' 16 x 16 latents). The math backend keeps the
``(L, L)`` attention matrix of every head for the backward; this measures what that costs as the latents grow. Each
(image size, backend) runs in a fresh subprocess, so the peak RSS is its own: the U-Net of the bench profile
``full`` (MedIENet, channels 64-128-256, attention at the two deeper levels), ``--batch`` latents, one warm-up and
one measured training step (noise, forward, MSE, backward, Adam) in fp32, or under bf16 autocast with ``--dtype bf16``
(emulated, and very slow, on CPUs without native bf16). Prints one line per run and a Markdown table; nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

RESULT = "ATTN_MEMORY "


def child(image_size: int, backend: str, dtype: str, batch: int, threads: int) -> dict:
    """One measurement in this process: peak RSS before and after two training steps, seconds per step."""
    import torch
    import torch.nn.functional as F
    from monai.networks.schedulers import DDPMScheduler

    from bench.cases import _call
    from bench.config import FULL, ae_downsampling, build_unet, latent_shape
    from bench.worker import peak_rss_mb
    from monai_medienet.engines import AutocastInferer

    torch.set_num_threads(threads)
    model = build_unet(FULL, "medienet").train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    inferer = AutocastInferer(enabled=dtype == "bf16", device_type="cpu", math_attention=backend == "math")
    sched = DDPMScheduler(num_train_timesteps=1000)
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(latent_shape(FULL, image_size, batch), generator=g)
    side = image_size // ae_downsampling(FULL)
    levels = [i for i, on in enumerate(FULL["unet"]["attention_levels"]) if on]
    rss_before = peak_rss_mb()
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        noise = torch.randn(latents.shape, generator=g)
        t = torch.randint(0, 1000, (batch,), generator=g)
        y = torch.randint(0, FULL["num_classes"], (batch,), generator=g)
        pred = inferer(sched.add_noise(latents, noise, t), lambda x, t=t, y=y: _call(model, "medienet", x, t, y))
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return {
        "image_size": image_size,
        "latent": side,
        "tokens": [(side // 2**lv) ** 2 for lv in levels],
        "backend": backend,
        "dtype": dtype,
        "batch": batch,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "step_s": times[-1],
        "loss_finite": bool(torch.isfinite(loss)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.attention_memory", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256], help="image sizes (px)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--child", nargs=2, metavar=("SIZE", "BACKEND"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        res = child(int(args.child[0]), args.child[1], args.dtype, args.batch, args.threads)
        print(RESULT + json.dumps(res), flush=True)
        return 0
    rows = []
    for size in args.sizes:
        for backend in ("fused", "math"):
            cmd = [sys.executable, "-m", "bench.attention_memory", "--child", str(size), backend]
            cmd += ["--dtype", args.dtype, "--batch", str(args.batch), "--threads", str(args.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            res = json.loads(next(line for line in out.splitlines() if line.startswith(RESULT))[len(RESULT) :])
            rows.append(res)
            print(
                f"{size} px ({res['latent']}x{res['latent']} latents, tokens {res['tokens']}), {backend}: peak "
                f"RSS {res['peak_rss_mb']:.0f} MiB (before the steps {res['rss_before_mb']:.0f}), "
                f"{res['step_s']:.2f} s/step",
                flush=True,
            )
    print("\n| image px | latent | attention tokens | dtype, batch | peak RSS fused / math, MiB | math - fused |")
    print("|---|---|---|---|---|---|")
    for fused, math in zip(rows[::2], rows[1::2]):
        print(
            f"| {fused['image_size']} | {fused['latent']} x {fused['latent']} | {fused['tokens']} | "
            f"{fused['dtype']}, {fused['batch']} | {fused['peak_rss_mb']:.0f} / {math['peak_rss_mb']:.0f} | "
            f"{math['peak_rss_mb'] - fused['peak_rss_mb']:+.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
