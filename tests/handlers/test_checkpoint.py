"""TrainingCheckpointSaver / load_training_checkpoint: weights_only round trip, RNG states, atomic writes."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from ignite.engine import Engine, Events

from monai_medienet.handlers import (
    TrainingCheckpointSaver,
    atomic_torch_save,
    get_rng_states,
    load_training_checkpoint,
    set_rng_states,
)


def _toy():
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(engine, batch):
        opt.zero_grad()
        loss = net(torch.randn(4, 3)).pow(2).mean()
        loss.backward()
        opt.step()
        sched.step()
        return {"loss": loss.item()}

    return net, opt, sched, Engine(step)


def test_round_trip_weights_only(tmp_path):
    net, opt, sched, engine = _toy()
    meta = {"classes": ["normal", "pneumonia"], "scale_factor": 0.7, "train_hash": "abc", "network_config": {"a": [1]}}
    saver = TrainingCheckpointSaver(tmp_path, {"network": net, "optimizer": opt, "lr_scheduler": sched}, meta, "ck")
    saver.attach(engine)
    engine.run(range(3), max_epochs=2)
    assert saver.latest_path.is_file()
    ckpt = torch.load(saver.latest_path, weights_only=True)
    assert ckpt["classes"] == ["normal", "pneumonia"] and ckpt["scale_factor"] == 0.7
    assert ckpt["engine"]["iteration"] == 6
    assert set(ckpt["versions"]) == {"monai_medienet", "monai", "torch"}

    net2, opt2, sched2, engine2 = _toy()
    out = load_training_checkpoint(
        saver.latest_path, {"network": net2, "optimizer": opt2, "lr_scheduler": sched2}, engine=engine2
    )
    assert out["train_hash"] == "abc"
    for a, b in zip(net.parameters(), net2.parameters()):
        assert torch.equal(a, b)
    assert opt2.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    assert sched2.state_dict() == sched.state_dict()
    assert engine2.state.iteration == 6


def test_rng_states_restore():
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    states = get_rng_states()
    a = (torch.rand(3), np.random.rand(3), random.random())
    set_rng_states(states)
    b = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_resume_continues_identically(tmp_path):
    # uninterrupted: 4 epochs; interrupted: 2 epochs, checkpoint, new objects, resume to 4 epochs
    torch.manual_seed(0)
    net_a, opt_a, sched_a, eng_a = _toy()
    eng_a.run(range(3), max_epochs=4)
    rng_a = torch.get_rng_state()

    torch.manual_seed(0)
    net_b, opt_b, sched_b, eng_b = _toy()
    saver = TrainingCheckpointSaver(tmp_path, {"network": net_b, "optimizer": opt_b, "lr_scheduler": sched_b})
    saver.attach(eng_b)
    eng_b.run(range(3), max_epochs=2)
    torch.rand(100)  # disturb the global RNG: the resume must restore it

    net_c, opt_c, sched_c, eng_c = _toy()
    load_training_checkpoint(
        saver.latest_path, {"network": net_c, "optimizer": opt_c, "lr_scheduler": sched_c}, eng_c, restore_rng=True
    )
    eng_c.state.max_epochs = 4
    eng_c.run(range(3), max_epochs=4)
    assert eng_c.state.iteration == eng_a.state.iteration == 12
    for a, c in zip(net_a.parameters(), net_c.parameters()):
        assert torch.equal(a, c)
    assert torch.equal(opt_a.state_dict()["state"][0]["exp_avg_sq"], opt_c.state_dict()["state"][0]["exp_avg_sq"])
    assert torch.equal(torch.get_rng_state(), rng_a)  # the RNG stream continued exactly


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "ck.pt"
    atomic_torch_save({"x": torch.ones(2)}, target)

    def boom(obj, f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        atomic_torch_save({"x": torch.zeros(2)}, target)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt"]  # no temporary left behind
    assert torch.equal(torch.load(target, weights_only=True)["x"], torch.ones(2))  # old content intact


def test_history_and_interval(tmp_path):
    net, opt, sched, engine = _toy()
    saver = TrainingCheckpointSaver(
        tmp_path, {"network": net}, save_interval_epochs=0, save_interval_iterations=2, n_saved=2, name="m"
    )
    saver.attach(engine)
    engine.run(range(5), max_epochs=1)
    names = sorted(p.name for p in tmp_path.iterdir())
    # iterations 2, 4 and the final 5 were saved; only the last two snapshots are kept
    assert names == ["m.pt", "m_iter00000004.pt", "m_iter00000005.pt"]


def test_errors(tmp_path):
    net = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="TrainingCheckpointSaver"):
        TrainingCheckpointSaver(tmp_path, {})
    with pytest.raises(ValueError, match="n_saved"):
        TrainingCheckpointSaver(tmp_path, {"n": net}, n_saved=-1)
    with pytest.raises(ValueError, match="state_dict"):
        TrainingCheckpointSaver(tmp_path, {"n": 3})
    saver = TrainingCheckpointSaver(tmp_path, {"n": net}, metadata={"bad": object()})
    engine = Engine(lambda e, b: None)
    with pytest.raises(ValueError, match="weights_only"):
        saver.build(engine)
    saver = TrainingCheckpointSaver(tmp_path, {"n": net}, metadata={"state": 1})
    with pytest.raises(ValueError, match="reserved"):
        saver.build(engine)
    with pytest.raises(FileNotFoundError):
        load_training_checkpoint(tmp_path / "missing.pt")
    good = TrainingCheckpointSaver(tmp_path, {"n": net})
    engine.add_event_handler(Events.COMPLETED, good)
    engine.run([0], max_epochs=1)
    with pytest.raises(KeyError, match="other"):
        load_training_checkpoint(good.latest_path, {"other": torch.nn.Linear(2, 2)})
