"""The multi-attention module of MedIENet's encoder: RoPE self-attention, class cross-attention, channel attention."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .rope import RotaryEmbedding

__all__ = ["MultiAttentionBlock"]


class MultiAttentionBlock(nn.Module):
    """Multi-attention module placed after the residual blocks of MedIENet's attention encoder levels.

    Three residual parts, run in this order and each switchable for ablations:

    1. spatial self-attention over the ``prod(spatial)`` feature tokens, with axial rotary position embedding applied
       to queries and keys before :func:`torch.nn.functional.scaled_dot_product_attention` (``rope=False`` gives
       plain attention);
    2. cross-attention from the feature tokens (queries) to the class-embedding tokens (keys / values);
    3. channel attention, squeeze-and-excitation style: global average pooling, a bottleneck MLP and a sigmoid gate
       that rescales every channel.

    Args:
        spatial_dims: 2 or 3.
        num_channels: channels ``C`` of the feature map (input = output channels).
        num_head_channels: channels per attention head; ``num_channels`` must be divisible by it.
        context_dim: channels of the class tokens; required when ``use_cross_attention``.
        norm_num_groups: groups of the GroupNorm in front of the self-attention.
        norm_eps: epsilon of the normalisation layers.
        use_self_attention: enable part 1.
        use_cross_attention: enable part 2.
        use_channel_attention: enable part 3.
        rope: rotate queries/keys of the self-attention with :class:`RotaryEmbedding`.
        rope_base: frequency base of the rotary embedding.
        channel_reduction: bottleneck reduction ratio of the channel attention (hidden = ``max(C // r, 4)``).
        dropout: attention dropout probability during training.

    Raises:
        ValueError: on inconsistent sizes or probabilities (the message names the class and the value).
    """

    def __init__(
        self,
        spatial_dims: int,
        num_channels: int,
        num_head_channels: int,
        context_dim: int | None = None,
        norm_num_groups: int = 32,
        norm_eps: float = 1e-6,
        use_self_attention: bool = True,
        use_cross_attention: bool = True,
        use_channel_attention: bool = True,
        rope: bool = True,
        rope_base: float = 10000.0,
        channel_reduction: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if spatial_dims not in (2, 3):
            raise ValueError(f"{name}: spatial_dims must be 2 or 3, got {spatial_dims}.")
        if num_channels <= 0 or num_head_channels <= 0 or num_channels % num_head_channels != 0:
            raise ValueError(
                f"{name}: num_channels ({num_channels}) must be a positive multiple of num_head_channels, "
                f"got num_head_channels={num_head_channels}."
            )
        if num_channels % norm_num_groups != 0:
            raise ValueError(f"{name}: num_channels must be divisible by norm_num_groups, got {norm_num_groups}.")
        if use_cross_attention and (context_dim is None or context_dim <= 0):
            raise ValueError(f"{name}: use_cross_attention needs a positive context_dim, got {context_dim}.")
        if channel_reduction < 1:
            raise ValueError(f"{name}: channel_reduction must be >= 1, got {channel_reduction}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout}.")
        self.spatial_dims = spatial_dims
        self.num_channels = num_channels
        self.num_heads = num_channels // num_head_channels
        self.head_dim = num_head_channels
        self.dropout = dropout
        self.use_self_attention = use_self_attention
        self.use_cross_attention = use_cross_attention
        self.use_channel_attention = use_channel_attention

        self.self_norm: nn.Module | None = None
        self.self_qkv: nn.Linear | None = None
        self.self_out: nn.Linear | None = None
        self.rope: RotaryEmbedding | None = None
        if use_self_attention:
            self.self_norm = nn.GroupNorm(norm_num_groups, num_channels, eps=norm_eps, affine=True)
            self.self_qkv = nn.Linear(num_channels, 3 * num_channels)
            self.self_out = nn.Linear(num_channels, num_channels)
            if rope:
                self.rope = RotaryEmbedding(num_head_channels, spatial_dims=spatial_dims, base=rope_base)

        self.cross_norm: nn.Module | None = None
        self.cross_q: nn.Linear | None = None
        self.cross_kv: nn.Linear | None = None
        self.cross_out: nn.Linear | None = None
        if use_cross_attention:
            self.cross_norm = nn.LayerNorm(num_channels, eps=norm_eps)
            self.cross_q = nn.Linear(num_channels, num_channels)
            self.cross_kv = nn.Linear(int(context_dim), 2 * num_channels)  # type: ignore[arg-type]
            self.cross_out = nn.Linear(num_channels, num_channels)

        self.channel_mlp: nn.Sequential | None = None
        if use_channel_attention:
            hidden = max(num_channels // channel_reduction, 4)
            self.channel_mlp = nn.Sequential(
                nn.Linear(num_channels, hidden), nn.SiLU(), nn.Linear(hidden, num_channels)
            )

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        """(B, N, C) -> (B, heads, N, head_dim)."""
        return t.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        return out.transpose(1, 2).flatten(-2)  # (B, N, C)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the enabled attention parts (each residual).

        Args:
            x: feature map, shape ``(B, C, *spatial)``.
            context: class tokens, shape ``(B, T, context_dim)``; required when cross-attention is enabled.

        Returns:
            Feature map of the same shape as ``x``.

        Raises:
            ValueError: when cross-attention is enabled and ``context`` is missing.
        """
        grid = x.shape[2:]
        if self.self_qkv is not None:
            # contiguous (B, N, C): a transposed 3-D input sends the Linear to a batched matmul that materialises the
            # weight once per batch element (bf16 CPU: a (B, C, 3C) copy, ~9 % of the U-Net forward at 64 px)
            h = self.self_norm(x).flatten(2).transpose(1, 2).contiguous()
            q, k, v = (self._heads(t) for t in self.self_qkv(h).chunk(3, dim=-1))
            if self.rope is not None:
                q, k = self.rope(q, k, grid)
            h = self.self_out(self._attend(q, k, v))
            x = x + h.transpose(1, 2).reshape(x.shape)
        if self.cross_q is not None:
            if context is None:
                raise ValueError(f"{type(self).__name__}: cross-attention is enabled but no context was given.")
            h = self.cross_norm(x.flatten(2).transpose(1, 2))
            q = self._heads(self.cross_q(h))
            k, v = (self._heads(t) for t in self.cross_kv(context.to(x.dtype)).chunk(2, dim=-1))
            h = self.cross_out(self._attend(q, k, v))
            x = x + h.transpose(1, 2).reshape(x.shape)
        if self.channel_mlp is not None:
            s = torch.sigmoid(self.channel_mlp(x.flatten(2).mean(dim=-1)))  # (B, C)
            x = x * s.reshape(*s.shape, *([1] * self.spatial_dims))
        return x
