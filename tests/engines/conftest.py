"""Fixtures shared by the engine tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from monai_medienet.networks import MedIENetUNet


@pytest.fixture
def tiny_class_unet() -> Callable[[int], MedIENetUNet]:
    """A factory of tiny seeded class-conditional MedIENet U-Nets (2 latent channels, 2 classes), in eval mode.

    MONAI zero-initialises output projections, so an untrained net would ignore the class: the weights get small
    seeded random offsets.
    """

    def make(seed: int = 0) -> MedIENetUNet:
        torch.manual_seed(seed)
        net = MedIENetUNet(
            spatial_dims=2, in_channels=2, out_channels=2, num_classes=2, channels=(8, 16),
            attention_levels=(False, True), num_res_blocks=1, num_head_channels=8, norm_num_groups=4,
        )  # fmt: skip
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.05 * torch.randn_like(p))
        return net.eval()

    return make
