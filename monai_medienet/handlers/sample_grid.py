"""Periodic per-class sample grids (PNG file + TensorBoard image) during diffusion training."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ignite.engine import Engine, Events
from PIL import Image

__all__ = ["SampleGridHandler", "make_image_grid", "save_image_grid"]


def make_image_grid(images: torch.Tensor, nrow: int, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """Tile a batch of 2D images into one image, row by row.

    Args:
        images: ``(B, C, H, W)`` with C in {1, 3}, intensities in [0, 1].
        nrow: images per row.
        padding: pixels between tiles.
        pad_value: intensity of the padding.

    Returns:
        ``(C, rows * (H + padding) + padding, nrow * (W + padding) + padding)`` float tensor.

    Raises:
        ValueError: for a non-4D batch, an empty batch or ``nrow < 1``.
    """
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"make_image_grid: images must be a non-empty (B, C, H, W) batch, got {tuple(images.shape)}.")
    if nrow < 1:
        raise ValueError(f"make_image_grid: nrow must be >= 1, got {nrow}.")
    b, c, h, w = images.shape
    rows = (b + nrow - 1) // nrow
    grid = torch.full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), float(pad_value))
    for i in range(b):
        r, col = divmod(i, nrow)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, y : y + h, x : x + w] = images[i].detach().float().cpu()
    return grid


def save_image_grid(grid: torch.Tensor, path: str | os.PathLike) -> Path:
    """Write a ``(C, H, W)`` grid in [0, 1] as an 8-bit PNG (atomically: temporary file + ``os.replace``).

    Returns:
        The written path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = (grid.clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()).transpose(1, 2, 0)
    img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else np.ascontiguousarray(arr))
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    img.save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


class SampleGridHandler:
    """Every ``interval`` epochs (and at the end) sample ``num_per_class`` images per class and save a grid.

    Row ``i`` of the grid shows class ``classes[i]``. The grid goes to ``<output_dir>/<prefix>_iter<N>.png`` and
    ``<output_dir>/<prefix>_latest.png``, and to TensorBoard when ``summary_writer`` is given. Sampling is seeded
    (the same ``seed`` every time, so successive grids show the same noise evolving with training) and does
    not touch the global RNG state, so training resumes identically whether or not grids were drawn.

    Args:
        inferer: object with ``sample(diffusion_model, class_labels, **sample_kwargs) -> (B, C, H, W)`` images in
            [0, 1] (e.g. ``ClassConditionalLatentDiffusionInferer``).
        network: the denoising network to sample with (typically the EMA copy).
        classes: ordered class names.
        output_dir: directory for the PNG files.
        num_per_class: columns of the grid.
        interval: epochs between grids (0: only at the end).
        interval_unit: ``"epoch"`` or ``"iteration"``.
        seed: sampling seed, passed as ``seed=`` to ``inferer.sample``.
        summary_writer: optional ``torch.utils.tensorboard.SummaryWriter``.
        prefix: file-name prefix and TensorBoard tag.
        sample_kwargs: further keyword arguments for ``inferer.sample`` (guidance scale, steps, ...).

    Raises:
        ValueError: for empty ``classes``, ``num_per_class < 1``, negative ``interval`` or unknown unit.
    """

    def __init__(
        self,
        inferer: Any,
        network: torch.nn.Module,
        classes: Sequence[str],
        output_dir: str | os.PathLike,
        num_per_class: int = 8,
        interval: int = 1,
        interval_unit: str = "epoch",
        seed: int = 0,
        summary_writer: Any = None,
        prefix: str = "samples",
        sample_kwargs: dict | None = None,
    ) -> None:
        if len(classes) == 0:
            raise ValueError("SampleGridHandler: classes must not be empty.")
        if num_per_class < 1:
            raise ValueError(f"SampleGridHandler: num_per_class must be >= 1, got {num_per_class}.")
        if interval < 0:
            raise ValueError(f"SampleGridHandler: interval must be >= 0, got {interval}.")
        if interval_unit not in ("epoch", "iteration"):
            raise ValueError(f"SampleGridHandler: interval_unit must be 'epoch' or 'iteration', got {interval_unit!r}.")
        self.inferer = inferer
        self.network = network
        self.classes = list(classes)
        self.output_dir = Path(output_dir)
        self.num_per_class = int(num_per_class)
        self.interval = int(interval)
        self.interval_unit = interval_unit
        self.seed = int(seed)
        self.summary_writer = summary_writer
        self.prefix = prefix
        self.sample_kwargs = dict(sample_kwargs or {})
        self.last_path: Path | None = None
        self._last_iteration = -1

    @property
    def latest_path(self) -> Path:
        """Path of the most recent grid."""
        return self.output_dir / f"{self.prefix}_latest.png"

    def attach(self, engine: Engine) -> None:
        """Register on ``engine``: periodic event (if ``interval > 0``) and ``COMPLETED``."""
        if self.interval > 0:
            event = Events.EPOCH_COMPLETED if self.interval_unit == "epoch" else Events.ITERATION_COMPLETED
            engine.add_event_handler(event(every=self.interval), self)
        engine.add_event_handler(Events.COMPLETED, self)

    def sample(self) -> torch.Tensor:
        """Draw the grid's images: ``(num_classes * num_per_class, C, H, W)``, class-major order."""
        labels = torch.arange(len(self.classes)).repeat_interleave(self.num_per_class)
        was_training = self.network.training
        self.network.eval()
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=[]):
                images = self.inferer.sample(self.network, labels, seed=self.seed, **self.sample_kwargs)
        finally:
            self.network.train(was_training)
        return images.float().clamp(0, 1)

    def __call__(self, engine: Engine) -> None:
        """Sample, save the PNG grid and log it to TensorBoard (rank 0 only, once per iteration)."""
        if torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_rank():
            return
        iteration = engine.state.iteration
        if iteration == self._last_iteration:
            return
        self._last_iteration = iteration
        grid = make_image_grid(self.sample(), nrow=self.num_per_class)
        self.last_path = save_image_grid(grid, self.output_dir / f"{self.prefix}_iter{iteration:08d}.png")
        save_image_grid(grid, self.latest_path)
        if self.summary_writer is not None:
            self.summary_writer.add_image(self.prefix, grid, global_step=iteration)
            self.summary_writer.flush()
