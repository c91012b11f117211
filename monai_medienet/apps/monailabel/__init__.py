"""MONAI Label integration: infer tasks that a MONAI Label app registers in ``init_infers``.

The logic lives in plain classes that need no ``monailabel`` (:class:`ClassificationInference`,
:class:`SynthesisInference`); :class:`MedIENetClassificationTask` and :class:`MedIENetSynthesisTask` subclass MONAI
Label's ``InferTask`` when ``monailabel`` is importable (it lives in its own virtual environment: it pins numpy<2 and
pydicom<3). Importing this package never needs ``monailabel``; ``HAS_MONAILABEL`` tells whether it is there.
The sample app is ``tutorials/monailabel_app``.
"""

from __future__ import annotations

from .classification import ClassificationInference
from .params import request_bool, request_float, request_int, request_str
from .synthesis import SynthesisInference
from .tasks import HAS_MONAILABEL, MONAILABEL_HINT, MedIENetClassificationTask, MedIENetSynthesisTask
from .writing import result_path, write_nifti

__all__ = [
    "HAS_MONAILABEL",
    "MONAILABEL_HINT",
    "ClassificationInference",
    "MedIENetClassificationTask",
    "MedIENetSynthesisTask",
    "SynthesisInference",
    "request_bool",
    "request_float",
    "request_int",
    "request_str",
    "result_path",
    "write_nifti",
]
