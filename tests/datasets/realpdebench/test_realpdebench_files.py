"""RealPDEBench's reader, on tiny files written in its published layout."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from pdebench.data.store import DataFileError
from pdebench.datasets.realpdebench.files import RealPDEBenchFiles, parse_sim_id

from published_layouts import write_real

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
