"""validate_items: every bad-input kind raises naming the file/item, or is skipped with a warning and counted."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from monai_medienet.data import class_folder_source, validate_items
from monai_medienet.io import write_test_png
from monai_medienet.transforms import ImageLoadError

GOOD = np.zeros((1, 4, 4), np.uint8)


def test_array_items_wrong_rank_and_nan(caplog):
    nan = np.zeros((1, 4, 4), np.float32)
    nan[0, 1, 1] = np.inf
    items = [
        {"image": GOOD, "label": 0, "id": "ok"},
        {"image": np.zeros((4, 4), np.uint8), "label": 0, "id": "flat"},
        {"image": nan, "label": 1, "id": "inf"},
    ]
    with pytest.raises(ImageLoadError, match=r"item 'flat'.*rank 2"):
        validate_items(items)
    with caplog.at_level(logging.WARNING):
        good, skipped = validate_items(items, on_error="skip")
    assert [it["id"] for it in good] == ["ok"] and len(skipped) == 2
    assert "item 'inf'" in skipped[1][0] and "NaN/Inf" in skipped[1][1]
    assert "skipped 2 of 3" in caplog.text


def test_mixed_channels_and_dimensions():
    items = [{"image": GOOD, "label": 0}] * 2 + [{"image": np.zeros((1, 4, 4, 4), np.uint8), "label": 1, "id": "vol"}]
    with pytest.raises(ImageLoadError, match=r"mixed channel counts / dimensions.*1 channel\(s\), 3D: 1 files"):
        validate_items(items)
    good, skipped = validate_items(items, on_error="skip")
    assert len(good) == 2 and "vol" in skipped[0][0]
    good, skipped = validate_items(items, check_channels=False)
    assert len(good) == 3 and not skipped
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip'"):
        validate_items(items, on_error="ignore")


def test_unreadable_file_in_class_folder_is_skipped_and_counted(tmp_path, monkeypatch):
    for cname in ("a", "b"):
        for i in range(2):
            write_test_png(tmp_path / cname / f"{i}.png", np.zeros((4, 4), np.uint8))
    locked = tmp_path / "b" / "1.png"
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(locked) else real_access(p, mode))
    with pytest.raises(ImageLoadError, match=r"b/1\.png: file is not readable"):
        class_folder_source(tmp_path, validate=True)
    src = class_folder_source(tmp_path, validate=True, on_error="skip", val_fraction=0.0)
    assert src.num_skipped == 1 and src.class_counts("train") == [2, 1]
    with pytest.raises(ValueError, match="on_error must be"):
        class_folder_source(tmp_path, on_error="warn")
