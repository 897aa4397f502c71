"""Time-dependent data: trajectory readers and the window view that feeds a one-step model.

A trajectory is an array ``(T, C, *spatial)`` (frames, fields, space). Readers give lazy access to
the frames of one trajectory of a file; :class:`TrajectoryWindows` cuts every trajectory into
samples ``{"x": (history·C + C_const, *spatial), "y": (C, *spatial)}``: ``history`` consecutive
frames in (and the trajectory's constant fields, if its reader has any: parameter maps, geometry),
the next frame out (or, with ``future=F``, the next ``F`` frames, time last: the samples of
rollout training and evaluation, :mod:`pdebench.systems.rollout`). Samples carry their trajectory id in :attr:`TrajectoryWindows.groups`, and the
data module splits by trajectory, so no trajectory is in two splits.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from pdebench.data.store import CONSTANTS, DataFileError, open_h5


class TrajectoryReader(ABC):
    """Lazy access to ``n_trajectories`` trajectories of ``n_frames`` frames in one file.

    Subclasses implement :meth:`_read` for one trajectory and a slice of frames; file handles are
    opened per process (DataLoader workers) and dropped when pickled. A reader whose trajectories
    also carry fields that do not change in time (a parameter map, a geometry) names them in
    :attr:`const_fields` and returns them from :meth:`constants`: they are model inputs, never
    targets.
    """

    #: Names of the per-trajectory constant fields (empty: none).
    const_fields: tuple[str, ...] = ()

    def __init__(self, path: str | Path, in_memory: bool = False) -> None:
        self.path = Path(path)
        self.in_memory = in_memory
        self._fh: h5py.File | None = None
        self._pid: int | None = None
        self._cache: np.ndarray | None = None

    n_trajectories: int
    n_frames: int
    n_channels: int

    def handle(self) -> h5py.File:
        if self._fh is None or self._pid != os.getpid():
            self._fh = open_h5(self.path)
            self._pid = os.getpid()
        return self._fh

    @abstractmethod
    def _read(self, index: int, frames: slice) -> np.ndarray:
        """Frames of trajectory ``index`` as float32 ``(F, C, *spatial)``."""

    def read(self, index: int, frames: slice = slice(None)) -> np.ndarray:
        """Frames of one trajectory, ``(F, C, *spatial)`` float32, checked for NaN/inf."""
        if self.in_memory:
            if self._cache is None:
                self._cache = np.stack([self._read(i, slice(None))
                                        for i in range(self.n_trajectories)])
                bad = ~np.isfinite(self._cache.reshape(self.n_trajectories, -1)).all(axis=1)
                if bad.any():
                    raise DataFileError(f"{self.path}: trajectory {int(np.argmax(bad))} has NaN "
                                        f"or inf ({int(bad.sum())} bad trajectories)")
            return self._cache[index, frames]
        arr = np.asarray(self._read(index, frames), dtype=np.float32)
        if not np.isfinite(arr).all():
            raise DataFileError(f"{self.path}: trajectory {index} has NaN or inf in frames "
                                f"{frames.start or 0}..{frames.stop}")
        return arr

    def constants(self, index: int) -> np.ndarray:
        """Constant fields of trajectory ``index``, ``(len(const_fields), *spatial)`` float32."""
        raise NotImplementedError(f"{type(self).__name__} has no constant fields")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_fh"] = None
        state["_pid"] = None
        return state


class StoreTrajectories(TrajectoryReader):
    """Trajectories of a harness store file: dataset ``u`` of shape ``(N, T, C, *spatial)``, and
    optionally ``constants`` ``(N, C_const, *spatial)`` with their names in its ``fields``
    attribute (see :func:`pdebench.data.store.write_trajectory_store`)."""

    def __init__(self, path: str | Path, key: str = "u", in_memory: bool = False) -> None:
        super().__init__(path, in_memory)
        self.key = key
        self._const_cache: np.ndarray | None = None
        with open_h5(self.path) as fh:
            if key not in fh:
                raise DataFileError(f"{self.path}: missing dataset {key!r} "
                                    f"(the file has {sorted(fh.keys())})")
            shape = fh[key].shape
            if CONSTANTS in fh:
                cshape = fh[CONSTANTS].shape
                names = tuple(str(n) for n in fh[CONSTANTS].attrs.get("fields", ()))
                if cshape[:1] != shape[:1] or cshape[2:] != shape[3:] or \
                        len(names) != cshape[1]:
                    raise DataFileError(
                        f"{self.path}: dataset {CONSTANTS!r} has shape {cshape} and fields "
                        f"{list(names)}, expected ({shape[0]}, C_const, "
                        f"{', '.join(map(str, shape[3:]))}) with one name per channel")
                self.const_fields = names
        if len(shape) < 4:
            raise DataFileError(f"{self.path}: dataset {key!r} has shape {shape}, expected "
                                "(N, T, C, *spatial)")
        self.n_trajectories, self.n_frames, self.n_channels = shape[:3]

    def _read(self, index: int, frames: slice) -> np.ndarray:
        return np.asarray(self.handle()[self.key][index, frames], dtype=np.float32)

    def constants(self, index: int) -> np.ndarray:
        if not self.const_fields:
            return super().constants(index)
        if self.in_memory:
            if self._const_cache is None:
                self._const_cache = np.asarray(self.handle()[CONSTANTS][()], dtype=np.float32)
            arr = self._const_cache[index]
        else:
            arr = np.asarray(self.handle()[CONSTANTS][index], dtype=np.float32)
        if not np.isfinite(arr).all():
            raise DataFileError(f"{self.path}: {CONSTANTS!r} of trajectory {index} has NaN or inf")
        return arr


class TrajectoryWindows(Dataset):
    """Samples from trajectories: ``history`` frames in, the next frame (or ``future`` frames) out.

    Parameters
    ----------
    reader : TrajectoryReader
    history : int
        Frames given to the model, stacked along the channel axis (oldest first), so ``x`` has
        ``history · C`` channels (then the trajectory's constant fields).
    stride : int
        Step between the first frames of consecutive windows of one trajectory.
    future : int, optional
        ``None`` (default): one-step samples, ``y`` is the next frame ``(C, *spatial)``. An int
        ``F >= 1``: ``y`` holds the ``F`` frames after the input window, time last,
        ``(C, *spatial, F)`` (the metric layout), for rollout training and evaluation
        (``future = n_frames - history``: one window per trajectory, from its first frame to
        its last).
    trajectories : sequence of int, optional
        Only these trajectories (default: all), in this order.

    Attributes
    ----------
    groups : ndarray (n_samples,)
        The trajectory of every sample (splits are made over trajectories).
    """

    def __init__(self, reader: TrajectoryReader, history: int = 1, stride: int = 1,
                 future: int | None = None, trajectories=None) -> None:
        if history < 1 or stride < 1:
            raise ValueError(f"history and stride must be >= 1, got {history}, {stride}")
        if future is not None and future < 1:
            raise ValueError(f"future must be None or >= 1, got {future}")
        ahead = 1 if future is None else future
        if reader.n_frames < history + ahead:
            raise ValueError(f"{reader.path}: {reader.n_frames} frames per trajectory are too few "
                             f"for history={history}"
                             + ("" if future is None else f" and {future} frames out")
                             + f" (need at least {history + ahead})")
        self.reader = reader
        self.history = history
        self.stride = stride
        self.future = future
        ids = range(reader.n_trajectories) if trajectories is None else \
            [int(i) for i in trajectories]
        starts = np.arange(0, reader.n_frames - history - ahead + 1, stride)
        self._index = np.array([(i, s) for i in ids for s in starts],
                               dtype=np.int64).reshape(-1, 2)
        self.groups = self._index[:, 0]

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        traj, start = self._index[index]
        ahead = 1 if self.future is None else self.future
        frames = self.reader.read(int(traj),
                                  slice(int(start), int(start) + self.history + ahead))
        x = frames[: self.history].reshape(-1, *frames.shape[2:])
        if self.reader.const_fields:
            x = np.concatenate([x, self.reader.constants(int(traj))])
        y = frames[self.history] if self.future is None else \
            np.moveaxis(frames[self.history:], 0, -1)
        return {"x": torch.from_numpy(np.ascontiguousarray(x)),
                "y": torch.from_numpy(np.ascontiguousarray(y))}


def window_fields(fields: tuple[str, ...], history: int) -> tuple[str, ...]:
    """Channel names of a window input: ``u[t-1]``, ``u[t]`` ... oldest first."""
    lags = [f"t-{history - 1 - j}" if history - 1 - j else "t" for j in range(history)]
    return tuple(f"{f}[{lag}]" for lag in lags for f in fields)
