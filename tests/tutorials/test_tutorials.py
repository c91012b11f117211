"""Every tutorial notebook runs top to bottom (code cells executed in order, in one namespace)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[2] / "tutorials").glob("*.ipynb"))


def test_tutorials_exist():
    assert TUTORIALS, "no tutorial notebooks found"


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs(path, pneumoniamnist_npz, monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIENET_DATA_DIR", str(pneumoniamnist_npz.parent))
    monkeypatch.setenv("MEDIENET_TUTORIAL_STEPS", "4")  # classifier steps per run in the evaluation tutorial
    monkeypatch.delenv("MEDIENET_SYNTHETIC_MANIFEST", raising=False)
    monkeypatch.chdir(tmp_path)
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    exec(compile(code, str(path), "exec"), {"__name__": "__tutorial__"})
