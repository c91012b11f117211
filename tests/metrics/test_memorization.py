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
