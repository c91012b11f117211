"""MedIENetUNet and the MONAI baseline: shapes (2D/3D), conditioning, gradients, state dicts, validation."""

from __future__ import annotations

import pytest
import torch

from monai_medienet.networks import MedIENetUNet, MonaiClassConditionalUNet, MultiAttentionBlock, build_diffusion_unet

TINY = {
    "spatial_dims": 2,
    "in_channels": 3,
    "out_channels": 3,
    "num_classes": 2,
    "channels": (8, 16),
    "attention_levels": (False, True),
    "num_res_blocks": 1,
    "num_head_channels": 8,
    "norm_num_groups": 4,
}


def randomize_zero_init(net: torch.nn.Module, std: float = 0.05) -> torch.nn.Module:
    """MONAI zero-initialises the output conv and residual convs; fill them so outputs depend on the input."""
    with torch.no_grad():
        for p in net.parameters():
            if p.dim() > 1 and not p.any():
                p.normal_(0.0, std)
    return net


def tiny(name: str = "medienet", **kw) -> torch.nn.Module:
    torch.manual_seed(0)
    return randomize_zero_init(build_diffusion_unet(name, **{**TINY, **kw}))


@pytest.mark.parametrize("name", ["medienet", "monai"])
@pytest.mark.parametrize("spatial_dims, size", [(2, (8, 12)), (3, (4, 4, 8))])
def test_forward_shapes(name, spatial_dims, size):
    net = tiny(name, spatial_dims=spatial_dims)
    x = torch.randn(2, 3, *size)
    y = net(x, timesteps=torch.tensor([3, 900]), class_labels=torch.tensor([0, 1]))
    assert y.shape == x.shape and y.dtype == torch.float32


def test_encoder_uses_multi_attention_and_switches():
    net = MedIENetUNet(**TINY)
    blocks = [m for m in net.modules() if isinstance(m, MultiAttentionBlock)]
    assert len(blocks) == 1 and blocks[0].rope is not None
    assert not any(isinstance(m, MultiAttentionBlock) for m in MedIENetUNet(**TINY, multi_attention=False).modules())
    no_rope = MedIENetUNet(**TINY, rope=False)
    assert [m for m in no_rope.modules() if isinstance(m, MultiAttentionBlock)][0].rope is None
    full = sum(p.numel() for p in net.parameters())
    for part in ("use_self_attention", "use_cross_attention", "use_channel_attention"):
        assert sum(p.numel() for p in MedIENetUNet(**TINY, **{part: False}).parameters()) < full


@pytest.mark.parametrize("name, kw", [("medienet", {}), ("medienet", {"decoder_attention": "self"}), ("monai", {})])
def test_class_labels_condition_output_and_none_is_null(name, kw):
    net = tiny(name, **kw).eval()
    x = torch.randn(1, 3, 8, 8).expand(3, -1, -1, -1)
    t = torch.tensor([500, 500, 500])
    y = net(x, timesteps=t, class_labels=torch.tensor([0, 1, 2]))
    assert not torch.allclose(y[0], y[1], atol=1e-5)
    assert not torch.allclose(y[0], y[2], atol=1e-5)
    null = net(x[:1], timesteps=t[:1], class_labels=None)
    torch.testing.assert_close(null, y[2:], atol=1e-5, rtol=1e-5)
    assert net.null_class_index == 2


def test_gradients_reach_every_attention_part_and_class_table():
    net = tiny()
    x = torch.randn(2, 3, 8, 8)
    net(x, timesteps=torch.tensor([10, 700]), class_labels=torch.tensor([0, 2])).square().mean().backward()
    block = next(m for m in net.modules() if isinstance(m, MultiAttentionBlock))
    for mod in (block.self_qkv, block.self_out, block.cross_q, block.cross_kv, block.cross_out, block.channel_mlp):
        for p in mod.parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0
    g = net.class_embedding.weight.grad
    assert g[0].abs().sum() > 0 and g[2].abs().sum() > 0  # used rows get gradient
    assert g[1].abs().sum() == 0  # the unused class row does not


@pytest.mark.parametrize("name", ["medienet", "monai"])
def test_state_dict_round_trip_weights_only(name, tmp_path):
    net = tiny(name).eval()
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    torch.manual_seed(1)
    other = build_diffusion_unet(name, **TINY).eval()
    other.load_state_dict(torch.load(path, weights_only=True))
    x, t, y = torch.randn(2, 3, 8, 8), torch.tensor([1, 2]), torch.tensor([1, 0])
    torch.testing.assert_close(other(x, timesteps=t, class_labels=y), net(x, timesteps=t, class_labels=y))


def test_factory_drops_medienet_only_args_for_monai():
    net = build_diffusion_unet("monai", **TINY, rope=False, multi_attention=True, num_class_tokens=2)
    assert isinstance(net, MonaiClassConditionalUNet)
    assert net.class_embedding.num_embeddings == 3
    with pytest.raises(ValueError, match="build_diffusion_unet: name must be"):
        build_diffusion_unet("unet3000", **TINY)


def test_scalar_timestep_and_column_labels():
    net = tiny().eval()
    x = torch.randn(2, 3, 8, 8)
    a = net(x, timesteps=torch.tensor(5), class_labels=torch.tensor([[0], [1]]))
    b = net(x, timesteps=torch.tensor([5, 5]), class_labels=torch.tensor([0, 1]))
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="one label per sample"):
        net(x, timesteps=torch.tensor([5, 5]), class_labels=torch.tensor([0, 1, 1]))


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"num_classes": 0}, "num_classes must be >= 1, got 0"),
        ({"spatial_dims": 4}, "spatial_dims must be 2 or 3, got 4"),
        ({"channels": (6, 16)}, "norm_num_groups"),
        ({"attention_levels": (True,)}, "attention_levels"),
        ({"num_res_blocks": 0}, "num_res_blocks"),
        ({"num_head_channels": 6}, "num_head_channels 6"),
        ({"num_class_tokens": 0}, "num_class_tokens"),
        ({"class_embed_dim": 0}, "class_embed_dim"),
        ({"attention_dropout": 1.5}, "attention_dropout"),
        ({"decoder_attention": "none"}, "decoder_attention must be one of .*'none'"),
        ({"in_channels": 0}, "in_channels"),
        ({"spatial_dims": 3, "num_head_channels": 4, "channels": (8, 16)}, "rope"),
    ],
)
def test_constructor_errors(kw, match):
    with pytest.raises(ValueError, match=f"MedIENetUNet: .*{match}"):
        MedIENetUNet(**{**TINY, **kw})


def test_monai_baseline_num_classes_error():
    with pytest.raises(ValueError, match="MonaiClassConditionalUNet: num_classes must be >= 1, got 0"):
        MonaiClassConditionalUNet(**{**TINY, "num_classes": 0})


def test_light_decoder_uses_monai_self_attention_and_class_embedding():
    from monai.networks.nets.diffusion_model_unet import (
        AttnMidBlock,
        AttnUpBlock,
        CrossAttnMidBlock,
        CrossAttnUpBlock,
        SpatialTransformer,
    )

    default, light = MedIENetUNet(**TINY), MedIENetUNet(**TINY, decoder_attention="self")
    assert isinstance(default.middle_block, CrossAttnMidBlock) and default.timestep_class_embedding is None
    assert isinstance(light.middle_block, AttnMidBlock)
    assert any(isinstance(b, CrossAttnUpBlock) for b in default.up_blocks)
    assert any(isinstance(b, AttnUpBlock) for b in light.up_blocks)
    assert not any(isinstance(m, SpatialTransformer) for m in light.modules())  # no GEGLU / cross transformers
    assert any(isinstance(m, MultiAttentionBlock) for m in light.modules())  # the encoder is unchanged
    assert light.timestep_class_embedding.num_embeddings == TINY["num_classes"] + 1
    assert sum(p.numel() for p in light.parameters()) < sum(p.numel() for p in default.parameters())
    # the class reaches the decoder through both paths, and the null row is used for None
    net = tiny(decoder_attention="self")
    x = torch.randn(2, 3, 8, 8)
    net(x, timesteps=torch.tensor([10, 700]), class_labels=torch.tensor([0, 2])).square().mean().backward()
    g = net.timestep_class_embedding.weight.grad
    assert g[0].abs().sum() > 0 and g[2].abs().sum() > 0 and g[1].abs().sum() == 0
    assert net.class_embedding.weight.grad[0].abs().sum() > 0  # encoder cross-attention still sees the class
    with pytest.raises(RuntimeError, match="state_dict"):
        light.load_state_dict(default.state_dict())


@pytest.mark.parametrize(
    "kwargs", [{"use_cross_attention": False}, {"attention_levels": (False, False)}], ids=["no_cross", "no_attention"]
)
def test_light_decoder_without_encoder_cross_attention_has_no_unused_class_tokens(kwargs):
    net = tiny(**kwargs, decoder_attention="self")
    assert net.class_embedding is None
    with pytest.raises(ValueError, match="no block attends to class tokens"):
        net.class_tokens(torch.tensor([0]), 1, torch.device("cpu"))
    x = torch.randn(2, 3, 8, 8)
    net(x, timesteps=torch.tensor([10, 700]), class_labels=torch.tensor([0, 1])).square().mean().backward()
    unused = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert unused == []  # DDP without find_unused_parameters works
    # the class still changes the output (through the timestep embedding)
    with torch.no_grad():
        a = net(x[:1], timesteps=torch.tensor([500]), class_labels=torch.tensor([0]))
        b = net(x[:1], timesteps=torch.tensor([500]), class_labels=torch.tensor([1]))
    assert not torch.allclose(a, b)
    # the default decoder keeps the class tokens even without encoder attention
    assert MedIENetUNet(**{**TINY, **kwargs}).class_embedding is not None
