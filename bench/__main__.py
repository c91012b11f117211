"""Command line: ``python -m bench [--quick] [--out results.json] [--markdown out.md] [--repeats N] [--compile]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.report import to_markdown
from bench.runner import run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Paired, repeated benchmarks: MONAI reference pipeline vs MedIENet default vs MedIENet fast path.",
    )
    p.add_argument("--quick", action="store_true", help="tiny models, one repeat, all cases in one subprocess (~1 min)")
    p.add_argument("--out", default=None, help="JSON results path (default bench_results.json, or _quick)")
    p.add_argument("--markdown", default=None, help="also write the Markdown tables to this path")
    p.add_argument("--repeats", type=int, default=None, help="repeats of each timed case (default: profile's)")
    p.add_argument("--compile", action="store_true", help="add torch.compile (inductor, weight freezing) cases")
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="run only cases with these names (sample train ...) or key substrings (fast_compile, dtype=bf16)",
    )
    p.add_argument("--no-isolate", action="store_true", help="run all cases in one subprocess (RSS not per case)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads per worker (default: all cores; use 1 on a machine shared with other jobs)",
    )
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per worker process")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    profile = "quick" if args.quick else "full"
    out = Path(args.out or ("bench_results_quick.json" if args.quick else "bench_results.json"))
    report = run(
        profile,
        repeats=args.repeats,
        compile=args.compile,
        only=args.only,
        isolate=not (args.quick or args.no_isolate),
        timeout=args.timeout,
        threads=args.threads,
        log=lambda s: print(s, flush=True),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    md = to_markdown(report)
    if args.markdown:
        Path(args.markdown).write_text(md + "\n")
    print(md)
    print(f"wrote {out}", flush=True)
    failed = [r for r in report["results"] if not r.get("ok")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
