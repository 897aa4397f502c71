"""The data contract: store, splits, normalisers, lazy reading, published Darcy files."""

from __future__ import annotations

import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from pdebench.data.arrays import FieldSpec, H5SampleDataset
from pdebench.data.meta import DatasetMeta
from pdebench.data.normalize import ChannelNormalizer, fit_channel_stats
from pdebench.data.splits import make_splits, split_counts
from pdebench.data.store import DataFileError, read_store_info, write_store
from pdebench.datasets.pdebench_suite.files import PDEBenchDarcyFile

from published_layouts import write_pdebench_darcy

META = DatasetMeta(name="t", spatial_dims=2, resolution=(4, 4), input_fields=("a",),
                   output_fields=("u", "v"), pde="darcy", pde_params={"beta": 1.0})


def _arrays(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 4, 4)).astype(np.float32), rng.random((n, 2, 4, 4)).astype(np.float32)


def test_store_roundtrip(tmp_path):
    x, y = _arrays()
    path = write_store(tmp_path / "s.h5", x, y, META, {"name": "t", "seed": 3}, {"max": 1e-12})
    meta, gen, res = read_store_info(path)
    assert meta == META and gen["seed"] == 3 and res["max"] == 1e-12
    ds = H5SampleDataset(path, [FieldSpec("x")], [FieldSpec("y")])
    np.testing.assert_array_equal(ds[3]["y"].numpy(), y[3])
    assert ds[3]["x"].shape == (1, 4, 4)


def test_store_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    x, y = _arrays()
    target = tmp_path / "s.h5"

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(h5py.Group, "create_dataset", boom)
    with pytest.raises(KeyboardInterrupt):
        write_store(target, x, y, META, {})
    assert list(tmp_path.iterdir()) == []


def test_store_refuses_nan_and_wrong_shape(tmp_path):
    x, y = _arrays()
    y[2, 0, 1, 1] = np.nan
    with pytest.raises(ValueError, match="'y' contains NaN"):
        write_store(tmp_path / "s.h5", x, y, META, {})
    with pytest.raises(ValueError, match="expected"):
        write_store(tmp_path / "s.h5", x[:, :, :3], _arrays()[1], META, {})
    assert not (tmp_path / "s.h5").exists()


@pytest.mark.parametrize("damage", ["missing", "garbage", "incomplete", "foreign", "wrong_shape"])
def test_store_validation_names_the_problem(tmp_path, damage):
    path = tmp_path / "s.h5"
    if damage != "missing":
        x, y = _arrays()
        write_store(path, x, y, META, {})
    if damage == "garbage":
        path.write_bytes(b"not hdf5 at all" * 10)
    elif damage == "incomplete":
        with h5py.File(path, "a") as fh:
            fh.attrs["complete"] = False
    elif damage == "foreign":
        with h5py.File(path, "a") as fh:
            fh.attrs["format"] = "other"
    elif damage == "wrong_shape":
        with h5py.File(path, "a") as fh:
            del fh["y"]
            fh["y"] = np.zeros((10, 2, 5, 5), np.float32)
    expected = {"missing": "does not exist", "garbage": "not a readable HDF5",
                "incomplete": "incomplete", "foreign": "not a pdebench store",
                "wrong_shape": "'y' has shape"}[damage]
    with pytest.raises(DataFileError, match=expected) as info:
        read_store_info(path)
    assert str(path) in str(info.value)


def test_lazy_and_in_memory_agree_and_pickle(tmp_path):
    x, y = _arrays(7)
    path = write_store(tmp_path / "s.h5", x, y, META, {})
    lazy = H5SampleDataset(path, [FieldSpec("x")], [FieldSpec("y")], in_memory=False)
    mem = H5SampleDataset(path, [FieldSpec("x")], [FieldSpec("y")], in_memory=True)
    for i in range(7):
        for k in ("x", "y"):
            assert torch.equal(lazy[i][k], mem[i][k])
    lazy[0]  # opens a handle; pickling (DataLoader workers) must drop it
    clone = pickle.loads(pickle.dumps(lazy))
    assert torch.equal(clone[-1]["y"], lazy[6]["y"])
    with pytest.raises(IndexError):
        lazy[7]


def test_nan_sample_is_named(tmp_path):
    path = tmp_path / "f.h5"
    write_pdebench_darcy(path, n=5)
    with h5py.File(path, "a") as fh:
        fh["tensor"][3, 0, 2, 2] = np.inf
    lazy = H5SampleDataset(path, [FieldSpec("nu", True)], [FieldSpec("tensor")])
    lazy[2]
    with pytest.raises(DataFileError, match=r"'tensor' has NaN or inf in sample 3"):
        lazy[3]
    with pytest.raises(DataFileError, match=r"'tensor' has NaN or inf in sample 3"):
        H5SampleDataset(path, [FieldSpec("nu", True)], [FieldSpec("tensor")], in_memory=True)


def test_splits_seeded_disjoint_and_complete():
    a = make_splits(100, seed=1)
    b = make_splits(100, seed=1)
    c = make_splits(100, seed=2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["test"], c["test"])
    allidx = np.concatenate([a["train"], a["val"], a["test"]])
    assert sorted(allidx.tolist()) == list(range(100))
    assert (len(a["train"]), len(a["val"]), len(a["test"])) == (80, 10, 10)


def test_published_split_takes_first_tenth_as_test():
    s = make_splits(50, mode="published", seed=0)
    assert s["test"].tolist() == list(range(5))
    assert set(s["val"]).isdisjoint(range(5))


def test_split_too_small_is_a_clear_error():
    with pytest.raises(ValueError, match=r"has 5 samples, too few for the split"):
        split_counts(5, 0.8, 0.1, 0.1, "dataset 'darcy'")
    assert split_counts(10, 6, 2, 2) == (6, 2, 2)
    with pytest.raises(ValueError, match="unknown split mode"):
        make_splits(10, mode="first")


def test_normalizer_stats_match_numpy(tmp_path):
    x, y = _arrays(20, seed=4)
    path = write_store(tmp_path / "s.h5", x, y, META, {})
    ds = H5SampleDataset(path, [FieldSpec("x")], [FieldSpec("y")])
    idx = [0, 3, 5, 7, 11, 19]
    mean, std = fit_channel_stats(ds, idx, "y", batch_size=4)
    ref = y[idx].transpose(1, 0, 2, 3).reshape(2, -1)
    np.testing.assert_allclose(mean.numpy(), ref.mean(1), rtol=1e-5)
    np.testing.assert_allclose(std.numpy(), ref.std(1), rtol=1e-4)
    norm = ChannelNormalizer(2)
    norm.set_stats(mean, std)
    t = torch.from_numpy(y[:3])
    assert torch.allclose(norm.decode(norm.encode(t)), t, atol=1e-6)
    assert set(norm.state_dict()) == {"mean", "std", "fitted"}


def test_pdebench_darcy_reader(darcy_file: Path):
    src = PDEBenchDarcyFile(darcy_file, in_memory=False)
    assert src.meta.resolution == (16, 16)
    assert src.meta.pde_params["beta"] == 1.0
    assert src.meta.extent == ((0.0, 1.0), (0.0, 1.0))
    ds = src.open()
    assert len(ds) == 12
    s = ds[0]
    assert s["x"].shape == (1, 16, 16) and s["y"].shape == (1, 16, 16)


def test_pdebench_darcy_beta_from_name(tmp_path):
    path = write_pdebench_darcy(tmp_path / "2D_DarcyFlow_beta0.01_Train.hdf5", beta=None)
    assert PDEBenchDarcyFile(path).meta.pde_params["beta"] == 0.01
    anon = write_pdebench_darcy(tmp_path / "darcy.hdf5", beta=None)
    with pytest.raises(DataFileError, match="pass data.beta"):
        PDEBenchDarcyFile(anon)
    assert PDEBenchDarcyFile(anon, beta=10.0).meta.pde_params["beta"] == 10.0


@pytest.mark.parametrize("damage,message", [
    ("no_nu", r"missing dataset 'nu'"),
    ("bad_shape", r"do not match the Darcy layout"),
    ("bad_coords", r"'x-coordinate' has 15 entries"),
])
def test_pdebench_darcy_reader_refuses_bad_files(tmp_path, damage, message):
    path = write_pdebench_darcy(tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5")
    with h5py.File(path, "a") as fh:
        if damage == "no_nu":
            del fh["nu"]
        elif damage == "bad_shape":
            del fh["tensor"]
            fh["tensor"] = np.zeros((12, 2, 16, 16), np.float32)
        else:
            del fh["x-coordinate"]
            fh["x-coordinate"] = np.linspace(0, 1, 15)
    with pytest.raises(DataFileError, match=message) as info:
        PDEBenchDarcyFile(path)
    assert str(path) in str(info.value)


def test_missing_and_corrupt_published_file(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        PDEBenchDarcyFile(tmp_path / "nope.hdf5")
    bad = tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5"
    bad.write_bytes(b"\x89HDF\r\n" + b"0" * 100)
    with pytest.raises(DataFileError, match="not a readable HDF5"):
        PDEBenchDarcyFile(bad)


def test_ordered_split_is_contiguous_test_val_train():
    s = make_splits(10, 5, 2, 3, mode="ordered")
    assert s["test"].tolist() == [0, 1, 2] and s["val"].tolist() == [3, 4]
    assert s["train"].tolist() == [5, 6, 7, 8, 9]
