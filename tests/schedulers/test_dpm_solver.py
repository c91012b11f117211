"""DPM-Solver++: accuracy on a Gaussian toy problem (closed-form eps), prediction types, API and errors."""

from __future__ import annotations

import pytest
import torch
from monai.networks.schedulers import Scheduler

from monai_medienet.schedulers import DPMSolverMultistepScheduler, get_scheduler, trailing_timesteps

T = 1000
MU, STD = 0.7, 0.3  # toy data distribution N(MU, STD^2), one value per "pixel"
SCHED = {"num_train_timesteps": T, "schedule": "linear_beta", "beta_start": 1e-4, "beta_end": 2e-2}


def exact_eps(scheduler: Scheduler, x: torch.Tensor, t: int) -> torch.Tensor:
    """E[eps | x_t] for Gaussian data: x_t = a x0 + s eps  =>  eps_hat = s (x_t - a mu) / (a^2 std^2 + s^2)."""
    acp = scheduler.alphas_cumprod.double()[t]
    a, s = acp.sqrt(), (1 - acp).sqrt()
    return s * (x - a * MU) / (acp * STD**2 + s**2)


def solve(scheduler: Scheduler, steps: int, x_t: torch.Tensor, prediction: str = "epsilon") -> torch.Tensor:
    scheduler.set_timesteps(steps)
    x = x_t.clone()
    for t in scheduler.timesteps.tolist():
        eps = exact_eps(scheduler, x, t)
        if prediction == "v_prediction":
            acp = scheduler.alphas_cumprod.double()[t]
            a, s = acp.sqrt(), (1 - acp).sqrt()
            out = a * eps - s * (x - s * eps) / a
        elif prediction == "sample":
            acp = scheduler.alphas_cumprod.double()[t]
            out = (x - (1 - acp).sqrt() * eps) / acp.sqrt()
        else:
            out = eps
        x, _ = scheduler.step(out, t, x)
    return x


@pytest.fixture(scope="module")
def x_T():
    return torch.randn(2048, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def ddim_reference(x_T):
    """Many-step (1000) DDIM on the exact eps: the probability-flow ODE solution to ~0.5 % of STD."""
    return solve(get_scheduler("ddim", **SCHED), 1000, x_T)


def rel_rms(a, b):
    return float(((a - b) ** 2).mean().sqrt()) / STD


def test_ddim_reference_matches_closed_form(x_T, ddim_reference):
    """Sanity of the toy: the ODE maps x_T to MU + STD * (x_T - a_T MU) / sqrt(a_T^2 STD^2 + s_T^2)."""
    acp = get_scheduler("ddim", **SCHED).alphas_cumprod.double()[T - 1]
    exact = MU + STD * (x_T - acp.sqrt() * MU) / (acp * STD**2 + 1 - acp).sqrt()
    assert rel_rms(ddim_reference, exact) < 0.01


@pytest.mark.parametrize("steps, tol", [(10, 0.05), (20, 0.03)])
def test_dpmpp_2m_agrees_with_many_step_ddim(x_T, ddim_reference, steps, tol):
    ours = solve(DPMSolverMultistepScheduler(**SCHED), steps, x_T)
    assert rel_rms(ours, ddim_reference) < tol
    # and it beats MONAI's DDIM with the same number of model evaluations
    ddim = solve(get_scheduler("ddim", **SCHED), steps, x_T)
    assert rel_rms(ours, ddim_reference) < 0.5 * rel_rms(ddim, ddim_reference)


def test_second_order_beats_first_order(x_T, ddim_reference):
    first = solve(DPMSolverMultistepScheduler(solver_order=1, **SCHED), 20, x_T)
    second = solve(DPMSolverMultistepScheduler(solver_order=2, **SCHED), 20, x_T)
    assert rel_rms(second, ddim_reference) < 0.5 * rel_rms(first, ddim_reference)


def test_first_order_equals_ddim_on_the_full_grid(x_T, ddim_reference):
    """DPM-Solver++(1) is DDIM: on all 1000 training timesteps both give the same chain."""
    ours = solve(DPMSolverMultistepScheduler(solver_order=1, timestep_spacing="linspace", **SCHED), 1000, x_T)
    torch.testing.assert_close(ours, ddim_reference, atol=1e-6, rtol=0)


@pytest.mark.parametrize("prediction", ["v_prediction", "sample"])
def test_prediction_types_agree(x_T, prediction):
    eps = solve(DPMSolverMultistepScheduler(**SCHED), 10, x_T)
    other = solve(DPMSolverMultistepScheduler(prediction_type=prediction, **SCHED), 10, x_T, prediction)
    torch.testing.assert_close(other, eps, atol=1e-9, rtol=0)


def test_timesteps_cover_training_range():
    sched = DPMSolverMultistepScheduler(**SCHED)
    for spacing in ("logsnr", "linspace"):
        sched = DPMSolverMultistepScheduler(timestep_spacing=spacing, **SCHED)
        sched.set_timesteps(15)
        ts = sched.timesteps.tolist()
        assert ts[0] == T - 1 and ts[-1] == 0 and len(ts) == 15 == sched.num_inference_steps
        assert all(a > b for a, b in zip(ts, ts[1:]))
        assert sched.timesteps.dtype == torch.long
    sched.set_timesteps(1000)  # rounding repeats are dropped, never duplicated
    assert len(set(sched.timesteps.tolist())) == sched.num_inference_steps


def test_trailing_grid_is_nested_and_ends_above_zero():
    assert trailing_timesteps(T, 10).tolist() == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    for n in (3, 5, 8, 20):
        coarse, fine = trailing_timesteps(T, n), trailing_timesteps(T, 4 * n)
        assert coarse.tolist() == fine[::4].tolist()  # every 4th point of the finer grid: nested
        assert coarse[0] == T - 1 and all(a > b for a, b in zip(coarse, coarse[1:]))
    sched = DPMSolverMultistepScheduler(timestep_spacing="trailing", **SCHED)
    sched.set_timesteps(10)
    assert sched.timesteps.tolist() == trailing_timesteps(T, 10).tolist()
    with pytest.raises(ValueError, match="num_inference_steps"):
        trailing_timesteps(T, 0)


def test_trailing_ddim_converges_on_toy(x_T):
    # first order on the trailing grid is DDIM whose last step jumps from T/N - 1 to the clean sample
    ref = solve(DPMSolverMultistepScheduler(solver_order=1, timestep_spacing="linspace", **SCHED), 1000, x_T)
    errs = [
        float((solve(DPMSolverMultistepScheduler(solver_order=1, timestep_spacing="trailing", **SCHED), n, x_T) - ref)
              .pow(2).mean().sqrt())
        for n in (5, 20, 100)
    ]  # fmt: skip
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.02


def test_step_returns_prev_and_x0_and_restarts():
    sched = DPMSolverMultistepScheduler(**SCHED)
    sched.set_timesteps(4)
    x = torch.randn(2, 3, 4, 4)
    t0 = int(sched.timesteps[0])
    prev, x0 = sched.step(torch.zeros_like(x), t0, x)
    acp = sched.alphas_cumprod.double()[t0]
    torch.testing.assert_close(x0, (x / acp.sqrt()).float())  # eps=0 -> x0 = x / alpha
    assert prev.shape == x.shape
    # asking for the first timestep again restarts the chain at first order (same result)
    prev2, _ = sched.step(torch.zeros_like(x), t0, x)
    torch.testing.assert_close(prev2, prev)
    for t in sched.timesteps[1:].tolist():
        sched.step(torch.zeros_like(x), t, x)
    with pytest.raises(ValueError, match="all 4 steps"):
        sched.step(torch.zeros_like(x), torch.tensor(0), x)
    with pytest.raises(ValueError, match="timestep 5 is not"):
        sched.step(torch.zeros_like(x), 5, x)


def test_is_a_monai_scheduler_with_add_noise():
    sched = DPMSolverMultistepScheduler(**SCHED)
    assert isinstance(sched, Scheduler)
    ddpm = get_scheduler("ddpm", **SCHED)
    x, n, t = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4), torch.tensor([3, 700])
    torch.testing.assert_close(sched.add_noise(x, n, t), ddpm.add_noise(x, n, t))


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"solver_order": 3}, "solver_order must be 1 or 2, got 3"),
        ({"prediction_type": "noise"}, "prediction_type"),
        ({"timestep_spacing": "karras"}, "timestep_spacing"),
    ],
)
def test_constructor_errors(kw, match):
    with pytest.raises(ValueError, match=f"DPMSolverMultistepScheduler: {match}"):
        DPMSolverMultistepScheduler(**kw)


def test_set_timesteps_errors():
    sched = DPMSolverMultistepScheduler(num_train_timesteps=10)
    with pytest.raises(ValueError, match="num_inference_steps must be in"):
        sched.set_timesteps(11)
    with pytest.raises(ValueError, match="num_inference_steps must be in"):
        sched.set_timesteps(0)


def test_clip_sample():
    sched = DPMSolverMultistepScheduler(clip_sample=True, **SCHED)
    sched.set_timesteps(3)
    _, x0 = sched.step(torch.full((1, 4), -50.0), int(sched.timesteps[0]), torch.zeros(1, 4))
    assert float(x0.max()) <= 1.0 and float(x0.min()) >= -1.0


def test_clip_schedule_interpolates_in_sigma():
    sched = DPMSolverMultistepScheduler(
        clip_sample=True, clip_sample_min=-2.0, clip_sample_max=2.0, clip_sample_range_end=(-4.0, 4.0), **SCHED
    )
    sched.set_timesteps(5)
    assert len(sched.clip_ranges) == sched.num_inference_steps
    for (lo, hi), sigma in zip(sched.clip_ranges, sched._sigma[:-1]):
        assert hi == pytest.approx(4.0 - 2.0 * sigma) and lo == pytest.approx(-hi)
    his = [hi for _, hi in sched.clip_ranges]
    assert his == sorted(his) and his[0] < 2.1 and his[-1] > 3.5  # tight at pure noise, loose at the clean end
    # the first step clamps to the tight range, the last to the loose one
    sched.set_timesteps(5)
    x = torch.zeros(1, 4)
    _, x0 = sched.step(torch.full((1, 4), -50.0), int(sched.timesteps[0]), x)
    assert float(x0.max()) == pytest.approx(sched.clip_ranges[0][1], abs=1e-6)
    for t in sched.timesteps[1:-1].tolist():
        x, _ = sched.step(torch.zeros(1, 4), int(t), x)
    _, x0 = sched.step(torch.full((1, 4), -1e4), int(sched.timesteps[-1]), torch.zeros(1, 4))
    assert float(x0.max()) == pytest.approx(sched.clip_ranges[-1][1], abs=1e-5) and float(x0.max()) > 3.5


def test_clip_schedule_with_equal_ends_is_the_constant_clamp():
    out = []
    for end in (None, (-1.5, 1.5)):
        sched = DPMSolverMultistepScheduler(
            clip_sample=True, clip_sample_min=-1.5, clip_sample_max=1.5, clip_sample_range_end=end, **SCHED
        )
        sched.set_timesteps(6)
        x = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
        for t in sched.timesteps.tolist():
            x, _ = sched.step(3.0 * torch.sin(x * 7.0), int(t), x)
        out.append(x)
    torch.testing.assert_close(out[0], out[1], atol=0, rtol=0)


@pytest.mark.parametrize("end", [(1.0,), (2.0, -2.0), "ab", 3.0])
def test_clip_schedule_errors(end):
    with pytest.raises(ValueError, match="DPMSolverMultistepScheduler: clip_sample_range_end must"):
        DPMSolverMultistepScheduler(clip_sample=True, clip_sample_range_end=end)
