from __future__ import annotations

import numpy as np
import pytest

from monai_medienet.metrics import knn_radii, precision_recall


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
