"""The augmentation protocol: classifier arms x seeds with a fixed step budget, plus fidelity/diversity/privacy.

Arms are named by ``+``-joined tokens from ``{"real", "syn", "aug", "filter", "realism", "hard", "screen",
"pretrain"}``: ``real`` (real only), ``real+aug`` (real + classic augmentation), ``real+syn+aug`` (real + synthetic at
``synthetic_ratio``, class balanced, + augmentation), ``syn`` (synthetic only; always tested on real). ``filter``,
``realism`` and ``hard`` draw the synthetic images from a filtered pool (see :func:`filter_synthetic`): per class, the
``filter_keep_fraction`` of the synthetic images that a classifier trained on the real training images finds most
consistent with their label (``filter``), that lie deepest in the real training images' k-NN manifold of their class in
that classifier's feature space (``realism``, the realism score of Kynkaenniemi et al. 2019), or that it finds *least*
typical of their label while still agreeing with it (``hard``), e.g. ``real+syn+aug+filter``, ``real+syn+aug+realism``,
``real+syn+aug+hard``. ``screen`` draws them from the pool without its near copies of a generator-training image (the
privacy screen of :class:`~monai_medienet.metrics.NearCopyFilter`, threshold from the validation split, distances after
the generator's autoencoder round trip when one generator checkpoint holds it, else in pixels), e.g.
``real+syn+aug+screen``. ``pretrain`` (with ``real`` and ``syn``) trains in two stages instead of mixing: the classifier
is first trained on the whole (filtered) synthetic pool, then fine-tuned from those weights on the real images
(``real+syn+aug+pretrain``; ``aug`` applies to both stages). Every arm uses the same classifier recipe and the same
budget (``max_steps`` optimisation steps, ``batch_size``, optimiser, validation interval, patience), early-stopped on
the real validation AUROC with the best weights kept; a ``pretrain`` arm spends ``pretrain_steps`` more on its synthetic
stage unless ``finetune_steps`` makes up the difference (``pretrain_steps + finetune_steps = max_steps``; reported with
the run). Seeds are paired across arms: seed ``s`` fixes the network initialisation, data order, synthetic draw and
augmentation stream of every arm.

Data handling: every item is passed once through the (deterministic) ``transform`` and held in memory as float32
tensors; the random augmentation runs on the fly. Bootstrap details: see :mod:`monai_medienet.evaluation.stats`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data import Dataset

from monai_medienet.data.materialise import materialise
from monai_medienet.metrics import (
    ClassifierFeatureExtractor,
    NearCopyFilter,
    data_copying_test,
    extract_features,
    frechet_distance_from_features,
    label_fidelity,
    memorization_check,
    ms_ssim_diversity,
    precision_recall,
    realism_score,
)
from monai_medienet.utils import meta_tracking, resolve_device

from .classifier import build_classifier, predict_proba, train_classifier
from .explain import gradcam_maps, select_explanation_images
from .leakage import check_generator_leakage, check_synthetic_sources, load_generator_provenance
from .stats import (
    adjust_for_multiplicity,
    bootstrap_arm,
    bootstrap_indices,
    bootstrap_ratio,
    cross_entropy,
    paired_bootstrap_difference,
)

__all__ = [
    "ARM_TOKENS",
    "DEFAULT_ARMS",
    "EvaluationConfig",
    "augmentation_examples",
    "filter_synthetic",
    "materialise",
    "parse_arm",
    "run_evaluation",
]

logger = logging.getLogger(__name__)

ARM_TOKENS = ("real", "syn", "aug", "filter", "realism", "hard", "screen", "pretrain")
#: arm token -> pool filter criterion (``filter_synthetic``'s, or ``"near_copy"``: the near-copy screen)
FILTER_TOKENS = {"filter": "label", "realism": "realism", "hard": "hard", "screen": "near_copy"}
DEFAULT_ARMS = ("real", "real+aug", "real+syn+aug", "syn")
#: seed of the test-set bootstrap resamples (shared with ``merge_evaluations``, which must reproduce them)
BOOTSTRAP_SEED = 12345
#: the differences reported in ``results["deltas"]`` (when both arms were run).
DEFAULT_DELTAS = (
    ("real+syn+aug", "real+aug"),
    ("real+syn+aug", "real"),
    ("real+syn+aug+filter", "real+aug"),
    ("real+syn+aug+filter", "real+syn+aug"),
    ("real+syn+aug+realism", "real+aug"),
    ("real+syn+aug+realism", "real+syn+aug"),
    ("real+syn+aug+hard", "real+aug"),
    ("real+syn+aug+hard", "real+syn+aug"),
    ("real+syn+aug+pretrain", "real+aug"),
    ("real+syn+aug+pretrain", "real+syn+aug"),
)


def parse_arm(name: str) -> dict[str, bool]:
    """Parse an arm name into its ingredients.

    Args:
        name: e.g. ``"real+syn+aug"``.

    Returns:
        ``{"real": bool, "syn": bool, "aug": bool, "filter": bool, "realism": bool, "hard": bool, "screen": bool,
        "pretrain": bool}``.

    Raises:
        ValueError: unknown tokens, duplicates, neither ``real`` nor ``syn``, a filter token (``filter``,
            ``realism``, ``hard``, ``screen``) without ``syn``, two filter tokens together, or ``pretrain`` without both
            ``real`` and ``syn``.
    """
    tokens = [t.strip() for t in str(name).split("+")]
    bad = [t for t in tokens if t not in ARM_TOKENS]
    if bad or len(set(tokens)) != len(tokens) or not ({"real", "syn"} & set(tokens)):
        raise ValueError(
            f"parse_arm: arm {name!r} must join distinct tokens from {ARM_TOKENS} with '+' and contain 'real' or "
            "'syn' (e.g. 'real', 'real+aug', 'real+syn+aug', 'syn', 'real+syn+aug+filter', 'real+syn+aug+realism', "
            "'real+syn+aug+hard', 'real+syn+aug+screen')."
        )
    filters = [t for t in tokens if t in FILTER_TOKENS]
    if filters and "syn" not in tokens:
        raise ValueError(f"parse_arm: arm {name!r} has {filters[0]!r} without 'syn' (it filters the synthetic images).")
    if len(filters) > 1:
        raise ValueError(f"parse_arm: arm {name!r} combines the filters {filters}; use one per arm.")
    if "pretrain" in tokens and not {"real", "syn"} <= set(tokens):
        raise ValueError(
            f"parse_arm: arm {name!r} has 'pretrain' without both 'real' and 'syn' (it pre-trains on the synthetic "
            "images and fine-tunes on the real ones, e.g. 'real+syn+aug+pretrain')."
        )
    return {t: t in tokens for t in ARM_TOKENS}


@dataclass
class EvaluationConfig:
    """Settings of :func:`run_evaluation` (every field can also be passed as a keyword argument).

    Attributes:
        arms: arm names (see :func:`parse_arm`).
        seeds: seeds; every arm runs every seed (>= 3 recommended).
        k_per_class: real training images per class (``None``: all). With a generator checkpoint the real training
            set is exactly the generator's training images (matched by fingerprint) when they are in the train split.
        subsample_seed: seed of the k-per-class draw (use the generator's).
        classifier: ``"resnet18"`` (CPU default) or ``"resnet50"`` (the paper's).
        max_steps: optimisation-step budget per run (same for every arm).
        batch_size: batch size.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        val_interval: validate every this many steps.
        patience: early-stopping patience in validations (0 = off).
        bn_recalibration_batches: re-estimate BatchNorm statistics from this many training batches before every
            validation (see :func:`~monai_medienet.evaluation.recalibrate_batchnorm`; 0 = off).
        synthetic_ratio: synthetic:real count in ``real+syn`` arms (1.0 = 1:1); the ``syn`` arm uses the same count.
        synthetic_class_ratios: per-class synthetic:real ratios, one per class in class order (e.g. ``[1.0, 0.0]``:
            synthetic images of class 0 only, as many as its real images); overrides ``synthetic_ratio`` and
            ``class_balanced`` (see :func:`~monai_medienet.data.mix_real_synthetic`). ``None``: off.
        filter_keep_fraction: ``filter``/``realism``/``hard`` arms: fraction of the synthetic pool kept per class (the
            most label-consistent / most realistic / least typical label-consistent images by the filter classifier),
            in ``(0, 1]``.
        realism_k: ``realism`` arms: k of the real k-NN manifold (per class) of the realism score.
        near_copy_percentile: ``screen`` arms: a synthetic image is a near copy (dropped) when its nearest
            generator-training image is closer than this percentile of the validation images' nearest distances,
            in ``(0, 100)`` (the bundles' ``near_copy_percentile``).
        pretrain_steps: ``pretrain`` arms: step budget of the synthetic pre-training stage (``None``: ``max_steps``).
            Both stages early-stop on real val AUROC.
        finetune_steps: ``pretrain`` arms: step budget of the fine-tuning stage on the real images (``None``:
            ``max_steps``). ``pretrain_steps + finetune_steps = max_steps`` gives the arm the other arms' budget.
        finetune_lr: ``pretrain`` arms: Adam learning rate of the fine-tuning stage (``None``: ``lr``).
        class_balanced: split the synthetic count equally across classes.
        rotate_degrees: classic augmentation: max rotation.
        crop_scale: classic augmentation: kept area fraction range of the random crop.
        intensity_jitter: classic augmentation: brightness/contrast jitter.
        flip_axes: classic augmentation: spatial axes that may be flipped (default none: anatomy is not symmetric).
        gamma_range: classic augmentation: ``(min, max)`` of a random gamma (MONAI ``RandAdjustContrastd``), e.g.
            ``(0.7, 1.5)``; ``None`` (default): no gamma.
        n_boot: bootstrap resamples.
        confidence: interval level.
        bf16: bf16 autocast for classifier forward passes.
        device: ``"auto"``, ``"cpu"`` or ``"cuda[:i]"``.
        num_workers: data loader workers.
        fidelity: compute FID / precision-recall / diversity.
        inception_fid: use the standard Inception (slow on CPU: ~0.3-1 s per image); off = in-domain features only.
        fid_feature_dims: Inception feature dimensions (subset of 64, 192, 768, 2048).
        fid_method: Frechet computation: ``"eigh"`` (default; the same trace as ``scipy.linalg.sqrtm`` from two
            symmetric eigendecompositions, ~20x faster at 512-2048 dimensions on CPU) or ``"sqrtm"`` (reference).
        fid_max_images: at most this many images per set for Inception FID and precision/recall.
        pr_k: k of the k-NN precision/recall.
        diversity_pairs: random pairs per class for MS-SSIM diversity.
        memorization_percentile: percentile of real test->train nearest distances used as near-copy threshold.
        memorization_autoencoder: also run the memorisation check after a round trip of every image through the
            generator's own autoencoder (:class:`~monai_medienet.metrics.AutoencoderRoundTrip`, the checkpoint's
            ``state["autoencoder"]``): real and synthetic images then share its blur, which pixel and Inception
            distances confuse with novelty. Needs exactly one generator checkpoint holding its autoencoder (a pooled
            pool's generators each have their own); otherwise recorded as skipped with the reason.
        feature_classifier: when no run arm trains on real images only and no filter classifier exists (e.g.
            ``arms=["real+syn+aug"]`` for a run merged later with its baselines), train one ``real`` classifier
            (first seed, the same recipe as the ``real`` arm) for the in-domain FID and feature-space memorisation
            check; costs one classifier run. Off: those two figures are skipped.
        gradcam_images: number of test images in the Grad-CAM panel (0 = off).
        progress: tqdm bars.
        deltas: ``[arm_a, arm_b]`` paired differences to report (pairs with an arm that is not run are skipped).
        primary: the one ``[arm_a, arm_b]`` difference declared before the run as *the* test (e.g.
            ``["real+syn+aug", "real+aug"]``): it is reported with its raw one-sided P, every other difference with a
            Holm-adjusted P (see :func:`~monai_medienet.evaluation.stats.adjust_for_multiplicity`); added to
            ``deltas`` when missing. ``None``: all differences are adjusted together.
        ratios: ``[arm_a, arm_b]`` ratios ``A / B`` of mean metrics to report with a bootstrap interval over seeds
            and test images (:func:`~monai_medienet.evaluation.bootstrap_ratio`; pairs with an arm that is not run
            are skipped). Default ``[["syn", "real"]]``: the protocol's target "synthetic-only at >= 0.95 x real-only".
        ratio_target: the ratio a target asks for (``ratios`` report the probability of falling below it), > 0.
        save_classifiers: write the first seed's classifier of every arm to ``<output_dir>/classifiers/<arm>.pt``
            (:func:`~monai_medienet.evaluation.save_classifier`, e.g. to serve it with MONAI Label); needs
            ``output_dir``. The paths are listed in the results under ``"classifier_checkpoints"``.

    Raises:
        ValueError: an unknown arm token, repeated arms or seeds, or a setting out of range (named in the message).
    """

    arms: Sequence[str] = DEFAULT_ARMS
    seeds: Sequence[int] = (0, 1, 2)
    k_per_class: int | None = None
    subsample_seed: int = 0
    classifier: str = "resnet18"
    max_steps: int = 500
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    val_interval: int = 50
    patience: int = 5
    bn_recalibration_batches: int = 8
    synthetic_ratio: float = 1.0
    synthetic_class_ratios: Sequence[float] | None = None
    filter_keep_fraction: float = 0.5
    realism_k: int = 3
    near_copy_percentile: float = 5.0
    pretrain_steps: int | None = None
    finetune_steps: int | None = None
    finetune_lr: float | None = None
    class_balanced: bool = True
    rotate_degrees: float = 10.0
    crop_scale: tuple[float, float] = (0.85, 1.0)
    intensity_jitter: float = 0.1
    flip_axes: Sequence[int] = ()
    gamma_range: Sequence[float] | None = None
    n_boot: int = 1000
    confidence: float = 0.95
    bf16: bool = False
    device: str = "auto"
    num_workers: int = 0
    fidelity: bool = True
    inception_fid: bool = True
    fid_feature_dims: Sequence[int] = (64, 2048)
    fid_method: str = "eigh"
    fid_max_images: int = 256
    pr_k: int = 3
    diversity_pairs: int = 200
    memorization_percentile: float = 5.0
    memorization_autoencoder: bool = True
    feature_classifier: bool = True
    gradcam_images: int = 6
    progress: bool = True
    deltas: Sequence[Sequence[str]] = field(default_factory=lambda: [list(d) for d in DEFAULT_DELTAS])
    primary: Sequence[str] | None = None
    ratios: Sequence[Sequence[str]] = field(default_factory=lambda: [["syn", "real"]])
    ratio_target: float = 0.95
    save_classifiers: bool = False

    def __post_init__(self) -> None:
        self.arms = [str(a) for a in self.arms]
        for a in self.arms:
            parse_arm(a)
        if len(set(self.arms)) != len(self.arms) or not self.arms:
            raise ValueError(f"EvaluationConfig: arms must be a non-empty list of distinct names, got {self.arms}.")
        self.seeds = [int(s) for s in self.seeds]
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"EvaluationConfig: seeds must be distinct and non-empty, got {self.seeds}.")
        if self.k_per_class is not None and int(self.k_per_class) < 1:
            raise ValueError(f"EvaluationConfig: k_per_class must be >= 1 or None, got {self.k_per_class}.")
        if self.synthetic_ratio < 0:
            raise ValueError(f"EvaluationConfig: synthetic_ratio must be >= 0, got {self.synthetic_ratio}.")
        if self.synthetic_class_ratios is not None:
            self.synthetic_class_ratios = [float(r) for r in self.synthetic_class_ratios]
            if not self.synthetic_class_ratios or min(self.synthetic_class_ratios) < 0:
                raise ValueError(
                    "EvaluationConfig: synthetic_class_ratios must be a non-empty list of ratios >= 0, got "
                    f"{self.synthetic_class_ratios}."
                )
        if not 0.0 < float(self.filter_keep_fraction) <= 1.0:
            raise ValueError(
                f"EvaluationConfig: filter_keep_fraction must be in (0, 1], got {self.filter_keep_fraction}."
            )
        if int(self.realism_k) < 1:
            raise ValueError(f"EvaluationConfig: realism_k must be >= 1, got {self.realism_k}.")
        if not 0.0 < float(self.near_copy_percentile) < 100.0:
            raise ValueError(
                f"EvaluationConfig: near_copy_percentile must be in (0, 100), got {self.near_copy_percentile}."
            )
        for name in ("pretrain_steps", "finetune_steps"):
            if getattr(self, name) is not None and int(getattr(self, name)) < 1:
                raise ValueError(f"EvaluationConfig: {name} must be >= 1 or None, got {getattr(self, name)}.")
        if self.finetune_lr is not None and not float(self.finetune_lr) > 0:
            raise ValueError(f"EvaluationConfig: finetune_lr must be > 0 or None, got {self.finetune_lr}.")
        if self.max_steps < 1 or self.batch_size < 1 or self.val_interval < 1 or self.n_boot < 1:
            raise ValueError(
                "EvaluationConfig: max_steps, batch_size, val_interval and n_boot must be >= 1, got "
                f"{self.max_steps}, {self.batch_size}, {self.val_interval}, {self.n_boot}."
            )
        if self.fid_method not in ("sqrtm", "eigh"):
            raise ValueError(f"EvaluationConfig: fid_method must be 'sqrtm' or 'eigh', got {self.fid_method!r}.")
        self.crop_scale = tuple(float(c) for c in self.crop_scale)
        self.flip_axes = [int(a) for a in self.flip_axes]
        if self.gamma_range is not None:
            self.gamma_range = [float(g) for g in self.gamma_range]
            if len(self.gamma_range) != 2 or not 0.0 < self.gamma_range[0] <= self.gamma_range[1]:
                raise ValueError(
                    f"EvaluationConfig: gamma_range must be [min, max] with 0 < min <= max, or None, got "
                    f"{self.gamma_range}."
                )
        self.fid_feature_dims = [int(d) for d in self.fid_feature_dims]
        self.deltas = [list(d) for d in self.deltas]
        if any(len(d) != 2 for d in self.deltas):
            raise ValueError(f"EvaluationConfig: deltas must be [arm_a, arm_b] pairs, got {self.deltas}.")
        if self.primary is not None:
            self.primary = [str(a) for a in self.primary]
            if len(self.primary) != 2 or not set(self.primary) <= set(self.arms) or self.primary[0] == self.primary[1]:
                raise ValueError(
                    f"EvaluationConfig: primary must be two different run arms [arm_a, arm_b] (arms {self.arms}), "
                    f"got {self.primary}."
                )
            if self.primary not in self.deltas:
                self.deltas = [self.primary, *self.deltas]
        self.ratios = [[str(a) for a in r] for r in self.ratios]
        if any(len(r) != 2 or r[0] == r[1] for r in self.ratios):
            raise ValueError(f"EvaluationConfig: ratios must be [arm_a, arm_b] pairs of two arms, got {self.ratios}.")
        if not float(self.ratio_target) > 0:
            raise ValueError(f"EvaluationConfig: ratio_target must be > 0, got {self.ratio_target}.")

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


# ----------------------------------------------------------------------------------------------------------- data


class _ToTensord:
    """Default transform for in-memory items: array/tensor ``(C,H,W)`` or ``(H,W)`` -> float32 ``(C,H,W)`` in [0, 1]
    (integer arrays are divided by their dtype's max)."""

    def __call__(self, item: Mapping) -> dict:
        img = item["image"]
        if isinstance(img, str | Path):
            raise ValueError(
                "run_evaluation: items hold file paths; pass transform=monai_medienet.transforms.image_preprocessing("
                "image_size=...) to load them."
            )
        arr = np.asarray(img)
        if np.issubdtype(arr.dtype, np.integer):
            arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
        t = torch.as_tensor(arr, dtype=torch.float32)
        if t.ndim == 2:
            t = t.unsqueeze(0)
        return {**item, "image": t}


def _as_items(images: torch.Tensor, labels: np.ndarray) -> list[dict]:
    return [{"image": images[i], "label": int(labels[i]), "index": i} for i in range(len(labels))]


def _subsample_indices(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    from monai_medienet.data import subsample_per_class

    items = [{"label": int(lb), "i": i} for i, lb in enumerate(labels)]
    return np.asarray([it["i"] for it in subsample_per_class(items, int(k), seed=seed)], dtype=np.int64)


def _default_augmentation(cfg: EvaluationConfig, image_size: Sequence[int], seed: int) -> Callable:
    from monai_medienet.transforms import classic_augmentation

    return classic_augmentation(
        spatial_dims=2,
        rotate_degrees=cfg.rotate_degrees,
        crop_scale=cfg.crop_scale,
        intensity_jitter=cfg.intensity_jitter,
        flip_axes=cfg.flip_axes,
        gamma_range=cfg.gamma_range,
        image_size=image_size,
        seed=seed,
    )


def augmentation_examples(
    aug_factory: Callable[[int], Callable], images: torch.Tensor, labels: np.ndarray, per_class: int = 2, draws: int = 5
) -> dict[str, np.ndarray]:
    """Real training images and random draws of the classic augmentation applied to them (for the report's figure).

    The augmentation is built afresh (``aug_factory(0)``), so the arms' augmentation streams are not touched.

    Args:
        aug_factory: seed -> augmentation (a dict transform on ``{"image": (C, H, W) tensor}``), as in
            :func:`run_evaluation`.
        images: ``(N, C, H, W)`` real training images in [0, 1].
        labels: ``(N,)`` integer labels.
        per_class: images shown per class (the first ones of each class).
        draws: augmented draws per image.

    Returns:
        ``{"images": (n, C, H, W), "labels": (n,), "augmented": (n, draws, C, H, W)}`` float32 / int arrays.
    """
    labels = np.asarray(labels)
    idx = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]).astype(np.int64)
    aug = _Augment(aug_factory(0))
    out = [[aug({"image": images[i], "label": 0})["image"].numpy() for _ in range(draws)] for i in idx]
    return {
        "images": images[idx].numpy().astype(np.float32),
        "labels": labels[idx],
        "augmented": np.asarray(out, dtype=np.float32).reshape(len(idx), draws, *images.shape[1:]),
    }


class _Augment:
    """Dict transform applying ``aug`` to items (copies, so cached tensors are not modified).

    MONAI's ``MetaTensor`` tracking is switched off for the call (:func:`~monai_medienet.utils.meta_tracking`):
    the images are plain tensors and the outputs are plain tensors, so tracking only costs time (bench case
    ``augment``: 2.3x the images/s at 32 px on one CPU thread without it; bitwise the same pixels).
    """

    def __init__(self, aug: Callable) -> None:
        self.aug = aug

    def __call__(self, item: Mapping) -> dict:
        with meta_tracking(False):
            out = self.aug({"image": item["image"].clone()})
        img = out["image"]
        img = img.as_tensor() if hasattr(img, "as_tensor") else torch.as_tensor(img)
        return {"image": img.float(), "label": item["label"]}


def _resolve_real(real: Any, classes: Sequence[str] | None) -> tuple[dict[str, list[dict]], list[str]]:
    splits = getattr(real, "splits", None)
    if splits is None:
        if not isinstance(real, Mapping):
            raise ValueError(
                "run_evaluation: real must be a DataSource (with .splits/.classes) or a dict of splits, got "
                f"{type(real).__name__}."
            )
        splits = real
    missing = [s for s in ("train", "val", "test") if s not in splits]
    if missing:
        raise ValueError(f"run_evaluation: the real data lacks split(s) {missing}; have {sorted(splits)}.")
    cls = list(classes) if classes is not None else getattr(real, "classes", None)
    if cls is None:
        n = 1 + max(int(it["label"]) for s in ("train", "val", "test") for it in splits[s])
        cls = [str(i) for i in range(max(n, 2))]
    return {s: list(splits[s]) for s in ("train", "val", "test")}, list(cls)


def _stratified_cap(labels: np.ndarray, n_max: int, seed: int) -> np.ndarray:
    """At most ``n_max`` indices, proportional per class, seeded."""
    if len(labels) <= n_max:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        take = max(1, int(round(n_max * len(idx) / len(labels))))
        out.extend(rng.choice(idx, size=min(take, len(idx)), replace=False))
    return np.sort(np.asarray(out[:n_max] if len(out) > n_max else out, dtype=np.int64))


# ------------------------------------------------------------------------------------------------------ protocol


def _as_checkpoint_list(checkpoint: Any) -> list[Any]:
    """``None`` -> ``[]``; one path or loaded dict -> ``[it]``; a list/tuple of them -> a list."""
    if checkpoint is None:
        return []
    if isinstance(checkpoint, str | Path | Mapping):
        return [checkpoint]
    if isinstance(checkpoint, Sequence) and all(isinstance(c, str | Path | Mapping) for c in checkpoint):
        return list(checkpoint)
    raise ValueError(
        "run_evaluation: generator_checkpoint must be a path, a loaded checkpoint dict or a list of them, "
        f"got {type(checkpoint).__name__}."
    )


def _generator_round_trip(
    generators: Sequence[str | Path | Mapping[str, Any]], device: torch.device
) -> tuple[torch.nn.Module | None, str]:
    """The autoencoder round trip of the one generator checkpoint, or ``None`` and the reason it cannot be used."""
    from monai_medienet.engines import load_autoencoder
    from monai_medienet.metrics import AutoencoderRoundTrip

    if len(generators) != 1:
        return None, f"needs exactly one generator checkpoint, got {len(generators)}"
    try:
        return AutoencoderRoundTrip(load_autoencoder(generators[0], device=device)), ""
    except KeyError as e:
        return None, f"the generator checkpoint holds no autoencoder ({e})"


def _near_copy_screen(
    cfg: EvaluationConfig,
    gen_round_trip: tuple[torch.nn.Module | None, str],
    device: torch.device,
    x_sy: torch.Tensor,
    y_sy: np.ndarray,
    x_tr: torch.Tensor,
    x_va: torch.Tensor,
    num_classes: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The ``screen`` token's pool: indices of the synthetic images that are not near copies, their distances, summary.

    The threshold comes from the validation split (held-out images from the generator's training distribution; the
    test split stays untouched), the distances are measured after the generator's autoencoder round trip when
    :func:`_generator_round_trip` gave one (``gen_round_trip``), else in pixels.
    """
    round_trip, reason = gen_round_trip
    screen = NearCopyFilter(
        x_tr, x_va, percentile=cfg.near_copy_percentile, feature_extractor=round_trip, batch_size=cfg.batch_size,
        device=device, progress=cfg.progress,
    )  # fmt: skip
    scores, _ = screen.nearest(x_sy)
    near = screen.is_near_copy(scores)
    kept = np.flatnonzero(~near)
    space = "the generator's autoencoder round trip" if round_trip is not None else f"pixels ({reason})"
    return (
        kept,
        scores,
        {
            "criterion": "near_copy",
            "score": f"distance to the nearest generator-training image, {space}",
            "space": screen.space_name,
            "threshold": screen.threshold,
            "percentile": screen.percentile,
            "n_pool_per_class": np.bincount(y_sy, minlength=num_classes).tolist(),
            "n_kept_per_class": np.bincount(y_sy[kept], minlength=num_classes).tolist(),
            "n_dropped": int(near.sum()),
            "median_score_pool": float(np.median(scores)),
            "median_score_kept": float(np.median(scores[kept])) if len(kept) else float("nan"),
            "fraction_pool_below_threshold": float(np.mean(near)),
            "classifier": f"near-copy screen ({cfg.near_copy_percentile:g}th pct of validation -> train distances)",
        },
    )


def _round_trip_memorization(
    cfg: EvaluationConfig,
    gen_round_trip: tuple[torch.nn.Module | None, str],
    device: torch.device,
    x_sy: torch.Tensor,
    x_tr: torch.Tensor,
    x_va: torch.Tensor,
    x_te: torch.Tensor,
) -> dict[str, Any]:
    """The memorisation check (and data-copying test) after the generator's autoencoder round trip of every image."""
    round_trip, reason = gen_round_trip
    if round_trip is None:
        return {"skipped": reason}
    desc = "memorisation: autoencoder round trip of"
    r_tr, r_va, r_te, r_sy = (
        extract_features(round_trip, x, cfg.batch_size, device, progress=cfg.progress, desc=f"{desc} {name}")
        for x, name in ((x_tr, "real train"), (x_va, "real val"), (x_te, "real test"), (x_sy, "synthetic"))
    )
    res = memorization_check(
        r_sy, r_tr, r_te, cfg.memorization_percentile, space="autoencoder", exact_tol=round_trip.exact_tol
    )
    out = res.summary()
    out["data_copying"] = _data_copying(r_sy, r_tr, r_va)
    out["extractor"] = "round trip through the generator's autoencoder (encoder mean, decoder, clamp to [0, 1])"
    return out


def run_evaluation(
    real: Any,
    synthetic_items: Sequence[dict] | None = None,
    transform: Callable | None = None,
    *,
    output_dir: str | Path | None = None,
    config: EvaluationConfig | Mapping[str, Any] | None = None,
    generator_checkpoint: str | Path | Mapping[str, Any] | Sequence[str | Path | Mapping[str, Any]] | None = None,
    augmentation: Callable[[int], Callable] | None = None,
    classes: Sequence[str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Run the augmentation protocol and (with ``output_dir``) write ``results.json``, ``report.md`` and plots.

    Args:
        real: a ``monai_medienet.data.DataSource`` (``.splits``, ``.classes``) or ``{"train", "val", "test"}`` lists of
            ``{"image": path | array, "label": int}`` dicts.
        synthetic_items: synthetic ``{"image", "label"}`` dicts (e.g. a manifest source's items); needed by arms with
            ``syn`` and by the fidelity metrics.
        transform: deterministic MONAI transform from an item to ``{"image": float32 (C,H,W) in [0,1], "label"}``
            (e.g. ``monai_medienet.transforms.image_preprocessing(image_size=(28, 28))``); ``None`` handles in-memory
            arrays/tensors (integer dtypes divided by their max).
        output_dir: where to write the report (``None``: no files).
        config: an :class:`EvaluationConfig` or a dict of its fields.
        generator_checkpoint: path or loaded dict holding ``train_fingerprints`` and ``classes``, or a list of them
            (the generators of a pooled pool, :func:`monai_medienet.io.pool_manifests`, all trained on the same
            images); evaluation is refused (``ValueError``) when their training images intersect the val/test images,
            when the generators were trained on different images, or when a synthetic item records a
            ``checkpoint_sha256`` that matches none of the given checkpoint files.
        augmentation: ``seed -> dict transform`` factory for the ``aug`` arms (default: classic augmentation from
            ``monai_medienet.transforms.classic_augmentation`` with the config's settings).
        classes: class names (default ``real.classes`` or ``"0", "1", ...``).
        **overrides: any :class:`EvaluationConfig` field (bundle-friendly: ``arms=[...], seeds=[...], max_steps=...``).

    Returns:
        The results dict (see :func:`monai_medienet.evaluation.write_report`); its ``"artifacts"`` entry holds the
        arrays behind the figures and is not written to JSON.

    Raises:
        ValueError: unknown config keys, a leaking generator, class mismatch, arms needing synthetic data without it.
    """
    t0 = time.time()
    if config is None:
        cfg = EvaluationConfig(**overrides)
    elif isinstance(config, EvaluationConfig):
        cfg = dataclasses.replace(config, **overrides) if overrides else config
    else:
        cfg = EvaluationConfig(**{**dict(config), **overrides})
    device = resolve_device(cfg.device)
    splits, class_names = _resolve_real(real, classes)
    num_classes = len(class_names)
    class_ratios = None
    if cfg.synthetic_class_ratios is not None:
        if len(cfg.synthetic_class_ratios) != num_classes:
            raise ValueError(
                f"run_evaluation: synthetic_class_ratios {cfg.synthetic_class_ratios} must have one ratio per class "
                f"({num_classes}: {class_names})."
            )
        class_ratios = dict(enumerate(cfg.synthetic_class_ratios))
    needs_syn = any(parse_arm(a)["syn"] for a in cfg.arms)
    synthetic_items = list(synthetic_items or [])
    if needs_syn and not synthetic_items:
        raise ValueError(f"run_evaluation: arms {cfg.arms} need synthetic images but synthetic_items is empty.")
    transform = transform if transform is not None else _ToTensord()

    # ---- leakage check and the generator's training set
    leakage: dict[str, Any] = {"checked": False}
    gen_train_fps: set[str] | None = None
    from monai_medienet.data import dataset_fingerprints, dataset_hash, file_sha256

    fps_val = dataset_fingerprints(splits["val"], progress=cfg.progress)
    fps_test = dataset_fingerprints(splits["test"], progress=cfg.progress)
    # which images select and which are read out, as ordered hashes (merge_evaluations pairs predictions by position)
    split_hashes = {
        "val": dataset_hash(splits["val"], fingerprints=fps_val, ordered=True),
        "test": dataset_hash(splits["test"], fingerprints=fps_test, ordered=True),
    }
    generators = _as_checkpoint_list(generator_checkpoint)
    if generators:
        training = []
        for i, ckpt in enumerate(generators):
            prov = load_generator_provenance(ckpt)
            training.append(prov["training"])
            if prov["classes"] is not None and list(prov["classes"]) != class_names:
                raise ValueError(
                    f"run_evaluation: generator classes {prov['classes']} differ from the real data's {class_names}."
                )
            fps = set(prov["train_fingerprints"])
            if gen_train_fps is None:  # the others must share these images, so one leakage check covers them all
                leakage = check_generator_leakage(fps, fps_val, fps_test)
                gen_train_fps = fps
            elif fps != gen_train_fps:
                raise ValueError(
                    f"run_evaluation: generator {i} ({ckpt if not isinstance(ckpt, Mapping) else 'a loaded dict'}) "
                    "was trained on other images than generator 0; the real arms train on one generator's images, "
                    "so every generator of a pool must share them."
                )
        leakage["checked"] = True
        leakage["num_generators"] = len(generators)
        leakage["generator_training"] = training
        if all(not isinstance(c, Mapping) for c in generators):
            leakage["synthetic_sources"] = check_synthetic_sources(
                synthetic_items, [file_sha256(c) for c in generators]
            )
        else:
            leakage["synthetic_sources"] = {"verified": False, "reason": "a generator was given as a loaded dict"}

    # ---- materialise
    x_tr_all, y_tr_all = materialise(splits["train"], transform, "real train", cfg.progress)
    x_va, y_va = materialise(splits["val"], transform, "real val", cfg.progress)
    x_te, y_te = materialise(splits["test"], transform, "real test", cfg.progress)
    train_sel = np.arange(len(y_tr_all))
    if gen_train_fps is not None:
        fps = dataset_fingerprints(splits["train"])
        # one index per fingerprint: a dataset can hold the same image twice (PneumoniaMNIST's train split has 18
        # duplicate pairs), and the generator saw it once
        first: dict[str, int] = {}
        hits = [(i, f) for i, f in enumerate(fps) if f in gen_train_fps]
        for i, f in hits:
            first.setdefault(f, i)
        match = np.asarray(sorted(first.values()), dtype=np.int64)
        leakage["generator_train_found_in_train_split"] = int(len(match))
        leakage["train_split_duplicates_skipped"] = len(hits) - len(match)
        if len(match) > 0:
            train_sel = match
            if cfg.k_per_class is not None and any(
                np.sum(y_tr_all[match] == c) != cfg.k_per_class for c in range(num_classes)
            ):
                warnings.warn(
                    "run_evaluation: the generator's training images per class "
                    f"{np.bincount(y_tr_all[match], minlength=num_classes).tolist()} "
                    f"differ from k_per_class={cfg.k_per_class}; using the generator's images.",
                    stacklevel=2,
                )
        elif cfg.k_per_class is not None:
            train_sel = _subsample_indices(y_tr_all, cfg.k_per_class, cfg.subsample_seed)
    elif cfg.k_per_class is not None:
        train_sel = _subsample_indices(y_tr_all, cfg.k_per_class, cfg.subsample_seed)
    x_tr, y_tr = x_tr_all[train_sel], y_tr_all[train_sel]
    if synthetic_items:
        x_sy, y_sy = materialise(synthetic_items, transform, "synthetic", cfg.progress)
        if x_sy.shape[1:] != x_tr.shape[1:]:
            raise ValueError(
                f"run_evaluation: synthetic images {tuple(x_sy.shape[1:])} and real {tuple(x_tr.shape[1:])} differ."
            )
        if y_sy.max() >= num_classes:
            raise ValueError(f"run_evaluation: synthetic label {y_sy.max()} outside [0, {num_classes}).")
    else:
        x_sy, y_sy = x_tr[:0], y_tr[:0]
    in_ch, image_size = int(x_tr.shape[1]), tuple(int(s) for s in x_tr.shape[2:])
    logger.info("real train %s, val %s, test %s, synthetic %s", len(y_tr), len(y_va), len(y_te), len(y_sy))

    real_items, val_items, test_items = _as_items(x_tr, y_tr), _as_items(x_va, y_va), _as_items(x_te, y_te)
    syn_items = _as_items(x_sy, y_sy)
    aug_factory = augmentation or (lambda s: _default_augmentation(cfg, image_size, s))

    # ---- arms x seeds
    from monai_medienet.data import mix_real_synthetic

    arm_results: dict[str, Any] = {}
    probs: dict[str, list[np.ndarray]] = {}
    val_probs: dict[str, list[np.ndarray]] = {}  # the kept weights on the real validation set (selection criteria)
    keep: dict[str, torch.nn.Module] = {}
    n_runs = len(cfg.arms) * len(cfg.seeds)
    run_i = 0

    def _train(
        train_items: list[dict],
        aug: bool,
        seed: int,
        desc: str,
        init: torch.nn.Module | None = None,
        max_steps: int | None = None,
        lr: float | None = None,
    ):
        """One classifier run; ``init``: start from this network (fine-tuning) instead of a fresh one."""
        tf = _Augment(aug_factory(seed)) if aug else None
        train_ds = Dataset(train_items, transform=tf) if tf is not None else Dataset(train_items)
        torch.manual_seed(seed)
        net = init if init is not None else build_classifier(cfg.classifier, in_ch, num_classes, min(image_size))
        return train_classifier(
            net,
            train_ds,
            val_items,
            num_classes,
            max_steps=cfg.max_steps if max_steps is None else max_steps,
            batch_size=cfg.batch_size,
            lr=cfg.lr if lr is None else lr,
            weight_decay=cfg.weight_decay,
            val_interval=cfg.val_interval,
            patience=cfg.patience,
            seed=seed,
            device=device,
            bf16=cfg.bf16,
            num_workers=cfg.num_workers,
            progress=cfg.progress,
            desc=desc,
            bn_recalibration_batches=cfg.bn_recalibration_batches,
        )

    syn_filter: dict[str, Any] = {}
    artifacts_filter: dict[str, Any] = {}
    filtered_items: dict[str, list[dict]] = {}
    filter_net: torch.nn.Module | None = None
    filter_desc = ""
    gen_round_trip: tuple[torch.nn.Module | None, str] | None = None  # loaded once, by the first user
    for arm in cfg.arms:
        spec = parse_arm(arm)
        token = next((t for t in FILTER_TOKENS if spec[t]), None)
        if token == "screen" and token not in filtered_items:
            gen_round_trip = gen_round_trip or _generator_round_trip(generators, device)
            kept, scores, summary = _near_copy_screen(cfg, gen_round_trip, device, x_sy, y_sy, x_tr, x_va, num_classes)
            empty = [class_names[c] for c in range(num_classes) if not np.any(y_sy[kept] == c)]
            if empty:
                raise ValueError(
                    f"run_evaluation: arm {arm!r}: the near-copy screen dropped every synthetic image of {empty}."
                )
            filtered_items[token] = [syn_items[i] for i in kept]
            syn_filter[token] = summary
            logger.info(
                "near-copy screen (%s): keeps %d of %d synthetic images (per class %s), threshold %.4g = %gth "
                "percentile of the validation images' distances to the training images",
                summary["space"], len(kept), len(y_sy), summary["n_kept_per_class"], summary["threshold"],
                summary["percentile"],
            )  # fmt: skip
            artifacts_filter[token] = {"scores": scores, "kept": kept}
        elif token is not None and token not in filtered_items:
            # the filter classifier: the first seed's real+aug (else real) network when already trained, else one
            # trained here on the real training images with augmentation (never on val/test labels)
            if filter_net is None:
                src = next((a for a in ("real+aug", "real") if a in keep), None)
                if src is not None:
                    filter_net, filter_desc = keep[src], f"the {src!r} classifier of seed {cfg.seeds[0]}"
                else:
                    filter_net = _train(list(real_items), True, cfg.seeds[0], "filter classifier (real+aug)").network
                    filter_desc = f"a real+aug classifier trained for the filter (seed {cfg.seeds[0]})"
            criterion = FILTER_TOKENS[token]
            kept, scores = filter_synthetic(
                filter_net,
                x_sy,
                y_sy,
                cfg.filter_keep_fraction,
                cfg.batch_size,
                device,
                cfg.bf16,
                criterion=criterion,
                real_images=x_tr,
                real_labels=y_tr,
                k=cfg.realism_k,
            )
            filtered_items[token] = [syn_items[i] for i in kept]
            syn_filter[token] = _filter_summary(criterion, scores, kept, y_sy, num_classes, cfg)
            syn_filter[token]["classifier"] = filter_desc
            artifacts_filter[token] = {"scores": scores, "kept": kept}
        probs[arm], runs = [], []
        pool = filtered_items[token] if token is not None else syn_items
        if spec["pretrain"]:
            # stage 1 trains on the whole (filtered) pool, tagged as mix_real_synthetic tags synthetic items
            if not pool:
                raise ValueError(f"run_evaluation: arm {arm!r} has an empty synthetic pool to pre-train on.")
            pre_pool = [{**it, "synthetic": 1} for it in pool]
            pre_steps = cfg.pretrain_steps if cfg.pretrain_steps is not None else cfg.max_steps
        for seed in cfg.seeds:
            run_i += 1
            n_syn_total = 0  # synthetic images drawn for this run (ratio or per-class ratios)
            pretrained, pre = None, None
            if spec["pretrain"]:  # stage 2 below fine-tunes on the real images
                desc = f"[{run_i}/{n_runs}] {arm} seed {seed} (pre)"
                pre = _train(pre_pool, spec["aug"], seed, desc, max_steps=pre_steps)
                pretrained, n_syn_total = pre.network, len(pre_pool)
                train_items = list(real_items)
            elif spec["syn"]:
                mixed = mix_real_synthetic(
                    real_items,
                    pool,
                    ratio=cfg.synthetic_ratio,
                    seed=seed,
                    class_balanced=cfg.class_balanced,
                    class_ratios=class_ratios,
                )
                n_syn_total = sum(1 for it in mixed if it["synthetic"] == 1)
                train_items = mixed if spec["real"] else [it for it in mixed if it["synthetic"] == 1]
            else:
                train_items = list(real_items)
            if not train_items:
                raise ValueError(f"run_evaluation: arm {arm!r} has no training images (synthetic_ratio=0?).")
            desc = f"[{run_i}/{n_runs}] {arm} seed {seed}"
            fine_steps = cfg.finetune_steps if pre is not None else None  # None: max_steps
            trained = _train(
                train_items, spec["aug"], seed, desc, init=pretrained, max_steps=fine_steps, lr=cfg.finetune_lr
            )
            p, lab = predict_proba(trained.network, test_items, cfg.batch_size, device, cfg.bf16)
            if not np.array_equal(lab, y_te):
                raise RuntimeError("run_evaluation: test order changed during prediction.")
            probs[arm].append(p)
            p_val, lab_val = predict_proba(trained.network, val_items, cfg.batch_size, device, cfg.bf16)
            val_probs.setdefault(arm, []).append(p_val)
            n_syn_mixed = sum(1 for it in train_items if it.get("synthetic") == 1)
            # a pretrain arm saw its synthetic images in the pre-training stage
            n_syn_used = n_syn_total if pre is not None else n_syn_mixed
            runs.append(
                {
                    "seed": seed,
                    "best_val_auroc": trained.best_val_auroc,
                    "best_step": trained.best_step,
                    "steps_run": trained.steps_run,
                    "val_loss": cross_entropy(lab_val, p_val),
                    "n_train_real": len(train_items) - n_syn_mixed,
                    "n_train_synthetic": n_syn_used,
                    "n_synthetic_requested": n_syn_total,
                    "val_history": [[int(s), float(v)] for s, v in trained.history],
                }
            )
            if pre is not None:
                runs[-1]["pretrain"] = {
                    "max_steps": int(pre_steps),
                    "finetune_max_steps": int(cfg.max_steps if cfg.finetune_steps is None else cfg.finetune_steps),
                    "finetune_lr": float(cfg.lr if cfg.finetune_lr is None else cfg.finetune_lr),
                    "n_train_synthetic": n_syn_total,
                    "best_val_auroc": pre.best_val_auroc,
                    "best_step": pre.best_step,
                    "steps_run": pre.steps_run,
                    "val_history": [[int(s), float(v)] for s, v in pre.history],
                }
            if seed == cfg.seeds[0]:
                keep[arm] = trained.network.cpu()
        arm_results[arm] = {"ingredients": spec, "runs": runs}

    # ---- statistics
    idx = bootstrap_indices(len(y_te), cfg.n_boot, seed=BOOTSTRAP_SEED, strata=y_te)
    for arm in cfg.arms:
        arm_results[arm]["metrics"] = bootstrap_arm(y_te, probs[arm], confidence=cfg.confidence, indices=idx)
    deltas: dict[str, Any] = {}
    for a, b in cfg.deltas:
        if a in probs and b in probs:
            deltas[f"{a} - {b}"] = paired_bootstrap_difference(
                y_te, probs[a], probs[b], confidence=cfg.confidence, indices=idx
            )
    multiplicity = adjust_for_multiplicity(deltas, " - ".join(cfg.primary) if cfg.primary else None)
    ratios = {
        f"{a} / {b}": {
            "numerator": [a],
            "denominator": b,
            "metrics": bootstrap_ratio(
                y_te, probs[a], probs[b], threshold=cfg.ratio_target, confidence=cfg.confidence, indices=idx
            ),
        }
        for a, b in cfg.ratios
        if a in probs and b in probs
    }

    # ---- fidelity / diversity / memorisation / explanations
    real_arm = next((a for a in cfg.arms if parse_arm(a) == {**dict.fromkeys(ARM_TOKENS, False), "real": True}), None)
    real_arm = real_arm or next((a for a in cfg.arms if not parse_arm(a)["syn"]), None)
    syn_arm = next((a for a in cfg.arms if parse_arm(a)["syn"] and parse_arm(a)["real"]), None)
    fidelity: dict[str, Any] = {}
    memo: dict[str, Any] = {}
    artifacts: dict[str, Any] = {
        "test_labels": y_te,
        "probs": probs,
        "val_labels": y_va,
        "val_probs": val_probs,
        "real_train_images": x_tr,
        "real_train_labels": y_tr,
        "synthetic_images": x_sy,
        "synthetic_labels": y_sy,
    }
    if any(parse_arm(a)["aug"] for a in cfg.arms):
        artifacts["augmentation_examples"] = augmentation_examples(aug_factory, x_tr, y_tr)
    if syn_filter:
        artifacts["synthetic_filter"] = artifacts_filter
    # in-domain features: the first arm without synthetic data, else the filter classifier (also real data only)
    feat_model, feat_desc = None, None
    if real_arm is not None:
        feat_model, feat_desc = keep[real_arm], f"the {real_arm!r} classifier (first seed)"
    elif filter_net is not None:
        feat_model, feat_desc = filter_net, filter_desc
    elif cfg.feature_classifier and len(y_sy) > 1:
        # same recipe and seed as a 'real' arm would use, so the features match a run that has that arm
        feat_model = _train(list(real_items), False, cfg.seeds[0], "feature classifier (real)").network.cpu()
        feat_desc = f"a 'real' classifier trained for the in-domain features (seed {cfg.seeds[0]})"
    feat_net = ClassifierFeatureExtractor(feat_model) if feat_model is not None else None
    if len(y_sy) > 1:
        f_tr = f_te = f_va = f_sy = None
        if feat_net is not None:
            f_tr = extract_features(feat_net, x_tr, cfg.batch_size, device)
            f_te = extract_features(feat_net, x_te, cfg.batch_size, device)
            f_va = extract_features(feat_net, x_va, cfg.batch_size, device)
            f_sy = extract_features(feat_net, x_sy, cfg.batch_size, device)
        if cfg.fidelity:
            fidelity = _fidelity(cfg, device, x_sy, y_sy, x_tr, y_tr, x_va, x_te, y_te, class_names, f_sy, f_va, f_te)
            if "in_domain" in fidelity:
                fidelity["in_domain"]["extractor"] = f"penultimate layer of {feat_desc}"
            if feat_model is not None:
                p_sy, _ = predict_proba(feat_model, syn_items, cfg.batch_size, device, cfg.bf16)
                if real_arm is not None:  # the real arm's first-seed test / validation predictions are this network's
                    p_te, p_va = probs[real_arm][0], val_probs[real_arm][0]
                else:
                    p_te, _ = predict_proba(feat_model, test_items, cfg.batch_size, device, cfg.bf16)
                    p_va, _ = predict_proba(feat_model, val_items, cfg.batch_size, device, cfg.bf16)
                on_val = label_fidelity(p_sy, y_sy, class_names, p_va, y_va)
                # the validation split comes from the generator's training distribution; the test split may not
                fidelity["label"] = {
                    "classifier": feat_desc,
                    "reference_split": "test",
                    **label_fidelity(p_sy, y_sy, class_names, p_te, y_te),
                    "reference_validation": on_val["reference"],
                    "gap_validation": on_val["gap"],
                }
        pix = memorization_check(x_sy, x_tr, x_te, cfg.memorization_percentile, space="pixel")
        memo["pixel"] = pix.summary()
        memo["pixel"]["data_copying"] = _data_copying(x_sy, x_tr, x_va)
        artifacts["nn_pixel"] = {"distance": pix.syn_nn_distance, "index": pix.syn_nn_index}
        if f_sy is not None:
            feat = memorization_check(f_sy, f_tr, f_te, cfg.memorization_percentile, space="feature")
            memo["feature"] = feat.summary()
            memo["feature"]["data_copying"] = _data_copying(f_sy, f_tr, f_va)
            memo["feature"]["extractor"] = f"penultimate layer of {feat_desc}"
        if cfg.memorization_autoencoder:
            gen_round_trip = gen_round_trip or _generator_round_trip(generators, device)
            memo["autoencoder"] = _round_trip_memorization(cfg, gen_round_trip, device, x_sy, x_tr, x_va, x_te)
        flagged = sorted(
            set().union(*(memo.get(sp, {}).get("flagged_indices", []) for sp in ("pixel", "feature", "autoencoder")))
        )
        memo["flagged_union"] = flagged
    if cfg.gradcam_images > 0 and real_arm is not None:
        shown = [real_arm] + ([syn_arm] if syn_arm is not None else [])
        sel = select_explanation_images(y_te, cfg.gradcam_images, seed=0)
        cams = gradcam_maps({a: keep[a] for a in shown}, x_te[sel], y_te[sel], device=device)
        artifacts["gradcam"] = {"images": x_te[sel].numpy(), "labels": y_te[sel], "maps": cams, "indices": sel}

    results = {
        "settings": {
            **cfg.to_dict(),
            "classes": class_names,
            "device": str(device),
            "image_shape": [in_ch, *image_size],
            "n_train_real": int(len(y_tr)),
            "n_train_real_per_class": np.bincount(y_tr, minlength=num_classes).tolist(),
            "n_val": int(len(y_va)),
            "n_test": int(len(y_te)),
            "split_hashes": split_hashes,
            "n_test_per_class": np.bincount(y_te, minlength=num_classes).tolist(),
            "n_synthetic_pool": int(len(y_sy)),
            "n_synthetic_pool_per_class": np.bincount(y_sy, minlength=num_classes).tolist() if len(y_sy) else [],
            "output_head": f"{num_classes} logits + cross-entropy; binary score = softmax probability of class 1",
            "decision_rule": "argmax (0.5 threshold for 2 classes); class 1 positive for sensitivity/specificity",
            "bootstrap": (
                f"{cfg.n_boot} stratified (by class) resamples of the {len(y_te)} test images; per resample the "
                "metric of every seed is computed on the same images and averaged over seeds; percentile "
                f"{int(cfg.confidence * 100)}% interval; differences pair the same images and the same seeds"
            ),
            "versions": _versions(),
        },
        "seeds": list(cfg.seeds),
        "leakage_check": leakage,
        "arms": arm_results,
        "deltas": deltas,
        "multiplicity": multiplicity,
        "ratios": ratios,
        "fidelity": fidelity,
        "memorization": memo,
        "synthetic_filter": syn_filter,
        "runtime_seconds": round(time.time() - t0, 1),
        "artifacts": artifacts,
    }
    if cfg.save_classifiers and output_dir is not None:
        results["classifier_checkpoints"] = _save_kept_classifiers(
            keep, arm_results, cfg, in_ch, class_names, image_size, output_dir,
            preprocessing=getattr(transform, "preprocessing_settings", None),
        )  # fmt: skip
    if output_dir is not None:
        from .report import write_report

        results["files"] = write_report(results, output_dir)
    return results


def _save_kept_classifiers(
    keep: Mapping[str, torch.nn.Module],
    arm_results: Mapping[str, Any],
    cfg: EvaluationConfig,
    in_channels: int,
    classes: Sequence[str],
    image_size: Sequence[int],
    output_dir: str | Path,
    preprocessing: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Write the first seed's classifier of every arm to ``<output_dir>/classifiers/<arm>.pt``; returns the paths.

    ``preprocessing`` (the ``preprocessing_settings`` of :func:`~monai_medienet.transforms.image_preprocessing`) is
    stored as ``extra["preprocessing"]`` so that a server feeds the network as it was trained.
    """
    from .export import save_classifier

    paths = {}
    for arm, network in keep.items():
        run = next((r for r in arm_results.get(arm, {}).get("runs", []) if r["seed"] == cfg.seeds[0]), {})
        extra = {"arm": arm, "seed": int(cfg.seeds[0]), "best_val_auroc": run.get("best_val_auroc")}
        if preprocessing is not None:
            extra["preprocessing"] = dict(preprocessing)
        path = save_classifier(
            network, Path(output_dir) / "classifiers" / f"{arm}.pt", arch=cfg.classifier, in_channels=in_channels,
            num_classes=len(classes), classes=classes, image_size=image_size, extra=extra,
        )  # fmt: skip
        paths[arm] = str(path)
    return paths


def filter_synthetic(
    network: torch.nn.Module,
    images: torch.Tensor,
    labels: np.ndarray,
    keep_fraction: float = 0.5,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    bf16: bool = False,
    *,
    criterion: str = "label",
    real_images: torch.Tensor | None = None,
    real_labels: np.ndarray | None = None,
    k: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep, per class, the synthetic images a real-data classifier rates best.

    ``criterion="label"``: a generator conditioned on class ``c`` sometimes draws an image that looks like another
    class; trained on, such images teach the classifier the generator's confusions. The score is the classifier's
    softmax probability of the image's *own* label.

    ``criterion="hard"``: the opposite of ``"label"`` among the label-consistent images. A guided generator tends to
    draw class caricatures, more typical than real held-out images of the class, which add no information near the
    decision boundary. The score is ``1 - p`` for images whose own-label probability ``p`` is >= 0.5 (least typical
    first) and ``p - 1`` (< 0, ranked last) for the images the classifier gives another label.

    ``criterion="realism"``: a blurred or broken image can still carry its label. The score is the realism score
    (:func:`monai_medienet.metrics.realism_score`) of the image against the real training images *of its class* in
    the classifier's penultimate-layer features: > 1 inside the real class manifold, larger = more typical.

    Either way the top ``ceil(keep_fraction * n_c)`` images of each class ``c`` are kept (ties broken by index).
    Ranking per class, not a fixed threshold, keeps the classes balanced.

    Args:
        network: a classifier trained on real training images only (logits ``(N, K)``; ``"realism"`` needs a final
            linear layer named ``fc``, as MONAI's ResNets have).
        images: synthetic images ``(N, C, H, W)`` float32 in [0, 1].
        labels: their conditioning labels ``(N,)``.
        keep_fraction: kept fraction per class, in ``(0, 1]``.
        batch_size: prediction batch size.
        device: compute device.
        bf16: bf16 autocast for the forward passes of ``"label"`` and ``"hard"``.
        criterion: ``"label"``, ``"hard"`` or ``"realism"``.
        real_images: ``"realism"``: real training images ``(M, C, H, W)``.
        real_labels: ``"realism"``: their labels ``(M,)``; every synthetic class needs more than ``k`` of them.
        k: ``"realism"``: k of the real k-NN radii.

    Returns:
        ``(kept_indices (M,) int64 sorted, score (N,) float64)``.

    Raises:
        ValueError: ``keep_fraction`` outside ``(0, 1]``, images/labels of different lengths, an unknown
            ``criterion``, or ``"realism"`` without enough real images of a class.
    """
    if not 0.0 < float(keep_fraction) <= 1.0:
        raise ValueError(f"filter_synthetic: keep_fraction must be in (0, 1], got {keep_fraction}.")
    if criterion not in ("label", "hard", "realism"):
        raise ValueError(f"filter_synthetic: criterion must be 'label', 'hard' or 'realism', got {criterion!r}.")
    labels = np.asarray(labels, dtype=np.int64)
    if len(images) != len(labels):
        raise ValueError(f"filter_synthetic: {len(images)} images but {len(labels)} labels.")
    if criterion in ("label", "hard"):
        p, _ = predict_proba(network, _as_items(images, labels), batch_size, device, bf16)
        score = p[np.arange(len(labels)), labels]
        if criterion == "hard":
            score = np.where(score >= 0.5, 1.0 - score, score - 1.0)
    else:
        if real_images is None or real_labels is None:
            raise ValueError("filter_synthetic: criterion 'realism' needs real_images and real_labels.")
        real_labels = np.asarray(real_labels, dtype=np.int64)
        ext = ClassifierFeatureExtractor(network)
        f_real = extract_features(ext, real_images, batch_size, device)
        f_syn = extract_features(ext, images, batch_size, device)
        score = np.zeros(len(labels), dtype=np.float64)
        for c in np.unique(labels):
            rc = f_real[real_labels == c]
            if len(rc) <= k:
                raise ValueError(
                    f"filter_synthetic: criterion 'realism' needs more than k={k} real images of class {c}, "
                    f"got {len(rc)}."
                )
            score[labels == c] = realism_score(rc, f_syn[labels == c], k=k)
    kept: list[int] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n_keep = int(np.ceil(keep_fraction * len(idx)))
        order = idx[np.lexsort((idx, -score[idx]))]
        kept.extend(order[:n_keep].tolist())
    return np.sort(np.asarray(kept, dtype=np.int64)), score


def _filter_summary(
    criterion: str, scores: np.ndarray, kept: np.ndarray, y_sy: np.ndarray, num_classes: int, cfg: EvaluationConfig
) -> dict[str, Any]:
    """JSON-ready summary of one :func:`filter_synthetic` call for the report."""
    threshold = {"label": 0.5, "hard": 0.0}.get(criterion, 1.0)
    per_class = []
    for c in range(num_classes):
        in_c, kept_c = scores[y_sy == c], scores[kept][y_sy[kept] == c]
        per_class.append(
            {
                "n_pool": int(len(in_c)),
                "n_kept": int(len(kept_c)),
                "fraction_pool_below_threshold": float(np.mean(in_c < threshold)) if len(in_c) else None,
                "min_score_kept": float(kept_c.min()) if len(kept_c) else None,
            }
        )
    finite = np.isfinite(scores)
    return {
        "criterion": criterion,
        "score": {
            "label": "softmax probability of the own label",
            "hard": "1 - probability of the own label (label-consistent images; the others < 0, kept last)",
        }.get(criterion, f"realism score against the real training images of the own class (k={cfg.realism_k})"),
        "threshold": threshold,
        "keep_fraction": cfg.filter_keep_fraction,
        "n_pool_per_class": [d["n_pool"] for d in per_class],
        "n_kept_per_class": [d["n_kept"] for d in per_class],
        "median_score_pool": float(np.median(scores)),
        "median_score_kept": float(np.median(scores[kept])),
        "fraction_pool_below_threshold": float(np.mean(scores < threshold)),
        "n_infinite_scores": int((~finite).sum()),
        "per_class": per_class,
    }


def _data_copying(generated: Any, train: Any, heldout: Any) -> dict[str, Any] | None:
    """Meehan et al.'s C_T with the validation split as the held-out real data (it comes from the same split as the
    generator's training images, the test split may not); ``None`` when a set has fewer than 2 samples."""
    if min(len(generated), len(train), len(heldout)) < 2:
        return None
    return {**data_copying_test(generated, train, heldout, seed=0).summary(), "heldout": "validation split"}


def _fidelity(
    cfg: EvaluationConfig,
    device: torch.device,
    x_sy: torch.Tensor,
    y_sy: np.ndarray,
    x_tr: torch.Tensor,
    y_tr: np.ndarray,
    x_va: torch.Tensor,
    x_te: torch.Tensor,
    y_te: np.ndarray,
    class_names: list[str],
    f_sy: np.ndarray | None,
    f_va: np.ndarray | None,
    f_te: np.ndarray | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if f_sy is not None:
        out["in_domain"] = {
            "extractor": "penultimate layer of the real-only classifier (first seed)",
            "fid_synthetic_vs_test": frechet_distance_from_features(f_sy, f_te, cfg.fid_method),
            "fid_val_vs_test_reference": frechet_distance_from_features(f_va, f_te, cfg.fid_method),
            # against the validation split: a realism figure that may be used to choose between generators
            "fid_synthetic_vs_val": frechet_distance_from_features(f_sy, f_va, cfg.fid_method),
            "precision_recall_synthetic_vs_test": precision_recall(f_te, f_sy, k=cfg.pr_k),
            "precision_recall_val_vs_test_reference": precision_recall(f_te, f_va, k=cfg.pr_k),
            "feature_dim": int(f_sy.shape[1]),
            "fid_method": cfg.fid_method,
        }
    if cfg.inception_fid:
        i_sy = _stratified_cap(y_sy, cfg.fid_max_images, 1)
        i_te = _stratified_cap(y_te, cfg.fid_max_images, 2)
        i_va = np.arange(min(len(x_va), cfg.fid_max_images))
        try:
            dims = sorted(set(cfg.fid_feature_dims) | {2048})
            from monai_medienet.metrics.fid import _MultiDimInception

            ext = _MultiDimInception(dims)
            feats = {
                n: extract_features(ext, x, 16, device, cfg.progress, f"Inception {n}")
                for n, x in (("synthetic", x_sy[i_sy]), ("test", x_te[i_te]), ("val", x_va[i_va]))
            }
            res: dict[str, Any] = {
                "n_synthetic": len(i_sy),
                "n_test": len(i_te),
                "n_val": len(i_va),
                "fid_method": cfg.fid_method,
            }
            start = 0
            for d in dims:
                sl = slice(start, start + d)
                res[f"fid_{d}_synthetic_vs_test"] = frechet_distance_from_features(
                    feats["synthetic"][:, sl], feats["test"][:, sl], cfg.fid_method
                )
                res[f"fid_{d}_val_vs_test_reference"] = frechet_distance_from_features(
                    feats["val"][:, sl], feats["test"][:, sl], cfg.fid_method
                )
                start += d
            res["precision_recall_synthetic_vs_test"] = precision_recall(
                feats["test"][:, -2048:], feats["synthetic"][:, -2048:], k=cfg.pr_k
            )
            res["precision_recall_val_vs_test_reference"] = precision_recall(
                feats["test"][:, -2048:], feats["val"][:, -2048:], k=cfg.pr_k
            )
            res["note"] = "FID is biased upwards for small N; compare with the real val-vs-test reference at equal N"
            out["inception"] = res
        except FileNotFoundError as e:
            out["inception"] = {"error": str(e)}
    div: dict[str, Any] = {}
    for c, name in enumerate(class_names):
        entry = {}
        for label, x, y in (("synthetic", x_sy, y_sy), ("real_train", x_tr, y_tr), ("real_test", x_te, y_te)):
            xc = x[y == c]
            if len(xc) >= 2:
                entry[label] = ms_ssim_diversity(xc, num_pairs=cfg.diversity_pairs, seed=c)
        div[name] = entry
    out["diversity_ms_ssim"] = div
    return out


def _versions() -> dict[str, str]:
    import monai

    import monai_medienet

    return {
        "monai_medienet": str(getattr(monai_medienet, "__version__", "unknown")),
        "monai": monai.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
