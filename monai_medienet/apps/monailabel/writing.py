"""Result files of the MONAI Label tasks: a 2D map or image as NIfTI (nibabel)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import torch

__all__ = ["result_path", "write_nifti"]


def result_path(output_dir: str | os.PathLike | None, stem: str) -> Path:
    """Where a task writes its result file.

    Args:
        output_dir: a folder (created when missing), or ``None`` for a new temporary file (MONAI Label deletes a
            result file after sending it).
        stem: file name without the ``.nii.gz`` suffix (used with ``output_dir``).

    Returns:
        The path of the ``.nii.gz`` file to write.
    """
    if output_dir is None:
        fd, name = tempfile.mkstemp(suffix=".nii.gz", prefix="medienet_")
        os.close(fd)
        return Path(name)
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    return Path(output_dir) / f"{stem}.nii.gz"


def write_nifti(array: np.ndarray | torch.Tensor, path: str | os.PathLike, affine: np.ndarray | None = None) -> Path:
    """Write a 2D array ``(H, W)`` (or ``(1, H, W)``) as a float32 NIfTI image.

    Args:
        array: the map or image; ``(H, W)`` or channel-first with one channel.
        path: output file (``.nii.gz``).
        affine: ``(4, 4)`` voxel-to-world matrix (RAS, as MONAI's readers give it); ``None``: identity.

    Returns:
        The written path.

    Raises:
        ValueError: an array that is not 2D (after dropping a single channel) or an affine that is not 4x4.
    """
    arr = torch.as_tensor(array).detach().cpu().float()
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(f"write_nifti: expected a (H, W) or (1, H, W) array, got shape {tuple(arr.shape)}.")
    aff = np.eye(4) if affine is None else np.asarray(affine, dtype=np.float64)
    if aff.shape != (4, 4):
        raise ValueError(f"write_nifti: affine must be 4x4, got shape {aff.shape}.")
    nib.save(nib.Nifti1Image(arr.numpy().astype(np.float32), aff), str(path))
    return Path(path)
