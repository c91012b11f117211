from __future__ import annotations

import pytest
import torch

from monai_medienet.metrics import ms_ssim_diversity, ms_ssim_settings


@pytest.mark.parametrize("size,scales,kernel", [(28, 3, 7), (64, 4, 7), (224, 5, 11)])
def test_settings_fit_size(size, scales, kernel):
    s = ms_ssim_settings(size)
    assert len(s["weights"]) == scales and s["kernel_size"] == kernel
    assert sum(s["weights"]) == pytest.approx(1.0)


def test_identical_images_have_ms_ssim_one_and_noise_is_diverse():
    img = torch.rand(1, 1, 28, 28)
    same = ms_ssim_diversity(img.repeat(5, 1, 1, 1), num_pairs=10)
    assert same["ms_ssim_mean"] == pytest.approx(1.0, abs=1e-4)
    noise = ms_ssim_diversity(torch.rand(20, 1, 28, 28), num_pairs=50, seed=1)
    assert noise["ms_ssim_mean"] < 0.5
    assert noise["num_pairs"] == 50 and noise["num_scales"] == 3


def test_errors():
    with pytest.raises(ValueError, match="ms_ssim_diversity"):
        ms_ssim_diversity(torch.rand(1, 1, 28, 28))
    with pytest.raises(ValueError, match="ms_ssim_settings"):
        ms_ssim_settings(2)
