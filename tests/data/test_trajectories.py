"""Time-dependent data: trajectory store, one-step windows, splits by trajectory."""

from __future__ import annotations

import numpy as np
import pytest

from pdebench.data.meta import DatasetMeta
from pdebench.data.module import PDEDataModule
from pdebench.data.source import DataSource
from pdebench.data.store import DataFileError, read_store_info, write_trajectory_store
from pdebench.data.trajectories import StoreTrajectories, TrajectoryWindows, window_fields

META = DatasetMeta(name="waves", spatial_dims=1, resolution=(8,), input_fields=("u", "v"),
                   output_fields=("u", "v"), time={"n_frames": 5, "t_end": 1.0})


def _store(tmp_path, n=6, T=5):
    u = np.arange(n * T * 2 * 8, dtype=np.float32).reshape(n, T, 2, 8)
    path = write_trajectory_store(tmp_path / "w.h5", u, np.linspace(0, 1, T), META, {"seed": 0})
    return path, u


def test_store_roundtrip_and_lazy_reads(tmp_path):
    path, u = _store(tmp_path)
    meta, gen, _ = read_store_info(path)
    assert meta == META and gen["seed"] == 0
    for in_memory in (False, True):
        reader = StoreTrajectories(path, in_memory=in_memory)
        assert (reader.n_trajectories, reader.n_frames, reader.n_channels) == (6, 5, 2)
        np.testing.assert_array_equal(reader.read(3, slice(1, 3)), u[3, 1:3])


def test_windows_stack_history_and_predict_next_frame(tmp_path):
    path, u = _store(tmp_path)
    ds = TrajectoryWindows(StoreTrajectories(path), history=2)
    assert len(ds) == 6 * 3  # starts 0, 1, 2 in 5 frames
    s = ds[4]  # trajectory 1, start 1
    np.testing.assert_array_equal(s["x"].numpy(), u[1, 1:3].reshape(4, 8))
    np.testing.assert_array_equal(s["y"].numpy(), u[1, 3])
    assert ds.groups.tolist() == [i for i in range(6) for _ in range(3)]
    assert window_fields(("u", "v"), 2) == ("u[t-1]", "v[t-1]", "u[t]", "v[t]")
    with pytest.raises(ValueError, match="too few for history=5"):
        TrajectoryWindows(StoreTrajectories(path), history=5)


def test_nan_frame_is_named(tmp_path):
    path, u = _store(tmp_path)
    import h5py

    with h5py.File(path, "a") as fh:
        fh["u"][2, 3, 0, 0] = np.nan
    reader = StoreTrajectories(path)
    reader.read(2, slice(0, 3))
    with pytest.raises(DataFileError, match="trajectory 2 has NaN or inf"):
        reader.read(2, slice(2, 4))


def test_data_module_splits_by_trajectory(tmp_path):
    path, _ = _store(tmp_path, n=10)

    class Source(DataSource):
        meta = DatasetMeta(name="waves", spatial_dims=1, resolution=(8,),
                           input_fields=("u[t]", "v[t]"), output_fields=("u", "v"))

        def open(self):
            return TrajectoryWindows(StoreTrajectories(path), history=1)

    dm = PDEDataModule(Source(), split={"train": 0.6, "val": 0.2, "test": 0.2, "seed": 1})
    dm.setup()
    groups = dm.dataset.groups
    seen = [set(groups[idx]) for idx in dm.indices.values()]
    assert [len(g) for g in seen] == [6, 2, 2]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert dm.split_sizes == {"train": 24, "val": 8, "test": 8}


CONST_META = DatasetMeta(name="waves", spatial_dims=1, resolution=(8,),
                         input_fields=("u", "v", "k"), output_fields=("u", "v"),
                         time={"n_frames": 5, "t_end": 1.0}, constant_fields=("k",))


def test_constant_fields_are_inputs_only(tmp_path):
    u = np.arange(4 * 5 * 2 * 8, dtype=np.float32).reshape(4, 5, 2, 8)
    k = -np.arange(4 * 8, dtype=np.float32).reshape(4, 1, 8)
    path = write_trajectory_store(tmp_path / "c.h5", u, np.linspace(0, 1, 5), CONST_META,
                                  {"seed": 0}, constants=k)
    for in_memory in (False, True):
        reader = StoreTrajectories(path, in_memory=in_memory)
        assert reader.const_fields == ("k",) and reader.n_channels == 2
        ds = TrajectoryWindows(reader, history=2)
        s = ds[3 * 3 + 1]  # trajectory 3, start 1: frames 1, 2 then k; target frame 3 only
        np.testing.assert_array_equal(s["x"].numpy(), np.concatenate([u[3, 1:3].reshape(4, 8),
                                                                      k[3]]))
        np.testing.assert_array_equal(s["y"].numpy(), u[3, 3])
    # a store without constants has none, and its reader refuses to make some up
    plain, _ = _store(tmp_path)
    reader = StoreTrajectories(plain)
    assert reader.const_fields == ()
    with pytest.raises(NotImplementedError):
        reader.constants(0)


def test_constant_fields_are_checked(tmp_path):
    u = np.zeros((4, 5, 2, 8), dtype=np.float32)
    t = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match=r"'constants' has shape None, expected \(4, 1, 8\)"):
        write_trajectory_store(tmp_path / "a.h5", u, t, CONST_META, {})
    with pytest.raises(ValueError, match="'constants' has shape"):
        write_trajectory_store(tmp_path / "b.h5", u, t, CONST_META, {},
                               constants=np.zeros((4, 2, 8)))
    bad = np.zeros((4, 1, 8), dtype=np.float32)
    bad[1, 0, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or inf; nothing written"):
        write_trajectory_store(tmp_path / "c.h5", u, t, CONST_META, {}, constants=bad)
    assert not list(tmp_path.glob("*.h5"))
    path = write_trajectory_store(tmp_path / "d.h5", u, t, CONST_META, {},
                                  constants=np.zeros((4, 1, 8), dtype=np.float32))
    import h5py

    with h5py.File(path, "a") as fh:
        fh["constants"][2, 0, 0] = np.nan
    with pytest.raises(DataFileError, match="'constants' of trajectory 2 has NaN"):
        StoreTrajectories(path).constants(2)
    with h5py.File(path, "a") as fh:
        fh["constants"].attrs["fields"] = ["k", "extra"]
    with pytest.raises(DataFileError, match="one name per channel"):
        StoreTrajectories(path)
