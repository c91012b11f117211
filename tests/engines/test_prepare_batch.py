"""ClassConditionalDiffusionPrepareBatch, alone and inside MONAI's SupervisedTrainer with the latent inferer."""

from __future__ import annotations

import pytest
import torch
from monai.engines import SupervisedTrainer
from monai.engines.utils import DiffusionPrepareBatch
from monai.networks.nets import AutoencoderKL

from monai_medienet.engines import ClassConditionalDiffusionPrepareBatch
from monai_medienet.inferers import ClassConditionalLatentDiffusionInferer
from monai_medienet.losses import get_diffusion_loss
from monai_medienet.networks import MedIENetUNet
from monai_medienet.schedulers import get_scheduler


def test_is_monai_diffusion_prepare_batch_and_output_structure():
    pb = ClassConditionalDiffusionPrepareBatch(100, num_classes=2, latent_shape=(3, 4, 4), seed=0)
    assert isinstance(pb, DiffusionPrepareBatch)
    images = torch.rand(5, 1, 16, 16)
    out = pb({"image": images, "label": torch.tensor([[0], [1], [1], [0], [1]])}, device="cpu")
    imgs, target, args, kwargs = out
    assert imgs is images or torch.equal(imgs, images)
    assert args == () and set(kwargs) == {"noise", "timesteps", "class_labels"}
    assert kwargs["noise"].shape == (5, 3, 4, 4) and torch.equal(target, kwargs["noise"])
    assert kwargs["timesteps"].shape == (5,) and kwargs["timesteps"].dtype == torch.long
    assert int(kwargs["timesteps"].min()) >= 0 and int(kwargs["timesteps"].max()) < 100
    assert kwargs["class_labels"].shape == (5,) and kwargs["class_labels"].dtype == torch.long


def test_image_shaped_noise_without_latent_shape_and_tuple_batches():
    pb = ClassConditionalDiffusionPrepareBatch(10, num_classes=3, cond_drop_prob=0.0)
    images, labels = torch.rand(2, 1, 8, 8), torch.tensor([2, 0])
    _, target, _, kw = pb((images, labels))
    assert target.shape == images.shape
    assert kw["class_labels"].tolist() == [2, 0]
    _, _, _, kw = pb(images)  # no labels -> null class
    assert kw["class_labels"].tolist() == [3, 3]
    _, _, _, kw = pb({"image": images})
    assert kw["class_labels"].tolist() == [3, 3]


def test_label_dropout_rate_is_honoured():
    n, p = 20000, 0.3
    pb = ClassConditionalDiffusionPrepareBatch(10, num_classes=2, cond_drop_prob=p, seed=123)
    labels = torch.randint(0, 2, (n,), generator=torch.Generator().manual_seed(1))
    out = pb.get_class_labels(labels, n)
    dropped = out == 2
    # binomial sd = sqrt(p (1-p) / n) ~= 0.0032; 0.015 is > 4.5 sd
    assert abs(float(dropped.float().mean()) - p) < 0.015
    assert torch.equal(out[~dropped], labels[~dropped])  # kept labels are unchanged
    assert torch.equal(
        ClassConditionalDiffusionPrepareBatch(10, 2, cond_drop_prob=0.0).get_class_labels(labels, n), labels
    )
    assert bool(
        (ClassConditionalDiffusionPrepareBatch(10, 2, cond_drop_prob=1.0).get_class_labels(labels, n) == 2).all()
    )


def test_default_drop_probability_and_seeded_reproducibility():
    assert ClassConditionalDiffusionPrepareBatch(10, 2).cond_drop_prob == 0.1
    batch = {"image": torch.rand(64, 1, 4, 4), "label": torch.randint(0, 2, (64,))}
    a = ClassConditionalDiffusionPrepareBatch(50, 2, latent_shape=(2, 2, 2), seed=7)(batch)[3]
    torch.manual_seed(999)  # the global RNG does not matter with an own generator
    b = ClassConditionalDiffusionPrepareBatch(50, 2, latent_shape=(2, 2, 2), seed=7)(batch)[3]
    c = ClassConditionalDiffusionPrepareBatch(50, 2, latent_shape=(2, 2, 2), seed=8)(batch)[3]
    for key in a:
        assert torch.equal(a[key], b[key])
    assert not torch.equal(a["noise"], c["noise"])
    gen = torch.Generator().manual_seed(7)
    d = ClassConditionalDiffusionPrepareBatch(50, 2, latent_shape=(2, 2, 2), generator=gen)(batch)[3]
    assert torch.equal(a["noise"], d["noise"])


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"num_train_timesteps": 0}, "num_train_timesteps must be >= 1, got 0"),
        ({"num_classes": 0}, "num_classes must be >= 1, got 0"),
        ({"cond_drop_prob": 1.5}, "cond_drop_prob must be in \\[0, 1\\], got 1.5"),
        ({"latent_shape": (4,)}, "latent_shape"),
    ],
)
def test_constructor_errors(kw, match):
    args = {"num_train_timesteps": 10, "num_classes": 2, **kw}
    with pytest.raises(ValueError, match=f"ClassConditionalDiffusionPrepareBatch: {match}"):
        ClassConditionalDiffusionPrepareBatch(**args)


def test_label_errors():
    pb = ClassConditionalDiffusionPrepareBatch(10, num_classes=2)
    with pytest.raises(ValueError, match="expected 2 labels"):
        pb({"image": torch.rand(2, 1, 4, 4), "label": torch.tensor([0, 1, 1])})
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\]"):
        pb({"image": torch.rand(2, 1, 4, 4), "label": torch.tensor([0, 5])})


def test_supervised_trainer_two_iterations_with_tiny_autoencoder():
    """MONAI's own SupervisedTrainer._iteration + our PrepareBatch + inferer: no copied training loop needed."""
    torch.manual_seed(0)
    ae = AutoencoderKL(
        spatial_dims=2,
        in_channels=1,
        out_channels=1,
        channels=(8, 8),
        latent_channels=3,
        num_res_blocks=1,
        norm_num_groups=4,
        attention_levels=(False, False),
    )
    net = MedIENetUNet(
        spatial_dims=2,
        in_channels=3,
        out_channels=3,
        num_classes=2,
        channels=(8, 16),
        attention_levels=(False, True),
        num_res_blocks=1,
        num_head_channels=8,
        norm_num_groups=4,
    )
    scheduler = get_scheduler("ddpm", num_train_timesteps=100)
    inferer = ClassConditionalLatentDiffusionInferer(scheduler, autoencoder=ae, scale_factor=0.9)
    prepare = ClassConditionalDiffusionPrepareBatch(100, num_classes=2, latent_shape=(3, 8, 8), seed=0)
    data = [{"image": torch.rand(2, 1, 16, 16), "label": torch.tensor([0, 1])} for _ in range(2)]
    net_before = {k: v.clone() for k, v in net.state_dict().items()}
    ae_before = {k: v.clone() for k, v in ae.state_dict().items()}
    trainer = SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=1,
        train_data_loader=data,
        network=net,
        optimizer=torch.optim.Adam(net.parameters(), 1e-3),
        loss_function=get_diffusion_loss("l2"),
        inferer=inferer,
        prepare_batch=prepare,
    )
    trainer.run()
    assert trainer.state.iteration == 2
    out = trainer.state.output[0] if isinstance(trainer.state.output, list) else trainer.state.output
    assert torch.isfinite(torch.as_tensor(out["loss"]))
    assert any(not torch.equal(net_before[k], v) for k, v in net.state_dict().items())
    assert all(torch.equal(ae_before[k], v) for k, v in ae.state_dict().items())
