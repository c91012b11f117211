from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from monai_medienet.metrics import DataCopyingTest, data_copying_test, kmeans
from monai_medienet.metrics.data_copying import _mann_whitney_z


def _mixture(n, rng, dim=8):
    centres = np.stack([np.full(dim, -3.0), np.zeros(dim), np.full(dim, 3.0)])
    return centres[rng.integers(0, 3, n)] + rng.normal(size=(n, dim))


def test_mann_whitney_z_uses_scipys_u_statistic():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=40), rng.normal(0.5, 1.0, size=60)
    a[:5] = b[:5]  # ties
    u = mannwhitneyu(a, b).statistic  # U of the first sample: #{a > b} + ties / 2
    assert _mann_whitney_z(a, b) == pytest.approx((u - 40 * 60 / 2) / np.sqrt(40 * 60 * 101 / 12))
    assert _mann_whitney_z(a - 10, b) < -8  # all generated distances smaller -> strongly negative


def test_kmeans_recovers_separated_blobs_and_is_seeded():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(c, 0.1, size=(30, 2)) for c in (-5.0, 0.0, 5.0)])
    centres, labels = kmeans(x, 3, seed=0)
    assert centres.shape == (3, 2)
    for blob in range(3):  # every blob is one cluster
        assert len(set(labels[blob * 30 : (blob + 1) * 30])) == 1
    assert len(set(labels)) == 3
    np.testing.assert_array_equal(labels, kmeans(x, 3, seed=0)[1])
    with pytest.raises(ValueError, match="num_clusters"):
        kmeans(x, 0)
    with pytest.raises(ValueError, match="num_clusters"):
        kmeans(x, 91)


def test_data_copying_reads_copying_neither_and_underfitting():
    rng = np.random.default_rng(2)
    train, heldout = _mixture(600, rng), _mixture(600, rng)
    fresh = _mixture(600, rng)
    copies = train[rng.integers(0, 600, 600)] + rng.normal(scale=0.05, size=(600, 8))
    blurred = fresh + rng.normal(scale=1.0, size=(600, 8))  # off the data manifold

    res_copy = data_copying_test(copies, train, heldout, num_cells=6)
    res_fresh = data_copying_test(fresh, train, heldout, num_cells=6)
    res_far = data_copying_test(blurred, train, heldout, num_cells=6)
    assert res_copy.c_t < -3 and res_copy.verdict == "copying"
    assert res_copy.global_auc < 0.1 and abs(res_fresh.global_auc - 0.5) < 0.05 and res_far.global_auc > 0.7
    assert abs(res_fresh.c_t) < 3 and res_fresh.verdict == "neither"
    assert res_far.c_t > 3 and res_far.verdict == "underfitting"
    assert res_fresh.num_cells == 6 and 1 <= res_fresh.num_cells_used <= 6
    assert sum(res_fresh.cell_heldout_fraction) == pytest.approx(res_fresh.heldout_mass_used)
    summary = res_copy.summary()
    assert summary["verdict"] == "copying" and len(summary["cell_z"]) == summary["num_cells_used"]
    # images work too (flattened), and the default cell count follows the set sizes
    as_img = [a.reshape(600, 2, 2, 2) for a in (copies, train, heldout)]
    res_img = data_copying_test(*as_img)
    assert res_img.num_cells == 12 and res_img.c_t < -3


def test_data_copying_without_qualifying_cells_and_bad_arguments():
    rng = np.random.default_rng(3)
    train, heldout, gen = _mixture(50, rng), _mixture(30, rng), _mixture(30, rng)
    res = data_copying_test(gen, train, heldout, num_cells=2, min_per_cell=40)
    assert np.isnan(res.c_t) and res.num_cells_used == 0 and res.verdict == "undetermined"
    with pytest.raises(ValueError, match="min_per_cell"):
        data_copying_test(gen, train, heldout, min_per_cell=0)
    with pytest.raises(ValueError, match="num_cells"):
        data_copying_test(gen, train, heldout, num_cells=51)
    with pytest.raises(ValueError, match=">= 2 samples"):
        data_copying_test(gen[:1], train, heldout)
    with pytest.raises(ValueError, match=">= 2 samples"):
        DataCopyingTest(train, heldout[:1])
    with pytest.raises(ValueError, match="must have the same shape"):
        DataCopyingTest(train, heldout[:, :1])
    with pytest.raises(ValueError, match="differ from the training samples"):
        DataCopyingTest(train, heldout)(gen[:, :1])


def test_reusable_reference_gives_the_one_shot_results():
    # the selection scores every snapshot against one DataCopyingTest: same numbers as one call per set
    rng = np.random.default_rng(5)
    train, heldout = _mixture(300, rng), _mixture(200, rng)
    test = DataCopyingTest(train, heldout, num_cells=4)
    for gen in (_mixture(200, rng), train[:200] + 0.01, _mixture(200, rng) * 1.5):
        assert test(gen) == data_copying_test(gen, train, heldout, num_cells=4)
