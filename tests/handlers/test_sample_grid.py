"""SampleGridHandler and the grid helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ignite.engine import Engine
from PIL import Image

from monai_medienet.handlers import SampleGridHandler, make_image_grid, save_image_grid


class _FakeInferer:
    """Sampler stub: image intensity encodes the class label; records the calls."""

    def __init__(self):
        self.calls = []

    def sample(self, network, class_labels, seed=None, **kwargs):
        self.calls.append((class_labels.tolist(), seed, kwargs))
        g = torch.Generator().manual_seed(seed)
        noise = 0.05 * torch.rand(len(class_labels), 1, 8, 8, generator=g)
        return class_labels.float().view(-1, 1, 1, 1) * 0.5 + noise


def test_grid_layout():
    imgs = torch.stack([torch.full((1, 4, 4), float(i) / 5) for i in range(6)])
    grid = make_image_grid(imgs, nrow=3, padding=1)
    assert grid.shape == (1, 2 * 5 + 1, 3 * 5 + 1)
    assert torch.allclose(grid[0, 1 + 5, 1 + 2 * 5], torch.tensor(5 / 5))  # row 1, col 2 -> image 5
    with pytest.raises(ValueError, match="make_image_grid"):
        make_image_grid(torch.zeros(1, 4, 4), nrow=2)
    with pytest.raises(ValueError, match="nrow"):
        make_image_grid(imgs, nrow=0)


def test_handler_writes_png_per_class_rows(tmp_path):
    inferer = _FakeInferer()
    net = torch.nn.Linear(1, 1)
    events = []

    class _Writer:
        def add_image(self, tag, img, global_step):
            events.append((tag, tuple(img.shape), global_step))

        def flush(self):
            pass

    handler = SampleGridHandler(
        inferer, net, ["normal", "pneumonia"], tmp_path, num_per_class=3, interval=2, seed=7,
        summary_writer=_Writer(), sample_kwargs={"guidance_scale": 2.0},
    )  # fmt: skip
    engine = Engine(lambda e, b: None)
    handler.attach(engine)
    state_before = torch.get_rng_state()
    engine.run(range(2), max_epochs=3)
    assert torch.equal(torch.get_rng_state(), state_before)  # sampling does not consume the global RNG
    # epochs 2 (iteration 4) and completion (iteration 6)
    assert [c[1] for c in inferer.calls] == [7, 7]
    assert inferer.calls[0][0] == [0, 0, 0, 1, 1, 1] and inferer.calls[0][2] == {"guidance_scale": 2.0}
    assert (tmp_path / "samples_iter00000004.png").is_file() and handler.latest_path.is_file()
    arr = np.asarray(Image.open(handler.latest_path))
    assert arr.shape == (2 * 10 + 2, 3 * 10 + 2)
    # the second row (class 1) is brighter than the first (class 0)
    assert arr[12:20, 2:10].mean() > arr[2:10, 2:10].mean() + 100
    assert events == [("samples", (1, 22, 32), 4), ("samples", (1, 22, 32), 6)]
    assert net.training  # restored after sampling


def test_save_image_grid_rgb(tmp_path):
    path = save_image_grid(torch.rand(3, 5, 6), tmp_path / "g.png")
    assert np.asarray(Image.open(path)).shape == (5, 6, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["g.png"]


def test_handler_errors(tmp_path):
    net = torch.nn.Linear(1, 1)
    with pytest.raises(ValueError, match="classes"):
        SampleGridHandler(_FakeInferer(), net, [], tmp_path)
    with pytest.raises(ValueError, match="num_per_class"):
        SampleGridHandler(_FakeInferer(), net, ["a"], tmp_path, num_per_class=0)
    with pytest.raises(ValueError, match="interval_unit"):
        SampleGridHandler(_FakeInferer(), net, ["a"], tmp_path, interval_unit="day")
