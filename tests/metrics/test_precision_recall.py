from __future__ import annotations

import numpy as np
import pytest

from monai_medienet.metrics import knn_radii, precision_recall, realism_score


def test_identical_sets_full_precision_recall():
    f = np.random.default_rng(0).normal(size=(100, 8))
    out = precision_recall(f, f, k=3)
    assert out["precision"] == 1.0 and out["recall"] == 1.0


def test_disjoint_sets_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(100, 8))
    b = rng.normal(size=(100, 8)) + 100.0
    out = precision_recall(a, b, k=3)
    assert out["precision"] == 0.0 and out["recall"] == 0.0


def test_mode_collapse_high_precision_low_recall():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 2))
    fake = rng.normal(scale=0.05, size=(300, 2))  # collapsed near the centre of the real data
    out = precision_recall(real, fake, k=3)
    assert out["precision"] > 0.9 and out["recall"] < 0.3


def test_errors():
    with pytest.raises(ValueError, match="knn_radii"):
        knn_radii(np.zeros((3, 2)), k=3)
    with pytest.raises(ValueError, match="precision_recall"):
        precision_recall(np.zeros((10, 2)), np.zeros((10, 3)))


def test_realism_score_ranks_typical_above_outliers():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 4))
    typical = rng.normal(scale=0.3, size=(50, 4))
    outliers = rng.normal(size=(50, 4)) + 8.0
    r = realism_score(real, np.concatenate([typical, outliers]), k=3)
    assert r.shape == (100,) and np.all(r >= 0)
    assert np.min(r[:50]) > np.max(r[50:])
    assert np.mean(r[:50] >= 1.0) > 0.9 and np.all(r[50:] < 1.0)  # >= 1 <=> inside the (pruned) real manifold


def test_realism_score_exact_copy_is_huge_and_pruning():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(100, 3))
    assert realism_score(real, real[:1], k=3, prune_quantile=1.0)[0] > 1e3  # inf, or cdist's rounding
    probe = rng.normal(size=(20, 3))
    # pruning removes balls, so scores can only fall
    assert np.all(realism_score(real, probe, prune_quantile=0.5) <= realism_score(real, probe, prune_quantile=1.0))
    with pytest.raises(ValueError, match="prune_quantile"):
        realism_score(real, probe, prune_quantile=0.0)
    with pytest.raises(ValueError, match="realism_score"):
        realism_score(real, np.zeros((2, 4)))
