"""Per-class label fidelity of synthetic images under a real-data classifier."""

from __future__ import annotations

import numpy as np
import pytest

from monai_medienet.metrics import label_fidelity


def test_one_failing_class_is_singled_out():
    # class 0 synthetic images look like class 1 to the classifier (P(own) 0.2), class 1 ones are fine (0.9);
    # on real images the classifier does well for both classes
    p_sy = np.array([[0.2, 0.8]] * 4 + [[0.1, 0.9]] * 6)
    y_sy = np.array([0] * 4 + [1] * 6)
    p_re = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.4, 0.6]])
    y_re = np.array([0, 0, 1, 1])
    out = label_fidelity(p_sy, y_sy, ["normal", "pneumonia"], p_re, y_re)
    s, r = out["synthetic"], out["reference"]
    assert s["normal"]["n"] == 4 and s["normal"]["accuracy"] == 0.0 and s["normal"]["fraction_below_half"] == 1.0
    assert s["normal"]["mean_prob_own_label"] == pytest.approx(0.2)
    assert s["normal"]["predicted_fractions"] == [0.0, 1.0] and s["normal"]["mean_probs"] == pytest.approx([0.2, 0.8])
    assert s["pneumonia"]["accuracy"] == 1.0 and s["pneumonia"]["mean_prob_own_label"] == pytest.approx(0.9)
    assert r["normal"]["accuracy"] == 1.0 and r["normal"]["mean_prob_own_label"] == pytest.approx(0.8)
    assert r["pneumonia"]["mean_prob_own_label"] == pytest.approx(0.7)
    assert out["gap"]["normal"] == pytest.approx(-0.6) and out["gap"]["pneumonia"] == pytest.approx(0.2)


def test_missing_class_and_no_reference():
    out = label_fidelity(np.array([[0.3, 0.7]]), np.array([1]), ["a", "b"])
    assert out["synthetic"]["a"] == {"n": 0} and out["synthetic"]["b"]["accuracy"] == 1.0
    assert "reference" not in out and "gap" not in out


def test_errors():
    with pytest.raises(ValueError, match=r"synthetic probabilities must be \(N, 2\)"):
        label_fidelity(np.zeros((3, 3)), np.zeros(3), ["a", "b"])
    with pytest.raises(ValueError, match="synthetic labels must lie in"):
        label_fidelity(np.zeros((2, 2)), np.array([0, 2]), ["a", "b"])
    with pytest.raises(ValueError, match="both reference_probs and reference_labels"):
        label_fidelity(np.zeros((2, 2)), np.array([0, 1]), ["a", "b"], reference_probs=np.zeros((2, 2)))
