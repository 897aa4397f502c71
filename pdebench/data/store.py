"""The harness's HDF5 store: atomic writes, generation metadata, cache keys, lazy reading.

Layout of a store file (written by :func:`write_store`)::

    /x        float32 (N, C_in, *spatial)   model inputs, chunked one sample per chunk
    /y        float32 (N, C_out, *spatial)  targets
    (or, for time-dependent data, kind="trajectories":
    /u        float32 (N, T, C, *spatial)   trajectories, one per chunk
    /t        float64 (T,)                  frame times)
    attrs:    format="pdebench-store", format_version=1, complete=True, kind="pairs"|"trajectories",
              meta=<DatasetMeta JSON>, generator=<JSON: name, params, seed, solver, version>,
              residual=<JSON: the generator's self-check>, created_at=<ISO time>

A file is first written under a temporary name in the same folder and renamed into place only after
it has been closed successfully, so an interrupted generation never leaves a file a later run would
trust. :func:`open_store` checks the ``complete`` flag and the layout before anything is read.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from pdebench.data.meta import DatasetMeta

FORMAT = "pdebench-store"
FORMAT_VERSION = 1


#: Dataset of a trajectory store holding the per-trajectory constant fields.
CONSTANTS = "constants"


class DataFileError(ValueError):
    """A data file is missing, corrupt or does not match the expected layout."""


def cache_key(params: Mapping[str, Any]) -> str:
    """A short stable hash of generation parameters (JSON with sorted keys)."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@contextlib.contextmanager
def atomic_h5(path: str | Path) -> Iterator[h5py.File]:
    """Open a temporary HDF5 file next to ``path``; rename it to ``path`` on success only.

    On any exception (including ``KeyboardInterrupt``) the temporary file is removed and ``path``
    is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with h5py.File(tmp, "w") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_store(path: str | Path, x: np.ndarray, y: np.ndarray, meta: DatasetMeta,
                generator: Mapping[str, Any], residual: Mapping[str, Any] | None = None) -> Path:
    """Write arrays and metadata to ``path`` atomically.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, *spatial)
    y : ndarray, shape (N, C_out, *spatial)
    meta : DatasetMeta
        Stored as JSON; its fields must match the arrays' channel counts and resolution.
    generator : mapping
        Name, parameters, seed, solver settings, package version.
    residual : mapping, optional
        The generator's self-check of its own solution.
    """
    for key, arr, nch in (("x", x, meta.in_channels), ("y", y, meta.out_channels)):
        expect = (nch, *meta.resolution)
        if arr.ndim != meta.spatial_dims + 2 or tuple(arr.shape[1:]) != expect:
            raise ValueError(f"store {path}: array {key!r} has shape {arr.shape}, "
                             f"expected (N, {', '.join(map(str, expect))})")
        if not np.isfinite(arr).all():
            raise ValueError(f"store {path}: array {key!r} contains NaN or inf; nothing written")
    if len(x) != len(y):
        raise ValueError(f"store {path}: x has {len(x)} samples but y has {len(y)}")
    return _write(Path(path), {"x": x, "y": y}, "pairs", meta, generator, residual)


def write_trajectory_store(path: str | Path, u: np.ndarray, t: np.ndarray, meta: DatasetMeta,
                           generator: Mapping[str, Any],
                           residual: Mapping[str, Any] | None = None,
                           constants: np.ndarray | None = None) -> Path:
    """Write trajectories ``u`` (N, T, C, *spatial) and their times ``t`` (T,) atomically.

    ``meta`` describes the physical fields: ``output_fields`` are the C channels of ``u``.
    ``constants`` (N, C_const, *spatial): per-trajectory fields that do not change in time
    (parameter maps, geometry), named by ``meta.constant_fields``; stored once per
    trajectory as dataset ``constants`` (its ``fields`` attribute holds the names), read back as
    model inputs only (:class:`pdebench.data.trajectories.StoreTrajectories`).
    """
    expect = (meta.out_channels, *meta.resolution)
    if u.ndim != meta.spatial_dims + 3 or tuple(u.shape[2:]) != expect:
        raise ValueError(f"store {path}: array 'u' has shape {u.shape}, expected "
                         f"(N, T, {', '.join(map(str, expect))})")
    if t.shape != (u.shape[1],):
        raise ValueError(f"store {path}: 't' has shape {t.shape}, expected ({u.shape[1]},)")
    if not np.isfinite(u).all():
        raise ValueError(f"store {path}: array 'u' contains NaN or inf; nothing written")
    arrays = {"u": u, "t": t}
    names = meta.constant_fields
    if constants is not None or names:
        cexp = (u.shape[0], len(names), *meta.resolution)
        if constants is None or tuple(constants.shape) != cexp:
            got = None if constants is None else constants.shape
            raise ValueError(f"store {path}: 'constants' has shape {got}, expected {cexp} (one "
                             f"channel per meta.constant_fields = {list(names)})")
        if not np.isfinite(constants).all():
            raise ValueError(f"store {path}: 'constants' contains NaN or inf; nothing written")
        arrays[CONSTANTS] = constants
    return _write(Path(path), arrays, "trajectories", meta, generator, residual,
                  {CONSTANTS: {"fields": list(names)}} if names else None)


def _write(path: Path, arrays: Mapping[str, np.ndarray], kind: str, meta: DatasetMeta,
           generator: Mapping[str, Any], residual: Mapping[str, Any] | None,
           attrs: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    with atomic_h5(path) as fh:
        for key, arr in arrays.items():
            if key == "t":
                fh.create_dataset(key, data=np.asarray(arr, dtype=np.float64))
            else:
                fh.create_dataset(key, data=arr.astype(np.float32, copy=False),
                                  chunks=(1, *arr.shape[1:]))
            for name, value in (attrs or {}).get(key, {}).items():
                fh[key].attrs[name] = value
        fh.attrs["format"] = FORMAT
        fh.attrs["format_version"] = FORMAT_VERSION
        fh.attrs["kind"] = kind
        fh.attrs["meta"] = meta.to_json()
        fh.attrs["generator"] = json.dumps(dict(generator), sort_keys=True, default=str)
        fh.attrs["residual"] = json.dumps(dict(residual or {}), sort_keys=True, default=float)
        fh.attrs["created_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat()
        fh.attrs["complete"] = True
    return path


def open_h5(path: str | Path) -> h5py.File:
    """Open an HDF5 file read-only with a clear error for a missing or corrupt file."""
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"data file {path} does not exist")
    if path.is_dir():
        raise DataFileError(f"data file {path} is a directory, expected an HDF5 file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataFileError(f"data file {path} is not a readable HDF5 file ({exc})") from None


def read_store_info(path: str | Path) -> tuple[DatasetMeta, dict[str, Any], dict[str, Any]]:
    """Validate a store file and return ``(meta, generator, residual)``.

    Raises
    ------
    DataFileError
        Missing/corrupt file, incomplete write, wrong format, or arrays not matching ``meta``.
    """
    with open_h5(path) as fh:
        attrs = dict(fh.attrs)
        if attrs.get("format") != FORMAT:
            raise DataFileError(f"{path}: not a pdebench store (attribute 'format' is "
                                f"{attrs.get('format')!r}, expected {FORMAT!r})")
        if not attrs.get("complete", False):
            raise DataFileError(f"{path}: incomplete store (interrupted write); delete it")
        try:
            meta = DatasetMeta.from_dict(json.loads(attrs["meta"]))
            generator = json.loads(attrs.get("generator", "{}"))
            residual = json.loads(attrs.get("residual", "{}"))
        except (KeyError, json.JSONDecodeError, TypeError) as exc:
            raise DataFileError(f"{path}: corrupt metadata attribute ({exc})") from None
        if attrs.get("kind", "pairs") == "trajectories":
            expected = {"u": (None, meta.out_channels, *meta.resolution)}
        else:
            expected = {"x": (meta.in_channels, *meta.resolution),
                        "y": (meta.out_channels, *meta.resolution)}
        for key, expect in expected.items():
            if key not in fh:
                raise DataFileError(f"{path}: missing dataset {key!r} (has {sorted(fh.keys())})")
            got = tuple(fh[key].shape[1:])
            if len(got) != len(expect) or any(e is not None and g != e
                                               for g, e in zip(got, expect, strict=True)):
                shown = ", ".join("T" if e is None else str(e) for e in expect)
                raise DataFileError(f"{path}: dataset {key!r} has shape {fh[key].shape}, "
                                    f"expected (N, {shown})")
        lengths = {k: fh[k].shape[0] for k in expected}
        if len(set(lengths.values())) != 1:
            raise DataFileError(f"{path}: datasets disagree on the number of samples: {lengths}")
    return meta, generator, residual
