"""Shared fixtures: the real data directory (skipped with a reason when absent) and seeding."""

from __future__ import annotations

import pytest
import torch

from monai_medienet.utils import DATA_DIR_ENV, get_data_dir


def _require(path, what: str):
    if not path.exists():
        pytest.skip(f"{what} not found at {path}; set {DATA_DIR_ENV} to the directory holding the shared data.")
    return path


@pytest.fixture(scope="session")
def data_dir():
    """The real data directory (``MEDIENET_DATA_DIR`` or ``../shared/data``); skips when missing."""
    return _require(get_data_dir(), "the shared data directory")


@pytest.fixture(scope="session")
def pneumoniamnist_npz(data_dir):
    return _require(data_dir / "pneumoniamnist.npz", "pneumoniamnist.npz")


@pytest.fixture(scope="session")
def breastmnist_npz(data_dir):
    return _require(data_dir / "breastmnist.npz", "breastmnist.npz")


@pytest.fixture(scope="session")
def chest_xray_dir(data_dir):
    return _require(data_dir / "chest_xray_pneumonia", "the chest X-ray JPEG folders")


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield
