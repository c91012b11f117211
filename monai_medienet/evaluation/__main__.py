"""Command line of :mod:`monai_medienet.evaluation`.

``python -m monai_medienet.evaluation merge <dir> [tag=<dir> ...] --output_dir <merged> [--primary A B] [--delta A B]
[--pool_seeds] [--seeds S ...] [--generator_pool BASELINE ARM ARM ...] [--ratio A[,A2,...] B] [--ratio_target R]``
merges evaluation folders written by :func:`~monai_medienet.evaluation.run_evaluation` (see
:func:`~monai_medienet.evaluation.merge_evaluations`). A full evaluation runs through the bundles' ``evaluate`` run id.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .merge import merge_evaluations


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run the sub-command.

    Args:
        argv: ``["merge", <folders>..., "--output_dir", <dir>, ...]``.

    Returns:
        The merged results dict.
    """
    parser = argparse.ArgumentParser(prog="python -m monai_medienet.evaluation", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    merge = sub.add_parser("merge", help="merge evaluation folders into one report with paired intervals")
    merge.add_argument("runs", nargs="+", help="evaluation folders, optionally tag=folder (arms become arm@tag)")
    merge.add_argument("--output_dir", required=True)
    merge.add_argument(
        "--primary", nargs=2, metavar=("ARM_A", "ARM_B"), help="the difference declared before the runs as the test"
    )
    merge.add_argument("--delta", nargs=2, action="append", metavar=("ARM_A", "ARM_B"), help="difference to report")
    merge.add_argument("--n_boot", type=int, default=None)
    merge.add_argument(
        "--pool_seeds", action="store_true", help="pool the seeds of runs with disjoint seeds (arms common to all runs)"
    )
    merge.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="keep only these seeds of every run (each must have them)"
    )
    merge.add_argument(
        "--generator_pool",
        nargs="+",
        action="append",
        metavar="ARM",
        help="BASELINE ARM_1 ... ARM_G: mean difference over generators (one arm each) with a three-level bootstrap; "
        "BASELINE_1,...,BASELINE_G (comma-separated): each generator's own baseline",
    )
    merge.add_argument(
        "--recipe_difference",
        nargs="+",
        default=(),
        metavar="SETTING",
        help="recipe settings the runs may differ in on purpose (e.g. rotate_degrees crop_scale intensity_jitter)",
    )
    merge.add_argument(
        "--ratio",
        nargs=2,
        action="append",
        metavar=("ARM_A", "ARM_B"),
        help="ratio A / B of mean metrics with a bootstrap interval (default: syn / real when both exist); "
        "ARM_A may be A_1,...,A_G (comma-separated: the same arm with G generators' pools, averaged)",
    )
    merge.add_argument("--ratio_target", type=float, default=None, help="the ratio a target asks for (default 0.95)")
    args = parser.parse_args(argv)
    runs = [tuple(r.split("=", 1)) if "=" in r else ("", r) for r in args.runs]
    res = merge_evaluations(
        runs,
        args.output_dir,
        deltas=args.delta,
        n_boot=args.n_boot,
        primary=args.primary,
        pool_seeds=args.pool_seeds,
        seeds=args.seeds,
        generator_pools=args.generator_pool,
        recipe_differences=args.recipe_difference,
        ratios=args.ratio,
        ratio_target=args.ratio_target,
    )
    print(f"merged {len(res['arms'])} arms into {res['files']['report_md']}")
    return res


if __name__ == "__main__":
    main()
