"""Merge evaluation runs whose arms ran in separate jobs (e.g. one job per synthetic pool) into one report.

Every arm of :func:`~monai_medienet.evaluation.run_evaluation` is an independent set of classifier runs; the report
only needs their test-set probabilities (``predictions.npz``, written next to ``results.json``). So the baselines
(``real``, ``real+aug``) can run once, each synthetic variant (guidance scale, sampler, ratio, filter...) in its own
job or on its own machine, and :func:`merge_evaluations` recomputes the bootstrap intervals and *paired* differences
over the union, exactly as if all arms had run in one call (same resampling seed, same pairing by test image and
classifier seed). Runs are only mergeable when they share the test images (order and labels) and the seeds.

Command line::

    python -m monai_medienet.evaluation merge <dir_a> g1=<dir_b> g4=<dir_c> --output_dir <merged> \\
        [--primary "real+syn+aug@g1" "real+aug"] [--delta "real+syn+aug@g4" "real+aug"] ...
        [--generator_pool real+aug "real+syn+aug@g1" "real+syn+aug@g2" "real+syn+aug@g3"]

``tag=dir`` appends ``@tag`` to that run's arm names (``real+syn+aug@g1``), so that variants of one arm can sit side
by side; untagged arm names must be unique across runs unless their predictions are identical (a repeated baseline).
``--generator_pool BASELINE ARM...`` adds the mean difference of the arms (one per generator, trained alike on the
same images) against the baseline, with the three-level bootstrap of
:func:`~monai_medienet.evaluation.generator_pooled_difference`. A comma-separated baseline gives each generator its
own (in order), e.g. a screened pool against the same generator's unscreened one::

    --generator_pool "real+syn+aug@g1,real+syn+aug@g2" "real+syn+aug+screen@g1" "real+syn+aug+screen@g2"
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .protocol import BOOTSTRAP_SEED, DEFAULT_DELTAS, parse_arm
from .report import load_predictions, write_report
from .stats import (
    adjust_for_multiplicity,
    bootstrap_arm,
    bootstrap_indices,
    bootstrap_ratio,
    generator_pooled_difference,
    paired_bootstrap_difference,
)

__all__ = ["base_arm", "merge_evaluations"]

#: settings that must agree for arms to be comparable (the same classifier recipe, budget, augmentation and data)
_RECIPE_KEYS = (
    "classifier",
    "max_steps",
    "batch_size",
    "lr",
    "weight_decay",
    "val_interval",
    "patience",
    "bn_recalibration_batches",
    "rotate_degrees",
    "crop_scale",
    "intensity_jitter",
    "flip_axes",
    "gamma_range",
    "k_per_class",
    "n_train_real",
    "image_shape",
    "classes",
)


def base_arm(name: str) -> str:
    """The protocol arm of a (possibly tagged) arm name: ``"real+syn+aug@g1"`` -> ``"real+syn+aug"``."""
    return str(name).split("@", 1)[0]


def _default_deltas(arms: Sequence[str]) -> list[list[str]]:
    out = [[a, b] for a, b in DEFAULT_DELTAS if a in arms and b in arms]
    for a in arms:
        spec = parse_arm(base_arm(a))
        if spec["syn"] and spec["real"] and a != base_arm(a):
            out += [[a, b] for b in ("real+aug", "real") if b in arms]
            if base_arm(a) in arms:
                out.append([a, base_arm(a)])
    return out


def _merged_leakage(first: Mapping, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run's leakage check; its generator training record only if every merged run with a generator
    shares it (the merged-runs table lists each run's)."""
    leakage = dict(first.get("leakage_check") or {})
    records = [src["generator_training"] for src in sources if src.get("generator_training")]
    if any(r != records[0] for r in records):
        leakage.pop("generator_training", None)
    return leakage


def _append_source(
    sources: list[dict[str, Any]], folder: Path, tag: str, names: dict[str, str], res: Mapping, first: Mapping
) -> None:
    """Record one merged run: folder, tag, arm renames, differing settings and its pool summaries."""
    diff = {k: v for k, v in res["settings"].items() if k not in ("versions",) and first["settings"].get(k) != v}
    sources.append(
        {
            "folder": str(folder),
            "tag": tag,
            "arms": names,
            "seeds": list(res.get("seeds", [])),
            "settings_differing_from_first": diff,
            "generator_training": (res.get("leakage_check") or {}).get("generator_training") or [],
            "fidelity": res.get("fidelity", {}),
            "synthetic_filter": res.get("synthetic_filter", {}),
            "memorization": {
                k: {kk: vv for kk, vv in v.items() if kk != "flagged_indices"}
                for k, v in (res.get("memorization") or {}).items()
                if isinstance(v, Mapping)
            },
            "n_synthetic_pool": res["settings"].get("n_synthetic_pool"),
        }
    )


def merge_evaluations(
    runs: Sequence[str | Path | tuple[str, str | Path]] | Mapping[str, str | Path],
    output_dir: str | Path | None = None,
    *,
    deltas: Sequence[Sequence[str]] | None = None,
    n_boot: int | None = None,
    confidence: float | None = None,
    primary: Sequence[str] | None = None,
    pool_seeds: bool = False,
    seeds: Sequence[int] | None = None,
    generator_pools: Sequence[Sequence[str]] | None = None,
    recipe_differences: Sequence[str] = (),
    ratios: Sequence[Sequence[str]] | None = None,
    ratio_target: float | None = None,
) -> dict[str, Any]:
    """Merge evaluation output folders into one results dict (and report).

    Args:
        runs: folders written by :func:`~monai_medienet.evaluation.run_evaluation` (each with ``results.json`` and
            ``predictions.npz``), ``(tag, folder)`` pairs, or ``{tag: folder}``; a non-empty tag renames that folder's
            arms to ``arm@tag``.
        output_dir: where to write the merged ``results.json``, ``report.md``, ``predictions.npz`` and plots
            (``None``: no files).
        deltas: ``[arm_a, arm_b]`` pairs to difference (default: the protocol's default pairs present, plus every
            tagged ``real+syn`` arm against ``real+aug``, ``real`` and its untagged arm when present).
        n_boot: bootstrap resamples (default: the first run's).
        confidence: interval level (default: the first run's).
        primary: the ``[arm_a, arm_b]`` difference declared before the runs as the test (added to ``deltas`` when
            missing); it keeps its raw one-sided P and every other difference is Holm-adjusted. A primary comparison
            declared in the runs themselves is not inherited: a merge usually asks a new question.
        pool_seeds: instead of putting arms side by side, pool the *seeds* of runs with disjoint seeds (e.g. seeds
            0-4 and a later 5-9): every arm present in all runs gets the union of their seeds (in run order), so
            its interval and the paired differences average over all of them. Arms missing from some run are
            dropped (listed under ``merged_from[i]["dropped_arms"]``).
        seeds: keep only these seeds of every run (each run must hold all of them), e.g. to pair a 3-seed screen
            with the first 3 seeds of a 5-seed baseline: seed ``s`` of an arm is the same classifier whatever other
            seeds its run had. ``None``: all seeds.
        generator_pools: ``[baseline, arm_1, ..., arm_G]`` lists: the mean of the paired differences ``arm_g -
            baseline`` over ``G`` generators (each arm the same recipe with another generator's pool) with the
            three-level bootstrap of :func:`~monai_medienet.evaluation.generator_pooled_difference`, stored under
            ``"generator_pooled_deltas"`` (key ``"mean(arm_1, ..., arm_G) - baseline"``). The baseline may also be
            one arm per generator (a list, or names joined by commas): ``arm_g - baseline_g``, key
            ``"mean(arm_1, ..., arm_G) - mean(baseline_1, ..., baseline_G)"``.
        recipe_differences: classifier-recipe settings the runs may differ in on purpose, e.g. ``("rotate_degrees",
            "crop_scale", "intensity_jitter")`` to compare an augmentation setting against the stored default runs
            of the same seeds (tag the runs so their arms get distinct names). Every other recipe setting must still
            agree; the names are recorded in ``settings["recipe_differences"]`` and stated in the report, and each
            run's values appear under ``merged_from[i]["settings_differing_from_first"]``. Default: none (any recipe
            difference is refused).
        ratios: ``[arm_a, arm_b]`` ratios ``A / B`` of mean metrics with
            :func:`~monai_medienet.evaluation.bootstrap_ratio`'s interval, stored under ``"ratios"``; ``arm_a`` may
            name several arms joined by commas (the same arm with other generators' pools: their mean is the
            numerator, key ``"mean(a_1, ..., a_G) / b"``). Default: ``syn / real`` when both arms are present.
        ratio_target: the ratio's target (default: the first run's ``ratio_target``, else 0.95).

    Returns:
        A results dict as :func:`~monai_medienet.evaluation.run_evaluation` returns (arms, deltas, settings of the
        first run) with ``"merged_from"``: per run its folder, tag, arms, settings that differ from the first run,
        and its fidelity / memorisation / filter summaries.

    Raises:
        ValueError: no runs, a folder without ``predictions.npz``, different test images / recipe (beyond
            ``recipe_differences``, which must name recipe settings), different seeds
            (or, with ``pool_seeds``, overlapping seeds or no arm common to all runs), a run without one of
            ``seeds``, an unknown arm in ``deltas``, ``primary``, ``generator_pools`` or ``ratios``, a generator pool
            without a baseline and at least one arm or with per-generator baselines that do not match its arms one to
            one, a ratio that is not a pair, ``ratio_target <= 0``, or one arm name with different predictions in two
            runs.
    """
    if isinstance(runs, Mapping):
        items = [(str(t), r) for t, r in runs.items()]
    else:
        items = [(str(r[0]), r[1]) if isinstance(r, tuple) else ("", r) for r in runs]
    if len({str(Path(f)) for _, f in items}) != len(items):
        raise ValueError(f"merge_evaluations: a folder is given twice in {[str(f) for _, f in items]}.")
    if not items:
        raise ValueError("merge_evaluations: no runs given.")
    allowed = [str(k) for k in recipe_differences]
    if isinstance(recipe_differences, str) or set(allowed) - set(_RECIPE_KEYS):
        raise ValueError(
            f"merge_evaluations: recipe_differences must list recipe settings (of {list(_RECIPE_KEYS)}), got "
            f"{recipe_differences!r}."
        )
    keep_seeds = None if seeds is None else [int(x) for x in seeds]
    labels: np.ndarray | None = None
    seeds = None
    first: dict[str, Any] | None = None
    arms: dict[str, Any] = {}
    probs: dict[str, list[np.ndarray]] = {}
    sources: list[dict[str, Any]] = []
    pooled: dict[str, list[tuple[str, list[np.ndarray], dict[str, Any]]]] = {}
    runtime = 0.0
    for tag, folder in items:
        folder = Path(folder)
        pred = folder / "predictions.npz"
        if not pred.is_file() or not (folder / "results.json").is_file():
            raise ValueError(
                f"merge_evaluations: {folder} lacks results.json or predictions.npz (run_evaluation writes both "
                "into its output_dir)."
            )
        res = json.loads((folder / "results.json").read_text())
        runtime += float(res.get("runtime_seconds") or 0.0)
        y, s, p = load_predictions(pred)
        if keep_seeds is not None:
            missing = sorted(set(keep_seeds) - set(s))
            if missing:
                raise ValueError(f"merge_evaluations: {folder} has seeds {s}, not the requested {missing}.")
            pos = [s.index(x) for x in keep_seeds]
            p = {a: [pa[i] for i in pos] for a, pa in p.items()}
            res["arms"] = {
                a: {**v, "runs": [r for r in v.get("runs", []) if r.get("seed") in keep_seeds]}
                for a, v in res["arms"].items()
            }
            s = list(keep_seeds)
        if first is None:
            first, labels, seeds = res, y, s
        else:
            if not np.array_equal(y, labels):
                raise ValueError(f"merge_evaluations: {folder} was tested on other images than {items[0][1]}.")
            # runs since split hashes were recorded: the same labels in the same order are not enough
            h0, h1 = (r["settings"].get("split_hashes", {}).get("test") for r in (first, res))
            if h0 is not None and h1 is not None and h0 != h1:
                raise ValueError(
                    f"merge_evaluations: {folder} was tested on other images than {items[0][1]} (their test split "
                    "hashes differ, e.g. another selection_test_fraction or seed)."
                )
            if pool_seeds and set(s) & set(seeds):
                repeated = sorted(set(s) & set(seeds))
                raise ValueError(f"merge_evaluations: pool_seeds needs disjoint seeds; {folder} repeats {repeated}.")
            if not pool_seeds and s != seeds:
                raise ValueError(f"merge_evaluations: {folder} has seeds {s}, {items[0][1]} has {seeds}.")
            bad = {
                k: (first["settings"].get(k), res["settings"].get(k))
                for k in _RECIPE_KEYS
                if k not in allowed and first["settings"].get(k) != res["settings"].get(k)
            }
            if bad:
                raise ValueError(f"merge_evaluations: {folder} used another recipe than {items[0][1]}: {bad}.")
        names = {}
        if pool_seeds:
            if first is not res:
                seeds = seeds + s
            for a, pa in p.items():
                name = f"{a}@{tag}" if tag else a
                names[a] = name
                pooled.setdefault(name, []).append((str(folder), pa, res["arms"][a]))
            _append_source(sources, folder, tag, names, res, first)
            continue
        for a, pa in p.items():
            name = f"{a}@{tag}" if tag else a
            if name in probs:
                if not all(np.allclose(u, v) for u, v in zip(probs[name], pa, strict=True)):
                    raise ValueError(
                        f"merge_evaluations: arm {name!r} appears in two runs with different predictions; tag one "
                        "of them (tag=folder)."
                    )
                continue
            probs[name] = pa
            arms[name] = {**res["arms"][a], "source": str(folder)}
            names[a] = name
        _append_source(sources, folder, tag, names, res, first)
    assert first is not None and labels is not None and seeds is not None
    if pool_seeds:
        common = [name for name, parts in pooled.items() if len(parts) == len(items)]
        if not common:
            raise ValueError(f"merge_evaluations: pool_seeds found no arm common to all runs ({sorted(pooled)}).")
        for src in sources:
            src["dropped_arms"] = sorted(set(src["arms"].values()) - set(common))
        for name in common:
            parts = pooled[name]
            probs[name] = [q for _, pa, _ in parts for q in pa]
            arms[name] = {
                **parts[0][2],
                "runs": [r for _, _, arm in parts for r in arm["runs"]],
                "source": [f for f, _, _ in parts],
            }
    settings = dict(first["settings"])
    n_boot = int(n_boot or settings["n_boot"])
    confidence = float(confidence or settings["confidence"])
    settings.update(n_boot=n_boot, confidence=confidence, arms=list(arms))
    pairs = [list(d) for d in deltas] if deltas is not None else _default_deltas(list(arms))
    if primary is not None:
        primary = [str(a) for a in primary]
        if len(primary) != 2:
            raise ValueError(f"merge_evaluations: primary must be [arm_a, arm_b], got {primary}.")
        if primary not in pairs:
            pairs = [primary, *pairs]
    unknown = sorted({a for d in pairs for a in d} - set(arms))
    if unknown:
        raise ValueError(f"merge_evaluations: deltas name unknown arms {unknown}; have {sorted(arms)}.")
    gen_pools = [_generator_pool(g) for g in (generator_pools or [])]
    for base, g_arms in gen_pools:
        unknown = sorted((set(base) | set(g_arms)) - set(arms))
        if unknown:
            raise ValueError(f"merge_evaluations: generator pool names unknown arms {unknown}; have {sorted(arms)}.")
    ratio_pairs = [[str(a) for a in r] for r in ratios] if ratios is not None else _default_ratios(list(arms))
    if any(len(r) != 2 for r in ratio_pairs):
        raise ValueError(f"merge_evaluations: ratios must be [arm_a, arm_b] pairs, got {ratio_pairs}.")
    unknown = sorted({a for num, den in ratio_pairs for a in [*num.split(","), den]} - set(arms))
    if unknown:
        raise ValueError(f"merge_evaluations: ratios name unknown arms {unknown}; have {sorted(arms)}.")
    target = float(ratio_target if ratio_target is not None else settings.get("ratio_target") or 0.95)
    if not target > 0:
        raise ValueError(f"merge_evaluations: ratio_target must be > 0, got {target}.")
    idx = bootstrap_indices(len(labels), n_boot, seed=BOOTSTRAP_SEED, strata=labels)  # run_evaluation's resamples
    for name in arms:
        arms[name]["metrics"] = bootstrap_arm(labels, probs[name], confidence=confidence, indices=idx)
    merged_deltas = {
        f"{a} - {b}": paired_bootstrap_difference(labels, probs[a], probs[b], confidence=confidence, indices=idx)
        for a, b in pairs
    }
    multiplicity = adjust_for_multiplicity(merged_deltas, " - ".join(primary) if primary else None)
    pooled_deltas = {
        f"mean({', '.join(g_arms)}) - " + (base[0] if len(base) == 1 else f"mean({', '.join(base)})"): {
            "baseline": base[0] if len(base) == 1 else base,
            "arms": g_arms,
            "metrics": generator_pooled_difference(
                labels,
                [probs[a] for a in g_arms],
                probs[base[0]] if len(base) == 1 else [probs[b] for b in base],
                confidence=confidence,
                indices=idx,
            ),
        }
        for base, g_arms in gen_pools
    }
    merged_ratios = {}
    for num, den in ratio_pairs:
        nums = num.split(",")
        key = f"{nums[0]} / {den}" if len(nums) == 1 else f"mean({', '.join(nums)}) / {den}"
        merged_ratios[key] = {
            "numerator": nums,
            "denominator": den,
            "metrics": bootstrap_ratio(
                labels,
                probs[nums[0]] if len(nums) == 1 else [probs[a] for a in nums],
                probs[den],
                threshold=target,
                confidence=confidence,
                indices=idx,
            ),
        }
    settings.update(
        ratios=ratio_pairs,
        ratio_target=target,
        deltas=pairs,
        primary=primary,
        pool_seeds=bool(pool_seeds),
        selected_seeds=keep_seeds,
        generator_pools=[[",".join(base), *g_arms] for base, g_arms in gen_pools],
        recipe_differences=allowed,
    )
    results: dict[str, Any] = {
        "settings": settings,
        "seeds": seeds,
        "leakage_check": _merged_leakage(first, sources),
        "arms": arms,
        "deltas": merged_deltas,
        "generator_pooled_deltas": pooled_deltas,
        "multiplicity": multiplicity,
        "ratios": merged_ratios,
        # pooled seeds share one synthetic pool: its figures (first run's) stay, so a later merge still shows them
        **{k: dict(first.get(k) or {}) if pool_seeds else {} for k in ("fidelity", "memorization", "synthetic_filter")},
        "merged_from": sources,
        "runtime_seconds": round(runtime, 1),
        "artifacts": {"test_labels": labels, "probs": probs},
    }
    if output_dir is not None:
        results["files"] = write_report(results, output_dir)
    return results


def _default_ratios(arms: Sequence[str]) -> list[list[str]]:
    """``syn / real`` when both arms are present (the protocol's synthetic-only target), else none."""
    return [["syn", "real"]] if {"syn", "real"} <= set(arms) else []


def _generator_pool(spec: Sequence[Any]) -> tuple[list[str], list[str]]:
    """``[baseline, arm_1, ..., arm_G]`` -> (baselines: one shared or ``G``, arms); see ``generator_pools``."""
    spec = list(spec)
    if len(spec) < 2:
        raise ValueError(f"merge_evaluations: a generator pool is [baseline, arm, ...], got {spec}.")
    first = spec[0]
    base = [str(b) for b in first] if not isinstance(first, str) else [b.strip() for b in first.split(",")]
    g_arms = [str(a) for a in spec[1:]]
    if len(base) != 1 and len(base) != len(g_arms):
        raise ValueError(
            f"merge_evaluations: a generator pool with per-generator baselines needs one per arm, got {len(base)} "
            f"baselines {base} for {len(g_arms)} arms {g_arms}."
        )
    return base, g_arms


if __name__ == "__main__":  # the documented command is ``python -m monai_medienet.evaluation merge ...``
    import sys

    from .__main__ import main

    main(["merge", *sys.argv[1:]])
