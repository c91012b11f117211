"""MedIENet's class-conditional denoising U-Net, built from MONAI's DiffusionModelUNet parts, and a plain baseline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.networks.blocks import Convolution
from monai.networks.nets import DiffusionModelUNet
from monai.networks.nets.diffusion_model_unet import (
    DiffusionUnetDownsample,
    DiffusionUNetResnetBlock,
    get_down_block,
    get_mid_block,
    get_timestep_embedding,
    get_up_block,
    zero_module,
)
from monai.utils import ensure_tuple_rep
from torch import nn

from .blocks import MultiAttentionBlock

__all__ = [
    "MedIENetUNet",
    "MonaiClassConditionalUNet",
    "build_diffusion_unet",
    "MEDIENET_ONLY_ARGS",
    "DECODER_ATTENTION",
]

#: constructor arguments of :class:`MedIENetUNet` that the MONAI baseline does not have (ignored by the factory).
MEDIENET_ONLY_ARGS = (
    "rope",
    "rope_base",
    "multi_attention",
    "use_self_attention",
    "use_cross_attention",
    "use_channel_attention",
    "channel_reduction",
    "num_class_tokens",
    "class_embed_dim",
    "attention_dropout",
    "decoder_attention",
)

#: values of ``MedIENetUNet(decoder_attention=...)``.
DECODER_ATTENTION = ("cross", "self")


def _labels_or_null(
    class_labels: torch.Tensor | None, batch: int, null_index: int, device: torch.device
) -> torch.Tensor:
    """Class labels as a ``(B,)`` long tensor; ``None`` means the null class for every sample."""
    if class_labels is None:
        return torch.full((batch,), null_index, dtype=torch.long, device=device)
    labels = torch.as_tensor(class_labels, device=device).reshape(-1).long()
    if labels.numel() == 1 and batch > 1:
        labels = labels.expand(batch)
    if labels.shape[0] != batch:
        raise ValueError(f"class_labels must hold one label per sample ({batch}), got shape {tuple(labels.shape)}.")
    return labels


class _MultiAttnDownBlock(nn.Module):
    """Encoder level of MedIENet: MONAI residual blocks, each followed by a :class:`MultiAttentionBlock`.

    Same call contract as MONAI's down blocks: ``forward(hidden_states, temb, context) -> (h, output_states)``.
    """

    def __init__(
        self,
        spatial_dims: int,
        in_channels: int,
        out_channels: int,
        temb_channels: int,
        num_res_blocks: int,
        norm_num_groups: int,
        norm_eps: float,
        add_downsample: bool,
        resblock_updown: bool,
        attention_kwargs: dict[str, Any],
    ) -> None:
        super().__init__()
        self.resnets = nn.ModuleList(
            [
                DiffusionUNetResnetBlock(
                    spatial_dims=spatial_dims,
                    in_channels=in_channels if i == 0 else out_channels,
                    out_channels=out_channels,
                    temb_channels=temb_channels,
                    norm_num_groups=norm_num_groups,
                    norm_eps=norm_eps,
                )
                for i in range(num_res_blocks)
            ]
        )
        self.attentions = nn.ModuleList(
            [
                MultiAttentionBlock(
                    spatial_dims=spatial_dims,
                    num_channels=out_channels,
                    norm_num_groups=norm_num_groups,
                    norm_eps=norm_eps,
                    **attention_kwargs,
                )
                for _ in range(num_res_blocks)
            ]
        )
        self.downsampler: nn.Module | None = None
        if add_downsample:
            if resblock_updown:
                self.downsampler = DiffusionUNetResnetBlock(
                    spatial_dims=spatial_dims,
                    in_channels=out_channels,
                    out_channels=out_channels,
                    temb_channels=temb_channels,
                    norm_num_groups=norm_num_groups,
                    norm_eps=norm_eps,
                    down=True,
                )
            else:
                self.downsampler = DiffusionUnetDownsample(
                    spatial_dims, out_channels, use_conv=True, out_channels=out_channels, padding=1
                )

    def forward(
        self, hidden_states: torch.Tensor, temb: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        output_states = []
        for resnet, attn in zip(self.resnets, self.attentions):
            hidden_states = attn(resnet(hidden_states, temb), context=context)
            output_states.append(hidden_states)
        if self.downsampler is not None:
            hidden_states = self.downsampler(hidden_states, temb)
            output_states.append(hidden_states)
        return hidden_states, output_states


class MedIENetUNet(nn.Module):
    """Class-conditional denoising U-Net of MedIENet (latent or pixel space, 2D or 3D).

    The layout follows MONAI's :class:`~monai.networks.nets.DiffusionModelUNet` and reuses its blocks (residual
    blocks with timestep embedding, down/up samplers, mid block, decoder blocks). Differences:

    - class information enters through cross-attention on a learned class-embedding table with ``num_classes + 1``
      rows; each row holds ``num_class_tokens`` tokens of ``class_embed_dim`` channels. Row ``num_classes``
      (:attr:`null_class_index`) is the learned "no class" token used for classifier-free guidance;
      ``class_labels=None`` means the null class for every sample;
    - the encoder levels with attention use :class:`MultiAttentionBlock` (RoPE self-attention, class
      cross-attention, channel attention) after every residual block (``multi_attention=False`` falls back to
      MONAI's cross-attention transformer there, for ablations);
    - the mid block and the decoder attention levels are MONAI's cross-attention blocks on the same class tokens
      (``decoder_attention="cross"``, the default), or MONAI's plain self-attention blocks
      (``decoder_attention="self"``, the light decoder): the class then reaches the mid block and the decoder
      MONAI's way, through a second ``num_classes + 1``-row class embedding added to the timestep embedding (which
      every residual block receives), and the class cross-attention stays in the encoder's multi-attention blocks.
      The light decoder has no GEGLU feed-forward and no per-level cross-attention, which is where the default
      network spends its extra time over a plain MONAI U-Net on a CPU (``docs/benchmarks.md``).

    Args:
        spatial_dims: 2 or 3.
        in_channels: channels of the (latent) input.
        out_channels: channels of the prediction (usually ``in_channels``).
        num_classes: number of real classes (>= 1).
        channels: output channels per level; each a multiple of ``norm_num_groups``.
        attention_levels: per level, whether it has attention.
        num_res_blocks: residual blocks per level (int or one per level).
        num_head_channels: channels per attention head (int or one per level).
        rope: rotary position embedding in the encoder self-attention.
        multi_attention: use :class:`MultiAttentionBlock` at the encoder attention levels.
        use_self_attention: enable the self-attention part of the multi-attention blocks.
        use_cross_attention: enable the class cross-attention part of the multi-attention blocks.
        use_channel_attention: enable the channel-attention part of the multi-attention blocks.
        num_class_tokens: tokens per class in the class-embedding table.
        class_embed_dim: channels of a class token (default ``channels[0] * 4``, the time-embedding width).
        norm_num_groups: GroupNorm groups.
        norm_eps: GroupNorm epsilon.
        resblock_updown: use residual blocks for up/downsampling.
        transformer_num_layers: transformer layers in MONAI's cross-attention blocks (mid / decoder).
        rope_base: rotary embedding frequency base.
        channel_reduction: bottleneck ratio of the channel attention.
        attention_dropout: attention dropout of the multi-attention blocks and MONAI's cross-attention blocks.
        use_flash_attention: let MONAI's blocks use ``scaled_dot_product_attention`` (the multi-attention blocks
            always do).
        decoder_attention: ``"cross"`` (MONAI cross-attention transformers on the class tokens at the mid block and
            the decoder attention levels) or ``"self"`` (MONAI self-attention blocks there, class embedding added to
            the timestep embedding). Checkpoints of one do not load into the other.

    Raises:
        ValueError: on invalid arguments; the message names the class and the offending value.
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 4,
        out_channels: int = 4,
        num_classes: int = 2,
        channels: Sequence[int] = (64, 128, 128),
        attention_levels: Sequence[bool] = (False, True, True),
        num_res_blocks: Sequence[int] | int = 1,
        num_head_channels: Sequence[int] | int = 32,
        rope: bool = True,
        multi_attention: bool = True,
        use_self_attention: bool = True,
        use_cross_attention: bool = True,
        use_channel_attention: bool = True,
        num_class_tokens: int = 4,
        class_embed_dim: int | None = None,
        norm_num_groups: int = 32,
        norm_eps: float = 1e-6,
        resblock_updown: bool = False,
        transformer_num_layers: int = 1,
        rope_base: float = 10000.0,
        channel_reduction: int = 4,
        attention_dropout: float = 0.0,
        use_flash_attention: bool = True,
        decoder_attention: str = "cross",
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if decoder_attention not in DECODER_ATTENTION:
            raise ValueError(
                f"{name}: decoder_attention must be one of {DECODER_ATTENTION}, got {decoder_attention!r}."
            )
        if spatial_dims not in (2, 3):
            raise ValueError(f"{name}: spatial_dims must be 2 or 3, got {spatial_dims}.")
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"{name}: in_channels and out_channels must be >= 1, got {in_channels}, {out_channels}.")
        if num_classes < 1:
            raise ValueError(f"{name}: num_classes must be >= 1, got {num_classes}.")
        channels = tuple(int(c) for c in channels)
        attention_levels = tuple(bool(a) for a in attention_levels)
        if len(channels) == 0 or any(c <= 0 for c in channels):
            raise ValueError(f"{name}: channels must be a non-empty sequence of positive ints, got {channels}.")
        if any(c % norm_num_groups != 0 for c in channels):
            raise ValueError(
                f"{name}: every entry of channels must be divisible by norm_num_groups "
                f"({norm_num_groups}), got {channels}."
            )
        if len(attention_levels) != len(channels):
            raise ValueError(
                f"{name}: attention_levels must have len(channels)={len(channels)} entries, got {attention_levels}."
            )
        num_res_blocks = ensure_tuple_rep(num_res_blocks, len(channels))
        if len(num_res_blocks) != len(channels) or any(int(n) < 1 for n in num_res_blocks):
            raise ValueError(f"{name}: num_res_blocks must be >= 1 (int or one per level), got {num_res_blocks}.")
        num_head_channels = ensure_tuple_rep(num_head_channels, len(channels))
        if len(num_head_channels) != len(channels):
            raise ValueError(f"{name}: num_head_channels must be an int or one per level, got {num_head_channels}.")
        for c, hc, att in zip(channels, num_head_channels, attention_levels):
            if att and (hc <= 0 or c % hc != 0):
                raise ValueError(f"{name}: num_head_channels {hc} must divide the level's channels {c}.")
            if att and multi_attention and use_self_attention and rope and (hc % 2 != 0 or hc < 2 * spatial_dims):
                raise ValueError(
                    f"{name}: with rope, num_head_channels must be even and >= {2 * spatial_dims}, got {hc}."
                )
        if num_class_tokens < 1:
            raise ValueError(f"{name}: num_class_tokens must be >= 1, got {num_class_tokens}.")
        if class_embed_dim is not None and class_embed_dim < 1:
            raise ValueError(f"{name}: class_embed_dim must be >= 1, got {class_embed_dim}.")
        if not 0.0 <= attention_dropout < 1.0:
            raise ValueError(f"{name}: attention_dropout must be in [0, 1), got {attention_dropout}.")

        self.spatial_dims = spatial_dims
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_classes = int(num_classes)
        self.block_out_channels = channels
        self.attention_levels = attention_levels
        self.num_res_blocks = num_res_blocks
        self.num_class_tokens = int(num_class_tokens)
        self.decoder_attention = decoder_attention
        decoder_cross = decoder_attention == "cross"
        time_embed_dim = channels[0] * 4
        self.class_embed_dim = int(class_embed_dim or time_embed_dim)

        # 1. input, time and class embeddings
        self.conv_in = Convolution(
            spatial_dims, in_channels, channels[0], strides=1, kernel_size=3, padding=1, conv_only=True
        )
        self.time_embed = nn.Sequential(
            nn.Linear(channels[0], time_embed_dim), nn.SiLU(), nn.Linear(time_embed_dim, time_embed_dim)
        )
        # the class tokens exist only when some block attends to them: the cross-attention mid block / decoder, or an
        # encoder level with class cross-attention. An unused table would break DDP (unused parameters).
        encoder_cross = any(a and (not multi_attention or use_cross_attention) for a in attention_levels)
        self.class_embedding: nn.Embedding | None = None
        if decoder_cross or encoder_cross:
            self.class_embedding = nn.Embedding(self.num_classes + 1, self.num_class_tokens * self.class_embed_dim)
            nn.init.normal_(self.class_embedding.weight, std=0.02 * self.class_embed_dim**0.5)
        # light decoder: the class reaches the mid block and decoder MONAI's way, added to the timestep embedding
        self.timestep_class_embedding: nn.Embedding | None = None
        if not decoder_cross:
            self.timestep_class_embedding = nn.Embedding(self.num_classes + 1, time_embed_dim)

        monai_attn = {
            "num_head_channels": 0,  # set per level
            "transformer_num_layers": transformer_num_layers,
            "cross_attention_dim": self.class_embed_dim,
            "dropout_cattn": attention_dropout,
            "use_flash_attention": use_flash_attention,
        }

        # 2. encoder
        self.down_blocks = nn.ModuleList()
        out_ch = channels[0]
        for i, ch in enumerate(channels):
            in_ch, out_ch = out_ch, ch
            last = i == len(channels) - 1
            if attention_levels[i] and multi_attention:
                block: nn.Module = _MultiAttnDownBlock(
                    spatial_dims,
                    in_ch,
                    out_ch,
                    time_embed_dim,
                    num_res_blocks[i],
                    norm_num_groups,
                    norm_eps,
                    add_downsample=not last,
                    resblock_updown=resblock_updown,
                    attention_kwargs={
                        "num_head_channels": num_head_channels[i],
                        "context_dim": self.class_embed_dim,
                        "use_self_attention": use_self_attention,
                        "use_cross_attention": use_cross_attention,
                        "use_channel_attention": use_channel_attention,
                        "rope": rope,
                        "rope_base": rope_base,
                        "channel_reduction": channel_reduction,
                        "dropout": attention_dropout,
                    },
                )
            else:
                block = get_down_block(
                    spatial_dims=spatial_dims,
                    in_channels=in_ch,
                    out_channels=out_ch,
                    temb_channels=time_embed_dim,
                    num_res_blocks=num_res_blocks[i],
                    norm_num_groups=norm_num_groups,
                    norm_eps=norm_eps,
                    add_downsample=not last,
                    resblock_updown=resblock_updown,
                    with_attn=False,
                    with_cross_attn=attention_levels[i],
                    **{**monai_attn, "num_head_channels": num_head_channels[i]},
                )
            self.down_blocks.append(block)

        # 3. mid block (MONAI: cross-attention to the class tokens, or plain self-attention for the light decoder)
        self.middle_block = get_mid_block(
            spatial_dims=spatial_dims,
            in_channels=channels[-1],
            temb_channels=time_embed_dim,
            norm_num_groups=norm_num_groups,
            norm_eps=norm_eps,
            with_conditioning=decoder_cross,
            **{**monai_attn, "num_head_channels": num_head_channels[-1]},
        )

        # 4. decoder (MONAI blocks; cross- or self-attention at the attention levels)
        self.up_blocks = nn.ModuleList()
        rev_ch = list(reversed(channels))
        rev_res = list(reversed(num_res_blocks))
        rev_att = list(reversed(attention_levels))
        rev_heads = list(reversed(num_head_channels))
        out_ch = rev_ch[0]
        for i in range(len(rev_ch)):
            prev_out, out_ch = out_ch, rev_ch[i]
            in_ch = rev_ch[min(i + 1, len(channels) - 1)]
            self.up_blocks.append(
                get_up_block(
                    spatial_dims=spatial_dims,
                    in_channels=in_ch,
                    prev_output_channel=prev_out,
                    out_channels=out_ch,
                    temb_channels=time_embed_dim,
                    num_res_blocks=rev_res[i] + 1,
                    norm_num_groups=norm_num_groups,
                    norm_eps=norm_eps,
                    add_upsample=i != len(channels) - 1,
                    resblock_updown=resblock_updown,
                    with_attn=rev_att[i] and not decoder_cross,
                    with_cross_attn=rev_att[i] and decoder_cross,
                    **{**monai_attn, "num_head_channels": rev_heads[i]},
                )
            )

        # 5. output
        self.out = nn.Sequential(
            nn.GroupNorm(norm_num_groups, channels[0], eps=norm_eps, affine=True),
            nn.SiLU(),
            zero_module(
                Convolution(
                    spatial_dims, channels[0], out_channels, strides=1, kernel_size=3, padding=1, conv_only=True
                )
            ),
        )

    @property
    def null_class_index(self) -> int:
        """Label of the learned "no class" token (``num_classes``)."""
        return self.num_classes

    def class_tokens(self, class_labels: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor:
        """Look up the class tokens.

        Args:
            class_labels: ``(B,)`` (or ``(B, 1)``) integer labels in ``[0, num_classes]``; ``None`` -> null class.
            batch: batch size ``B``.
            device: device of the result.

        Returns:
            Class tokens, shape ``(B, num_class_tokens, class_embed_dim)``.

        Raises:
            ValueError: when no block attends to class tokens (light decoder without encoder class cross-attention).
        """
        if self.class_embedding is None:
            raise ValueError(
                f"{type(self).__name__}: no block attends to class tokens (decoder_attention='self' and no encoder "
                "class cross-attention); the class enters through timestep_class_embedding only."
            )
        labels = _labels_or_null(class_labels, batch, self.null_class_index, device)
        return self.class_embedding(labels).reshape(batch, self.num_class_tokens, self.class_embed_dim)

    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, class_labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Predict the diffusion target (noise, velocity or sample, as trained).

        Args:
            x: noisy input, shape ``(B, in_channels, *spatial)``; every spatial size divisible by
                ``2 ** (len(channels) - 1)``.
            timesteps: diffusion timesteps, shape ``(B,)`` (a scalar is broadcast).
            class_labels: ``(B,)`` integer labels in ``[0, num_classes]`` (``num_classes`` = no class);
                ``None`` means no class for every sample.

        Returns:
            Prediction, shape ``(B, out_channels, *spatial)``.
        """
        batch = x.shape[0]
        timesteps = torch.as_tensor(timesteps, device=x.device).reshape(-1)
        if timesteps.numel() == 1 and batch > 1:
            timesteps = timesteps.expand(batch)
        # 1. time embedding
        emb = self.time_embed(get_timestep_embedding(timesteps, self.block_out_channels[0]).to(dtype=x.dtype))
        # 2. class tokens (context of every cross-attention); light decoder: class embedding added to emb as well
        labels = _labels_or_null(class_labels, batch, self.null_class_index, x.device)
        context = None
        if self.class_embedding is not None:
            context = self.class_tokens(labels, batch, x.device).to(dtype=x.dtype)
        if self.timestep_class_embedding is not None:
            emb = emb + self.timestep_class_embedding(labels).to(dtype=x.dtype)
        # 3. initial convolution
        h = self.conv_in(x)
        # 4. encoder
        skips: list[torch.Tensor] = [h]
        for block in self.down_blocks:
            h, res = block(hidden_states=h, temb=emb, context=context)
            skips.extend(res)
        # 5. mid
        h = self.middle_block(hidden_states=h, temb=emb, context=context)
        # 6. decoder
        for block in self.up_blocks:
            n = len(block.resnets)
            res, skips = skips[-n:], skips[:-n]
            h = block(hidden_states=h, res_hidden_states_list=res, temb=emb, context=context)
        # 7. output
        return self.out(h)


class MonaiClassConditionalUNet(DiffusionModelUNet):
    """MONAI's :class:`~monai.networks.nets.DiffusionModelUNet` with the MedIENet call signature (the baseline).

    The class enters MONAI's way (a ``num_classes + 1``-row embedding added to the timestep embedding); the attention
    levels are MONAI's plain self-attention blocks. ``forward(x, timesteps, class_labels=None)`` maps ``None`` to
    the null class ``num_classes`` so classifier-free guidance works exactly as with :class:`MedIENetUNet`.

    Args:
        spatial_dims, in_channels, out_channels, channels, attention_levels, num_res_blocks, num_head_channels,
        norm_num_groups, norm_eps, resblock_updown, use_flash_attention: as in MONAI's ``DiffusionModelUNet``.
        num_classes: number of real classes (>= 1).
        **kwargs: further ``DiffusionModelUNet`` arguments.

    Raises:
        ValueError: when ``num_classes < 1`` (MONAI validates the rest).
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 4,
        out_channels: int = 4,
        num_classes: int = 2,
        channels: Sequence[int] = (64, 128, 128),
        attention_levels: Sequence[bool] = (False, True, True),
        num_res_blocks: Sequence[int] | int = 1,
        num_head_channels: Sequence[int] | int = 32,
        norm_num_groups: int = 32,
        norm_eps: float = 1e-6,
        resblock_updown: bool = False,
        use_flash_attention: bool = True,
        **kwargs: Any,
    ) -> None:
        if num_classes < 1:
            raise ValueError(f"{type(self).__name__}: num_classes must be >= 1, got {num_classes}.")
        super().__init__(
            spatial_dims=spatial_dims,
            in_channels=in_channels,
            out_channels=out_channels,
            num_res_blocks=num_res_blocks,
            channels=tuple(channels),
            attention_levels=tuple(attention_levels),
            norm_num_groups=norm_num_groups,
            norm_eps=norm_eps,
            resblock_updown=resblock_updown,
            num_head_channels=num_head_channels,
            num_class_embeds=num_classes + 1,
            use_flash_attention=use_flash_attention,
            **kwargs,
        )
        self.spatial_dims = spatial_dims
        self.num_classes = int(num_classes)

    @property
    def null_class_index(self) -> int:
        """Label of the learned "no class" token (``num_classes``)."""
        return self.num_classes

    def forward(  # type: ignore[override]
        self, x: torch.Tensor, timesteps: torch.Tensor, class_labels: torch.Tensor | None = None, **kwargs: Any
    ) -> torch.Tensor:
        """Same contract as :meth:`MedIENetUNet.forward`; extra kwargs go to MONAI's forward."""
        batch = x.shape[0]
        timesteps = torch.as_tensor(timesteps, device=x.device).reshape(-1)
        if timesteps.numel() == 1 and batch > 1:
            timesteps = timesteps.expand(batch)
        labels = _labels_or_null(class_labels, batch, self.null_class_index, x.device)
        return super().forward(x, timesteps=timesteps, class_labels=labels, **kwargs)


def build_diffusion_unet(name: str = "medienet", **kwargs: Any) -> nn.Module:
    """Build the denoising network by name with one set of keyword arguments.

    Args:
        name: ``"medienet"`` -> :class:`MedIENetUNet`; ``"monai"`` -> :class:`MonaiClassConditionalUNet` (MONAI's
            ``DiffusionModelUNet`` of matching size; the MedIENet-only arguments listed in
            :data:`MEDIENET_ONLY_ARGS` are dropped).
        **kwargs: constructor arguments of :class:`MedIENetUNet`.

    Returns:
        The network; both are called as ``model(x, timesteps=t, class_labels=y)``.

    Raises:
        ValueError: on an unknown ``name``.
    """
    key = str(name).lower()
    if key == "medienet":
        return MedIENetUNet(**kwargs)
    if key == "monai":
        return MonaiClassConditionalUNet(**{k: v for k, v in kwargs.items() if k not in MEDIENET_ONLY_ARGS})
    raise ValueError(f"build_diffusion_unet: name must be 'medienet' or 'monai', got {name!r}.")
