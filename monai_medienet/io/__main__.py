"""Command line of :mod:`monai_medienet.io`.

``python -m monai_medienet.io pool <pool dir or manifest.csv> <pool dir or manifest.csv> ... --output_dir <dir>
[--per_class N] [--overwrite]`` writes one manifest listing the first ``N`` images per class of each pool
(see :func:`~monai_medienet.io.pool_manifests`); evaluate it with the bundles' ``evaluate`` run id,
``--synthetic_dir <dir> --generator_checkpoint "['<g1>/checkpoints/diffusion.pt', ...]"``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from .pooling import pool_manifests


def main(argv: Sequence[str] | None = None) -> Path:
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run the sub-command.

    Args:
        argv: ``["pool", <manifests>..., "--output_dir", <dir>, ...]``.

    Returns:
        Path of the written manifest.
    """
    parser = argparse.ArgumentParser(prog="python -m monai_medienet.io", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pool = sub.add_parser("pool", help="pool the synthetic-image manifests of several generators (no image copied)")
    pool.add_argument("manifests", nargs="+", help="pool folders or their manifest.csv")
    pool.add_argument("--output_dir", required=True)
    pool.add_argument("--per_class", type=int, default=None, help="images per class from each pool (default: all)")
    pool.add_argument("--overwrite", action="store_true", help="replace an existing pooled manifest")
    args = parser.parse_args(argv)
    out = pool_manifests(args.manifests, args.output_dir, per_class=args.per_class, overwrite=args.overwrite)
    print(f"pooled {len(args.manifests)} manifests into {out}")
    return out


if __name__ == "__main__":
    main()
