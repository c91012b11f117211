"""DPM-Solver++ on the schedule the bundles use (LDM ``scaled_linear_beta`` 0.0015-0.0195, x0 clamp +-4).

The bundles sample with ``get_scheduler(sampler, **scheduler_config)`` where ``scheduler_config`` holds
``schedule: scaled_linear_beta`` and ``clip_sample: true`` with ``[-4, 4]``. On that schedule ``alpha`` at
``t = 999`` is ~0.012, so the first data prediction ``x0 = (x - sigma * eps) / alpha`` amplifies a noise-prediction
error ~84x and the clamp is active. DPM-Solver++ used to clamp only ``x0`` and keep the rest of the sample; on a
briefly trained model that produced blown-out blobs for many seeds, while MONAI's DDIM (clamp ``x0``, keep the
model's ``eps``) was clean. These tests pin the DDIM-consistent clamp and the step-count behaviour.
"""

from __future__ import annotations

import math

import pytest
import torch
from monai.networks.schedulers import DDIMScheduler

from monai_medienet.schedulers import DPMSolverMultistepScheduler, get_scheduler

BUNDLE = {"clip_sample": True, "clip_sample_min": -4.0, "clip_sample_max": 4.0}  # + get_scheduler's LDM betas
MU, STD = 0.3, 1.0  # toy "latents": N(MU, STD^2) per value (scaled latents have unit std)


def gaussian_eps(scheduler, x: torch.Tensor, t: int) -> torch.Tensor:
    """E[eps | x_t] for N(MU, STD^2) data."""
    acp = scheduler.alphas_cumprod.double()[t]
    a, s = acp.sqrt(), (1 - acp).sqrt()
    return s * (x - a * MU) / (acp * STD**2 + s**2)


def solve(scheduler, steps: int, x_T: torch.Tensor, noise_rms: float = 0.0) -> torch.Tensor:
    """Run the sampler; ``noise_rms > 0`` adds a seeded error (fresh per timestep) to the exact eps."""
    scheduler.set_timesteps(steps)
    x = x_T.clone()
    for t in scheduler.timesteps.tolist():
        eps = gaussian_eps(scheduler, x, t)
        if noise_rms:
            g = torch.Generator().manual_seed(int(t))
            eps = eps + noise_rms * torch.randn(x.shape, generator=g, dtype=x.dtype)
        x, _ = scheduler.step(eps, int(t), x)
    return x


@pytest.fixture(scope="module")
def x_T():
    return torch.randn(4096, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def reference(x_T):
    """Exact probability-flow ODE solution of the Gaussian toy (closed form)."""
    acp = get_scheduler("ddim").alphas_cumprod.double()[-1]
    return MU + STD * (x_T - acp.sqrt() * MU) / (acp * STD**2 + 1 - acp).sqrt()


def rms(a, b):
    return float(((a - b) ** 2).mean().sqrt())


def test_bundle_schedule_high_noise_end():
    """The numbers behind the failure: alpha_999 ~ 0.012 (x0 error gain ~84), lambda_999 ~ -4.43."""
    sched = get_scheduler("dpmpp_2m", **BUNDLE)
    sched.set_timesteps(10)
    assert sched.timesteps[0] == 999 and sched.timesteps[-1] == 0
    assert sched._alpha[0] == pytest.approx(0.01193, abs=1e-4)
    assert sched._lambda[0] == pytest.approx(-4.43, abs=0.01)


@pytest.mark.parametrize("steps", [10, 20, 25])
def test_step_count_is_honoured(steps):
    sched = get_scheduler("dpmpp_2m", **BUNDLE)
    sched.set_timesteps(steps)
    assert sched.num_inference_steps == steps == len(sched.timesteps) == len(set(sched.timesteps.tolist()))


@pytest.mark.parametrize("steps, tol", [(10, 0.03), (20, 0.01), (50, 0.004)])
def test_dpmpp_2m_accuracy_on_bundle_schedule(x_T, reference, steps, tol):
    """With the clamp of the bundle (rarely active on this toy) 2M converges to the exact ODE solution."""
    out = solve(get_scheduler("dpmpp_2m", **BUNDLE), steps, x_T)
    assert rms(out, reference) / STD < tol


def test_step_count_changes_the_result(x_T):
    outs = [solve(get_scheduler("dpmpp_2m", **BUNDLE), n, x_T) for n in (10, 20, 50)]
    assert rms(outs[0], outs[1]) > 1e-4 and rms(outs[1], outs[2]) > 1e-5
    assert rms(outs[1], outs[2]) < rms(outs[0], outs[2])  # and converges


def test_first_step_equals_ddim_clip_step():
    """The first (first-order) step with an active clamp is MONAI's DDIM update alpha' * clamp(x0) + sigma' * eps."""
    for name in ("dpmpp_1", "dpmpp_2m"):
        sched = get_scheduler(name, **BUNDLE)
        sched.set_timesteps(10)
        t0, t1 = sched.timesteps[:2].tolist()
        x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        eps = 0.95 * x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        prev, x0 = sched.step(eps, t0, x)
        acp = sched.alphas_cumprod.double()
        x0_raw = (x - (1 - acp[t0]).sqrt() * eps) / acp[t0].sqrt()
        assert float((x0_raw.abs() > 4).double().mean()) > 0.3  # the clamp is doing real work at t = 999
        torch.testing.assert_close(x0, x0_raw.clamp(-4, 4))
        torch.testing.assert_close(prev, acp[t1].sqrt() * x0 + (1 - acp[t1]).sqrt() * eps)


def test_clip_matches_monai_ddim_on_the_full_grid(x_T):
    """DPM-Solver++(1) on all 1000 timesteps is MONAI's DDIM, also with an active clamp and a noisy predictor."""
    clip = {"clip_sample": True, "clip_sample_min": -1.0, "clip_sample_max": 1.0}  # active for ~1/3 of the values
    ddim = solve(get_scheduler("ddim", **clip), 1000, x_T[:512], noise_rms=0.1)
    ours = solve(get_scheduler("dpmpp_1", timestep_spacing="linspace", **clip), 1000, x_T[:512], noise_rms=0.1)
    torch.testing.assert_close(ours, ddim, atol=1e-5, rtol=0)  # MONAI's float32 alphas vs our float64
    paper = get_scheduler("dpmpp_1", timestep_spacing="linspace", clip_mode="data", **clip)
    assert rms(solve(paper, 1000, x_T[:512], noise_rms=0.1), ddim) > 1e-3  # the old behaviour is different


@pytest.mark.parametrize("steps", [10, 20, 50])
def test_noisy_predictor_stays_bounded(x_T, reference, steps):
    """A slightly wrong eps-predictor (seeded 5 % error): bounded by the clamp, close to the exact solution."""
    out = solve(get_scheduler("dpmpp_2m", **BUNDLE), steps, x_T, noise_rms=0.05)
    assert torch.isfinite(out).all() and float(out.abs().max()) <= 4.0 + 1e-9
    assert rms(out, reference) / STD < 0.1
    assert abs(float(out.std()) - STD) < 0.05


def test_clip_mode_validation():
    with pytest.raises(ValueError, match="DPMSolverMultistepScheduler: clip_mode must be 'ddim' or 'data', got 'x'"):
        DPMSolverMultistepScheduler(clip_mode="x")
    with pytest.raises(ValueError, match="DPMSolverMultistepScheduler: clip_sample_min must be < clip_sample_max"):
        DPMSolverMultistepScheduler(clip_sample=True, clip_sample_min=1.0, clip_sample_max=-1.0)
    assert isinstance(get_scheduler("ddim", clip_mode="data"), DDIMScheduler)  # ignored by MONAI's schedulers
    assert get_scheduler("dpmpp_2m", clip_mode="data").clip_mode == "data"
    assert math.isinf(DPMSolverMultistepScheduler()._lambda[-1])
