"""Readers of Multiphysics Bench's published .pt, merge_{id}.npy and .mat files, on tiny files in their layouts."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io
import torch

from pdebench.data.store import DataFileError
from pdebench.datasets.multiphysics_bench.files import (
    MultiphysicsMatDir,
    MultiphysicsNpyDir,
    MultiphysicsPtFile,
)

from published_layouts import (
    write_mat_dir,
    write_npy_dir,
    write_pt,
)

# --- Multiphysics Bench .pt --------------------------------------------------------------------


def test_pt_dict_meta_values_and_lazy(tmp_path):
    path = write_pt(tmp_path / "thermo_fluid_train_128.pt")
    src = MultiphysicsPtFile(path, output_fields=["u", "v", "T"])
    meta = src.meta
    meta.to_json()  # serialisable (results record it)
    assert meta.input_fields == ("in0", "in1") and meta.output_fields == ("u", "v", "T")
    assert meta.resolution == (8, 8) and "[-0.9, 0.9]" in meta.extra["scaling"]
    assert meta.extra["problem"] == "thermo_fluid" and meta.extra["part"] == "train"
    ds = src.open()
    assert ds._data is None  # nothing read until a sample is asked for
    ref = torch.load(path)
    s = ds[3]
    torch.testing.assert_close(s["x"], ref["x"][3])
    torch.testing.assert_close(s["y"], ref["y"][3])
    assert len(ds) == 6
    with pytest.raises(ValueError, match="data.output_fields lists 2 names"):
        MultiphysicsPtFile(path, output_fields=["u", "v"])


def test_pt_mapping_is_renewed_so_resident_memory_stays_bounded(tmp_path, monkeypatch):
    from pdebench.datasets.multiphysics_bench import files as mf

    loads = []
    real = mf._load_pt
    monkeypatch.setattr(mf, "_load_pt", lambda p: loads.append(p) or real(p))
    path = write_pt(tmp_path / "thermo_fluid_train_128.pt")
    ds = MultiphysicsPtFile(path).open()
    ds.REMAP_EVERY = 2
    ref = torch.load(path)
    loads.clear()  # the source read the file's header once
    for i in (0, 1, 2, 3, 4):  # maps at reads 1, 3 and 5
        torch.testing.assert_close(ds[i]["x"], ref["x"][i])
    assert len(loads) == 3 and len(ds) == 6 and len(loads) == 3
    legacy = tmp_path / "legacy_train_128.pt"  # not mappable: loaded once, never again
    torch.save(ref, legacy, _use_new_zipfile_serialization=False)
    ds = MultiphysicsPtFile(legacy).open()
    ds.REMAP_EVERY = 2
    loads.clear()
    for i in range(5):
        torch.testing.assert_close(ds[i]["y"], ref["y"][i])
    assert len(loads) == 1 and not ds._mapped


def test_pt_dict_with_scale_is_unscaled(tmp_path):
    lo, hi = torch.tensor([0.0, 10.0, -1.0]), torch.tensor([1.0, 20.0, 1.0])
    path = write_pt(tmp_path / "p_test_128.pt", y_min=lo, y_max=hi)
    s = MultiphysicsPtFile(path).open()[0]
    y = torch.load(path)["y"][0]
    torch.testing.assert_close(s["y"][1], (y[1] + 0.9) / 1.8 * 10 + 10)


@pytest.mark.parametrize("damage,message", [
    ({"y": None}, "missing key 'y'"),
    ({"x": torch.zeros(6, 2, 8)}, r"'x' is torch.Size\(\[6, 2, 8\]\), expected a 4-D tensor"),
    ({"y": torch.zeros(5, 3, 8, 8)}, "disagree on samples or grid"),
    ({"y_min": torch.zeros(2), "y_max": torch.ones(2)}, "'y_min'/'y_max' need 3 entries"),
])
def test_pt_dict_malformed(tmp_path, damage, message):
    path = tmp_path / "p_train_128.pt"
    write_pt(path)
    data = torch.load(path)
    data.update(damage)
    torch.save({k: v for k, v in data.items() if v is not None}, path)
    with pytest.raises(DataFileError, match=message) as info:
        MultiphysicsPtFile(path)
    assert str(path) in str(info.value)


def test_pt_dict_nan_named_on_access(tmp_path):
    x = torch.zeros(4, 1, 8, 8)
    x[2, 0, 3, 3] = float("nan")
    path = tmp_path / "p_train_128.pt"
    torch.save({"x": x, "y": torch.zeros(4, 1, 8, 8)}, path)
    ds = MultiphysicsPtFile(path).open()
    ds[1]
    with pytest.raises(DataFileError, match=r"p_train_128.pt: 'x' has NaN or inf in sample 2"):
        ds[2]


def test_pt_dict_trains_end_to_end(tmp_path):
    from pdebench import results
    from pdebench.config import compose
    from pdebench.run import run

    from conftest import TINY

    path = write_pt(tmp_path / "p_train_128.pt", n=6, res=16)
    tiny = [o for o in TINY if not o.startswith(("data.", "trainer.max_epochs"))]
    cfg = compose([*tiny, "data=multiphysics_pt", f"data.path={path}",
                   "trainer.max_epochs=1", "data.split.train=4", "data.split.val=1",
                   "data.split.test=1", "plots=false", f"paths.output_dir={tmp_path / 'run'}"])
    record = results.read(run(cfg).path)
    assert record["status"] == "ok", record.get("error")
    assert record["split_sizes"] == {"train": 4, "val": 1, "test": 1}


# --- Multiphysics Bench merge_{id}.npy ---------------------------------------------------------


def test_npy_folder(tmp_path):
    root = write_npy_dir(tmp_path / "mp")
    src = MultiphysicsNpyDir(root, n_inputs=1, output_fields=["u", "v", "T"])
    assert src.meta.resolution == (6, 8) and src.meta.output_fields == ("u", "v", "T")
    assert [p.name for p in src.files][:3] == ["merge_0.npy", "merge_5.npy", "merge_10.npy"]
    s = src.open()[2]
    raw = np.load(root / "merge_10.npy")
    np.testing.assert_array_equal(s["x"].numpy(), raw[..., :1].transpose(2, 0, 1))
    np.testing.assert_array_equal(s["y"].numpy(), raw[..., 1:].transpose(2, 0, 1))
    with pytest.raises(ValueError, match=r"data.n_inputs must be in \[1, 3\]"):
        MultiphysicsNpyDir(root, n_inputs=4)


@pytest.mark.parametrize("how,bad,message", [
    ("name", "merge_x.npy", "malformed file name"),
    ("shape", "merge_99.npy", r"shape \(6, 7, 4\) but .*merge_0.npy has \(6, 8, 4\)"),
    ("ndim", "merge_0.npy", r"shape \(6, 8\), expected \(H, W, C_in \+ C_out\)"),
])
def test_npy_folder_malformed(tmp_path, how, bad, message):
    root = write_npy_dir(tmp_path / "mp")
    arr = {"name": np.zeros((6, 8, 4)), "shape": np.zeros((6, 7, 4)),
           "ndim": np.zeros((6, 8))}[how]
    np.save(root / bad, arr)
    with pytest.raises(DataFileError, match=message) as info:
        MultiphysicsNpyDir(root, n_inputs=1)
    assert bad in str(info.value)


def test_npy_folder_nan(tmp_path):
    root = write_npy_dir(tmp_path / "mp", n=2)
    arr = np.load(root / "merge_5.npy")
    arr[0, 0, 2] = np.nan
    np.save(root / "merge_5.npy", arr)
    with pytest.raises(DataFileError, match=r"merge_5.npy: 'array' has NaN .* sample 1"):
        MultiphysicsNpyDir(root, n_inputs=1).open()[1]


# --- Multiphysics Bench .mat folders -----------------------------------------------------------


def test_mat_folder_complex_fields(tmp_path):
    root = write_mat_dir(tmp_path / "et")
    src = MultiphysicsMatDir(root, inputs=["sigma"], outputs=["Ez", "T"])
    assert src.meta.input_fields == ("sigma",)
    assert src.meta.output_fields == ("Re_Ez", "Im_Ez", "T")
    assert src.meta.resolution == (6, 8) and src.meta.extra["complex_fields"] == ["Ez"]
    ds = src.open()
    for i in (0, 2):  # a v5 file and a v7.3 file
        ref = scipy.io.loadmat(root / f"sample_{i}.mat") if i == 0 else None
        if ref is None:
            with h5py.File(root / "sample_2.mat") as fh:
                ez = fh["export_Ez"][()].T
                ref = {"export_Ez": ez["real"] + 1j * ez["imag"], "export_T": fh["export_T"][()].T}
        y = ds[i]["y"].numpy()
        np.testing.assert_allclose(y[0], ref["export_Ez"].real, rtol=1e-6)
        np.testing.assert_allclose(y[1], ref["export_Ez"].imag, rtol=1e-6)
        np.testing.assert_allclose(y[2], ref["export_T"], rtol=1e-6)


def test_mat_folder_malformed(tmp_path):
    root = write_mat_dir(tmp_path / "et", v73_last=False)
    with pytest.raises(DataFileError, match=r"sample_0.mat: missing variable 'export_V'") as info:
        MultiphysicsMatDir(root, inputs=["sigma"], outputs=["V"])
    assert str(root / "sample_0.mat") in str(info.value)
    scipy.io.savemat(root / "sample_1.mat", {"export_sigma": np.zeros((6, 7)),
                                             "export_Ez": np.zeros((6, 8)),
                                             "export_T": np.full((6, 8), np.nan)})
    ds = MultiphysicsMatDir(root, inputs=["sigma"], outputs=["Ez", "T"]).open()
    with pytest.raises(DataFileError, match=r"sample_1.mat: 'export_sigma' has shape \(6, 7\)"):
        ds[1]
    scipy.io.savemat(root / "sample_1.mat", {"export_sigma": np.zeros((6, 8)),
                                             "export_Ez": np.zeros((6, 8)),
                                             "export_T": np.full((6, 8), np.nan)})
    s = ds[2]
    assert s["y"].shape == (3, 6, 8)
    with pytest.raises(DataFileError, match=r"sample_1.mat: 'export_T' has NaN .* sample 1"):
        ds[1]
