"""RotaryEmbedding: relative-position property (shift test), 2D/3D, non-square grids, cache, errors."""

from __future__ import annotations

import pytest
import torch

from monai_medienet.networks import RotaryEmbedding


def _grid_coords(grid):
    axes = [torch.arange(n) for n in grid]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(grid))


@pytest.mark.parametrize("grid", [(5, 7), (4, 3), (3, 4, 5)])
def test_logits_depend_only_on_offset(grid):
    """Same query / key content at every position: after RoPE the logit q_i.k_j is a function of p_i - p_j only."""
    head_dim = 12
    rope = RotaryEmbedding(head_dim, spatial_dims=len(grid))
    n = int(torch.tensor(grid).prod())
    q = torch.randn(1, 1, 1, head_dim, dtype=torch.float64).expand(1, 1, n, head_dim)
    k = torch.randn(1, 1, 1, head_dim, dtype=torch.float64).expand(1, 1, n, head_dim)
    qr, kr = rope(q, k, grid)
    logits = (qr @ kr.transpose(-1, -2))[0, 0]  # (N, N)
    coords = _grid_coords(grid)
    offsets = coords[:, None, :] - coords[None, :, :]  # (N, N, dims)
    groups: dict[tuple, list[float]] = {}
    for i in range(n):
        for j in range(n):
            groups.setdefault(tuple(offsets[i, j].tolist()), []).append(float(logits[i, j]))
    spreads = [max(v) - min(v) for v in groups.values()]
    assert max(spreads) < 1e-10
    # and the logits do depend on the offset (the test is not vacuous)
    means = torch.tensor([sum(v) / len(v) for v in groups.values()])
    assert float(means.max() - means.min()) > 1e-2


def test_zero_offset_equals_unrotated_logit_and_norm_preserved():
    rope = RotaryEmbedding(8, spatial_dims=2)
    q, k = torch.randn(2, 3, 12, 8, dtype=torch.float64), torch.randn(2, 3, 12, 8, dtype=torch.float64)
    qr, kr = rope(q, k, (3, 4))
    # a rotation preserves norms and the diagonal logits q_i.k_i (offset 0)
    torch.testing.assert_close(qr.norm(dim=-1), q.norm(dim=-1))
    torch.testing.assert_close((qr * kr).sum(-1), (q * k).sum(-1))
    assert not torch.allclose(qr, q)


def test_leftover_pairs_unrotated_3d():
    """head_dim 8 in 3D: 4 pairs, 1 per axis + 1 unrotated pair."""
    rope = RotaryEmbedding(8, spatial_dims=3)
    cos, sin = rope.get_cos_sin((2, 3, 4))
    assert cos.shape == (24, 4)
    torch.testing.assert_close(cos[:, 3], torch.ones(24))
    torch.testing.assert_close(sin[:, 3], torch.zeros(24))


def test_cache_reuse_per_size_device_dtype():
    rope = RotaryEmbedding(16, spatial_dims=2)
    a = rope.get_cos_sin((4, 6))
    b = rope.get_cos_sin((4, 6))
    assert a[0] is b[0] and a[1] is b[1]
    c = rope.get_cos_sin((6, 4))
    assert c[0] is not a[0] and c[0].shape == (24, 8)
    d = rope.get_cos_sin((4, 6), dtype=torch.float64)
    assert d[0].dtype == torch.float64 and len(rope._cache) == 3
    q = torch.randn(1, 2, 24, 16)
    rope(q, q, (4, 6))
    assert len(rope._cache) == 3  # forward hit the cached float32 entry


def test_dtype_follows_input():
    rope = RotaryEmbedding(8, spatial_dims=2)
    q = torch.randn(1, 1, 6, 8, dtype=torch.bfloat16)
    qr, kr = rope(q, q, (2, 3))
    assert qr.dtype == torch.bfloat16 and kr.dtype == torch.bfloat16


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"head_dim": 7, "spatial_dims": 2}, "head_dim"),
        ({"head_dim": 4, "spatial_dims": 3}, "head_dim"),
        ({"head_dim": 8, "spatial_dims": 1}, "spatial_dims"),
        ({"head_dim": 8, "spatial_dims": 2, "base": 0.0}, "base"),
    ],
)
def test_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=f"RotaryEmbedding: {match}"):
        RotaryEmbedding(**kwargs)


def test_forward_errors():
    rope = RotaryEmbedding(8, spatial_dims=2)
    q = torch.randn(1, 1, 6, 8)
    with pytest.raises(ValueError, match="expected 12 tokens"):
        rope(q, q, (3, 4))
    with pytest.raises(ValueError, match="head_dim"):
        rope(torch.randn(1, 1, 6, 4), torch.randn(1, 1, 6, 4), (2, 3))
    with pytest.raises(ValueError, match="grid_size"):
        rope.get_cos_sin((6,))


def test_compiled_call_does_not_recompile():
    """Under torch.compile the tables are traced, not cached: filling the cache inside the first compiled call used to
    fail a dynamo guard and recompile the whole U-Net on the second call (40 s at the bench's 64 px profile)."""
    rope = RotaryEmbedding(head_dim=8, spatial_dims=2)
    q, k = torch.randn(2, 2, 6, 8), torch.randn(2, 2, 6, 8)
    compiled = torch.compile(lambda a, b: rope(a, b, (2, 3)), backend="eager", fullgraph=True)
    with torch._dynamo.config.patch(error_on_recompile=True):
        outs = [compiled(q, k) for _ in range(3)]
    assert rope._cache == {}
    eager = rope(q, k, (2, 3))
    for out in outs:
        for got, want in zip(out, eager):
            assert torch.allclose(got, want, atol=1e-6)
    torch._dynamo.reset()
