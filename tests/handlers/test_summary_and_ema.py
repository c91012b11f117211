"""StageSummaryHandler and EMAMomentumState."""

from __future__ import annotations

import json

import pytest
import torch
from ignite.engine import Engine
from ignite.handlers import EMAHandler

from monai_medienet.handlers import EMAMomentumState, StageSummaryHandler


def test_summary_prints_and_writes(tmp_path):
    lines = []
    engine = Engine(lambda e, b: {"loss": torch.tensor(0.25)})
    handler = StageSummaryHandler(
        "diffusion", outputs={"checkpoint": tmp_path / "d.pt", "grid": lambda: "g.png"},
        summary_file=tmp_path / "s.json", print_fn=lines.append,
    )  # fmt: skip
    handler.attach(engine)
    engine.run(range(3), max_epochs=2)
    text = lines[0]
    assert "diffusion stage finished" in text and "iterations: 6" in text and "last loss: 0.25" in text
    assert "g.png" in text
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["iterations"] == 6 and data["outputs"]["checkpoint"] == str(tmp_path / "d.pt")
    with pytest.raises(ValueError, match="stage"):
        StageSummaryHandler("")


def test_ema_momentum_state_round_trip():
    model = torch.nn.Linear(2, 2)
    ema = EMAHandler(model, momentum=0.01, momentum_warmup=0.5, warmup_iters=10)
    state = EMAMomentumState(ema)
    assert state.state_dict() == {"event_index": 0}  # not attached yet
    engine = Engine(lambda e, b: None)
    ema.attach(engine)
    engine.run(range(4), max_epochs=1)
    assert state.state_dict() == {"event_index": 4}

    ema2 = EMAHandler(model, momentum=0.01, momentum_warmup=0.5, warmup_iters=10)
    engine2 = Engine(lambda e, b: None)
    ema2.attach(engine2)
    EMAMomentumState(ema2).load_state_dict({"event_index": 4})
    engine2.run(range(1), max_epochs=1)  # 4 restored + 1 iteration

    ema_ref = EMAHandler(model, momentum=0.01, momentum_warmup=0.5, warmup_iters=10)
    engine_ref = Engine(lambda e, b: None)
    ema_ref.attach(engine_ref)
    engine_ref.run(range(5), max_epochs=1)  # 5 uninterrupted iterations
    assert engine2.state.ema_momentum == pytest.approx(engine_ref.state.ema_momentum)
    assert engine2.state.ema_momentum < 0.5  # really past the start of the warm-up
    with pytest.raises(ValueError, match="EMAMomentumState"):
        EMAMomentumState(object())
