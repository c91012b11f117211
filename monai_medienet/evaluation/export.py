"""A self-describing classifier checkpoint: weights plus everything needed to rebuild and feed the network.

The protocol trains its classifiers in memory (:class:`~monai_medienet.evaluation.BestWeightsInMemory`); this module
writes one of them to a file that a serving layer (e.g. :mod:`monai_medienet.apps.monailabel`) can load without the
evaluation's configuration. The file is a plain dict loadable with ``torch.load(..., weights_only=True)``:

- ``"format"``: ``"monai_medienet.classifier"``, ``"format_version"``: ``1``;
- ``"state_dict"``: the network's weights (on CPU);
- ``"arch"``: a name of :data:`~monai_medienet.evaluation.CLASSIFIERS` (rebuilt with
  :func:`~monai_medienet.evaluation.build_classifier`);
- ``"in_channels"``, ``"num_classes"``, ``"classes"`` (label ``i`` means ``classes[i]``), ``"image_size"``
  (the spatial ``(H, W)`` the network was trained at; the images were float32 ``(C, H, W)`` in ``[0, 1]``);
- ``"extra"``: JSON-ready metadata (the protocol stores the arm, seed, validation AUROC; a ``"preprocessing"`` entry
  ``{"intensity": ..., "resize_mode": ...}`` tells a server how to turn a file into the network's input);
- ``"versions"``: package, MONAI and torch versions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from monai_medienet.utils import resolve_device

from .classifier import CLASSIFIERS, build_classifier

__all__ = ["CLASSIFIER_FORMAT", "LoadedClassifier", "load_classifier", "save_classifier"]

#: value of the ``"format"`` entry of a classifier checkpoint.
CLASSIFIER_FORMAT = "monai_medienet.classifier"
_FORMAT_VERSION = 1


@dataclass
class LoadedClassifier:
    """A classifier rebuilt from a checkpoint written by :func:`save_classifier`.

    Attributes:
        network: the network in eval mode on the requested device; ``(B, in_channels, H, W)`` -> ``(B, num_classes)``
            logits.
        arch: architecture name (a key of :data:`~monai_medienet.evaluation.CLASSIFIERS`).
        in_channels: image channels ``C``.
        num_classes: number of logits.
        classes: class names; label ``i`` means ``classes[i]``.
        image_size: spatial size ``(H, W)`` of the network's input.
        extra: the metadata stored with the weights.
        path: the file it was loaded from.
    """

    network: torch.nn.Module
    arch: str
    in_channels: int
    num_classes: int
    classes: list[str]
    image_size: tuple[int, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    path: str = ""


def _image_size(image_size: int | Sequence[int], where: str) -> tuple[int, int]:
    size = (int(image_size),) * 2 if isinstance(image_size, int) else tuple(int(s) for s in image_size)
    if len(size) != 2 or any(s < 1 for s in size):
        raise ValueError(f"{where}: image_size must be a positive int or two positive ints (H, W), got {image_size!r}.")
    return size  # type: ignore[return-value]


def save_classifier(
    network: torch.nn.Module,
    path: str | os.PathLike,
    *,
    arch: str,
    in_channels: int,
    num_classes: int,
    classes: Sequence[str],
    image_size: int | Sequence[int],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``network`` with the metadata needed to rebuild it (atomically: temporary file + ``os.replace``).

    Args:
        network: a classifier built by :func:`~monai_medienet.evaluation.build_classifier` with ``arch``,
            ``in_channels``, ``num_classes`` and ``min(image_size)``; ``(B, C, H, W)`` -> ``(B, K)`` logits.
        path: output file (parent folders are created).
        arch: architecture name, a key of :data:`~monai_medienet.evaluation.CLASSIFIERS`.
        in_channels: image channels ``C`` (>= 1).
        num_classes: number of logits ``K`` (>= 2).
        classes: ``K`` distinct class names, in label order.
        image_size: input spatial size ``(H, W)`` (an int means square).
        extra: JSON-serialisable metadata (e.g. ``{"preprocessing": {"intensity": "dtype", "resize_mode": "pad"}}``).

    Returns:
        The written path.

    Raises:
        ValueError: an unknown ``arch``, ``in_channels < 1``, ``num_classes < 2``, ``classes`` not ``num_classes``
            distinct names, a bad ``image_size``, ``extra`` not JSON-serialisable, or weights that do not fit the
            architecture described.
    """
    if arch not in CLASSIFIERS:
        raise ValueError(f"save_classifier: arch must be one of {sorted(CLASSIFIERS)}, got {arch!r}.")
    if int(in_channels) < 1:
        raise ValueError(f"save_classifier: in_channels must be >= 1, got {in_channels}.")
    if int(num_classes) < 2:
        raise ValueError(f"save_classifier: num_classes must be >= 2, got {num_classes}.")
    names = [str(c) for c in classes]
    if len(names) != int(num_classes) or len(set(names)) != len(names):
        raise ValueError(f"save_classifier: classes must be {num_classes} distinct names, got {names}.")
    size = _image_size(image_size, "save_classifier")
    extra = dict(extra or {})
    try:
        extra = json.loads(json.dumps(extra))  # plain types only: the file must load with weights_only=True
    except (TypeError, ValueError) as e:
        raise ValueError(f"save_classifier: extra must be JSON-serialisable, got {extra!r} ({e}).") from e
    state = {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}
    reference = build_classifier(arch, int(in_channels), int(num_classes), min(size)).state_dict()
    mismatch = sorted(
        k
        for k in set(reference) | set(state)
        if k not in state or k not in reference or state[k].shape != reference[k].shape
    )
    if mismatch:
        raise ValueError(
            f"save_classifier: the network's weights do not fit arch={arch!r}, in_channels={in_channels}, "
            f"num_classes={num_classes}; mismatched entries: {mismatch[:5]}."
        )
    import monai

    import monai_medienet
    from monai_medienet.handlers import atomic_torch_save

    checkpoint = {
        "format": CLASSIFIER_FORMAT,
        "format_version": _FORMAT_VERSION,
        "state_dict": state,
        "arch": arch,
        "in_channels": int(in_channels),
        "num_classes": int(num_classes),
        "classes": names,
        "image_size": list(size),
        "extra": extra,
        "versions": {
            "monai_medienet": str(monai_medienet.__version__),
            "monai": str(monai.__version__),
            "torch": str(torch.__version__),
        },
    }
    return atomic_torch_save(checkpoint, path)


def load_classifier(path: str | os.PathLike, device: str | torch.device | None = None) -> LoadedClassifier:
    """Rebuild a classifier written by :func:`save_classifier` (``torch.load(..., weights_only=True)``).

    Args:
        path: checkpoint file.
        device: target device (``"auto"``/None: CUDA when available, else CPU).

    Returns:
        A :class:`LoadedClassifier` whose ``network`` is in eval mode on ``device``.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not a classifier checkpoint of a known format version (e.g. a diffusion
            checkpoint was given).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_classifier: no file {str(path)!r}.")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, Mapping) or ckpt.get("format") != CLASSIFIER_FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, Mapping) else type(ckpt).__name__
        raise ValueError(
            f"load_classifier: {str(path)!r} is not a classifier checkpoint (format {found!r}, expected "
            f"{CLASSIFIER_FORMAT!r}; write one with monai_medienet.evaluation.save_classifier)."
        )
    if int(ckpt.get("format_version", -1)) > _FORMAT_VERSION:
        raise ValueError(
            f"load_classifier: {str(path)!r} has format_version {ckpt.get('format_version')}, this package reads "
            f"<= {_FORMAT_VERSION}."
        )
    size = _image_size(ckpt["image_size"], "load_classifier")
    network = build_classifier(ckpt["arch"], int(ckpt["in_channels"]), int(ckpt["num_classes"]), min(size))
    network.load_state_dict(ckpt["state_dict"])
    network = network.to(resolve_device(device)).eval()
    return LoadedClassifier(
        network=network,
        arch=str(ckpt["arch"]),
        in_channels=int(ckpt["in_channels"]),
        num_classes=int(ckpt["num_classes"]),
        classes=[str(c) for c in ckpt["classes"]],
        image_size=size,
        extra=dict(ckpt.get("extra") or {}),
        path=str(path),
    )
