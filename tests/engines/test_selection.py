"""select_generator_checkpoint / find_checkpoint_snapshots on tiny checkpoints built in the test."""

from __future__ import annotations

import json

import pytest
import torch

from monai_medienet.engines import (
    find_checkpoint_snapshots,
    iter_generated_batches,
    load_diffusion_generator,
    select_generator_checkpoint,
)

STEPS = 4


def _samples(path, seeds):
    gen = load_diffusion_generator(path)
    jobs = [(i % 2, s) for i, s in enumerate(seeds)]
    return torch.cat([x for x, _ in iter_generated_batches(gen, jobs, num_inference_steps=STEPS, batch_size=64)])


@pytest.fixture
def two_checkpoints(tiny_diffusion_checkpoint, tmp_path):
    a = tiny_diffusion_checkpoint()
    ckpt = torch.load(a, weights_only=False)
    torch.manual_seed(1)
    ckpt["state"]["ema"] = {k: v + 2.0 * torch.randn_like(v) if v.is_floating_point() else v
                            for k, v in ckpt["state"]["ema"].items()}  # fmt: skip
    ckpt["engine"] = {"iteration": 20, "epoch": 2}
    b = tmp_path / "diffusion_iter00000020.pt"
    torch.save(ckpt, b)
    ckpt_a = torch.load(a, weights_only=False)
    ckpt_a["engine"] = {"iteration": 10, "epoch": 1}
    a10 = tmp_path / "diffusion_iter00000010.pt"
    torch.save(ckpt_a, a10)
    return a10, b


def test_selection_prefers_the_generator_that_does_not_copy(two_checkpoints, tmp_path):
    a, b = two_checkpoints
    n = 40  # per class
    # "real" data = fresh draws of generator A (A is a perfect model of it); B's selection samples (seeds 0..79, the
    # ones the selection draws) are put into the training set verbatim: B copies its training images
    copies_of_b = _samples(b, range(2 * n))
    train = torch.cat([_samples(a, range(1000, 1000 + 2 * n)), copies_of_b])
    heldout = _samples(a, range(2000, 2000 + 2 * n))
    out = select_generator_checkpoint(
        [a, b], train, heldout, num_per_class=n, num_inference_steps=STEPS, num_cells=1, output_dir=tmp_path / "sel",
        progress=False,
    )  # fmt: skip
    by_it = {s["iteration"]: s for s in out["scores"]}
    assert by_it[20]["verdict"] == "copying" and by_it[20]["c_t"] < -3
    assert abs(by_it[10]["c_t"]) < 3 and by_it[10]["verdict"] == "neither"
    assert out["selected"] == str(a)
    assert out["note"] is None
    # scoring only the copying generator: it is selected (the only one), with a warning that says where to look
    with pytest.warns(UserWarning, match="copying .* keep earlier snapshots"):
        only_b = select_generator_checkpoint(
            [b], train, heldout, num_per_class=n, num_inference_steps=STEPS, num_cells=1, progress=False
        )
    assert only_b["selected"] == str(b) and "keep earlier snapshots" in only_b["note"]
    saved = json.loads((tmp_path / "sel" / "checkpoint_selection.json").read_text())
    assert saved["selected"] == str(a) and saved["settings"]["num_heldout"] == 2 * n
    assert (tmp_path / "sel" / "checkpoint_selection.png").stat().st_size > 0


def test_selection_crops_real_and_synthetic_alike_and_checks_shapes(two_checkpoints):
    a, _ = two_checkpoints
    real = torch.rand(60, 1, 16, 16)  # uniform noise: an untrained generator's samples are far from it
    with pytest.warns(UserWarning, match="underfitting .* train longer"):
        out = select_generator_checkpoint(
            [a], real, real.flip(0), num_per_class=30, num_inference_steps=2, crop_size=(12, 12), num_cells=1,
            progress=False,
        )  # fmt: skip
    assert out["settings"]["crop_size"] == [12, 12] and out["scores"][0]["num_cells"] == 1
    with pytest.raises(ValueError, match="same shape"):
        select_generator_checkpoint([a], torch.rand(60, 1, 8, 8), torch.rand(60, 1, 8, 8), num_per_class=2,
                                    num_inference_steps=2, progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="held-out images .* same shape"):
        select_generator_checkpoint([a], real, torch.rand(60, 1, 8, 8), num_per_class=2, progress=False)
    with pytest.raises(ValueError, match="num_per_class"):
        select_generator_checkpoint([a], real, real, num_per_class=0)
    with pytest.raises(ValueError, match="must not be empty"):
        select_generator_checkpoint([], real, real)


def test_find_checkpoint_snapshots_orders_by_iteration(two_checkpoints, tmp_path):
    a, b = two_checkpoints
    assert find_checkpoint_snapshots(tmp_path) == [a, b]
    latest = torch.load(b, weights_only=False)
    latest["engine"] = {"iteration": 30, "epoch": 3}
    torch.save(latest, tmp_path / "diffusion.pt")
    assert find_checkpoint_snapshots(tmp_path) == [a, b, tmp_path / "diffusion.pt"]
    assert find_checkpoint_snapshots(tmp_path, min_iteration=20) == [b, tmp_path / "diffusion.pt"]
    assert find_checkpoint_snapshots(tmp_path, min_iteration=21) == [tmp_path / "diffusion.pt"]
    with pytest.raises(FileNotFoundError, match="iteration >= 31"):
        find_checkpoint_snapshots(tmp_path, min_iteration=31)
    latest["engine"] = {"iteration": 20, "epoch": 2}  # the latest file is the last snapshot: not listed twice
    torch.save(latest, tmp_path / "diffusion.pt")
    assert find_checkpoint_snapshots(tmp_path) == [a, b]
    with pytest.raises(FileNotFoundError, match="no autoencoder.pt"):
        find_checkpoint_snapshots(tmp_path / "nothing", name="autoencoder")
