from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from monai_medienet.evaluation import (
    adjust_for_multiplicity,
    binary_auroc,
    bootstrap_arm,
    bootstrap_ci,
    bootstrap_indices,
    bootstrap_ratio,
    classification_metrics,
    cross_entropy,
    generator_pooled_difference,
    holm_adjust,
    multiclass_auroc,
    paired_bootstrap_difference,
)


def test_auroc_perfect_inverted_random():
    y = np.array([0, 0, 1, 1, 0, 1])
    assert binary_auroc(y, y.astype(float)) == 1.0
    assert binary_auroc(y, -y.astype(float)) == 0.0
    assert binary_auroc(y, np.zeros(6)) == 0.5  # all ties
    rng = np.random.default_rng(0)
    yr = rng.integers(0, 2, 4000)
    assert abs(binary_auroc(yr, rng.random(4000)) - 0.5) < 0.03
    assert np.isnan(binary_auroc(np.ones(4), np.arange(4)))


def test_auroc_matches_sklearn_with_ties_and_multiclass():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300) + 0.3 * y, 1)  # many ties
    assert binary_auroc(y, s) == pytest.approx(roc_auc_score(y, s))
    y3 = rng.integers(0, 3, 300)
    p = rng.dirichlet(np.ones(3), 300) + np.eye(3)[y3] * 0.2
    p /= p.sum(1, keepdims=True)
    assert multiclass_auroc(y3, p) == pytest.approx(roc_auc_score(y3, p, multi_class="ovr", average="macro"))


def test_classification_metrics_by_hand():
    y = np.array([1, 1, 1, 0, 0])
    p1 = np.array([0.9, 0.8, 0.2, 0.1, 0.7])
    m = classification_metrics(y, np.stack([1 - p1, p1], 1))
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(1 / 2)
    assert m["auroc"] == pytest.approx(roc_auc_score(y, p1))
    with pytest.raises(ValueError, match="classification_metrics"):
        classification_metrics(y, p1)


def test_cross_entropy_by_hand_and_against_torch():
    import torch

    y = np.array([0, 1, 2, 1])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.5, 0.0]])
    assert cross_entropy(y, p) == pytest.approx(-np.mean(np.log([0.7, 0.8, 0.4, 0.5])))
    logits = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    ref = torch.nn.functional.cross_entropy(logits.double(), labels).item()
    assert cross_entropy(labels.numpy(), logits.double().softmax(1).numpy()) == pytest.approx(ref)
    assert np.isfinite(cross_entropy(np.array([0]), np.array([[0.0, 1.0]])))  # a zero probability is floored
    with pytest.raises(ValueError, match="cross_entropy"):
        cross_entropy(y, p[:3])
    with pytest.raises(ValueError, match="cross_entropy"):
        cross_entropy(np.array([0, 3, 1, 1]), p)


def test_bootstrap_indices_stratified_keeps_class_counts():
    y = np.array([0] * 7 + [1] * 3)
    idx = bootstrap_indices(10, 50, seed=0, strata=y)
    assert idx.shape == (50, 10)
    assert all((y[row] == 1).sum() == 3 for row in idx)
    with pytest.raises(ValueError, match="bootstrap_indices"):
        bootstrap_indices(0)


def test_bootstrap_ci_coverage_of_a_mean():
    # 200 toy data sets, each a 95% percentile CI of the mean: about 95% must cover the true mean 0.
    rng = np.random.default_rng(0)
    covered = 0
    for r in range(200):
        x = rng.normal(0.0, 1.0, size=60)
        ci = bootstrap_ci(lambda i, x=x: x[i].mean(), len(x), n_boot=400, seed=r)
        covered += ci["ci_low"] <= 0.0 <= ci["ci_high"]
    assert 0.88 <= covered / 200 <= 0.99


def test_bootstrap_ci_coverage_of_auroc():
    # binormal scores: true AUROC = Phi(d / sqrt(2))
    d, n = 1.0, 80
    truth = norm.cdf(d / np.sqrt(2))
    rng = np.random.default_rng(1)
    covered = 0
    for r in range(200):
        y = np.r_[np.zeros(n // 2), np.ones(n // 2)].astype(int)
        s = rng.normal(size=n) + d * y
        ci = bootstrap_ci(lambda i, y=y, s=s: binary_auroc(y[i], s[i]), n, n_boot=200, seed=r, strata=y)
        covered += ci["ci_low"] <= truth <= ci["ci_high"]
    assert 0.86 <= covered / 200 <= 0.99


def _probs(y, signal, rng):
    s = 1 / (1 + np.exp(-(rng.normal(size=len(y)) + signal * (2 * y - 1))))
    return np.stack([1 - s, s], 1)


def test_arm_and_paired_difference():
    rng = np.random.default_rng(0)
    y = np.array([0] * 50 + [1] * 50)
    good = [_probs(y, 2.0, rng) for _ in range(3)]
    weak = [_probs(y, 0.3, rng) for _ in range(3)]
    idx = bootstrap_indices(len(y), 300, seed=0, strata=y)
    arm = bootstrap_arm(y, good, indices=idx)
    a = arm["auroc"]
    assert a["ci_low"] <= a["mean"] <= a["ci_high"] and len(a["seed_values"]) == 3 and a["seed_std"] > 0
    diff = paired_bootstrap_difference(y, good, weak, indices=idx)["auroc"]
    assert diff["delta"] > 0 and diff["ci_low"] > 0 and diff["prob_le_0"] == 0.0
    same = paired_bootstrap_difference(y, good, good, indices=idx)["auroc"]
    assert same["delta"] == 0.0 and same["ci_low"] == 0.0 and same["ci_high"] == 0.0
    with pytest.raises(ValueError, match="seeds must pair"):
        paired_bootstrap_difference(y, good, weak[:2], indices=idx)
    with pytest.raises(ValueError, match="bootstrap_arm"):
        bootstrap_arm(y[:10], good, indices=idx)


def test_two_level_interval_covers_the_seed_to_seed_spread():
    # every training run (seed) has its own quality, the population difference is 0: holding the seeds fixed, the
    # interval misses 0 most of the time; resampling the seed pairs too, it covers 0 about as often as it should
    # (somewhat less with 10 seeds: a bootstrap of S seeds has (S - 1) / S of their variance)
    rng = np.random.default_rng(0)
    y = np.array([0] * 100 + [1] * 100)
    fixed = two_level = 0
    for r in range(60):
        a = [_probs(y, 1.0 + 0.5 * rng.normal(), rng) for _ in range(10)]
        b = [_probs(y, 1.0 + 0.5 * rng.normal(), rng) for _ in range(10)]
        d = paired_bootstrap_difference(y, a, b, indices=bootstrap_indices(len(y), 200, seed=r, strata=y))["auroc"]
        fixed += d["ci_low"] <= 0.0 <= d["ci_high"]
        two_level += d["ci_low_seeds"] <= 0.0 <= d["ci_high_seeds"]
        assert d["ci_low_seeds"] <= d["delta"] <= d["ci_high_seeds"]
    assert fixed / 60 <= 0.5 and two_level / 60 >= 0.75


def test_two_level_interval_edge_cases():
    rng = np.random.default_rng(1)
    y = np.array([0] * 40 + [1] * 40)
    idx = bootstrap_indices(len(y), 200, seed=0, strata=y)
    a, b = _probs(y, 1.5, rng), _probs(y, 0.5, rng)
    # identical seeds: nothing to resample, the two intervals agree
    d = paired_bootstrap_difference(y, [a] * 4, [b] * 4, indices=idx)["auroc"]
    assert d["ci_low_seeds"] == pytest.approx(d["ci_low"]) and d["ci_high_seeds"] == pytest.approx(d["ci_high"])
    assert d["prob_le_0_seeds"] == pytest.approx(d["prob_le_0"])
    # one seed: the seed-to-seed spread is unknown, so there is no two-level interval
    one = paired_bootstrap_difference(y, [a], [b], indices=idx)
    assert all(one[m]["ci_low_seeds"] is None and one[m]["prob_le_0_seeds"] is None for m in one)
    deltas = {"A - B": one, "C - B": paired_bootstrap_difference(y, [b], [a], indices=idx)}
    adjust_for_multiplicity(deltas)  # no seed-level P to adjust: left out, the seed-fixed P still adjusted
    assert "p_holm_seeds" not in deltas["C - B"]["auroc"] and deltas["C - B"]["auroc"]["p_holm"] is not None
    two = {n: paired_bootstrap_difference(y, [a, b], [b, a], indices=idx) for n in ("A - B", "C - B")}
    adjust_for_multiplicity(two, primary="A - B")
    assert two["A - B"]["auroc"]["p_holm_seeds"] is None and two["C - B"]["auroc"]["p_holm_seeds"] is not None


def test_holm_adjust_by_hand():
    # sorted 0.01, 0.02, 0.04 with m = 3: 0.03, max(0.03, 0.04), max(0.04, 0.04)
    np.testing.assert_allclose(holm_adjust([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(holm_adjust([0.3, 0.5]), [0.6, 0.6])  # monotone and capped
    np.testing.assert_allclose(holm_adjust([0.9, 0.8]), [1.0, 1.0])
    assert holm_adjust([0.02]) == [0.02] and holm_adjust([]) == []
    with pytest.raises(ValueError, match="holm_adjust"):
        holm_adjust([0.1, 1.2])


def test_adjust_for_multiplicity_primary_keeps_raw_p():
    def d(p):
        return {"auroc": {"prob_le_0": p}, "accuracy": {"prob_le_0": p / 2}}

    deltas = {"A - B": d(0.02), "C - B": d(0.01), "D - B": d(0.3)}
    info = adjust_for_multiplicity(deltas, primary="A - B")
    assert info["primary"] == "A - B" and info["family"] == ["C - B", "D - B"]
    assert deltas["A - B"]["auroc"]["p_holm"] is None and deltas["A - B"]["auroc"]["prob_le_0"] == 0.02
    assert deltas["C - B"]["auroc"]["p_holm"] == pytest.approx(0.02)
    assert deltas["D - B"]["accuracy"]["p_holm"] == pytest.approx(0.15)  # adjusted per metric
    info = adjust_for_multiplicity(deltas)
    assert info["primary"] is None and deltas["A - B"]["auroc"]["p_holm"] == pytest.approx(0.04)
    with pytest.raises(ValueError, match="primary"):
        adjust_for_multiplicity(deltas, primary="E - B")


@pytest.mark.filterwarnings("ignore:Mean of empty slice")  # the reference path on a one-image resample
@pytest.mark.parametrize("num_classes", [2, 4])
def test_vectorised_resample_metrics_equal_the_per_resample_loop(num_classes):
    """The count-based bootstrap metrics equal classification_metrics on each resample (ties, missing classes)."""
    from monai_medienet.evaluation.stats import METRIC_NAMES, _metric_samples

    rng = np.random.default_rng(num_classes)
    labels = rng.integers(0, num_classes, 40)
    labels[0] = num_classes - 1
    probs = [np.round(rng.dirichlet(np.ones(num_classes), size=40), 1) for _ in range(2)]  # rounding: many ties
    idx = rng.integers(0, 40, size=(50, 40))
    idx[0] = 3  # a resample of one image: one class only, AUROC / sensitivity or specificity undefined
    fast = _metric_samples(labels, probs, idx, chunk=16)
    slow = np.array([[[classification_metrics(labels[i], p[i])[m] for m in METRIC_NAMES] for p in probs] for i in idx])
    assert np.array_equal(np.isnan(fast), np.isnan(slow)) and np.isnan(fast[0, :, 0]).all()
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_generator_pooled_difference_with_one_generator_is_the_paired_difference():
    rng = np.random.default_rng(2)
    y = np.array([0] * 60 + [1] * 60)
    idx = bootstrap_indices(len(y), 300, seed=0, strata=y)
    a = [_probs(y, 1.5, rng) for _ in range(4)]
    b = [_probs(y, 1.0, rng) for _ in range(4)]
    paired = paired_bootstrap_difference(y, a, b, indices=idx)
    for gens in ([a], [a, a, a]):  # copies of one generator: nothing between generators to resample
        pooled = generator_pooled_difference(y, gens, b, indices=idx)
        for m in pooled:
            assert pooled[m]["delta"] == pytest.approx(paired[m]["delta"])
            assert pooled[m]["generator_deltas"] == pytest.approx([paired[m]["delta"]] * len(gens))
            assert pooled[m]["ci_low_images"] == pytest.approx(paired[m]["ci_low"])
            assert pooled[m]["ci_high_images"] == pytest.approx(paired[m]["ci_high"])
            assert pooled[m]["ci_low"] <= pooled[m]["delta"] <= pooled[m]["ci_high"]
    with pytest.raises(ValueError, match="at least one generator"):
        generator_pooled_difference(y, [], b, indices=idx)
    with pytest.raises(ValueError, match="generator 1 has 3 prediction sets and its baseline 4"):
        generator_pooled_difference(y, [a, a[:3]], b, indices=idx)
    # each generator against its own baseline (e.g. screened vs unscreened pool): the mean of the paired differences
    c = [_probs(y, 0.5, rng) for _ in range(4)]
    own = generator_pooled_difference(y, [a, b], [b, c], indices=idx)["auroc"]
    expected = [paired_bootstrap_difference(y, a, b, indices=idx), paired_bootstrap_difference(y, b, c, indices=idx)]
    assert own["generator_deltas"] == pytest.approx([e["auroc"]["delta"] for e in expected])
    assert own["delta"] == pytest.approx(np.mean(own["generator_deltas"]))
    mean_fixed = np.mean([[e["auroc"]["ci_low"], e["auroc"]["ci_high"]] for e in expected], axis=0)
    assert own["ci_low_images"] <= mean_fixed[1] and own["ci_high_images"] >= mean_fixed[0]
    with pytest.raises(ValueError, match="1 baselines given for 2 generators"):
        generator_pooled_difference(y, [a, b], [b], indices=idx)


def test_generator_pooled_interval_covers_the_generator_to_generator_spread():
    # every generator has its own effect (population mean 0) and seeds vary too: with the generators and seeds held
    # fixed the interval misses 0 most of the time; the three-level interval covers it about as often as it should
    # (less than 95 %: a bootstrap of G generators has (G - 1) / G of their variance)
    rng = np.random.default_rng(3)
    y = np.array([0] * 80 + [1] * 80)
    images_only = three_level = 0
    reps = 40
    for r in range(reps):
        b = [_probs(y, 1.0 + 0.1 * rng.normal(), rng) for _ in range(3)]
        gens = []
        for _ in range(6):
            quality = 1.0 + 0.6 * rng.normal()
            gens.append([_probs(y, max(quality + 0.1 * rng.normal(), 0.05), rng) for _ in range(3)])
        idx = bootstrap_indices(len(y), 200, seed=r, strata=y)
        d = generator_pooled_difference(y, gens, b, indices=idx, seed=r)["auroc"]
        images_only += d["ci_low_images"] <= 0.0 <= d["ci_high_images"]
        three_level += d["ci_low"] <= 0.0 <= d["ci_high"]
        assert d["ci_high"] - d["ci_low"] > d["ci_high_images"] - d["ci_low_images"]
    assert images_only / reps <= 0.5 and three_level / reps >= 0.7


def test_bootstrap_ratio_of_two_arms():
    rng = np.random.default_rng(3)
    y = np.array([0] * 60 + [1] * 60)
    idx = bootstrap_indices(len(y), 300, seed=0, strata=y)
    good = [_probs(y, 2.0, rng) for _ in range(4)]
    weak = [_probs(y, 0.5, rng) for _ in range(3)]  # seeds need not pair: another count
    same = bootstrap_ratio(y, good, good, indices=idx)["auroc"]
    assert same["ratio"] == 1.0 and same["ci_low_images"] == pytest.approx(1.0) == same["ci_high_images"]
    assert same["ci_low"] <= 1.0 <= same["ci_high"] and same["generator_ratios"] == [1.0]
    r = bootstrap_ratio(y, weak, good, threshold=0.95, indices=idx)
    au = r["auroc"]
    mean = lambda ps: np.mean([binary_auroc(y, p[:, 1]) for p in ps])  # noqa: E731
    assert au["a"] == pytest.approx(mean(weak)) and au["b"] == pytest.approx(mean(good))
    assert au["ratio"] == pytest.approx(mean(weak) / mean(good)) and au["ratio"] < 0.9
    assert au["ci_low"] <= au["ratio"] <= au["ci_high"] < 0.95 and au["prob_below"] == 1.0
    assert au["ci_low"] <= au["ci_low_images"] and au["threshold"] == 0.95 and set(r) >= {"accuracy", "specificity"}
    # a numerator pooled over generators: the mean of the generators' means; one generator is the plain ratio
    pooled = bootstrap_ratio(y, [weak, good], good, indices=idx)["auroc"]
    assert pooled["generator_ratios"] == pytest.approx([au["ratio"], 1.0])
    assert pooled["ratio"] == pytest.approx((au["ratio"] + 1.0) / 2)
    one = bootstrap_ratio(y, [weak], good, indices=idx)["auroc"]
    assert one["ratio"] == au["ratio"] and one["ci_low_images"] == au["ci_low_images"]
    with pytest.raises(ValueError, match="bootstrap_ratio: threshold must be > 0, got 0"):
        bootstrap_ratio(y, weak, good, threshold=0)
    with pytest.raises(ValueError, match="bootstrap_ratio: predictions of shape"):
        bootstrap_ratio(y[:10], weak, good)
    with pytest.raises(ValueError, match="bootstrap_ratio: need predictions"):
        bootstrap_ratio(y, weak, [])
