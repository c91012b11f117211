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
