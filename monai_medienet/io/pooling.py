"""Derived manifests: pool the synthetic-image manifests of several generators, or keep a subset of one.

No image is copied: a derived manifest lists the source images with paths relative to its own folder.

Generators trained on the same images differ from run to run, and so does the benefit of their pools to a classifier
(docs/results.md, eleventh and twelfth sessions). A pooled pool spreads that risk: it lists the first ``per_class``
images of every class from each source manifest, with paths relative to the new folder, and a sidecar
``manifest.json`` that records every source. It loads with :func:`monai_medienet.data.manifest_source` like any pool;
``run_evaluation`` then requires every generator whose images it holds to be leakage-checked (each image keeps its
``checkpoint_sha256``).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .writers import MANIFEST_COLUMNS, _atomic_write, read_manifest

__all__ = ["filter_manifest", "pool_manifests"]


def _manifest_path(path: str | os.PathLike) -> Path:
    path = Path(path).expanduser()
    return path / "manifest.csv" if path.is_dir() else path


def _read_sidecar(csv_path: Path, caller: str) -> dict[str, Any]:
    sidecar_path = csv_path.with_suffix(".json")
    if not sidecar_path.is_file():
        raise FileNotFoundError(f"{caller}: {sidecar_path} not found (the class names of {csv_path}).")
    return json.loads(sidecar_path.read_text())


def _relocated(rec: dict[str, Any], csv_path: Path, out_dir: Path) -> dict[str, Any]:
    """``rec`` with its ``path`` rewritten relative to ``out_dir`` (it was relative to ``csv_path``'s folder)."""
    image = Path(rec["path"])
    image = image if image.is_absolute() else csv_path.parent / image
    return {**rec, "path": os.path.relpath(image, out_dir)}


def _write_manifest(out_dir: Path, rows: list[dict[str, Any]], classes: list[str], provenance: dict) -> Path:
    """Write ``out_dir/manifest.csv`` (the writer's columns first, then any extra ones) and its sidecar."""
    columns = list(MANIFEST_COLUMNS) + sorted({k for r in rows for k in r} - set(MANIFEST_COLUMNS))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
    out_csv = out_dir / "manifest.csv"
    _atomic_write(out_csv, buf.getvalue().encode(), overwrite=True)
    sidecar = {"classes": classes, "num_images": len(rows), "provenance": provenance}
    _atomic_write(out_dir / "manifest.json", json.dumps(sidecar, indent=2, sort_keys=True).encode(), True)
    return out_csv


def filter_manifest(
    manifest: str | os.PathLike,
    output_dir: str | os.PathLike,
    keep: Sequence[bool],
    provenance: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``output_dir/manifest.csv`` listing the rows of ``manifest`` where ``keep`` is true.

    Used to screen an existing pool (:func:`~monai_medienet.engines.screen_synthetic`) without copying its images.

    Args:
        manifest: a manifest written by :class:`~monai_medienet.io.SyntheticImageWriter` or
            :func:`pool_manifests` (the CSV or its folder).
        output_dir: folder for the new ``manifest.csv`` and ``manifest.json`` (created; holds no images). Must differ
            from the source's folder.
        keep: one bool per row of ``manifest``, in row order.
        provenance: recorded in the sidecar under ``provenance["filtered"]`` (e.g. the screen's settings).
        overwrite: replace an existing manifest in ``output_dir``.

    Returns:
        Path of the new ``manifest.csv``; rows keep every source column, ``path`` is relative to ``output_dir``.
        The sidecar's provenance holds the source's provenance under ``"source"`` and the source manifest's path.

    Raises:
        ValueError: ``keep`` of another length than the manifest, ``output_dir`` the source's folder, or an existing
            manifest without ``overwrite``.
        FileNotFoundError: the source manifest or its sidecar is missing.
    """
    csv_path = _manifest_path(manifest).resolve()
    out_dir = Path(output_dir).expanduser().resolve()
    if out_dir == csv_path.parent:
        raise ValueError(f"filter_manifest: output_dir {out_dir} is the source's folder; choose another one.")
    if (out_dir / "manifest.csv").exists() and not overwrite:
        raise ValueError(f"filter_manifest: {out_dir / 'manifest.csv'} exists; pass overwrite=True to replace it.")
    sidecar = _read_sidecar(csv_path, "filter_manifest")
    records = read_manifest(csv_path)
    keep = [bool(k) for k in keep]
    if len(keep) != len(records):
        raise ValueError(f"filter_manifest: keep has {len(keep)} entries, {csv_path} has {len(records)} rows.")
    rows = [_relocated(rec, csv_path, out_dir) for rec, k in zip(records, keep, strict=True) if k]
    prov = {
        "source": sidecar.get("provenance", {}),
        "filtered_from": str(csv_path),
        "num_source_images": len(records),
        "filtered": dict(provenance or {}),
    }
    return _write_manifest(out_dir, rows, list(sidecar["classes"]), prov)


def pool_manifests(
    manifests: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    per_class: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``output_dir/manifest.csv`` listing images of several synthetic pools, class balanced per source.

    From each source the first ``per_class`` rows of every class are taken in the source's row order (the writer's
    order: seeds ascending), so the choice is deterministic and needs no random draw; seeds are independent noise
    draws, so the first rows are as good a sample as any.

    Args:
        manifests: two or more manifests written by :class:`~monai_medienet.io.SyntheticImageWriter` (the CSV or its
            folder). All must share the class names of their ``manifest.json``.
        output_dir: folder for the pooled ``manifest.csv`` and ``manifest.json`` (created; holds no images).
        per_class: images per class taken from each source; ``None`` takes them all (also from a pool that holds
            some classes only). A source with fewer images of a class than ``per_class`` is an error (the pool would
            not be balanced across sources).
        overwrite: replace an existing pooled manifest in ``output_dir``.

    Returns:
        Path of the pooled ``manifest.csv``. Its rows keep every source column and add ``source`` (index into
        ``manifest.json["provenance"]["pooled_from"]``); ``path`` is rewritten relative to ``output_dir``.

    Raises:
        ValueError: fewer than two manifests, the same manifest twice, ``per_class`` < 1, class names that differ
            between sources, a source short of ``per_class`` images of a class, or an existing pooled manifest
            without ``overwrite``.
        FileNotFoundError: a source manifest or its sidecar ``<csv>.json`` (``manifest.json``) is missing.
    """
    paths = [_manifest_path(m).resolve() for m in manifests]
    if len(paths) < 2:
        raise ValueError(f"pool_manifests: needs two or more manifests, got {len(paths)}.")
    if len(set(paths)) != len(paths):
        raise ValueError(f"pool_manifests: a manifest is listed twice in {[str(p) for p in paths]}.")
    if per_class is not None and (isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1):
        raise ValueError(f"pool_manifests: per_class must be a positive int or None, got {per_class!r}.")
    out_dir = Path(output_dir).expanduser().resolve()
    out_csv = out_dir / "manifest.csv"
    if out_csv.exists() and not overwrite:
        raise ValueError(f"pool_manifests: {out_csv} exists; pass overwrite=True to replace it.")

    classes: list[str] | None = None
    rows: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    for index, csv_path in enumerate(paths):
        sidecar = _read_sidecar(csv_path, "pool_manifests")
        if classes is None:
            classes = list(sidecar["classes"])
        elif list(sidecar["classes"]) != classes:
            raise ValueError(
                f"pool_manifests: {csv_path} has classes {sidecar['classes']}, the first manifest {classes}."
            )
        taken: dict[int, int] = {}
        kept: list[dict[str, Any]] = []
        for rec in read_manifest(csv_path):
            label = int(rec["label"])
            if per_class is not None and taken.get(label, 0) >= per_class:
                continue
            taken[label] = taken.get(label, 0) + 1
            kept.append({**_relocated(rec, csv_path, out_dir), "source": index})
        short = {classes[c]: taken.get(c, 0) for c in range(len(classes)) if taken.get(c, 0) < (per_class or 0)}
        if short:
            raise ValueError(f"pool_manifests: {csv_path} has fewer than {per_class} image(s) of class(es) {short}.")
        rows.extend(kept)
        sources.append(
            {
                "manifest": str(csv_path),
                "num_images": len(kept),
                "checkpoint_sha256": sorted({str(r.get("checkpoint_sha256") or "") for r in kept} - {""}),
                "provenance": sidecar.get("provenance", {}),
            }
        )

    provenance = {"pooled_from": sources, "per_class_per_source": per_class}
    return _write_manifest(out_dir, rows, classes, provenance)
