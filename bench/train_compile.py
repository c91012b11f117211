"""Eager vs ``torch.compile`` training steps: ``python -m bench.train_compile [--target unet classifier]``.

A separate, slow check (the first compilation takes minutes on CPU), built on the bench cases: ``unet`` is
:func:`bench.cases.case_train` (pipeline ``medienet_fast``: MedIENet U-Net of the profile ``full``, fused Adam, bf16
autocast only on CPUs with native bf16, 64 px latents) and ``classifier`` is :func:`bench.cases.case_classifier`
(the evaluation's resnet18 at 64 px, batch 32, Adam). Each repeat runs a fresh eager and a fresh compiled network,
paired; the compiled warm-up (the profile's 2 steps: the second compiled step can recompile) includes the
compilation (later repeats reuse inductor's cache). Prints one line per repeat; no timing is asserted anywhere.
"""

from __future__ import annotations

import argparse

import torch

from bench.cases import case_classifier, case_train
from bench.config import FULL


def measure(target: str, compiled: bool, profile: dict | None = None) -> dict:
    """One measurement: the bench case's result dict (``ms_per_step``, ``warmup_s``, ...)."""
    profile = FULL if profile is None else profile
    if target == "unet":
        return case_train(profile, "medienet_fast", 64, compile=compiled)
    if target == "classifier":
        return case_classifier(profile, "resnet18", 64, compile=compiled)
    raise ValueError(f"bench.train_compile: target must be 'unet' or 'classifier', got {target!r}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_compile", description=__doc__.splitlines()[0])
    parser.add_argument("--target", nargs="+", choices=["classifier", "unet"], default=["classifier", "unet"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for target in args.target:
        for rep in range(args.repeats):
            eager = measure(target, False)
            comp = measure(target, True)
            print(
                f"{target} repeat {rep}: eager {eager['ms_per_step']:.0f} ms/step, compiled "
                f"{comp['ms_per_step']:.0f} ms/step (warm-up incl. compilation {comp['warmup_s']:.0f} s) -> "
                f"{eager['ms_per_step'] / comp['ms_per_step']:.2f}x",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
