"""Classification of one image by a saved classifier, with an optional Grad-CAM map (no MONAI Label needed)."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.visualize import GradCAM

from monai_medienet.evaluation.export import LoadedClassifier, load_classifier
from monai_medienet.transforms import INTENSITY_MODES, RASTER, RESIZE_MODES, image_preprocessing, validate_orientation

from .params import request_bool, request_str
from .writing import result_path, write_nifti

__all__ = ["ClassificationInference"]

_OWNER = "ClassificationInference"


class ClassificationInference:
    """Class probabilities of one image file and, on request, a Grad-CAM map written as NIfTI.

    The image is read with MONAI's readers (``PydicomReader`` for a DICOM file or series folder, ``NibabelReader``
    for NIfTI, ``PILReader`` for PNG/JPEG, through :func:`~monai_medienet.transforms.image_preprocessing`) and
    preprocessed as the evaluation's classifiers saw their images: ``in_channels`` channels, intensity to [0, 1]
    (``intensity``), fitted to the classifier's ``image_size`` (``resize_mode``), float32 ``(C, H, W)``. NIfTI and
    DICOM files are brought into the (rows, columns) order the classifier was trained in (``orientation="raster"``): a
    NIfTI that 3D Slicer / ITK wrote from a PNG is stored transposed and would otherwise be classified on its side.

    Args:
        checkpoint: a classifier checkpoint written by :func:`~monai_medienet.evaluation.save_classifier` (or one
            already loaded with :func:`~monai_medienet.evaluation.load_classifier`).
        device: compute device (``"auto"``/None: CUDA when available, else CPU).
        intensity: intensity mode of :func:`~monai_medienet.transforms.image_preprocessing`; ``None``: the
            checkpoint's ``extra["preprocessing"]["intensity"]``, else ``"dtype"`` (the bundles' setting).
        resize_mode: ``"pad"`` or ``"resize"``; ``None``: the checkpoint's ``extra["preprocessing"]["resize_mode"]``,
            else ``"pad"`` (the package default: fit with aspect kept, then zero-pad; a square image larger than the
            classifier's input is resized either way).
        target_layer: layer of the network whose activations Grad-CAM weighs (``"layer4"`` for MONAI ResNets).
        orientation: axis order of NIfTI/DICOM inputs (see :class:`~monai_medienet.transforms.LoadMedicalImage`);
            ``None``: the checkpoint's ``extra["preprocessing"]["orientation"]`` when it names one, else ``"raster"``
            (the order of the PNG/JPEG/npz images the bundles train on; PNGs and axial DICOM are not changed by it).

    Raises:
        FileNotFoundError: a missing checkpoint.
        ValueError: a file that is not a classifier checkpoint, an unknown ``intensity`` / ``resize_mode`` /
            ``orientation``, or a ``target_layer`` the network does not have.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike | LoadedClassifier,
        device: str | torch.device | None = None,
        intensity: str | None = None,
        resize_mode: str | None = None,
        target_layer: str = "layer4",
        orientation: str | None = None,
    ) -> None:
        self.classifier = (
            checkpoint if isinstance(checkpoint, LoadedClassifier) else load_classifier(checkpoint, device)
        )
        self.device = next(self.classifier.network.parameters()).device
        stored = self.classifier.extra.get("preprocessing") or {}
        self.intensity = str(intensity or stored.get("intensity", "dtype"))
        self.resize_mode = str(resize_mode or stored.get("resize_mode", "pad"))
        if self.intensity not in INTENSITY_MODES:
            raise ValueError(f"{_OWNER}: intensity must be one of {list(INTENSITY_MODES)}, got {self.intensity!r}.")
        if self.resize_mode not in RESIZE_MODES:
            raise ValueError(f"{_OWNER}: resize_mode must be one of {list(RESIZE_MODES)}, got {self.resize_mode!r}.")
        self.orientation = validate_orientation(orientation or stored.get("orientation") or RASTER, _OWNER)
        if target_layer not in dict(self.classifier.network.named_modules()):
            raise ValueError(f"{_OWNER}: target_layer {target_layer!r} is not a layer of the {self.classifier.arch}.")
        self.target_layer = target_layer
        self._cam: GradCAM | None = None  # built on the first map request
        self._cam_lock = threading.Lock()  # MONAI Label may run requests in threads; GradCAM keeps per-call state
        self.transform = image_preprocessing(
            self.classifier.image_size,
            channels=self.classifier.in_channels,
            intensity=self.intensity,
            resize_mode=self.resize_mode,
            label_key=None,
            track_meta=True,  # keeps the affine, updated by the resize/pad, for the Grad-CAM file
            orientation=self.orientation,
        )

    @property
    def classes(self) -> list[str]:
        """Class names; label ``i`` means ``classes[i]``."""
        return list(self.classifier.classes)

    def preprocess(self, image: str | os.PathLike | np.ndarray | torch.Tensor) -> torch.Tensor:
        """Load and preprocess one image.

        Args:
            image: a file path (DICOM file or series folder, NIfTI, PNG/JPEG, ...) or a channel-first array
                ``(C, H, W)``.

        Returns:
            ``(C, H, W)`` float32 in [0, 1] at the classifier's ``image_size`` (a ``MetaTensor`` with the affine
            when the reader provided one).

        Raises:
            ValueError: an unreadable or unsupported image (``ImageLoadError`` naming the file), or a 3D volume.
        """
        try:
            img = self.transform({"image": image})["image"]
        except RuntimeError as e:  # MONAI's Compose wraps a transform's error: report the transform's own message
            cause = e.__cause__ if isinstance(e.__cause__, ValueError) else None
            if cause is None:
                raise
            raise ValueError(f"{_OWNER}: cannot preprocess {str(image)!r}: {cause}") from e
        if img.ndim != 3:
            raise ValueError(f"{_OWNER}: the classifier takes 2D images, got a volume of shape {tuple(img.shape)}.")
        return img

    @torch.no_grad()
    def predict_proba(self, images: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities of preprocessed images.

        Args:
            images: ``(B, C, H, W)`` or one ``(C, H, W)`` image, float32 in [0, 1].

        Returns:
            ``(B, K)`` float32 probabilities on CPU (each row sums to 1).
        """
        x = torch.as_tensor(images).float()
        x = x.unsqueeze(0) if x.ndim == 3 else x
        logits = self.classifier.network.eval()(x.to(self.device))
        return torch.softmax(logits.float(), dim=1).cpu()

    def gradcam(self, image: torch.Tensor, class_index: int) -> np.ndarray:
        """Grad-CAM map of one preprocessed image for one class (MONAI's ``GradCAM`` on ``target_layer``, as
        :func:`~monai_medienet.evaluation.gradcam_maps` computes it for the report).

        Args:
            image: ``(C, H, W)`` preprocessed image.
            class_index: class whose evidence is shown.

        Returns:
            ``(H, W)`` float32 map in [0, 1].

        Raises:
            ValueError: a ``class_index`` outside ``[0, K)``.
        """
        if not 0 <= int(class_index) < self.classifier.num_classes:
            raise ValueError(
                f"{_OWNER}: class_index must be in [0, {self.classifier.num_classes}), got {class_index!r}."
            )
        # one MONAI GradCAM per network, built once: each GradCAM registers hooks on the layer and keeps no handles
        # (gradcam_maps builds one per call and removes its hooks afterwards)
        with self._cam_lock:
            if self._cam is None:
                self._cam = GradCAM(nn_module=self.classifier.network, target_layers=self.target_layer)
            x = torch.as_tensor(image).float().unsqueeze(0).to(self.device)
            cam = self._cam(x, class_idx=int(class_index))
            self.classifier.network.eval()
        return cam[0, 0].detach().cpu().numpy().astype(np.float32)

    def __call__(
        self, request: Mapping[str, Any], output_dir: str | os.PathLike | None = None
    ) -> tuple[str | None, dict]:
        """Run one request (the MONAI Label ``InferTask.__call__`` contract).

        Request keys: ``"image"`` (path, required), ``"gradcam"`` (bool, default false), ``"gradcam_class"``
        (class name whose evidence the map shows; default the predicted class). Other keys are ignored.

        Args:
            request: the request dict.
            output_dir: folder of the Grad-CAM file (``None``: a new temporary file, which MONAI Label deletes after
                sending it).

        Returns:
            ``(result_file, result_json)``: ``result_file`` is the Grad-CAM NIfTI (``None`` without ``gradcam``), on
            the classifier's input grid with the affine of the preprocessed image (the input's own for NIfTI and
            DICOM, moved by the resize/pad; identity for PNG/JPEG). ``result_json``: ``{"label": predicted class
            name, "label_index": int, "probabilities": {class name: p}, "classes": [...], "prediction": [{"idx",
            "label", "score"}, ...] (MONAI Label's classification format), "image_size": [H, W], "preprocessing":
            {"intensity", "resize_mode"}}`` plus ``"gradcam_class"`` with a map.

        Raises:
            ValueError: a missing ``image``, a non-boolean ``gradcam``, an unknown ``gradcam_class`` or an unreadable
                image, named in the message.
        """
        image = request_str(request, "image", None, _OWNER)
        want_cam = request_bool(request, "gradcam", False, _OWNER)
        # "" (the task's advertised default) or absent: the predicted class
        cam_class = (
            request_str(request, "gradcam_class", "", _OWNER, self.classes) if request.get("gradcam_class") else ""
        )
        x = self.preprocess(image)
        probs = self.predict_proba(x)[0]
        index = int(torch.argmax(probs))
        result: dict[str, Any] = {
            "label": self.classes[index],
            "label_index": index,
            "probabilities": {name: float(p) for name, p in zip(self.classes, probs.tolist())},
            "classes": self.classes,
            "prediction": [
                {"idx": i, "label": n, "score": float(p)} for i, (n, p) in enumerate(zip(self.classes, probs))
            ],
            "image_size": list(self.classifier.image_size),
            "preprocessing": {
                "intensity": self.intensity,
                "resize_mode": self.resize_mode,
                "orientation": self.orientation,
            },
        }
        if not want_cam:
            return None, result
        target = self.classes.index(cam_class) if cam_class else index
        cam = self.gradcam(x, target)
        affine = getattr(x, "affine", None)
        path = result_path(output_dir, Path(str(image)).name.split(".")[0] + "_gradcam")
        write_nifti(cam, path, affine=None if affine is None else np.asarray(affine, dtype=np.float64))
        result["gradcam_class"] = self.classes[target]
        return str(path), result
