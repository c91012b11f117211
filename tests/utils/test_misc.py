from __future__ import annotations

import pytest
import torch

from monai_medienet.utils import ClassMap, configure_threads, get_data_dir, resolve_device


def test_class_map_null_index_and_lookup():
    cm = ClassMap(["normal", "pneumonia"])
    assert cm.num_classes == 2 and cm.null_index == 2
    assert cm.index("pneumonia") == 1 and cm.name(0) == "normal"
    with pytest.raises(ValueError, match="ClassMap.*'tumour'"):
        cm.index("tumour")
    with pytest.raises(ValueError, match="ClassMap.*2"):
        cm.name(2)


@pytest.mark.parametrize("bad", [[], ["a", "a"], ["a", ""]])
def test_class_map_rejects_bad(bad):
    with pytest.raises(ValueError, match="ClassMap"):
        ClassMap(bad)


def test_data_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIENET_DATA_DIR", str(tmp_path))
    assert get_data_dir() == tmp_path
    assert get_data_dir(tmp_path / "x") == tmp_path / "x"


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type in {"cpu", "cuda"}
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")


def test_configure_threads_env(monkeypatch):
    monkeypatch.setenv("MEDIENET_NUM_THREADS", "1")
    assert configure_threads() == 1
    assert configure_threads(2) == 2  # an explicit count wins
    monkeypatch.setenv("MEDIENET_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="MEDIENET_NUM_THREADS.*'zero'"):
        configure_threads()


def test_meta_tracking_sets_and_restores_monai_flag():
    import pytest
    from monai.data import get_track_meta

    from monai_medienet.utils import meta_tracking

    assert get_track_meta() is True
    with meta_tracking(False):
        assert get_track_meta() is False
        with meta_tracking(True):
            assert get_track_meta() is True
        assert get_track_meta() is False
    assert get_track_meta() is True
    with pytest.raises(RuntimeError, match="boom"), meta_tracking(False):
        raise RuntimeError("boom")
    assert get_track_meta() is True
