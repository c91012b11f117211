"""Exploration: does DPM-Solver++'s log-SNR timestep spacing cost class fidelity under guidance? (chest X-ray k=200)"""

import sys

from monai_medienet.engines import diffusion as d
from monai_medienet.schedulers import get_scheduler

orig = d.DiffusionGenerator.make_sampler


def make_sampler(self, name="dpmpp_2m"):
    if name.endswith("_lin"):
        return get_scheduler(name[:-4], timestep_spacing="linspace", **self.scheduler_config)
    return orig(self, name)


d.DiffusionGenerator.make_sampler = make_sampler
from bench.quality import main  # noqa: E402  (after the patch)

sys.exit(main())
