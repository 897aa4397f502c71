"""Shared fixtures: a private data cache, tiny configs, tiny PDEBench-layout files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from published_layouts import write_pdebench_darcy

REPO = Path(__file__).resolve().parents[1]

# Tiny overrides that make a full run take seconds on a CPU.
TINY = [
    "data.n_samples=40", "data.resolution=16", "data.loader.batch_size=8",
    "model.hidden_channels=8", "model.n_modes=4", "model.n_layers=2",
    "trainer.max_epochs=2", "trainer.enable_progress_bar=false", "trainer.accelerator=cpu",
    "logger=none",
]


@pytest.fixture(scope="session", autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated datasets go to a per-session folder, never to the user's cache."""
    path = tmp_path_factory.mktemp("pdebench-data")
    old = os.environ.get("PDEBENCH_DATA")
    os.environ["PDEBENCH_DATA"] = str(path)
    yield path
    if old is None:
        os.environ.pop("PDEBENCH_DATA", None)
    else:
        os.environ["PDEBENCH_DATA"] = old


@pytest.fixture
def darcy_file(tmp_path: Path) -> Path:
    return write_pdebench_darcy(tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5")
