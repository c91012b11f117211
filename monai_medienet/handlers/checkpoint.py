"""Full training-state checkpoints: model(s), EMA, optimizer, LR scheduler, engine state, RNG states, metadata.

A checkpoint is a plain dictionary that loads with ``torch.load(..., weights_only=True)``: only tensors, numbers,
strings, lists and dicts are stored (RNG states are converted to tensors / lists). Files are written atomically
(temporary file in the same directory, ``fsync``, then ``os.replace``), so a crash never leaves a partial checkpoint
under the final name.

Layout of a checkpoint::

    {
        "format_version": 1,
        "state": {name: obj.state_dict(), ...},   # networks, EMA model, optimizers, LR schedulers, ...
        "engine": {"iteration": int, "epoch_length": int, "max_epochs": int},
        "rng": {"torch": uint8 tensor, "cuda": [uint8 tensors], "numpy": {...}, "python": [...]},
        "versions": {"monai_medienet": str, "monai": str, "torch": str},
        **metadata,                               # e.g. classes, scale_factor, train_hash, network_config
    }
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine, Events

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "TrainingCheckpointSaver",
    "atomic_torch_save",
    "get_rng_states",
    "load_training_checkpoint",
    "set_rng_states",
]

CHECKPOINT_FORMAT_VERSION = 1
_RESERVED_KEYS = ("format_version", "state", "engine", "rng", "versions")


def _unwrap(obj: Any) -> Any:
    """Return the wrapped module of DataParallel / DistributedDataParallel, else ``obj``."""
    if isinstance(obj, (torch.nn.DataParallel, torch.nn.parallel.DistributedDataParallel)):
        return obj.module
    return obj


def _check_plain(value: Any, where: str) -> None:
    """Raise ``ValueError`` when ``value`` holds anything ``weights_only=True`` loading would reject."""
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise ValueError(f"TrainingCheckpointSaver: key {k!r} at {where} must be str or int.")
            _check_plain(v, f"{where}[{k!r}]")
        return
    raise ValueError(
        f"TrainingCheckpointSaver: {where} has type {type(value).__name__}; only tensors, numbers, strings, "
        "lists and dicts can be stored (weights_only=True loading)."
    )


def get_rng_states() -> dict[str, Any]:
    """Capture the torch (CPU and CUDA), numpy and python RNG states as weights-only-loadable values.

    Returns:
        ``{"torch": uint8 tensor, "cuda": [uint8 tensor per device], "numpy": dict, "python": list}``.
    """
    np_state = np.random.get_state()
    py_state = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": [s for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else [],
        "numpy": {
            "name": str(np_state[0]),
            "keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": [int(py_state[0]), [int(v) for v in py_state[1]], py_state[2]],
    }


def set_rng_states(states: Mapping[str, Any]) -> None:
    """Restore RNG states captured by :func:`get_rng_states` (CUDA states only when CUDA is available).

    Args:
        states: the ``"rng"`` entry of a checkpoint.
    """
    torch.set_rng_state(states["torch"].to(torch.uint8).cpu())
    if states.get("cuda") and torch.cuda.is_available():
        cuda_states = list(states["cuda"])[: torch.cuda.device_count()]
        torch.cuda.set_rng_state_all([s.to(torch.uint8).cpu() for s in cuda_states])
    np_s = states["numpy"]
    np.random.set_state(
        (np_s["name"], np_s["keys"].numpy().astype(np.uint32), np_s["pos"], np_s["has_gauss"], np_s["cached_gaussian"])
    )
    py = states["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file next to ``path``, fsync, then ``os.replace`` (atomic on POSIX).

    Args:
        obj: what to save.
        path: final file name; its directory is created when missing.

    Returns:
        The final path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _versions() -> dict[str, str]:
    import monai

    import monai_medienet

    return {
        "monai_medienet": str(monai_medienet.__version__),
        "monai": str(monai.__version__),
        "torch": str(torch.__version__),
    }


def _is_rank_zero() -> bool:
    return not (torch.distributed.is_available() and torch.distributed.is_initialized()) or (
        torch.distributed.get_rank() == 0
    )


class TrainingCheckpointSaver:
    """Ignite handler that saves the complete training state so that a run can resume bit-for-bit.

    The file ``<save_dir>/<name>.pt`` always holds the latest state (replaced atomically); with ``n_saved > 0``
    the last ``n_saved`` snapshots are also kept as ``<name>_iter<iteration>.pt``. Saving happens every
    ``save_interval_epochs`` epochs and/or every ``save_interval_iterations`` iterations, and when the run
    completes. Only rank 0 writes in a distributed run.

    Resuming is exact when the checkpoint was taken at an epoch boundary (Ignite restarts the data loader at the
    beginning of the interrupted epoch): the data order then follows from the restored RNG states.

    Args:
        save_dir: directory for the checkpoint files.
        objects: name -> object with ``state_dict()`` (networks, EMA model, optimizers, LR schedulers, ...).
            DataParallel / DDP wrappers are unwrapped so that the stored keys never carry ``module.``.
        metadata: extra plain values stored at the top level of the checkpoint (e.g. ``classes``,
            ``scale_factor``, ``train_hash``, ``network_config``), or a zero-argument callable returning them
            (evaluated at every save, for values known only after the run started).
        name: file stem of the latest checkpoint.
        save_interval_epochs: save every this many epochs (0 disables).
        save_interval_iterations: save every this many iterations (0 disables).
        save_final: save when the engine completes.
        n_saved: number of per-iteration snapshots to keep besides the latest file (0 keeps none).

    Raises:
        ValueError: for an empty ``name``, negative intervals / ``n_saved``, empty ``objects`` or objects
            without ``state_dict``.
    """

    def __init__(
        self,
        save_dir: str | os.PathLike,
        objects: Mapping[str, Any],
        metadata: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
        name: str = "checkpoint",
        save_interval_epochs: int = 1,
        save_interval_iterations: int = 0,
        save_final: bool = True,
        n_saved: int = 0,
    ) -> None:
        if not name:
            raise ValueError("TrainingCheckpointSaver: name must be a non-empty string.")
        if save_interval_epochs < 0 or save_interval_iterations < 0:
            raise ValueError(
                "TrainingCheckpointSaver: save intervals must be >= 0, got "
                f"epochs={save_interval_epochs}, iterations={save_interval_iterations}."
            )
        if n_saved < 0:
            raise ValueError(f"TrainingCheckpointSaver: n_saved must be >= 0, got {n_saved}.")
        if not objects:
            raise ValueError("TrainingCheckpointSaver: objects must not be empty.")
        for key, obj in objects.items():
            if not hasattr(obj, "state_dict"):
                raise ValueError(f"TrainingCheckpointSaver: object {key!r} ({type(obj).__name__}) has no state_dict.")
        self.save_dir = Path(save_dir)
        self.objects = dict(objects)
        self.metadata = metadata
        self.name = name
        self.save_interval_epochs = int(save_interval_epochs)
        self.save_interval_iterations = int(save_interval_iterations)
        self.save_final = save_final
        self.n_saved = int(n_saved)
        self.last_path: Path | None = None
        self._history: list[Path] = []
        self._last_saved_iteration = -1

    @property
    def latest_path(self) -> Path:
        """Path of the file holding the latest checkpoint."""
        return self.save_dir / f"{self.name}.pt"

    def attach(self, engine: Engine) -> None:
        """Register the saving events on ``engine``."""
        if self.save_interval_epochs > 0:
            engine.add_event_handler(Events.EPOCH_COMPLETED(every=self.save_interval_epochs), self)
        if self.save_interval_iterations > 0:
            engine.add_event_handler(Events.ITERATION_COMPLETED(every=self.save_interval_iterations), self)
        if self.save_final:
            engine.add_event_handler(Events.COMPLETED, self)

    def build(self, engine: Engine) -> dict[str, Any]:
        """Assemble the checkpoint dictionary for the current state of ``engine`` (no file is written)."""
        ckpt: dict[str, Any] = {
            "format_version": CHECKPOINT_FORMAT_VERSION,
            "state": {key: _unwrap(obj).state_dict() for key, obj in self.objects.items()},
            "engine": {k: int(v) for k, v in engine.state_dict().items() if v is not None},
            "rng": get_rng_states(),
            "versions": _versions(),
        }
        meta = self.metadata() if callable(self.metadata) else (self.metadata or {})
        for key, value in meta.items():
            if key in _RESERVED_KEYS:
                raise ValueError(f"TrainingCheckpointSaver: metadata key {key!r} is reserved.")
            _check_plain(value, f"metadata[{key!r}]")
            ckpt[key] = list(value) if isinstance(value, tuple) else value
        return ckpt

    def __call__(self, engine: Engine) -> None:
        """Save the current state (once per iteration, whatever the number of triggering events)."""
        if not _is_rank_zero() or engine.state.iteration == self._last_saved_iteration:
            return
        ckpt = self.build(engine)
        self.last_path = atomic_torch_save(ckpt, self.latest_path)
        self._last_saved_iteration = engine.state.iteration
        if self.n_saved > 0:
            snap = atomic_torch_save(ckpt, self.save_dir / f"{self.name}_iter{engine.state.iteration:08d}.pt")
            if snap not in self._history:
                self._history.append(snap)
            while len(self._history) > self.n_saved:
                old = self._history.pop(0)
                if old.exists():
                    old.unlink()


def load_training_checkpoint(
    path: str | os.PathLike,
    objects: Mapping[str, Any] | None = None,
    engine: Engine | None = None,
    restore_rng: bool = False,
    map_location: str | torch.device = "cpu",
    strict: bool = True,
    keep_max_epochs: bool = True,
) -> dict[str, Any]:
    """Load a checkpoint written by :class:`TrainingCheckpointSaver` with ``weights_only=True``.

    Args:
        path: checkpoint file.
        objects: name -> object with ``load_state_dict``; each gets ``ckpt["state"][name]``.
        engine: an Ignite engine to restore (iteration / epoch), so that ``engine.run()`` resumes.
        restore_rng: restore the torch / numpy / python RNG states (needed for an exact resume).
        map_location: device the tensors are mapped to.
        strict: passed to ``nn.Module.load_state_dict``; also raise when a requested object is missing.
        keep_max_epochs: keep the engine's configured ``max_epochs`` when it is larger than the stored one
            (so that a run can be extended); otherwise use the stored value.

    Returns:
        The checkpoint dictionary (metadata such as ``classes`` / ``scale_factor`` at the top level).

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        KeyError: when ``strict`` and a requested object is not in the checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_training_checkpoint: no checkpoint at {path}.")
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    for key, obj in (objects or {}).items():
        if key not in ckpt["state"]:
            if strict:
                raise KeyError(f"load_training_checkpoint: {key!r} not in checkpoint {path} ({list(ckpt['state'])}).")
            continue
        target = _unwrap(obj)
        if isinstance(target, torch.nn.Module):
            target.load_state_dict(ckpt["state"][key], strict=strict)
        else:
            target.load_state_dict(ckpt["state"][key])
    if engine is not None:
        configured = engine.state.max_epochs
        engine.load_state_dict(ckpt["engine"])
        if keep_max_epochs and configured is not None and configured > (engine.state.max_epochs or 0):
            engine.state.max_epochs = configured
    if restore_rng:
        set_rng_states(ckpt["rng"])
    return ckpt
