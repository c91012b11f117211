"""Run a MONAI trainer with resume-from-checkpoint semantics (used by every training run id of the bundles)."""

from __future__ import annotations

from typing import Any

from ignite.engine import Engine

from monai_medienet.handlers.checkpoint import TrainingCheckpointSaver, load_training_checkpoint

__all__ = ["run_trainer"]


def run_trainer(
    trainer: Engine,
    checkpointer: TrainingCheckpointSaver | None = None,
    resume: bool = True,
    print_fn: Any = print,
) -> dict[str, Any]:
    """Run ``trainer``, first resuming from ``checkpointer``'s latest file when ``resume`` and it exists.

    Resuming restores every object the checkpointer saves (networks, EMA, optimizers, LR schedulers, ...), the
    engine's iteration / epoch and the RNG states, so the run continues exactly where the checkpoint was taken.
    A checkpoint of a finished run (iteration >= ``max_epochs * epoch_length``) is not trained again: the stage is
    skipped (delete the checkpoint, set ``resume=False`` or raise the epoch count to train more).

    Args:
        trainer: a MONAI trainer (Ignite engine) configured with ``max_epochs`` and a data loader.
        checkpointer: the stage's :class:`TrainingCheckpointSaver` (already attached to ``trainer``).
        resume: resume from the latest checkpoint when present.
        print_fn: where the one-line resume / skip notes go.

    Returns:
        ``{"resumed_from": int | None, "skipped": bool, "iteration": int}``.
    """
    resumed_from = None
    if resume and checkpointer is not None and checkpointer.latest_path.is_file():
        load_training_checkpoint(checkpointer.latest_path, checkpointer.objects, engine=trainer, restore_rng=True)
        resumed_from = int(trainer.state.iteration)
        total = int(trainer.state.max_epochs or 0) * int(trainer.state.epoch_length or 0)
        if total and resumed_from >= total:
            print_fn(
                f"{checkpointer.latest_path} is already complete at iteration {resumed_from}; skipping this stage "
                "(pass --resume False or more epochs to train again)."
            )
            return {"resumed_from": resumed_from, "skipped": True, "iteration": resumed_from}
        print_fn(f"resuming from {checkpointer.latest_path} at iteration {resumed_from}")
    trainer.run()
    return {"resumed_from": resumed_from, "skipped": False, "iteration": int(trainer.state.iteration)}
