"""Readers for The Well and RealPDEBench, on tiny files written in their published layouts."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from pdebench.data.store import DataFileError
from pdebench.datasets.realpdebench.files import RealPDEBenchFiles, parse_sim_id
from pdebench.datasets.the_well.files import TheWellFile

from published_layouts import write_real, write_well

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


# --- RealPDEBench ------------------------------------------------------------------------------


def test_sim_ids():
    assert parse_sim_id("1800") == {"Re": 1800.0}
    assert parse_sim_id("1781_0.5", "controlled_cylinder") == {"Re": 1781.0,
                                                               "control_frequency": 0.5}
    assert parse_sim_id("40NH3_1.1") == {"NH3_fraction": 40.0, "equivalence_ratio": 1.1}
    for bad in ("abc", "40NH3", "1800_", "1_2_3"):
        with pytest.raises(ValueError, match="is not of the form"):
            parse_sim_id(bad)


def test_realpdebench_fluid_real(tmp_path):
    folder = write_real(tmp_path)
    src = RealPDEBenchFiles(tmp_path, "cylinder", kind="real", history=2, in_memory=False)
    meta = src.meta
    meta.to_json()  # serialisable (results record it)
    assert meta.output_fields == ("u", "v") and meta.resolution == (4, 5)
    assert meta.extra["unmeasured"] == ["p"] and meta.extra["measured"] == ["u", "v"]
    assert meta.extent[1] == pytest.approx((-0.05, 0.45))
    assert meta.extent[0] == pytest.approx((-0.025, 0.175))
    assert meta.time["dt"] == pytest.approx(0.01)
    assert src.published_split == {"train": 2, "val": 1, "test": 1, "mode": "published"}
    assert [p.stem for p in src.files] == ["1800", "2000", "2200", "2400"]
    assert meta.extra["trajectories"]["1800"] == {"split": "test", "Re": 1800.0}
    ds = src.open()
    assert len(ds) == 4 * 4
    s = ds[4 + 1]  # second trajectory (2000), frames 1, 2 -> 3
    with h5py.File(folder / "2000.h5") as fh:
        u, v = fh["measured_data/u"][...], fh["measured_data/v"][...]
    np.testing.assert_array_equal(s["x"].numpy(), np.stack([u[1], v[1], u[2], v[2]]))
    np.testing.assert_array_equal(s["y"].numpy(), np.stack([u[3], v[3]]))
    out = RealPDEBenchFiles(tmp_path, "cylinder", test_set="out_dist")
    assert out.files[0].stem == "2600" and len(out.files) == 4


def test_realpdebench_numerical_and_flame(tmp_path):
    write_real(tmp_path, scenario="controlled_cylinder", kind="numerical",
               ids=("1781_0.5", "1781_1.0", "2000_0.5", "2000_1.0"),
               splits={"in_dist_test": [[1781, 0.5]], "out_dist_test": ["2000_1.0"],
                       "remain": ["1781_1.0", "2000_0.5", "2000_1.0"]})
    with pytest.raises(DataFileError, match="listed both in the out_dist test set"):
        RealPDEBenchFiles(tmp_path, "controlled_cylinder", kind="numerical", test_set="out_dist")
    src = RealPDEBenchFiles(tmp_path, "controlled_cylinder", kind="numerical")
    assert src.meta.output_fields == ("u", "v", "p") and src.meta.extra["unmeasured"] == []
    assert src.meta.extra["trajectories"]["2000_0.5"]["control_frequency"] == 0.5

    rng = np.random.default_rng(3)
    for kind in ("real", "numerical"):
        folder = tmp_path / "combustion" / kind
        folder.mkdir(parents=True)
        for sid in ("40NH3_1.1", "60NH3_0.9", "80NH3_1.0"):
            with h5py.File(folder / f"{sid}.h5", "w") as fh:
                if kind == "real":
                    fh["trajectory"] = rng.random((4, 6, 3)).astype(np.float32)
                else:
                    fh["measured_data"] = rng.random((4, 6, 3, 15)).astype(np.float32)
                    fh["channel_names"] = [f"c{i}".encode() for i in range(15)]
        for name, ids in (("in_dist_test", ["40NH3_1.1"]), ("out_dist_test", [[80, 1.0]]),
                          ("remain", [[60, 0.9], "80NH3_1.0"])):
            (tmp_path / "combustion" / f"{name}_params_{kind}.json").write_text(json.dumps(ids))
    real = RealPDEBenchFiles(tmp_path, "combustion", kind="real")
    assert real.meta.output_fields == ("oh_intensity",) and real.meta.resolution == (6, 3)
    sim = RealPDEBenchFiles(tmp_path, "combustion", kind="numerical")
    assert sim.meta.output_fields == tuple(f"c{i}" for i in range(15))
    with h5py.File(tmp_path / "combustion/numerical/40NH3_1.1.h5") as fh:
        np.testing.assert_array_equal(sim.open()[0]["y"].numpy(),
                                      np.moveaxis(fh["measured_data"][1], -1, 0))


def _damage_real(root, how):
    folder = root / "cylinder" / "real"
    if how == "bad_id":
        (folder / "Re1800.h5").write_bytes(b"")
        return folder / "Re1800.h5"
    if how in ("unknown_entry", "not_list", "bad_entry"):
        path = root / "cylinder" / "remain_params_real.json"
        content = {"unknown_entry": ["2000", 3000], "not_list": {"ids": ["2000"]},
                   "bad_entry": ["2000", None]}[how]
        path.write_text(json.dumps(content))
        return path
    path = folder / "2200.h5"
    with h5py.File(path, "a") as fh:
        if how == "no_v":
            del fh["measured_data/v"]
        elif how == "bad_x":
            del fh["x"]
            fh["x"] = np.linspace(0, 1, 6)
        elif how == "bad_y":
            del fh["y"]
            fh["y"] = np.array([0.0, 0.1, 0.05, 0.2])
        elif how == "shape":
            for k in ("u", "v"):
                del fh[f"measured_data/{k}"]
                fh[f"measured_data/{k}"] = np.zeros((7, 4, 5), np.float32)
            del fh["t"]
    return path


@pytest.mark.parametrize("how,message", [
    ("bad_id", "malformed file name"),
    ("unknown_entry", r"entry \(3000.0,\) matches no sim_id"),
    ("not_list", "expected a JSON list"),
    ("bad_entry", "entry None is neither"),
    ("no_v", "missing 'measured_data/v'"),
    ("bad_x", "coordinate 'x' has 6 entries but the fields have 5"),
    ("bad_y", "coordinate 'y' is not strictly monotonic"),
    ("shape", r"shape \(7, 4, 5\) differs from .*1800.h5"),
])
def test_realpdebench_malformed(tmp_path, how, message):
    write_real(tmp_path)
    path = _damage_real(tmp_path, how)
    with pytest.raises(DataFileError, match=message) as info:
        RealPDEBenchFiles(tmp_path, "cylinder")
    assert str(path) in str(info.value)


def test_realpdebench_nan_and_parameters(tmp_path):
    folder = write_real(tmp_path)
    with h5py.File(folder / "2000.h5", "a") as fh:
        fh["measured_data/u"][5, 0, 0] = np.nan
    ds = RealPDEBenchFiles(tmp_path, "cylinder", in_memory=False).open()
    ds[5 + 3]  # trajectory 2000 (5 windows each), frames 3 -> 4 are clean
    with pytest.raises(DataFileError, match=r"2000.h5: 'measured_data/u' has NaN .*frames 4"):
        ds[5 + 4]
    for kw, message in ((dict(kind="sim"), "data.kind"), (dict(test_set="all"), "data.test_set"),
                        (dict(val_fraction=1.0), "data.val_fraction")):
        with pytest.raises(ValueError, match=message):
            RealPDEBenchFiles(tmp_path, "cylinder", **kw)
