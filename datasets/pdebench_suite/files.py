"""Readers for PDEBench's published HDF5 files (PROBLEMS A, "Published HDF5 layouts")."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np

from pdebench.data.arrays import FieldSpec, H5SampleDataset
from pdebench.data.cache import resolve_in_memory
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.data.store import DataFileError, open_h5
from pdebench.data.trajectories import TrajectoryReader, TrajectoryWindows, window_fields


def _extent_from_centres(coords: np.ndarray, n: int, key: str, path: Path) -> tuple[float, float]:
    coords = np.asarray(coords, dtype=np.float64).ravel()
    if coords.size != n:
        raise DataFileError(f"{path}: {key!r} has {coords.size} entries but the fields have "
                            f"{n} points along that axis")
    if n > 1 and not np.all(np.diff(coords) > 0):
        raise DataFileError(f"{path}: {key!r} is not strictly increasing")
    h = (coords[-1] - coords[0]) / (n - 1) if n > 1 else 1.0
    return float(coords[0] - h / 2), float(coords[-1] + h / 2)


class PDEBenchDarcyFile(DataSource):
    """PDEBench's 2D Darcy flow file (``2D_DarcyFlow_beta*_Train.hdf5``), read lazily.

    Layout: ``nu`` (N, H, W) = coefficient a, ``tensor`` (N, 1, H, W) = solution u, optional
    ``x-coordinate`` (W,), ``y-coordinate`` (H,) cell centres, β from the ``beta`` file attribute,
    else from the file name (``beta1.0``), else from ``beta``.

    Parameters
    ----------
    path : path-like
        The ``.hdf5`` file.
    beta : float, optional
        β when neither the file attributes nor its name give it.
    in_memory : bool or "auto"
        Hold in RAM (auto: files under 2 GiB) or read lazily (bounded memory).
    """

    def __init__(self, path: str | Path, beta: float | None = None,
                 in_memory: bool | str = "auto") -> None:
        if path in (None, "", "???"):
            raise ValueError("data.path is required for pdebench_darcy: the path of a PDEBench "
                             "2D_DarcyFlow_beta*_Train.hdf5 file")
        self.path = Path(path).expanduser()
        self.in_memory = in_memory
        self._meta = self._inspect(beta)

    def _inspect(self, beta: float | None) -> DatasetMeta:
        with open_h5(self.path) as fh:
            for key in ("nu", "tensor"):
                if key not in fh:
                    raise DataFileError(
                        f"{self.path}: missing dataset {key!r}; a PDEBench Darcy file has 'nu' "
                        f"(N, H, W) and 'tensor' (N, 1, H, W); this file has {sorted(fh.keys())}")
            nu, ten = fh["nu"].shape, fh["tensor"].shape
            if len(nu) != 3 or len(ten) != 4 or ten[1] != 1 or ten[0] != nu[0] or ten[2:] != nu[1:]:
                raise DataFileError(
                    f"{self.path}: shapes nu={nu}, tensor={ten} do not match the Darcy layout "
                    "nu (N, H, W), tensor (N, 1, H, W)")
            n_h, n_w = nu[1:]
            extent = ((0.0, 1.0), (0.0, 1.0))
            if "x-coordinate" in fh and "y-coordinate" in fh:
                ex = _extent_from_centres(fh["x-coordinate"][...], n_w, "x-coordinate", self.path)
                ey = _extent_from_centres(fh["y-coordinate"][...], n_h, "y-coordinate", self.path)
                extent = (ey, ex)
            file_beta = fh.attrs.get("beta")
        if file_beta is None:
            m = re.search(r"beta([0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?)", self.path.name)
            file_beta = float(m.group(1)) if m else beta
        if file_beta is None:
            raise DataFileError(f"{self.path}: β is neither a file attribute nor in the file "
                                "name; pass data.beta=<value>")
        return DatasetMeta(
            name="pdebench_darcy", pde="darcy", spatial_dims=2, resolution=(n_h, n_w),
            extent=extent, input_fields=("a",), output_fields=("u",),
            units={"a": "1", "u": "1"}, grid="cell_centered",
            boundary_conditions={"u": "dirichlet_zero"}, pde_params={"beta": float(file_beta)},
            extra={"file": str(self.path)},
        )

    @property
    def meta(self) -> DatasetMeta:
        return self._meta

    def open(self) -> H5SampleDataset:
        return H5SampleDataset(self.path, [FieldSpec("nu", add_channel=True)],
                               [FieldSpec("tensor")],
                               in_memory=resolve_in_memory(self.in_memory, self.path))


# --- time-dependent files --------------------------------------------------------------------

CFD_KEYS = ("density", "pressure", "Vx", "Vy", "Vz")
#: channel names of the multi-group files, by a fragment of the file name
GROUP_FIELDS = {"diff-react": ("u", "v"), "rdb": ("h",), "diff-sorp": ("u",)}
#: equation and parameter names recognised in PDEBench file names
NAME_PARAMS = (("Advection", "advection", "beta"), ("Burgers", "burgers", "Nu"),
               ("diff-react", "diffusion_reaction", None), ("rdb", "shallow_water", None),
               ("diff-sorp", "diffusion_sorption", None), ("CFD", "compressible_ns", None),
               ("ReacDiff", "reaction_diffusion", "Nu"))


class PDEBenchSingleFile(TrajectoryReader):
    """PDEBench single-file layout: ``tensor`` (N, T, x[, y[, z]]) for one field, or the CFD
    fields ``density``, ``pressure``, ``Vx``, ``Vy``[, ``Vz``] each (N, T, x…) stacked as channels.
    """

    def __init__(self, path: str | Path, in_memory: bool = False) -> None:
        super().__init__(path, in_memory)
        with open_h5(self.path) as fh:
            if "tensor" in fh:
                self.keys = ("tensor",)
                self.fields = ("u",)
            else:
                self.keys = tuple(k for k in CFD_KEYS if k in fh)
                self.fields = self.keys
                if not self.keys:
                    raise DataFileError(
                        f"{self.path}: neither 'tensor' nor the CFD fields {list(CFD_KEYS)} are "
                        f"present, nor sample groups ('0000', ...) of the multi-group layout; "
                        f"the file has {sorted(fh.keys())}")
            shapes = {k: fh[k].shape for k in self.keys}
            if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) < 3:
                raise DataFileError(f"{self.path}: field shapes {shapes} do not match the layout "
                                    "(N, T, x[, y, z]) shared by all fields")
            shape = next(iter(shapes.values()))
            self.n_trajectories, self.n_frames = shape[:2]
            self.spatial = tuple(shape[2:])
            self.n_channels = len(self.keys)
            self.coords = _read_coords(fh, self.path, self.spatial, self.n_frames,
                                       ("x-coordinate", "y-coordinate", "z-coordinate"),
                                       "t-coordinate")
            self.attrs = {k: _plain(v) for k, v in fh.attrs.items()}

    def _read(self, index: int, frames: slice) -> np.ndarray:
        fh = self.handle()
        return np.stack([np.asarray(fh[k][index, frames], dtype=np.float32) for k in self.keys],
                        axis=1)


class PDEBenchMultiGroup(TrajectoryReader):
    """PDEBench multi-group layout: one group per sample (``"0000"``, ...) with ``data``
    (T, x…, c) and ``grid/x``, ``grid/y``, ``grid/t``."""

    def __init__(self, path: str | Path, in_memory: bool = False) -> None:
        super().__init__(path, in_memory)
        with open_h5(self.path) as fh:
            self.groups = sorted(k for k in fh.keys() if isinstance(fh[k], h5py.Group))
            if not self.groups:
                raise DataFileError(f"{self.path}: no sample groups ('0000', ...) found; the "
                                    f"file has {sorted(fh.keys())}")
            first = fh[self.groups[0]]
            if "data" not in first:
                raise DataFileError(f"{self.path}: group {self.groups[0]!r} has no 'data' "
                                    f"dataset (it has {sorted(first.keys())})")
            shape = first["data"].shape
            if len(shape) < 3:
                raise DataFileError(f"{self.path}: '{self.groups[0]}/data' has shape {shape}, "
                                    "expected (T, x[, y], c)")
            for g in self.groups[1:]:
                if "data" not in fh[g] or fh[g]["data"].shape != shape:
                    got = fh[g]["data"].shape if "data" in fh[g] else "missing"
                    raise DataFileError(f"{self.path}: '{g}/data' is {got}, but "
                                        f"'{self.groups[0]}/data' is {shape}")
            self.n_trajectories = len(self.groups)
            self.n_frames, self.spatial, self.n_channels = shape[0], tuple(shape[1:-1]), shape[-1]
            grid = first["grid"] if "grid" in first else {}
            self.coords = _read_coords(grid, self.path, self.spatial, self.n_frames,
                                       ("x", "y", "z"), "t")
            name = self.path.name
            self.fields = next((f for frag, f in GROUP_FIELDS.items() if frag in name),
                               tuple(f"c{i}" for i in range(self.n_channels)))
            if len(self.fields) != self.n_channels:
                self.fields = tuple(f"c{i}" for i in range(self.n_channels))
            self.attrs = {k: _plain(v) for k, v in first.attrs.items()}

    def _read(self, index: int, frames: slice) -> np.ndarray:
        data = np.asarray(self.handle()[self.groups[index]]["data"][frames], dtype=np.float32)
        return np.moveaxis(data, -1, 1)


def _plain(value):
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    return value.tolist() if isinstance(value, np.ndarray) else value


def _read_coords(fh, path: Path, spatial: tuple[int, ...], n_frames: int,
                 space_keys: tuple[str, ...], time_key: str) -> dict:
    """Extents from cell-centre coordinates (checked against the field shape) and frame times.

    PDEBench's advection files carry one more time than frames: the extra last entry is dropped.
    """
    coords: dict = {"extent": tuple((0.0, 1.0) for _ in spatial), "t": None}
    keys = space_keys[: len(spatial)]
    if all(k in fh for k in keys):
        coords["extent"] = tuple(_extent_from_centres(fh[k][...], n, k, path)
                                 for k, n in zip(keys, spatial, strict=True))
    if time_key in fh:
        t = np.asarray(fh[time_key][...], dtype=np.float64).ravel()
        if t.size == n_frames + 1:
            t = t[:n_frames]
        if t.size != n_frames:
            raise DataFileError(f"{path}: {time_key!r} has {t.size} entries but the fields have "
                                f"{n_frames} frames")
        coords["t"] = t
    return coords


class PDEBenchTrajectoryFile(DataSource):
    """A published time-dependent PDEBench file (single-file ``.hdf5`` or multi-group ``.h5``),
    read lazily and cut into one-step windows (``history`` frames in, the next frame out).

    The layout is detected from the file; the equation and its parameter from the file's
    attributes or name (``1D_Burgers_Sols_Nu0.01.hdf5`` → burgers, Nu = 0.01).

    Parameters
    ----------
    path : path-like
    history, stride : int
        Window length and step between windows.
    in_memory : bool or "auto"
    """

    def __init__(self, path: str | Path, history: int = 1, stride: int = 1,
                 in_memory: bool | str = "auto") -> None:
        if path in (None, "", "???"):
            raise ValueError("data.path is required: the path of a PDEBench .hdf5 or .h5 file")
        self.path = Path(path).expanduser()
        with open_h5(self.path) as fh:
            multi = (not any(k in fh for k in ("tensor", *CFD_KEYS))
                     and any(isinstance(fh[k], h5py.Group) for k in fh))
        cls = PDEBenchMultiGroup if multi else PDEBenchSingleFile
        self.reader = cls(self.path, in_memory=resolve_in_memory(in_memory, self.path))
        if self.reader.n_frames < history + 1:
            raise DataFileError(f"{self.path}: {self.reader.n_frames} frames are too few for "
                                f"data.history={history}")
        self.history, self.stride = history, stride
        self.layout = "multi-group" if multi else "single-file"

    @property
    def meta(self) -> DatasetMeta:
        r = self.reader
        pde, params = None, {}
        for frag, name, param in NAME_PARAMS:
            if frag in self.path.name:
                pde = name
                if param:
                    m = re.search(rf"{param}([0-9.eE+-]+?)(?:_|\.h)", self.path.name)
                    if m:
                        params[param.lower()] = float(m.group(1))
                break
        params.update({k: v for k, v in r.attrs.items() if isinstance(v, (int, float))})
        t = r.coords["t"]
        time = {"n_frames": r.n_frames}
        if t is not None:
            time.update({"t_start": float(t[0]), "t_end": float(t[-1])})
            if len(t) > 1:
                time["dt"] = float(t[1] - t[0])
        return DatasetMeta(
            name="pdebench_file", pde=pde, spatial_dims=len(r.spatial), resolution=r.spatial,
            extent=r.coords["extent"], input_fields=window_fields(r.fields, self.history),
            output_fields=r.fields, grid="cell_centered", time=time, pde_params=params,
            extra={"file": str(self.path), "layout": self.layout, "view": "one_step",
                   "history": self.history, "stride": self.stride},
        )

    def open(self) -> TrajectoryWindows:
        return TrajectoryWindows(self.reader, history=self.history, stride=self.stride)
