"""bench.attention_memory: one in-process measurement at a tiny size (the CLI runs one subprocess per cell)."""

from __future__ import annotations

import pytest

from bench.attention_memory import child, main


@pytest.mark.parametrize("backend", ["fused", "math"])
def test_child_measures_a_training_step(backend):
    res = child(32, backend, "fp32", batch=1, threads=1)
    assert res["latent"] == 8 and res["tokens"] == [16, 4]  # attention at latent / 2 and latent / 4
    assert res["peak_rss_mb"] >= res["rss_before_mb"] > 0 and res["step_s"] > 0 and res["loss_finite"]
    assert res["backend"] == backend and res["dtype"] == "fp32"


def test_cli_rejects_an_unknown_dtype():
    with pytest.raises(SystemExit):
        main(["--dtype", "fp16"])
