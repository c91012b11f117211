from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from monai_medienet.evaluation import (
    arms_table,
    base_arm,
    deltas_table,
    load_predictions,
    merge_evaluations,
    plot_differences,
    pooled_deltas_table,
    ratios_table,
    run_evaluation,
)
from monai_medienet.evaluation.__main__ import main
from tests.evaluation.test_protocol import _fast, _random_splits


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One run with two arms, the same arms run separately (same seeds), a run on a new seed and one on all three."""
    splits, syn = _random_splits()
    rng = np.random.default_rng(1)
    for items in (*splits.values(), syn):  # a weak signal, so that AUROCs and their intervals are not all 1.0
        for it in items:
            it["image"] = np.clip(it["image"] * 0.15 + rng.random(it["image"].shape) * 0.85, 0, 1).astype(np.float32)
    root = tmp_path_factory.mktemp("merge")
    kw = dict(seeds=[0, 1], fidelity=False, gradcam_images=0)
    full = run_evaluation(splits, syn, output_dir=root / "full", **_fast(arms=["real", "real+syn+aug"], **kw))
    run_evaluation(splits, syn, output_dir=root / "base", **_fast(arms=["real"], **kw))
    run_evaluation(splits, syn, output_dir=root / "syn", **_fast(arms=["real+syn+aug"], **kw))
    kw3 = dict(kw, arms=["real", "real+syn+aug"])
    run_evaluation(splits, syn, output_dir=root / "s2", **_fast(**{**kw3, "seeds": [2]}))  # a later, new seed
    run_evaluation(splits, syn, output_dir=root / "all3", **_fast(**{**kw3, "seeds": [0, 1, 2]}))
    return root, full


def _assert_same(a, b):
    """Two metrics dicts ``{metric: {stat: float | list}}`` hold the same numbers."""
    assert a.keys() == b.keys()
    for m in a:
        assert a[m].keys() == b[m].keys()
        for k in a[m]:
            np.testing.assert_allclose(a[m][k], b[m][k], err_msg=f"{m}.{k}")


def test_predictions_round_trip(runs):
    root, full = runs
    y, seeds, probs = load_predictions(root / "full" / "predictions.npz")
    assert np.array_equal(y, full["artifacts"]["test_labels"]) and seeds == [0, 1]
    for arm, p in full["artifacts"]["probs"].items():
        assert all(np.array_equal(u, v) for u, v in zip(probs[arm], p, strict=True))


def test_split_runs_merge_to_the_single_run_numbers(runs, tmp_path):
    root, full = runs
    merged = merge_evaluations([root / "base", root / "syn"], tmp_path)
    assert list(merged["arms"]) == ["real", "real+syn+aug"]
    assert 0.0 < full["arms"]["real"]["metrics"]["auroc"]["ci_low"] < 1.0  # not a degenerate toy
    for arm in full["arms"]:
        _assert_same(merged["arms"][arm]["metrics"], full["arms"][arm]["metrics"])
    assert list(merged["deltas"]) == list(full["deltas"]) == ["real+syn+aug - real"]
    d_full, d_merged = full["deltas"]["real+syn+aug - real"], merged["deltas"]["real+syn+aug - real"]
    _assert_same(d_merged, d_full)
    report = (tmp_path / "report.md").read_text()
    assert "## Merged runs" in report and str(root / "syn") in report
    # each run's pool figures stay visible: the synthetic run's pixel near-copies and data-copying statistic
    syn_pix = json.loads((root / "syn" / "results.json").read_text())["memorization"]["pixel"]
    syn_row = next(line for line in report.splitlines() if line.startswith(f"| `{root / 'syn'}`"))
    assert f"| {syn_pix['num_flagged']}/{syn_pix['num_synthetic']} |" in syn_row and "data_copying" in syn_pix
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [s["tag"] for s in saved["merged_from"]] == ["", ""]
    assert (tmp_path / "predictions.npz").is_file() and (tmp_path / "auroc_bars.png").is_file()


def test_tagged_variant_and_default_deltas(runs):
    root, _ = runs
    merged = merge_evaluations([root / "full", ("v2", root / "syn")])
    assert "real+syn+aug@v2" in merged["arms"] and base_arm("real+syn+aug@v2") == "real+syn+aug"
    assert {"real+syn+aug@v2 - real", "real+syn+aug@v2 - real+syn+aug"} <= set(merged["deltas"])
    # the same arm re-run in another job gives the same predictions: zero difference
    same = merged["deltas"]["real+syn+aug@v2 - real+syn+aug"]["auroc"]
    assert same["delta"] == pytest.approx(0.0) and same["ci_low"] == pytest.approx(0.0)
    # a repeated untagged baseline with identical predictions is accepted once
    again = merge_evaluations([root / "full", root / "base"], deltas=[["real", "real+syn+aug"]])
    assert list(again["arms"]) == ["real", "real+syn+aug"] and list(again["deltas"]) == ["real - real+syn+aug"]


def test_errors(runs, tmp_path):
    root, _ = runs
    with pytest.raises(ValueError, match="no runs"):
        merge_evaluations([])
    with pytest.raises(ValueError, match="lacks"):
        merge_evaluations([root / "full", tmp_path])
    with pytest.raises(ValueError, match="unknown arms"):
        merge_evaluations([root / "base"], deltas=[["real+syn+aug", "real"]])
    with pytest.raises(ValueError, match="twice"):
        merge_evaluations([root / "base", root / "base"])
    # the same arm name with other predictions must be tagged
    other = tmp_path / "other"
    other.mkdir()
    (other / "results.json").write_text((root / "base" / "results.json").read_text())
    y, seeds, probs = load_predictions(root / "base" / "predictions.npz")
    np.savez(
        other / "predictions.npz",
        test_labels=y,
        seeds=np.asarray(seeds),
        arms=np.asarray(["real"]),
        probs_0=np.stack(probs["real"])[:, ::-1],
    )
    with pytest.raises(ValueError, match="different predictions"):
        merge_evaluations([root / "base", other])
    np.savez(other / "predictions.npz", test_labels=y, seeds=np.asarray([0, 2]), arms=np.asarray(["real"]),
             probs_0=np.stack(probs["real"]))  # fmt: skip
    with pytest.raises(ValueError, match="seeds"):
        merge_evaluations([root / "base", ("o", other)])
    np.savez(other / "predictions.npz", test_labels=y[::-1], seeds=np.asarray(seeds), arms=np.asarray(["real"]),
             probs_0=np.stack(probs["real"]))  # fmt: skip
    with pytest.raises(ValueError, match="other images"):
        merge_evaluations([root / "base", ("o", other)])
    np.savez(other / "predictions.npz", test_labels=y, seeds=np.asarray(seeds), arms=np.asarray(["real"]),
             probs_0=np.stack(probs["real"]))  # fmt: skip
    res = json.loads((root / "base" / "results.json").read_text())
    # the same labels in the same order, other test images (e.g. another half of a split test split): refused by hash
    hashes = res["settings"]["split_hashes"]
    assert set(hashes) == {"val", "test"} and len(hashes["test"]) == 64 and hashes["val"] != hashes["test"]
    assert f"val {hashes['val'][:12]}, test {hashes['test'][:12]}" in (root / "base" / "report.md").read_text()
    (other / "results.json").write_text(json.dumps({**res, "settings": {**res["settings"], "split_hashes": {
        **hashes, "test": "0" * 64}}}))  # fmt: skip
    with pytest.raises(ValueError, match="test split hashes differ"):
        merge_evaluations([root / "base", ("o", other)])
    without = {k: v for k, v in res["settings"].items() if k != "split_hashes"}  # stored before the hashes: accepted
    (other / "results.json").write_text(json.dumps({**res, "settings": without}))
    assert "real@o" in merge_evaluations([root / "base", ("o", other)])["arms"]
    res["settings"]["max_steps"] = 999
    (other / "results.json").write_text(json.dumps(res))
    with pytest.raises(ValueError, match="recipe"):
        merge_evaluations([root / "base", ("o", other)])


def test_recipe_differences_opt_in(runs, tmp_path):
    """Runs of another augmentation setting merge only when that setting is named, and the report says so."""
    root, _ = runs
    other = tmp_path / "strong"
    other.mkdir()
    (other / "predictions.npz").write_bytes((root / "syn" / "predictions.npz").read_bytes())
    res = json.loads((root / "syn" / "results.json").read_text())
    res["settings"].update(intensity_jitter=0.3, crop_scale=[0.7, 1.0])
    (other / "results.json").write_text(json.dumps(res))
    with pytest.raises(ValueError, match="another recipe.*intensity_jitter"):
        merge_evaluations([root / "base", ("strong", other)])
    with pytest.raises(ValueError, match="another recipe.*crop_scale"):  # every differing setting must be named
        merge_evaluations([root / "base", ("strong", other)], recipe_differences=["intensity_jitter"])
    merged = merge_evaluations(
        [root / "base", ("strong", other)], tmp_path / "out", recipe_differences=["intensity_jitter", "crop_scale"]
    )
    assert merged["settings"]["recipe_differences"] == ["intensity_jitter", "crop_scale"]
    assert merged["merged_from"][1]["settings_differing_from_first"]["intensity_jitter"] == 0.3
    assert "real+syn+aug@strong - real" in merged["deltas"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "allowed to differ between the runs: intensity_jitter, crop_scale" in report
    assert "'intensity_jitter': 0.3" in report  # the run's own value, in its row
    res["settings"]["max_steps"] = 999  # a difference not named is still refused
    (other / "results.json").write_text(json.dumps(res))
    with pytest.raises(ValueError, match="another recipe.*max_steps"):
        merge_evaluations([root / "base", ("strong", other)], recipe_differences=["intensity_jitter", "crop_scale"])
    for bad in (["augmentation"], "intensity_jitter"):
        with pytest.raises(ValueError, match="recipe_differences must list recipe settings"):
            merge_evaluations([root / "base"], recipe_differences=bad)
    cli = main(
        ["merge", str(root / "base"), f"s={other}", "--output_dir", str(tmp_path / "cli")]
        + ["--recipe_difference", "intensity_jitter", "crop_scale", "max_steps"]
    )
    assert cli["settings"]["recipe_differences"] == ["intensity_jitter", "crop_scale", "max_steps"]


def test_gamma_runs_merge_with_runs_stored_before_the_setting(runs, tmp_path):
    """A run stored before ``gamma_range`` existed (no such key) counts as gamma off: it merges with a gamma-off run
    and refuses a gamma run unless ``gamma_range`` is named."""
    root, _ = runs
    res = json.loads((root / "syn" / "results.json").read_text())
    for name, gamma in (("old", "missing"), ("gamma", [0.7, 1.5])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "predictions.npz").write_bytes((root / "syn" / "predictions.npz").read_bytes())
        settings = {k: v for k, v in res["settings"].items() if k != "gamma_range"}
        if gamma != "missing":
            settings["gamma_range"] = gamma
        (tmp_path / name / "results.json").write_text(json.dumps({**res, "settings": settings}))
    merge_evaluations([root / "base", ("old", tmp_path / "old")])
    with pytest.raises(ValueError, match="another recipe.*gamma_range"):
        merge_evaluations([root / "base", ("gamma", tmp_path / "gamma")])
    merged = merge_evaluations([root / "base", ("gamma", tmp_path / "gamma")], recipe_differences=["gamma_range"])
    assert merged["merged_from"][1]["settings_differing_from_first"]["gamma_range"] == [0.7, 1.5]


def test_command_line(runs, tmp_path, capsys):
    root, _ = runs
    res = main(
        ["merge", str(root / "base"), f"v2={root / 'syn'}", "--output_dir", str(tmp_path)]
        + ["--delta", "real+syn+aug@v2", "real"]
    )
    assert list(res["deltas"]) == ["real+syn+aug@v2 - real"]
    assert "merged 2 arms" in capsys.readouterr().out and (tmp_path / "report.md").is_file()
    with pytest.raises(SystemExit):  # a sub-command is required
        main([str(root / "base"), "--output_dir", str(tmp_path)])


def test_command_line_runs_as_module_without_warning(runs, tmp_path):
    """``python -m monai_medienet.evaluation merge`` (the documented command) runs without runpy's warning."""
    import subprocess
    import sys

    root, _ = runs
    out = subprocess.run(
        [sys.executable, "-m", "monai_medienet.evaluation", "merge", str(root / "base"), str(root / "syn")]
        + ["--output_dir", str(tmp_path), "--primary", "real+syn+aug", "real"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "merged 2 arms" in out.stdout and "RuntimeWarning" not in out.stderr
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["multiplicity"]["primary"] == "real+syn+aug - real"


def test_primary_comparison_and_holm(runs):
    root, _ = runs
    merged = merge_evaluations([root / "full", ("v2", root / "syn")], primary=["real+syn+aug@v2", "real"])
    deltas, mult = merged["deltas"], merged["multiplicity"]
    assert "real+syn+aug@v2 - real" in deltas and mult["primary"] == "real+syn+aug@v2 - real"
    assert deltas["real+syn+aug@v2 - real"]["auroc"]["p_holm"] is None
    family = mult["family"]
    assert "real+syn+aug@v2 - real" not in family and len(family) == len(deltas) - 1
    for name in family:  # Holm never lowers a p-value
        assert deltas[name]["auroc"]["p_holm"] >= deltas[name]["auroc"]["prob_le_0"]
    undeclared = merge_evaluations([root / "full", ("v2", root / "syn")])
    assert undeclared["multiplicity"]["primary"] is None and len(undeclared["multiplicity"]["family"]) == len(
        undeclared["deltas"]
    )
    with pytest.raises(ValueError, match="unknown arms"):
        merge_evaluations([root / "base"], primary=["real+syn+aug", "real"])
    with pytest.raises(ValueError, match="primary"):
        merge_evaluations([root / "base"], primary=["real"])


def test_pool_seeds_equals_one_run_over_all_seeds(runs, tmp_path):
    root, _ = runs
    pooled = merge_evaluations([root / "full", root / "s2"], tmp_path, pool_seeds=True)
    single = json.loads((root / "all3" / "results.json").read_text())
    assert pooled["seeds"] == [0, 1, 2] and list(pooled["arms"]) == ["real", "real+syn+aug"]
    for arm in single["arms"]:
        _assert_same(pooled["arms"][arm]["metrics"], single["arms"][arm]["metrics"])
        assert [r["seed"] for r in pooled["arms"][arm]["runs"]] == [0, 1, 2]
    _assert_same(pooled["deltas"]["real+syn+aug - real"], single["deltas"]["real+syn+aug - real"])
    assert "Seeds pooled" in (tmp_path / "report.md").read_text()
    # the pool's figures come along (first run's), so merging the pooled run again still shows them
    first = json.loads((root / "full" / "results.json").read_text())
    assert pooled["memorization"]["pixel"]["num_flagged"] == first["memorization"]["pixel"]["num_flagged"]
    assert pooled["fidelity"].keys() == first["fidelity"].keys()
    saved = json.loads((tmp_path / "results.json").read_text())  # what a later merge of this folder reads
    assert saved["memorization"]["pixel"]["num_flagged"] == first["memorization"]["pixel"]["num_flagged"]
    assert "| pixel |" in (tmp_path / "report.md").read_text()
    # an arm missing from one run is dropped, and said so
    partial = merge_evaluations([root / "base", root / "s2"], pool_seeds=True)
    assert list(partial["arms"]) == ["real"] and partial["merged_from"][1]["dropped_arms"] == ["real+syn+aug"]
    with pytest.raises(ValueError, match="disjoint"):
        merge_evaluations([root / "full", root / "base"], pool_seeds=True)
    with pytest.raises(ValueError, match="no arm common"):
        merge_evaluations([root / "base", ("t", root / "s2")], pool_seeds=True)


def test_selected_seeds_pair_a_short_run_with_a_longer_baseline(runs, tmp_path):
    root, full = runs
    # seeds 0-1 of the 3-seed run are the very classifiers of the 2-seed run: same numbers as merging the 2-seed run
    sub = merge_evaluations([("b", root / "all3"), root / "syn"], seeds=[0, 1])
    ref = merge_evaluations([("b", root / "full"), root / "syn"])
    assert sub["seeds"] == [0, 1] and sub["settings"]["selected_seeds"] == [0, 1]
    for arm in ref["arms"]:
        _assert_same(sub["arms"][arm]["metrics"], ref["arms"][arm]["metrics"])
    assert [r["seed"] for r in sub["arms"]["real@b"]["runs"]] == [0, 1]
    assert sub["deltas"].keys() == ref["deltas"].keys() and ref["deltas"]
    for key in ref["deltas"]:
        _assert_same(sub["deltas"][key], ref["deltas"][key])
    # a seed picked out of the middle, through the command line
    res = main(["merge", str(root / "all3"), "--seeds", "2", "--output_dir", str(tmp_path)])
    single = json.loads((root / "s2" / "results.json").read_text())
    _assert_same(res["arms"]["real"]["metrics"], single["arms"]["real"]["metrics"])
    with pytest.raises(ValueError, match=r"not the requested \[2\]"):
        merge_evaluations([root / "full"], seeds=[0, 2])


def saved_figures(folder: Path) -> list[str]:
    return list(json.loads((folder / "results.json").read_text())["figures"].values())


def test_generator_pool_averages_the_paired_differences(runs, tmp_path):
    root, _ = runs
    res = main(
        ["merge", str(root / "base"), f"v1={root / 'syn'}", f"v2={root / 'full'}", "--output_dir", str(tmp_path)]
        + ["--generator_pool", "real", "real+syn+aug@v1", "real+syn+aug@v2"]
    )
    name = "mean(real+syn+aug@v1, real+syn+aug@v2) - real"
    pooled = res["generator_pooled_deltas"][name]
    assert pooled["baseline"] == "real" and pooled["arms"] == ["real+syn+aug@v1", "real+syn+aug@v2"]
    au = pooled["metrics"]["auroc"]
    paired = [res["deltas"][f"real+syn+aug@{t} - real"]["auroc"]["delta"] for t in ("v1", "v2")]
    assert au["generator_deltas"] == pytest.approx(paired) and au["delta"] == pytest.approx(np.mean(paired))
    assert au["ci_low"] <= au["delta"] <= au["ci_high"]
    assert "## Differences pooled over generators" in (tmp_path / "report.md").read_text()
    assert "differences.png" in saved_figures(tmp_path) and (tmp_path / "differences.png").stat().st_size > 0
    no_deltas = {"seeds": [0], "settings": {"confidence": 0.95}, "deltas": {}, "generator_pooled_deltas": {}}
    assert plot_differences(no_deltas, tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["generator_pooled_deltas"][name]["metrics"]["auroc"]["delta"] == pytest.approx(au["delta"])
    assert saved["settings"]["generator_pools"] == [["real", "real+syn+aug@v1", "real+syn+aug@v2"]]
    with pytest.raises(ValueError, match="generator pool names unknown arms"):
        merge_evaluations([root / "base", ("v1", root / "syn")], generator_pools=[["real", "real+syn+aug@v9"]])
    with pytest.raises(ValueError, match=r"a generator pool is \[baseline, arm, ...\]"):
        merge_evaluations([root / "base", ("v1", root / "syn")], generator_pools=[["real"]])


def test_generator_pool_with_per_generator_baselines(runs, tmp_path):
    """A comma-separated baseline pairs each arm with its own (e.g. screened - unscreened pool, per generator)."""
    root, _ = runs
    res = main(
        ["merge", str(root / "base"), f"v1={root / 'syn'}", f"v2={root / 'full'}", "--output_dir", str(tmp_path)]
        + ["--generator_pool", "real,real+syn+aug@v1", "real+syn+aug@v1", "real+syn+aug@v2"]
        + ["--delta", "real+syn+aug@v1", "real", "--delta", "real+syn+aug@v2", "real+syn+aug@v1"]
    )
    name = "mean(real+syn+aug@v1, real+syn+aug@v2) - mean(real, real+syn+aug@v1)"
    pooled = res["generator_pooled_deltas"][name]
    assert pooled["baseline"] == ["real", "real+syn+aug@v1"]
    au = pooled["metrics"]["auroc"]
    paired = [
        res["deltas"][d]["auroc"]["delta"] for d in ("real+syn+aug@v1 - real", "real+syn+aug@v2 - real+syn+aug@v1")
    ]
    assert au["generator_deltas"] == pytest.approx(paired) and au["delta"] == pytest.approx(np.mean(paired))
    # differs from the shared-baseline pool where the baselines differ (the test can fail)
    shared = merge_evaluations(
        [root / "base", ("v1", root / "syn"), ("v2", root / "full")],
        generator_pools=[["real", "real+syn+aug@v1", "real+syn+aug@v2"]],
    )["generator_pooled_deltas"]["mean(real+syn+aug@v1, real+syn+aug@v2) - real"]["metrics"]["auroc"]
    assert shared["generator_deltas"][0] == pytest.approx(au["generator_deltas"][0])
    assert shared["generator_deltas"][1] != pytest.approx(au["generator_deltas"][1])
    assert json.loads((tmp_path / "results.json").read_text())["settings"]["generator_pools"] == [
        ["real,real+syn+aug@v1", "real+syn+aug@v1", "real+syn+aug@v2"]
    ]
    assert name in (tmp_path / "report.md").read_text()
    with pytest.raises(ValueError, match="needs one per arm, got 2 baselines"):
        merge_evaluations(
            [root / "base", ("v1", root / "syn")], generator_pools=[[["real", "real@v2"], "real+syn+aug@v1"]]
        )
    with pytest.raises(ValueError, match=r"generator pool names unknown arms \['nope'\]"):
        merge_evaluations(
            [root / "base", ("v1", root / "syn")], generator_pools=[["real,nope", "real+syn+aug@v1", "real+syn+aug@v1"]]
        )


def test_generator_training_records_survive_a_merge(runs, tmp_path):
    """Each merged run's generator training record shows in the merged-runs table; the summary line keeps one only
    when every run shares it."""
    import shutil

    root, _ = runs
    records = {"a": [{"training_seed": 1, "training_augmentation": None}],
               "b": [{"training_seed": 1, "training_augmentation": {"rotate_degrees": 10.0}}]}  # fmt: skip
    for name, run in (("a", "base"), ("b", "syn")):
        shutil.copytree(root / run, tmp_path / name)
        res = json.loads((tmp_path / name / "results.json").read_text())
        res["leakage_check"].update(checked=True, generator_training=records[name])
        (tmp_path / name / "results.json").write_text(json.dumps(res))
    merged = merge_evaluations([tmp_path / "a", ("b", tmp_path / "b")], output_dir=tmp_path / "m")
    assert "generator_training" not in merged["leakage_check"]
    report = (tmp_path / "m" / "report.md").read_text()
    assert "| seed 1, its images as they are |" in report
    assert "| seed 1, augmented copies of its images (rotate_degrees 10.0) |" in report
    assert "Generator training:" not in report
    same = merge_evaluations([tmp_path / "a", ("v", root / "syn")], output_dir=tmp_path / "m2")
    assert same["leakage_check"]["generator_training"] == records["a"]  # the run without a record does not count
    assert "Generator training: seed 1, its images as they are." in (tmp_path / "m2" / "report.md").read_text()


def test_markdown_tables_render_the_merged_numbers(runs, tmp_path):
    """arms_table / deltas_table / pooled_deltas_table: the report's tables, at any precision, for analysis scripts."""
    root, _ = runs
    res = merge_evaluations(
        [root / "base", ("v1", root / "syn"), ("v2", root / "full")],
        tmp_path,
        generator_pools=[["real", "real+syn+aug@v1", "real+syn+aug@v2"]],
    )
    arms = arms_table(res, digits=4)
    assert len(arms) == 2 + len(res["arms"]) and arms[1].count("|") == arms[0].count("|")
    real = res["arms"]["real"]["metrics"]["auroc"]
    assert arms[2].startswith(f"| real | {real['mean']:.4f} [{real['ci_low']:.4f}, {real['ci_high']:.4f}] |")
    report = (tmp_path / "report.md").read_text()
    for line in (*arms_table(res), *deltas_table(res), *pooled_deltas_table(res)):  # the report's own tables
        assert line in report
    name, d = next(iter(res["deltas"].items()))
    row = next(x for x in deltas_table(res, digits=5) if x.startswith(f"| {name} |"))
    assert f"{d['auroc']['delta']:.5f} [{d['auroc']['ci_low']:.5f}," in row
    labelled = pooled_deltas_table(res, labels=["item 1"])
    assert labelled[0].startswith("| item | comparison |") and labelled[2].startswith("| item 1 | mean(")
    assert labelled[1].count("|") == labelled[0].count("|") == labelled[2].count("|")
    with pytest.raises(ValueError, match="pooled_deltas_table: 2 labels for 1 pooled differences"):
        pooled_deltas_table(res, labels=["a", "b"])
    empty = {"arms": {}, "deltas": {}}
    assert deltas_table(empty) == [] and pooled_deltas_table(empty) == [] and len(arms_table(empty)) == 2


def test_ratio_of_a_generator_pooled_arm_to_a_baseline(runs, tmp_path):
    root, _ = runs
    res = main(
        ["merge", str(root / "base"), f"v1={root / 'syn'}", f"v2={root / 'full'}", "--output_dir", str(tmp_path)]
        + ["--ratio", "real+syn+aug@v1,real+syn+aug@v2", "real", "--ratio", "real+syn+aug@v1", "real"]
        + ["--ratio_target", "0.9"]
    )
    pooled = res["ratios"]["mean(real+syn+aug@v1, real+syn+aug@v2) / real"]
    au, real = pooled["metrics"]["auroc"], res["arms"]["real"]["metrics"]["auroc"]["mean"]
    per = [res["arms"][f"real+syn+aug@{t}"]["metrics"]["auroc"]["mean"] / real for t in ("v1", "v2")]
    assert pooled["numerator"] == ["real+syn+aug@v1", "real+syn+aug@v2"] and pooled["denominator"] == "real"
    assert au["generator_ratios"] == pytest.approx(per) and au["ratio"] == pytest.approx(np.mean(per))
    assert au["threshold"] == 0.9 and res["settings"]["ratio_target"] == 0.9
    assert res["ratios"]["real+syn+aug@v1 / real"]["metrics"]["auroc"]["ratio"] == pytest.approx(per[0])
    report = (tmp_path / "report.md").read_text()
    assert all(line in report for line in ratios_table(res)) and "(target 0.9)" in report
    # no syn arm here: no default ratio
    assert merge_evaluations([root / "base", ("v1", root / "syn")])["ratios"] == {}
    with pytest.raises(ValueError, match="ratios name unknown arms"):
        merge_evaluations([root / "base"], ratios=[["syn", "real"]])
    with pytest.raises(ValueError, match="ratios must be"):
        merge_evaluations([root / "base"], ratios=[["real"]])
    with pytest.raises(ValueError, match="merge_evaluations: ratio_target must be > 0, got 0.0"):
        merge_evaluations([root / "base"], ratio_target=0)
