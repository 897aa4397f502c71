"""Readers for PDEBench's published time-dependent layouts, on tiny files written in them."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from pdebench.data.store import DataFileError
from pdebench.datasets.pdebench_suite.files import PDEBenchTrajectoryFile

from published_layouts import cfd_2d, multi_group, single_1d


def test_single_file_1d_burgers(tmp_path):
    path = single_1d(tmp_path / "1D_Burgers_Sols_Nu0.01.hdf5")
    src = PDEBenchTrajectoryFile(path, history=2, in_memory=False)
    meta = src.meta
    assert meta.pde == "burgers" and meta.pde_params["nu"] == 0.01
    assert meta.resolution == (16,) and meta.output_fields == ("u",)
    assert meta.input_fields == ("u[t-1]", "u[t]")
    assert meta.time == {"n_frames": 6, "t_start": 0.0, "t_end": pytest.approx(2 * 5 / 6),
                         "dt": pytest.approx(2 / 6)}
    ds = src.open()
    assert len(ds) == 4 * 4
    with h5py.File(path) as fh:
        raw = fh["tensor"][1]
    s = ds[4 + 2]  # trajectory 1, start 2
    np.testing.assert_array_equal(s["x"].numpy(), raw[2:4])
    np.testing.assert_array_equal(s["y"].numpy(), raw[4][None])


def test_cfd_fields_become_channels(tmp_path):
    path = cfd_2d(tmp_path / "2D_CFD_Rand_M0.1_Eta0.01_Zeta0.01_periodic_8_Train.hdf5")
    src = PDEBenchTrajectoryFile(path)
    meta = src.meta
    assert meta.output_fields == ("density", "pressure", "Vx", "Vy")
    assert meta.pde == "compressible_ns" and meta.pde_params["M"] == 0.1
    s = src.open()[0]
    with h5py.File(path) as fh:
        np.testing.assert_array_equal(s["y"].numpy()[2], fh["Vx"][0, 1])
    assert s["x"].shape == (4, 8, 8)


def test_multi_group_diffusion_reaction(tmp_path):
    path = multi_group(tmp_path / "2D_diff-react_NA_NA.h5")
    src = PDEBenchTrajectoryFile(path, in_memory=True)
    meta = src.meta
    assert meta.output_fields == ("u", "v") and meta.extent == ((-1.0, 1.0), (-1.0, 1.0))
    assert meta.extra["layout"] == "multi-group"
    s = src.open()[0]
    with h5py.File(path) as fh:
        np.testing.assert_array_equal(s["y"].numpy(), np.moveaxis(fh["0000/data"][1], -1, 0))


@pytest.mark.parametrize("damage,message", [
    ("no_fields", "neither 'tensor' nor the CFD fields"),
    ("cfd_mismatch", "do not match the layout"),
    ("bad_time", "'t-coordinate' has 3 entries but the fields have 6 frames"),
    ("bad_x", "'x-coordinate' has 15 entries"),
    ("group_shape", "'0002/data' is"),
    ("group_nodata", "has no 'data' dataset"),
])
def test_malformed_files_are_refused_by_key(tmp_path, damage, message):
    if damage.startswith("group"):
        path = multi_group(tmp_path / "2D_diff-react_NA_NA.h5")
        with h5py.File(path, "a") as fh:
            if damage == "group_shape":
                del fh["0002/data"]
                fh["0002/data"] = np.zeros((5, 8, 7, 2), np.float32)
            else:
                del fh["0000/data"]
    elif damage == "cfd_mismatch":
        path = cfd_2d(tmp_path / "cfd.hdf5")
        with h5py.File(path, "a") as fh:
            del fh["Vy"]
            fh["Vy"] = np.zeros((3, 4, 8, 9), np.float32)
    else:
        path = single_1d(tmp_path / "adv.hdf5")
        with h5py.File(path, "a") as fh:
            if damage == "no_fields":
                del fh["tensor"]
                fh["other"] = np.zeros(3)
            elif damage == "bad_time":
                del fh["t-coordinate"]
                fh["t-coordinate"] = np.zeros(3)
            else:
                del fh["x-coordinate"]
                fh["x-coordinate"] = np.linspace(0, 1, 15)
    with pytest.raises(DataFileError, match=message) as info:
        PDEBenchTrajectoryFile(path)
    assert str(path) in str(info.value)


def test_nan_in_a_published_trajectory(tmp_path):
    path = single_1d(tmp_path / "adv.hdf5")
    with h5py.File(path, "a") as fh:
        fh["tensor"][2, 3, 5] = np.nan
    ds = PDEBenchTrajectoryFile(path, in_memory=False).open()
    with pytest.raises(DataFileError, match="trajectory 2 has NaN or inf"):
        ds[2 * 5 + 2]
    with pytest.raises(DataFileError, match="trajectory 2 has NaN or inf"):
        PDEBenchTrajectoryFile(path, in_memory=True).open()[0]


def test_training_on_a_published_burgers_file(tmp_path):
    from pdebench import results
    from pdebench.config import compose
    from pdebench.run import run

    from conftest import TINY

    path = single_1d(tmp_path / "1D_Burgers_Sols_Nu0.01.hdf5", n=10, T=6, X=32)
    tiny = [o for o in TINY if not o.startswith("data.")]
    cfg = compose([*tiny, "data=pdebench_file", f"data.path={path}", "data.history=2",
                   f"paths.output_dir={tmp_path / 'run'}"])
    record = results.read(run(cfg).path)
    assert record["status"] == "ok" and record["dataset"] == "pdebench_file"
    assert record["split_sizes"] == {"train": 8 * 4, "val": 4, "test": 4}
