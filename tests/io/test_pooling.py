"""pool_manifests: the pools of several generators as one manifest, class balanced per source, no image copied."""

from __future__ import annotations

import json

import pytest
import torch

from monai_medienet.data import manifest_source
from monai_medienet.io import SyntheticImageWriter, filter_manifest, pool_manifests, read_manifest
from monai_medienet.io.__main__ import main

CLASSES = ["normal", "pneumonia"]


def _write_pool(folder, sha, n_per_class, classes=CLASSES):
    prov = {"sampler": "ddim", "steps": 5, "guidance_scale": 2.0, "checkpoint_sha256": sha}
    with SyntheticImageWriter(folder, classes, provenance=prov) as writer:
        for label in range(len(classes)):
            for seed in range(n_per_class):
                image = torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(100 * label + seed))
                writer.write(image, label, seed=seed)
    return folder


def test_pool_takes_the_first_images_per_class_of_every_source(tmp_path):
    a = _write_pool(tmp_path / "gen_a" / "pool", "a" * 64, 3)
    b = _write_pool(tmp_path / "gen_b" / "pool", "b" * 64, 4)
    out = pool_manifests([a, b / "manifest.csv"], tmp_path / "pooled", per_class=2)
    assert out == (tmp_path / "pooled" / "manifest.csv").resolve()
    rows = read_manifest(out)
    assert len(rows) == 8
    assert [(r["source"], r["label"], r["seed"]) for r in rows] == [
        (s, c, k) for s in (0, 1) for c in (0, 1) for k in (0, 1)
    ]
    assert all(not r["path"].startswith("/") for r in rows)  # relative to the pooled folder, images not copied
    assert not any(p.suffix == ".png" for p in (tmp_path / "pooled").rglob("*"))
    items = manifest_source(out).splits["train"]
    originals = {it["image"] for src in (a, b) for it in manifest_source(src / "manifest.csv").splits["train"]}
    assert {it["image"] for it in items} <= originals
    assert [it["checkpoint_sha256"] for it in items] == ["a" * 64] * 4 + ["b" * 64] * 4
    assert all(it["synthetic"] == 1 for it in items)
    sidecar = json.loads((tmp_path / "pooled" / "manifest.json").read_text())
    assert sidecar["classes"] == CLASSES and sidecar["num_images"] == 8
    pooled_from = sidecar["provenance"]["pooled_from"]
    assert [s["checkpoint_sha256"] for s in pooled_from] == [["a" * 64], ["b" * 64]]
    assert [s["num_images"] for s in pooled_from] == [4, 4]
    assert pooled_from[0]["provenance"]["sampler"] == "ddim"
    # every image, when per_class is None; an existing pooled manifest is only replaced on request
    with pytest.raises(ValueError, match="exists"):
        pool_manifests([a, b], tmp_path / "pooled")
    assert len(read_manifest(pool_manifests([a, b], tmp_path / "pooled", overwrite=True))) == 14


def test_pool_command_line(tmp_path):
    a = _write_pool(tmp_path / "a", "a" * 64, 2)
    b = _write_pool(tmp_path / "b", "b" * 64, 2)
    out = main(["pool", str(a), str(b), "--output_dir", str(tmp_path / "p"), "--per_class", "1"])
    assert len(manifest_source(out).splits["train"]) == 4


def test_pool_errors(tmp_path):
    a = _write_pool(tmp_path / "a", "a" * 64, 2)
    b = _write_pool(tmp_path / "b", "b" * 64, 1)
    c = _write_pool(tmp_path / "c", "c" * 64, 2, classes=["benign", "malignant"])
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="two or more manifests, got 1"):
        pool_manifests([a], out)
    with pytest.raises(ValueError, match="listed twice"):
        pool_manifests([a, a / "manifest.csv"], out)
    with pytest.raises(ValueError, match="per_class must be a positive int or None, got 0"):
        pool_manifests([a, b], out, per_class=0)
    with pytest.raises(ValueError, match=r"has classes \['benign', 'malignant'\]"):
        pool_manifests([a, c], out)
    with pytest.raises(ValueError, match=r"fewer than 2 image\(s\) of class\(es\) \{'normal': 1, 'pneumonia': 1\}"):
        pool_manifests([a, b], out, per_class=2)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "manifest.csv").write_text("path,label\n")
    # without per_class every image is taken, also from a pool of one class only
    one_class = tmp_path / "one_class"
    with SyntheticImageWriter(one_class, CLASSES, provenance={"checkpoint_sha256": "d" * 64}) as writer:
        writer.write(torch.rand(1, 8, 8), 1, seed=0)
    assert [r["label"] for r in read_manifest(pool_manifests([a, one_class], tmp_path / "all"))] == [0, 0, 1, 1, 1]
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        pool_manifests([a, tmp_path / "d"], out)
    assert not out.exists()  # nothing written by a refused call


def test_filter_manifest_keeps_the_marked_rows_without_copying(tmp_path):
    a = _write_pool(tmp_path / "gen_a" / "pool", "a" * 64, 3)
    keep = [True, False, True, False, False, True]
    out = filter_manifest(a, tmp_path / "kept", keep, provenance={"why": "test"})
    rows = read_manifest(out)
    assert [(r["label"], r["seed"]) for r in rows] == [(0, 0), (0, 2), (1, 2)]
    assert not any(p.suffix == ".png" for p in (tmp_path / "kept").rglob("*"))
    source_items = manifest_source(a / "manifest.csv").splits["train"]
    assert [it["image"] for it in manifest_source(out).splits["train"]] == [source_items[i]["image"] for i in (0, 2, 5)]
    sidecar = json.loads((tmp_path / "kept" / "manifest.json").read_text())
    assert sidecar["classes"] == CLASSES and sidecar["num_images"] == 3
    assert sidecar["provenance"]["filtered"] == {"why": "test"}
    assert sidecar["provenance"]["num_source_images"] == 6
    assert sidecar["provenance"]["source"]["checkpoint_sha256"] == "a" * 64
    # a filtered pool pools like any other; its rows keep their generator's sha
    pooled = pool_manifests([out, _write_pool(tmp_path / "b", "b" * 64, 1)], tmp_path / "pooled")
    assert [r["checkpoint_sha256"][0] for r in read_manifest(pooled)] == ["a"] * 3 + ["b"] * 2


def test_filter_manifest_errors(tmp_path):
    a = _write_pool(tmp_path / "a", "a" * 64, 1)
    with pytest.raises(ValueError, match="keep has 3 entries, .* has 2 rows"):
        filter_manifest(a, tmp_path / "out", [True] * 3)
    with pytest.raises(ValueError, match="is the source's folder"):
        filter_manifest(a, a, [True, True])
    filter_manifest(a, tmp_path / "out", [True, True])
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        filter_manifest(a, tmp_path / "out", [True, False])
    assert len(read_manifest(filter_manifest(a, tmp_path / "out", [True, False], overwrite=True))) == 1
    (a / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        filter_manifest(a, tmp_path / "out2", [True, True])
