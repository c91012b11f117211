"""get_diffusion_loss: names map to torch's losses with the right values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from monai_medienet.losses import DIFFUSION_LOSS_NAMES, get_diffusion_loss


def test_names_and_values():
    pred, target = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    assert set(DIFFUSION_LOSS_NAMES) == {"l2", "l1", "huber"}
    assert isinstance(get_diffusion_loss(), torch.nn.MSELoss)
    torch.testing.assert_close(get_diffusion_loss("l2")(pred, target), F.mse_loss(pred, target))
    torch.testing.assert_close(get_diffusion_loss("L1")(pred, target), F.l1_loss(pred, target))
    torch.testing.assert_close(
        get_diffusion_loss("huber", delta=0.1)(pred, target), F.huber_loss(pred, target, delta=0.1)
    )
    assert get_diffusion_loss("l2", reduction="none")(pred, target).shape == pred.shape


def test_unknown_name():
    with pytest.raises(ValueError, match="get_diffusion_loss: name must be one of .* got 'ssim'"):
        get_diffusion_loss("ssim")
