"""The generated Darcy dataset as the harness sees it: cache, atomicity, metadata, errors."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from pdebench.data.store import read_store_info
from pdebench.datasets.pdebench_suite import sources as darcy_module
from pdebench.datasets.pdebench_suite.sources import DarcySource


def test_generates_once_and_reuses_the_cache(tmp_path, monkeypatch):
    src = DarcySource(n_samples=6, resolution=16, data_dir=tmp_path)
    src.prepare()
    meta, gen, residual = read_store_info(src.path)
    assert meta == src.meta
    assert gen["params"]["n_samples"] == 6 and gen["seed"] == 0 and gen["pdebench_version"]
    assert gen["solver"]  # the solver settings are recorded
    assert residual  # the generator's self-check is stored in the file
    stamp = src.path.stat().st_mtime_ns

    def must_not_run(*a, **k):
        raise AssertionError("cache was not reused")

    monkeypatch.setattr(darcy_module, "generate_darcy", must_not_run)
    DarcySource(n_samples=6, resolution=16, data_dir=tmp_path).prepare()
    assert src.path.stat().st_mtime_ns == stamp
    ds = src.open()
    assert len(ds) == 6 and ds[0]["x"].shape == (1, 16, 16)
    assert set(np.unique(ds[0]["x"].numpy())) <= {np.float32(0.1), np.float32(1.0)}


def test_different_parameters_get_different_entries(tmp_path):
    a = DarcySource(n_samples=6, resolution=16, beta=1.0, data_dir=tmp_path)
    b = DarcySource(n_samples=6, resolution=16, beta=10.0, data_dir=tmp_path)
    assert a.path != b.path


def test_interrupted_generation_leaves_no_trusted_entry(tmp_path, monkeypatch):
    real = darcy_module.generate_darcy

    def interrupted(n, *args, progress=None, **kwargs):
        progress(n // 2, n)
        raise KeyboardInterrupt

    monkeypatch.setattr(darcy_module, "generate_darcy", interrupted)
    src = DarcySource(n_samples=6, resolution=16, data_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        src.prepare()
    assert not src.path.exists()
    assert not [p for p in src.path.parent.iterdir() if p.suffix == ".h5" or ".tmp" in p.name]
    monkeypatch.setattr(darcy_module, "generate_darcy", real)
    src.prepare()
    assert read_store_info(src.path)[0] == src.meta


def test_corrupt_cache_entry_is_regenerated(tmp_path, capsys):
    src = DarcySource(n_samples=6, resolution=16, data_dir=tmp_path)
    src.path.parent.mkdir(parents=True)
    src.path.write_bytes(b"garbage")
    src.prepare()
    assert "regenerating" in capsys.readouterr().err
    with h5py.File(src.path) as fh:
        assert json.loads(fh.attrs["generator"])["name"] == "darcy"


@pytest.mark.parametrize("kwargs,message", [
    ({"beta": -1.0}, "data.beta must be a finite number > 0"),
    ({"resolution": 4}, "data.resolution must be an int >= 8"),
    ({"n_samples": 0}, "data.n_samples must be an int >= 1"),
    ({"coefficient": "gauss"}, "valid: pdebench, grf"),
])
def test_invalid_parameters_fail_before_any_work(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        DarcySource(data_dir=tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())
