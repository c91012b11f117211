"""materialise: one deterministic pass over a set, stacked in memory, with clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from monai_medienet.data import materialise


def _to_tensor(item):
    return {**item, "image": torch.as_tensor(item["image"], dtype=torch.float32)}


def test_stacks_images_and_labels_in_order():
    items = [{"image": np.full((1, 4, 4), i / 10, np.float32), "label": i % 2} for i in range(5)]
    x, y = materialise(items, _to_tensor, progress=False)
    assert x.shape == (5, 1, 4, 4) and x.dtype == torch.float32
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 0, 1, 0]
    assert torch.allclose(x[:, 0, 0, 0], torch.arange(5) / 10)


def test_evaluation_reexports_the_same_function():
    from monai_medienet.evaluation import materialise as from_evaluation

    assert from_evaluation is materialise


@pytest.mark.parametrize(
    "items, match",
    [
        ([], "the real train set is empty"),
        ([{"image": np.zeros((4, 4), np.float32), "label": 0}], r"\(C, H, W\) images, got \(4, 4\)"),
        (
            [{"image": np.zeros((1, 4, 4), np.float32), "label": 0}, {"image": np.zeros((1, 5, 4)), "label": 1}],
            "real train images have different shapes",
        ),
        ([{"image": np.full((1, 4, 4), 255.0, np.float32), "label": 0}], r"must be in \[0, 1\]"),
    ],
)
def test_errors(items, match):
    with pytest.raises(ValueError, match=f"materialise: .*{match}"):
        materialise(items, _to_tensor, "real train", progress=False)
