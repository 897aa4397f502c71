"""Readers of the multi-task DeepONet's published .npz and .mat files, on tiny files in their layouts."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io

from pdebench.data.lazyfiles import MappedArray
from pdebench.data.store import DataFileError
from pdebench.datasets.mtdeeponet.files import MTDeepONetDarcyMat, MTDeepONetFisherNpz

from published_layouts import (
    darcy_arrays,
    write_npz,
    write_v73,
)

# --- multi-task DeepONet: Fisher-KPP .npz ------------------------------------------------------


def test_fisher_npz(tmp_path):
    path = write_npz(tmp_path / "fisher.npz")
    src = MTDeepONetFisherNpz(path)
    meta = src.meta
    meta.to_json()  # serialisable (results record it)
    assert meta.input_fields == ("u0", "a", "beta") and meta.spatial_dims == 1
    assert meta.output_fields[0] == "u_t1" and meta.output_fields[-1] == "u_t20" and meta.out_channels == 20
    s = src.open()[3]
    with np.load(path) as npz:
        inp, out = npz["inputs"][3], npz["outputs"][3]
    np.testing.assert_allclose(s["x"][0].numpy(), inp[2:], rtol=1e-6)
    np.testing.assert_allclose(s["x"][1].numpy(), np.full(64, inp[0]), rtol=1e-6)
    np.testing.assert_allclose(s["x"][2].numpy(), np.full(64, inp[1]), rtol=1e-6)
    np.testing.assert_allclose(s["y"][7].numpy(), out[7 * 64:8 * 64], rtol=1e-6)
    assert MTDeepONetFisherNpz(write_npz(tmp_path / "g1.npz", beta=False)).meta.input_fields \
        == ("u0", "a")


@pytest.mark.parametrize("override,message", [
    ({"outputs": None}, "missing array 'outputs'"),
    ({"outputs": np.zeros((5, 64 * 19))}, r"'outputs' has shape \(5, 1216\), expected \(n, 20\*64"),
    ({"inputs": np.zeros((5, 67))}, r"'inputs' has shape \(5, 67\), expected \(n, 65\)"),
    ({"inputs": np.zeros((4, 66))}, "'inputs' has 4 samples, 'outputs' 5"),
])
def test_fisher_npz_malformed(tmp_path, override, message):
    path = tmp_path / "fisher.npz"
    arrays = {"inputs": np.zeros((5, 66)), "outputs": np.zeros((5, 1280)), **override}
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    with pytest.raises(DataFileError, match=message) as info:
        MTDeepONetFisherNpz(path)
    assert str(path) in str(info.value)


def test_fisher_npz_is_memory_mapped(tmp_path):
    path = write_npz(tmp_path / "fisher.npz")
    src = MTDeepONetFisherNpz(path, cache_dir=tmp_path / "cache")
    ds = src.open()
    for key in ("inputs", "outputs"):
        assert isinstance(src.arrays[key], MappedArray)  # a view of the file, nothing loaded
        assert isinstance(ds.arrays[key], MappedArray)
    assert "memory-mapped in place" in src.meta.extra["format"]
    assert not (tmp_path / "cache").exists()  # nothing to convert


def test_fisher_npz_compressed_is_converted_once(tmp_path, capsys):
    rng = np.random.default_rng(3)
    arrays = {"inputs": rng.random((6, 65)), "outputs": rng.random((6, 1280))}
    path = tmp_path / "fisher.npz"
    np.savez_compressed(path, **arrays)
    src = MTDeepONetFisherNpz(path, cache_dir=tmp_path / "cache")
    assert "converting fisher.npz member 'outputs'" in capsys.readouterr().err
    assert "converted once" in src.meta.extra["format"]
    s = src.open()[4]
    np.testing.assert_allclose(s["y"].numpy().ravel(), arrays["outputs"][4], rtol=1e-6)
    MTDeepONetFisherNpz(path, cache_dir=tmp_path / "cache")
    assert "converting" not in capsys.readouterr().err


def test_fisher_npz_nan(tmp_path):
    out = np.zeros((5, 1280))
    out[4, 100] = np.nan
    ds = MTDeepONetFisherNpz(write_npz(tmp_path / "f.npz", outputs=out)).open()
    ds[3]
    with pytest.raises(DataFileError, match=r"f.npz: 'outputs' has NaN .* sample 4"):
        ds[4]


# --- multi-task DeepONet: Darcy on several geometries .mat -------------------------------------


@pytest.mark.parametrize("fmt", ["v5", "v5_compressed", "v73"])
def test_darcy_mat(tmp_path, fmt):
    arrays = darcy_arrays(ids=fmt == "v73")
    path = tmp_path / "darcy.mat"
    if fmt == "v73":
        write_v73(path, arrays)
    else:
        scipy.io.savemat(path, arrays, do_compression=fmt == "v5_compressed")
    src = MTDeepONetDarcyMat(path, cache_dir=tmp_path / "cache")
    if fmt != "v73":  # v5: lazy too, memory-mapped or from the converted cache
        lazy = src.arrays.lazy
        assert isinstance(lazy["k_train"], MappedArray if fmt == "v5" else h5py.Dataset)
        assert ("converted once" in src.meta.extra["format"]) == (fmt == "v5_compressed")
    meta = src.meta
    meta.to_json()  # serialisable (results record it)
    assert meta.resolution == (6, 7) and meta.extent == ((0.0, 1.0), (0.0, 2.0))
    assert meta.input_fields == (("k", "geometry_id") if fmt == "v73" else ("k", "mask"))
    assert src.published_split == {"train": 4, "val": 1, "test": 3, "mode": "published"}
    ds = src.open()
    assert len(ds) == 8
    s_test, s_train = ds[1], ds[3 + 2]
    np.testing.assert_allclose(s_test["x"][0].numpy(), arrays["k_test"][1], rtol=1e-6)
    np.testing.assert_allclose(s_train["y"][0].numpy(), arrays["u_train"][2], rtol=1e-6)
    g = np.full((6, 7), arrays["shape_train"][2, 0]) if fmt == "v73" \
        else arrays["shape_train"][2]
    np.testing.assert_array_equal(s_train["x"][1].numpy(), g)
    only = MTDeepONetDarcyMat(path, part="test")
    assert len(only.open()) == 3 and only.published_split is None


@pytest.mark.parametrize("damage,message", [
    ({"u_test": None}, "missing variable 'u_test'"),
    ({"k_train": np.zeros((5, 6, 8))}, r"'k_train' has shape \(5, 6, 8\), expected \(N, 6, 7\)"),
    ({"u_train": np.zeros((4, 6, 7))}, r"'u_train' has shape \(4, 6, 7\), expected \(5, 6, 7\)"),
    ({"shape_test": np.zeros((3, 2))}, r"'shape_test' has shape \(3, 2\), expected a mask"),
    ({"yy": np.zeros((7, 6))}, r"'xx' \(6, 7\) and 'yy' \(7, 6\) are not the same mesh"),
])
def test_darcy_mat_malformed(tmp_path, damage, message):
    arrays = {**darcy_arrays(), **damage}
    path = tmp_path / "darcy.mat"
    scipy.io.savemat(path, {k: v for k, v in arrays.items() if v is not None})
    with pytest.raises(DataFileError, match=message) as info:
        MTDeepONetDarcyMat(path)
    assert str(path) in str(info.value)


def test_darcy_mat_nan_named_on_access(tmp_path):
    arrays = darcy_arrays()
    arrays["k_train"][3, 2, 2] = np.nan
    path = write_v73(tmp_path / "darcy.mat", arrays)
    ds = MTDeepONetDarcyMat(path, part="train").open()
    ds[2]
    with pytest.raises(DataFileError, match=r"darcy.mat: 'k_train' has NaN .* sample 3"):
        ds[3]
