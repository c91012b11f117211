"""Axial rotary position embedding (RoPE) for the token grids of 2D and 3D feature maps."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["RotaryEmbedding", "apply_rotary"]


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate consecutive channel pairs ``(x[2i], x[2i+1])`` of ``x`` by the angles whose cos/sin are given.

    Args:
        x: queries or keys, shape ``(..., N, D)`` with ``D`` even (``N`` tokens, ``D`` head channels).
        cos: cosines of the rotation angles, shape ``(N, D // 2)``.
        sin: sines of the rotation angles, shape ``(N, D // 2)``.

    Returns:
        The rotated tensor, same shape and dtype as ``x``.
    """
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.flatten(-2)


class RotaryEmbedding(nn.Module):
    """Axial rotary position embedding for the flattened token grid of a 2D or 3D feature map.

    The ``head_dim // 2`` channel pairs of every attention head are split evenly between the spatial axes; the pairs
    of axis ``a`` are rotated by ``pos_a * base ** (-2 j / d_a)`` (``j`` the pair index within the axis, ``d_a`` the
    number of channels given to that axis), pairs left over by the split are not rotated. After rotation the dot
    product between a query at position ``p`` and a key at position ``r`` depends on the positions only through the
    offset ``p - r`` (relative position), and the rotation is applied to queries and keys *before*
    :func:`torch.nn.functional.scaled_dot_product_attention`, so the fused SDPA kernels stay usable.

    Tokens are expected in row-major (C-order) flattening of the grid, i.e. ``x.flatten(2).transpose(1, 2)`` for a
    ``(B, C, *spatial)`` feature map. The cos/sin tables are computed once per ``(grid size, device, dtype)`` and
    cached (any grid size works; non-square grids included).

    Args:
        head_dim: channels per attention head; must be even and give every spatial axis at least one pair.
        spatial_dims: 2 or 3.
        base: frequency base of the rotation (10000 as in the original RoPE).

    Raises:
        ValueError: on an unsupported ``spatial_dims``, an odd or too small ``head_dim`` or a non-positive ``base``.
    """

    def __init__(self, head_dim: int, spatial_dims: int = 2, base: float = 10000.0) -> None:
        super().__init__()
        if spatial_dims not in (2, 3):
            raise ValueError(f"RotaryEmbedding: spatial_dims must be 2 or 3, got {spatial_dims}.")
        if head_dim <= 0 or head_dim % 2 != 0 or head_dim // 2 < spatial_dims:
            raise ValueError(
                f"RotaryEmbedding: head_dim must be even and >= 2 * spatial_dims ({2 * spatial_dims}), got {head_dim}."
            )
        if base <= 0:
            raise ValueError(f"RotaryEmbedding: base must be > 0, got {base}.")
        self.head_dim = int(head_dim)
        self.spatial_dims = int(spatial_dims)
        self.base = float(base)
        self.pairs_per_axis = (self.head_dim // 2) // self.spatial_dims
        # frequencies of one axis, in float64 for exact tables; not a buffer (nothing to save in a state dict)
        j = torch.arange(self.pairs_per_axis, dtype=torch.float64)
        self._inv_freq = self.base ** (-2.0 * j / (2 * self.pairs_per_axis))
        self._cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def angles(self, grid_size: Sequence[int]) -> torch.Tensor:
        """Rotation angles of every token of a grid, float64, shape ``(prod(grid_size), head_dim // 2)``."""
        axes = [torch.arange(int(n), dtype=torch.float64) for n in grid_size]
        coords = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, self.spatial_dims)
        theta = (coords[:, :, None] * self._inv_freq[None, None, :]).reshape(coords.shape[0], -1)
        pad = self.head_dim // 2 - theta.shape[1]
        if pad > 0:  # pairs left over by the axial split are not rotated (angle 0)
            theta = torch.cat([theta, theta.new_zeros(theta.shape[0], pad)], dim=1)
        return theta

    def get_cos_sin(
        self, grid_size: Sequence[int], device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the cached ``(cos, sin)`` tables, each ``(prod(grid_size), head_dim // 2)``.

        Args:
            grid_size: spatial size of the feature map, ``spatial_dims`` integers.
            device: device of the tables.
            dtype: dtype of the tables (the dtype of the queries/keys).

        Raises:
            ValueError: when ``grid_size`` does not have ``spatial_dims`` positive entries.
        """
        grid = tuple(int(n) for n in grid_size)
        if len(grid) != self.spatial_dims or any(n <= 0 for n in grid):
            raise ValueError(
                f"RotaryEmbedding: grid_size must hold {self.spatial_dims} positive sizes, got {tuple(grid_size)}."
            )
        key = (grid, torch.device(device) if device is not None else torch.device("cpu"), dtype)
        if torch.compiler.is_compiling():
            # traced into the compiled graph instead of cached: filling the cache
            # inside a compiled call mutates module state, which fails dynamo's guard and recompiles on the next call
            return self._tables(grid, key[1], dtype)
        if key not in self._cache:
            self._cache[key] = self._tables(grid, key[1], dtype)
        return self._cache[key]

    def _tables(
        self, grid: tuple[int, ...], device: torch.device, dtype: torch.dtype
    ) -> tuple[torch.Tensor, torch.Tensor]:
        theta = self.angles(grid)
        return theta.cos().to(device=device, dtype=dtype), theta.sin().to(device=device, dtype=dtype)

    def forward(self, q: torch.Tensor, k: torch.Tensor, grid_size: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotate queries and keys of a token grid.

        Args:
            q: queries, shape ``(B, heads, N, head_dim)`` with ``N == prod(grid_size)``.
            k: keys, same layout as ``q`` (same ``N``).
            grid_size: spatial size of the feature map the tokens come from.

        Returns:
            ``(q_rot, k_rot)`` with the shapes and dtypes of ``q`` and ``k``.

        Raises:
            ValueError: when the token count or the last dimension does not match.
        """
        n_tokens = 1
        for n in grid_size:
            n_tokens *= int(n)
        if q.shape[-2] != n_tokens or k.shape[-2] != n_tokens:
            raise ValueError(
                f"RotaryEmbedding: expected {n_tokens} tokens for grid {tuple(grid_size)}, "
                f"got q {tuple(q.shape)} and k {tuple(k.shape)}."
            )
        if q.shape[-1] != self.head_dim or k.shape[-1] != self.head_dim:
            raise ValueError(f"RotaryEmbedding: expected head_dim {self.head_dim}, got {q.shape[-1]} / {k.shape[-1]}.")
        cos, sin = self.get_cos_sin(grid_size, q.device, q.dtype)
        return apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, spatial_dims={self.spatial_dims}, base={self.base}"
