from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_medienet.evaluation import AutocastInferer, build_classifier, predict_proba, train_classifier


def _items(n, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        y = i % 2
        x = torch.rand(1, size, size, generator=g) * 0.5
        x[:, : size // 2] += 0.5 * y  # class 1: bright top half
        out.append({"image": x, "label": y})
    return out


def test_build_classifier_errors_and_head():
    net = build_classifier("resnet18", in_channels=3, num_classes=4, image_size=16)
    assert net(torch.rand(2, 3, 16, 16)).shape == (2, 4)
    with pytest.raises(ValueError, match="build_classifier: name"):
        build_classifier("vgg")
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        build_classifier(num_classes=1)
    with pytest.raises(ValueError, match="in_channels"):
        build_classifier(in_channels=0)


def test_autocast_inferer_returns_float32():
    net = torch.nn.Linear(4, 2)
    out = AutocastInferer(enabled=True)(torch.rand(3, 4), net)
    assert out.dtype == torch.float32 and out.shape == (3, 2)


def test_autocast_inferer_is_the_engines_one():
    from monai_medienet.engines import AutocastInferer as EnginesAutocastInferer

    assert AutocastInferer is EnginesAutocastInferer
    net = torch.nn.Linear(4, 2)
    x = torch.rand(3, 4)
    torch.testing.assert_close(AutocastInferer(enabled=False)(x, net), net(x))  # disabled = plain network call


def test_train_classifier_budget_early_stop_and_best_weights():
    torch.manual_seed(0)
    net = build_classifier("resnet18", 1, 2, 16)
    res = train_classifier(
        net, _items(16), _items(8, seed=1), 2, max_steps=6, batch_size=8, val_interval=2, patience=1, seed=0,
        progress=False, bf16=True,
    )  # fmt: skip
    assert 1 <= res.steps_run <= 6
    steps = [s for s, _ in res.history]
    assert steps[0] == 2 and res.best_step in steps
    assert res.best_val_auroc == max(v for _, v in res.history)
    probs, labels = predict_proba(res.network, _items(8, seed=1), batch_size=4)
    assert probs.shape == (8, 2) and np.allclose(probs.sum(1), 1.0)
    assert labels.tolist() == [0, 1] * 4
    with pytest.raises(ValueError, match="max_steps"):
        train_classifier(net, _items(4), _items(4), 2, max_steps=0)


def test_recalibrate_batchnorm_matches_data_statistics():
    from monai_medienet.evaluation import recalibrate_batchnorm

    net = torch.nn.Sequential(torch.nn.BatchNorm2d(1))
    g = torch.Generator().manual_seed(0)
    batches = [{"image": 3.0 + 2.0 * torch.randn(16, 1, 4, 4, generator=g)} for _ in range(4)]
    net.eval()
    assert recalibrate_batchnorm(net, batches, num_batches=6) == 6  # cycles the loader
    bn = net[0]
    assert bn.running_mean.item() == pytest.approx(3.0, abs=0.15)
    assert bn.running_var.item() == pytest.approx(4.0, rel=0.1)
    assert bn.momentum == 0.1 and not net.training  # restored
    assert recalibrate_batchnorm(torch.nn.Linear(2, 2), batches) == 0


@pytest.mark.parametrize("size, stride", [(28, 1), (32, 1), (64, 2), (224, 2)])
def test_build_classifier_stem_stride_keeps_16px_first_stage(size, stride):
    net = build_classifier("resnet18", in_channels=1, num_classes=2, image_size=size)
    assert net.conv1.stride == (stride, stride)
