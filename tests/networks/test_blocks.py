"""MultiAttentionBlock: shapes, RoPE off == plain attention, part switches, gradients, errors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from monai_medienet.networks import MultiAttentionBlock


def _block(**kw):
    args = {"spatial_dims": 2, "num_channels": 16, "num_head_channels": 8, "context_dim": 12, "norm_num_groups": 4}
    args.update(kw)
    return MultiAttentionBlock(**args)


@pytest.mark.parametrize("shape", [(2, 16, 4, 6), (1, 16, 3, 4, 5)])
def test_shapes_2d_3d(shape):
    block = _block(spatial_dims=len(shape) - 2)
    y = block(torch.randn(shape), context=torch.randn(shape[0], 3, 12))
    assert y.shape == shape


def _plain_self_attention(block, x):
    """Reference multi-head self-attention written out with softmax (no RoPE)."""
    b, c = x.shape[:2]
    h = block.self_norm(x).flatten(2).transpose(1, 2)
    q, k, v = block.self_qkv(h).chunk(3, dim=-1)
    heads = block.num_heads
    q, k, v = (t.reshape(b, -1, heads, c // heads).transpose(1, 2) for t in (q, k, v))
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(c // heads), dim=-1)
    out = (att @ v).transpose(1, 2).reshape(b, -1, c)
    return x + block.self_out(out).transpose(1, 2).reshape(x.shape)


def test_rope_off_is_plain_attention_and_rope_on_differs():
    kw = {"use_cross_attention": False, "use_channel_attention": False, "context_dim": None}
    plain = _block(rope=False, **kw)
    rotary = _block(rope=True, **kw)
    rotary.load_state_dict(plain.state_dict())  # RoPE has no parameters
    x = torch.randn(2, 16, 3, 5)
    torch.testing.assert_close(plain(x), _plain_self_attention(plain, x), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(rotary(x), plain(x), atol=1e-4)


def test_all_parts_off_is_identity():
    block = _block(use_self_attention=False, use_cross_attention=False, use_channel_attention=False)
    x = torch.randn(1, 16, 4, 4)
    torch.testing.assert_close(block(x), x)
    assert sum(p.numel() for p in block.parameters()) == 0


def test_context_changes_output_and_is_required():
    block = _block()
    x = torch.randn(1, 16, 4, 4)
    a = block(x, context=torch.randn(1, 2, 12))
    b = block(x, context=torch.randn(1, 2, 12))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="MultiAttentionBlock: cross-attention"):
        block(x)


def test_gradients_reach_every_part():
    block = _block()
    x = torch.randn(2, 16, 4, 4)
    ctx = torch.randn(2, 3, 12, requires_grad=True)
    block(x, context=ctx).square().mean().backward()
    for prefix in ("self_qkv", "self_out", "cross_q", "cross_kv", "cross_out", "channel_mlp"):
        grads = [p.grad for n, p in block.named_parameters() if n.startswith(prefix)]
        assert grads and all(g is not None and g.abs().sum() > 0 for g in grads), prefix
    assert ctx.grad is not None and ctx.grad.abs().sum() > 0


def test_uses_sdpa(monkeypatch):
    calls = []
    real = F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", spy)
    _block()(torch.randn(1, 16, 2, 3), context=torch.randn(1, 2, 12))
    assert calls == [torch.Size([1, 2, 6, 8]), torch.Size([1, 2, 6, 8])]  # self + cross


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"spatial_dims": 1}, "spatial_dims"),
        ({"num_channels": 12}, "num_channels"),
        ({"norm_num_groups": 3}, "norm_num_groups"),
        ({"context_dim": None}, "context_dim"),
        ({"channel_reduction": 0}, "channel_reduction"),
        ({"dropout": 1.0}, "dropout"),
        ({"num_head_channels": 3, "num_channels": 12, "norm_num_groups": 4}, "head_dim"),
    ],
)
def test_constructor_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        _block(**kw)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_frozen_qkv_projection_is_one_matmul(dtype):
    """With frozen weights (inference), a Linear on the transposed token view falls back to a batched matmul that
    copies the (C, 3C) weight once per batch element; the block must hand it contiguous tokens (one addmm)."""
    from torch.profiler import ProfilerActivity, profile

    blk = MultiAttentionBlock(2, 64, 16, use_cross_attention=False, norm_num_groups=8).to(dtype).eval()
    blk.requires_grad_(False)
    x = torch.randn(8, 64, 4, 4).to(dtype)
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        blk(x)
    ops = {e.key for e in prof.key_averages()}
    assert "aten::addmm" in ops and "aten::bmm" not in ops, sorted(ops)
