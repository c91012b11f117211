"""Fast-path helpers: weights cast once, bf16 drift of a tiny net bounded, fused Adam selection, argument checks."""

from __future__ import annotations

import pytest
import torch
from monai.networks.nets import DiffusionModelUNet
from torch import nn

from monai_medienet.utils import CastInputs, fast_adam, prepare_for_inference, supports_fused_adam


def _tiny_unet(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    net = DiffusionModelUNet(
        spatial_dims=2,
        in_channels=2,
        out_channels=2,
        channels=(8, 16),
        attention_levels=(False, True),
        num_res_blocks=1,
        num_head_channels=8,
        norm_num_groups=8,
        num_class_embeds=3,
    )
    # MONAI zero-initialises the output convolution; a non-zero output makes the comparison meaningful
    with torch.no_grad():
        for p in net.parameters():
            if p.dim() > 1 and torch.count_nonzero(p) == 0:
                p.normal_(0.0, 0.05)
    return net


def _inputs():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 2, 8, 8, generator=g)
    t = torch.tensor([10, 700])
    y = torch.tensor([0, 2])
    return x, t, y


def test_prepare_for_inference_casts_weights_once_and_keeps_io_dtype():
    net = _tiny_unet()
    x, t, y = _inputs()
    with torch.no_grad():
        ref = net(x, timesteps=t, class_labels=y)
    fast = prepare_for_inference(net, dtype=torch.bfloat16)
    assert isinstance(fast, CastInputs)
    assert all(p.dtype == torch.bfloat16 for p in net.parameters())
    assert not any(p.requires_grad for p in net.parameters())
    assert not net.training
    with torch.no_grad():
        out = fast(x, timesteps=t, class_labels=y)
    assert out.dtype == torch.float32 and out.shape == ref.shape
    # bf16 keeps ~3 significant digits: drift bounded relative to the output scale, but not bit-identical
    err = (out - ref).abs().max().item()
    scale = ref.abs().max().item()
    assert scale > 0.05
    assert err < 0.05 * scale
    assert err > 0.0


def test_prepare_for_inference_fp32_is_exact_and_none_keeps_dtype():
    net = _tiny_unet()
    x, t, y = _inputs()
    with torch.no_grad():
        ref = net(x, timesteps=t, class_labels=y)
    same = prepare_for_inference(net, dtype=None)
    assert same is net
    fp32 = prepare_for_inference(_tiny_unet(), dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(fp32(x, timesteps=t, class_labels=y), ref, rtol=0, atol=0)


def test_prepare_for_inference_no_cast_wrapper_when_asked():
    net = _tiny_unet()
    out = prepare_for_inference(net, dtype=torch.bfloat16, cast_inputs=False)
    assert out is net
    assert next(net.parameters()).dtype == torch.bfloat16


def test_cast_inputs_exposes_null_class_index():
    class Net(nn.Module):
        null_class_index = 3

        def forward(self, x):
            return x

    assert CastInputs(Net(), torch.bfloat16).null_class_index == 3
    assert CastInputs(nn.Identity(), torch.bfloat16).null_class_index is None


def test_compile_returns_compiled_module_without_running(tmp_path):
    # compiling is lazy (happens on the first call), so wrapping is cheap; the call itself is exercised by the
    # benchmark's --compile cases, not in the default test run (tens of seconds on CPU)
    net = _tiny_unet()
    out = prepare_for_inference(net, dtype=torch.bfloat16, compile=True, cache_dir=tmp_path / "inductor")
    assert hasattr(out, "_orig_mod")
    assert isinstance(out._orig_mod, CastInputs)
    assert (tmp_path / "inductor").is_dir()


@pytest.mark.parametrize("bad", [torch.int64, torch.bool])
def test_prepare_for_inference_rejects_non_float_dtype(bad):
    with pytest.raises(ValueError, match="prepare_for_inference: dtype"):
        prepare_for_inference(_tiny_unet(), dtype=bad)
    with pytest.raises(ValueError, match="CastInputs: dtype"):
        CastInputs(nn.Identity(), bad)


def test_fast_adam_uses_fused_kernel_when_supported_and_matches_reference_step():
    torch.manual_seed(0)
    a = nn.Linear(4, 3)
    b = nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    opt_fast = fast_adam(a.parameters(), lr=1e-2)
    opt_ref = torch.optim.Adam(b.parameters(), lr=1e-2, foreach=False)
    assert opt_fast.defaults["fused"] is supports_fused_adam(list(a.parameters()))
    x = torch.randn(5, 4)
    for opt, m in ((opt_fast, a), (opt_ref, b)):
        for _ in range(3):
            opt.zero_grad()
            m(x).pow(2).sum().backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)


def test_fast_adam_param_groups_and_errors():
    m = nn.Linear(2, 2)
    opt = fast_adam([{"params": [m.weight]}, {"params": [m.bias], "lr": 1e-3}], lr=1e-2)
    assert [g["lr"] for g in opt.param_groups] == [1e-2, 1e-3]
    with pytest.raises(ValueError, match="fast_adam: lr"):
        fast_adam(m.parameters(), lr=0.0)
    with pytest.raises(ValueError, match="fast_adam: 'fused'"):
        fast_adam(m.parameters(), lr=1e-3, fused=True)


def test_supports_fused_adam_false_for_empty_or_integer():
    assert supports_fused_adam([]) is False
    assert supports_fused_adam([torch.zeros(2, dtype=torch.int64)]) is False
