from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_medienet.metrics import memorization_check, nearest_neighbours


def test_nearest_neighbours():
    ref = torch.eye(4).reshape(4, 1, 2, 2)
    q = ref[[2, 0]] + 0.01
    d, i = nearest_neighbours(q, ref)
    assert list(i) == [2, 0] and np.all(d < 0.05)


def test_exact_copy_flagged():
    g = torch.Generator().manual_seed(0)
    train = torch.rand(30, 1, 8, 8, generator=g)
    test = torch.rand(20, 1, 8, 8, generator=g)
    syn = torch.rand(10, 1, 8, 8, generator=g)
    syn[3] = train[7]
    res = memorization_check(syn, train, test, percentile=5)
    assert 3 in res.flagged_indices and res.exact_copy_indices == [3]
    assert res.syn_nn_index[3] == 7
    s = res.summary()
    assert s["num_exact_copies"] == 1 and s["num_synthetic"] == 10 and 0.0 < s["fraction_below"] <= 1.0


def test_bad_percentile():
    with pytest.raises(ValueError, match="percentile"):
        memorization_check(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)), percentile=0)


def test_near_copy_filter_matches_memorization_check():
    from monai_medienet.metrics import NearCopyFilter

    g = torch.Generator().manual_seed(1)
    train = torch.rand(40, 1, 6, 6, generator=g)
    heldout = torch.rand(25, 1, 6, 6, generator=g)
    syn = torch.cat([torch.rand(12, 1, 6, 6, generator=g), train[:3] + 1e-4])
    screen = NearCopyFilter(train, heldout, percentile=10.0)
    d, _ = nearest_neighbours(heldout, train)
    assert screen.threshold == pytest.approx(float(np.percentile(d, 10.0)))
    flags = screen(syn)
    assert flags.shape == (15,) and flags[12:].all()  # the three near-identical copies
    res = memorization_check(syn, train, heldout, percentile=10.0)
    assert res.flagged_indices == np.flatnonzero(flags).tolist() and res.threshold == screen.threshold
    with pytest.raises(ValueError, match="percentile"):
        NearCopyFilter(train, heldout, percentile=100)
    with pytest.raises(ValueError, match="exact_tol"):
        NearCopyFilter(train, heldout, exact_tol=-1.0)
    with pytest.raises(ValueError, match=r"NearCopyFilter: images of shape \(1, 5, 5\)"):
        screen(torch.rand(2, 1, 5, 5))


def test_near_copy_filter_in_feature_space():
    """A copy with high-frequency noise added is far in pixels but near in pooled features: only the feature screen
    flags it; features are computed once for the training images and per call for the screened ones."""
    from monai_medienet.metrics import NearCopyFilter

    g = torch.Generator().manual_seed(2)
    # images whose content lives at a 4x4-pixel scale, values in [0.3, 0.7]
    train = torch.nn.functional.interpolate(0.3 + 0.4 * torch.rand(40, 1, 2, 2, generator=g), size=(8, 8))
    heldout = torch.nn.functional.interpolate(0.3 + 0.4 * torch.rand(25, 1, 2, 2, generator=g), size=(8, 8))
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2 * 2.0 - 1.0  # +-1, zero mean per 4x4 cell
    syn = torch.cat([train[:2] + 0.25 * checker, heldout[:1]])  # two noisy copies, one new image
    pool = torch.nn.Sequential(torch.nn.AvgPool2d(4), torch.nn.Flatten())
    pixel = NearCopyFilter(train, heldout, percentile=5.0)
    feature = NearCopyFilter(train, heldout, percentile=5.0, feature_extractor=pool, batch_size=3)
    assert pixel.space_name == "pixel" and feature.space == "feature" and feature.space_name == "Sequential"
    assert feature.train.shape == (40, 4)  # training features stored once
    d_pix, _ = pixel.nearest(syn)
    d_feat, i_feat = feature.nearest(syn)
    assert list(i_feat[:2]) == [0, 1] and np.all(d_feat[:2] < 1e-6) and np.all(d_pix[:2] > pixel.threshold)
    assert feature(syn).tolist() == [True, True, False] and not pixel(syn).any()
    with pytest.raises(ValueError, match=r"NearCopyFilter: images of shape \(1, 4, 4\)"):
        feature(torch.rand(2, 1, 4, 4))
    with pytest.raises(ValueError, match="held-out images of shape"):
        NearCopyFilter(train, torch.rand(3, 1, 4, 4), feature_extractor=pool)
    with pytest.raises(ValueError, match="batch_size"):
        NearCopyFilter(train, heldout, feature_extractor=pool, batch_size=0)
