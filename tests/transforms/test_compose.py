"""image_preprocessing and classic_augmentation: shapes, [0, 1] range, dtypes, padding without distortion, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_medienet.io import write_test_dicom, write_test_png
from monai_medienet.transforms import (
    CT_WINDOWS,
    EnsureChannels,
    FitAndPad,
    ScaleIntensityByDtype,
    UntrackedCompose,
    chain_transforms,
    classic_augmentation,
    ct_window,
    image_preprocessing,
)

RNG = np.random.default_rng(0)


def test_medmnist_array_is_padded_not_resized():
    arr = RNG.integers(0, 256, (1, 28, 28), dtype=np.uint8)
    out = image_preprocessing((32, 32), intensity="dtype")({"image": arr, "label": 1})
    img = out["image"]
    assert type(img) is torch.Tensor and img.shape == (1, 32, 32) and img.dtype == torch.float32
    assert out["label"].dtype == torch.int64 and out["label"].ndim == 0 and int(out["label"]) == 1
    np.testing.assert_allclose(img[0, 2:30, 2:30].numpy(), arr[0] / 255.0, atol=1e-6)
    assert torch.equal(image_preprocessing(32, intensity="dtype")({"image": arr, "label": 1})["image"], img)
    assert float(img[0, :2].abs().max()) == 0.0  # zero border


def test_large_image_is_shrunk_with_aspect_kept_then_padded():
    img = torch.ones(1, 40, 20)
    out = FitAndPad((16, 16))(img)
    assert out.shape == (1, 16, 16)
    cols = (out[0].sum(0) > 0).sum().item()
    assert cols == 8  # 40x20 -> 16x8, padded to 16x16


def test_resize_mode_and_3d():
    arr = RNG.random((1, 20, 10, 6)).astype(np.float32)
    out = image_preprocessing((8, 8, 8), resize_mode="resize")({"image": arr, "label": 0})
    assert out["image"].shape == (1, 8, 8, 8)
    assert 0.0 <= float(out["image"].min()) and float(out["image"].max()) <= 1.0


@pytest.mark.parametrize("intensity", ["minmax", "percentile", "dtype"])
def test_intensity_modes_stay_in_unit_range(tmp_path, intensity):
    pixels = RNG.integers(1000, 30000, (20, 20), dtype=np.uint16)
    path = write_test_png(tmp_path / "x.png", pixels)
    out = image_preprocessing((32, 32), intensity=intensity)({"image": str(path), "label": 0})["image"]
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    inner = out[0, 6:26, 6:26].numpy()
    if intensity == "dtype":
        np.testing.assert_allclose(inner, pixels / 65535.0, atol=1e-6)
    else:
        assert inner.min() == pytest.approx(0.0, abs=1e-6) and inner.max() == pytest.approx(1.0, abs=1e-6)


def test_intensity_none_leaves_values_alone():
    arr = RNG.random((1, 8, 8)).astype(np.float32)
    out = image_preprocessing((8, 8), intensity="none")({"image": arr, "label": 0})["image"]
    np.testing.assert_array_equal(out.numpy(), arr)


def test_ct_window_on_dicom_hu(tmp_path):
    raw = np.array([[0, 1024 - 1350, 1024 + 150], [1024, 1024 - 600, 4000]], dtype=np.int16)
    raw = np.clip(raw, 0, None).astype(np.int16)
    path = write_test_dicom(tmp_path / "ct.dcm", raw, rescale=(1.0, -1024.0))
    out = image_preprocessing((2, 3), intensity="lung")({"image": str(path), "label": 0})
    hu = raw.astype(np.float32) - 1024.0
    level, width = CT_WINDOWS["lung"]
    expected = np.clip((hu - (level - width / 2)) / width, 0, 1)
    np.testing.assert_allclose(out["image"][0].numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match="unknown CT window preset 'lungs'"):
        ct_window("lungs")


def test_channels_conversion():
    rgb = torch.rand(3, 4, 4)
    assert EnsureChannels(1)(rgb).shape == (1, 4, 4)
    assert EnsureChannels(3)(torch.rand(1, 4, 4)).shape == (3, 4, 4)
    with pytest.raises(ValueError, match="has 2 channels"):
        EnsureChannels(3)(torch.rand(2, 4, 4))
    out = image_preprocessing((8, 8), channels=3)({"image": np.zeros((1, 8, 8), np.uint8), "label": 0})
    assert out["image"].shape == (3, 8, 8)


def test_dtype_scaling_of_12_bit_dicom_uses_bits_stored(tmp_path):
    raw = np.array([[0, 1024], [2048, 4095]], dtype=np.uint16)
    plain = write_test_dicom(tmp_path / "x.dcm", raw, bits_stored=12)
    rescaled = write_test_dicom(tmp_path / "r.dcm", raw, bits_stored=12, rescale=(1.0, 0.0))
    for path in (plain, rescaled):
        out = image_preprocessing((2, 2), intensity="dtype")({"image": str(path), "label": 0})["image"]
        np.testing.assert_allclose(out[0].numpy(), raw / 4095.0, atol=1e-6)


def test_dtype_scaling_rejects_signed_integers():
    with pytest.raises(ValueError, match="signed integer"):
        ScaleIntensityByDtype()(torch.zeros(1, 2, 2, dtype=torch.int16))


def test_argument_validation():
    with pytest.raises(ValueError, match="image_size"):
        image_preprocessing((0, 32))
    with pytest.raises(ValueError, match="intensity"):
        image_preprocessing((32, 32), intensity="zscore")
    with pytest.raises(ValueError, match="resize_mode"):
        image_preprocessing((32, 32), resize_mode="crop")
    with pytest.raises(ValueError, match="not divisible by 8"):
        image_preprocessing((28, 28), divisible_by=8)
    with pytest.raises(ValueError, match="crop_scale"):
        classic_augmentation(crop_scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="flip_axes"):
        classic_augmentation(flip_axes=(2,))
    for bad in ((0.0, 1.5), (1.5, 0.7), (0.7,)):
        with pytest.raises(ValueError, match="gamma_range"):
            classic_augmentation(gamma_range=bad)


def test_classic_augmentation_gamma():
    """The optional random gamma keeps every image's own range, maps x to x**gamma on [0, 1] images and is off by
    default."""
    assert "RandAdjustContrastd" not in [type(t).__name__ for t in classic_augmentation().transforms]
    x = torch.linspace(0.0, 1.0, 256).reshape(1, 16, 16)
    only_gamma = dict(rotate_degrees=0, crop_scale=(1.0, 1.0), intensity_jitter=0, prob=1.0)
    aug = classic_augmentation(gamma_range=(1.5, 1.5), **only_gamma)
    names = [type(t).__name__ for t in aug.transforms]
    assert names == ["RandAdjustContrastd", "EnsureTyped"]
    out = aug({"image": x.clone()})["image"]
    torch.testing.assert_close(out, x**1.5, atol=1e-5, rtol=0)
    y = 0.2 + 0.5 * x  # range [0.2, 0.7] is kept
    out = classic_augmentation(gamma_range=(0.7, 1.5), seed=1, **only_gamma)({"image": y})["image"]
    assert abs(float(out.min()) - 0.2) < 1e-5 and abs(float(out.max()) - 0.7) < 1e-5
    assert not torch.allclose(out, y, atol=1e-3)
    seeded = [
        classic_augmentation(gamma_range=(0.7, 1.5), seed=s, **only_gamma)({"image": x})["image"] for s in (1, 1, 2)
    ]
    assert torch.equal(seeded[0], seeded[1]) and not torch.equal(seeded[0], seeded[2])


def test_classic_augmentation_is_seeded_and_flips_off_by_default():
    item = {"image": torch.rand(1, 16, 16), "label": torch.tensor(0)}
    a = classic_augmentation(seed=3, image_size=(16, 16), prob=1.0)(dict(item))["image"]
    b = classic_augmentation(seed=3, image_size=(16, 16), prob=1.0)(dict(item))["image"]
    c = classic_augmentation(seed=4, image_size=(16, 16), prob=1.0)(dict(item))["image"]
    assert a.shape == (1, 16, 16) and type(a) is torch.Tensor
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert 0.0 <= float(a.min()) and float(a.max()) <= 1.0
    names = [type(t).__name__ for t in classic_augmentation().transforms]
    assert "RandFlipd" not in names
    assert "RandFlipd" in [type(t).__name__ for t in classic_augmentation(flip_axes=(1,)).transforms]
    vol = classic_augmentation(spatial_dims=3, seed=0, prob=1.0)({"image": torch.rand(1, 8, 8, 8)})["image"]
    assert vol.shape == (1, 8, 8, 8)


def test_untracked_augmentation_gives_the_same_pixels_faster_path():
    """classic_augmentation runs with MetaTensor tracking off by default: bitwise the same pixels as the tracked
    Compose of the same transforms and seed, plain tensors out, the global tracking flag restored."""
    from monai.data import MetaTensor, get_track_meta
    from monai.transforms import Compose

    untracked = classic_augmentation(seed=5, image_size=(16, 16), prob=1.0)
    assert isinstance(untracked, UntrackedCompose)
    tracked = Compose(list(classic_augmentation(image_size=(16, 16), prob=1.0).transforms))
    tracked.set_random_state(seed=5)
    for _ in range(3):
        item = {"image": MetaTensor(torch.rand(1, 16, 16))}
        a, b = untracked(dict(item))["image"], tracked(dict(item))["image"]
        assert type(a) is torch.Tensor and torch.equal(a, torch.as_tensor(b))
    assert get_track_meta()
    assert not isinstance(classic_augmentation(track_meta=True), UntrackedCompose)


def test_chain_transforms_caches_the_deterministic_prefix(tmp_path):
    from monai.data import CacheDataset

    paths = [write_test_png(tmp_path / f"{i}.png", RNG.integers(0, 256, (20, 20)).astype(np.uint8)) for i in range(3)]
    items = [{"image": str(p), "label": i % 2} for i, p in enumerate(paths)]
    pre = image_preprocessing(image_size=(16, 16), resize_mode="resize")
    aug = classic_augmentation(seed=0, image_size=(16, 16), prob=1.0)
    chained = chain_transforms(pre, aug)
    assert chained.transforms == (*pre.transforms, aug)  # the untracked augmentation stays one unit
    assert chained.preprocessing_settings == pre.preprocessing_settings
    from monai.transforms import Compose, RandomizableTrait, Transform

    def random(t):  # CacheDataset's criterion for the first transform it does not cache
        return isinstance(t, RandomizableTrait) or not isinstance(t, Transform)

    assert chained.get_index_of_first(random) == len(pre.transforms)
    assert chain_transforms(pre, Compose(list(aug.transforms))).transforms == (*pre.transforms, *aug.transforms)
    assert Compose([pre, aug]).get_index_of_first(random) == 0  # nested: CacheDataset would cache nothing
    ds = CacheDataset(items, transform=chained, progress=False)
    cached = ds._cache[0]
    assert isinstance(cached["image"], torch.Tensor) and cached["image"].shape == (1, 16, 16)  # preprocessed once
    torch.manual_seed(0)
    first, second = ds[0]["image"], ds[0]["image"]
    assert first.shape == (1, 16, 16) and not torch.equal(first, second)  # the random tail runs on every access
    assert torch.equal(ds._cache[0]["image"], cached["image"])
    with pytest.raises(ValueError, match="chain_transforms: needs at least one"):
        chain_transforms()
    with pytest.raises(ValueError, match="must be callable"):
        chain_transforms(pre, 3)


def test_real_pneumoniamnist_and_chest_xray_preprocess(pneumoniamnist_npz, chest_xray_dir):
    with np.load(pneumoniamnist_npz) as npz:
        arr = npz["train_images"][0][None]
    out = image_preprocessing((32, 32), intensity="dtype")({"image": arr, "label": 0})
    assert out["image"].shape == (1, 32, 32)
    path = sorted((chest_xray_dir / "train" / "PNEUMONIA").iterdir())[0]
    out = image_preprocessing((64, 64))({"image": str(path), "label": 1})
    assert out["image"].shape == (1, 64, 64) and float(out["image"].max()) <= 1.0
