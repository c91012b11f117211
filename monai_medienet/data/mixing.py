"""Mix real and synthetic items so an existing MONAI classification pipeline gains synthetic data in one line."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from monai.data import Dataset

__all__ = ["MixedDataset", "mix_real_synthetic"]


def mix_real_synthetic(
    real_items: Sequence[dict],
    synthetic_items: Sequence[dict],
    ratio: float = 1.0,
    seed: int = 0,
    class_balanced: bool = True,
    label_key: str = "label",
    synthetic_key: str | None = "synthetic",
    shuffle: bool = True,
    class_ratios: Mapping[Any, float] | None = None,
) -> list[dict]:
    """All real items plus ``round(ratio * len(real_items))`` synthetic items drawn without replacement.

    With ``class_ratios`` the synthetic count is set per class instead: ``round(class_ratios[c] * n_real[c])`` items
    of class ``c`` (e.g. ``{0: 1.0, 1: 0.0}`` adds synthetic images of class 0 only, 1:1 to its real images), and
    ``ratio`` / ``class_balanced`` are ignored.

    Args:
        real_items: real data dicts (all kept).
        synthetic_items: pool of synthetic data dicts (e.g. ``manifest_source(...).splits["train"]``).
        ratio: synthetic:real count ratio (>= 0; 0 returns the real items only).
        seed: random seed for drawing and shuffling.
        class_balanced: ``True``: the synthetic count is split equally across the classes of the real items (tops up
            rare classes relative to the real distribution); ``False``: split in proportion to the real class counts.
        label_key: label key.
        synthetic_key: key set to 1 on synthetic and 0 on real items in the output copies (``None``: don't add).
        shuffle: shuffle the combined list (else real items first, then synthetic).
        class_ratios: per-class synthetic:real ratios keyed by label (every label of ``real_items`` must have one;
            ``None``: use ``ratio`` and ``class_balanced``).

    Returns:
        New list of shallow-copied dicts.

    Raises:
        ValueError: ``ratio < 0``, a negative or missing entry of ``class_ratios``, or the pool has fewer synthetic
            items of a class than needed (message gives the class, needed and available counts).
    """
    if ratio < 0:
        raise ValueError(f"mix_real_synthetic: ratio must be >= 0, got {ratio}.")
    rng = np.random.default_rng(seed)
    real_counts = Counter(it[label_key] for it in real_items)
    labels = sorted(real_counts)
    n_syn = int(round(ratio * len(real_items)))
    need: dict = {}
    if class_ratios is not None:
        missing = [lb for lb in labels if lb not in class_ratios]
        if missing or any(float(r) < 0 for r in class_ratios.values()):
            raise ValueError(
                f"mix_real_synthetic: class_ratios must give a ratio >= 0 for every real label {labels}, got "
                f"{dict(class_ratios)}."
            )
        need = {lb: int(round(float(class_ratios[lb]) * real_counts[lb])) for lb in labels}
    elif n_syn > 0 and labels:
        if class_balanced:
            shares = np.full(len(labels), n_syn / len(labels))
        else:
            shares = np.array([n_syn * real_counts[lb] / len(real_items) for lb in labels])
        base = np.floor(shares).astype(int)
        rest = n_syn - int(base.sum())
        order = np.argsort(-(shares - base), kind="stable")[:rest]  # largest remainders get one more
        base[order] += 1
        need = {lb: int(n) for lb, n in zip(labels, base)}
    pool: dict = defaultdict(list)
    for i, it in enumerate(synthetic_items):
        pool[it[label_key]].append(i)
    chosen: list[int] = []
    for lb, n in need.items():
        if n > len(pool[lb]):
            raise ValueError(
                f"mix_real_synthetic: need {n} synthetic items of class {lb} (ratio={ratio}, "
                f"class_balanced={class_balanced}, class_ratios={class_ratios}) but the pool has {len(pool[lb])}; "
                "generate more or lower the ratio."
            )
        if n:
            chosen.extend(int(i) for i in rng.choice(pool[lb], size=n, replace=False))

    def tag(item: dict, flag: int) -> dict:
        out = dict(item)
        if synthetic_key is not None:
            out[synthetic_key] = flag
        return out

    mixed = [tag(it, 0) for it in real_items] + [tag(synthetic_items[i], 1) for i in sorted(chosen)]
    if shuffle:
        mixed = [mixed[i] for i in rng.permutation(len(mixed))]
    return mixed


class MixedDataset(Dataset):
    """A MONAI ``Dataset`` of real + synthetic items (:func:`mix_real_synthetic`); swap it for ``Dataset`` to add
    synthetic data to an existing pipeline::

        train_ds = MixedDataset(train_files, synthetic_files, transform=train_transforms, ratio=1.0)

    Call :meth:`set_epoch` (e.g. from an Ignite ``EPOCH_STARTED`` handler) to draw a fresh synthetic subset each epoch
    when the pool is larger than needed.

    Args:
        real_items: real data dicts.
        synthetic_items: synthetic data dicts.
        transform: MONAI transform applied to each item.
        ratio: synthetic:real count ratio.
        seed: base seed (epoch ``e`` uses ``seed + e``).
        class_balanced: see :func:`mix_real_synthetic`.
        label_key: label key.
        synthetic_key: key marking synthetic items (1) vs real (0).
        class_ratios: per-class synthetic:real ratios (see :func:`mix_real_synthetic`; overrides ``ratio``).
    """

    def __init__(
        self,
        real_items: Sequence[dict],
        synthetic_items: Sequence[dict],
        transform: Callable | None = None,
        ratio: float = 1.0,
        seed: int = 0,
        class_balanced: bool = True,
        label_key: str = "label",
        synthetic_key: str | None = "synthetic",
        class_ratios: Mapping[Any, float] | None = None,
    ) -> None:
        self.real_items = list(real_items)
        self.synthetic_items = list(synthetic_items)
        self.mix_kwargs = {
            "ratio": ratio,
            "class_balanced": class_balanced,
            "label_key": label_key,
            "synthetic_key": synthetic_key,
            "class_ratios": class_ratios,
        }
        self.seed = int(seed)
        self.epoch = 0
        super().__init__(data=self._mix(0), transform=transform)

    def _mix(self, epoch: int) -> list[dict]:
        return mix_real_synthetic(self.real_items, self.synthetic_items, seed=self.seed + epoch, **self.mix_kwargs)

    def set_epoch(self, epoch: int) -> None:
        """Redraw the synthetic subset and the order for ``epoch`` (deterministic per epoch)."""
        self.epoch = int(epoch)
        self.data = self._mix(self.epoch)
