from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from monai_medienet.engines import AutocastInferer, MixedPrecision


def _attention(x: torch.Tensor) -> torch.Tensor:
    return F.scaled_dot_product_attention(x, x, x)


def _sdpa_ops(inferer: AutocastInferer, grad: bool) -> set[str]:
    x = torch.randn(2, 2, 16, 8, requires_grad=grad)
    with profile(activities=[ProfilerActivity.CPU]) as prof, torch.set_grad_enabled(grad):
        out = inferer(x, _attention)
    assert out.dtype == torch.float32 and out.shape == x.shape
    return {e.key for e in prof.key_averages() if "scaled_dot_product" in e.key and "attention" in e.key}


def _uses_math(ops: set[str]) -> bool:
    return any("math" in k for k in ops) and not any("flash" in k for k in ops)


def test_math_attention_in_cpu_bf16_training_forwards_only():
    auto = AutocastInferer(device_type="cpu")  # math_attention=None: training forwards under CPU bf16 autocast
    assert _uses_math(_sdpa_ops(auto, grad=True))
    assert not _uses_math(_sdpa_ops(auto, grad=False))  # sampling keeps the fused kernel
    assert not _uses_math(_sdpa_ops(AutocastInferer(device_type="cpu", math_attention=False), grad=True))
    assert _uses_math(_sdpa_ops(AutocastInferer(device_type="cpu", math_attention=True), grad=False))
    assert not _uses_math(_sdpa_ops(AutocastInferer(device_type="cpu", enabled=False), grad=True))  # fp32: untouched
    # the bundles' path: MixedPrecision("bf16").wrap() carries the setting
    assert _uses_math(_sdpa_ops(MixedPrecision("bf16", "cpu").wrap(), grad=True))
    assert not _uses_math(_sdpa_ops(MixedPrecision("bf16", "cpu", math_attention=False).wrap(), grad=True))


def test_math_attention_gradients_match_the_fused_kernel():
    x0 = torch.randn(2, 2, 16, 8, generator=torch.Generator().manual_seed(0))
    grads = []
    for math in (True, False):
        x = x0.clone().requires_grad_(True)
        AutocastInferer(device_type="cpu", math_attention=math)(x, _attention).sum().backward()
        grads.append(x.grad)
    assert torch.allclose(grads[0], grads[1], atol=5e-2, rtol=5e-2)  # both bf16: same gradient up to rounding


def test_autocast_inferer_validates_its_arguments():
    with pytest.raises(ValueError, match="AutocastInferer: device_type"):
        AutocastInferer(device_type="mps")
    with pytest.raises(ValueError, match="AutocastInferer: float16"):
        AutocastInferer(device_type="cpu", dtype=torch.float16)
