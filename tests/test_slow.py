"""The long tier (`pytest -m slow`, run by CI after the default tier)."""

from __future__ import annotations

import pytest

from pdebench import results
from pdebench.config import compose
from pdebench.run import run


@pytest.mark.slow
def test_default_darcy_fno_run_reaches_its_accuracy(tmp_path):
    """The README's default job (generation included) on 64², β = 1: test nRMSE <= 0.05."""
    cfg = compose([f"paths.output_dir={tmp_path / 'run'}", "trainer.enable_progress_bar=false"])
    record = results.read(run(cfg).path)
    assert record["status"] == "ok"
    assert record["split_sizes"] == {"train": 800, "val": 100, "test": 100}
    assert record["metrics"]["pdebench/nrmse"] <= 0.05, record["metrics"]
    assert record["metrics"]["residual_rel/darcy"] > 0
