"""Applications built on the package: serving its models through other MONAI tools.

- :mod:`monai_medienet.apps.monailabel`: MONAI Label infer tasks (a classifier with Grad-CAM, a synthesis task).
"""

from __future__ import annotations
