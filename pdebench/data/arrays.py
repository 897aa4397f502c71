"""Sample datasets over HDF5 arrays: lazy (per-worker file handles) or held in memory.

A sample is a dict of named tensors: ``{"x": (C_in, *spatial), "y": (C_out, *spatial)}``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from pdebench.data.store import DataFileError, open_h5


@dataclass(frozen=True)
class FieldSpec:
    """Where one group of channels lives in a file.

    Attributes
    ----------
    key : str
        Dataset path inside the HDF5 file.
    add_channel : bool
        The per-sample array has no channel axis (shape ``spatial``); one is added in front.
    """

    key: str
    add_channel: bool = False


class H5SampleDataset(Dataset):
    """Samples ``{"x", "y"}`` assembled from datasets of one HDF5 file.

    Parameters
    ----------
    path : path-like
        The HDF5 file.
    x, y : sequence of FieldSpec
        Datasets concatenated along the channel axis to form the input and the target.
    in_memory : bool
        Read everything once (fast, needs RAM) or read each sample on access (bounded memory;
        every DataLoader worker opens its own handle).

    Every sample is checked for NaN/inf on access (in memory: once, at load) and a bad one raises
    :class:`DataFileError` naming the file, key and sample index.
    """

    def __init__(self, path: str | Path, x: Sequence[FieldSpec], y: Sequence[FieldSpec],
                 in_memory: bool = False) -> None:
        self.path = Path(path)
        self.x_specs = tuple(x)
        self.y_specs = tuple(y)
        self.in_memory = in_memory
        self._fh: h5py.File | None = None
        self._pid: int | None = None
        with open_h5(self.path) as fh:
            lengths = {}
            for spec in (*self.x_specs, *self.y_specs):
                if spec.key not in fh:
                    raise DataFileError(f"{self.path}: missing dataset {spec.key!r} "
                                        f"(the file has {sorted(fh.keys())})")
                lengths[spec.key] = fh[spec.key].shape[0]
            if len(set(lengths.values())) != 1:
                raise DataFileError(f"{self.path}: datasets disagree on the number of samples: "
                                    f"{lengths}")
            self._len = next(iter(lengths.values()))
            self._cache: dict[str, np.ndarray] = {}
            if in_memory:
                for spec in (*self.x_specs, *self.y_specs):
                    arr = np.asarray(fh[spec.key][...], dtype=np.float32)
                    bad = ~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)
                    if bad.any():
                        raise DataFileError(
                            f"{self.path}: dataset {spec.key!r} has NaN or inf in sample "
                            f"{int(np.argmax(bad))} ({int(bad.sum())} bad samples)")
                    self._cache[spec.key] = arr

    def __len__(self) -> int:
        return self._len

    def _handle(self) -> h5py.File:
        if self._fh is None or self._pid != os.getpid():
            self._fh = open_h5(self.path)
            self._pid = os.getpid()
        return self._fh

    def _read(self, spec: FieldSpec, index: int) -> np.ndarray:
        if self.in_memory:
            arr = self._cache[spec.key][index]
        else:
            arr = np.asarray(self._handle()[spec.key][index], dtype=np.float32)
            if not np.isfinite(arr).all():
                raise DataFileError(f"{self.path}: dataset {spec.key!r} has NaN or inf in "
                                    f"sample {index}")
        return arr[None] if spec.add_channel else arr

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -self._len <= index < self._len:
            raise IndexError(f"sample {index} out of range for {self._len} samples")
        index = index % self._len
        out = {}
        for name, specs in (("x", self.x_specs), ("y", self.y_specs)):
            parts = [self._read(s, index) for s in specs]
            out[name] = torch.from_numpy(np.concatenate(parts, axis=0) if len(parts) > 1
                                         else np.ascontiguousarray(parts[0]))
        return out

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_fh"] = None  # handles do not cross process boundaries
        state["_pid"] = None
        return state

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
