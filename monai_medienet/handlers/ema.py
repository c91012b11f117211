"""Checkpointable state of Ignite's ``EMAHandler`` momentum warm-up."""

from __future__ import annotations

from typing import Any

__all__ = ["EMAMomentumState"]


class EMAMomentumState:
    """``state_dict`` / ``load_state_dict`` for the momentum warm-up of an ``ignite.handlers.EMAHandler``.

    Ignite's EMA warm-up scheduler counts its own calls (``event_index``) instead of reading the engine iteration, so a
    resumed run would restart the warm-up. Store this object next to the EMA model in the checkpoint (e.g.
    ``TrainingCheckpointSaver(objects={"ema": ema_handler.ema_model, "ema_momentum": EMAMomentumState(ema_handler)})``)
    to resume it exactly. Only the counter is stored (the scheduler's lambda is not weights-only serialisable). The
    scheduler is looked up lazily because ``EMAHandler`` creates it in ``attach``.

    Args:
        ema_handler: the EMA handler.

    Raises:
        ValueError: when ``ema_handler`` has no ``ema_model`` (not an EMAHandler).
    """

    def __init__(self, ema_handler: Any) -> None:
        if not hasattr(ema_handler, "ema_model"):
            raise ValueError(f"EMAMomentumState: expected an ignite EMAHandler, got {type(ema_handler).__name__}.")
        self.ema_handler = ema_handler

    def _scheduler(self) -> Any:
        return getattr(self.ema_handler, "momentum_scheduler", None)

    def state_dict(self) -> dict[str, int]:
        """``{"event_index": int}`` (0 when there is no warm-up or it is not attached yet)."""
        sched = self._scheduler()
        return {"event_index": int(sched.event_index) if sched is not None else 0}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Restore the warm-up counter (attach the EMA handler first)."""
        sched = self._scheduler()
        if sched is not None:
            sched.event_index = int(state.get("event_index", 0))
