"""Shared fixtures: a private data cache, tiny configs, tiny PDEBench-layout files."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest

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


def write_pdebench_darcy(path: Path, n: int = 12, res: int = 16, beta: float | None = 1.0,
                         seed: int = 0, coords: bool = True) -> Path:
    """A tiny file in PDEBench's Darcy layout: nu (N, H, W), tensor (N, 1, H, W)."""
    rng = np.random.default_rng(seed)
    nu = np.where(rng.random((n, res, res)) > 0.5, 1.0, 0.1).astype(np.float32)
    x = (np.arange(res) + 0.5) / res
    yy, xx = np.meshgrid(x, x, indexing="ij")
    base = np.sin(np.pi * xx) * np.sin(np.pi * yy)
    u = (base[None] * (1 + 0.1 * rng.standard_normal((n, 1, 1)))).astype(np.float32)
    with h5py.File(path, "w") as fh:
        fh["nu"] = nu
        fh["tensor"] = u[:, None]
        if coords:
            fh["x-coordinate"] = x
            fh["y-coordinate"] = x
        if beta is not None:
            fh.attrs["beta"] = beta
    return path


@pytest.fixture
def darcy_file(tmp_path: Path) -> Path:
    return write_pdebench_darcy(tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5")
