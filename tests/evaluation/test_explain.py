"""Grad-CAM panels' helpers: maps of the true class, no hooks left behind, balanced image selection."""

from __future__ import annotations

import numpy as np
import torch

from monai_medienet.evaluation import build_classifier, gradcam_maps, select_explanation_images


def _hooks(net: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._backward_hooks) for m in net.modules())


def test_gradcam_maps_shape_range_and_no_hook_leak():
    torch.manual_seed(0)
    net = build_classifier("resnet18", 1, 2, 32).eval()
    x = torch.rand(3, 1, 32, 32)
    before = _hooks(net)
    maps = gradcam_maps({"a": net}, x, [0, 1, 1])
    assert maps["a"].shape == (3, 32, 32) and np.isfinite(maps["a"]).all()
    assert maps["a"].min() >= 0.0 and maps["a"].max() <= 1.0 + 1e-6
    assert _hooks(net) == before  # MONAI's GradCAM keeps no handles; gradcam_maps removes what it registered
    again = gradcam_maps({"a": net}, x, [0, 1, 1])  # repeatable, and still no hooks left
    np.testing.assert_allclose(again["a"], maps["a"], atol=1e-6)
    assert _hooks(net) == before


def test_select_explanation_images_alternates_classes():
    labels = np.array([0] * 10 + [1] * 3)
    idx = select_explanation_images(labels, n=6, seed=0)
    assert len(idx) == 6 and len(set(idx.tolist())) == 6
    assert (labels[idx] == 1).sum() == 3  # both classes while the smaller one lasts
    assert len(select_explanation_images(labels[:2], n=6)) == 2
