"""Eager vs ``torch.compile`` training steps: ``python -m bench.train_compile [--target unet classifier]``.

A separate, slow check (the first compilation takes minutes on CPU): one fresh network per measurement, the eager and
the compiled step paired in each repeat, median step time after two warm-up steps (the compiled warm-up includes the
compilation; later repeats reuse inductor's cache). Targets: ``unet`` (MedIENet U-Net of the bench profile ``full``,
batch ``train_batch`` latents at 64 px, fused Adam) and ``classifier`` (the evaluation's resnet18 at 64 px, batch 32,
Adam). Prints one line per repeat; no timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def _unet_step(compiled: bool):
    from monai.networks.schedulers import DDPMScheduler

    from bench.cases import _call
    from bench.config import FULL, build_unet, latent_shape
    from monai_medienet.utils.fast import fast_adam

    torch.manual_seed(0)
    model = build_unet(FULL, "medienet").train()
    opt = fast_adam(model.parameters(), lr=1e-4)
    fwd = torch.compile(model, dynamic=False) if compiled else model
    sched, g, b = DDPMScheduler(num_train_timesteps=1000), torch.Generator().manual_seed(0), FULL["train_batch"]
    lat = torch.randn(latent_shape(FULL, 64, b), generator=g)

    def step() -> None:
        noise = torch.randn(lat.shape, generator=g)
        t = torch.randint(0, 1000, (b,), generator=g)
        y = torch.randint(0, FULL["num_classes"], (b,), generator=g)
        loss = F.mse_loss(_call(fwd, "medienet", sched.add_noise(lat, noise, t), t, y).float(), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def _classifier_step(compiled: bool):
    from monai_medienet.evaluation import build_classifier

    torch.manual_seed(0)
    net = build_classifier("resnet18", 1, 2, image_size=64).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    fwd = torch.compile(net, dynamic=False) if compiled else net
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(32, 1, 64, 64, generator=g), torch.randint(0, 2, (32,), generator=g)

    def step() -> None:
        loss = F.cross_entropy(fwd(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


TARGETS = {"unet": _unet_step, "classifier": _classifier_step}


def measure(target: str, compiled: bool, steps: int) -> tuple[float, float]:
    """Return ``(warm-up seconds, median seconds per step)`` of one fresh network."""
    step = TARGETS[target](compiled)
    t0 = time.perf_counter()
    step()
    step()
    warmup = time.perf_counter() - t0
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return warmup, statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_compile", description=__doc__.splitlines()[0])
    parser.add_argument("--target", nargs="+", choices=sorted(TARGETS), default=["classifier", "unet"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for target in args.target:
        for rep in range(args.repeats):
            _, eager = measure(target, False, args.steps)
            warm, comp = measure(target, True, args.steps)
            print(
                f"{target} repeat {rep}: eager {1e3 * eager:.0f} ms/step, compiled {1e3 * comp:.0f} ms/step "
                f"(warm-up incl. compilation {warm:.0f} s) -> {eager / comp:.2f}x",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
