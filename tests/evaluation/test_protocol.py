from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from monai_medienet.evaluation import EvaluationConfig, filter_synthetic, parse_arm, run_evaluation


def test_parse_arm():
    off = {"filter": False, "realism": False, "hard": False, "screen": False, "pretrain": False}
    assert parse_arm("real+syn+aug") == {"real": True, "syn": True, "aug": True, **off}
    assert parse_arm("syn") == {"real": False, "syn": True, "aug": False, **off}
    assert parse_arm("real+syn+aug+hard")["hard"]
    assert parse_arm("real+syn+aug+filter")["filter"]
    assert parse_arm("real+syn+aug+realism")["realism"]
    assert parse_arm("real+syn+aug+realism+pretrain")["pretrain"]
    assert parse_arm("real+syn+aug+screen")["screen"]
    for bad in ("aug", "real+real", "real+gan", "real+aug+filter", "real+realism", "real+syn+filter+realism",
                "real+hard", "real+syn+hard+filter", "real+aug+pretrain", "syn+aug+pretrain", "real+aug+screen",
                "real+syn+screen+filter"):  # fmt: skip
        with pytest.raises(ValueError, match="parse_arm"):
            parse_arm(bad)


def test_config_validation():
    with pytest.raises(ValueError, match="k_per_class"):
        EvaluationConfig(k_per_class=0)
    with pytest.raises(ValueError, match="seeds"):
        EvaluationConfig(seeds=[1, 1])
    with pytest.raises(TypeError):
        EvaluationConfig(not_a_field=1)
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="filter_keep_fraction"):
            EvaluationConfig(filter_keep_fraction=bad)
    with pytest.raises(ValueError, match="realism_k"):
        EvaluationConfig(realism_k=0)
    for bad in (0.0, 100.0):
        with pytest.raises(ValueError, match="EvaluationConfig: near_copy_percentile must be in"):
            EvaluationConfig(near_copy_percentile=bad)
    with pytest.raises(ValueError, match="pretrain_steps"):
        EvaluationConfig(pretrain_steps=0)
    with pytest.raises(ValueError, match="finetune_steps"):
        EvaluationConfig(finetune_steps=0)
    with pytest.raises(ValueError, match="finetune_lr"):
        EvaluationConfig(finetune_lr=0.0)
    for bad in ([0.0, 1.5], [1.5, 0.7], [0.7]):
        with pytest.raises(ValueError, match="gamma_range"):
            EvaluationConfig(gamma_range=bad)
    assert EvaluationConfig(gamma_range=(0.7, 1.5)).to_dict()["gamma_range"] == [0.7, 1.5]
    with pytest.raises(ValueError, match="primary"):
        EvaluationConfig(arms=["real", "real+aug"], primary=["real+syn+aug", "real+aug"])  # not a run arm
    with pytest.raises(ValueError, match="primary"):
        EvaluationConfig(arms=["real", "real+aug"], primary=["real", "real"])
    with pytest.raises(ValueError, match="deltas"):
        EvaluationConfig(deltas=[["real", "real+aug", "syn"]])
    for bad in ([], [1.0, -0.1]):
        with pytest.raises(ValueError, match="synthetic_class_ratios"):
            EvaluationConfig(synthetic_class_ratios=bad)
    for bad in ([["syn"]], [["syn", "syn"]], [["syn", "real", "real+aug"]]):
        with pytest.raises(ValueError, match="EvaluationConfig: ratios must be"):
            EvaluationConfig(ratios=bad)
    with pytest.raises(ValueError, match="EvaluationConfig: ratio_target must be > 0, got 0"):
        EvaluationConfig(ratio_target=0)
    cfg = EvaluationConfig(arms=["real", "real+aug"], primary=["real+aug", "real"])
    assert cfg.deltas[0] == ["real+aug", "real"]  # a primary comparison is always reported


def _random_splits(size=16):
    rng = np.random.default_rng(0)

    def mk(n):
        out = []
        for i in range(n):
            y = i % 2
            x = rng.random((1, size, size)).astype(np.float32) * 0.6
            x[:, : size // 2] += 0.4 * y
            out.append({"image": x, "label": y})
        return out

    return {"train": mk(24), "val": mk(10), "test": mk(20)}, mk(24)


def _fast(**kw):
    base = dict(
        seeds=[0], max_steps=3, batch_size=8, val_interval=3, n_boot=100, inception_fid=False, progress=False,
        gradcam_images=2, diversity_pairs=10, bn_recalibration_batches=2,
    )  # fmt: skip
    base.update(kw)
    return base


def test_end_to_end_in_memory(tmp_path):
    from monai_medienet.data import dataset_fingerprints

    splits, syn = _random_splits()
    syn.append(dict(splits["train"][4]))  # an exact copy of a generator training image
    gen_train = splits["train"][:10]
    splits["train"].append(dict(splits["train"][3]))  # the dataset holds one generator image twice: used once
    ckpt = {"train_fingerprints": dataset_fingerprints(gen_train), "classes": ["neg", "pos"]}
    res = run_evaluation(
        splits, syn, output_dir=tmp_path, generator_checkpoint=ckpt, classes=["neg", "pos"], k_per_class=5,
        **_fast(arms=["real", "real+syn+aug"]),
    )  # fmt: skip
    # the real training set is exactly the generator's training images (found by fingerprint)
    assert res["settings"]["n_train_real"] == 10
    assert res["leakage_check"]["checked"] and res["leakage_check"]["generator_train_found_in_train_split"] == 10
    assert res["leakage_check"]["train_split_duplicates_skipped"] == 1
    assert res["leakage_check"]["generator_training"] == [{}]  # nothing recorded: the report says nothing
    assert "Generator training" not in (tmp_path / "report.md").read_text()
    run = res["arms"]["real+syn+aug"]["runs"][0]
    assert run["n_train_real"] == 10 and run["n_train_synthetic"] == 10  # 1:1, class balanced
    # the kept weights' real-validation predictions are stored, and the loss in the run is their cross-entropy
    with np.load(tmp_path / "predictions.npz") as z:
        arms = [str(a) for a in z["arms"]]
        val_p = z[f"val_probs_{arms.index('real+syn+aug')}"]
        val_y = z["val_labels"]
        assert val_p.shape == (1, len(splits["val"]), 2) and np.allclose(val_p.sum(-1), 1.0)
        assert [int(v) for v in val_y] == [int(it["label"]) for it in splits["val"]]
        assert run["val_loss"] == pytest.approx(-np.mean(np.log(val_p[0][np.arange(len(val_y)), val_y])))
    assert set(res["deltas"]) == {"real+syn+aug - real"}
    syn_idx = len(syn) - 1
    assert syn_idx in res["memorization"]["pixel"]["exact_copy_indices"]
    assert syn_idx in res["memorization"]["flagged_union"]
    # the data-copying test runs in both spaces against the validation split; 10 training images make one cell,
    # and 10 validation images are too few for its 20-sample minimum: the statistic is reported as undetermined
    for space in ("pixel", "feature"):
        dc = res["memorization"][space]["data_copying"]
        assert dc["heldout"] == "validation split" and dc["num_cells"] == 1
        assert dc["c_t"] is None and dc["verdict"] == "undetermined"
    for f in ("results.json", "report.md", "auroc_bars.png", "roc_curves.png", "samples.png", "gradcam.png",
              "nearest_neighbours.png", "differences.png", "augmentation.png"):  # fmt: skip
        assert (tmp_path / f).stat().st_size > 0, f
    loaded = json.loads((tmp_path / "results.json").read_text())
    assert (
        loaded["arms"]["real"]["metrics"]["auroc"]["seed_values"]
        == res["arms"]["real"]["metrics"]["auroc"]["seed_values"]
    )
    assert "in_domain" in loaded["fidelity"] and "diversity_ms_ssim" in loaded["fidelity"]
    report = (tmp_path / "report.md").read_text()
    assert "real+syn+aug - real" in report and "Holm-adjusted P" in report
    assert "data-copying C_T" in report and "n/a (no cell with 20 samples)" in report
    # no primary comparison declared: the single difference is its own family (Holm with m = 1 changes nothing)
    assert loaded["multiplicity"] == {**loaded["multiplicity"], "primary": None, "family": ["real+syn+aug - real"]}
    d = loaded["deltas"]["real+syn+aug - real"]["auroc"]
    assert d["p_holm"] == d["prob_le_0"]


def test_memorization_after_the_generator_autoencoder_round_trip(tmp_path, tiny_diffusion_checkpoint):
    from monai_medienet.data import dataset_fingerprints

    splits, syn = _random_splits()
    syn.append(dict(splits["train"][4]))  # an exact copy of a generator training image
    ckpt = torch.load(tiny_diffusion_checkpoint(image_size=16), weights_only=True)
    ckpt.update(train_fingerprints=dataset_fingerprints(splits["train"][:10]), classes=["0", "1"])
    kw = _fast(arms=["real"], gradcam_images=0, fidelity=False, memorization_autoencoder=True)
    res = run_evaluation(splits, syn, output_dir=tmp_path, generator_checkpoint=ckpt, **kw)
    memo = res["memorization"]
    rt = memo["autoencoder"]
    assert rt["space"] == "autoencoder" and rt["num_synthetic"] == len(syn) and "round trip" in rt["extractor"]
    assert len(syn) - 1 in rt["exact_copy_indices"] and len(syn) - 1 in memo["flagged_union"]
    assert set(rt["flagged_indices"]) <= set(memo["flagged_union"])
    assert rt["data_copying"]["heldout"] == "validation split"
    # the round trip blurs both sides alike: its distances are not the pixel ones
    assert rt["test_nn_distance_median"] != pytest.approx(memo["pixel"]["test_nn_distance_median"])
    assert "| autoencoder |" in (tmp_path / "report.md").read_text()
    # a pooled pool's generators each have their own autoencoder; a checkpoint without one cannot be used
    two = run_evaluation(splits, syn, generator_checkpoint=[ckpt, ckpt], **kw)
    assert two["memorization"]["autoencoder"] == {"skipped": "needs exactly one generator checkpoint, got 2"}
    bare = {"train_fingerprints": ckpt["train_fingerprints"], "classes": ["0", "1"]}
    none = run_evaluation(splits, syn, output_dir=tmp_path / "none", generator_checkpoint=bare, **kw)
    assert none["memorization"]["autoencoder"]["skipped"].startswith("the generator checkpoint holds no autoencoder")
    assert (
        "| autoencoder | skipped: the generator checkpoint holds no autoencoder"
        in (tmp_path / "none" / "report.md").read_text()
    )


def test_screen_arm_drops_near_copies_before_the_draw(tmp_path, tiny_diffusion_checkpoint, caplog):
    import logging

    from monai_medienet.data import dataset_fingerprints

    caplog.set_level(logging.INFO, logger="monai_medienet.evaluation.protocol")

    splits, syn = _random_splits()
    gen_train = splits["train"][:10]
    syn = syn[:20] + [dict(it) for it in gen_train[:4]]  # four copies of generator training images
    ckpt = torch.load(tiny_diffusion_checkpoint(image_size=16), weights_only=True)
    ckpt.update(train_fingerprints=dataset_fingerprints(gen_train), classes=["0", "1"])
    # an untrained autoencoder maps many images close together, so the screen drops fresh images too: draw few
    kw = _fast(arms=["real+syn+aug", "real+syn+aug+screen"], gradcam_images=0, fidelity=False, synthetic_ratio=0.2)
    res = run_evaluation(splits, syn, output_dir=tmp_path, generator_checkpoint=ckpt, **kw)
    screen = res["synthetic_filter"]["screen"]
    kept = res["artifacts"]["synthetic_filter"]["screen"]["kept"]
    assert screen["criterion"] == "near_copy" and screen["space"] == "AutoencoderRoundTrip"
    assert not set(range(20, 24)) & set(kept.tolist())  # every copy dropped (round trips within 1e-3)
    assert screen["n_dropped"] == len(syn) - len(kept) >= 4
    assert sum(screen["n_kept_per_class"]) == len(kept) and screen["n_pool_per_class"] == [12, 12]
    assert f"near-copy screen (AutoencoderRoundTrip): keeps {len(kept)} of 24 synthetic images" in caplog.text
    run = res["arms"]["real+syn+aug+screen"]["runs"][0]
    assert run["n_train_synthetic"] == 2  # 0.2 x the 10 real images, class balanced, from the screened pool
    assert (
        "| screen | distance to the nearest generator-training image, the generator's autoencoder round trip"
        in (tmp_path / "report.md").read_text()
    )
    # without an autoencoder in the checkpoint the screen measures pixels (and says why)
    bare = {"train_fingerprints": ckpt["train_fingerprints"], "classes": ["0", "1"]}
    pix = run_evaluation(splits, syn, generator_checkpoint=bare, **{**kw, "arms": ["real+syn+aug+screen"]})
    assert pix["synthetic_filter"]["screen"]["space"] == "pixel"
    assert "pixels (the generator checkpoint holds no autoencoder" in pix["synthetic_filter"]["screen"]["score"]
    assert not set(range(20, 24)) & set(pix["artifacts"]["synthetic_filter"]["screen"]["kept"].tolist())
    # a pool of copies only: the screen leaves a class empty, the arm cannot draw from it
    with pytest.raises(ValueError, match="the near-copy screen dropped every synthetic image of"):
        run_evaluation(
            splits, [dict(it) for it in gen_train], generator_checkpoint=ckpt, **{**kw, "arms": ["real+syn+aug+screen"]}
        )


def test_leaking_generator_refused():
    from monai_medienet.data import dataset_fingerprints

    splits, syn = _random_splits()
    ckpt = {"train_fingerprints": dataset_fingerprints(splits["test"][:3]), "classes": ["0", "1"]}
    with pytest.raises(ValueError, match="3 of 20 images of the test split"):
        run_evaluation(splits, syn, generator_checkpoint=ckpt, **_fast(arms=["real"]))
    with pytest.raises(ValueError, match="generator classes"):
        run_evaluation(splits, syn, generator_checkpoint={"train_fingerprints": [], "classes": ["a", "b"]})


def test_pooled_pool_needs_every_generator_checked(tmp_path):
    from monai_medienet.data import dataset_fingerprints, file_sha256

    splits, syn = _random_splits()
    fps = dataset_fingerprints(splits["train"][:10])
    paths = []
    for i, (name, fingerprints) in enumerate((("g0", fps), ("g1", fps), ("other", fps[:8]))):
        paths.append(tmp_path / f"{name}.pt")
        aug = {"rotate_degrees": 5.0} if name == "g1" else None  # how each was trained: recorded in the report
        ckpt = {"train_fingerprints": fingerprints, "classes": ["0", "1"], "training_seed": i, "w": torch.rand(3)}
        torch.save({**ckpt, "training_augmentation": aug}, paths[-1])
    sha = [file_sha256(p) for p in paths]
    for i, item in enumerate(syn):  # a pooled pool: half the images from each of two generators
        item["checkpoint_sha256"] = sha[i % 2]
    res = run_evaluation(
        splits, syn, output_dir=tmp_path, generator_checkpoint=paths[:2], **_fast(arms=["real"], gradcam_images=0)
    )
    sources = res["leakage_check"]["synthetic_sources"]
    assert res["leakage_check"]["num_generators"] == 2
    assert sources["verified"] and sources["images_per_generator"] == {sha[0]: 12, sha[1]: 12}
    report = (tmp_path / "report.md").read_text()
    assert "passed (2 generators; every synthetic image recorded as drawn by one of them: 12, 12)" in report
    training = res["leakage_check"]["generator_training"]
    assert training[1] == {"training_seed": 1, "training_augmentation": {"rotate_degrees": 5.0}}
    assert (
        "Generator training: 0: seed 0, its images as they are; 1: seed 1, augmented copies of its images "
        "(rotate_degrees 5.0)." in report
    )
    with pytest.raises(ValueError, match=r"12 synthetic image\(s\) come from generator checkpoint\(s\)"):
        run_evaluation(splits, syn, generator_checkpoint=paths[0], **_fast(arms=["real"]))
    with pytest.raises(ValueError, match="generator 1 .* was trained on other images than generator 0"):
        run_evaluation(splits, syn, generator_checkpoint=[paths[0], paths[2]], **_fast(arms=["real"]))
    with pytest.raises(ValueError, match="must be a path, a loaded checkpoint dict or a list of them, got int"):
        run_evaluation(splits, syn, generator_checkpoint=3, **_fast(arms=["real"]))


def test_in_domain_fid_against_the_validation_split(tmp_path):
    # a "synthetic" set that is the validation split itself: FID vs val ~ 0, FID vs test not
    splits, _ = _random_splits()
    syn = [dict(it) for it in splits["val"]]
    res = run_evaluation(splits, syn, output_dir=tmp_path, **_fast(arms=["real"], gradcam_images=0))
    dom = res["fidelity"]["in_domain"]
    assert abs(dom["fid_synthetic_vs_val"]) < 1e-3 < dom["fid_synthetic_vs_test"]
    assert "| FID vs the validation split |" in (tmp_path / "report.md").read_text()


def test_synthetic_only_ratio_to_real_only(tmp_path):
    """The issue's third target: synthetic-only AUROC over real-only AUROC, with an interval, in results and report."""
    from monai_medienet.evaluation import bootstrap_indices, bootstrap_ratio

    splits, syn = _random_splits()
    res = run_evaluation(
        splits, syn, output_dir=tmp_path, **_fast(arms=["real", "syn"], seeds=[0, 1], fidelity=False, gradcam_images=0)
    )
    ratio = res["ratios"]["syn / real"]
    assert ratio["numerator"] == ["syn"] and ratio["denominator"] == "real"
    y = res["artifacts"]["test_labels"]
    idx = bootstrap_indices(len(y), 100, seed=0, strata=y)
    again = bootstrap_ratio(y, res["artifacts"]["probs"]["syn"], res["artifacts"]["probs"]["real"], indices=idx)
    assert ratio["metrics"]["auroc"] == again["auroc"]
    au = ratio["metrics"]["auroc"]
    assert au["ratio"] == pytest.approx(
        res["arms"]["syn"]["metrics"]["auroc"]["mean"] / res["arms"]["real"]["metrics"]["auroc"]["mean"]
    )
    assert "## Ratios of mean AUROC" in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "results.json").read_text())["ratios"]["syn / real"]["metrics"]["auroc"]["ratio"] == (
        pytest.approx(au["ratio"])
    )
    off = run_evaluation(splits, syn, **_fast(arms=["real", "syn"], ratios=[], fidelity=False, gradcam_images=0))
    assert off["ratios"] == {}


def test_syn_arm_needs_synthetic_items():
    splits, _ = _random_splits()
    with pytest.raises(ValueError, match="need synthetic images"):
        run_evaluation(splits, None, **_fast(arms=["syn"]))
    with pytest.raises(ValueError, match="lacks split"):
        run_evaluation({"train": splits["train"]}, None, **_fast(arms=["real"]))


def test_pneumoniamnist_smoke(pneumoniamnist_npz, tmp_path):
    """Smoke run on real PneumoniaMNIST. The "synthetic" images here are REAL training images outside the k-per-class
    subset, relabelled as synthetic: this checks the plumbing only, not a generator. Val/test are subsampled (seeded)
    to keep the run short."""
    from monai_medienet.data import medmnist_source, subsample_per_class

    src = medmnist_source(pneumoniamnist_npz)
    train = src.splits["train"]
    k_subset = subsample_per_class(train, 6, seed=0)
    used = {it["id"] for it in k_subset}
    fake_syn = subsample_per_class([it for it in train if it["id"] not in used], 8, seed=1)
    splits = {
        "train": train,
        "val": subsample_per_class(src.splits["val"], 10, seed=0),
        "test": subsample_per_class(src.splits["test"], 15, seed=0),
    }
    res = run_evaluation(
        splits, fake_syn, output_dir=tmp_path, classes=src.classes, k_per_class=6, subsample_seed=0,
        **_fast(arms=["real", "real+syn+aug"], max_steps=2, val_interval=2, gradcam_images=2),
    )  # fmt: skip
    assert res["settings"]["n_train_real_per_class"] == [6, 6]
    assert res["settings"]["classes"] == ["normal", "pneumonia"]
    auc = res["arms"]["real"]["metrics"]["auroc"]
    assert 0.0 <= auc["ci_low"] <= auc["mean"] <= auc["ci_high"] <= 1.0
    assert (tmp_path / "report.md").exists() and (tmp_path / "gradcam.png").exists()
    assert torch.is_tensor(res["artifacts"]["real_train_images"])


@pytest.mark.slow
def test_end_to_end_with_inception(tmp_path):
    splits, syn = _random_splits()
    res = run_evaluation(
        splits, syn, output_dir=tmp_path, **_fast(arms=["real", "real+syn+aug"], inception_fid=True, fid_max_images=6)
    )
    inc = res["fidelity"]["inception"]
    assert "fid_2048_synthetic_vs_test" in inc and "fid_64_val_vs_test_reference" in inc
    assert "FID-2048" in (tmp_path / "report.md").read_text()


def test_png_synthetic_items_with_package_preprocessing(tmp_path):
    """Synthetic PNG files (as the writers produce) and in-memory uint8 real arrays go through one transform."""
    from PIL import Image

    from monai_medienet.evaluation import materialise
    from monai_medienet.transforms import image_preprocessing

    rng = np.random.default_rng(0)
    items = []
    for i in range(3):
        arr = rng.integers(0, 256, size=(16, 16), dtype=np.uint8)
        Image.fromarray(arr).save(tmp_path / f"s{i}.png")
        items.append({"image": str(tmp_path / f"s{i}.png"), "label": i % 2})
    items.append({"image": arr[None], "label": 1})  # the same pixels in memory
    tf = image_preprocessing(image_size=(16, 16), intensity="dtype")
    x, y = materialise(items, tf, "synthetic", progress=False)
    assert x.shape == (4, 1, 16, 16) and x.dtype == torch.float32 and y.tolist() == [0, 1, 0, 1]
    assert torch.allclose(x[2], x[3]) and torch.allclose(x[3, 0], torch.as_tensor(arr / 255.0, dtype=torch.float32))
    with pytest.raises(ValueError, match="file paths"):
        from monai_medienet.evaluation.protocol import _ToTensord

        _ToTensord()(items[0])


class _FixedLogits(torch.nn.Module):
    """Logits read off the image: class-1 logit = 10 * (mean of the top half - 0.5)."""

    def forward(self, x):
        z = 10.0 * (x[:, :, : x.shape[2] // 2].mean(dim=(1, 2, 3)) - 0.5)
        return torch.stack([-z, z], dim=1)


def test_filter_synthetic_keeps_the_label_consistent_images_per_class():
    # class 1 should have a bright top half; images 0-3 are class 0, 4-7 class 1, brightness rising with the index
    x = torch.zeros(8, 1, 4, 4)
    for i in range(8):
        x[i, :, :2] = i / 7.0
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    kept, score = filter_synthetic(_FixedLogits(), x, y, keep_fraction=0.5, batch_size=3)
    # class 0: the darkest (0, 1) are the most class-0-like; class 1: the brightest (6, 7)
    assert kept.tolist() == [0, 1, 6, 7]
    assert score.shape == (8,) and score[0] > score[3] and score[7] > score[4]
    assert filter_synthetic(_FixedLogits(), x, y, keep_fraction=1.0)[0].tolist() == list(range(8))
    with pytest.raises(ValueError, match="keep_fraction"):
        filter_synthetic(_FixedLogits(), x, y, keep_fraction=0.0)
    with pytest.raises(ValueError, match="labels"):
        filter_synthetic(_FixedLogits(), x, y[:3])
    with pytest.raises(ValueError, match="criterion"):
        filter_synthetic(_FixedLogits(), x, y, criterion="sharpness")


def test_filter_synthetic_hard_keeps_the_least_typical_label_consistent_images():
    # P(class 1) rises with brightness (_FixedLogits); class 0 images 0-3 and class 1 images 4-7 as above, plus two
    # mislabelled ones: image 8 (bright, labelled 0) and image 9 (dark, labelled 1)
    x = torch.zeros(10, 1, 4, 4)
    for i, v in enumerate([0, 1, 2, 3, 4, 5, 6, 7, 7, 0]):
        x[i, :, :2] = v / 7.0
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1])
    kept, score = filter_synthetic(_FixedLogits(), x, y, keep_fraction=0.4, criterion="hard")
    # per class 2 of 5 kept: the label-consistent images closest to the boundary (3, 2 and 4, 5), never 8 or 9
    assert kept.tolist() == [2, 3, 4, 5]
    assert score[8] < 0 and score[9] < 0 and (score[:8] >= 0).all() and score[3] > score[0]
    # keeping everything still keeps the mislabelled images (ranked last, not dropped)
    assert filter_synthetic(_FixedLogits(), x, y, keep_fraction=1.0, criterion="hard")[0].tolist() == list(range(10))


class _PixelFeatures(torch.nn.Module):
    """Features = the flattened pixels (the input of ``fc``), as ``ClassifierFeatureExtractor`` reads them."""

    def __init__(self, n_pixels: int):
        super().__init__()
        self.fc = torch.nn.Linear(n_pixels, 2)

    def forward(self, x):
        return self.fc(x.flatten(1))


def test_filter_synthetic_realism_keeps_images_inside_their_class_manifold():
    rng = np.random.default_rng(0)

    def near(v, n, sd=0.05):
        return v + sd * rng.standard_normal((n, 1, 4, 4))

    # real: class 0 dark (~0.2), class 1 bright (~0.8)
    real = torch.as_tensor(np.concatenate([near(0.2, 30), near(0.8, 30)]), dtype=torch.float32)
    y_real = np.repeat([0, 1], 30)
    # synthetic per class: 4 typical, 2 uniform noise, 2 realistic images of the *other* class
    parts = [near(0.2, 4, 0.02), rng.random((2, 1, 4, 4)), near(0.8, 2, 0.02)]
    parts += [near(0.8, 4, 0.02), rng.random((2, 1, 4, 4)), near(0.2, 2, 0.02)]
    syn = torch.as_tensor(np.concatenate(parts), dtype=torch.float32).clamp(0, 1)
    y_syn = np.repeat([0, 1], 8)
    net = _PixelFeatures(16)
    kept, score = filter_synthetic(
        net, syn, y_syn, keep_fraction=0.5, criterion="realism", real_images=real, real_labels=y_real, k=3
    )  # fmt: skip
    assert kept.tolist() == [0, 1, 2, 3, 8, 9, 10, 11]
    assert np.all(score[[0, 1, 2, 3, 8, 9, 10, 11]] >= 1.0)
    assert np.all(score[[4, 5, 6, 7, 12, 13, 14, 15]] < 1.0)  # noise, and realistic images of the other class
    with pytest.raises(ValueError, match="real_images"):
        filter_synthetic(net, syn, y_syn, criterion="realism")
    with pytest.raises(ValueError, match="more than k=3"):
        filter_synthetic(net, syn, y_syn, criterion="realism", real_images=real[:33], real_labels=y_real[:33])


def test_filter_arm_end_to_end(tmp_path):
    splits, syn = _random_splits()
    syn = syn + [dict(it) for it in syn]  # 48 synthetic: keep 0.5 leaves 12 per class, 1:1 with 12 real per class
    res = run_evaluation(
        splits, syn, output_dir=tmp_path, primary=["real+syn+aug+filter", "real+aug"],
        **_fast(arms=["real+aug", "real+syn+aug", "real+syn+aug+filter"]),
    )  # fmt: skip
    assert res["multiplicity"]["primary"] == "real+syn+aug+filter - real+aug"
    assert res["deltas"]["real+syn+aug+filter - real+aug"]["auroc"]["p_holm"] is None
    assert "real+syn+aug+filter - real+aug" not in res["multiplicity"]["family"]
    f = res["synthetic_filter"]["filter"]
    assert f["criterion"] == "label"
    assert f["n_pool_per_class"] == [24, 24] and f["n_kept_per_class"] == [12, 12]
    assert "'real+aug' classifier" in f["classifier"]
    assert f["median_score_kept"] >= f["median_score_pool"]
    runs = res["arms"]["real+syn+aug+filter"]["runs"]
    assert runs[0]["n_train_synthetic"] == 24
    assert {"real+syn+aug+filter - real+aug", "real+syn+aug+filter - real+syn+aug"} <= set(res["deltas"])
    report = (tmp_path / "report.md").read_text()
    assert "Synthetic filters" in report and "**real+syn+aug+filter - real+aug**" in report
    # without a real arm trained first, a dedicated filter classifier is trained; it serves both filters
    res2 = run_evaluation(
        splits, syn, **_fast(arms=["real+syn+aug+filter", "real+syn+aug+realism"], fidelity=False, gradcam_images=0)
    )
    r = res2["synthetic_filter"]["realism"]
    assert r["criterion"] == "realism" and r["n_kept_per_class"] == [12, 12]
    assert r["classifier"] == res2["synthetic_filter"]["filter"]["classifier"]
    assert "trained for the filter" in r["classifier"]
    # no real-only arm: the filter classifier provides the in-domain features
    assert "trained for the filter" in res2["memorization"]["feature"]["extractor"]
    assert res2["arms"]["real+syn+aug+realism"]["runs"][0]["n_train_synthetic"] == 24


def test_synthetic_arms_alone_train_a_real_classifier_for_in_domain_features():
    # no real-only arm and no filter: one 'real' classifier is trained for the in-domain features (default) ...
    splits, syn = _random_splits()
    res = run_evaluation(splits, syn, **_fast(arms=["real+syn+aug"], gradcam_images=0))
    assert "in_domain" in res["fidelity"] and "diversity_ms_ssim" in res["fidelity"]
    assert "trained for the in-domain features (seed 0)" in res["memorization"]["feature"]["extractor"]
    assert res["fidelity"]["in_domain"]["extractor"] == res["memorization"]["feature"]["extractor"]
    # ... and it is the very network a 'real' arm of the same seed trains: same features, same in-domain FID
    res_real = run_evaluation(splits, syn, **_fast(arms=["real", "real+syn+aug"], gradcam_images=0))
    assert res["fidelity"]["in_domain"]["fid_synthetic_vs_test"] == pytest.approx(
        res_real["fidelity"]["in_domain"]["fid_synthetic_vs_test"], rel=1e-5
    )
    # ... unless switched off: then those two figures are skipped and the rest of the fidelity block still runs
    res_off = run_evaluation(splits, syn, **_fast(arms=["real+syn+aug"], gradcam_images=0, feature_classifier=False))
    assert "in_domain" not in res_off["fidelity"] and "diversity_ms_ssim" in res_off["fidelity"]
    assert "pixel" in res_off["memorization"] and "feature" not in res_off["memorization"]


def test_per_class_synthetic_ratios_and_label_fidelity(tmp_path):
    # synthetic images of class 0 only (as many as its real images); the report names the per-class ratios and
    # shows how the real classifier sees each class of the synthetic pool next to real test images of that class
    splits, syn = _random_splits()
    res = run_evaluation(
        splits, syn, output_dir=tmp_path, classes=["neg", "pos"],
        **_fast(arms=["real", "real+syn+aug"], synthetic_class_ratios=[1.0, 0.0], gradcam_images=0),
    )  # fmt: skip
    run = res["arms"]["real+syn+aug"]["runs"][0]
    assert run["n_train_synthetic"] == 12 and run["n_synthetic_requested"] == 12 and run["n_train_real"] == 24
    lab = res["fidelity"]["label"]
    assert lab["classifier"] == "the 'real' classifier (first seed)" and lab["reference_split"] == "test"
    assert lab["synthetic"]["neg"]["n"] == 12 and lab["reference"]["pos"]["n"] == 10
    # the reference figures are the real arm's own test predictions (first seed)
    p_real = res["artifacts"]["probs"]["real"][0]
    y_te = res["artifacts"]["test_labels"]
    assert lab["reference"]["pos"]["mean_prob_own_label"] == pytest.approx(p_real[y_te == 1, 1].mean())
    assert lab["reference_validation"]["neg"]["n"] == 5 and set(lab["gap_validation"]) == {"neg", "pos"}
    report = (tmp_path / "report.md").read_text()
    assert "Synthetic:real ratio per class [1.0, 0.0]" in report and "Label fidelity per class" in report
    # a merged report keeps each run's per-class label fidelity in its per-run table
    from monai_medienet.evaluation import merge_evaluations

    merge_evaluations([tmp_path], tmp_path / "merged")
    row = next(
        x for x in (tmp_path / "merged" / "report.md").read_text().splitlines() if x.startswith(f"| `{tmp_path}`")
    )
    own = {c: e["mean_prob_own_label"] for c, e in lab["synthetic"].items()}  # the whole pool, both classes
    assert f"neg {own['neg']:.3f}, pos {own['pos']:.3f}" in row
    with pytest.raises(ValueError, match="one ratio per class"):
        run_evaluation(splits, syn, **_fast(arms=["real+syn"], synthetic_class_ratios=[1.0, 0.0, 1.0]))


def test_pretrain_arm_fine_tunes_the_synthetic_network_on_real_images(tmp_path, monkeypatch):
    # stage 1 trains a fresh network on the whole synthetic pool for pretrain_steps; stage 2 continues training that
    # very network on the real images for max_steps at finetune_lr
    from monai_medienet.evaluation import protocol

    calls = []
    real_train = protocol.train_classifier

    def spy(network, train_data, *args, **kwargs):
        n_syn = sum(1 for i in range(len(train_data)) if train_data.data[i].get("synthetic") == 1)
        out = real_train(network, train_data, *args, **kwargs)
        calls.append({"net_in": network, "net_out": out.network, "n": len(train_data), "n_syn": n_syn, **kwargs})
        return out

    monkeypatch.setattr(protocol, "train_classifier", spy)
    splits, syn = _random_splits()
    syn = syn + [dict(it) for it in syn]  # a pool of 48, twice the 24 real images: pre-training uses all of it
    res = run_evaluation(
        splits, syn, output_dir=tmp_path,
        **_fast(arms=["real+syn+aug+pretrain"], pretrain_steps=4, finetune_lr=5e-4, gradcam_images=0,
                feature_classifier=False),
    )  # fmt: skip
    pre, fine = calls
    assert pre["n"] == pre["n_syn"] == 48 and pre["max_steps"] == 4 and pre["lr"] == 1e-3
    assert fine["n"] == 24 and fine["n_syn"] == 0 and fine["max_steps"] == 3 and fine["lr"] == 5e-4
    assert fine["net_in"] is pre["net_out"]  # fine-tuning starts from the pre-trained weights
    run = res["arms"]["real+syn+aug+pretrain"]["runs"][0]
    assert run["n_train_real"] == 24 and run["n_train_synthetic"] == 48 and run["steps_run"] == 3
    assert run["pretrain"]["steps_run"] == 4 and run["pretrain"]["max_steps"] == 4
    assert run["pretrain"]["finetune_lr"] == 5e-4 and run["pretrain"]["n_train_synthetic"] == 48
    report = (tmp_path / "report.md").read_text()
    assert "| 4+3 |" in report and "real+syn+aug+pretrain: up to 4+3 steps, fine-tuning lr 0.0005" in report
    # a filter token picks the pool that is pre-trained on (the top half per class: 24)
    calls.clear()
    res = run_evaluation(splits, syn, **_fast(arms=["real+syn+aug+filter+pretrain"], fidelity=False, gradcam_images=0))
    assert [c["n_syn"] for c in calls] == [0, 24, 0]  # filter classifier (real+aug), pre-training, fine-tuning
    assert res["arms"]["real+syn+aug+filter+pretrain"]["runs"][0]["pretrain"]["max_steps"] == 3  # = max_steps
    # the budget of the other arms split over both stages: 2 + 1 = max_steps
    calls.clear()
    res = run_evaluation(
        splits, syn, **_fast(arms=["real+syn+aug+pretrain"], pretrain_steps=2, finetune_steps=1, fidelity=False,
                             gradcam_images=0, feature_classifier=False),
    )  # fmt: skip
    assert [c["max_steps"] for c in calls] == [2, 1]
    run = res["arms"]["real+syn+aug+pretrain"]["runs"][0]
    assert run["steps_run"] == 1 and run["pretrain"]["steps_run"] == 2 and run["pretrain"]["finetune_max_steps"] == 1


def test_augment_runs_without_meta_tracking_and_restores_the_flag():
    from monai.data import MetaTensor, get_track_meta, set_track_meta

    from monai_medienet.evaluation.protocol import _Augment
    from monai_medienet.transforms import classic_augmentation

    image = torch.rand(1, 32, 32, generator=torch.Generator().manual_seed(0))
    seen = []

    def spy(data):
        seen.append(get_track_meta())
        return classic_augmentation(2, image_size=(32, 32), seed=0, prob=1.0)(data)

    out = _Augment(spy)({"image": image, "label": 1})
    assert seen == [False] and get_track_meta() is True
    assert type(out["image"]) is torch.Tensor and out["label"] == 1
    # the same pixels as with MONAI's metadata tracking on
    tracked = classic_augmentation(2, image_size=(32, 32), seed=0, prob=1.0)({"image": MetaTensor(image.clone())})
    assert not torch.equal(out["image"], image)
    torch.testing.assert_close(out["image"], torch.as_tensor(tracked["image"]), rtol=0, atol=0)

    def broken(data):
        raise RuntimeError("boom")

    set_track_meta(True)
    with pytest.raises(RuntimeError, match="boom"):
        _Augment(broken)({"image": image, "label": 0})
    assert get_track_meta() is True


def test_augmentation_examples():
    """The report's augmentation figure shows the first images of each class and independent draws of the recipe;
    building it does not touch a caller's augmentation streams (a fresh augmentation, seed 0)."""
    from monai_medienet.evaluation import augmentation_examples
    from monai_medienet.transforms import classic_augmentation

    torch.manual_seed(0)
    x, y = torch.rand(7, 1, 16, 16), np.array([1, 0, 1, 1, 0, 0, 1])
    calls = []

    def factory(seed):
        calls.append(seed)
        return classic_augmentation(gamma_range=(0.7, 1.5), prob=1.0, image_size=(16, 16), seed=seed)

    ex = augmentation_examples(factory, x, y, per_class=2, draws=3)
    assert calls == [0]
    assert ex["labels"].tolist() == [0, 0, 1, 1] and ex["augmented"].shape == (4, 3, 1, 16, 16)
    np.testing.assert_array_equal(ex["images"], x[[1, 4, 0, 2]].numpy())
    assert not np.allclose(ex["augmented"][:, 0], ex["augmented"][:, 1])  # independent draws
    assert not np.allclose(ex["augmented"][:, 0], ex["images"])
    assert ex["augmented"].min() >= 0.0 and ex["augmented"].max() <= 1.0
    again = augmentation_examples(factory, x, y, per_class=2, draws=3)["augmented"]
    np.testing.assert_array_equal(again, ex["augmented"])  # seeded


def test_augmentation_figure_leaves_the_arms_unchanged(tmp_path, monkeypatch):
    """The report's augmentation examples come from their own augmentation object: the arms' predictions are bitwise
    those of a run without the figure."""
    import monai_medienet.evaluation.protocol as protocol

    splits, _ = _random_splits()
    kw = dict(classes=["neg", "pos"], k_per_class=5, **_fast(arms=["real+aug"], fidelity=False, gradcam_images=0))
    with_fig = run_evaluation(splits, [], output_dir=tmp_path / "a", **kw)
    assert (tmp_path / "a" / "augmentation.png").stat().st_size > 0
    monkeypatch.setattr(protocol, "augmentation_examples", lambda *a, **k: {"images": np.zeros((0,))})
    without = run_evaluation(splits, [], output_dir=tmp_path / "b", **kw)
    assert not (tmp_path / "b" / "augmentation.png").exists()
    np.testing.assert_array_equal(
        with_fig["artifacts"]["probs"]["real+aug"][0], without["artifacts"]["probs"]["real+aug"][0]
    )
