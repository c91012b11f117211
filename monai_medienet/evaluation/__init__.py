"""The augmentation protocol: classifier arms (real / real+aug / real+syn+aug / syn) x seeds with a fixed step
budget, bootstrap CIs of metrics and paired differences, fidelity/diversity/memorisation, Grad-CAM and the report."""

from __future__ import annotations

from monai_medienet.data.materialise import materialise  # re-exported: its home was this package

from .classifier import (
    CLASSIFIERS,
    AutocastInferer,
    BestWeightsInMemory,
    TrainedClassifier,
    build_classifier,
    predict_proba,
    recalibrate_batchnorm,
    train_classifier,
)
from .explain import gradcam_maps, select_explanation_images
from .export import CLASSIFIER_FORMAT, LoadedClassifier, load_classifier, save_classifier
from .leakage import check_generator_leakage, check_synthetic_sources, load_generator_provenance
from .merge import base_arm, merge_evaluations
from .protocol import (
    ARM_TOKENS,
    DEFAULT_ARMS,
    FILTER_TOKENS,
    EvaluationConfig,
    augmentation_examples,
    filter_synthetic,
    parse_arm,
    run_evaluation,
)
from .report import (
    arms_table,
    deltas_table,
    load_predictions,
    plot_auroc_bars,
    plot_differences,
    plot_roc_curves,
    pooled_deltas_table,
    ratios_table,
    save_predictions,
    write_report,
)
from .stats import (
    METRIC_NAMES,
    adjust_for_multiplicity,
    binary_auroc,
    bootstrap_arm,
    bootstrap_ci,
    bootstrap_indices,
    bootstrap_ratio,
    classification_metrics,
    cross_entropy,
    generator_pooled_difference,
    holm_adjust,
    multiclass_auroc,
    paired_bootstrap_difference,
)

__all__ = [
    "ARM_TOKENS",
    "adjust_for_multiplicity",
    "FILTER_TOKENS",
    "CLASSIFIERS",
    "CLASSIFIER_FORMAT",
    "LoadedClassifier",
    "load_classifier",
    "save_classifier",
    "DEFAULT_ARMS",
    "METRIC_NAMES",
    "AutocastInferer",
    "BestWeightsInMemory",
    "EvaluationConfig",
    "TrainedClassifier",
    "augmentation_examples",
    "binary_auroc",
    "bootstrap_arm",
    "bootstrap_ci",
    "bootstrap_indices",
    "bootstrap_ratio",
    "arms_table",
    "base_arm",
    "build_classifier",
    "cross_entropy",
    "deltas_table",
    "check_generator_leakage",
    "check_synthetic_sources",
    "classification_metrics",
    "gradcam_maps",
    "holm_adjust",
    "load_predictions",
    "materialise",
    "merge_evaluations",
    "load_generator_provenance",
    "multiclass_auroc",
    "generator_pooled_difference",
    "paired_bootstrap_difference",
    "filter_synthetic",
    "parse_arm",
    "plot_auroc_bars",
    "plot_differences",
    "plot_roc_curves",
    "pooled_deltas_table",
    "predict_proba",
    "ratios_table",
    "recalibrate_batchnorm",
    "run_evaluation",
    "save_predictions",
    "select_explanation_images",
    "train_classifier",
    "write_report",
]
