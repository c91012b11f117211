"""A short end-of-stage summary: what ran, how long, final loss / metrics, and where the outputs are."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from ignite.engine import Engine, Events

__all__ = ["StageSummaryHandler"]


def _plain(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return v.item() if v.numel() == 1 else v.tolist()
    if isinstance(v, (Path, os.PathLike)):
        return str(v)
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


class StageSummaryHandler:
    """Print (and save as JSON) a short summary when a stage completes.

    The summary holds the stage name, iterations / epochs run, wall time of this run, the last loss, the
    engine's metrics, the validation metrics of an optional evaluator, and named output locations (checkpoint,
    sample grid, logs). Only rank 0 prints / writes in a distributed run.

    Args:
        stage: stage name, e.g. ``"autoencoder"``.
        outputs: name -> path (or zero-argument callable returning a path / value), listed under "outputs".
        summary_file: optional JSON file for the summary.
        evaluator: optional validation engine whose ``state.metrics`` are reported.
        loss_key: key of the loss in ``engine.state.output``.
        print_fn: output function (default ``print``).

    Raises:
        ValueError: for an empty ``stage``.
    """

    def __init__(
        self,
        stage: str,
        outputs: Mapping[str, Any] | None = None,
        summary_file: str | os.PathLike | None = None,
        evaluator: Engine | None = None,
        loss_key: str = "loss",
        print_fn: Callable[[str], Any] = print,
    ) -> None:
        if not stage:
            raise ValueError("StageSummaryHandler: stage must be a non-empty string.")
        self.stage = stage
        self.outputs = dict(outputs or {})
        self.summary_file = Path(summary_file) if summary_file is not None else None
        self.evaluator = evaluator
        self.loss_key = loss_key
        self.print_fn = print_fn
        self.summary: dict[str, Any] = {}
        self._t0: float | None = None

    def attach(self, engine: Engine) -> None:
        """Start the clock at ``STARTED``; summarise at ``COMPLETED``."""
        engine.add_event_handler(Events.STARTED, self._start)
        engine.add_event_handler(Events.COMPLETED, self)

    def _start(self, engine: Engine) -> None:
        self._t0 = time.perf_counter()

    def __call__(self, engine: Engine) -> None:
        """Build, print and optionally save the summary."""
        if torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_rank():
            return
        out = engine.state.output
        loss = out.get(self.loss_key) if isinstance(out, Mapping) else None
        summary: dict[str, Any] = {
            "stage": self.stage,
            "iterations": int(engine.state.iteration),
            "epochs": int(engine.state.epoch),
            "wall_time_s": round(time.perf_counter() - self._t0, 1) if self._t0 is not None else None,
            "last_loss": _plain(loss),
            "metrics": _plain(dict(engine.state.metrics)),
        }
        if self.evaluator is not None:
            summary["validation"] = _plain(dict(self.evaluator.state.metrics))
        summary["outputs"] = {k: _plain(v() if callable(v) else v) for k, v in self.outputs.items()}
        self.summary = summary
        lines = [f"=== {self.stage} stage finished ==="]
        lines.append(f"  iterations: {summary['iterations']} (epochs: {summary['epochs']})")
        lines.append(f"  wall time: {summary['wall_time_s']} s")
        if summary["last_loss"] is not None:
            lines.append(f"  last loss: {summary['last_loss']:.5g}")
        for name, value in {**summary["metrics"], **summary.get("validation", {})}.items():
            lines.append(f"  {name}: {value:.5g}" if isinstance(value, float) else f"  {name}: {value}")
        for name, value in summary["outputs"].items():
            lines.append(f"  {name}: {value}")
        if self.summary_file is not None:
            self.summary_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.summary_file.with_name(f".{self.summary_file.name}.tmp-{os.getpid()}")
            tmp.write_text(json.dumps(summary, indent=2))
            os.replace(tmp, self.summary_file)
            lines.append(f"  summary: {self.summary_file}")
        self.print_fn("\n".join(lines))
