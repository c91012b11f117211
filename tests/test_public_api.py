"""The public names promised by the README and docs import from the top level and from their subpackages."""

from __future__ import annotations

import importlib

import pytest

import monai_medienet

SUBPACKAGES = [
    "data",
    "engines",
    "evaluation",
    "handlers",
    "inferers",
    "io",
    "losses",
    "metrics",
    "networks",
    "schedulers",
    "transforms",
    "utils",
]


def test_top_level_names_resolve():
    missing = [name for name in monai_medienet.__all__ if not hasattr(monai_medienet, name)]
    assert missing == []
    assert monai_medienet.__version__.count(".") == 2


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_subpackage_all_resolves(name):
    module = importlib.import_module(f"monai_medienet.{name}")
    missing = [attr for attr in module.__all__ if not hasattr(module, attr)]
    assert missing == [], f"monai_medienet.{name}.__all__ lists names it does not define: {missing}"
