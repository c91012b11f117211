"""Thin MONAI Label ``InferTask`` adapters around :class:`ClassificationInference` and :class:`SynthesisInference`.

MONAI Label (``monailabel``) pins older numpy / pydicom releases than this package, so it lives in its own virtual
environment (see the user guide, "Serving with MONAI Label"). This module imports without it: the adapters are then
placeholders whose constructor raises an ``ImportError`` naming that environment.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from monai.utils import optional_import

from .classification import ClassificationInference
from .synthesis import SynthesisInference

__all__ = ["HAS_MONAILABEL", "MONAILABEL_HINT", "MedIENetClassificationTask", "MedIENetSynthesisTask"]

_infer_v2, HAS_MONAILABEL = optional_import("monailabel.interfaces.tasks.infer_v2")

#: what to do when ``monailabel`` is missing.
MONAILABEL_HINT = (
    "monailabel is not importable in this Python environment. MONAI Label pins numpy<2 and pydicom<3, so it lives in "
    "its own virtual environment, e.g. /work/main/.venv-monailabel: python3 -m venv .venv-monailabel && "
    ". .venv-monailabel/bin/activate && pip install torch==2.13.0 && pip install -c constraints.txt monailabel && "
    "pip install --no-deps -e . (constraints.txt and the exact steps: docs/user_guide.md, 'Serving with MONAI "
    "Label'). The plain classes ClassificationInference and SynthesisInference work without it."
)


def _require_monailabel(owner: str) -> None:
    if not HAS_MONAILABEL:
        raise ImportError(f"{owner}: {MONAILABEL_HINT}")


if HAS_MONAILABEL:
    from fastapi import HTTPException  # a MONAI Label dependency

    _InferTaskBase: Any = _infer_v2.InferTask
    _InferType: Any = _infer_v2.InferType

    class InvalidInferRequest(HTTPException, ValueError):
        """A bad request parameter: HTTP 400 with the message for MONAI Label's REST clients, ``ValueError`` for
        Python callers (MONAI Label turns any other error into a bare HTTP 500)."""

        def __init__(self, message: str) -> None:
            super().__init__(status_code=400, detail=message)

        def __str__(self) -> str:
            return str(self.detail)

else:  # placeholders so that the module imports; constructing an adapter raises

    class _InferTaskBase:  # type: ignore[no-redef]
        pass

    _InferType = None


class MedIENetClassificationTask(_InferTaskBase):
    """MONAI Label classification task (``InferType.CLASSIFICATION``) serving a saved classifier.

    ``__call__(request)`` returns ``(gradcam NIfTI path | None, result json)`` as
    :meth:`ClassificationInference.__call__` documents; request params: ``gradcam`` (bool), ``gradcam_class``.

    Args:
        checkpoint: classifier checkpoint (:func:`~monai_medienet.evaluation.save_classifier`).
        device: compute device (``"auto"``/None: CUDA when available, else CPU).
        intensity: preprocessing intensity mode (``None``: the checkpoint's, else ``"dtype"``).
        resize_mode: ``"pad"`` or ``"resize"`` (``None``: the checkpoint's, else ``"pad"``).
        orientation: axis order of NIfTI/DICOM inputs (``None``: the checkpoint's, else ``"raster"``; see
            :class:`ClassificationInference`).
        description: shown in MONAI Label's ``/info``.

    Raises:
        ImportError: when ``monailabel`` is not installed (the message names the separate environment).
        FileNotFoundError, ValueError: see :class:`ClassificationInference`.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike,
        device: str | torch.device | None = None,
        intensity: str | None = None,
        resize_mode: str | None = None,
        orientation: str | None = None,
        description: str = "MedIENet evaluation classifier: class probabilities and an optional Grad-CAM map",
    ) -> None:
        _require_monailabel(type(self).__name__)
        self.logic = ClassificationInference(
            checkpoint, device=device, intensity=intensity, resize_mode=resize_mode, orientation=orientation
        )
        super().__init__(
            type=_InferType.CLASSIFICATION,
            labels=self.logic.classes,
            dimension=2,
            description=description,
            config={"gradcam": False, "gradcam_class": ""},
        )
        self.path = str(checkpoint)

    def get_path(self) -> str:
        """The classifier checkpoint file."""
        return self.path

    def is_valid(self) -> bool:
        """True while the checkpoint file exists."""
        return os.path.isfile(self.path)

    def __call__(self, request: dict) -> tuple[str | None, dict]:
        """Classify ``request["image"]``; see :meth:`ClassificationInference.__call__`.

        Raises:
            InvalidInferRequest: (a ``ValueError``, HTTP 400 through MONAI Label) a bad parameter or image.
        """
        try:
            return self.logic(request)
        except ValueError as e:
            raise InvalidInferRequest(str(e)) from e


class MedIENetSynthesisTask(_InferTaskBase):
    """MONAI Label task (``InferType.OTHERS``) that returns one labelled synthetic image per request.

    MONAI Label's ``/infer`` needs an ``image`` (any datastore image id): it is ignored. Request params: ``label``
    (class name), ``seed``, ``num_inference_steps``, ``guidance_scale``, ``sampler``
    (see :meth:`SynthesisInference.parse_request`).

    Args:
        checkpoint: diffusion checkpoint (``diffusion.pt``).
        device: compute device (``"auto"``/None: CUDA when available, else CPU).
        crop_size: centre-crop of the generated image (``None``: the model's size).
        max_inference_steps: largest ``num_inference_steps`` a request may ask for.
        sampler: default sampler of a request (``None``: see :class:`SynthesisInference`).
        num_inference_steps: default solver steps of a request.
        guidance_scale: default guidance scale of a request.
        clip_sample_range: server-side clamp of the predicted latent (``None``: the checkpoint's).
        clip_sample_range_end: clean-end range of a DPM-Solver++ clamp schedule (``None``: none).
        description: shown in MONAI Label's ``/info``.

    Raises:
        ImportError: when ``monailabel`` is not installed (the message names the separate environment).
        FileNotFoundError, KeyError, ValueError: see :class:`SynthesisInference`.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike,
        device: str | torch.device | None = None,
        crop_size: Sequence[int] | None = None,
        max_inference_steps: int = 200,
        sampler: str | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        clip_sample_range: Sequence[float] | None = None,
        clip_sample_range_end: Sequence[float] | None = None,
        description: str = "MedIENet class-conditional latent diffusion: one labelled synthetic image per request",
    ) -> None:
        _require_monailabel(type(self).__name__)
        self.logic = SynthesisInference(
            checkpoint,
            device=device,
            crop_size=crop_size,
            sampler=sampler,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
            max_inference_steps=max_inference_steps,
            clip_sample_range=clip_sample_range,
            clip_sample_range_end=clip_sample_range_end,
        )
        super().__init__(
            type=_InferType.OTHERS,
            labels=self.logic.classes,
            dimension=2,
            description=description,
            config={"label": self.logic.classes[0], "seed": 0, **self.logic.defaults},
        )
        self.path = str(checkpoint)

    def get_path(self) -> str:
        """The diffusion checkpoint file."""
        return self.path

    def is_valid(self) -> bool:
        """True while the checkpoint file exists."""
        return os.path.isfile(self.path)

    def __call__(self, request: dict) -> tuple[str, dict]:
        """Sample one image; see :meth:`SynthesisInference.__call__`.

        Raises:
            InvalidInferRequest: (a ``ValueError``, HTTP 400 through MONAI Label) a bad parameter.
        """
        try:
            return self.logic(request)
        except ValueError as e:
            raise InvalidInferRequest(str(e)) from e
