"""Data sources: MedMNIST npz (checked download), class folders, and CSV manifests → :class:`DataSource`."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from monai_medienet.transforms.loading import IMAGE_EXTENSIONS, ImageLoadError, _has_dicom_magic, _suffix
from monai_medienet.utils import ClassMap, get_data_dir

from .source import DataSource
from .splits import stratified_split
from .validation import check_on_error, validate_items

__all__ = [
    "KERMANY_PATIENT_REGEX",
    "MEDMNIST_INFO",
    "class_folder_source",
    "manifest_source",
    "medmnist_source",
]

logger = logging.getLogger(__name__)

MEDMNIST_INFO: dict[str, dict] = {
    "pneumoniamnist": {
        "classes": ["normal", "pneumonia"],
        "url": "https://zenodo.org/records/10519652/files/pneumoniamnist.npz?download=1",
        "md5": "28209eda62fecd6e6a2d98b1501bb15f",
    },
    "breastmnist": {
        "classes": ["malignant", "normal_benign"],
        "url": "https://zenodo.org/records/10519652/files/breastmnist.npz?download=1",
        "md5": "750601b1f35ba3300ea97c75c52ff8f6",
    },
}
"""Known MedMNIST (28x28) datasets: class names (from MedMNIST's INFO), the official Zenodo URL (the current MedMNIST
record; its 28x28 files are the v2 files, same MD5) and MD5."""

KERMANY_PATIENT_REGEX = r"^((?:NORMAL2-)?IM-\d+|person\d+)"
"""Patient id from file names of the Kermany chest X-ray set (``person12_virus_3.jpeg`` → ``person12``,
``IM-0115-0001.jpeg`` → ``IM-0115``); pass as ``class_folder_source(..., patient_id_regex=...)``."""

_SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                  "test": "test", "testing": "test"}  # fmt: skip


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def medmnist_source(
    name_or_path: str | os.PathLike = "pneumoniamnist",
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
    classes: Sequence[str] | None = None,
    check_md5: bool = False,
) -> DataSource:
    """A MedMNIST (v2, official npz) dataset with its train/val/test splits, images held in memory.

    Args:
        name_or_path: a dataset name (``"pneumoniamnist"``, ``"breastmnist"``, …, looked up as ``<name>.npz`` in
            ``data_dir`` then ``cache_dir``) or a path to an npz file.
        data_dir: where to look for ``<name>.npz``; default :func:`~monai_medienet.utils.get_data_dir`.
        download: when the file is absent, download it from the official URL into ``cache_dir`` with MONAI's
            ``download_url`` and check its MD5. Never downloads when the file is present.
        cache_dir: download folder (default ``data_dir``).
        classes: class names for an npz not in :data:`MEDMNIST_INFO` (default ``["0", "1", …]``).
        check_md5: also verify the MD5 of a file found locally (known datasets only).

    Returns:
        ``DataSource`` whose items are ``{"image": uint8 array (C, 28, 28), "label": int, "id": "<name>/<split>/<i>"}``
        (C = 1 for grey datasets, 3 for colour ones).

    Raises:
        FileNotFoundError: file absent and ``download=False`` (or the name is unknown so there is no URL).
        RuntimeError: MD5 mismatch of a present (``check_md5``) or cached/downloaded file.
        ValueError: the npz lacks the ``{split}_images`` / ``{split}_labels`` arrays or has multi-label labels.
    """
    spec = str(name_or_path)
    if spec.endswith(".npz") or os.sep in spec or Path(spec).is_file():
        path = Path(spec).expanduser()
        name = path.name[: -len(".npz")] if path.name.endswith(".npz") else path.stem
    else:
        name = spec.lower()
        base = get_data_dir(data_dir)
        candidates = [base / f"{name}.npz"]
        if cache_dir is not None:
            candidates.append(Path(cache_dir).expanduser() / f"{name}.npz")
        path = next((c for c in candidates if c.is_file()), candidates[-1])
    info = MEDMNIST_INFO.get(name)

    if not path.is_file():
        if not download:
            raise FileNotFoundError(
                f"medmnist_source: {path} not found and download=False; pass download=True (with cache_dir) or set "
                "MEDIENET_DATA_DIR to the folder holding it."
            )
        if info is None:
            raise FileNotFoundError(
                f"medmnist_source: {path} not found and {name!r} has no known URL (known: {sorted(MEDMNIST_INFO)})."
            )
        from monai.apps.utils import download_url

        path = Path(cache_dir if cache_dir is not None else get_data_dir(data_dir)).expanduser() / f"{name}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        download_url(info["url"], filepath=path, hash_val=info["md5"], hash_type="md5")
    elif download and info is not None and not check_md5:
        # the file is present: never download, but a cached file must still match the official MD5
        check_md5 = True
    if check_md5 and info is not None:
        got = _md5(path)
        if got != info["md5"]:
            raise RuntimeError(
                f"medmnist_source: MD5 of {path} is {got}, expected {info['md5']} for {name!r}; the file is corrupt "
                "or a different version: delete it and download again."
            )

    try:
        npz = np.load(path)
    except Exception as e:
        raise ImageLoadError(f"{path}: cannot read as npz ({type(e).__name__}: {e}).") from e
    with npz:
        splits: dict[str, list[dict]] = {}
        for split in ("train", "val", "test"):
            ik, lk = f"{split}_images", f"{split}_labels"
            if ik not in npz or lk not in npz:
                raise ValueError(f"medmnist_source: {path} has no {ik!r}/{lk!r} arrays (keys: {sorted(npz.files)}).")
            images, labels = npz[ik], npz[lk]
            if labels.ndim == 2 and labels.shape[1] != 1:
                raise ValueError(
                    f"medmnist_source: {path} is multi-label (labels {labels.shape}); only single-label datasets "
                    "are supported."
                )
            labels = labels.reshape(-1).astype(np.int64)
            if images.ndim == 3:
                images = images[:, None]  # (N, 1, H, W)
            elif images.ndim == 4 and images.shape[-1] in (1, 3):
                images = np.ascontiguousarray(np.moveaxis(images, -1, 1))  # (N, C, H, W)
            else:
                raise ValueError(f"medmnist_source: {path} {ik} has unsupported shape {images.shape}.")
            splits[split] = [
                {"image": images[i], "label": int(labels[i]), "id": f"{name}/{split}/{i}"} for i in range(len(images))
            ]
    n_classes = 1 + max(max((it["label"] for it in items), default=0) for items in splits.values())
    if classes is None:
        classes = info["classes"] if info is not None else [str(i) for i in range(n_classes)]
    return DataSource(
        name=name,
        classes=list(classes),
        splits=splits,
        metadata={"source": "medmnist", "path": str(path), "md5": info["md5"] if info else None},
    )


def _split_dirs(root: Path) -> dict[str, Path] | None:
    subdirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    found = {_SPLIT_ALIASES[p.name.lower()]: p for p in subdirs if p.name.lower() in _SPLIT_ALIASES}
    return found or None


def _match_class_dirs(split_dir: Path, classes: Sequence[str] | None) -> dict[str, Path]:
    subdirs = {p.name: p for p in sorted(split_dir.iterdir()) if p.is_dir() and not p.name.startswith(".")}
    if classes is None:
        return subdirs
    out: dict[str, Path] = {}
    lower = {k.lower(): v for k, v in subdirs.items()}
    for c in classes:
        d = subdirs.get(c) or lower.get(c.lower())
        if d is not None:
            out[c] = d
    return out


def _is_dicom_series_dir(path: Path) -> bool:
    files = [f for f in path.iterdir() if f.is_file() and not f.name.startswith(".")]
    return bool(files) and all(_suffix(f) in (".dcm", ".dicom") or _has_dicom_magic(f) for f in files)


def class_folder_source(
    root: str | os.PathLike,
    classes: Sequence[str] | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    extensions: Sequence[str] | None = None,
    on_error: str = "raise",
    patient_id_regex: str | None = None,
    validate: bool = False,
    name: str | None = None,
    progress: bool = False,
) -> DataSource:
    """Images in class folders: ``root/<class>/<files>`` or ``root/<split>/<class>/<files>``.

    Split folders may be named train/training, val/valid/validation, test/testing. Without a split level everything
    is "train". When there is no val split, a stratified (patient-level when ``patient_id_regex`` is given) seeded
    ``val_fraction`` is carved from train. A sub-folder of a class folder holding only DICOM files is one image (a
    DICOM series). Hidden files (``.*``) are ignored.

    Args:
        root: dataset folder.
        classes: class names in label order (folder names, matched case-insensitively when not exact); default: the
            sorted class folder names.
        val_fraction: fraction of train carved as val when no val split exists (0 disables).
        seed: seed for the carved val split.
        extensions: accepted name endings (default :data:`~monai_medienet.transforms.IMAGE_EXTENSIONS`;
            extension-less DICOM files are always accepted).
        on_error: ``"raise"``: a non-image file, an empty or missing class folder (or, with ``validate``, a corrupt
            or unreadable file, NaN/Inf pixels, mixed channel counts) raises an error naming it; ``"skip"``: a warning
            is logged and the file is listed in ``DataSource.skipped``.
        patient_id_regex: regex whose first group (or whole match) on the file name is the patient id, e.g.
            :data:`KERMANY_PATIENT_REGEX`; files that don't match use their own name.
        validate: decode every image once now (slower; see :func:`validate_items`).
        name: dataset name (default: the folder name).
        progress: progress bar while validating.

    Returns:
        ``DataSource`` with items ``{"image": path str, "label": int, "id": path relative to root[, "patient_id"]}``.

    Raises:
        FileNotFoundError: ``root`` or its class folders don't exist.
        ImageLoadError: bad files with ``on_error="raise"`` (message names the file).
        ValueError: invalid arguments, or no images at all.
    """
    check_on_error(on_error, "class_folder_source")
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"class_folder_source: val_fraction must be in [0, 1), got {val_fraction}.")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"class_folder_source: {root} is not a directory.")
    exts = tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in (extensions or IMAGE_EXTENSIONS))
    pattern = re.compile(patient_id_regex) if patient_id_regex else None

    split_dirs = _split_dirs(root) or {"train": root}
    if "train" not in split_dirs:
        raise FileNotFoundError(f"class_folder_source: {root} has split folders {sorted(split_dirs)} but no train.")
    if classes is None:
        names: set[str] = set()
        for d in split_dirs.values():
            names.update(_match_class_dirs(d, None))
        classes = sorted(names)
        if not classes:
            raise FileNotFoundError(f"class_folder_source: no class folders found in {split_dirs['train']}.")
    class_map = ClassMap(classes)
    skipped: list[tuple[str, str]] = []

    def problem(path: Path | str, reason: str) -> None:
        if on_error == "raise":
            raise ImageLoadError(f"{path}: {reason}")
        logger.warning(f"class_folder_source: skipping {path}: {reason}")
        skipped.append((str(path), reason))

    splits: dict[str, list[dict]] = {}
    for split, split_dir in split_dirs.items():
        class_dirs = _match_class_dirs(split_dir, class_map.classes)
        items: list[dict] = []
        for label, cname in enumerate(class_map.classes):
            cdir = class_dirs.get(cname)
            if cdir is None:
                problem(split_dir / cname, f"class folder for class {cname!r} is missing in split {split!r}")
                continue
            n_before = len(items)
            for f in sorted(cdir.iterdir()):
                if f.name.startswith("."):
                    continue
                if f.is_dir():
                    if not _is_dicom_series_dir(f):
                        problem(f, "sub-folder in a class folder is not a DICOM series folder (no DICOM files)")
                        continue
                elif not (_suffix(f) in exts or _has_dicom_magic(f)):
                    problem(f, f"not an image file (name ending {_suffix(f)!r}; accepted: {', '.join(exts)} or DICOM)")
                    continue
                item = {"image": str(f), "label": label, "id": str(f.relative_to(root))}
                if pattern is not None:
                    m = pattern.search(f.name)
                    item["patient_id"] = (m.group(1) if m.groups() else m.group(0)) if m else f.name
                items.append(item)
            if len(items) == n_before:
                problem(cdir, f"class folder for class {cname!r} in split {split!r} is empty (no image files)")
        if validate:
            items, bad = validate_items(items, on_error=on_error, progress=progress)
            skipped.extend(bad)
        splits[split] = items

    if not any(splits.values()):
        raise ValueError(f"class_folder_source: no image files found under {root}.")
    if "val" not in splits and val_fraction > 0:
        parts = stratified_split(splits["train"], {"train": 1.0 - val_fraction, "val": val_fraction}, seed=seed)
        splits["train"], splits["val"] = parts["train"], parts["val"]
    ordered = {s: splits[s] for s in ("train", "val", "test") if s in splits}
    if skipped:
        logger.warning(f"class_folder_source: skipped {len(skipped)} file(s) under {root}.")
    return DataSource(
        name=name or root.name,
        classes=class_map.to_list(),
        splits=ordered,
        skipped=skipped,
        metadata={"source": "class_folders", "root": str(root), "val_fraction": val_fraction, "seed": seed},
    )


def _read_sidecar_classes(csv_path: Path) -> list[str] | None:
    sidecar = csv_path.with_suffix(".json")
    if sidecar.is_file():
        try:
            classes = json.loads(sidecar.read_text()).get("classes")
        except (OSError, ValueError, AttributeError):
            return None
        return list(classes) if classes else None
    return None


def manifest_source(
    csv_path: str | os.PathLike,
    classes: Sequence[str] | None = None,
    on_error: str = "raise",
    default_split: str = "train",
    check_files: bool = True,
    name: str | None = None,
) -> DataSource:
    """Items listed in a CSV manifest: columns ``image`` (or ``path``), ``label`` and optionally ``split``,
    ``patient_id``, ``class_name``.

    Relative image paths are resolved against the CSV's folder. ``label`` is a class index or a class name. The
    manifest written by :class:`~monai_medienet.io.SyntheticImageWriter` loads as is (its class names come from the
    sidecar ``manifest.json``).

    Args:
        csv_path: the CSV file.
        classes: class names in label order; default: the sidecar ``<csv>.json`` ``"classes"``, else the
            ``class_name`` column (by label index), else the sorted label names, else ``["0", "1", …]``.
        on_error: ``"raise"`` or ``"skip"`` rows with a label not in the class map, an empty path or (with
            ``check_files``) a missing file.
        default_split: split for rows without a ``split`` value.
        check_files: require every listed image to exist.
        name: dataset name (default: the CSV's folder name).

    Returns:
        ``DataSource``; items ``{"image": absolute path str, "label": int, "id": path as written[, "patient_id"]}``
        (plus ``"synthetic": 1`` and, when recorded, the generator's ``"checkpoint_sha256"`` for a synthetic-image
        manifest).

    Raises:
        FileNotFoundError: missing CSV.
        ValueError: missing columns, or a bad row with ``on_error="raise"`` (message names CSV, row and value).
    """
    check_on_error(on_error, "manifest_source")
    csv_path = Path(csv_path).expanduser()
    if not csv_path.is_file():
        raise FileNotFoundError(f"manifest_source: manifest {csv_path} not found.")
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        fieldnames = list(reader.fieldnames or [])
    image_col = "image" if "image" in fieldnames else "path" if "path" in fieldnames else None
    if image_col is None or "label" not in fieldnames:
        raise ValueError(
            f"manifest_source: {csv_path} needs columns 'image' (or 'path') and 'label', has {list(fieldnames)}."
        )
    synthetic = "seed" in fieldnames and "class_name" in fieldnames

    if classes is None:
        classes = _read_sidecar_classes(csv_path)
    if classes is None and rows:
        labels = [r["label"].strip() for r in rows]
        if "class_name" in fieldnames and all(lb.lstrip("-").isdigit() for lb in labels):
            names_by_index = {int(r["label"]): r["class_name"] for r in rows}
            n = max(names_by_index) + 1
            classes = [names_by_index.get(i, str(i)) for i in range(n)]
        elif all(lb.lstrip("-").isdigit() for lb in labels):
            classes = [str(i) for i in range(max(int(lb) for lb in labels) + 1)]
            logger.warning(f"manifest_source: {csv_path} has integer labels and no class names; using {classes}.")
        else:
            classes = sorted(set(labels))
    if classes is None:
        raise ValueError(f"manifest_source: {csv_path} is empty and no classes were given.")
    class_map = ClassMap(classes)

    splits: dict[str, list[dict]] = {}
    skipped: list[tuple[str, str]] = []
    base = csv_path.parent
    for row_no, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{csv_path} row {row_no}"

        def bad(reason: str, where: str = where) -> None:
            if on_error == "raise":
                raise ValueError(f"manifest_source: {where}: {reason}")
            logger.warning(f"manifest_source: skipping {where}: {reason}")
            skipped.append((where, reason))

        raw_label = (row.get("label") or "").strip()
        if raw_label.lstrip("-").isdigit():
            label = int(raw_label)
            if not 0 <= label < len(class_map):
                bad(f"label {label} is not in the class map {class_map.classes!r}")
                continue
        elif raw_label in class_map.classes:
            label = class_map.index(raw_label)
        else:
            bad(f"label {raw_label!r} is not in the class map {class_map.classes!r}")
            continue
        rel = (row.get(image_col) or "").strip()
        if not rel:
            bad("empty image path")
            continue
        path = Path(rel).expanduser()
        path = Path(os.path.normpath(path if path.is_absolute() else base / path))
        if check_files and not path.exists():
            bad(f"image file {path} not found")
            continue
        item: dict = {"image": str(path), "label": label, "id": rel}
        pid = (row.get("patient_id") or "").strip()
        if pid:
            item["patient_id"] = pid
        if synthetic:
            item["synthetic"] = 1
            sha = (row.get("checkpoint_sha256") or "").strip()
            if sha:
                item["checkpoint_sha256"] = sha
        split = (row.get("split") or "").strip() or default_split
        split = _SPLIT_ALIASES.get(split.lower(), split)
        splits.setdefault(split, []).append(item)
    if skipped:
        logger.warning(f"manifest_source: skipped {len(skipped)} row(s) of {csv_path}.")
    return DataSource(
        name=name or csv_path.parent.name,
        classes=class_map.to_list(),
        splits=splits,
        skipped=skipped,
        metadata={"source": "manifest", "path": str(csv_path)},
    )
