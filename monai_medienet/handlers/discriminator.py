"""Discriminator update for the autoencoder stage (adversarial loss after a warm-up)."""

from __future__ import annotations

from typing import Any

import torch
from ignite.engine import Engine, Events
from monai.losses import PatchAdversarialLoss
from monai.utils import CommonKeys

__all__ = ["DiscriminatorStepHandler"]


class DiscriminatorStepHandler:
    """After each generator step, train a ``PatchDiscriminator`` on real images vs. the detached reconstructions.

    Until ``warmup_iterations`` iterations have run, nothing happens (no discriminator compute, no generator
    adversarial term). From then on the handler sets ``loss.adversarial_active = True`` at the start of each
    iteration (so the generator term joins the autoencoder loss) and updates the discriminator at its end. The
    switch is derived from ``engine.state.iteration``, so a resumed run behaves exactly like an uninterrupted one.
    The last discriminator loss is stored as ``engine.state.output["d_loss"]``.

    Args:
        discriminator: the discriminator network (returns a list of feature maps, last = logits).
        optimizer: its optimizer.
        loss: the trainer's ``AutoencoderKLLoss`` (its ``adversarial_active`` flag is driven here).
        warmup_iterations: generator-only iterations before the adversarial game starts.
        criterion: ``PatchAdversarialLoss`` criterion.
        weight: multiplier of the discriminator loss.
        pred_index: index of the reconstruction in the prediction tuple.

    Raises:
        ValueError: for ``warmup_iterations < 0`` or ``weight <= 0``.
    """

    def __init__(
        self,
        discriminator: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        loss: Any,
        warmup_iterations: int = 0,
        criterion: str = "least_squares",
        weight: float = 1.0,
        pred_index: int = 0,
    ) -> None:
        if warmup_iterations < 0:
            raise ValueError(f"DiscriminatorStepHandler: warmup_iterations must be >= 0, got {warmup_iterations}.")
        if weight <= 0:
            raise ValueError(f"DiscriminatorStepHandler: weight must be > 0, got {weight}.")
        self.discriminator = discriminator
        self.optimizer = optimizer
        self.loss = loss
        self.warmup_iterations = int(warmup_iterations)
        self.criterion = PatchAdversarialLoss(criterion=criterion)
        self.weight = float(weight)
        self.pred_index = pred_index

    def attach(self, engine: Engine) -> None:
        """Register the warm-up switch (ITERATION_STARTED) and the update (ITERATION_COMPLETED)."""
        engine.add_event_handler(Events.ITERATION_STARTED, self._switch)
        engine.add_event_handler(Events.ITERATION_COMPLETED, self)

    def active(self, iteration: int) -> bool:
        """Whether iteration ``iteration`` (1-based) is past the warm-up."""
        return iteration > self.warmup_iterations

    def _switch(self, engine: Engine) -> None:
        self.loss.adversarial_active = self.active(engine.state.iteration)

    def __call__(self, engine: Engine) -> None:
        """One discriminator step on the current batch (skipped during warm-up)."""
        if not self.active(engine.state.iteration):
            return
        out = engine.state.output
        pred = out[CommonKeys.PRED]
        fake = (pred[self.pred_index] if isinstance(pred, (tuple, list)) else pred).detach().float().contiguous()
        real = out[CommonKeys.IMAGE].detach().float().contiguous()
        self.discriminator.train()
        self.optimizer.zero_grad(set_to_none=True)
        logits_fake = self.discriminator(fake)[-1]
        logits_real = self.discriminator(real)[-1]
        d_loss = 0.5 * (
            self.criterion(logits_fake, target_is_real=False, for_discriminator=True)
            + self.criterion(logits_real, target_is_real=True, for_discriminator=True)
        )
        (self.weight * d_loss).backward()
        self.optimizer.step()
        out["d_loss"] = float(d_loss.detach())
