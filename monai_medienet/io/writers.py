"""Write synthetic images (PNG 8/16-bit, NIfTI, DICOM Secondary Capture marked SyntheticData=YES) + a manifest CSV.

Every file is written atomically (temporary file in the same folder, then a hard link / ``os.replace``), never
over an existing file unless ``overwrite=True``. The manifest (``manifest.csv``, one row per image, paths relative to
the output folder) and its sidecar ``manifest.json`` (class names, provenance) load with
:func:`monai_medienet.data.manifest_source`.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from monai_medienet.transforms.geometry import raster_affine
from monai_medienet.utils import ClassMap

__all__ = ["MANIFEST_COLUMNS", "SyntheticImageWriter", "read_manifest"]

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS: tuple[str, ...] = (
    "path",
    "label",
    "class_name",
    "seed",
    "guidance_scale",
    "sampler",
    "steps",
    "checkpoint_sha256",
    "package_version",
    "monai_version",
    "format",
    "bit_depth",
    "clipped_fraction",
    "time",
)
"""Fixed manifest columns, in order; extra keyword arguments of ``write`` become further columns."""

_PROVENANCE_COLUMNS = ("guidance_scale", "sampler", "steps", "checkpoint_sha256")
_INT_COLUMNS = ("label", "seed", "steps", "bit_depth", "batch_index", "source")
_FLOAT_COLUMNS = ("guidance_scale", "clipped_fraction")
_EXT = {"png": ".png", "nifti": ".nii.gz", "dicom": ".dcm"}
_SC_STORAGE = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture Image Storage


def _versions() -> tuple[str, str]:
    import monai

    import monai_medienet

    return str(getattr(monai_medienet, "__version__", "unknown")), str(monai.__version__)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "class"


def _atomic_write(path: Path, data: bytes, overwrite: bool) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder; refuse to replace unless ``overwrite``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and fails when path exists
            except FileExistsError:
                raise FileExistsError(
                    f"SyntheticImageWriter: {path} already exists; pass overwrite=True to replace it."
                ) from None
            except OSError:  # filesystems without hard links
                if path.exists():
                    raise FileExistsError(
                        f"SyntheticImageWriter: {path} already exists; pass overwrite=True to replace it."
                    ) from None
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class SyntheticImageWriter:
    """Write generated images with provenance and keep a manifest CSV of them.

    Files go to ``output_dir/<class>/<class>_seed<seed>[_<name>].<ext>``; rows go to ``output_dir/manifest.csv``
    (flushed every ``flush_every`` writes, on :meth:`flush`, :meth:`close` and when leaving a ``with`` block) and the
    class names + provenance to ``output_dir/manifest.json``. An existing manifest in ``output_dir`` is resumed
    (its class names must match).

    Formats: ``"png"`` (1 channel 8/16-bit or 3 channels 8-bit; provenance in a PNG text chunk), ``"nifti"``
    (``.nii.gz``, 2D/3D, 1 channel, integer storage with ``scl_slope`` so readers get [0, 1]; affine
    :func:`~monai_medienet.transforms.raster_affine`, so ITK-based viewers show it like the PNG; provenance in header
    ``descrip`` and a JSON comment extension), ``"dicom"`` (2D, 1 channel, Secondary Capture with SyntheticData=YES,
    ConversionType=SYN, ImageType DERIVED\\SECONDARY, a ContributingEquipmentSequence item with purpose
    (109100, DCM, "Synthesizing Equipment"), PatientIdentityRemoved=YES, BurnedInAnnotation=NO, fresh UIDs).

    Args:
        output_dir: output folder (created).
        classes: class names in label order (or a ``ClassMap``).
        fmt: ``"png"``, ``"nifti"`` or ``"dicom"``.
        bit_depth: 8 or 16 (integer quantisation of [0, 1]).
        overwrite: allow replacing existing image files.
        provenance: defaults for the manifest's provenance columns (``guidance_scale``, ``sampler``, ``steps`` or
            ``num_inference_steps``, ``checkpoint_sha256`` — computed from ``provenance["checkpoint"]`` when that is
            an existing file) and anything else to store in ``manifest.json`` and in each file (plain JSON types).
        flush_every: rewrite the manifest every this many writes (0: only on flush/close).

    Raises:
        ValueError: invalid ``fmt``, ``bit_depth``, ``classes`` or non-JSON provenance; an existing manifest with other
            class names.
    """

    def __init__(
        self,
        output_dir: str | os.PathLike,
        classes: Sequence[str] | ClassMap,
        fmt: str = "png",
        bit_depth: int = 8,
        overwrite: bool = False,
        provenance: dict | None = None,
        flush_every: int = 100,
    ) -> None:
        if fmt not in _EXT:
            raise ValueError(f"SyntheticImageWriter: fmt must be one of {sorted(_EXT)}, got {fmt!r}.")
        if bit_depth not in (8, 16):
            raise ValueError(f"SyntheticImageWriter: bit_depth must be 8 or 16, got {bit_depth!r}.")
        if int(flush_every) < 0:
            raise ValueError(f"SyntheticImageWriter: flush_every must be >= 0, got {flush_every}.")
        self.class_map = classes if isinstance(classes, ClassMap) else ClassMap(classes)
        self.output_dir = Path(output_dir).expanduser()
        self.fmt = fmt
        self.bit_depth = int(bit_depth)
        self.overwrite = bool(overwrite)
        self.provenance = dict(provenance or {})
        try:
            self._provenance_json = json.dumps(self.provenance, sort_keys=True)
        except TypeError as e:
            raise ValueError(f"SyntheticImageWriter: provenance must hold plain JSON types ({e}).") from e
        self.flush_every = int(flush_every)
        self._defaults = self._provenance_defaults(self.provenance)
        self.package_version, self.monai_version = _versions()
        self.manifest_path = self.output_dir / "manifest.csv"
        self.sidecar_path = self.output_dir / "manifest.json"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict] = []
        self._pending = 0
        self._uids: dict[str, str] = {}
        if self.manifest_path.is_file():
            if self.sidecar_path.is_file():
                old = json.loads(self.sidecar_path.read_text()).get("classes")
                if old is not None and list(old) != self.class_map.classes:
                    raise ValueError(
                        f"SyntheticImageWriter: {self.manifest_path} was written for classes {old!r}, not "
                        f"{self.class_map.classes!r}; use another output_dir."
                    )
            self.rows = [{k: ("" if v is None else v) for k, v in r.items()} for r in read_manifest(self.manifest_path)]

    @staticmethod
    def _provenance_defaults(provenance: dict) -> dict:
        """Manifest provenance columns from the provenance dict (``num_inference_steps`` is accepted for ``steps``;
        ``checkpoint_sha256`` is computed from a ``checkpoint`` file path when not given)."""
        out = {k: provenance.get(k, "") for k in _PROVENANCE_COLUMNS}
        if out["steps"] == "" and "num_inference_steps" in provenance:
            out["steps"] = provenance["num_inference_steps"]
        ckpt = provenance.get("checkpoint")
        if out["checkpoint_sha256"] == "" and isinstance(ckpt, str) and os.path.isfile(ckpt):
            from monai_medienet.data.fingerprints import file_sha256

            out["checkpoint_sha256"] = file_sha256(ckpt)
        return out

    # ------------------------------------------------------------------ public API
    def write(
        self, image: torch.Tensor | np.ndarray, label: int, seed: int, name: str | None = None, **extra: Any
    ) -> Path:
        """Write one image and record it in the manifest.

        Args:
            image: ``(C, H, W)`` or ``(C, H, W, D)`` in [0, 1] (values outside are clipped; the clipped fraction is
                recorded).
            label: class index in ``[0, num_classes)``.
            seed: the sampling seed of this image (part of the file name).
            name: extra file-name suffix (e.g. the index within a batch) to keep names unique.
            extra: per-image manifest columns; ``guidance_scale``, ``sampler``, ``steps``, ``checkpoint_sha256``
                override the writer's ``provenance`` defaults.

        Returns:
            Path of the written file.

        Raises:
            ValueError: wrong shape/channels for the format, NaN/Inf values, label outside the class map.
            FileExistsError: the file exists and ``overwrite=False`` (message names the file).
        """
        arr = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
        arr = arr.astype(np.float32, copy=False)
        if arr.ndim not in (3, 4):
            raise ValueError(f"SyntheticImageWriter: image must be (C, H, W) or (C, H, W, D), got shape {arr.shape}.")
        if not np.isfinite(arr).all():
            raise ValueError(f"SyntheticImageWriter: image for seed {seed} has NaN/Inf values.")
        label = int(label)
        class_name = self.class_map.name(label)  # raises on a bad label
        clipped = float(((arr < 0) | (arr > 1)).mean())
        q = self._quantise(np.clip(arr, 0.0, 1.0))

        cls = _safe(class_name)
        stem = f"{cls}_seed{int(seed)}" + (f"_{_safe(str(name))}" if name is not None else "")
        rel = Path(cls) / f"{stem}{_EXT[self.fmt]}"
        path = self.output_dir / rel
        if path.exists() and not self.overwrite:
            raise FileExistsError(f"SyntheticImageWriter: {path} already exists; pass overwrite=True to replace it.")
        row = {
            "path": rel.as_posix(),
            "label": label,
            "class_name": class_name,
            "seed": int(seed),
            **self._defaults,
            "package_version": self.package_version,
            "monai_version": self.monai_version,
            "format": self.fmt,
            "bit_depth": self.bit_depth,
            "clipped_fraction": round(clipped, 6),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        row.update({k: v for k, v in extra.items()})
        data = {"png": self._png_bytes, "nifti": self._nifti_bytes, "dicom": self._dicom_bytes}[self.fmt](q, row)
        _atomic_write(path, data, self.overwrite)
        self.rows = [r for r in self.rows if r.get("path") != row["path"]] + [row]
        self._pending += 1
        if self.flush_every and self._pending >= self.flush_every:
            self.flush()
        return path

    def write_batch(
        self,
        images: torch.Tensor | np.ndarray,
        labels: Sequence[int] | torch.Tensor,
        seeds: Sequence[int] | int,
        **extra: Any,
    ) -> list[Path]:
        """Write a batch ``(B, C, H, W[, D])``; ``seeds`` is one seed per image, or one batch seed (then the file
        names get the index in the batch).

        Returns:
            The written paths, in batch order.
        """
        labels = [int(x) for x in (labels.tolist() if isinstance(labels, torch.Tensor) else labels)]
        if len(labels) != len(images):
            raise ValueError(f"SyntheticImageWriter: {len(images)} images but {len(labels)} labels.")
        if isinstance(seeds, (int, np.integer)):
            return [
                self.write(images[i], labels[i], int(seeds), name=str(i), batch_index=i, **extra)
                for i in range(len(labels))
            ]
        seeds = list(seeds)
        if len(seeds) != len(labels):
            raise ValueError(f"SyntheticImageWriter: {len(images)} images but {len(seeds)} seeds.")
        return [self.write(images[i], labels[i], int(seeds[i]), **extra) for i in range(len(labels))]

    def flush(self) -> None:
        """Rewrite ``manifest.csv`` (atomically) and ``manifest.json`` with every row so far."""
        extra_cols = sorted({k for r in self.rows for k in r} - set(MANIFEST_COLUMNS))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(MANIFEST_COLUMNS) + extra_cols, lineterminator="\n")
        writer.writeheader()
        for r in self.rows:
            writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
        _atomic_write(self.manifest_path, buf.getvalue().encode(), overwrite=True)
        sidecar = {
            "classes": self.class_map.classes,
            "provenance": self.provenance,
            "format": self.fmt,
            "bit_depth": self.bit_depth,
            "package_version": self.package_version,
            "monai_version": self.monai_version,
            "num_images": len(self.rows),
        }
        _atomic_write(self.sidecar_path, json.dumps(sidecar, indent=2, sort_keys=True).encode(), overwrite=True)
        self._pending = 0

    def close(self) -> None:
        """Flush the manifest."""
        self.flush()

    def __enter__(self) -> SyntheticImageWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.rows)

    # ------------------------------------------------------------------ formats
    def _quantise(self, arr: np.ndarray) -> np.ndarray:
        top = (1 << self.bit_depth) - 1
        return np.rint(arr * top).astype(np.uint8 if self.bit_depth == 8 else np.uint16)

    def _file_provenance(self, row: dict) -> str:
        return json.dumps({"medienet": {k: row[k] for k in row}, "provenance": self.provenance}, default=str)

    def _png_bytes(self, q: np.ndarray, row: dict) -> bytes:
        from PIL import Image, PngImagePlugin

        c = q.shape[0]
        if q.ndim != 3 or c not in (1, 3) or (c == 3 and self.bit_depth != 8):
            raise ValueError(
                f"SyntheticImageWriter: PNG needs (1, H, W) (8/16-bit) or (3, H, W) (8-bit), got {q.shape} at "
                f"{self.bit_depth}-bit; use fmt='nifti' for volumes."
            )
        img = Image.fromarray(q[0] if c == 1 else np.moveaxis(q, 0, -1))
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", f"monai_medienet {self.package_version}")
        info.add_text("Description", "SYNTHETIC image generated by MedIENet; not a real patient image.")
        info.add_itxt("medienet_provenance", self._file_provenance(row))
        out = io.BytesIO()
        img.save(out, format="PNG", pnginfo=info)
        return out.getvalue()

    def _nifti_bytes(self, q: np.ndarray, row: dict) -> bytes:
        import nibabel as nib

        if q.shape[0] != 1:
            raise ValueError(f"SyntheticImageWriter: NIfTI output needs one channel, got shape {q.shape}.")
        img = nib.Nifti1Image(q[0], raster_affine())  # opens like the PNG twin in ITK-based viewers
        img.header.set_data_dtype(q.dtype)
        img.header.set_slope_inter(1.0 / ((1 << self.bit_depth) - 1), 0.0)
        descrip = f"SYNTHETIC MedIENet {row['class_name']} seed={row['seed']}"
        img.header["descrip"] = descrip[:79].encode()
        img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", self._file_provenance(row).encode()))
        buf = io.BytesIO()
        file_map = nib.Nifti1Image.make_file_map({"image": buf, "header": buf})
        img.to_file_map(file_map)
        return gzip.compress(buf.getvalue(), mtime=0)

    def _uid(self, key: str) -> str:
        from pydicom.uid import generate_uid

        if key not in self._uids:
            self._uids[key] = generate_uid()
        return self._uids[key]

    def _dicom_bytes(self, q: np.ndarray, row: dict) -> bytes:
        from pydicom.dataset import Dataset, FileMetaDataset
        from pydicom.sequence import Sequence as DicomSequence
        from pydicom.uid import ExplicitVRLittleEndian, generate_uid

        if q.ndim != 3 or q.shape[0] != 1:
            raise ValueError(f"SyntheticImageWriter: DICOM output needs a (1, H, W) image, got shape {q.shape}.")
        now = datetime.datetime.now(datetime.timezone.utc)
        date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
        sop_uid = generate_uid()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = _SC_STORAGE
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.SOPClassUID = _SC_STORAGE
        ds.SOPInstanceUID = sop_uid
        ds.StudyInstanceUID = self._uid("study")
        ds.SeriesInstanceUID = self._uid(f"series/{row['label']}")
        ds.FrameOfReferenceUID = self._uid("frame")
        ds.ImageType = ["DERIVED", "SECONDARY"]
        ds.Modality = "OT"
        ds.ConversionType = "SYN"
        ds.SyntheticData = "YES"
        ds.BurnedInAnnotation = "NO"
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "Synthetic image generated by MedIENet; no patient data"  # Type 1C with YES
        ds.PatientName = "SYNTHETIC^MEDIENET"
        ds.PatientID = f"SYN-{row['seed']}"
        ds.PatientBirthDate = ""  # Type 2 attributes: present, empty
        ds.PatientSex = ""
        ds.ReferringPhysicianName = ""
        ds.AccessionNumber = ""
        ds.PatientOrientation = ""
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = date
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = time
        ds.StudyID = "MEDIENET"
        ds.SeriesNumber = int(row["label"]) + 1
        ds.InstanceNumber = len(self.rows) + 1
        ds.StudyDescription = "MedIENet synthetic images"
        ds.SeriesDescription = f"MedIENet synthetic {row['class_name']}"[:64]
        ds.DerivationDescription = f"Synthesized by MedIENet latent diffusion, class {row['class_name']}"[:1024]
        ds.ImageComments = self._file_provenance(row)[:10240]
        ds.Manufacturer = "monai_medienet"
        ds.SoftwareVersions = self.package_version
        purpose = Dataset()
        purpose.CodeValue = "109100"
        purpose.CodingSchemeDesignator = "DCM"
        purpose.CodeMeaning = "Synthesizing Equipment"
        equipment = Dataset()
        equipment.Manufacturer = "monai_medienet"
        equipment.ManufacturerModelName = "MedIENet"
        equipment.SoftwareVersions = self.package_version
        equipment.ContributionDateTime = now.strftime("%Y%m%d%H%M%S")
        equipment.ContributionDescription = (
            f"Synthetic image; sampler={row.get('sampler', '')} steps={row.get('steps', '')} "
            f"guidance={row.get('guidance_scale', '')} seed={row['seed']}"
        )[:1024]
        equipment.PurposeOfReferenceCodeSequence = DicomSequence([purpose])
        ds.ContributingEquipmentSequence = DicomSequence([equipment])
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = int(q.shape[1]), int(q.shape[2])
        ds.BitsAllocated = 8 if self.bit_depth == 8 else 16
        ds.BitsStored = self.bit_depth
        ds.HighBit = self.bit_depth - 1
        ds.PixelRepresentation = 0
        ds.LossyImageCompression = "00"
        ds.PixelData = np.ascontiguousarray(q[0]).astype(q.dtype.newbyteorder("<")).tobytes()
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        return buf.getvalue()


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Read a manifest CSV written by :class:`SyntheticImageWriter` (a manifest file or its folder).

    Args:
        path: ``manifest.csv`` or the folder holding it.

    Returns:
        One dict per row; ``label``, ``seed``, ``steps``, ``bit_depth``, ``batch_index``, ``source`` (a pooled
        manifest's source index) as int, ``guidance_scale`` and ``clipped_fraction`` as float, empty cells as
        ``None``; ``path`` as written (relative to the manifest folder).

    Raises:
        FileNotFoundError: no manifest there.
        ValueError: a numeric column that does not parse (message names file and row).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.csv"
    if not path.is_file():
        raise FileNotFoundError(f"read_manifest: {path} not found.")
    out: list[dict] = []
    with open(path, newline="") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=2):
            rec: dict = {}
            for k, v in row.items():
                if v is None or v == "":
                    rec[k] = None
                elif k in _INT_COLUMNS or k in _FLOAT_COLUMNS:
                    try:
                        rec[k] = int(v) if k in _INT_COLUMNS else float(v)
                    except ValueError:
                        raise ValueError(
                            f"read_manifest: {path} row {row_no}: column {k!r} = {v!r} is not a number."
                        ) from None
                else:
                    rec[k] = v
            out.append(rec)
    return out
