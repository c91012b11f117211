"""Data-copying test of Meehan, Chaudhuri & Dasgupta (AISTATS 2020): is a generator closer to its training set than
new real data is?

The near-copy count of :func:`~monai_medienet.metrics.memorization_check` looks at the extreme tail (how many synthetic
images sit closer to a training image than the closest few percent of real test images). This test looks at the whole
distribution instead, and locally: the training images are partitioned into cells (k-means), and in every cell the
distances *to the nearest training image* of the synthetic images are compared with those of held-out real images by a
z-scored Mann-Whitney U. ``C_T``, the held-out-weighted mean of the cell z-scores, is

- about 0 when the generator is as far from its training images as new real images are (what we want),
- strongly negative (the paper uses < -3) when it copies: its samples are closer to the training set than new data,
- strongly positive when it under-fits: its samples are farther away (blurred, broken or off-distribution images).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy.stats import rankdata

from .memorization import nearest_neighbours

__all__ = ["DataCopyingResult", "DataCopyingTest", "data_copying_test", "kmeans"]


def kmeans(
    x: np.ndarray | torch.Tensor, num_clusters: int, seed: int = 0, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding (deterministic for a given ``seed``).

    Args:
        x: ``(N, ...)`` points (flattened to ``(N, D)``).
        num_clusters: number of clusters, ``1 <= num_clusters <= N``.
        seed: seed of the k-means++ initialisation.
        max_iter: maximum Lloyd iterations.

    Returns:
        ``(centres (num_clusters, D), labels (N,))``.

    Raises:
        ValueError: when ``num_clusters`` is outside ``[1, N]``.
    """
    pts = torch.as_tensor(x).reshape(len(x), -1).double()
    n = len(pts)
    if not 1 <= int(num_clusters) <= n:
        raise ValueError(f"kmeans: num_clusters must be in [1, {n}], got {num_clusters}.")
    gen = torch.Generator().manual_seed(int(seed))
    centres = [pts[int(torch.randint(n, (1,), generator=gen))]]
    d2 = torch.cdist(pts, centres[0][None]).squeeze(1) ** 2
    for _ in range(1, int(num_clusters)):
        if float(d2.sum()) <= 0:  # fewer distinct points than clusters: reuse a random point
            nxt = int(torch.randint(n, (1,), generator=gen))
        else:
            nxt = int(torch.multinomial(d2 / d2.sum(), 1, generator=gen))
        centres.append(pts[nxt])
        d2 = torch.minimum(d2, torch.cdist(pts, pts[nxt][None]).squeeze(1) ** 2)
    c = torch.stack(centres)
    labels = torch.cdist(pts, c).argmin(dim=1)
    for _ in range(int(max_iter)):
        new_c = c.clone()
        for j in range(len(c)):
            members = pts[labels == j]
            if len(members):
                new_c[j] = members.mean(dim=0)
        new_labels = torch.cdist(pts, new_c).argmin(dim=1)
        c = new_c
        if torch.equal(new_labels, labels):
            break
        labels = new_labels
    return c.numpy(), labels.numpy()


def _mann_whitney_u(gen_d: np.ndarray, held_d: np.ndarray) -> float:
    """U = #{(g, h): d_g > d_h} + 0.5 #{ties}."""
    ranks = rankdata(np.concatenate([gen_d, held_d]))
    return float(ranks[: len(gen_d)].sum() - len(gen_d) * (len(gen_d) + 1) / 2.0)


def _mann_whitney_z(gen_d: np.ndarray, held_d: np.ndarray) -> float:
    """z-score of U; negative when the generated distances are smaller."""
    m, n = len(gen_d), len(held_d)
    return (_mann_whitney_u(gen_d, held_d) - m * n / 2.0) / float(np.sqrt(m * n * (m + n + 1) / 12.0))


@dataclass
class DataCopyingResult:
    """Outcome of :func:`data_copying_test`.

    Attributes:
        c_t: the test statistic (held-out-weighted mean of the cell z-scores); ``nan`` when no cell qualified.
        num_cells: number of k-means cells of the training images.
        num_cells_used: cells with at least ``min_per_cell`` generated and held-out samples.
        min_per_cell: that minimum.
        heldout_mass_used: fraction of the held-out samples that fall in the used cells.
        global_z: the same z-score over all samples in one cell (no localisation).
        global_auc: ``U / (Nq Np)`` over all samples, the probability that a synthetic image is farther from the
            training set than a held-out one (0.5: as far; < 0.5: closer). Unlike the z-scores it does not grow
            with the sample sizes, so it compares pools of different sizes.
        cell_z: z-score per used cell.
        cell_heldout_fraction: held-out fraction per used cell (the weights).
        cell_generated_fraction: generated fraction per used cell.
    """

    c_t: float
    num_cells: int
    num_cells_used: int
    min_per_cell: int
    heldout_mass_used: float
    global_z: float
    global_auc: float
    cell_z: list[float] = field(repr=False)
    cell_heldout_fraction: list[float] = field(repr=False)
    cell_generated_fraction: list[float] = field(repr=False)

    @property
    def verdict(self) -> str:
        """``"copying"`` (C_T < -3), ``"underfitting"`` (C_T > 3) or ``"neither"``, the paper's reading."""
        if not np.isfinite(self.c_t):
            return "undetermined"
        return "copying" if self.c_t < -3 else "underfitting" if self.c_t > 3 else "neither"

    def summary(self) -> dict:
        """JSON-ready summary (per-cell lists included; they are short; a ``nan`` statistic becomes ``None``)."""
        d = asdict(self)
        d["c_t"] = self.c_t if np.isfinite(self.c_t) else None
        return {**d, "verdict": self.verdict}


class DataCopyingTest:
    """Meehan et al.'s ``C_T`` test for data copying against a fixed training set and held-out set, in any space
    (pixels or features). The k-means cells of the training samples and the held-out distances are computed once, so
    scoring many generated sets (e.g. every training snapshot) costs only their own nearest-neighbour search.

    Distances are Euclidean, from each generated and each held-out sample to its nearest training sample. Cells are
    the k-means clusters of the training samples (a sample belongs to the cell of its nearest centre). Only cells
    holding at least ``min_per_cell`` generated **and** held-out samples are scored (the paper's ``tau``); their
    z-scores are averaged with the held-out fraction of each cell as weight.

    Example::

        test = DataCopyingTest(train_images, val_images)
        for snapshot_samples in samples_per_snapshot:
            print(test(snapshot_samples).c_t)

    Args:
        train: ``(Nt, ...)`` the generator's training samples.
        heldout: ``(Np, ...)`` real samples of the same distribution that the generator never saw, same space.
        num_cells: k-means cells; default ``max(1, min(Nt, Np) // 50)`` so that a cell holds enough held-out samples.
        min_per_cell: minimum generated and held-out samples for a cell to be scored.
        seed: k-means seed.

    Raises:
        ValueError: for fewer than 2 samples in a set, train and heldout samples of different shapes, ``num_cells``
            outside ``[1, Nt]`` or ``min_per_cell < 1``.
    """

    def __init__(
        self,
        train: np.ndarray | torch.Tensor,
        heldout: np.ndarray | torch.Tensor,
        num_cells: int | None = None,
        min_per_cell: int = 20,
        seed: int = 0,
    ) -> None:
        tr, ho = torch.as_tensor(train), torch.as_tensor(heldout)
        if min(len(tr), len(ho)) < 2:
            raise ValueError(
                f"DataCopyingTest: train and heldout need >= 2 samples each, got train={len(tr)}, heldout={len(ho)}."
            )
        if int(min_per_cell) < 1:
            raise ValueError(f"DataCopyingTest: min_per_cell must be >= 1, got {min_per_cell}.")
        if tr.shape[1:] != ho.shape[1:]:
            raise ValueError(
                f"DataCopyingTest: train samples {tuple(tr.shape[1:])} and heldout samples {tuple(ho.shape[1:])} "
                "must have the same shape."
            )
        k = max(1, min(len(tr), len(ho)) // 50) if num_cells is None else int(num_cells)
        if not 1 <= k <= len(tr):
            raise ValueError(f"DataCopyingTest: num_cells must be in [1, {len(tr)}], got {num_cells}.")
        self.train, self.num_cells, self.min_per_cell = tr, k, int(min_per_cell)
        self.sample_shape = tuple(tr.shape[1:])
        self.heldout_distance, _ = nearest_neighbours(ho, tr)
        self.centres, _ = kmeans(tr, k, seed=seed)
        self.heldout_cell = nearest_neighbours(ho, self.centres)[1]  # nearest_neighbours flattens the samples

    def __call__(self, generated: np.ndarray | torch.Tensor) -> DataCopyingResult:
        """Score a generated set.

        Args:
            generated: ``(Nq, ...)`` synthetic images or features, in the space of the training samples.

        Returns:
            A :class:`DataCopyingResult`.

        Raises:
            ValueError: for fewer than 2 samples or a sample shape that differs from the training samples'.
        """
        gen = torch.as_tensor(generated)
        if len(gen) < 2:
            raise ValueError(f"DataCopyingTest: generated needs >= 2 samples, got {len(gen)}.")
        if tuple(gen.shape[1:]) != self.sample_shape:
            raise ValueError(
                f"DataCopyingTest: generated samples {tuple(gen.shape[1:])} differ from the training samples "
                f"{self.sample_shape}."
            )
        gen_d, _ = nearest_neighbours(gen, self.train)
        gen_cell = nearest_neighbours(gen, self.centres)[1]
        ho_d, ho_cell = self.heldout_distance, self.heldout_cell
        zs, w_ho, w_gen = [], [], []
        for c in range(self.num_cells):
            g_in, h_in = gen_d[gen_cell == c], ho_d[ho_cell == c]
            if len(g_in) >= self.min_per_cell and len(h_in) >= self.min_per_cell:
                zs.append(_mann_whitney_z(g_in, h_in))
                w_ho.append(len(h_in) / len(ho_d))
                w_gen.append(len(g_in) / len(gen_d))
        c_t = float(np.dot(w_ho, zs) / np.sum(w_ho)) if zs else float("nan")
        return DataCopyingResult(
            c_t=c_t,
            num_cells=self.num_cells,
            num_cells_used=len(zs),
            min_per_cell=self.min_per_cell,
            heldout_mass_used=float(np.sum(w_ho)) if zs else 0.0,
            global_z=_mann_whitney_z(gen_d, ho_d),
            global_auc=_mann_whitney_u(gen_d, ho_d) / (len(gen_d) * len(ho_d)),
            cell_z=[float(z) for z in zs],
            cell_heldout_fraction=[float(w) for w in w_ho],
            cell_generated_fraction=[float(w) for w in w_gen],
        )


def data_copying_test(
    generated: np.ndarray | torch.Tensor,
    train: np.ndarray | torch.Tensor,
    heldout: np.ndarray | torch.Tensor,
    num_cells: int | None = None,
    min_per_cell: int = 20,
    seed: int = 0,
) -> DataCopyingResult:
    """Meehan et al.'s ``C_T`` test for data copying of one generated set (see :class:`DataCopyingTest`, which
    scores many sets against the same reference without recomputing it).

    Args:
        generated: ``(Nq, ...)`` synthetic images or features.
        train: ``(Nt, ...)`` the generator's training samples, same space.
        heldout: ``(Np, ...)`` real samples of the same distribution that the generator never saw.
        num_cells: k-means cells; default ``max(1, min(Nt, Np) // 50)`` so that a cell holds enough held-out samples.
        min_per_cell: minimum generated and held-out samples for a cell to be scored.
        seed: k-means seed.

    Returns:
        A :class:`DataCopyingResult`.

    Raises:
        ValueError: for fewer than 2 samples in a set, ``num_cells`` outside ``[1, Nt]``, ``min_per_cell < 1`` or
            generated samples shaped unlike the training samples.
    """
    return DataCopyingTest(train, heldout, num_cells=num_cells, min_per_cell=min_per_cell, seed=seed)(generated)
