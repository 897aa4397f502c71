"""Readers for the multi-task DeepONet's published files (PROBLEMS B, "Published data"):
Fisher–KPP ``.npz`` and Darcy-on-several-geometries ``.mat``."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from pdebench.data.files import check_finite, h5_array, is_matlab_v73, plain
from pdebench.data.lazyfiles import LazyArrays, npz_arrays
from pdebench.data.mat5 import mat_arrays
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.data.store import DataFileError

PARTS = ("train", "test", "all")


# --- Fisher–KPP .npz ---------------------------------------------------------------------------

class FisherPairs(Dataset):
    """Pairs ``x`` (C, n_x) = [u0, a (, β)], ``y`` (n_t, n_x), read one sample at a time from
    the lazy arrays ``inputs``/``outputs`` of the ``.npz``."""

    def __init__(self, arrays: LazyArrays, n_x: int, n_t: int) -> None:
        self.arrays, self.path, self.n_x, self.n_t = arrays, arrays.path, n_x, n_t

    def __len__(self) -> int:
        return len(self.arrays["inputs"])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        inp = check_finite(np.asarray(self.arrays["inputs"][index], np.float32), self.path,
                           "inputs", f"sample {index}")
        out = check_finite(np.asarray(self.arrays["outputs"][index], np.float32), self.path,
                           "outputs", f"sample {index}")
        n_coef = inp.size - self.n_x
        coefs = np.broadcast_to(inp[:n_coef, None], (n_coef, self.n_x))
        x = np.concatenate([inp[None, n_coef:], coefs], axis=0)
        return {"x": torch.from_numpy(np.ascontiguousarray(x)),
                "y": torch.from_numpy(out.reshape(self.n_t, self.n_x).copy())}


class MTDeepONetFisherNpz(DataSource):
    """Multi-task DeepONet (Neural Networks 2025), Fisher–KPP u_t = D u_xx + a·g(u): a published
    ``.npz`` file, as pairs (initial state and coefficients → the 20 output frames).

    Layout: ``inputs`` (n, n_x + 1) = [a, u0(n_x)] or (n, n_x + 2) = [a, β, u0(n_x)] (β for the
    exponential form g₃); ``outputs`` (n, n_t·n_x), n_x = 64, n_t = 20 published. *Assumption*
    (not stated by the publication, checked only by size): the flattened outputs are row-major
    time then space, ``outputs[i].reshape(n_t, n_x)[k]`` being frame k. Sample: ``x`` (C, n_x)
    channels ``u0``, ``a`` (, ``beta``) with the coefficients broadcast over x; ``y`` (n_t, n_x)
    with the frames as channels ``u_t1`` … ``u_t20`` (as the ``fisher_kpp`` generator names
    them). Grid: n_x points on [0, 1] (vertex grid assumed).

    Reading is lazy, one sample at a time (:func:`pdebench.data.lazyfiles.npz_arrays`): members
    stored uncompressed (``np.savez``) are memory-mapped in place; compressed ones
    (``np.savez_compressed``) are converted once, streamed in bounded blocks, into an HDF5 cache
    file under ``cache_dir`` (reconverted when the ``.npz`` changes) and read from it. NaN/inf
    is checked per sample on access.

    Parameters
    ----------
    path : path-like
    n_x, n_t : int
        Spatial points and output frames (64, 20 published).
    cache_dir : path-like, optional
        Folder of the converted caches (default ``<PDEBENCH_DATA or the user cache>/converted``;
        the config sets ``${paths.data_dir}/converted``).
    """

    def __init__(self, path: str | Path, n_x: int = 64, n_t: int = 20,
                 cache_dir: str | Path | None = None) -> None:
        if path in (None, "", "???"):
            raise ValueError("data.path is required for mtdeeponet_npz: a Fisher-KPP .npz file")
        if n_x < 1 or n_t < 1:
            raise ValueError(f"data.n_x and data.n_t must be >= 1, got {n_x}, {n_t}")
        self.path, self.n_x, self.n_t = Path(path).expanduser(), n_x, n_t
        if not self.path.is_file():
            raise DataFileError(f"data file {self.path} does not exist")
        self.arrays = a = npz_arrays(self.path, cache_dir, only=("inputs", "outputs"))
        missing = [k for k in ("inputs", "outputs") if k not in a]
        if missing:
            raise DataFileError(f"{self.path}: missing array {missing[0]!r} (expected 'inputs' "
                                f"and 'outputs' of a numeric type; the file has {a.describe()})")
        inp, out = a["inputs"].shape, a["outputs"].shape
        if len(inp) != 2 or inp[1] - n_x not in (1, 2):
            raise DataFileError(f"{self.path}: 'inputs' has shape {inp}, expected (n, {n_x + 1}) "
                                f"= [a, u0] or (n, {n_x + 2}) = [a, beta, u0]")
        if len(out) != 2 or out[1] != n_t * n_x:
            raise DataFileError(f"{self.path}: 'outputs' has shape {out}, expected "
                                f"(n, {n_t}*{n_x} = {n_t * n_x}) (time-major frames)")
        if inp[0] != out[0]:
            raise DataFileError(f"{self.path}: 'inputs' has {inp[0]} samples, 'outputs' {out[0]}")
        self.coef_names = ("a", "beta")[: inp[1] - n_x]

    @property
    def meta(self) -> DatasetMeta:
        return DatasetMeta(
            name="mtdeeponet_npz", pde=None, spatial_dims=1, resolution=(self.n_x,),
            extent=((0.0, 1.0),), input_fields=("u0", *self.coef_names),
            output_fields=tuple(f"u_t{k}" for k in range(1, self.n_t + 1)), grid="vertex",
            extra={"file": str(self.path), "equation": "u_t = D u_xx + a g(u) (Fisher-KPP)",
                   "output_order": "row-major (t, x), assumed", "frames_as_channels": True,
                   "format": lazy_format(self.arrays, ".npz")})

    def open(self) -> FisherPairs:
        return FisherPairs(self.arrays, self.n_x, self.n_t)


def lazy_format(arrays: LazyArrays, kind: str) -> str:
    """The ``format`` entry of the meta: how the file is read."""
    if not arrays.converted:
        return f"{kind}, lazy (memory-mapped in place)"
    mapped = [k for k in arrays if k not in arrays.converted]
    return (f"{kind}, lazy ({'memory-mapped; ' if mapped else ''}compressed "
            f"{', '.join(arrays.converted)} converted once to the HDF5 cache {arrays.cache})")


# --- Darcy on several geometries .mat ----------------------------------------------------------

class MatArrays:
    """The variables of a ``.mat`` file in MATLAB's logical axis order, read lazily.

    v7.3 (HDF5): h5py, one sample at a time. v5: :func:`pdebench.data.mat5.mat_arrays`
    (uncompressed variables memory-mapped, compressed ones converted once to an HDF5 cache in
    ``cache_dir``). Both store MATLAB's arrays with the dims reversed; ``transpose`` undoes it.
    ``only``: the variables a v5 file needs readable (others are never converted).
    """

    def __init__(self, path: Path, cache_dir: str | Path | None = None,
                 only: tuple[str, ...] | None = None) -> None:
        if not path.is_file():
            raise DataFileError(f"data file {path} does not exist")
        self.path, self.hdf5 = path, h5py.is_hdf5(path)
        self._fh, self._pid, self.lazy = None, None, None
        if self.hdf5:
            self.transpose = is_matlab_v73(path)
        else:
            self.lazy = mat_arrays(path, cache_dir, only=only)
            self.transpose = self.lazy.transposed

    def _vars(self) -> h5py.File | LazyArrays:
        if self.lazy is not None:
            return self.lazy
        if self._fh is None or self._pid != os.getpid():
            self._fh, self._pid = h5py.File(self.path, "r"), os.getpid()
        return self._fh

    def names(self) -> list[str]:
        return sorted(k for k in self._vars().keys() if not k.startswith(("#", "__")))

    def require(self, name: str) -> None:
        if name not in self.names():
            has = self.lazy.describe() if self.lazy is not None else self.names()
            raise DataFileError(f"{self.path}: missing variable {name!r} (the file has {has})")

    def shape(self, name: str) -> tuple[int, ...]:
        s = self._vars()[name].shape
        return tuple(s[::-1]) if self.transpose else tuple(s)

    def full(self, name: str) -> np.ndarray:
        return h5_array(self._vars()[name], self.transpose)

    def take(self, name: str, axis: int, i: int) -> np.ndarray:
        """Entry ``i`` along logical ``axis`` of variable ``name``."""
        ds = self._vars()[name]
        idx = [slice(None)] * ds.ndim
        idx[ds.ndim - 1 - axis if self.transpose else axis] = i
        return h5_array(ds, self.transpose, tuple(idx))

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fh": None, "_pid": None}


class DarcyGeometryPairs(Dataset):
    """Samples ``x`` = [k, mask | geometry id], ``y`` = [u] of the entries ``(part, i)``."""

    def __init__(self, arrays: MatArrays, entries: list[tuple[str, int]], axis: int,
                 geometry: str) -> None:
        self.arrays, self.entries, self.axis, self.geometry = arrays, entries, axis, geometry

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        part, i = self.entries[index]
        a, path = self.arrays, self.arrays.path
        k = check_finite(a.take(f"k_{part}", self.axis, i).astype(np.float32), path,
                         f"k_{part}", f"sample {i}")
        u = check_finite(a.take(f"u_{part}", self.axis, i).astype(np.float32), path,
                         f"u_{part}", f"sample {i}")
        if self.geometry == "mask":
            g = a.take(f"shape_{part}", self.axis, i).astype(np.float32)
        else:
            g = np.full_like(k, float(np.ravel(a.full(f"shape_{part}"))[i]))
        check_finite(g, path, f"shape_{part}", f"sample {i}")
        return {"x": torch.from_numpy(np.stack([k, g])), "y": torch.from_numpy(u[None].copy())}


class MTDeepONetDarcyMat(DataSource):
    """Multi-task DeepONet (Neural Networks 2025), Darcy −∇·(K∇h) = 1 on several geometries: the
    published ``.mat`` file, as pairs (k and geometry → h).

    Layout: ``k_train``, ``u_train``, ``shape_train``, ``k_test``, ``u_test``, ``shape_test``,
    ``xx``, ``yy``. ``k_*``/``u_*`` are (N, H, W) or (H, W, N) (the sample axis is the one that is
    not the grid of ``xx``/``yy``: (H, W) meshes, or (W,) and (H,) vectors). ``shape_*`` is
    either the geometry mask (same layout as ``k_*``) or one geometry id per sample ((N,), (N, 1)
    or (1, N)); the input channels are then ``k``, ``mask`` (``masks=("mask",)``) or ``k``,
    ``geometry_id`` (the id broadcast over the grid: *harness choice*, the masks of the ids are
    not in the file). Extent from ``xx``/``yy`` (vertex grid).

    Reading is lazy, one sample at a time: v7.3 files with h5py; v5 files through
    :func:`pdebench.data.mat5.mat_arrays`: uncompressed variables are memory-mapped in place,
    compressed ones (MATLAB's default) converted once, streamed in bounded blocks, into an HDF5
    cache file under ``cache_dir`` (reconverted when the ``.mat`` changes). MATLAB's axis order
    is undone on access. A sample is contiguous on disk when the sample axis is MATLAB's last
    ((H, W, N)); with (N, H, W) each sample is gathered with a stride across the variable.
    NaN/inf is checked per sample on access.

    Split: the file's own train/test parts. ``part: train`` or ``test`` reads one part (the
    harness then splits it by ``data.split``); ``part: all`` reads both, test first, and
    ``data.split.mode=published`` keeps the file's test part as the test set and draws the
    validation set (``val_fraction`` of the train part, seeded) from the train part.

    Parameters
    ----------
    path : path-like
    part : {"train", "test", "all"}
    val_fraction : float
    cache_dir : path-like, optional
        Folder of the converted caches (default ``<PDEBENCH_DATA or the user cache>/converted``;
        the config sets ``${paths.data_dir}/converted``).
    """

    def __init__(self, path: str | Path, part: str = "all", val_fraction: float = 0.1,
                 cache_dir: str | Path | None = None) -> None:
        if path in (None, "", "???"):
            raise ValueError("data.path is required for mtdeeponet_mat: the Darcy .mat file")
        if part not in PARTS:
            raise ValueError(f"data.part must be one of {PARTS}, got {part!r}")
        if not 0 < val_fraction < 1:
            raise ValueError(f"data.val_fraction must be in (0, 1), got {val_fraction}")
        self.path, self.part = Path(path).expanduser(), part
        names = ("xx", "yy", "k_train", "u_train", "shape_train", "k_test", "u_test", "shape_test")
        self.arrays = a = MatArrays(self.path, cache_dir, only=names)
        for name in names:
            a.require(name)
        xx, yy = a.full("xx").astype(np.float64), a.full("yy").astype(np.float64)
        if xx.ndim == 2 and min(xx.shape) > 1:
            if yy.shape != xx.shape:
                raise DataFileError(f"{self.path}: 'xx' {xx.shape} and 'yy' {yy.shape} are "
                                    "not the same mesh")
            self.grid = xx.shape
        else:
            self.grid = (yy.size, xx.size)
        self.extent = ((float(yy.min()), float(yy.max())), (float(xx.min()), float(xx.max())))
        if not np.isfinite([*self.extent[0], *self.extent[1]]).all():
            raise DataFileError(f"{self.path}: 'xx'/'yy' have NaN or inf entries")
        parts = ("test", "train") if part == "all" else (part,)
        self.counts, self.axis, self.geometry = {}, None, None
        for p in parts:
            ks, us, ss = a.shape(f"k_{p}"), a.shape(f"u_{p}"), a.shape(f"shape_{p}")
            if len(ks) == 3 and ks[1:] == self.grid:
                axis = 0
            elif len(ks) == 3 and ks[:2] == self.grid:
                axis = 2
            else:
                raise DataFileError(f"{self.path}: 'k_{p}' has shape {ks}, expected (N, "
                                    f"{self.grid[0]}, {self.grid[1]}) or (..., N) on the grid "
                                    "of 'xx'/'yy'")
            if self.axis is not None and axis != self.axis:
                raise DataFileError(f"{self.path}: 'k_{p}' keeps samples on another axis "
                                    "than the other part")
            self.axis, n = axis, ks[axis]
            if us != ks:
                raise DataFileError(f"{self.path}: 'u_{p}' has shape {us}, expected {ks} "
                                    f"like 'k_{p}'")
            geometry = "mask" if ss == ks else "id" if int(np.prod(ss)) == n and \
                sorted(ss)[:-1] == [1] * (len(ss) - 1) else None
            if geometry is None or (self.geometry and geometry != self.geometry):
                raise DataFileError(f"{self.path}: 'shape_{p}' has shape {ss}, expected a mask "
                                    f"{ks} or one geometry id per sample ({n},)")
            self.geometry, self.counts[p] = geometry, n
        self.entries = [(p, i) for p in parts for i in range(self.counts[p])]
        if part == "all":
            n_val = min(max(1, round(val_fraction * self.counts["train"])),
                        self.counts["train"] - 1)
            self.published_split = {"train": self.counts["train"] - n_val, "val": n_val,
                                    "test": self.counts["test"], "mode": "published"}

    @property
    def meta(self) -> DatasetMeta:
        g = "mask" if self.geometry == "mask" else "geometry_id"
        return DatasetMeta(
            name="mtdeeponet_mat", pde=None, spatial_dims=2, resolution=self.grid,
            extent=self.extent, input_fields=("k", g), output_fields=("u",), grid="vertex",
            masks=("mask",) if self.geometry == "mask" else (),
            boundary_conditions={"u": "dirichlet_zero"},
            extra={"file": str(self.path), "part": self.part, "counts": self.counts,
                   "equation": "-div(K grad h) = 1 in the geometry, h = 0 on its boundary",
                   "format": "v7.3 (HDF5, lazy)" if self.arrays.hdf5
                   else lazy_format(self.arrays.lazy, "v5"),
                   "sample_axis": self.axis, "geometry": plain(self.geometry)})

    def open(self) -> DarcyGeometryPairs:
        return DarcyGeometryPairs(self.arrays, self.entries, self.axis, self.geometry)
