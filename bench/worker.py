"""Run benchmark cases in this (fresh) process and print one ``BENCH_RESULT <json>`` line per case.

Usage (internal; ``python -m bench`` starts it): ``python -m bench.worker '<json list of case specs>'`` where a spec is
``{"case": name, "profile": "full"|"quick", "params": {...}}``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback

RESULT_PREFIX = "BENCH_RESULT "


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (Linux ``ru_maxrss`` is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_spec(spec: dict) -> dict:
    """Run one case spec; never raises (errors are reported in the result)."""
    import torch

    from bench.cases import CASES
    from bench.config import get_profile

    profile = get_profile(spec["profile"])
    params = spec.get("params", {})
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    result = {"case": spec["case"], "params": params, "profile": profile["name"], "threads": torch.get_num_threads()}
    try:
        result["result"] = CASES[spec["case"]](profile, **params)
        result["ok"] = True
    except Exception as err:  # noqa: BLE001 - a failing case must not kill the whole run
        result["ok"] = False
        result["error"] = f"{type(err).__name__}: {err}"
        result["traceback"] = traceback.format_exc(limit=6)
    result["wall_s"] = time.perf_counter() - t0
    result["loadavg_before"] = list(load_before)
    result["loadavg_after"] = list(os.getloadavg())
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m bench.worker '<json list of case specs>'", file=sys.stderr)
        return 2
    specs = json.loads(argv[0])
    import torch

    from monai_medienet.utils import configure_threads

    threads = specs[0].get("threads") if specs else None
    configure_threads(threads)
    torch.set_num_interop_threads(1)
    for spec in specs:
        print(RESULT_PREFIX + json.dumps(run_spec(spec)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
