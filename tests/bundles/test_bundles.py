"""Bundle configs: metadata verification (offline), shared configs in sync, smoke runs of every run id on real data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import run as bundle_run
from monai.bundle import verify_metadata
from PIL import Image

from monai_medienet.io import pool_manifests
from monai_medienet.io.fixtures import write_test_png

REPO = Path(__file__).resolve().parents[2]
BUNDLES = REPO / "bundles"
SCHEMA = BUNDLES / "meta_schema.json"
NAMES = ["medienet_pneumoniamnist", "medienet_chest_xray"]
pytestmark = pytest.mark.filterwarnings("ignore:parsing config_file")

SHARED = [
    "train.yaml", "inference.yaml", "evaluate.yaml", "multi_gpu_train.yaml", "distill.yaml", "distill_steps.yaml",
    "logging.conf",
]  # fmt: skip


def configs(bundle: str, *names: str) -> list[str]:
    return [str(BUNDLES / bundle / "configs" / n) for n in names]


def run_id(bundle: str, rid: str, files: list[str], output_dir: Path, **overrides) -> None:
    """Run one run id in-process with the smoke overlay last, one thread."""
    bundle_run(
        run_id=rid,
        config_file=configs(bundle, "common.yaml", *files, "smoke.yaml"),
        meta_file=str(BUNDLES / bundle / "configs" / "metadata.json"),
        logging_file=str(BUNDLES / bundle / "configs" / "logging.conf"),
        output_dir=str(output_dir),
        num_threads=1,
        **overrides,
    )


@pytest.mark.parametrize("bundle", NAMES)
def test_bundle_layout(bundle):
    root = BUNDLES / bundle
    for rel in ["LICENSE", "docs/README.md", "configs/metadata.json", "configs/common.yaml", "configs/smoke.yaml"]:
        assert (root / rel).is_file(), rel
    assert "Apache License" in (root / "LICENSE").read_text()
    assert not list(root.rglob("*.py")), "bundles hold configs only"


@pytest.mark.parametrize("name", SHARED)
def test_shared_configs_in_sync(name):
    a, b = (BUNDLES / n / "configs" / name for n in NAMES)
    assert a.read_text() == b.read_text(), f"{name} differs between the bundles"


@pytest.mark.parametrize("bundle", NAMES)
def test_metadata_verifies_offline(bundle, tmp_path):
    meta = BUNDLES / bundle / "configs" / "metadata.json"
    verify_metadata(meta_file=str(meta), filepath=str(SCHEMA))  # raises on failure; the schema file is local
    bad = json.loads(meta.read_text())
    del bad["changelog"]
    bad["version"] = "one"
    bad_file = tmp_path / "metadata.json"
    bad_file.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="Failed validating"):
        verify_metadata(meta_file=str(bad_file), filepath=str(SCHEMA))


def _check_training_outputs(out: Path, classes: list[str]) -> None:
    ae = torch.load(out / "checkpoints" / "autoencoder.pt", weights_only=True)
    dif = torch.load(out / "checkpoints" / "diffusion.pt", weights_only=True)
    for ck in (ae, dif):
        assert ck["classes"] == classes
        assert len(ck["train_hash"]) == 64 and len(ck["train_fingerprints"]) > 0
        assert {"monai_medienet", "monai", "torch"} <= set(ck["versions"])
        assert {"torch", "numpy", "python"} <= set(ck["rng"])
    assert set(dif["state"]) == {"network", "ema", "ema_momentum", "optimizer", "lr_scheduler", "autoencoder"}
    assert dif["scale_factor"] > 0 and dif["network_config"]["name"] == "medienet"
    assert dif["train_hash"] == ae["train_hash"]
    assert dif["training_seed"] == ae["training_seed"] == 0  # defaults to `seed`
    assert (out / "samples" / "samples_latest.png").is_file()
    assert list((out / "logs").glob("events.out.tfevents.*"))
    summary = json.loads((out / "diffusion_summary.json").read_text())
    assert summary["iterations"] == dif["engine"]["iteration"] > 0


@pytest.mark.parametrize(
    "bundle, classes, data_fixture, out_size",
    [
        ("medienet_pneumoniamnist", ["normal", "pneumonia"], "pneumoniamnist_npz", (28, 28)),  # 32 cropped back
        ("medienet_chest_xray", ["NORMAL", "PNEUMONIA"], "chest_xray_dir", (32, 32)),  # smoke image_size
    ],
)
def test_smoke_training_and_inference(bundle, classes, data_fixture, out_size, request, tmp_path, capsys):
    request.getfixturevalue(data_fixture)
    out = tmp_path / "run"
    run_id(bundle, "training", ["train.yaml"], out, diffusion_snapshot_every=1)
    _check_training_outputs(out, classes)
    run_id(bundle, "inference", ["inference.yaml"], out)
    # the privacy screen: every image checked against the training images before it is written (here also with
    # guidance limited to an interval of timesteps, recorded in the manifest)
    run_id(
        bundle, "inference", ["inference.yaml"], out, drop_near_copies=True, inference_output_dir=str(out / "screened"),
        guidance_interval=[0.1, 0.9],
    )  # fmt: skip
    provenance = json.loads((out / "screened" / "manifest.json").read_text())["provenance"]
    assert provenance["guidance_interval"] == [0.1, 0.9]
    assert json.loads((out / "synthetic" / "manifest.json").read_text())["provenance"]["guidance_interval"] is None
    screen = json.loads((out / "screened" / "near_copies.json").read_text())
    rows = (out / "screened" / "manifest.csv").read_text().splitlines()[1:]
    assert screen["threshold"] > 0 and screen["percentile"] == 5.0 and screen["space"] == "pixel"
    assert len(rows) + sum(screen["missing_per_class"].values()) == 2 * len(classes)
    # the same screen for a pool written without it (run id `screen`: a filtered manifest, no image copied)
    run_id(bundle, "screen", ["inference.yaml"], out)
    screened = json.loads((out / "synthetic_screened" / "near_copies.json").read_text())
    assert screened["num_images"] == 2 * len(classes) and screened["threshold"] == pytest.approx(screen["threshold"])
    kept = (out / "synthetic_screened" / "manifest.csv").read_text().splitlines()[1:]
    assert len(kept) == 2 * len(classes) - screened["num_dropped"]
    # no image copied: the only picture is the pairs figure
    assert [f.name for f in (out / "synthetic_screened").rglob("*.png")] == ["near_copies.png"]
    # the same pool screened after a round trip through the autoencoder that decoded it (the diffusion checkpoint's)
    run_id(bundle, "screen", ["inference.yaml"], out, near_copy_space="autoencoder", screened_dir=str(out / "ae"))
    round_trip = json.loads((out / "ae" / "near_copies.json").read_text())
    assert round_trip["space"] == "AutoencoderRoundTrip" and round_trip["num_images"] == 2 * len(classes)
    assert round_trip["threshold"] != pytest.approx(screened["threshold"])  # its own space, its own threshold
    # one snapshot per epoch was kept; select_checkpoint scores both against the validation images
    run_id(bundle, "select_checkpoint", ["inference.yaml"], out, selection_num_per_class=4, selection_min_per_cell=2)
    selection = json.loads((out / "checkpoint_selection" / "checkpoint_selection.json").read_text())
    assert [s["epoch"] for s in selection["scores"]] == [1, 2]
    assert selection["selected"] in [s["checkpoint"] for s in selection["scores"]]
    assert selection["settings"]["crop_size"] == (None if out_size == (32, 32) else list(out_size))
    manifest = (out / "synthetic" / "manifest.csv").read_text().splitlines()
    assert len(manifest) == 1 + 2 * len(classes)  # header + num_images_per_class (2) per class
    assert all(c in "\n".join(manifest) for c in classes)
    first = out / "synthetic" / manifest[1].split(",")[0]
    assert Image.open(first).size == out_size
    printed = capsys.readouterr().out
    assert "autoencoder stage finished" in printed and "diffusion stage finished" in printed
    assert "inference finished" in printed and "checkpoint selection" in printed and "near copies dropped" in printed
    # a finished stage is not trained again on a second call (resume=True): it is skipped
    run_id(bundle, "train_autoencoder", ["train.yaml"], out)
    assert "already complete" in capsys.readouterr().out


def _trained_smoke_run(bundle: str, request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The bundle's real data (skipped when absent) and a smoke `training` run in ``tmp_path / "run"``."""
    request.getfixturevalue("pneumoniamnist_npz" if "pneumonia" in bundle else "chest_xray_dir")
    out = tmp_path / "run"
    run_id(bundle, "training", ["train.yaml"], out)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("bundle", NAMES)
def test_smoke_distill_guidance(bundle, request, tmp_path):
    out = _trained_smoke_run(bundle, request, tmp_path)
    run_id(bundle, "distill_guidance", ["train.yaml", "distill.yaml"], out)
    distilled = out / "checkpoints" / "diffusion_distilled.pt"
    teacher = torch.load(out / "checkpoints" / "diffusion.pt", map_location="cpu", weights_only=True)
    student = torch.load(distilled, map_location="cpu", weights_only=True)
    assert student["guidance_distillation"]["guidance_scale"] == 2.0
    assert student["train_fingerprints"] == teacher["train_fingerprints"]
    assert student["scale_factor"] == teacher["scale_factor"]
    assert student["engine"]["iteration"] > 0
    key = next(k for k in teacher["state"]["network"] if "conv" in k and k.endswith("weight"))
    assert not torch.equal(student["state"]["network"][key], teacher["state"]["ema"][key])  # trained from the EMA
    assert (out / "distill_summary.json").is_file() and list((out / "samples_distilled").glob("*.png"))
    run_id(
        bundle, "inference", ["inference.yaml"], out, inference_checkpoint=str(distilled), guidance_scale=1.0,
        inference_output_dir=str(out / "synthetic_distilled"),
    )  # fmt: skip
    assert len((out / "synthetic_distilled" / "manifest.csv").read_text().splitlines()) == 1 + 2 * 2
    # the student must learn from the teacher's own training images
    with pytest.raises(RuntimeError) as err:
        run_id(bundle, "distill_guidance", ["train.yaml", "distill.yaml"], out, seed=1, resume=False)
    assert "not the teacher's training set" in str(err.value.__cause__)
    # step distillation from the guidance-distilled student: 4 -> 2 steps, then 2 -> 1 from that student
    steps = ["train.yaml", "distill.yaml", "distill_steps.yaml"]
    run_id(bundle, "distill_steps", steps, out, student_steps=2)
    two = torch.load(out / "checkpoints" / "diffusion_steps2.pt", map_location="cpu", weights_only=True)
    assert two["step_distillation"]["student_steps"] == 2 and two["step_distillation"]["sampler"] == "dpmpp_1"
    assert two["guidance_distillation"]["guidance_scale"] == 2.0  # inherited from the guidance-distilled teacher
    assert two["train_fingerprints"] == teacher["train_fingerprints"] and two["engine"]["iteration"] > 0
    assert (out / "distill_steps2_summary.json").is_file() and list((out / "samples_steps2").glob("*.png"))
    run_id(bundle, "distill_steps", steps, out, student_steps=1,
           step_teacher_checkpoint=str(out / "checkpoints" / "diffusion_steps2.pt"))  # fmt: skip
    assert torch.load(out / "checkpoints" / "diffusion_steps1.pt", weights_only=True)["step_distillation"][
        "student_steps"] == 1  # fmt: skip
    with pytest.raises(RuntimeError) as err:  # a 2-step teacher cannot teach a 2-step student with 2 substeps
        run_id(bundle, "distill_steps", steps, out, student_steps=2, resume=False,
               step_teacher_checkpoint=str(out / "checkpoints" / "diffusion_steps2.pt"))  # fmt: skip
    assert "step-distilled for 2 steps" in str(err.value.__cause__)
    run_id(
        bundle, "inference", ["inference.yaml"], out, guidance_scale=1.0, sampler="dpmpp_1", num_inference_steps=1,
        inference_checkpoint=str(out / "checkpoints" / "diffusion_steps1.pt"),
        inference_output_dir=str(out / "synthetic_steps1"),
    )  # fmt: skip
    assert len((out / "synthetic_steps1" / "manifest.csv").read_text().splitlines()) == 1 + 2 * 2


@pytest.mark.slow
@pytest.mark.parametrize("bundle", NAMES)
def test_smoke_evaluate(bundle, request, tmp_path):
    out = _trained_smoke_run(bundle, request, tmp_path)
    run_id(bundle, "inference", ["inference.yaml"], out)
    run_id(bundle, "evaluate", ["evaluate.yaml"], out)
    assert (out / "evaluation" / "report.md").is_file()
    sources = json.loads((out / "evaluation" / "results.json").read_text())["leakage_check"]["synthetic_sources"]
    assert sources["verified"] and sum(sources["images_per_generator"].values()) == sources["num_images"]
    round_trip = json.loads((out / "evaluation" / "results.json").read_text())["memorization"]["autoencoder"]
    assert round_trip["space"] == "autoencoder" and round_trip["num_synthetic"] == sources["num_images"]
    if "pneumonia" not in bundle:
        return
    # a pooled pool of two generators trained on the same images (training_seed 1 for the second): evaluated only
    # when both are leakage-checked
    run_id(bundle, "training", ["train.yaml"], tmp_path / "run2", training_seed=1)
    run_id(bundle, "inference", ["inference.yaml"], tmp_path / "run2")
    pool_manifests([out / "synthetic", tmp_path / "run2" / "synthetic"], tmp_path / "pooled", per_class=1)
    both = [str(d / "checkpoints" / "diffusion.pt") for d in (out, tmp_path / "run2")]
    pooled = {"synthetic_dir": str(tmp_path / "pooled"), "evaluation_output_dir": str(tmp_path / "eval_pooled")}
    with pytest.raises(RuntimeError) as err:
        run_id(bundle, "evaluate", ["evaluate.yaml"], out, **pooled)
    assert "not leakage-checked" in str(err.value.__cause__)
    run_id(bundle, "evaluate", ["evaluate.yaml"], out, generator_checkpoint=both, **pooled)
    leakage = json.loads((tmp_path / "eval_pooled" / "results.json").read_text())["leakage_check"]
    assert leakage["num_generators"] == 2 and len(leakage["synthetic_sources"]["images_per_generator"]) == 2
    memo = json.loads((tmp_path / "eval_pooled" / "results.json").read_text())["memorization"]
    assert memo["autoencoder"] == {"skipped": "needs exactly one generator checkpoint, got 2"}
    results = json.loads((out / "evaluation" / "results.json").read_text())
    assert results


def test_evaluate_needs_a_synthetic_set_only_for_synthetic_arms(pneumoniamnist_npz, tmp_path):
    """Real-only arms run without a synthetic manifest or a generator; an arm with `syn` and no manifest is a clear
    error, and a generator checkpoint that exists is still checked."""
    from monai.bundle import ConfigParser

    def parser(arms):
        p = ConfigParser()
        p.read_config(configs("medienet_pneumoniamnist", "common.yaml", "evaluate.yaml"))
        p["output_dir"] = str(tmp_path / "run")
        p["synthetic_dir"] = str(tmp_path / "nowhere")
        p["evaluation_config"]["arms"] = arms
        return p

    assert parser(["real", "real+aug"]).get_parsed_content("synthetic_items") is None
    assert parser(["real", "real+aug"]).get_parsed_content("generator_checkpoint") is None
    ckpt = tmp_path / "run" / "checkpoints" / "diffusion.pt"
    assert parser(["real+syn+aug"]).get_parsed_content("generator_checkpoint") == str(ckpt)
    with pytest.raises(RuntimeError) as err:
        parser(["real+aug", "real+syn+aug"]).get_parsed_content("synthetic_items")
    assert "manifest" in str(err.value.__cause__) and "nowhere" in str(err.value.__cause__)
    # without a generator the real arms train on the bundle's own k-per-class draw, not on the whole train split
    few = parser(["real", "real+aug"])
    few["k_per_class"] = 3
    real, items = few.get_parsed_content("evaluation_real"), few.get_parsed_content("train_items")
    assert len(real["train"]) == 6 and [it["id"] for it in real["train"]] == [it["id"] for it in items]
    assert len(real["test"]) == len(few.get_parsed_content("data_source").splits["test"])
    # selection_test_fraction: early stopping on a part of the test split, the rest reported; the control keeps val
    few["selection_test_fraction"] = 0.5
    halves = few.get_parsed_content("evaluation_real")
    test_ids = sorted(it["id"] for it in real["test"])
    assert sorted(it["id"] for it in halves["val"] + halves["test"]) == test_ids
    assert [it["id"] for it in halves["train"]] == [it["id"] for it in real["train"]]
    few["selection_split"] = "val"
    control = few.get_parsed_content("evaluation_real")
    assert [it["id"] for it in control["val"]] == [it["id"] for it in real["val"]]
    assert [it["id"] for it in control["test"]] == [it["id"] for it in halves["test"]]
    ckpt.parent.mkdir(parents=True)
    ckpt.touch()
    assert parser(["real", "real+aug"]).get_parsed_content("generator_checkpoint") == str(ckpt)
    with_generator = parser(["real"])
    assert with_generator.get_parsed_content("evaluation_real") is with_generator.get_parsed_content("data_source")


def test_breastmnist_overlay_resolves(breastmnist_npz):
    """breastmnist.yaml: all BreastMNIST training images (minus the test duplicate), its own output_dir, and left/right
    flips in evaluate's classic augmentation (the chest default stays flip-free)."""
    from monai.bundle import ConfigParser

    bundle = "medienet_pneumoniamnist"
    parser = ConfigParser()
    parser.read_config(configs(bundle, "common.yaml", "train.yaml", "breastmnist.yaml"))
    assert parser.get_parsed_content("classes") == ["malignant", "normal_benign"]
    assert parser.get_parsed_content("output_dir") == "outputs/medienet_breastmnist"
    items = parser.get_parsed_content("train_items")
    assert len(items) == len(parser.get_parsed_content("data_source").splits["train"]) - 1 == 545
    parser = ConfigParser()
    parser.read_config(configs(bundle, "common.yaml", "evaluate.yaml", "breastmnist.yaml"))
    assert parser.get_parsed_content("evaluation_config")["flip_axes"] == [1]
    parser = ConfigParser()
    parser.read_config(configs(bundle, "common.yaml", "evaluate.yaml"))
    assert parser.get_parsed_content("evaluation_config")["flip_axes"] == []


def test_training_seed_trains_another_generator_on_the_same_images(pneumoniamnist_npz, tmp_path):
    """`training_seed` changes the training run (initial weights) but not the data: same train_hash, recorded seed."""
    bundle = "medienet_pneumoniamnist"
    run_id(bundle, "train_autoencoder", ["train.yaml"], tmp_path / "a")
    run_id(bundle, "train_autoencoder", ["train.yaml"], tmp_path / "b", training_seed=7)
    a = torch.load(tmp_path / "a" / "checkpoints" / "autoencoder.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "checkpoints" / "autoencoder.pt", weights_only=True)
    assert (a["training_seed"], b["training_seed"]) == (0, 7)
    assert a["train_hash"] == b["train_hash"]
    wa, wb = a["state"]["autoencoder"], b["state"]["autoencoder"]
    key = next(k for k in wa if k.endswith("conv.weight"))
    assert not torch.equal(wa[key], wb[key])


@pytest.mark.slow
def test_smoke_breastmnist_pipeline(breastmnist_npz, tmp_path):
    """training -> inference -> evaluate with the BreastMNIST overlay (smoke sizes) on the real npz."""
    bundle, out = "medienet_pneumoniamnist", tmp_path / "breast"
    run_id(bundle, "training", ["train.yaml", "breastmnist.yaml"], out)
    _check_training_outputs(out, ["malignant", "normal_benign"])
    run_id(bundle, "inference", ["inference.yaml", "breastmnist.yaml"], out)
    manifest = (out / "synthetic" / "manifest.csv").read_text()
    assert "malignant" in manifest and "normal_benign" in manifest
    run_id(bundle, "evaluate", ["evaluate.yaml", "breastmnist.yaml"], out)
    results = json.loads((out / "evaluation" / "results.json").read_text())
    assert set(results["arms"]) == {"real", "real+syn"}


def _flat(obj, prefix=""):
    """Flatten nested dict/list checkpoint content to {path: leaf}."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}/{k}"))
        return out
    if isinstance(obj, (list, tuple)):
        out = {}
        for i, v in enumerate(obj):
            out.update(_flat(v, f"{prefix}[{i}]"))
        return out
    return {prefix: obj}


def _assert_same_state(a: dict, b: dict) -> None:
    for key in ("state", "rng", "engine", "scale_factor", "train_hash"):
        fa, fb = _flat(a[key]), _flat(b[key])
        assert fa.keys() == fb.keys(), key
        for k in fa:
            va, vb = fa[k], fb[k]
            if isinstance(va, torch.Tensor):
                assert torch.equal(va, vb), f"{key}{k} differs"
            else:
                assert va == vb, f"{key}{k}: {va} != {vb}"


def test_resume_diffusion_matches_uninterrupted(pneumoniamnist_npz, tmp_path):
    """Interrupt the diffusion stage after epoch 1, resume in a fresh workflow: at the end every weight, EMA weight,
    optimizer / LR-scheduler state, RNG state and the iteration equal those of an uninterrupted run."""
    from ignite.engine import Events
    from monai.bundle import ConfigWorkflow
    from monai.utils import set_determinism

    bundle = "medienet_pneumoniamnist"
    files = configs(bundle, "common.yaml", "train.yaml", "smoke.yaml")
    ae_dir = tmp_path / "ae"
    run_id(bundle, "train_autoencoder", ["train.yaml"], ae_dir)

    def workflow(out: Path) -> ConfigWorkflow:
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        shutil.copy(ae_dir / "checkpoints" / "autoencoder.pt", out / "checkpoints" / "autoencoder.pt")
        wf = ConfigWorkflow(
            config_file=files, meta_file=str(BUNDLES / bundle / "configs" / "metadata.json"), logging_file=False,
            workflow_type=None, run_id="train_diffusion", output_dir=str(out), num_threads=1,
            diffusion_epochs=3, grid_interval_epochs=1,
        )  # fmt: skip
        wf.initialize()
        # build the trainer up front, after seeding, the same way in every workflow (the test needs the object to
        # attach its "crash"; the CLI builds it after the stage's own set_determinism, which is equivalent)
        set_determinism(seed=0)
        wf.parser.get_parsed_content("diffusion_trainer")
        return wf

    full = workflow(tmp_path / "full")
    full.run()
    ck_full = torch.load(tmp_path / "full" / "checkpoints" / "diffusion.pt", weights_only=True)
    assert ck_full["engine"]["iteration"] == 3 * 4

    part = workflow(tmp_path / "part")
    trainer = part.parser.get_parsed_content("diffusion_trainer")
    trainer.add_event_handler(Events.EPOCH_COMPLETED(once=1), lambda e: e.terminate())  # "crash" after epoch 1
    part.run()
    ck_part = torch.load(tmp_path / "part" / "checkpoints" / "diffusion.pt", weights_only=True)
    assert ck_part["engine"]["iteration"] == 4
    torch.manual_seed(1234)  # the resume must not depend on the global RNG state it finds

    resumed = workflow(tmp_path / "part")  # fresh objects, same output_dir -> resumes from iteration 4
    resumed.run()
    ck_resumed = torch.load(tmp_path / "part" / "checkpoints" / "diffusion.pt", weights_only=True)
    assert ck_resumed["engine"]["iteration"] == 12
    _assert_same_state(ck_full, ck_resumed)
    # and the interrupted checkpoint really differs from the final one (the test can fail)
    assert not torch.equal(
        ck_part["state"]["network"]["conv_in.conv.weight"], ck_full["state"]["network"]["conv_in.conv.weight"]
    )


def _torchrun_two_processes(rid: str, files: list[str], out: Path, port: int, extra: tuple[str, ...] = ()) -> str:
    """``torchrun --nproc_per_node=2`` (gloo on CPU) of one bundle run id, one thread per rank; returns stdout.

    ``extra``: further command-line overrides, e.g. ``("--ae_adversarial", "True")``.
    """
    import os
    import subprocess
    import sys

    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
        "-m", "monai.bundle", "run", rid, "--config_file", repr(files),
        "--output_dir", str(out), "--num_threads", "1", *extra,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("augment", [False, True], ids=["plain", "generator_augmentation"])
def test_ddp_two_process_gloo(pneumoniamnist_npz, tmp_path, augment):
    """torchrun --nproc_per_node=2 on CPU (gloo) runs both training stages with the smoke + multi-GPU overlays, also
    with the generator's training images augmented (the DistributedSampler shards the augmented dataset)."""
    bundle = "medienet_pneumoniamnist"
    files = configs(bundle, "common.yaml", "train.yaml", "smoke.yaml", "multi_gpu_train.yaml")
    out = tmp_path / "ddp"
    extra = ("--generator_augmentation", "True") if augment else ()
    stdout = _torchrun_two_processes("training", files, out, 29523 if augment else 29517, extra)
    ck = torch.load(out / "checkpoints" / "diffusion.pt", weights_only=True)
    assert (ck["training_augmentation"] is not None) == augment
    # smoke: 32 training images, batch 8 per rank, 2 ranks -> 2 iterations per epoch, 2 epochs
    assert ck["engine"]["iteration"] == 4
    assert not any(k.startswith("module.") for k in ck["state"]["network"])
    assert (out / "samples" / "samples_latest.png").is_file()
    assert stdout.count("diffusion stage finished") == 1  # summary on rank 0 only
    for stage in ("[autoencoder]", "[diffusion]"):  # start-of-run settings line, rank 0 only
        assert stdout.count(stage) == 1 and "world_size=2 backend=gloo" in stdout


@pytest.mark.slow
def test_ddp_adversarial_autoencoder_two_process_gloo(pneumoniamnist_npz, tmp_path):
    """The adversarial autoencoder under torchrun (gloo): DDP-wrapped PatchDiscriminator, stepped, saved unwrapped."""
    bundle = "medienet_pneumoniamnist"
    files = configs(bundle, "common.yaml", "train.yaml", "smoke.yaml", "multi_gpu_train.yaml")
    out = tmp_path / "ddp_adv"
    extra = ("--ae_adversarial", "True", "--ae_adversarial_warmup", "1", "--ae_epochs", "2")
    stdout = _torchrun_two_processes("train_autoencoder", files, out, 29521, extra)
    assert stdout.count("[autoencoder]") == 1 and "world_size=2 backend=gloo" in stdout
    ck = torch.load(out / "checkpoints" / "autoencoder.pt", weights_only=True)
    # 32 images, batch 8 per rank, 2 ranks -> 2 iterations per epoch, 2 epochs; the game starts at iteration 2
    assert ck["engine"]["iteration"] == 4
    assert set(ck["state"]) == {"autoencoder", "optimizer", "discriminator", "d_optimizer"}
    assert ck["state"]["d_optimizer"]["state"], "the discriminator was never stepped"
    assert not any(k.startswith("module.") for k in ck["state"]["discriminator"])


@pytest.mark.slow
def test_ddp_distill_guidance_two_process_gloo(pneumoniamnist_npz, tmp_path):
    """torchrun --nproc_per_node=2 (gloo) distils a smoke teacher: DDP-wrapped student, one checkpoint from rank 0."""
    bundle = "medienet_pneumoniamnist"
    out = tmp_path / "run"
    run_id(bundle, "training", ["train.yaml"], out)  # the teacher, one process
    files = configs(bundle, "common.yaml", "train.yaml", "distill.yaml", "smoke.yaml", "multi_gpu_train.yaml")
    stdout = _torchrun_two_processes("distill_guidance", files, out, 29519)
    assert stdout.count("[distill_guidance] teacher=") == 1 and "world_size=2 backend=gloo" in stdout
    student = torch.load(out / "checkpoints" / "diffusion_distilled.pt", weights_only=True)
    teacher = torch.load(out / "checkpoints" / "diffusion.pt", weights_only=True)
    # 32 images, batch 8 per rank, 2 ranks -> 2 iterations per epoch, 2 epochs (a single process runs 8)
    assert student["engine"]["iteration"] == 4
    assert not any(k.startswith("module.") for k in student["state"]["network"])
    assert student["guidance_distillation"]["guidance_scale"] == 2.0
    assert student["train_fingerprints"] == teacher["train_fingerprints"]
    assert (out / "samples_distilled" / "samples_latest.png").is_file()


def test_generator_augmentation_feeds_both_stages_and_is_recorded(pneumoniamnist_npz, tmp_path):
    """`generator_augmentation`: the generator's training loader chains preprocessing (cached) and classic
    augmentation (on the fly, flips from augmentation_flip_axes), the same seed then trains other weights, the
    checkpoint records the settings; off by default (None recorded) and the scale factor's loader stays plain."""
    from monai.bundle import ConfigParser
    from monai.data import CacheDataset

    bundle = "medienet_pneumoniamnist"
    parser = ConfigParser()
    parser.read_config(configs(bundle, "common.yaml", "train.yaml", "breastmnist.yaml"))
    parser["generator_augmentation"] = True
    ds = parser.get_parsed_content("train_loader").dataset
    assert isinstance(ds, CacheDataset) and ds is not parser.get_parsed_content("scale_loader").dataset
    *pre, aug = ds.transform.transforms  # the augmentation: one UntrackedCompose (no MetaTensor tracking) at the end
    names = [type(t).__name__ for t in (*pre, *aug.transforms)]
    assert names[0] == "LoadMedicalImaged" and "RandAffined" in names and "RandFlipd" in names  # breast: flips allowed
    assert isinstance(ds._cache[0]["image"], torch.Tensor)  # the preprocessed image is cached, not the file name
    run_id(bundle, "train_autoencoder", ["train.yaml"], tmp_path / "plain")
    run_id(bundle, "train_autoencoder", ["train.yaml"], tmp_path / "aug", generator_augmentation=True)
    plain = torch.load(tmp_path / "plain" / "checkpoints" / "autoencoder.pt", weights_only=True)
    aug = torch.load(tmp_path / "aug" / "checkpoints" / "autoencoder.pt", weights_only=True)
    assert plain["training_augmentation"] is None
    assert aug["training_augmentation"]["rotate_degrees"] == 10.0 and aug["training_augmentation"]["flip_axes"] == []
    assert aug["train_hash"] == plain["train_hash"]  # the same images: evaluate still accepts the generator
    wp, wa = plain["state"]["autoencoder"], aug["state"]["autoencoder"]
    key = next(k for k in wp if k.endswith("conv.weight"))
    assert not torch.equal(wp[key], wa[key])


def test_smoke_adversarial_autoencoder(pneumoniamnist_npz, tmp_path, capsys):
    """The optional PatchDiscriminator path: discriminator + its optimizer are trained after the warm-up and saved."""
    out = tmp_path / "adv"
    run_id("medienet_pneumoniamnist", "train_autoencoder", ["train.yaml"], out, ae_adversarial=True,
           ae_adversarial_warmup=2)  # fmt: skip
    ck = torch.load(out / "checkpoints" / "autoencoder.pt", weights_only=True)
    assert set(ck["state"]) == {"autoencoder", "optimizer", "discriminator", "d_optimizer"}
    assert ck["state"]["d_optimizer"]["state"], "the discriminator was never stepped"
    assert "autoencoder stage finished" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("bundle", NAMES)
def test_lowdata_overlay_resolves_to_k_images_per_class(bundle, request):
    """lowdata.yaml (the results.md experiment): k = 200 real training images per class, its own output_dir."""
    request.getfixturevalue("pneumoniamnist_npz" if "pneumonia" in bundle else "chest_xray_dir")
    from monai.bundle import ConfigParser

    parser = ConfigParser()
    parser.read_config(configs(bundle, "common.yaml", "train.yaml", "lowdata.yaml"))
    k = parser.get_parsed_content("k_per_class")
    assert k == 200 and parser.get_parsed_content("output_dir").endswith(f"_k{k}")
    items = parser.get_parsed_content("train_items")
    labels = [int(it["label"]) for it in items]
    assert len(items) == 2 * k and labels.count(0) == labels.count(1) == k
    assert parser.get_parsed_content("latent_shape")[0] == parser.get_parsed_content("ae_latent_channels")


@pytest.mark.parametrize("bundle", NAMES)
def test_image_orientation_reaches_the_preprocessing(bundle, tmp_path):
    """image_orientation (null: as stored) is passed to image_preprocessing and recorded in its settings."""
    from monai.bundle import ConfigParser

    sitk = pytest.importorskip("SimpleITK", reason="SimpleITK (the dev extra) writes NIfTI as 3D Slicer does")
    parser = ConfigParser()
    parser.read_config(configs(bundle, "common.yaml"))
    assert parser.get_parsed_content("image_orientation") is None
    assert parser.get_parsed_content("preprocessing").preprocessing_settings["orientation"] is None
    parser["image_orientation"] = "raster"
    pre = parser.get_parsed_content("preprocessing", lazy=False)
    assert pre.preprocessing_settings["orientation"] == "raster"
    i, j = np.mgrid[0:40, 0:24]
    blob = (255 * np.exp(-((i - 10.0) ** 2 + (j - 6.0) ** 2) / 40.0)).astype(np.uint8)  # not symmetric
    png, nifti = write_test_png(tmp_path / "x.png", blob), tmp_path / "x.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(blob), str(nifti))  # stored (columns, rows)
    np.testing.assert_allclose(pre({"image": nifti})["image"].numpy(), pre({"image": png})["image"].numpy(), atol=1e-6)
