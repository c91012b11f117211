"""get_scheduler: names, shared schedule, defaults and errors."""

from __future__ import annotations

import pytest
import torch
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler

from monai_medienet.schedulers import SCHEDULER_NAMES, DPMSolverMultistepScheduler, get_scheduler


def test_names_and_types():
    assert isinstance(get_scheduler("ddpm"), DDPMScheduler)
    assert isinstance(get_scheduler("DDIM"), DDIMScheduler)
    s2 = get_scheduler("dpmpp_2m")
    s1 = get_scheduler("dpmpp_1")
    assert isinstance(s2, DPMSolverMultistepScheduler) and s2.solver_order == 2 and s1.solver_order == 1
    assert set(SCHEDULER_NAMES) == {"ddpm", "ddim", "dpmpp_2m", "dpmpp_1"}


def test_all_share_the_noise_schedule_and_no_clipping():
    scheds = [get_scheduler(n, num_train_timesteps=200) for n in SCHEDULER_NAMES]
    for s in scheds[1:]:
        torch.testing.assert_close(s.alphas_cumprod, scheds[0].alphas_cumprod)
    assert all(not s.clip_sample for s in scheds)
    # LDM betas by default for *_beta schedules, explicit values win
    assert float(scheds[0].betas[0]) == pytest.approx(0.0015)
    assert float(get_scheduler("ddim", beta_start=1e-4).betas[0]) == pytest.approx(1e-4)
    cos = get_scheduler("dpmpp_2m", schedule="cosine", num_train_timesteps=100)
    assert cos.alphas_cumprod.shape == (100,)


def test_prediction_type_passed():
    assert get_scheduler("ddim", prediction_type="v_prediction").prediction_type == "v_prediction"
    assert get_scheduler("dpmpp_2m", prediction_type="v_prediction").prediction_type == "v_prediction"


def test_unknown_name():
    with pytest.raises(ValueError, match="get_scheduler: name must be one of .* got 'euler'"):
        get_scheduler("euler")
