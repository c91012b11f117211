"""The :class:`DataSource` container every source function returns: named splits of MONAI data dicts + class names."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from monai_medienet.utils import ClassMap

__all__ = ["DataSource"]


@dataclass
class DataSource:
    """A labelled image dataset as MONAI data dicts, split into named subsets.

    Items are ``{"image": <file path str | np.ndarray (C, H, W) or (C, H, W, D)>, "label": int, "id": str,
    optional "patient_id": str}``; label ``i`` means ``classes[i]``.

    Args:
        name: dataset name (e.g. ``"pneumoniamnist"``).
        classes: ordered class names.
        splits: ``{"train": [...], "val": [...], "test": [...]}`` (any subset of names).
        skipped: ``(file, reason)`` for every file skipped with ``on_error="skip"``.
        metadata: free-form provenance (source path, MD5, …), plain types only.

    Raises:
        ValueError: invalid classes (see :class:`~monai_medienet.utils.ClassMap`), or an item whose label is outside
            ``[0, len(classes))``.
    """

    name: str
    classes: list[str]
    splits: dict[str, list[dict]]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.classes = ClassMap(self.classes).to_list()
        n = len(self.classes)
        for split, items in self.splits.items():
            for item in items:
                label = item.get("label")
                if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < n:
                    raise ValueError(
                        f"DataSource: item {item.get('id', item.get('image'))!r} in split {split!r} has label "
                        f"{label!r}, outside [0, {n}) for classes {self.classes!r}."
                    )

    @property
    def class_map(self) -> ClassMap:
        """The class map (label ``i`` ↔ ``classes[i]``; ``null_index`` is the CFG "no class" token)."""
        return ClassMap(self.classes)

    @property
    def num_skipped(self) -> int:
        """How many files were skipped (``on_error="skip"``)."""
        return len(self.skipped)

    def class_counts(self, split: str) -> list[int]:
        """Number of items per class (index order) in ``split``.

        Raises:
            KeyError: unknown split.
        """
        if split not in self.splits:
            raise KeyError(f"DataSource {self.name!r}: no split {split!r}; splits are {sorted(self.splits)}.")
        counts = Counter(item["label"] for item in self.splits[split])
        return [counts.get(i, 0) for i in range(len(self.classes))]

    def to_csv(self, csv_path: str | os.PathLike, relative: bool = True) -> Path:
        """Freeze the splits as a CSV manifest (``image,label,split,patient_id``) that :func:`manifest_source` reads
        back into the same items; class names go to the sidecar ``<csv>.json``.

        Args:
            csv_path: output CSV (its folder is created).
            relative: write image paths relative to the CSV's folder when possible.

        Returns:
            The CSV path.

        Raises:
            ValueError: an item holds an in-memory array instead of a file path.
        """
        csv_path = Path(csv_path)
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        base = csv_path.parent.resolve()
        with open(csv_path, "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["image", "label", "split", "patient_id"])
            for split, items in self.splits.items():
                for item in items:
                    img = item["image"]
                    if not isinstance(img, (str, os.PathLike)):
                        raise ValueError(
                            f"DataSource.to_csv: item {item.get('id')!r} holds an in-memory array; only file paths "
                            "can be written to a manifest."
                        )
                    path = Path(img).resolve()
                    if relative:
                        try:
                            path = Path(os.path.relpath(path, base))
                        except ValueError:  # another drive on Windows
                            pass
                    writer.writerow([path.as_posix(), int(item["label"]), split, item.get("patient_id", "")])
        csv_path.with_suffix(".json").write_text(json.dumps({"classes": self.classes, "name": self.name}, indent=2))
        return csv_path

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}={self.class_counts(s)}" for s in self.splits)
        skipped = f", skipped={self.num_skipped}" if self.skipped else ""
        return f"DataSource(name={self.name!r}, classes={self.classes!r}, {parts}{skipped})"
