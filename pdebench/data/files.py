"""Plumbing shared by the readers of published files: attribute values, coordinates, NaN checks,
trajectories spread over many HDF5 files, and MATLAB ``.mat`` variables.

Format-specific readers live with their suite (``pdebench.datasets.<suite>.files``); what two or
more of them need is here. Lazy ``.npz`` and MATLAB v5 access are in :mod:`pdebench.data.lazyfiles`
and :mod:`pdebench.data.mat5`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from pdebench.data.store import DataFileError, open_h5
from pdebench.data.trajectories import TrajectoryReader

__all__ = ["FileSetReader", "check_finite", "coord_extent", "h5_array", "in_memory_for",
           "is_matlab_v73", "mat_variables", "plain"]



def plain(value):
    """An HDF5 attribute as a plain Python value (bytes decoded, arrays as lists)."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()] if value.dtype.kind in "OS" else value.tolist()
    return value


def coord_extent(values, n: int, key: str, path: Path) -> tuple[float, float]:
    """Domain ``(lo, hi)`` along one axis from its ``n`` point coordinates.

    The points are read as cell centres: the extent is their range widened by half a spacing on
    each side. Coordinates may increase or decrease (PIV grids often run downwards).

    Raises
    ------
    DataFileError
        Wrong number of entries, or coordinates that are not strictly monotonic.
    """
    c = np.asarray(values, dtype=np.float64).ravel()
    if c.size != n:
        raise DataFileError(f"{path}: coordinate {key!r} has {c.size} entries but the fields have "
                            f"{n} points along that axis")
    if not np.isfinite(c).all():
        raise DataFileError(f"{path}: coordinate {key!r} has NaN or inf entries")
    if n > 1:
        d = np.diff(c)
        if not (np.all(d > 0) or np.all(d < 0)):
            raise DataFileError(f"{path}: coordinate {key!r} is not strictly monotonic")
    lo, hi = float(c.min()), float(c.max())
    h = (hi - lo) / (n - 1) if n > 1 else 1.0
    return lo - h / 2, hi + h / 2


def in_memory_for(setting: bool | str, files: list[Path], limit_gb: float = 2.0) -> bool:
    """``in_memory`` option over several files: ``true``/``false``, or ``"auto"`` = all files
    together under ``limit_gb``."""
    if isinstance(setting, bool):
        return setting
    if setting != "auto":
        raise ValueError(f"data.in_memory must be true, false or 'auto', got {setting!r}")
    return sum(p.stat().st_size for p in files) < limit_gb * 2**30


def check_finite(arr: np.ndarray, path: Path, key: str, where: str) -> np.ndarray:
    """``arr`` unchanged, or a :class:`DataFileError` naming file, key and sample."""
    if not np.isfinite(arr).all():
        raise DataFileError(f"{path}: {key!r} has NaN or inf in {where}")
    return arr


class FileSetReader(TrajectoryReader):
    """Trajectories spread over several HDF5 files, ``counts[i]`` of them in ``files[i]``.

    Handles are opened per process on first use and kept in a small LRU cache (``max_open``), so
    a folder of thousands of files never exhausts file descriptors. Subclasses implement
    :meth:`_read` with :meth:`locate` and :meth:`file_handle`.
    """

    max_open = 32

    def __init__(self, root: str | Path, files: list[Path], counts: list[int],
                 in_memory: bool = False) -> None:
        super().__init__(root, in_memory)
        self.files = list(files)
        self._offsets = np.cumsum([0, *counts])
        self.n_trajectories = int(self._offsets[-1])
        self._handles: OrderedDict[int, h5py.File] = OrderedDict()

    def locate(self, index: int) -> tuple[int, int]:
        """``(file number, trajectory within that file)`` of global trajectory ``index``."""
        f = int(np.searchsorted(self._offsets, index, side="right") - 1)
        return f, int(index - self._offsets[f])

    def file_handle(self, f: int) -> h5py.File:
        if self._pid != os.getpid():
            self._handles = OrderedDict()
            self._pid = os.getpid()
        if f in self._handles:
            self._handles.move_to_end(f)
        else:
            self._handles[f] = open_h5(self.files[f])
            while len(self._handles) > self.max_open:
                self._handles.popitem(last=False)[1].close()
        return self._handles[f]

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["_handles"] = OrderedDict()
        return state


# --- MATLAB .mat files ----------------------------------------------------------------------


def is_matlab_v73(path: Path) -> bool:
    """True for a MATLAB v7.3 file (HDF5 with MATLAB's header: arrays stored transposed)."""
    with open(path, "rb") as fh:
        return fh.read(10) == b"MATLAB 7.3"


def h5_array(ds: h5py.Dataset, transpose: bool, index=()) -> np.ndarray:
    """Read an HDF5 dataset (optionally a slice), complex compounds as complex, MATLAB order
    undone when ``transpose``."""
    arr = ds[index] if index != () else ds[()]
    if arr.dtype.names and {"real", "imag"} <= set(arr.dtype.names):
        arr = arr["real"] + 1j * arr["imag"]
    arr = np.asarray(arr)
    return arr.T if transpose else arr


def mat_variables(path: Path, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Variables ``names`` of a ``.mat`` file, read in full.

    v7.3 files (HDF5) are read with h5py (MATLAB's column-major order undone); older files with
    :func:`scipy.io.loadmat`, which always reads whole variables.

    Raises
    ------
    DataFileError
        Unreadable file or a missing variable (naming the file and the variable).
    """
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist")
    if h5py.is_hdf5(path):
        transpose = is_matlab_v73(path)
        with h5py.File(path, "r") as fh:
            missing = [n for n in names if n not in fh]
            if missing:
                raise DataFileError(f"{path}: missing variable {missing[0]!r} (the file has "
                                    f"{sorted(k for k in fh if not k.startswith('#'))})")
            return {n: h5_array(fh[n], transpose) for n in names}
    try:
        data = scipy.io.loadmat(path, variable_names=list(names))
    except Exception as exc:  # scipy raises several types for a file that is not a .mat
        raise DataFileError(f"{path}: not a readable .mat file ({exc})") from None
    missing = [n for n in names if n not in data]
    if missing:
        have = sorted(v[0] for v in scipy.io.whosmat(str(path)))
        raise DataFileError(f"{path}: missing variable {missing[0]!r} (the file has {have})")
    return {n: np.asarray(data[n]) for n in names}
