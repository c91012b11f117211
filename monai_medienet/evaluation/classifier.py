"""Downstream classifiers trained from scratch on MONAI/Ignite engines, with a step budget and early stopping.

Why engines: the protocol needs exactly the pieces MONAI already has — ``SupervisedTrainer`` (a fixed number of
optimisation steps via ``epoch_length``; Ignite restarts the loader when a small training set is exhausted),
``SupervisedEvaluator`` with the ``ROCAUC`` metric on the real validation set, ``ValidationHandler`` (every
``val_interval`` steps) and ``EarlyStopHandler``. Two seams are customised the MONAI way instead of copying the
trainer: :class:`AutocastInferer` (bf16 autocast on CPU: MONAI's own ``amp`` flag is CUDA-only; the class is
:class:`monai_medienet.engines.AutocastInferer`, re-exported here) and
:class:`BestWeightsInMemory` (keeps the best-validation weights in RAM; ``CheckpointSaver`` would write one file per
run, and the protocol trains dozens of small models).

Output head: ``num_classes`` logits with cross-entropy for every task, including binary (then the score for
AUROC is the softmax probability of class 1). One code path for binary and multi-class, and MONAI's ``ROCAUC``
with one-hot labels gives the binary AUROC exactly for two classes.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from ignite.engine import Events
from monai.data import DataLoader, Dataset
from monai.engines import SupervisedEvaluator, SupervisedTrainer
from monai.handlers import ROCAUC, EarlyStopHandler, ValidationHandler, from_engine, stopping_fn_from_metric
from monai.networks.nets import resnet18, resnet50
from monai.transforms import Activationsd, AsDiscreted, Compose
from tqdm.auto import tqdm

from monai_medienet.engines.amp import AutocastInferer  # one implementation; re-exported here by name

__all__ = [
    "CLASSIFIERS",
    "AutocastInferer",
    "BestWeightsInMemory",
    "TrainedClassifier",
    "build_classifier",
    "predict_proba",
    "recalibrate_batchnorm",
    "train_classifier",
]

CLASSIFIERS = {"resnet18": resnet18, "resnet50": resnet50}


def build_classifier(
    name: str = "resnet18", in_channels: int = 1, num_classes: int = 2, image_size: int | None = None
) -> torch.nn.Module:
    """A MONAI 2-D ResNet from scratch (``pretrained=False``: no weights are downloaded).

    Args:
        name: ``"resnet18"`` (fast CPU default) or ``"resnet50"`` (the MedIENet paper's classifier).
        in_channels: image channels ``C``.
        num_classes: output logits (``>= 2``; binary tasks use 2 logits).
        image_size: smallest spatial side; ``>= 64`` uses a stride-2 7x7 stem (ImageNet-style), smaller images keep
            MONAI's default stride-1 stem (a 28 px image would otherwise be 7 px before the first residual stage). The
            first residual stage so sees 16 px maps at 32 px and at 64 px input; a stride-1 stem at 64 px would cost
            4x (2.2 s per resnet18 step at batch 32 on one AVX2 thread).

    Returns:
        The network (``fc`` is the final linear layer).

    Raises:
        ValueError: for an unknown ``name``, ``in_channels < 1`` or ``num_classes < 2``.
    """
    if name not in CLASSIFIERS:
        raise ValueError(f"build_classifier: name must be one of {sorted(CLASSIFIERS)}, got {name!r}.")
    if in_channels < 1:
        raise ValueError(f"build_classifier: in_channels must be >= 1, got {in_channels}.")
    if num_classes < 2:
        raise ValueError(f"build_classifier: num_classes must be >= 2 (binary uses 2 logits), got {num_classes}.")
    stride = 2 if image_size is not None and image_size >= 64 else 1
    return CLASSIFIERS[name](
        pretrained=False, spatial_dims=2, n_input_channels=in_channels, num_classes=num_classes, conv1_t_stride=stride
    )


class BestWeightsInMemory:
    """Evaluator handler keeping a copy of the network weights at the best validation metric (in RAM).

    Args:
        network: the network being trained.
        metric_name: key in ``evaluator.state.metrics`` (higher is better).
        trainer: optional trainer, to record the step of the best weights.
    """

    def __init__(self, network: torch.nn.Module, metric_name: str = "val_auroc", trainer: Any | None = None) -> None:
        self.network, self.metric_name, self.trainer = network, metric_name, trainer
        self.best_metric = -float("inf")
        self.best_step = -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.history: list[tuple[int, float]] = []

    def attach(self, engine: Any) -> None:
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def __call__(self, engine: Any) -> None:
        score = float(engine.state.metrics[self.metric_name])
        step = int(self.trainer.state.iteration) if self.trainer is not None else len(self.history)
        self.history.append((step, score))
        if score > self.best_metric:
            self.best_metric, self.best_step = score, step
            self.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in self.network.state_dict().items()})


@dataclass
class TrainedClassifier:
    """A trained classifier (best validation weights loaded) and its training record.

    Attributes:
        network: the network with its best weights.
        best_val_auroc: the best real-validation AUROC.
        best_step: optimisation step of the best weights.
        steps_run: steps actually run (< budget when early stopping fired).
        history: ``[(step, val_auroc), ...]``.
    """

    network: torch.nn.Module
    best_val_auroc: float
    best_step: int
    steps_run: int
    history: list[tuple[int, float]] = field(default_factory=list)


@torch.no_grad()
def recalibrate_batchnorm(network: torch.nn.Module, loader: Any, num_batches: int = 8, device: Any = None) -> int:
    """Re-estimate BatchNorm running statistics of ``network`` from ``num_batches`` training batches ("precise BN").

    With short step budgets and Adam, the exponential running averages lag far behind the current weights, so
    eval-mode outputs are shifted (e.g. every image predicted positive although the ranking, hence AUROC, is fine).
    Here the statistics are reset and replaced by the cumulative average over a few batches with frozen weights.

    Args:
        network: the network (its mode is restored afterwards).
        loader: iterable of ``{"image": (B, C, H, W)}`` batches (the arm's training loader).
        num_batches: batches to average over (``0`` disables).
        device: device of the inputs (default: the network's).

    Returns:
        Number of batches used.
    """
    bns = [m for m in network.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns or num_batches <= 0:
        return 0
    device = device if device is not None else next(network.parameters()).device
    was_training = network.training
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    network.train()
    used = 0
    while used < num_batches:
        progressed = False
        for batch in loader:
            network(torch.as_tensor(batch["image"]).float().to(device))
            used += 1
            progressed = True
            if used >= num_batches:
                break
        if not progressed:
            break
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    network.train(was_training)
    return used


class _RecalibrateBeforeValidation:
    """Evaluator handler: :func:`recalibrate_batchnorm` from the training loader before every validation."""

    def __init__(self, network: torch.nn.Module, loader: Any, num_batches: int) -> None:
        self.network, self.loader, self.num_batches = network, loader, num_batches

    def attach(self, engine: Any) -> None:
        engine.add_event_handler(Events.STARTED, self)

    def __call__(self, engine: Any) -> None:
        recalibrate_batchnorm(self.network, self.loader, self.num_batches)


class _ValidateAtEnd:
    """Run the validator once more at the end of training when the last step was not validated."""

    def __init__(self, validator: SupervisedEvaluator, interval: int) -> None:
        self.validator, self.interval = validator, interval

    def attach(self, engine: Any) -> None:
        engine.add_event_handler(Events.COMPLETED, self)

    def __call__(self, engine: Any) -> None:
        if engine.state.iteration % self.interval != 0 and not engine.should_terminate:
            self.validator.run(engine.state.epoch)


class _Progress:
    """tqdm bar over optimisation steps showing the loss and the last validation AUROC."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        self.total, self.desc, self.enabled = total, desc, enabled
        self.bar: tqdm | None = None

    def attach(self, engine: Any) -> None:
        engine.add_event_handler(Events.STARTED, self._start)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)
        engine.add_event_handler(Events.COMPLETED, self._close)

    def _start(self, engine: Any) -> None:
        self.bar = tqdm(total=self.total, desc=self.desc, disable=not self.enabled, leave=False)

    def __call__(self, engine: Any) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{float(engine.state.output['loss'].detach()):.3f}")

    def _close(self, engine: Any) -> None:
        if self.bar is not None:
            self.bar.close()


def train_classifier(
    network: torch.nn.Module,
    train_data: Dataset | Sequence[dict],
    val_data: Dataset | Sequence[dict],
    num_classes: int,
    max_steps: int = 500,
    batch_size: int = 32,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    val_interval: int = 50,
    patience: int = 5,
    seed: int = 0,
    device: str | torch.device = "cpu",
    bf16: bool = False,
    num_workers: int = 0,
    progress: bool = True,
    desc: str = "classifier",
    bn_recalibration_batches: int = 8,
) -> TrainedClassifier:
    """Train ``network`` for ``max_steps`` optimisation steps (the budget), validating on real data.

    Adam with cross-entropy; every ``val_interval`` steps the real validation AUROC (MONAI ``ROCAUC``, macro
    one-vs-rest over one-hot labels = binary AUROC for 2 classes) is computed; training stops after ``patience``
    validations without improvement and the best weights are restored.

    Args:
        network: a freshly initialised classifier producing ``(B, num_classes)`` logits.
        train_data: dataset (or list of dicts already transformed) yielding ``{"image": (C,H,W), "label": int}``.
        val_data: real validation dataset, same format.
        num_classes: number of classes.
        max_steps: optimisation step budget.
        batch_size: batch size (training and validation).
        lr: learning rate.
        weight_decay: Adam weight decay.
        val_interval: validate every this many steps.
        patience: early-stopping patience in validations (``0`` disables early stopping).
        seed: seeds the data order (``torch.Generator`` of the loader).
        device: device.
        bf16: bf16 autocast for forward passes.
        num_workers: loader workers.
        progress: tqdm bar.
        desc: progress bar label.
        bn_recalibration_batches: before every validation, re-estimate BatchNorm statistics from this many training
            batches (:func:`recalibrate_batchnorm`; 0 = off), so the kept weights give calibrated eval-mode outputs.

    Returns:
        A :class:`TrainedClassifier` with the best weights loaded.

    Raises:
        ValueError: for non-positive ``max_steps``, ``batch_size`` or ``val_interval``, or an empty training set.
    """
    if max_steps < 1 or batch_size < 1 or val_interval < 1:
        raise ValueError(
            f"train_classifier: max_steps, batch_size and val_interval must be >= 1, "
            f"got {max_steps}, {batch_size}, {val_interval}."
        )
    if len(train_data) == 0:
        raise ValueError("train_classifier: the training set is empty.")
    device = torch.device(device)
    network = network.to(device)
    train_ds = train_data if isinstance(train_data, Dataset) else Dataset(list(train_data))
    val_ds = val_data if isinstance(val_data, Dataset) else Dataset(list(val_data))
    gen = torch.Generator().manual_seed(int(seed))
    train_loader = DataLoader(
        train_ds, batch_size=batch_size, shuffle=True, generator=gen, num_workers=num_workers, drop_last=False
    )
    val_loader = DataLoader(val_ds, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    inferer = AutocastInferer(enabled=bf16, device_type=device.type)

    evaluator = SupervisedEvaluator(
        device=device,
        val_data_loader=val_loader,
        network=network,
        inferer=inferer,
        postprocessing=Compose(
            [Activationsd(keys="pred", softmax=True), AsDiscreted(keys="label", to_onehot=num_classes)]
        ),
        key_val_metric={"val_auroc": ROCAUC(output_transform=from_engine(["pred", "label"]))},
    )
    trainer = SupervisedTrainer(
        device=device,
        max_epochs=1,
        epoch_length=max_steps,
        train_data_loader=train_loader,
        network=network,
        optimizer=torch.optim.Adam(network.parameters(), lr=lr, weight_decay=weight_decay),
        loss_function=torch.nn.CrossEntropyLoss(),
        inferer=inferer,
        decollate=False,
    )
    if bn_recalibration_batches > 0:
        recal_loader = DataLoader(
            train_ds,
            batch_size=batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(int(seed) + 1),
            num_workers=num_workers,
        )
        _RecalibrateBeforeValidation(network, recal_loader, bn_recalibration_batches).attach(evaluator)
    best = BestWeightsInMemory(network, "val_auroc", trainer)
    best.attach(evaluator)
    if patience > 0:
        EarlyStopHandler(
            patience=patience, score_function=stopping_fn_from_metric("val_auroc"), trainer=trainer, epoch_level=True
        ).attach(evaluator)
    ValidationHandler(interval=val_interval, validator=evaluator, epoch_level=False).attach(trainer)
    _ValidateAtEnd(evaluator, val_interval).attach(trainer)
    _Progress(max_steps, desc, progress).attach(trainer)
    quiet = [
        logging.getLogger(n)
        for n in ("ignite.engine.engine.SupervisedTrainer", "ignite.engine.engine.SupervisedEvaluator")
    ]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.WARNING)
    try:
        trainer.run()
    finally:
        for lg, lv in zip(quiet, levels):
            lg.setLevel(lv)
    if best.best_state is not None:
        network.load_state_dict(best.best_state)
    network.eval()
    return TrainedClassifier(
        network=network,
        best_val_auroc=float(best.best_metric),
        best_step=int(best.best_step),
        steps_run=int(trainer.state.iteration),
        history=list(best.history),
    )


@torch.no_grad()
def predict_proba(
    network: torch.nn.Module,
    data: Dataset | Sequence[dict],
    batch_size: int = 64,
    device: str | torch.device = "cpu",
    bf16: bool = False,
    num_workers: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities of a classifier on a dataset, in dataset order.

    Args:
        network: classifier producing ``(B, K)`` logits.
        data: dataset yielding ``{"image", "label"}``.
        batch_size: batch size.
        device: device.
        bf16: bf16 autocast.
        num_workers: loader workers.

    Returns:
        ``(probs (N, K) float64, labels (N,) int64)``.
    """
    device = torch.device(device)
    ds = data if isinstance(data, Dataset) else Dataset(list(data))
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    inferer = AutocastInferer(enabled=bf16, device_type=device.type)
    network = network.to(device).eval()
    probs, labels = [], []
    for batch in loader:
        logits = inferer(torch.as_tensor(batch["image"]).float().to(device), network)
        probs.append(torch.softmax(logits, dim=1).cpu().double().numpy())
        labels.append(torch.as_tensor(batch["label"]).reshape(-1).cpu().numpy().astype(np.int64))
    return np.concatenate(probs), np.concatenate(labels)
