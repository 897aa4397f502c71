"""The Well's reader, on tiny files written in its published layout."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from pdebench.data.store import DataFileError
from pdebench.datasets.the_well.files import TheWellFile

from published_layouts import write_well

# --- The Well ----------------------------------------------------------------------------------


def test_well_file_meta_and_values(tmp_path):
    path = write_well(tmp_path / "tiny_Ra1e6.hdf5")
    src = TheWellFile(path, history=2, in_memory=False)
    meta = src.meta
    meta.to_json()  # serialisable (results record it)
    fields = ("buoyancy", "velocity_x", "velocity_y", "stress_xx", "stress_xy", "stress_yx",
              "stress_yy")
    assert meta.output_fields == fields
    assert meta.input_fields[-1] == "obstacle" and len(meta.input_fields) == 2 * 7 + 1
    assert meta.constant_fields == ("obstacle",) and "obstacle" not in meta.output_fields
    assert meta.resolution == (8, 6) and meta.spatial_dims == 2
    assert meta.extent == (pytest.approx((0.0, 2.0)), pytest.approx((0.0, 1.0)))
    assert meta.boundary_conditions == {"x_periodic": "periodic", "y_wall": "wall"}
    assert meta.time["n_frames"] == 5 and meta.time["dt"] == pytest.approx(0.25)
    assert meta.pde_params["Ra"] == 1e6 and src.published_split is None
    ds = src.open()
    assert len(ds) == 3 * 3 and ds.reader._cache is None  # lazy
    s = ds[1 * 3 + 2]  # trajectory 1, frames 2, 3 -> 4
    with h5py.File(path) as fh:
        b, v = fh["t0_fields/buoyancy"][1], fh["t1_fields/velocity"][1]
        st, ob = fh["t2_fields/stress"][:], fh["t0_fields/obstacle"][:]
    frame = lambda k: np.concatenate(  # noqa: E731
        [b[k][None], np.moveaxis(v[k], -1, 0), np.moveaxis(st[k].reshape(8, 6, 4), -1, 0)])
    x, y = s["x"].numpy(), s["y"].numpy()
    np.testing.assert_array_equal(x[:7], frame(2))
    np.testing.assert_array_equal(x[7:14], frame(3))
    np.testing.assert_array_equal(x[14], np.broadcast_to(ob[:, None], (8, 6)))
    np.testing.assert_array_equal(y, frame(4))
    np.testing.assert_array_equal(TheWellFile(path, history=2, in_memory=True).open()[5]["y"],
                                  s["y"])


def test_well_split_directory(tmp_path):
    root = tmp_path / "data"
    for i, (split, n) in enumerate((("train", 4), ("valid", 2), ("test", 1))):
        (root / split).mkdir(parents=True)
        write_well(root / split / f"tiny_{split}.hdf5", B=n, seed=i)
    src = TheWellFile(root)
    assert src.published_split == {"train": 4, "val": 2, "test": 1, "mode": "ordered"}
    from pdebench.data.splits import make_splits

    parts = make_splits(7, **src.published_split)  # test folder, then valid, then train
    assert parts["test"].tolist() == [0] and parts["val"].tolist() == [1, 2]
    assert parts["train"].tolist() == [3, 4, 5, 6]
    assert src.reader.n_trajectories == 7 and "test" in str(src.files[0])
    one = TheWellFile(root, split_dir="valid")
    assert one.reader.n_trajectories == 2 and one.published_split is None
    with pytest.raises(ValueError, match="split_dir"):
        TheWellFile(root, split_dir="validation")
    write_well(root / "train" / "other.hdf5", B=1, nx=10)
    with pytest.raises(DataFileError, match="other.hdf5.*spatial.*tiny_test.hdf5"):
        TheWellFile(root)


def _damage(path, how):
    with h5py.File(path, "a") as fh:
        if how == "no_dims_attr":
            del fh.attrs["n_spatial_dims"]
        elif how == "no_time":
            del fh["dimensions/time"]
        elif how == "bad_shape":
            del fh["t1_fields/velocity"]
            fh["t1_fields/velocity"] = np.zeros((3, 5, 8, 6, 3), np.float32)
        elif how == "bad_coord":
            del fh["dimensions/x"]
            fh["dimensions/x"] = np.array([0, 1, 2, 3, 3, 5, 6, 7.0])
        elif how == "short_coord":
            del fh["dimensions/y"]
            fh["dimensions/y"] = np.arange(5.0)
        elif how == "bad_bc":
            fh["boundary_conditions/y_wall"].attrs["bc_type"] = "SLIP"


@pytest.mark.parametrize("how,message", [
    ("no_dims_attr", "missing root attribute 'n_spatial_dims'"),
    ("no_time", "missing 'dimensions/time'"),
    ("bad_shape", r"'t1_fields/velocity' has shape \(3, 5, 8, 6, 3\), expected \(3, 5, 8, 6, 2\)"),
    ("bad_coord", "coordinate 'dimensions/x' is not strictly monotonic"),
    ("short_coord", r"'t0_fields/buoyancy' has shape \(3, 5, 8, 6\), expected \(3, 5, 8, 5\)"),
    ("bad_bc", "'boundary_conditions/y_wall' attribute 'bc_type' is 'slip'"),
])
def test_well_malformed_files_are_refused(tmp_path, how, message):
    path = write_well(tmp_path / "tiny.hdf5")
    _damage(path, how)
    with pytest.raises(DataFileError, match=message) as info:
        TheWellFile(path)
    assert str(path) in str(info.value)


def test_well_nan_named_on_access(tmp_path):
    path = write_well(tmp_path / "tiny.hdf5")
    with h5py.File(path, "a") as fh:
        fh["t1_fields/velocity"][2, 4, 1, 1, 0] = np.nan
    ds = TheWellFile(path, in_memory=False).open()
    ds[2 * 4 + 2]  # frames 2 -> 3 are clean
    with pytest.raises(DataFileError, match=r"tiny.hdf5: 't1_fields/velocity' has NaN .* "
                                            "trajectory 2"):
        ds[2 * 4 + 3]


def test_well_trains_end_to_end(tmp_path):
    from pdebench import results
    from pdebench.config import compose
    from pdebench.run import run

    from conftest import TINY

    path = write_well(tmp_path / "tiny.hdf5", B=6, T=4, nx=8, ny=8)
    tiny = [o for o in TINY if not o.startswith(("data.", "trainer.max_epochs"))]
    cfg = compose([*tiny, "data=the_well", f"data.path={path}", "trainer.max_epochs=1",
                   "data.split.train=4", "data.split.val=1", "data.split.test=1", "plots=false",
                   f"paths.output_dir={tmp_path / 'run'}"])
    record = results.read(run(cfg).path)
    assert record["status"] == "ok", record.get("error")
    assert record["split_sizes"] == {"train": 4 * 3, "val": 3, "test": 3}
