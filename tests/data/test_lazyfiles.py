"""Lazy .npz and MAT v5 reading (pdebench.data.lazyfiles) on tiny files."""

from __future__ import annotations

import os
import pickle
import struct
import tracemalloc
import zlib

import h5py
import numpy as np
import pytest
import scipy.io

from pdebench.data.lazyfiles import LazyView, MappedArray, npz_arrays
from pdebench.data.mat5 import mat_arrays
from pdebench.data.store import DataFileError

RNG = np.random.default_rng(0)
NPZ = {"f64": RNG.random((5, 7)), "f32_1d": RNG.random(9).astype(np.float32),
       "int_3d": RNG.integers(-9, 9, (3, 4, 2)), "fortran": np.asfortranarray(RNG.random((4, 6))),
       "scalar": np.array(2.5), "empty": np.zeros((0, 3)), "text": np.array(["not numeric"])}


def value(arr) -> np.ndarray:
    return np.asarray(arr[()])


# --- .npz -------------------------------------------------------------------------------------

def test_npz_stored_members_are_memory_mapped(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, **NPZ)
    arrays = npz_arrays(path, tmp_path / "cache")
    assert arrays.skipped == {"text": "not a numeric array"}
    assert arrays.converted == ("fortran",)  # Fortran order: converted, the rest mapped
    for key in ("f64", "f32_1d", "int_3d", "scalar"):
        assert isinstance(arrays[key], MappedArray), key
        assert arrays[key].dtype == NPZ[key].dtype
    for key in arrays:
        np.testing.assert_array_equal(value(arrays[key]), NPZ[key])
    np.testing.assert_array_equal(arrays["int_3d"][1], NPZ["int_3d"][1])


def test_npz_compressed_converted_once_then_reused(tmp_path, capsys):
    path, cache_dir = tmp_path / "a.npz", tmp_path / "cache"
    np.savez_compressed(path, **NPZ)
    arrays = npz_arrays(path, cache_dir)
    err = capsys.readouterr().err
    assert "converting a.npz member 'int_3d'" in err and "lazily readable cache" in err
    assert set(arrays.converted) == set(NPZ) - {"text"}
    assert isinstance(arrays["f64"], h5py.Dataset)
    for key in arrays:
        np.testing.assert_array_equal(value(arrays[key]), NPZ[key])
        assert value(arrays[key]).dtype == NPZ[key].dtype
    stamp = arrays.cache.stat().st_mtime_ns
    again = npz_arrays(path, cache_dir)
    assert again.cache == arrays.cache and again.cache.stat().st_mtime_ns == stamp
    assert "converting" not in capsys.readouterr().err
    np.testing.assert_array_equal(again["f64"][2], NPZ["f64"][2])


def test_npz_edited_source_is_reconverted(tmp_path, capsys):
    path, cache_dir = tmp_path / "a.npz", tmp_path / "cache"
    np.savez_compressed(path, x=np.zeros((4, 3)))
    npz_arrays(path, cache_dir)
    np.savez_compressed(path, x=np.ones((4, 3)))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # whatever the clock's grain
    capsys.readouterr()
    arrays = npz_arrays(path, cache_dir)
    assert "converting a.npz member 'x'" in capsys.readouterr().err
    np.testing.assert_array_equal(value(arrays["x"]), np.ones((4, 3)))
    assert len(list(cache_dir.glob("*.h5"))) == 1  # replaced, not accumulated


def test_npz_corrupt_cache_is_rebuilt(tmp_path, capsys):
    path, cache_dir = tmp_path / "a.npz", tmp_path / "cache"
    np.savez_compressed(path, x=NPZ["f64"])
    cache = npz_arrays(path, cache_dir).cache
    cache.write_bytes(b"not an HDF5 file at all")
    capsys.readouterr()
    arrays = npz_arrays(path, cache_dir)
    err = capsys.readouterr().err
    assert f"the cache file {cache} is not readable" in err and "rebuilding" in err
    np.testing.assert_array_equal(value(arrays["x"]), NPZ["f64"])


@pytest.mark.parametrize("shape", [(300, 17), (5, 40, 30), (2000,)])
def test_npz_chunked_conversion_equals_original(tmp_path, shape):
    x = RNG.random(shape).astype(np.float32)
    path = tmp_path / "big.npz"
    np.savez_compressed(path, x=x)
    arrays = npz_arrays(path, tmp_path / "cache", chunk_bytes=1000)  # member: many chunks
    np.testing.assert_array_equal(value(arrays["x"]), x)


def test_conversion_memory_is_bounded_by_the_chunk(tmp_path):
    x = RNG.random((1024, 1024))  # 8 MiB member
    path = tmp_path / "big.npz"
    np.savez_compressed(path, x=x)
    tracemalloc.start()
    try:
        npz_arrays(path, tmp_path / "cache", chunk_bytes=2**18)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**21, f"peak {peak} bytes converting an 8 MiB member in 256 KiB blocks"


def test_npz_truncated_or_corrupt(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, x=NPZ["f64"])
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataFileError, match="not a readable .npz file") as info:
        npz_arrays(path, tmp_path / "cache")
    assert str(path) in str(info.value)
    np.savez_compressed(path, x=RNG.random((200, 50)))
    data = bytearray(path.read_bytes())
    data[2000:2100] = bytes(100)  # inside the deflate stream of member x
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match=r"member 'x' is corrupt or truncated") as info:
        npz_arrays(path, tmp_path / "cache")
    assert str(path) in str(info.value)
    assert not list((tmp_path / "cache").glob("*.h5"))  # nothing half-written kept


def test_npz_only_and_missing(tmp_path):
    path = tmp_path / "a.npz"
    np.savez_compressed(path, x=np.zeros(3), y=np.ones(4))
    arrays = npz_arrays(path, tmp_path / "cache", only=("y",))
    assert list(arrays) == ["y"] and arrays.converted == ("y",)
    assert "x (not requested)" in arrays.describe()
    with pytest.raises(DataFileError, match="does not exist"):
        npz_arrays(tmp_path / "nope.npz", tmp_path / "cache")


# --- MAT v5 -----------------------------------------------------------------------------------

MAT = {"double_2d": RNG.random((4, 5)), "single_3d": RNG.random((3, 4, 2)).astype(np.float32),
       "int16": RNG.integers(-300, 300, (5, 3)).astype(np.int16),
       "complex": RNG.random((3, 4)) + 1j * RNG.random((3, 4)),
       "complex_3d": (RNG.random((2, 3, 2)) + 1j * RNG.random((2, 3, 2))).astype(np.complex64),
       "logical": RNG.random((4, 4)) > 0.5, "uint8": np.arange(6, dtype=np.uint8).reshape(2, 3),
       "scalar": 3.0, "int8_small": np.array([-3], np.int8), "empty": np.zeros((0, 2)),
       "cell": np.array([[1, "a"]], dtype=object), "text": "hello"}


def check_against_loadmat(path, arrays):
    ref = scipy.io.loadmat(path)
    assert set(arrays) == {k for k in ref if not k.startswith("__")} - {"cell", "text"}
    assert arrays.skipped == {"cell": "cell", "text": "char"} and arrays.transposed
    for key in arrays:
        got = value(arrays[key]).T  # dims reversed: .T is MATLAB's array
        assert got.shape == ref[key].shape, key
        np.testing.assert_array_equal(got, ref[key], err_msg=key)


@pytest.mark.parametrize("compressed", [False, True])
def test_mat_v5_equals_loadmat(tmp_path, compressed):
    path = tmp_path / "v.mat"
    scipy.io.savemat(path, MAT, do_compression=compressed)
    arrays = mat_arrays(path, tmp_path / "cache")
    check_against_loadmat(path, arrays)
    assert value(arrays["logical"]).dtype == np.bool_  # MATLAB's class, not the stored uint8
    if compressed:
        assert set(arrays.converted) == set(arrays)
        assert isinstance(arrays["single_3d"], h5py.Dataset)
    else:
        assert not arrays.converted and arrays.cache is None
        for key in ("double_2d", "single_3d", "int16", "uint8", "scalar", "int8_small"):
            assert isinstance(arrays[key], MappedArray), key
        assert isinstance(arrays["complex"], LazyView)
        assert isinstance(arrays["complex"].real, MappedArray)
    np.testing.assert_array_equal(arrays["single_3d"][1].T, MAT["single_3d"][:, :, 1])


def v5_file(path, variables, order="<", compress=False):
    """A MAT v5 file written by hand: ``variables`` {name: (class, stored dtype, array)}, the
    stored type possibly narrower than the class (as MATLAB writes small integer doubles)."""
    mi = {"u1": 2, "i2": 3, "f8": 9}

    def sub(t, data):
        return struct.pack(order + "II", t, len(data)) + data + bytes(-len(data) % 8)

    out = b"MATLAB 5.0 MAT-file, hand-written test".ljust(116) + bytes(8)
    out += struct.pack(order + "H", 0x0100) + (b"IM" if order == "<" else b"MI")
    for name, (cls, stored, arr) in variables.items():
        values = np.asarray(arr, np.dtype(stored).newbyteorder(order)).tobytes(order="F")
        body = (sub(6, struct.pack(order + "II", cls, 0))
                + sub(5, struct.pack(f"{order}{arr.ndim}i", *arr.shape))
                + sub(1, name.encode()) + sub(mi[stored], values))
        element = struct.pack(order + "II", 14, len(body)) + body
        if compress:  # an miCOMPRESSED element: a zlib stream of the miMATRIX, not padded
            z = zlib.compress(element)
            element = struct.pack(order + "II", 15, len(z)) + z
        out += element
    path.write_bytes(out)
    return path


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("compress", [False, True])
def test_mat_class_cast_from_narrower_stored_type(tmp_path, order, compress):
    small = np.array([[0.0, 3, 255], [7, 1, 2]])
    path = v5_file(tmp_path / "m.mat", {"a": (6, "u1", small),  # double stored as uint8
                                        "b": (6, "i2", -small[:, :, None] * np.ones(3)),
                                        "c": (6, "f8", small)}, order, compress)
    arrays = mat_arrays(path, tmp_path / "cache")
    check = scipy.io.loadmat(path)
    for key in "abc":
        got = value(arrays[key]).T
        assert got.dtype == np.float64 and got.shape == check[key].shape, key
        np.testing.assert_array_equal(got, check[key])
    if not compress:
        assert isinstance(arrays["a"], LazyView) and isinstance(arrays["a"].real, MappedArray)
        c = arrays["c"]  # mapped, not converted; a big-endian file is byte-swapped per access
        assert isinstance(c if order == "<" else c.real, MappedArray)
        assert arrays["a"][1].dtype == np.float64


def test_mat_chunked_conversion_equals_original(tmp_path):
    big = {"u": RNG.random((6, 7, 50)), "z": RNG.random((40, 30)) + 1j * RNG.random((40, 30))}
    path = tmp_path / "big.mat"
    scipy.io.savemat(path, big, do_compression=True)
    arrays = mat_arrays(path, tmp_path / "cache", chunk_bytes=500)
    np.testing.assert_array_equal(value(arrays["u"]).T, big["u"])
    np.testing.assert_array_equal(value(arrays["z"]).T, big["z"])


def test_mat_truncated_or_corrupt(tmp_path):
    path = tmp_path / "m.mat"
    scipy.io.savemat(path, {"first": np.zeros((3, 3)), "second": RNG.random((50, 40))})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataFileError, match=r"variable 'second' is corrupt or truncated") as info:
        mat_arrays(path, tmp_path / "cache")
    assert str(path) in str(info.value)
    scipy.io.savemat(path, {"second": RNG.random((50, 40))}, do_compression=True)
    data = bytearray(path.read_bytes())
    data[1000:1100] = bytes(100)  # inside the zlib stream
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match=r"variable 'second' is corrupt or truncated") as info:
        mat_arrays(path, tmp_path / "cache")
    assert str(path) in str(info.value)
    path.write_bytes(b"neither v5 nor v7.3")
    with pytest.raises(DataFileError, match="not a MATLAB v5 .mat file"):
        mat_arrays(path, tmp_path / "cache")


# --- handles across processes -----------------------------------------------------------------

@pytest.mark.parametrize("compressed", [False, True])
def test_pickle_round_trip(tmp_path, compressed):
    path = tmp_path / "m.mat"
    scipy.io.savemat(path, MAT, do_compression=compressed)
    arrays = mat_arrays(path, tmp_path / "cache")
    first = value(arrays["complex"])  # opens the handles
    blob = pickle.dumps(arrays)
    assert len(blob) < 2000  # locations only, never the values
    back = pickle.loads(blob)
    np.testing.assert_array_equal(value(back["complex"]), first)
    np.testing.assert_array_equal(back["double_2d"][2], arrays["double_2d"][2])
    npz = tmp_path / "a.npz"
    (np.savez_compressed if compressed else np.savez)(npz, **NPZ)
    back = pickle.loads(pickle.dumps(npz_arrays(npz, tmp_path / "cache")))
    np.testing.assert_array_equal(back["int_3d"][2], NPZ["int_3d"][2])


def test_large_conversions_show_progress(tmp_path, capsys, monkeypatch):
    import pdebench.data.lazyfiles as lf

    np.savez_compressed(tmp_path / "a.npz", x=RNG.random((200, 50)))
    np.savez_compressed(tmp_path / "b.npz", x=RNG.random((200, 50)))
    monkeypatch.setattr(lf, "PROGRESS_BYTES", 1)  # progress for any conversion
    monkeypatch.setenv("PDEBENCH_PROGRESS", "bar")  # as on a terminal
    npz_arrays(tmp_path / "a.npz", tmp_path / "cache", chunk_bytes=8000)
    err = capsys.readouterr().err
    assert "converting member 'x':" in err and "/78.1k" in err  # a bar over 200 * 50 * 8 bytes
    monkeypatch.setenv("PDEBENCH_PROGRESS", "lines")  # as in a log file: plain lines, no \r
    npz_arrays(tmp_path / "a.npz", tmp_path / "cache2", chunk_bytes=8000)
    err = capsys.readouterr().err
    assert "converting member 'x': 80000/80000 B (100%)" in err and "\r" not in err
    monkeypatch.setattr(lf, "PROGRESS_BYTES", 2**30)
    npz_arrays(tmp_path / "b.npz", tmp_path / "cache")
    err = capsys.readouterr().err
    assert "converting b.npz member 'x'" in err and "/78.1k" not in err  # small: one line only
