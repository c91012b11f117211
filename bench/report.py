"""Render a benchmark result (``runner.run`` output) as Markdown tables for docs/benchmarks.md."""

from __future__ import annotations

from typing import Any


def _fmt(st: dict | None, digits: int = 3) -> str:
    if not st:
        return "-"
    if st["n"] == 1:
        return f"{st['median']:.{digits}g}"
    return f"{st['median']:.{digits}g} [{st['min']:.{digits}g}-{st['max']:.{digits}g}]"


def _load(st: dict) -> str:
    return f"{st['median']:.1f} [{st['min']:.1f}-{st['max']:.1f}]"


def to_markdown(report: dict[str, Any]) -> str:
    """Markdown: run metadata, one table per case family (median [min-max] over repeats), derived targets, profiles."""
    meta, cases, der = report["meta"], report["summary"]["cases"], report["summary"]["derived"]
    lines = [
        f"Command: `{meta['command']}`  ",
        f"Started {meta['started_utc']}, finished {meta.get('finished_utc', '?')} ({meta.get('total_s', 0):.0f} s); "
        f"profile `{meta['profile']}`, {meta['repeats']} repeat(s), "
        f"{'one fresh subprocess per case' if meta['isolated_subprocesses'] else 'all cases in one subprocess'}, "
        f"{meta.get('threads', '?')} torch thread(s) per process.  ",
        f"Machine: {meta['processor']}, {meta['cpu_count']} CPUs, native bf16 "
        f"{ {True: 'yes', False: 'no (fast path in fp32)'}.get(meta.get('native_bf16'), 'unknown') }; "
        f"torch {meta.get('torch')}, "
        f"MONAI {meta.get('monai')}, Python {meta['python']}.  ",
        f"Load average (1/5/15 min) at start {', '.join(f'{x:.2f}' for x in meta['loadavg_start'])}; at end "
        f"{', '.join(f'{x:.2f}' for x in meta.get('loadavg_end', []))}. Figures are median [min-max] over repeats.",
        "",
    ]

    def table(title: str, prefix: str, cols: list[tuple[str, str]], params: list[str]) -> None:
        rows = [c for k, c in sorted(cases.items()) if k.startswith(prefix + "[")]
        if not rows:
            return
        lines.append(f"### {title}")
        lines.append("")
        lines.append("| " + " | ".join(params + [c[1] for c in cols] + ["peak RSS MiB", "load (1 min)"]) + " |")
        lines.append("|" + "---|" * (len(params) + len(cols) + 2))
        for c in rows:
            cells = [str(c["params"].get(p, "")) for p in params]
            cells += [_fmt(c.get(m)) for m, _ in cols]
            cells += [_fmt(c["peak_rss_mb"], 4), _load(c["loadavg_1min"])]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")

    table("Matmul peak (GFLOP/s)", "matmul_peak", [("gflops_best", "best"), ("gflops_median", "median")], ["dtype"])
    table(
        "Sampling",
        "sample",
        [("images_per_s", "images/s"), ("seconds", "seconds"), ("unet_gflop_per_image", "U-Net GFLOP / image")],
        ["image_size", "pipeline"],
    )
    table(
        "Training step", "train", [("ms_per_step", "ms/step"), ("images_per_s", "images/s")], ["image_size", "pipeline"]
    )
    table(
        "U-Net forward (CFG batch)",
        "forward",
        [("gflops_achieved", "GFLOP/s"), ("seconds", "s/forward")],
        ["kind", "dtype", "compile", "image_size"],
    )
    table(
        "Autoencoder",
        "autoencoder",
        [("encode_images_per_s", "encode img/s"), ("decode_images_per_s", "decode img/s")],
        ["dtype", "image_size"],
    )
    table("Data loading (JPEG folders)", "data_jpeg", [("images_per_s", "images/s")], ["image_size"])
    table("Data loading (npz)", "data_npz", [("images_per_s", "images/s")], ["image_size"])
    table(
        "Classic augmentation (the evaluation's, per image)",
        "augment",
        [("images_per_s", "images/s"), ("ms_per_image", "ms/image")],
        ["image_size", "track_meta"],
    )
    table(
        "Downstream classifier training step (Adam; bf16 = autocast forward)",
        "classifier",
        [
            ("ms_per_step", "ms/step"),
            ("images_per_s", "images/s"),
            ("gflop_per_step", "GFLOP/step"),
            ("gflops_achieved", "GFLOP/s"),
        ],
        ["name", "dtype", "image_size"],
    )
    if der:
        lines += ["### Derived (paired per repeat: median [min-max])", "", "| figure | value |", "|---|---|"]
        for k, v in der.items():
            lines.append(f"| {k} | {_fmt(v)} |")
        lines.append("")
    for k, c in sorted(cases.items()):
        if c["case"] == "agreement":
            r = c["result"]
            lines += [
                f"### Fast path vs reference: numerical agreement ({k})",
                "",
                f"Reference: DDIM-{r['ddim_steps']} fp32 + CFG; reference image std {r['ref_std']:.4g}.",
                "",
                "| variant | max abs diff | mean abs diff | mean abs diff / ref std |",
                "|---|---|---|---|",
            ]
            for name in ("bf16_ddim", "fp32_dpm", "fast", "bf16_ddim_no_cfg"):
                if name in r:
                    d = r[name]
                    lines.append(f"| {name} | {d['max_abs']:.4g} | {d['mean_abs']:.4g} | {d['mean_abs_rel']:.4g} |")
            lines.append("")
            if "one_step_bf16_rel_err" in r:
                errs = ", ".join(f"t={t}: {v:.3g}" for t, v in r["one_step_bf16_rel_err"].items())
                lines += [f"One guided U-Net evaluation, bf16 vs fp32 weights, mean relative error: {errs}.", ""]
        if c["case"] == "profile":
            r = c["result"]
            lines += [
                f"### Profile: {k} ({r['total_ms_per_forward']:.1f} ms self CPU per forward)",
                "",
                "| op | self CPU ms / forward | % | calls / forward |",
                "|---|---|---|---|",
            ]
            for op in r["top_ops"]:
                lines.append(f"| `{op['op']}` | {op['self_cpu_ms']:.2f} | {op['self_pct']:.1f} | {op['calls']} |")
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Re-render the Markdown of a saved result: ``python -m bench.report results.json [out.md]``."""
    import json
    import sys
    from pathlib import Path

    argv = sys.argv[1:] if argv is None else argv
    if not 1 <= len(argv) <= 2:
        print("usage: python -m bench.report results.json [out.md]", file=sys.stderr)
        return 2
    md = to_markdown(json.loads(Path(argv[0]).read_text()))
    if len(argv) == 2:
        Path(argv[1]).write_text(md + "\n")
    else:
        print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
