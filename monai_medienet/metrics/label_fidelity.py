"""Label fidelity per class: how a classifier trained on real images sees the synthetic images of each class, next to
how it sees real held-out images of the same class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["label_fidelity"]


def _per_class(probs: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> dict[str, dict[str, Any]]:
    pred = probs.argmax(axis=1)
    out: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(class_names):
        m = labels == c
        n = int(m.sum())
        if n == 0:
            out[name] = {"n": 0}
            continue
        out[name] = {
            "n": n,
            "accuracy": float(np.mean(pred[m] == c)),
            "mean_prob_own_label": float(np.mean(probs[m, c])),
            "fraction_below_half": float(np.mean(probs[m, c] < 0.5)),
            "mean_probs": [float(v) for v in probs[m].mean(axis=0)],
            "predicted_fractions": [float(np.mean(pred[m] == j)) for j in range(len(class_names))],
        }
    return out


def label_fidelity(
    synthetic_probs: np.ndarray,
    synthetic_labels: np.ndarray,
    class_names: Sequence[str],
    reference_probs: np.ndarray | None = None,
    reference_labels: np.ndarray | None = None,
) -> dict[str, Any]:
    """Per-class agreement of a real-data classifier with the conditioning labels of synthetic images.

    A class-conditional generator can fail one class only: its "normal" images may look like pneumonia to a classifier
    that never saw synthetic data. This compares, per class, the classifier's view of the synthetic images with its
    view of real held-out images of the same class (the reference: how well the classifier does on real data at all).

    Args:
        synthetic_probs: ``(N, K)`` softmax probabilities of the synthetic images.
        synthetic_labels: ``(N,)`` conditioning labels in ``[0, K)``.
        class_names: ``K`` class names (keys of the output).
        reference_probs: ``(M, K)`` probabilities of real held-out images (e.g. the test split), or ``None``.
        reference_labels: ``(M,)`` their labels.

    Returns:
        ``{"synthetic": {class: stats}, "reference": {class: stats} (when given), "gap": {class: synthetic - reference
        mean_prob_own_label}}``. Per-class stats: ``n``, ``accuracy`` (argmax equals the label),
        ``mean_prob_own_label``, ``fraction_below_half`` (probability of the own label below 0.5), ``mean_probs``
        (mean probability of every class) and ``predicted_fractions`` (fraction predicted as every class).

    Raises:
        ValueError: shapes that do not match, a label outside ``[0, K)``, or only one of the reference arrays.
    """
    k = len(class_names)

    def _check(probs: Any, labels: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        p, y = np.asarray(probs, dtype=np.float64), np.asarray(labels).reshape(-1).astype(np.int64)
        if p.ndim != 2 or p.shape[1] != k or p.shape[0] != y.shape[0]:
            raise ValueError(
                f"label_fidelity: {what} probabilities must be (N, {k}) with N labels, got {p.shape} and {y.shape}."
            )
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"label_fidelity: {what} labels must lie in [0, {k}), got [{y.min()}, {y.max()}].")
        return p, y

    if (reference_probs is None) != (reference_labels is None):
        raise ValueError("label_fidelity: give both reference_probs and reference_labels, or neither.")
    p_sy, y_sy = _check(synthetic_probs, synthetic_labels, "synthetic")
    out: dict[str, Any] = {"synthetic": _per_class(p_sy, y_sy, class_names)}
    if reference_probs is not None:
        p_re, y_re = _check(reference_probs, reference_labels, "reference")
        out["reference"] = _per_class(p_re, y_re, class_names)
        out["gap"] = {
            name: (
                out["synthetic"][name]["mean_prob_own_label"] - out["reference"][name]["mean_prob_own_label"]
                if out["synthetic"][name]["n"] and out["reference"][name]["n"]
                else None
            )
            for name in class_names
        }
    return out
