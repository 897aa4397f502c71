"""Readers for Multiphysics Bench's published files (PROBLEMS C, "Published files to read"):
``{problem}_{train|test}_128.pt`` dicts, folders of ``merge_{id}.npy`` and of ``.mat`` files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from pdebench.data.files import check_finite, mat_variables
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.data.store import DataFileError

SCALING = "min-max scaled to [-0.9, 0.9] per field by the publication; kept as published"
_PT_NAME = re.compile(r"^(?P<problem>.+)_(?P<part>train|test)_(?P<res>\d+)\.pt$")
_MERGE = re.compile(r"^merge_(?P<id>\d+)\.npy$")


def _names(given: Sequence[str] | None, n: int, prefix: str, option: str) -> tuple[str, ...]:
    if given is None:
        return tuple(f"{prefix}{i}" for i in range(n))
    given = tuple(given)
    if len(given) != n:
        raise ValueError(f"data.{option} lists {len(given)} names but the data has {n} channels")
    return given


def _meta(name: str, spatial: tuple[int, ...], inputs, outputs, extra: dict) -> DatasetMeta:
    return DatasetMeta(name=name, pde=None, spatial_dims=len(spatial), resolution=spatial,
                       extent=tuple((0.0, 1.0) for _ in spatial), input_fields=inputs,
                       output_fields=outputs, grid="cell_centered",
                       extra={"extent": "not in the files; (0, 1) per axis assumed", **extra})


# --- .pt dicts ---------------------------------------------------------------------------------

def load_pt(path: Path) -> dict:
    """``torch.load`` memory-mapped (bounded memory) with tensors only; a file in the legacy
    (non-zip) format cannot be mapped and is loaded in full."""
    return _load_pt(path)[0]


def _load_pt(path: Path) -> tuple[dict, bool]:
    """:func:`load_pt` and whether the tensors are memory-mapped."""
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist")
    mapped = True
    try:
        try:
            data = torch.load(path, mmap=True, weights_only=True, map_location="cpu")
        except RuntimeError as exc:
            if "mmap" not in str(exc) and "zip" not in str(exc):
                raise
            data, mapped = torch.load(path, weights_only=True, map_location="cpu"), False
    except Exception as exc:  # pickle / zip errors of a corrupt or foreign file
        raise DataFileError(f"{path}: not a readable torch file of tensors ({exc})") from None
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: expected a dict with 'x' and 'y', got {type(data).__name__}")
    return data, mapped


class PtPairs(Dataset):
    """Samples ``x[i]``, ``y[i]`` of a ``.pt`` dict, memory-mapped; unscaled when ``scale`` holds
    per-channel ``(min, max)`` for a key.

    The mapping is dropped and made again every :attr:`REMAP_EVERY` samples (a fraction of a
    millisecond each time): the pages a mapping has touched count as the process's resident
    memory until it is unmapped, so one kept for an epoch would grow to the file's size.
    """

    REMAP_EVERY = 256

    def __init__(self, path: Path, scale: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.path, self.scale = path, scale
        self._data: dict | None = None
        self._mapped, self._reads = False, 0

    def _tensors(self, count: bool = True) -> dict:
        self._reads += count
        if self._data is None or (self._mapped and self._reads > self.REMAP_EVERY):
            self._data, self._reads = None, int(count)  # unmap before mapping again
            self._data, self._mapped = _load_pt(self.path)
        return self._data

    def __len__(self) -> int:
        return int(self._tensors(count=False)["x"].shape[0])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        out = {}
        tensors = self._tensors()
        for key in ("x", "y"):
            arr = tensors[key][index].to(torch.float32).numpy().copy()
            check_finite(arr, self.path, key, f"sample {index}")
            if key in self.scale:
                lo, hi = self.scale[key]
                shape = (-1,) + (1,) * (arr.ndim - 1)
                arr = (arr + 0.9) / 1.8 * (hi - lo).reshape(shape) + lo.reshape(shape)
            out[key] = torch.from_numpy(arr.astype(np.float32))
        return out

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_data": None, "_reads": 0}  # workers map the file themselves


class MultiphysicsPtFile(DataSource):
    """Multiphysics Bench (2025): a published ``{problem}_{train|test}_128.pt`` dict, steady pairs.

    Layout: ``x`` (N, C_in, H, W), ``y`` (N, C_out, H, W) tensors (128² published). Read with
    ``torch.load(mmap=True, weights_only=True)``: samples are paged in on access. The fields are
    min–max scaled to [−0.9, 0.9] in the publication (recorded in ``extra["scaling"]``); they are
    kept so, unless the dict carries per-channel ``x_min``/``x_max`` (or ``y_min``/``y_max``)
    tensors, in which case ``v = (s + 0.9)/1.8·(max − min) + min`` restores physical values
    (*harness convention*: the publication does not ship those keys). Channel names come from
    ``input_fields``/``output_fields`` (checked against the file), else ``in0…``/``out0…``.
    Extent and units are not in the file: (0, 1)² is assumed. No equation attached.

    Parameters
    ----------
    path : path-like
    input_fields, output_fields : list of str, optional
    """

    def __init__(self, path: str | Path, input_fields: Sequence[str] | None = None,
                 output_fields: Sequence[str] | None = None) -> None:
        if path in (None, "", "???"):
            raise ValueError("data.path is required for multiphysics_pt: a "
                             "{problem}_{train|test}_128.pt file")
        self.path = Path(path).expanduser()
        data = load_pt(self.path)
        for key in ("x", "y"):
            if key not in data:
                raise DataFileError(f"{self.path}: missing key {key!r} (expected a dict with 'x' "
                                    f"(N, C_in, H, W) and 'y' (N, C_out, H, W); has {sorted(data)})")
            if not isinstance(data[key], torch.Tensor) or data[key].ndim != 4:
                got = getattr(data[key], "shape", type(data[key]).__name__)
                raise DataFileError(f"{self.path}: {key!r} is {got}, expected a 4-D tensor "
                                    f"(N, C, H, W)")
        x, y = data["x"].shape, data["y"].shape
        if x[0] != y[0] or x[2:] != y[2:]:
            raise DataFileError(f"{self.path}: 'x' {tuple(x)} and 'y' {tuple(y)} disagree on "
                                "samples or grid; expected (N, C_in, H, W) and (N, C_out, H, W)")
        self.scale = {}
        for key, n in (("x", x[1]), ("y", y[1])):
            lo, hi = data.get(f"{key}_min"), data.get(f"{key}_max")
            if lo is not None and hi is not None:
                lo, hi = (np.asarray(v, dtype=np.float32).ravel() for v in (lo, hi))
                if lo.size != n or hi.size != n:
                    raise DataFileError(f"{self.path}: '{key}_min'/'{key}_max' need {n} "
                                        f"entries (one per channel), have {lo.size}/{hi.size}")
                self.scale[key] = (lo, hi)
        m = _PT_NAME.match(self.path.name)
        self._meta = _meta("multiphysics_pt", tuple(x[2:]),
                           _names(input_fields, x[1], "in", "input_fields"),
                           _names(output_fields, y[1], "out", "output_fields"),
                           {"file": str(self.path), "problem": m["problem"] if m else None,
                            "part": m["part"] if m else None,
                            "scaling": "unscaled with the file's min/max" if self.scale
                            else SCALING})

    @property
    def meta(self) -> DatasetMeta:
        return self._meta

    def open(self) -> PtPairs:
        return PtPairs(self.path, self.scale)


# --- folders of merge_{id}.npy -----------------------------------------------------------------

class NpyPairs(Dataset):
    """``merge_{id}.npy`` (H, W, C_in + C_out) memory-mapped, split at ``n_inputs``."""

    def __init__(self, files: list[Path], n_inputs: int) -> None:
        self.files, self.n_inputs = files, n_inputs

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        path = self.files[index]
        arr = np.asarray(np.load(path, mmap_mode="r"), dtype=np.float32)
        check_finite(arr, path, "array", f"sample {index}")
        arr = np.ascontiguousarray(np.moveaxis(arr, -1, 0))
        return {"x": torch.from_numpy(arr[: self.n_inputs].copy()),
                "y": torch.from_numpy(arr[self.n_inputs:].copy())}


class MultiphysicsNpyDir(DataSource):
    """Multiphysics Bench (2025): a folder of per-sample ``merge_{id}.npy`` arrays (H, W, C),
    steady pairs; the first ``n_inputs`` channels are the input, the rest the target.

    Files are ordered by their numeric id and memory-mapped (``np.load(mmap_mode="r")``); every
    file's header is checked at start (shape shared by all, naming the odd file). Scaling as in
    the publication (recorded in ``extra["scaling"]``); channel names from ``input_fields`` /
    ``output_fields`` when given; (0, 1)² assumed as extent.

    Parameters
    ----------
    root : path-like
    n_inputs : int
        Channels split point, 1 ≤ n_inputs < C.
    input_fields, output_fields : list of str, optional
    """

    def __init__(self, root: str | Path, n_inputs: int, input_fields: Sequence[str] | None = None,
                 output_fields: Sequence[str] | None = None) -> None:
        if root in (None, "", "???"):
            raise ValueError("data.root is required for multiphysics_npy: a folder of "
                             "merge_{id}.npy files")
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise DataFileError(f"{self.root} is not a folder of merge_{{id}}.npy files")
        found = []
        for p in self.root.glob("merge_*.npy"):
            m = _MERGE.match(p.name)
            if not m:
                raise DataFileError(f"{p}: malformed file name, expected merge_<integer id>.npy")
            found.append((int(m["id"]), p))
        if not found:
            raise DataFileError(f"{self.root}: no merge_{{id}}.npy files")
        self.files = [p for _, p in sorted(found)]
        shape = None
        for p in self.files:
            try:
                s = np.load(p, mmap_mode="r").shape
            except (ValueError, OSError) as exc:
                raise DataFileError(f"{p}: not a readable .npy array ({exc})") from None
            if len(s) != 3:
                raise DataFileError(f"{p}: array has shape {s}, expected (H, W, C_in + C_out)")
            if shape is None:
                shape = s
            elif s != shape:
                raise DataFileError(f"{p}: array has shape {s} but {self.files[0]} has {shape}")
        if not 1 <= n_inputs < shape[2]:
            raise ValueError(f"data.n_inputs must be in [1, {shape[2] - 1}] for arrays with "
                             f"{shape[2]} channels, got {n_inputs}")
        self.n_inputs = n_inputs
        self._meta = _meta("multiphysics_npy", tuple(shape[:2]),
                           _names(input_fields, n_inputs, "in", "input_fields"),
                           _names(output_fields, shape[2] - n_inputs, "out", "output_fields"),
                           {"root": str(self.root), "scaling": SCALING})

    @property
    def meta(self) -> DatasetMeta:
        return self._meta

    def open(self) -> NpyPairs:
        return NpyPairs(self.files, self.n_inputs)


# --- folders of .mat files ---------------------------------------------------------------------

def _channels(values: dict[str, np.ndarray], fields: Sequence[str], complex_: dict[str, bool],
              path: Path, index: int) -> np.ndarray:
    parts = []
    for f in fields:
        v = values[f"export_{f}"]
        if np.iscomplexobj(v) and not complex_[f]:
            raise DataFileError(f"{path}: 'export_{f}' is complex but is real in the first file")
        v = v.astype(np.complex128 if complex_[f] else np.float64)
        check_finite(v, path, f"export_{f}", f"sample {index}")
        parts += [v.real, v.imag] if complex_[f] else [v]
    return np.stack(parts).astype(np.float32)


class MatPairs(Dataset):
    """One ``.mat`` file per sample, read on access (bounded memory)."""

    def __init__(self, files: list[Path], inputs, outputs, complex_: dict[str, bool],
                 shape: tuple[int, int]) -> None:
        self.files, self.inputs, self.outputs = files, tuple(inputs), tuple(outputs)
        self.complex, self.shape = complex_, shape

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        path = self.files[index]
        values = mat_variables(path, [f"export_{f}" for f in (*self.inputs, *self.outputs)])
        for k, v in values.items():
            if v.shape != self.shape:
                raise DataFileError(f"{path}: {k!r} has shape {v.shape}, expected {self.shape} "
                                    f"like {self.files[0]}")
        return {"x": torch.from_numpy(_channels(values, self.inputs, self.complex, path, index)),
                "y": torch.from_numpy(_channels(values, self.outputs, self.complex, path, index))}


class MultiphysicsMatDir(DataSource):
    """Multiphysics Bench (2025): a folder of ``.mat`` files, one sample each, with variables
    ``export_<field>`` (H, W); steady pairs.

    ``inputs`` and ``outputs`` list the field names (without ``export_``). A field that is
    complex in the first file (sorted by name) becomes two channels ``Re_<field>``,
    ``Im_<field>`` (underscores, not spaces, so names work as metric keys); a later file storing
    it as real (MATLAB drops an all-zero imaginary part) gets a zero ``Im`` channel. v7.3 files
    are read with h5py, older ones with :func:`scipy.io.loadmat`; either way only the sample's own
    file is read on access. Scaling as published; (0, 1)² assumed as extent.

    Parameters
    ----------
    root : path-like
    inputs, outputs : list of str
    """

    def __init__(self, root: str | Path, inputs: Sequence[str], outputs: Sequence[str]) -> None:
        if root in (None, "", "???"):
            raise ValueError("data.root is required for multiphysics_mat: a folder of .mat files")
        if not inputs or not outputs:
            raise ValueError("data.inputs and data.outputs must each list at least one field "
                             "(names of export_<field> variables without the prefix)")
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise DataFileError(f"{self.root} is not a folder of .mat files")
        self.files = sorted(self.root.glob("*.mat"))
        if not self.files:
            raise DataFileError(f"{self.root}: no .mat files")
        self.inputs, self.outputs = tuple(inputs), tuple(outputs)
        first = mat_variables(self.files[0], [f"export_{f}" for f in (*inputs, *outputs)])
        shapes = {k: v.shape for k, v in first.items()}
        if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 2:
            raise DataFileError(f"{self.files[0]}: variables have shapes {shapes}, expected one "
                                "shared (H, W)")
        self.shape = next(iter(shapes.values()))
        self.complex = {f: bool(np.iscomplexobj(first[f"export_{f}"])) for f in (*inputs, *outputs)}

        def names(fields):
            return tuple(n for f in fields for n in
                         ((f"Re_{f}", f"Im_{f}") if self.complex[f] else (f,)))

        self._meta = _meta("multiphysics_mat", self.shape, names(inputs), names(outputs),
                           {"root": str(self.root), "scaling": "as stored in the .mat files",
                            "complex_fields": [f for f, c in self.complex.items() if c]})

    @property
    def meta(self) -> DatasetMeta:
        return self._meta

    def open(self) -> MatPairs:
        return MatPairs(self.files, self.inputs, self.outputs, self.complex, self.shape)
