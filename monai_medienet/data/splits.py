"""Seeded dataset splitting: stratified and patient-level splits, k-per-class subsets, duplicate detection."""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from .fingerprints import item_fingerprint

__all__ = ["drop_duplicates", "find_duplicates", "selection_from_test", "stratified_split", "subsample_per_class"]

logger = logging.getLogger(__name__)


def subsample_per_class(
    items: Sequence[dict], k: int, seed: int = 0, label_key: str = "label", strict: bool = False
) -> list[dict]:
    """Keep ``k`` randomly chosen items of each class (all of a class that has fewer), in their original order.

    Args:
        items: data dicts.
        k: items per class (>= 1).
        seed: random seed (same seed ⇒ same subset).
        label_key: label key.
        strict: raise instead of warning when a class has fewer than ``k`` items.

    Returns:
        The chosen items (same dict objects), original relative order.

    Raises:
        ValueError: ``k < 1``, or with ``strict`` a class with fewer than ``k`` items.
    """
    if int(k) < 1:
        raise ValueError(f"subsample_per_class: k must be >= 1, got {k}.")
    rng = np.random.default_rng(seed)
    by_class: dict = defaultdict(list)
    for i, item in enumerate(items):
        by_class[item[label_key]].append(i)
    keep: list[int] = []
    for label in sorted(by_class):
        idx = by_class[label]
        if len(idx) < k:
            msg = f"subsample_per_class: class {label} has only {len(idx)} items (< k={k}); keeping all of them."
            if strict:
                raise ValueError(msg)
            logger.warning(msg)
            keep.extend(idx)
        else:
            keep.extend(int(i) for i in rng.choice(idx, size=int(k), replace=False))
    return [items[i] for i in sorted(keep)]


def stratified_split(
    items: Sequence[dict],
    fractions: Mapping[str, float] | Sequence[float],
    seed: int = 0,
    patient_key: str | None = "patient_id",
    label_key: str = "label",
) -> dict[str, list[dict]]:
    """Split items into named subsets with the same class proportions; patient-level when patient ids exist.

    Items sharing ``item[patient_key]`` always land in the same subset (no patient leaks across subsets); a patient
    is stratified by its most frequent label. Items without a patient id are their own group. Within each class,
    shuffled groups go one by one to the subset furthest below its target count.

    Args:
        items: data dicts.
        fractions: ``{"train": 0.8, "val": 0.1, "test": 0.1}`` or a sequence (named ``"split_0"``, …); must be >= 0
            and sum to 1.
        seed: random seed.
        patient_key: item key holding the patient id (``None`` disables patient grouping).
        label_key: label key.

    Returns:
        ``{name: items}`` in the order of ``fractions``; each list keeps the items' original relative order.

    Raises:
        ValueError: negative fractions or fractions not summing to 1.
    """
    if not isinstance(fractions, Mapping):
        fractions = {f"split_{i}": float(f) for i, f in enumerate(fractions)}
    names = list(fractions)
    fr = np.array([float(fractions[n]) for n in names])
    if len(names) == 0 or (fr < 0).any() or abs(fr.sum() - 1.0) > 1e-6:
        raise ValueError(f"stratified_split: fractions must be >= 0 and sum to 1, got {dict(fractions)!r}.")
    rng = np.random.default_rng(seed)

    groups: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        pid = item.get(patient_key) if patient_key else None
        gkey = f"p:{pid}" if pid not in (None, "") else f"i:{i}"
        groups.setdefault(gkey, []).append(i)
    by_class: dict = defaultdict(list)
    for gkey, idx in groups.items():
        label = Counter(items[i][label_key] for i in idx).most_common(1)[0][0]
        by_class[label].append(gkey)

    assigned: dict[str, list[int]] = {n: [] for n in names}
    for label in sorted(by_class):
        gkeys = by_class[label]
        order = rng.permutation(len(gkeys))
        total = sum(len(groups[g]) for g in gkeys)
        targets = fr * total
        counts = np.zeros(len(names))
        for j in order:
            g = gkeys[int(j)]
            s = int(np.argmax(targets - counts))
            assigned[names[s]].extend(groups[g])
            counts[s] += len(groups[g])
    return {n: [items[i] for i in sorted(assigned[n])] for n in names}


_SELECT_ON = ("test", "val")


def selection_from_test(
    real: Mapping[str, Sequence[dict]] | object,
    fraction: float = 0.5,
    seed: int = 0,
    select_on: str = "test",
    patient_key: str | None = "patient_id",
) -> dict[str, list[dict]]:
    """Carve a checkpoint-selection split out of the test split, so that early stopping sees data like the test data.

    The test split is split patient-level and stratified (:func:`stratified_split`) into a *selection* part
    (``fraction`` of its images) and a *read-out* part (the rest). The returned splits train on ``train``, select the
    checkpoint on ``val`` and report on ``test`` = the read-out part only, which no training or selection step sees.
    Use it where the validation split is carved from the training data and the test data differ from both (the
    Kermany chest X-ray test split: other patients, harder normals). Every arm compared must use the same splits:
    numbers read on the read-out part are not comparable with numbers read on the whole test split.

    Args:
        real: a ``DataSource`` (anything with a ``.splits`` mapping) or a mapping with ``"train"`` and ``"test"``
            lists of item dicts (``"val"`` too when ``select_on="val"``).
        fraction: share of the test images that go to the selection part, in (0, 1).
        seed: seed of the split (same seed ⇒ same halves).
        select_on: ``"test"`` (early stopping on the selection part) or ``"val"`` (early stopping on the original
            val split, the read-out part still the test split: the control that isolates the selection's effect).
        patient_key: item key holding the patient id (``None``: images are split one by one).

    Returns:
        ``{"train": [...], "val": [...], "test": [...]}`` (the item dicts themselves, not copies).

    Raises:
        ValueError: ``fraction`` outside (0, 1), an unknown ``select_on``, a missing split, or a part without an
            image of some class of the test split.
    """
    if not 0.0 < float(fraction) < 1.0:
        raise ValueError(f"selection_from_test: fraction must be in (0, 1), got {fraction!r}.")
    if select_on not in _SELECT_ON:
        raise ValueError(f"selection_from_test: select_on must be one of {_SELECT_ON}, got {select_on!r}.")
    splits = getattr(real, "splits", real)
    if not isinstance(splits, Mapping):
        raise ValueError(f"selection_from_test: real must be a DataSource or a mapping of splits, got {type(real)}.")
    needed = ("train", "test") + (("val",) if select_on == "val" else ())
    missing = [n for n in needed if not splits.get(n)]
    if missing:
        raise ValueError(f"selection_from_test: split(s) {missing} missing or empty; have {sorted(splits)}.")
    parts = stratified_split(
        splits["test"], {"selection": float(fraction), "readout": 1.0 - float(fraction)}, seed, patient_key
    )
    classes = {item["label"] for item in splits["test"]}
    for name, part in parts.items():
        absent = sorted(classes - {item["label"] for item in part})
        if absent:
            raise ValueError(
                f"selection_from_test: the {name} part of the test split ({len(part)} images, fraction {fraction}) "
                f"holds no image of class(es) {absent}; use a fraction closer to 0.5 or a larger test split."
            )
    val = parts["selection"] if select_on == "test" else list(splits["val"])
    return {"train": list(splits["train"]), "val": val, "test": parts["readout"]}


def _bytes_digest(item: dict, key: str) -> str:
    img = item[key]
    h = hashlib.sha256()
    if isinstance(img, (str, os.PathLike)):
        if os.path.isdir(img):  # a DICOM series: hash the sorted files
            for name in sorted(os.listdir(img)):
                with open(os.path.join(img, name), "rb") as f:
                    h.update(f.read())
        else:
            with open(img, "rb") as f:
                h.update(f.read())
    else:
        arr = np.ascontiguousarray(np.asarray(img))
        h.update(str(arr.dtype).encode() + str(arr.shape).encode() + arr.tobytes())
    return h.hexdigest()


def _digests(items: Sequence[dict], mode: str, key: str) -> list[str]:
    if mode == "bytes":
        return [_bytes_digest(it, key) for it in items]
    return [item_fingerprint(it, key) for it in items]


def find_duplicates(
    items_a: Sequence[dict],
    items_b: Sequence[dict] | None = None,
    mode: str = "pixel",
    key: str = "image",
) -> list[tuple[int, int]]:
    """Index pairs of identical images, across two lists or within one.

    Args:
        items_a: data dicts.
        items_b: data dicts to compare against; ``None`` finds duplicates within ``items_a`` (pairs ``i < j``).
        mode: ``"bytes"`` (identical file bytes / array bytes — fast, misses re-encoded copies) or ``"pixel"``
            (identical decoded pixels, :func:`~monai_medienet.data.item_fingerprint` — finds the same image saved at
            another path or in another lossless format).
        key: image key.

    Returns:
        Sorted ``(i, j)`` pairs with ``items_a[i]`` identical to ``items_b[j]`` (or ``items_a[j]``).

    Raises:
        ValueError: unknown ``mode``.
    """
    if mode not in ("bytes", "pixel"):
        raise ValueError(f"find_duplicates: mode must be 'bytes' or 'pixel', got {mode!r}.")
    da = _digests(items_a, mode, key)
    if items_b is None:
        seen: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(da):
            seen[d].append(i)
        pairs = [(i, j) for idx in seen.values() for a, i in enumerate(idx) for j in idx[a + 1 :]]
    else:
        db = _digests(items_b, mode, key)
        where_b: dict[str, list[int]] = defaultdict(list)
        for j, d in enumerate(db):
            where_b[d].append(j)
        pairs = [(i, j) for i, d in enumerate(da) for j in where_b.get(d, [])]
    return sorted(pairs)


def drop_duplicates(
    items: Sequence[dict],
    reference: Sequence[dict] | None = None,
    mode: str = "pixel",
    key: str = "image",
) -> list[dict]:
    """Remove items that duplicate an image of ``reference`` (e.g. train items also in test), or repeats within
    ``items`` (the first copy is kept) when ``reference`` is ``None``.

    Args:
        items: data dicts to clean.
        reference: data dicts to compare against, or ``None``.
        mode: ``"bytes"`` or ``"pixel"``, see :func:`find_duplicates`.
        key: image key.

    Returns:
        The remaining items in order (same dict objects).
    """
    pairs = find_duplicates(items, reference, mode=mode, key=key)
    drop = {i for i, _ in pairs} if reference is not None else {j for _, j in pairs}
    if drop:
        logger.warning(f"drop_duplicates: dropping {len(drop)} duplicate item(s) (mode={mode}).")
    return [it for i, it in enumerate(items) if i not in drop]
