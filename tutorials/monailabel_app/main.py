"""A MONAI Label app serving a MedIENet evaluation classifier and a MedIENet generator.

Start it (in the MONAI Label environment, see README.md beside this file)::

    monailabel start_server --app tutorials/monailabel_app --studies <image folder> \
        --conf classifier_checkpoint <evaluation dir>/classifiers/real.pt \
        --conf diffusion_checkpoint <output dir>/checkpoints/diffusion.pt

``--conf`` options (all strings, as MONAI Label passes them):

- ``classifier_checkpoint``: a file written by ``monai_medienet.evaluation.save_classifier`` (e.g. the bundle's
  ``evaluate`` with ``--evaluation_config#save_classifiers true``) -> model ``medienet_classifier``;
- ``diffusion_checkpoint``: a diffusion checkpoint (``checkpoints/diffusion.pt``) -> model ``medienet_synthesis``;
- ``device``: ``auto`` (default), ``cpu`` or ``cuda[:i]``;
- ``classifier_intensity``, ``classifier_resize_mode``: override the preprocessing stored with the classifier
  (defaults: the checkpoint's, which the evaluation writes; else ``dtype`` / ``pad`` as in the PneumoniaMNIST bundle);
- ``classifier_orientation``: axis order of NIfTI/DICOM inputs (default ``raster``: the (rows, columns) order of the
  training PNGs, so a NIfTI that 3D Slicer wrote from a PNG is not classified on its side; or axis codes, e.g. ``RAS``);
- ``synthesis_crop_size``: e.g. ``28,28`` to undo the MedMNIST bundles' padding to 32 px (default: none);
- ``max_inference_steps``: the largest ``num_inference_steps`` a synthesis request may ask for (default 200);
- ``synthesis_clip_sample_range``, ``synthesis_clip_sample_range_end``: e.g. ``-2,2`` and ``-1.75,1.75``, a clamp
  (schedule, DPM-Solver++ requests) of the predicted latent for every synthesis request (default: the checkpoint's).

At least one of the two checkpoints is needed.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import monailabel
from monailabel.interfaces.app import MONAILabelApp
from monailabel.interfaces.tasks.infer_v2 import InferTask

from monai_medienet.apps.monailabel import MedIENetClassificationTask, MedIENetSynthesisTask

logger = logging.getLogger(__name__)


def _pair(key: str, value: str | None) -> list[float] | None:
    if not value:
        return None
    try:
        out = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        out = []
    if len(out) != 2:
        raise ValueError(f"MedIENetApp: {key} must look like '-2,2', got {value!r}.")
    return out


def _crop(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(v) for v in value.replace("x", ",").split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"MedIENetApp: synthesis_crop_size must look like '28,28', got {value!r}.") from None


class MedIENetApp(MONAILabelApp):
    """Registers ``medienet_classifier`` and/or ``medienet_synthesis`` from the ``--conf`` options.

    Args:
        app_dir: this folder.
        studies: the datastore (a folder of images).
        conf: ``--conf`` key/value pairs (see the module docstring).

    Raises:
        ValueError: neither checkpoint given, or a malformed option.
        FileNotFoundError: a checkpoint path that does not exist.
    """

    def __init__(self, app_dir: str, studies: str, conf: dict[str, str]) -> None:
        conf = dict(conf or {})
        self.classifier_checkpoint = conf.get("classifier_checkpoint") or None
        self.diffusion_checkpoint = conf.get("diffusion_checkpoint") or None
        if not self.classifier_checkpoint and not self.diffusion_checkpoint:
            raise ValueError(
                "MedIENetApp: give --conf classifier_checkpoint <file> and/or --conf diffusion_checkpoint <file>, "
                f"got conf {conf}."
            )
        for key in ("classifier_checkpoint", "diffusion_checkpoint"):
            path = getattr(self, key)
            if path and not os.path.isfile(path):
                raise FileNotFoundError(f"MedIENetApp: {key} {path!r} does not exist.")
        self.device = conf.get("device", "auto")
        super().__init__(
            app_dir=app_dir,
            studies=studies,
            conf=conf,
            name="MedIENet",
            description="MedIENet: a downstream classifier with Grad-CAM, and labelled synthetic images",
            version=monailabel.__version__,
        )

    def init_infers(self) -> dict[str, InferTask]:
        """The infer tasks, by model name."""
        infers: dict[str, Any] = {}
        if self.classifier_checkpoint:
            infers["medienet_classifier"] = MedIENetClassificationTask(
                self.classifier_checkpoint,
                device=self.device,
                intensity=self.conf.get("classifier_intensity") or None,
                resize_mode=self.conf.get("classifier_resize_mode") or None,
                orientation=self.conf.get("classifier_orientation") or None,
            )
        if self.diffusion_checkpoint:
            infers["medienet_synthesis"] = MedIENetSynthesisTask(
                self.diffusion_checkpoint,
                device=self.device,
                crop_size=_crop(self.conf.get("synthesis_crop_size")),
                max_inference_steps=int(self.conf.get("max_inference_steps", 200)),
                clip_sample_range=_pair("synthesis_clip_sample_range", self.conf.get("synthesis_clip_sample_range")),
                clip_sample_range_end=_pair(
                    "synthesis_clip_sample_range_end", self.conf.get("synthesis_clip_sample_range_end")
                ),
            )
        logger.info("MedIENet infer tasks: %s", sorted(infers))
        return infers
