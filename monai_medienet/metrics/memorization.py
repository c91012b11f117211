"""Memorisation check: nearest real training image of every synthetic image, thresholded by real test->train."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

__all__ = ["MemorizationResult", "NearCopyFilter", "memorization_check", "nearest_neighbours"]


def nearest_neighbours(
    queries: np.ndarray | torch.Tensor, references: np.ndarray | torch.Tensor, chunk: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean nearest reference of each query (images are flattened).

    Args:
        queries: ``(Nq, ...)`` (images ``(Nq, C, H, W)`` or features ``(Nq, D)``).
        references: ``(Nr, ...)`` with the same trailing shape.
        chunk: queries per distance block.

    Returns:
        ``(distances (Nq,), indices (Nq,))``.

    Raises:
        ValueError: on shape mismatch or empty inputs.
    """
    q = torch.as_tensor(np.asarray(queries) if not isinstance(queries, torch.Tensor) else queries)
    r = torch.as_tensor(np.asarray(references) if not isinstance(references, torch.Tensor) else references)
    q, r = q.reshape(len(q), -1).double(), r.reshape(len(r), -1).double()
    if len(q) == 0 or len(r) == 0 or q.shape[1] != r.shape[1]:
        raise ValueError(f"nearest_neighbours: incompatible shapes {tuple(q.shape)} and {tuple(r.shape)}.")
    dists, idx = [], []
    for s in range(0, len(q), chunk):
        d = torch.cdist(q[s : s + chunk], r)
        m = d.min(dim=1)
        dists.append(m.values)
        idx.append(m.indices)
    return torch.cat(dists).numpy(), torch.cat(idx).numpy()


class NearCopyFilter:
    """A near-copy screen built once from the generator's training images and held-out real images.

    A generated image is a near-copy when its nearest training image is closer than ``percentile`` % of held-out real
    images are to theirs (new real data from the same distribution), or when it is an exact copy. Used by
    :func:`memorization_check` and, before anything is written, by
    :func:`~monai_medienet.engines.generate_synthetic` (``near_copy_filter=``) to drop near-copies for privacy.

    The distances are pixel (Euclidean over the flattened images) by default. With ``feature_extractor`` they are
    measured between features instead: every image - training, held-out and screened - is first mapped through the
    extractor (e.g. :class:`~monai_medienet.metrics.InceptionFeatureExtractor`, or a
    :class:`~monai_medienet.metrics.ClassifierFeatureExtractor` of an in-domain classifier). Pixel distance also
    ranks smooth images close to a training image; Inception features put blurred images far from every sharp real
    image and can miss copies (docs/results.md, eighteenth session: on one blurry k = 50 generator the pixel screen
    flagged 44 % of the pool, the Inception screen none, and pixels after the generator's autoencoder round trip -
    :class:`~monai_medienet.metrics.AutoencoderRoundTrip` as extractor - 51 %, mostly reproductions of one training
    image's layout).

    Args:
        train: ``(Nt, ...)`` the real images the generator was trained on (images, or features when no extractor
            is given and the screened inputs are features too).
        heldout: ``(Nh, ...)`` real images it never saw, same space (e.g. the validation split when screening
            before the test split is touched).
        percentile: percentile in ``(0, 100)`` of the held-out->train nearest distances used as the threshold.
        exact_tol: distance at or below which an image counts as an exact copy (always a near-copy); ``None``: the
            extractor's ``exact_tol`` attribute when it has one (e.g. :class:`AutoencoderRoundTrip`), else 1e-6.
        feature_extractor: module mapping ``(B, C, H, W)`` images to ``(B, D)`` features; ``None``: pixel space.
        batch_size: images per extractor batch.
        device: device the extractor runs on.
        progress: progress bars while extracting features (sets of more than ``batch_size`` images).

    Raises:
        ValueError: ``percentile`` outside ``(0, 100)``, a negative ``exact_tol``, a ``batch_size`` < 1, empty or
            mismatched inputs.

    Example:
        >>> screen = NearCopyFilter(train_images, val_images, percentile=5.0)
        >>> keep = ~screen(generated)  # (B,) bool
        >>> inception = NearCopyFilter(train_images, val_images, feature_extractor=InceptionFeatureExtractor())
    """

    def __init__(
        self,
        train: np.ndarray | torch.Tensor,
        heldout: np.ndarray | torch.Tensor,
        percentile: float = 5.0,
        exact_tol: float | None = None,
        feature_extractor: torch.nn.Module | None = None,
        batch_size: int = 64,
        device: str | torch.device = "cpu",
        progress: bool = True,
    ) -> None:
        if not 0.0 < float(percentile) < 100.0:
            raise ValueError(f"NearCopyFilter: percentile must be in (0, 100), got {percentile}.")
        if exact_tol is None:
            exact_tol = getattr(feature_extractor, "exact_tol", 1e-6)
        if float(exact_tol) < 0:
            raise ValueError(f"NearCopyFilter: exact_tol must be >= 0, got {exact_tol}.")
        if int(batch_size) < 1:
            raise ValueError(f"NearCopyFilter: batch_size must be >= 1, got {batch_size}.")
        self.feature_extractor = feature_extractor
        self.batch_size = int(batch_size)
        self.progress = bool(progress)
        self.device = torch.device(device)
        train_t = torch.as_tensor(np.asarray(train) if not isinstance(train, torch.Tensor) else train)
        self.image_shape = tuple(train_t.shape[1:])
        self.train_images = train_t  # the images themselves (for pictures of the pairs), whatever the space
        # float64 once, as nearest_neighbours computes: a screen is called on every generated batch
        self.train = torch.as_tensor(self._embed(train_t, "train")).double()
        self.percentile = float(percentile)
        self.exact_tol = float(exact_tol)
        if feature_extractor is not None and tuple(heldout.shape[1:]) != self.image_shape:
            raise ValueError(
                f"NearCopyFilter: held-out images of shape {tuple(heldout.shape[1:])} differ from the training "
                f"images' {self.image_shape}."
            )
        self.heldout_distance, _ = nearest_neighbours(self._embed(heldout, "held-out"), self.train)
        self.threshold = float(np.percentile(self.heldout_distance, self.percentile))

    @property
    def space(self) -> str:
        """``"pixel"`` or ``"feature"``."""
        return "pixel" if self.feature_extractor is None else "feature"

    @property
    def space_name(self) -> str:
        """What the distances are measured on, for records: ``"pixel"`` or the extractor's class name."""
        return "pixel" if self.feature_extractor is None else type(self.feature_extractor).__name__

    def _embed(self, images: np.ndarray | torch.Tensor, desc: str = "screened") -> np.ndarray | torch.Tensor:
        """The images themselves (pixel space) or their ``(N, D)`` features."""
        if self.feature_extractor is None:
            return images
        from .fid import extract_features

        if len(images) == 0:
            raise ValueError(f"NearCopyFilter: no {desc} images given.")
        return extract_features(
            self.feature_extractor,
            images,
            self.batch_size,
            self.device,
            progress=self.progress and len(images) > self.batch_size,
            desc=f"near-copy screen features: {desc}",
        )

    def nearest(self, images: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Distance (in the filter's space) to and index of the nearest training image of each of ``images``.

        Args:
            images: ``(B, ...)`` with the training images' trailing shape.

        Raises:
            ValueError: when an image's shape differs from the training images' (e.g. a crop applied to one side).
        """
        shape = tuple(images.shape[1:])
        if shape != self.image_shape:
            raise ValueError(
                f"NearCopyFilter: images of shape {shape} cannot be compared with training images of shape "
                f"{self.image_shape}; crop or resize both the same way."
            )
        return nearest_neighbours(self._embed(images), self.train)

    def is_near_copy(self, distances: np.ndarray) -> np.ndarray:
        """``(B,)`` bool from nearest-training distances: below the threshold or an exact copy."""
        d = np.asarray(distances)
        # an exact copy is always flagged, even when the threshold is 0 (duplicates between held-out and train)
        return (d < self.threshold) | (d <= self.exact_tol)

    def __call__(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """``(B,)`` bool: which of ``images`` ``(B, ...)`` are near-copies of a training image."""
        return self.is_near_copy(self.nearest(images)[0])


@dataclass
class MemorizationResult:
    """Outcome of :func:`memorization_check` in one space (pixels or features).

    Attributes:
        space: label of the space (e.g. ``"pixel"``, ``"feature"``).
        threshold: distance below which a synthetic image is a near-copy (the ``percentile`` of real test->train
            nearest distances).
        percentile: the percentile used.
        fraction_below: fraction of synthetic images closer to their nearest training image than ``threshold``
            (about ``percentile / 100`` when the generator is no closer to its training set than new real data is).
        flagged_indices: indices of the synthetic images below the threshold (near-copies to drop).
        exact_copy_indices: indices at distance <= ``exact_tol`` (bit-identical up to round-off).
        syn_nn_distance: per synthetic image, distance to its nearest training image.
        syn_nn_index: per synthetic image, index of that training image.
        test_nn_distance: per real test image, distance to its nearest training image.
    """

    space: str
    threshold: float
    percentile: float
    fraction_below: float
    flagged_indices: list[int]
    exact_copy_indices: list[int]
    syn_nn_distance: np.ndarray = field(repr=False)
    syn_nn_index: np.ndarray = field(repr=False)
    test_nn_distance: np.ndarray = field(repr=False)

    def summary(self) -> dict:
        """JSON-ready summary (no per-image arrays except the flagged indices)."""
        d = asdict(self)
        for key in ("syn_nn_distance", "syn_nn_index", "test_nn_distance"):
            d.pop(key)
        d["num_synthetic"] = int(len(self.syn_nn_distance))
        d["num_flagged"] = len(self.flagged_indices)
        d["num_exact_copies"] = len(self.exact_copy_indices)
        d["syn_nn_distance_median"] = float(np.median(self.syn_nn_distance))
        d["test_nn_distance_median"] = float(np.median(self.test_nn_distance))
        return d


def memorization_check(
    synthetic: np.ndarray | torch.Tensor,
    train: np.ndarray | torch.Tensor,
    test: np.ndarray | torch.Tensor,
    percentile: float = 5.0,
    space: str = "pixel",
    exact_tol: float = 1e-6,
) -> MemorizationResult:
    """Flag synthetic images that sit closer to a generator-training image than new real images usually do.

    For each real test image the distance to its nearest training image gives the reference distribution; its
    ``percentile`` is the threshold. Synthetic images whose nearest-training distance is below it are flagged.

    Args:
        synthetic: ``(Ns, ...)`` synthetic images or features.
        train: ``(Nt, ...)`` the real images the generator was trained on (same space).
        test: ``(Nv, ...)`` held-out real images (same space).
        percentile: percentile in ``(0, 100)`` of test->train distances used as threshold.
        space: a label stored in the result.
        exact_tol: distance at or below which a synthetic image counts as an exact copy.

    Returns:
        A :class:`MemorizationResult`.

    Raises:
        ValueError: when ``percentile`` is outside ``(0, 100)``.
    """
    if not 0.0 < float(percentile) < 100.0:
        raise ValueError(f"memorization_check: percentile must be in (0, 100), got {percentile}.")
    screen = NearCopyFilter(train, test, percentile, exact_tol)
    syn_d, syn_i = screen.nearest(synthetic)
    thr, test_d = screen.threshold, screen.heldout_distance
    flagged = np.flatnonzero(screen.is_near_copy(syn_d))
    exact = np.flatnonzero(syn_d <= exact_tol)
    return MemorizationResult(
        space=space,
        threshold=thr,
        percentile=float(percentile),
        fraction_below=float(np.mean(syn_d < thr)),
        flagged_indices=[int(i) for i in flagged],
        exact_copy_indices=[int(i) for i in exact],
        syn_nn_distance=syn_d,
        syn_nn_index=syn_i,
        test_nn_distance=test_d,
    )
