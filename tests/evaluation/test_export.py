"""save_classifier / load_classifier, and the protocol's opt-in that writes its kept classifiers."""

from __future__ import annotations

import pytest
import torch
from test_protocol import _fast, _random_splits  # the tiny in-memory run of the protocol tests

from monai_medienet.evaluation import build_classifier, load_classifier, run_evaluation, save_classifier


def _tiny(tmp_path, **kw):
    net = build_classifier("resnet18", 1, 2, 16)
    args = dict(arch="resnet18", in_channels=1, num_classes=2, classes=["neg", "pos"], image_size=16)
    args.update(kw)
    return net, save_classifier(net, tmp_path / "c.pt", **args)


def test_round_trip_gives_identical_outputs(tmp_path):
    net, path = _tiny(tmp_path, extra={"preprocessing": {"intensity": "dtype", "resize_mode": "pad"}})
    loaded = load_classifier(path, device="cpu")
    x = torch.rand(3, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(net.eval()(x), loaded.network(x))
    assert loaded.classes == ["neg", "pos"] and loaded.image_size == (16, 16) and loaded.arch == "resnet18"
    assert loaded.extra["preprocessing"]["resize_mode"] == "pad" and not loaded.network.training
    assert torch.load(path, weights_only=True)["format"] == "monai_medienet.classifier"


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"arch": "vgg"}, "arch must be one of .* got 'vgg'"),
        ({"num_classes": 1, "classes": ["a"]}, "num_classes must be >= 2, got 1"),
        ({"classes": ["a", "a"]}, r"classes must be 2 distinct names, got \['a', 'a'\]"),
        ({"image_size": (16, 16, 16)}, r"image_size must be .* got \(16, 16, 16\)"),
        ({"extra": {"x": object}}, "extra must be JSON-serialisable"),
        ({"in_channels": 3}, "the network's weights do not fit arch='resnet18', in_channels=3"),
    ],
)
def test_save_rejects_bad_arguments(tmp_path, kw, match):
    with pytest.raises(ValueError, match=f"save_classifier: {match}"):
        _tiny(tmp_path, **kw)


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="load_classifier"):
        load_classifier(tmp_path / "missing.pt")
    torch.save({"state": {}, "classes": ["a", "b"]}, tmp_path / "diffusion.pt")
    with pytest.raises(ValueError, match="load_classifier: .* is not a classifier checkpoint"):
        load_classifier(tmp_path / "diffusion.pt")


def test_protocol_writes_kept_classifiers_when_asked(tmp_path):
    splits, syn = _random_splits()
    cfg = _fast(arms=["real", "real+syn+aug"], gradcam_images=0, fidelity=False, feature_classifier=False)
    off = run_evaluation(splits, syn, output_dir=tmp_path / "off", classes=["neg", "pos"], **cfg)
    assert "classifier_checkpoints" not in off and not (tmp_path / "off" / "classifiers").exists()
    res = run_evaluation(splits, syn, output_dir=tmp_path / "on", classes=["neg", "pos"], save_classifiers=True, **cfg)
    paths = res["classifier_checkpoints"]
    assert set(paths) == {"real", "real+syn+aug"}
    loaded = load_classifier(paths["real+syn+aug"])
    assert loaded.classes == ["neg", "pos"] and loaded.image_size == (16, 16) and loaded.in_channels == 1
    assert loaded.extra["arm"] == "real+syn+aug" and loaded.extra["seed"] == 0
    # the saved weights are the ones the protocol scored: same test probabilities (seed 0 is the only seed)
    x = torch.stack([torch.as_tensor(it["image"]) for it in splits["test"]])
    with torch.no_grad():
        p = torch.softmax(loaded.network(x), dim=1)[:, 1].numpy()
    expected = res["artifacts"]["probs"]["real+syn+aug"][0][:, 1]
    assert abs(p - expected).max() < 1e-5


def test_protocol_stores_the_preprocessing_with_saved_classifiers(tmp_path):
    from monai_medienet.transforms import image_preprocessing

    splits, syn = _random_splits()  # channel-first arrays through the bundles' preprocessing
    transform = image_preprocessing(image_size=16, intensity="none", resize_mode="resize")
    cfg = _fast(arms=["real"], gradcam_images=0, fidelity=False, feature_classifier=False)
    res = run_evaluation(
        splits, syn, transform, output_dir=tmp_path, classes=["neg", "pos"], save_classifiers=True, **cfg
    )
    loaded = load_classifier(res["classifier_checkpoints"]["real"])
    assert loaded.extra["preprocessing"] == {
        "image_size": [16, 16], "channels": 1, "intensity": "none", "resize_mode": "resize", "orientation": None
    }  # fmt: skip
