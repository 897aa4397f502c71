"""Reader for The Well's published HDF5 files (PROBLEMS A, "The Well's layout to read")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from pdebench.data.files import FileSetReader, check_finite, coord_extent, in_memory_for, plain
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.data.store import DataFileError, open_h5
from pdebench.data.trajectories import TrajectoryWindows, window_fields

SPLIT_FOLDERS = ("train", "valid", "test")
BC_TYPES = ("periodic", "wall", "open")
AXES = "xyz"
H5_SUFFIXES = (".hdf5", ".h5")
#: Root groups every Well file has (empty ones included), as The Well's own reader opens them
REQUIRED_GROUPS = ("dimensions", "boundary_conditions", "scalars", "t0_fields", "t1_fields",
                   "t2_fields")


# --- The Well ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WellField:
    """One field of a Well file and how its array is laid out."""

    key: str                     # "t1_fields/velocity"
    channels: tuple[str, ...]    # "velocity_x", "velocity_y"
    sample_varying: bool
    time_varying: bool
    dim_varying: tuple[bool, ...]


def _flag(attrs, key: str, default: bool = True):
    v = attrs.get(key, default)
    return bool(v) if np.ndim(v) == 0 else tuple(bool(b) for b in np.ravel(v))


def _component_names(name: str, order: int, dims: int) -> tuple[str, ...]:
    if order == 0:
        return (name,)
    if order == 1:
        return tuple(f"{name}_{a}" for a in AXES[:dims])
    return tuple(f"{name}_{a}{b}" for a in AXES[:dims] for b in AXES[:dims])


def _axis_values(fh, key: str, path: Path) -> np.ndarray:
    arr = np.asarray(fh[key][...], dtype=np.float64)
    if arr.ndim == 2:  # sample-varying coordinate (B, n): the first trajectory's
        arr = arr[0]
    if arr.ndim != 1:
        raise DataFileError(f"{path}: {key!r} has shape {arr.shape}, expected (n,) or (B, n)")
    return arr


def inspect_well_file(path: Path) -> dict:
    """Check one Well file against the layout and describe it.

    Returns
    -------
    dict with ``fields`` (list of WellField), ``n_trajectories``, ``n_frames``, ``spatial``,
    ``t``, ``extent``, ``bcs`` ({name: {"bc_type", "dims", "fields"}}), ``params``, ``attrs``.
    """
    with open_h5(path) as fh:
        attrs = {k: plain(v) for k, v in fh.attrs.items()}
        if "n_spatial_dims" not in attrs:
            raise DataFileError(f"{path}: missing root attribute 'n_spatial_dims' of The Well's "
                                f"layout (the file has attributes {sorted(attrs)})")
        dims = int(attrs["n_spatial_dims"])
        missing = [g for g in REQUIRED_GROUPS if not isinstance(fh.get(g), h5py.Group)]
        if missing:
            raise DataFileError(
                f"{path}: missing group{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(g) for g in missing)} of The Well's layout; a Well file has "
                f"the root groups {', '.join(REQUIRED_GROUPS)} (a field group without fields or "
                f"'boundary_conditions' without conditions still exists, empty); this file has "
                f"{sorted(fh) or 'none'}")
        if "time" not in fh["dimensions"]:
            raise DataFileError(f"{path}: missing 'dimensions/time' (The Well keeps the time axis "
                                "and the spatial coordinates in the group 'dimensions')")
        names = fh["dimensions"].attrs.get("spatial_dims", list(AXES[:dims]))
        names = [plain(n) for n in np.ravel(names)]
        if len(names) != dims:
            raise DataFileError(f"{path}: 'dimensions' attribute 'spatial_dims' lists {names} but "
                                f"n_spatial_dims={dims}")
        missing = [n for n in names if n not in fh["dimensions"]]
        if missing:
            raise DataFileError(f"{path}: missing coordinate 'dimensions/{missing[0]}' "
                                f"(spatial_dims={names})")
        coords = [_axis_values(fh, f"dimensions/{n}", path) for n in names]
        spatial = tuple(len(c) for c in coords)
        t = _axis_values(fh, "dimensions/time", path)
        n_frames = len(t)
        fields: list[WellField] = []
        n_traj = attrs.get("n_trajectories")
        for order in (0, 1, 2):
            group = f"t{order}_fields"
            if group not in fh:
                continue
            g = fh[group]
            order_names = [plain(n) for n in np.ravel(g.attrs.get("field_names", sorted(g)))]
            for name in order_names:
                key = f"{group}/{name}"
                if name not in g:
                    raise DataFileError(f"{path}: {group!r} lists field {name!r} in its "
                                        f"'field_names' attribute but {key!r} is missing")
                f = WellField(key, _component_names(name, order, dims),
                              _flag(g[name].attrs, "sample_varying"),
                              _flag(g[name].attrs, "time_varying"),
                              _flag(g[name].attrs, "dim_varying", True))
                if isinstance(f.dim_varying, bool):
                    f = WellField(f.key, f.channels, f.sample_varying, f.time_varying,
                                  (f.dim_varying,) * dims)
                if len(f.dim_varying) != dims:
                    raise DataFileError(f"{path}: {key!r} attribute 'dim_varying' has "
                                        f"{len(f.dim_varying)} entries, expected {dims}")
                shape = g[name].shape
                if f.sample_varying and n_traj is None and shape:
                    n_traj = shape[0]
                expect = ([n_traj] if f.sample_varying else []) + \
                    ([n_frames] if f.time_varying else []) + \
                    [n for n, v in zip(spatial, f.dim_varying, strict=True) if v]
                tails = [()] if order == 0 else [(dims,)] if order == 1 else [(dims, dims),
                                                                              (dims * dims,)]
                if not any(tuple(shape) == (*expect, *tail) for tail in tails):
                    shown = ", ".join("B" if s is None else str(s) for s in (*expect, *tails[0]))
                    raise DataFileError(
                        f"{path}: {key!r} has shape {shape}, expected ({shown}) from its "
                        f"attributes sample_varying={f.sample_varying}, time_varying="
                        f"{f.time_varying}, dim_varying={list(f.dim_varying)} (an axis that "
                        "does not vary is absent)")
                fields.append(f)
        if not any(f.time_varying for f in fields):
            raise DataFileError(f"{path}: no time-varying field in 't0_fields', 't1_fields' or "
                                "'t2_fields'; nothing to predict")
        if n_traj is None:
            raise DataFileError(f"{path}: missing root attribute 'n_trajectories' and no "
                                "sample-varying field gives it")
        bcs = {}
        for name, g in (fh["boundary_conditions"].items() if "boundary_conditions" in fh
                        else ()):
            bc_type = str(plain(g.attrs.get("bc_type", ""))).lower()
            if bc_type not in BC_TYPES:
                raise DataFileError(f"{path}: 'boundary_conditions/{name}' attribute 'bc_type' "
                                    f"is {bc_type or 'missing'!r}, expected one of {BC_TYPES}")
            bcs[name] = {"bc_type": bc_type,
                         "dims": [plain(d) for d in np.ravel(g.attrs.get("associated_dims", []))],
                         "fields": [plain(d) for d in
                                    np.ravel(g.attrs.get("associated_fields", []))]}
        params = {k: float(v) for k, v in attrs.items() if isinstance(v, (int, float))
                  and not isinstance(v, bool) and k not in ("n_spatial_dims", "n_trajectories")}
        for k, ds in (fh["scalars"].items() if "scalars" in fh else ()):
            if isinstance(ds, h5py.Dataset) and ds.size == 1:
                params.setdefault(k, float(np.ravel(ds[()])[0]))
    extent = tuple(coord_extent(c, n, f"dimensions/{nm}", path)
                   for c, n, nm in zip(coords, spatial, names, strict=True))
    return {"fields": fields, "n_trajectories": int(n_traj), "n_frames": n_frames,
            "spatial": spatial, "t": t, "extent": extent, "bcs": bcs, "params": params,
            "attrs": attrs}


class WellReader(FileSetReader):
    """Trajectories ``(T, C, *spatial)`` of the time-varying fields of one or more Well files.

    Fields that do not vary in time are not part of the trajectory: :meth:`constants` returns
    them ``(C_const, *spatial)`` for a trajectory, and :class:`TrajectoryWindows` appends them to
    every window's input.
    """

    def __init__(self, root: Path, files: list[Path], infos: list[dict],
                 in_memory: bool = False) -> None:
        super().__init__(root, files, [i["n_trajectories"] for i in infos], in_memory)
        first = infos[0]
        self.spatial = first["spatial"]
        self.n_frames = first["n_frames"]
        self.dynamic = [f for f in first["fields"] if f.time_varying]
        self.static = [f for f in first["fields"] if not f.time_varying]
        self.fields = tuple(c for f in self.dynamic for c in f.channels)
        self.const_fields = tuple(c for f in self.static for c in f.channels)
        self.n_channels = len(self.fields)

    def _field(self, f: WellField, index: int, frames: slice | None) -> np.ndarray:
        fi, local = self.locate(index)
        ds = self.file_handle(fi)[f.key]
        idx = ([local] if f.sample_varying else []) + ([frames] if f.time_varying else [])
        arr = np.asarray(ds[tuple(idx)] if idx else ds[()], dtype=np.float32)
        check_finite(arr, self.files[fi], f.key, f"trajectory {local}")
        lead = 1 if f.time_varying else 0
        present = tuple(n for n, v in zip(self.spatial, f.dim_varying, strict=True) if v)
        arr = arr.reshape(arr.shape[:lead] + present + (len(f.channels),))
        for axis, varying in enumerate(f.dim_varying):
            if not varying:
                arr = np.expand_dims(arr, lead + axis)
        if not f.time_varying:
            arr = arr[None]
        arr = np.broadcast_to(arr, (arr.shape[0], *self.spatial, len(f.channels)))
        return np.moveaxis(arr, -1, 1)

    def _read(self, index: int, frames: slice) -> np.ndarray:
        return np.concatenate([self._field(f, index, frames) for f in self.dynamic], axis=1)

    def constants(self, index: int) -> np.ndarray:
        """Non-time-varying fields of trajectory ``index``, ``(C_const, *spatial)`` float32."""
        return np.concatenate([self._field(f, index, None)[0] for f in self.static], axis=0)


def well_files(path: Path, split_dir: str | None) -> tuple[list[Path], dict[str, int]]:
    """The files to read and, for a split directory read whole, their folder of each file."""
    if not path.exists():
        raise DataFileError(f"data path {path} does not exist")
    if path.is_file():
        if split_dir is not None:
            raise ValueError(f"data.split_dir={split_dir!r} needs data.path to be a folder with "
                             f"{'/, '.join(SPLIT_FOLDERS)}/ sub-folders, not the file {path}")
        return [path], {}
    has_splits = all((path / s).is_dir() for s in SPLIT_FOLDERS)
    if split_dir is not None:
        if split_dir not in SPLIT_FOLDERS:
            raise ValueError(f"data.split_dir must be null or one of {SPLIT_FOLDERS}, "
                             f"got {split_dir!r}")
        if not has_splits:
            raise DataFileError(f"{path}: data.split_dir={split_dir!r} but the folder has no "
                                f"{'/, '.join(SPLIT_FOLDERS)}/ sub-folders")
        folders = [path / split_dir]
    else:
        folders = [path / s for s in ("test", "valid", "train")] if has_splits else [path]
    files, folder_of = [], {}
    for folder in folders:
        found = sorted(p for p in folder.iterdir() if p.suffix in H5_SUFFIXES)
        if not found:
            raise DataFileError(f"{folder}: no .hdf5/.h5 files of The Well")
        files += found
        folder_of.update({str(p): folder.name for p in found})
    return files, folder_of if has_splits and split_dir is None else {}


class TheWellFile(DataSource):
    """The Well (Ohana et al., NeurIPS 2024): a published HDF5 file, or a folder of them, read lazily
    as one-step windows (``history`` frames in, the next frame out).

    Layout (checked, errors name the file and key): root attributes ``n_spatial_dims``,
    ``n_trajectories``, ``dataset_name``, ``grid_type`` and simulation parameters; the root
    groups ``dimensions``, ``boundary_conditions``, ``scalars``, ``t0_fields``, ``t1_fields`` and
    ``t2_fields``, each present even when empty (:data:`REQUIRED_GROUPS`); ``dimensions/time`` (T,) and ``dimensions/<x|y|z>`` (n,) named by the ``spatial_dims``
    attribute; ``boundary_conditions/<name>`` with ``bc_type`` (periodic, wall, open);
    ``scalars/``; ``t0_fields/<f>`` (B, T, *spatial), ``t1_fields/<f>`` (B, T, *spatial, D),
    ``t2_fields/<f>`` (B, T, *spatial, D, D) or (..., D²), each with attributes
    ``sample_varying``, ``time_varying``, ``dim_varying`` (an axis that does not vary is absent
    from the array; absent attributes count as varying).

    Channels: t0 fields one each, t1 fields ``<f>_x``, ``<f>_y``…, t2 fields ``<f>_xx``,
    ``<f>_xy``… (row-major), in the order t0, t1, t2 and, within a group, its ``field_names``
    attribute (else alphabetical). Fields constant over the sample or a spatial axis are
    broadcast. *Harness choice, following The Well's own loader*: fields that do not vary in time
    are not predicted; they are appended to every window's input as constant channels (after the
    ``history`` frames). Coordinates are read as cell centres: the extent is their range widened
    by half a spacing. Boundary-condition types are recorded per ``boundary_conditions`` group
    (details, with their dims and fields, in ``extra["boundary_conditions"]``). Numeric root
    attributes and one-value ``scalars/`` are the parameters; with several files, ``pde_params``
    holds those equal in all files and ``extra["parameters"]`` each file's.

    Splits: ``path`` may be one file, a folder of files, or a folder with ``train/ valid/ test/``
    sub-folders. ``split_dir`` picks one of those sub-folders (the harness then splits its
    trajectories by ``data.split``). With ``split_dir: null`` all three are read, ordered test,
    valid, train, and ``data.split.mode=published`` uses The Well's three folders exactly as the
    test, validation and training sets.

    Parameters
    ----------
    path : path-like
    split_dir : {None, "train", "valid", "test"}
    history, stride : int
        Window length and the step between windows.
    in_memory : bool or "auto"
        Read every trajectory once into RAM (auto: all files under 2 GiB) or lazily per window.
    """

    def __init__(self, path: str | Path, split_dir: str | None = None, history: int = 1,
                 stride: int = 1, in_memory: bool | str = "auto") -> None:
        if path in (None, "", "???"):
            raise ValueError("data.path is required for the_well: a Well .hdf5 file or a folder "
                             "of them (optionally with train/ valid/ test/ sub-folders)")
        if history < 1 or stride < 1:
            raise ValueError(f"data.history and data.stride must be >= 1, got {history}, {stride}")
        self.path = Path(path).expanduser()
        self.files, folder_of = well_files(self.path, split_dir)
        self.infos = [inspect_well_file(p) for p in self.files]
        first = self.infos[0]
        for p, info in zip(self.files[1:], self.infos[1:], strict=True):
            for key in ("spatial", "n_frames"):
                if info[key] != first[key]:
                    raise DataFileError(f"{p}: {key} is {info[key]} but {self.files[0]} has "
                                        f"{first[key]}; files of one dataset must agree")
            if [f.channels for f in info["fields"]] != [f.channels for f in first["fields"]]:
                raise DataFileError(f"{p}: its fields differ from those of {self.files[0]}")
        if first["n_frames"] < history + 1:
            raise DataFileError(f"{self.files[0]}: {first['n_frames']} frames are too few for "
                                f"data.history={history}")
        in_mem = in_memory_for(in_memory, self.files)
        self.reader = WellReader(self.path, self.files, self.infos, in_memory=in_mem)
        self.history, self.stride, self.split_dir = history, stride, split_dir
        if folder_of:
            n = {s: sum(i["n_trajectories"] for p, i in zip(self.files, self.infos, strict=True)
                        if folder_of[str(p)] == s) for s in SPLIT_FOLDERS}
            # trajectories are stacked test, valid, train: the published split is exact
            self.published_split = {"train": n["train"], "val": n["valid"], "test": n["test"],
                                    "mode": "ordered"}

    @property
    def meta(self) -> DatasetMeta:
        first, r = self.infos[0], self.reader
        per_file = {p.name: i["params"] for p, i in zip(self.files, self.infos, strict=True)}
        common = {k: v for k, v in first["params"].items()
                  if all(i["params"].get(k) == v for i in self.infos)}
        t = first["t"]
        time = {"n_frames": r.n_frames, "t_start": float(t[0]), "t_end": float(t[-1])}
        if len(t) > 1:
            time["dt"] = float(t[1] - t[0])
        return DatasetMeta(
            name="the_well", pde=None, spatial_dims=len(r.spatial), resolution=r.spatial,
            extent=first["extent"],
            input_fields=window_fields(r.fields, self.history) + r.const_fields,
            output_fields=r.fields, grid="cell_centered", time=time,
            constant_fields=r.const_fields,
            boundary_conditions={k: v["bc_type"] for k, v in first["bcs"].items()},
            pde_params=common,
            extra={"dataset_name": first["attrs"].get("dataset_name"),
                   "grid_type": first["attrs"].get("grid_type"), "path": str(self.path),
                   "files": [str(p) for p in self.files], "split_dir": self.split_dir,
                   "parameters": per_file, "boundary_conditions": first["bcs"],
                   "view": "one_step",
                   "history": self.history, "stride": self.stride},
        )

    def open(self) -> TrajectoryWindows:
        return TrajectoryWindows(self.reader, history=self.history, stride=self.stride)
