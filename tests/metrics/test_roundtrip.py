"""AutoencoderRoundTrip: images through an autoencoder and back, as a space for near-copy screens."""

from __future__ import annotations

import pytest
import torch
from monai.networks.nets import AutoencoderKL

from monai_medienet.metrics import AutoencoderRoundTrip, NearCopyFilter


class BlurAutoencoder(torch.nn.Module):
    """A parameter-free 'autoencoder' that can only represent 2x2 block averages (its decoder blurs)."""

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.nn.functional.avg_pool2d(x, 2)
        return z, torch.zeros_like(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.interpolate(z, scale_factor=2, mode="nearest")


def _tiny_kl() -> AutoencoderKL:
    torch.manual_seed(0)
    return AutoencoderKL(
        spatial_dims=2, in_channels=1, out_channels=1, channels=(4, 4), latent_channels=2, num_res_blocks=(1, 1),
        attention_levels=(False, False), norm_num_groups=2,
    )  # fmt: skip


def test_round_trip_of_monai_autoencoder_kl_is_deterministic_and_frozen():
    ae = _tiny_kl().train()
    rt = AutoencoderRoundTrip(ae)
    x = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    a, b = rt(x), rt(x)
    assert a.shape == (3, 64) and torch.equal(a, b)  # the posterior mean, never a sample
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    expected = ae.decode(ae.encode(x)[0]).clamp(0, 1).flatten(1)
    torch.testing.assert_close(a, expected)
    assert not ae.training and not any(p.requires_grad for p in ae.parameters())
    rt.train()
    assert not rt.training and not ae.training
    unclamped = AutoencoderRoundTrip(ae, clamp=None, flatten=False)(x)
    assert unclamped.shape == (3, 1, 8, 8)
    torch.testing.assert_close(unclamped.clamp(0, 1).flatten(1), a)


def test_round_trip_errors():
    with pytest.raises(ValueError, match="AutoencoderRoundTrip: autoencoder must have encode"):
        AutoencoderRoundTrip(torch.nn.Identity())
    with pytest.raises(ValueError, match=r"AutoencoderRoundTrip: clamp must be \(lo, hi\)"):
        AutoencoderRoundTrip(BlurAutoencoder(), clamp=(1.0, 0.0))
    with pytest.raises(ValueError, match=r"AutoencoderRoundTrip: clamp must be \(lo, hi\)"):
        AutoencoderRoundTrip(BlurAutoencoder(), clamp=(0.0,))
    with pytest.raises(ValueError, match=r"maps images of shape \(1, 7, 7\) to \(1, 6, 6\)"):
        AutoencoderRoundTrip(BlurAutoencoder())(torch.rand(2, 1, 7, 7))


def test_round_trip_screen_finds_blurred_copies_the_pixel_screen_misses():
    """A generator that reproduces training images at its autoencoder's resolution: blurred copies."""
    g = torch.Generator().manual_seed(0)
    train = torch.rand(20, 1, 8, 8, generator=g)
    heldout = (train[:10] + 0.1 * torch.randn(10, 1, 8, 8, generator=g)).clamp(0, 1)
    ae = BlurAutoencoder()
    blurred_copies = ae.decode(ae.encode(train[[3, 11]])[0])
    fresh = ae.decode(ae.encode(torch.rand(4, 1, 8, 8, generator=g))[0])  # new images, equally blurred
    pool = torch.cat([blurred_copies, fresh])
    pixel = NearCopyFilter(train, heldout)
    round_trip = NearCopyFilter(train, heldout, feature_extractor=AutoencoderRoundTrip(ae))
    assert round_trip.space_name == "AutoencoderRoundTrip" and round_trip.train.shape == (20, 64)
    assert pixel(pool).tolist() == [False] * 6  # the blur puts every copy beyond the held-out distances
    assert round_trip(pool).tolist() == [True, True, False, False, False, False]
    assert round_trip.nearest(pool)[1][:2].tolist() == [3, 11]
