"""Lazy reading of ``.npz`` archives (and the shared machinery of :mod:`pdebench.data.mat5`
for MATLAB v5 ``.mat`` files), written from the formats.

* **Uncompressed data is memory-mapped** at the values' byte offset in the file, per access
  (:class:`MappedArray`: no copy of the file, no conversion, and no pages kept resident). An
  ``.npz`` is a ZIP archive of ``.npy`` members; a member stored without compression (:func:`numpy.savez`) starts after its 30-byte ZIP local header,
  name and extra field, its values after the NPY header. A MAT v5 file is a 128-byte header and
  tagged data elements; a variable is an ``miMATRIX`` element whose sub-elements are the array
  flags, the dimensions, the name, the real and (complex flag) the imaginary part.
* **Compressed data is converted once**, streamed in blocks of at most ``chunk_bytes`` bytes,
  into an HDF5 cache file (one per source file, under ``cache_dir``) read lazily with h5py:
  members written by :func:`numpy.savez_compressed` (ZIP deflate) and ``miCOMPRESSED`` MAT
  variables (a zlib stream of one element: MATLAB's default, ``scipy.io.savemat(...,
  do_compression=True)``). Fortran-ordered ``.npz`` members are converted too, but loaded whole
  for it (a documented limitation). The cache takes the uncompressed size on disk.

MATLAB is column-major: a variable of MATLAB dims ``(d0, ..., dk)`` is returned C-ordered with
the dims reversed (``transposed``), as h5py shows a v7.3 file; ``arr.T`` is MATLAB's array, and
per-sample reads are contiguous when the sample axis is MATLAB's *last*. A stored type narrower
than the class (MATLAB writes a double array of small integers as ``miUINT8``), logical (read
as ``bool``) and complex variables are :class:`LazyView` s that cast or combine per access.
Cell, struct, char, sparse and object variables are not read: :attr:`LazyArrays.skipped` names
them with their class, for "missing variable" messages.

The cache is keyed by the source's resolved path, size and ``mtime_ns`` (an edited file is
reconverted), written atomically under a file lock, and rebuilt when unreadable.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import h5py
import numpy as np

from pdebench.data.source import file_lock
from pdebench.data.store import DataFileError, atomic_h5
from pdebench.progress import LineProgress, progress

CHUNK_BYTES = 16 * 2**20  # largest block of values held in memory while converting
PROGRESS_BYTES = 256 * 2**20  # conversions at least this large show a progress bar
CACHE_VERSION = 1
_CHUNK_TARGET = 64 * 2**10  # HDF5 chunk size of the cache's datasets
Reader = Callable[[int], bytes]


def default_cache_dir() -> Path:
    """``<PDEBENCH_DATA or the user cache folder>/converted`` (``paths.data_dir`` of the default
    config, :func:`pdebench.data.cache.default_data_dir`)."""
    from pdebench.data.cache import default_data_dir

    return default_data_dir() / "converted"


class LazyView:
    """Array-like over a stored array ``real`` (and ``imag``: ``real + 1j * imag``), cast to
    ``dtype`` per access; indexing returns an ndarray."""

    def __init__(self, real, imag, dtype: np.dtype) -> None:
        self.real, self.imag, self.dtype = real, imag, np.dtype(dtype)
        self.shape, self.ndim = tuple(real.shape), len(real.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        re = np.asarray(self.real[index])
        if self.imag is None:
            return re.astype(self.dtype)
        out = np.empty(re.shape, self.dtype)
        out.real, out.imag = re, np.asarray(self.imag[index])
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[()] if dtype is None else self[()].astype(dtype)


class MappedArray:
    """An uncompressed array at byte ``offset`` of ``path``, memory-mapped for each access and
    unmapped again: indexing returns an ndarray copy, and pages read stay out of the process's
    resident set, so reading a file larger than memory keeps a small footprint."""

    def __init__(self, path: Path, dtype: str, offset: int, shape: tuple[int, ...]) -> None:
        self.path, self.dtype, self.offset = path, np.dtype(dtype), offset
        self.shape, self.ndim = tuple(shape), len(shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        if 0 in self.shape:
            return np.empty(self.shape, self.dtype)[index]
        mm = np.memmap(self.path, self.dtype, "r", self.offset, self.shape or (1,))
        return np.array(mm[index] if self.shape else mm.reshape(())[index])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self[()] if dtype is None else self[()].astype(dtype)


@dataclass(frozen=True)
class _Part:
    """A stored array: at byte ``offset`` of the source (memory-mapped) or, ``offset == -1``,
    dataset ``key`` of the cache file."""

    dtype: str
    shape: tuple[int, ...]
    offset: int = -1
    key: str = ""


@dataclass(frozen=True)
class _Var:
    real: _Part
    imag: _Part | None
    dtype: str  # returned on access


class LazyArrays(Mapping):
    """The numeric arrays of one file by name, each read on access: a :class:`MappedArray`
    (uncompressed), an :class:`h5py.Dataset` (converted into the cache) or a :class:`LazyView`.

    Handles open on first access in each process and are dropped when pickled (DataLoader
    workers reopen them). Attributes: ``path`` (the source file), ``cache`` (the HDF5 cache file,
    None if nothing was converted), ``converted`` (names read from it), ``transposed`` (True for
    ``.mat``: MATLAB's dims reversed), ``skipped`` ({name: why} of names in the file not readable
    here, e.g. ``"cell"``).
    """

    def __init__(self, path: Path, variables: dict[str, _Var], cache: Path,
                 skipped: dict[str, str], transposed: bool) -> None:
        self.path, self.variables, self.skipped = path, variables, skipped
        self.converted = tuple(k for k, v in variables.items() if v.real.offset < 0)
        self.cache, self.transposed = cache if self.converted else None, transposed
        self._arrays, self._h5, self._pid = {}, None, None

    def __getitem__(self, name: str):
        if self._pid != os.getpid():
            self._arrays, self._h5, self._pid = {}, None, os.getpid()
        if name not in self._arrays:
            var = self.variables[name]  # KeyError for an unknown name (Mapping protocol)
            real = self._open(var.real)
            imag = None if var.imag is None else self._open(var.imag)
            plain = imag is None and np.dtype(var.dtype) == np.dtype(var.real.dtype)
            self._arrays[name] = real if plain else LazyView(real, imag, var.dtype)
        return self._arrays[name]

    def _open(self, part: _Part):
        if part.offset < 0:
            if self._h5 is None:
                try:
                    self._h5 = h5py.File(self.cache, "r")
                except OSError as exc:
                    raise DataFileError(f"{self.path}: its converted cache {self.cache} is not "
                                        f"readable ({exc}); delete it to rebuild it") from None
            return self._h5[part.key]
        return MappedArray(self.path, part.dtype, part.offset, part.shape)

    def __contains__(self, name) -> bool:
        return name in self.variables

    def __iter__(self) -> Iterator[str]:
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)

    def describe(self) -> str:
        """The names in the file, for messages (unreadable ones with the reason)."""
        return ", ".join([*self.variables, *(f"{k} ({v})" for k, v in self.skipped.items())])

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_arrays": {}, "_h5": None, "_pid": None}


class _Bad(ValueError):
    """Content that is not what its format says (a corrupt element or member)."""


# --- streaming into the cache -----------------------------------------------------------------

def _level(shape: tuple[int, ...], item: int, limit: int) -> tuple[int, int]:
    """The outermost axis ``k`` whose trailing blocks ``shape[k+1:]`` fit in ``limit`` bytes,
    and how many of them fit (at least 1)."""
    for k in range(len(shape)):
        inner = math.prod(shape[k + 1:]) * item
        if inner <= limit:
            return k, max(1, min(shape[k], limit // inner))
    return len(shape) - 1, 1


def _chunks(shape: tuple[int, ...], item: int) -> tuple[int, ...] | None:
    if not shape or 0 in shape:
        return None
    k, rows = _level(shape, item, _CHUNK_TARGET)
    return (1,) * k + (rows,) + tuple(shape[k + 1:])


def _fill(fh: h5py.File, key: str, shape: tuple[int, ...], src: np.dtype, out: np.dtype,
          read: Reader, chunk_bytes: int) -> None:
    """Dataset ``key`` (C-ordered ``shape``, dtype ``out``) from the C-ordered values of dtype
    ``src`` that ``read(n)`` returns, at most ``chunk_bytes`` of them at a time."""
    ds = fh.create_dataset(key, shape, out, chunks=_chunks(shape, out.itemsize))
    if not shape:
        ds[()] = np.frombuffer(read(src.itemsize), src)[0]
    if not shape or 0 in shape:
        return
    k, rows = _level(shape, src.itemsize, chunk_bytes)
    inner = tuple(shape[k + 1:])
    for prefix in np.ndindex(*shape[:k]):
        for a in range(0, shape[k], rows):
            b = min(shape[k], a + rows)
            block = np.frombuffer(read((b - a) * math.prod(inner) * src.itemsize), src)
            ds[(*prefix, slice(a, b))] = block.reshape((b - a, *inner)).astype(out, copy=False)


def _exact(read: Reader, tick: Callable[[int], object] | None = None) -> Reader:
    """``read`` that fails on a short read (EOFError); ``tick(n)`` after each, for progress."""
    def read_exact(n: int) -> bytes:
        data = read(n)
        if len(data) != n:
            raise EOFError(f"the data end after {len(data)} of {n} bytes")
        if tick is not None:
            tick(n)
        return data
    return read_exact


def _cache_path(path: Path, cache_dir: str | Path | None) -> Path:
    real = path.resolve()
    digest = hashlib.sha256(str(real).encode()).hexdigest()[:16]
    return Path(cache_dir or default_cache_dir()).expanduser() / f"{real.name}-{digest}.h5"


def _ensure_cache(path: Path, cache: Path, variables: dict[str, _Var],
                  jobs: list[tuple[str, int, Callable]], chunk_bytes: int) -> None:
    """Make ``cache`` hold the cached parts of ``variables``; ``jobs``: (label, bytes, write)."""
    st = path.stat()
    stamp = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|v{CACHE_VERSION}"
    parts = [p for v in variables.values() for p in (v.real, v.imag) if p and p.offset < 0]

    def state() -> str | None:
        if not cache.exists():
            return "missing"
        try:
            with h5py.File(cache, "r") as fh:
                if fh.attrs.get("source") != stamp or any(
                        p.key not in fh or fh[p.key].shape != p.shape
                        or fh[p.key].dtype != np.dtype(p.dtype) for p in parts):
                    return "stale"
        except OSError as exc:
            return str(exc)
        return None

    if not parts or state() is None:
        return
    with file_lock(cache.with_name(cache.name + ".lock"), f"the converted cache of {path}"):
        why = state()
        if why is None:
            return
        if why not in ("missing", "stale"):
            print(f"pdebench: the cache file {cache} is not readable ({why}); rebuilding it",
                  file=sys.stderr)
        with atomic_h5(cache) as fh:
            fh.attrs["source"] = stamp
            for label, nbytes, write in jobs:
                size = (f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**30
                        else f"{nbytes / 2**20:.2f} MiB")
                print(f"pdebench: converting {path.name} {label} ({size}) to a lazily readable "
                      f"cache at {cache}", file=sys.stderr)
                bar = (progress(total=nbytes, unit="B", desc=f"converting {label}",
                                file=sys.stderr, unit_scale=True, unit_divisor=1024, leave=False)
                       if nbytes >= PROGRESS_BYTES else LineProgress(nbytes, enabled=False))
                try:
                    with bar:
                        write(fh, chunk_bytes, bar.update)
                except (_Bad, EOFError, zlib.error, zipfile.BadZipFile, struct.error) as exc:
                    raise DataFileError(f"{path}: {label} is corrupt or truncated "
                                        f"({exc})") from None


# --- .npz -------------------------------------------------------------------------------------

def _npy_header(fp, path: Path, name: str) -> tuple[tuple[int, ...], bool, np.dtype] | None:
    """``(shape, fortran_order, dtype)`` from an NPY header, or None: not a numeric array."""
    try:
        version = np.lib.format.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            return None  # 3.0: utf-8 field names, i.e. a structured (non-numeric) dtype
        shape, fortran, dtype = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                 else np.lib.format.read_array_header_2_0)(fp)
    except (ValueError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise DataFileError(f"{path}: member {name!r} is not an .npy array ({exc})") from None
    numeric = dtype.kind in "biufc" and dtype.names is None and dtype.subdtype is None
    return (tuple(shape), fortran, dtype) if numeric else None


def _convert_member(path: Path, member: str, key: str, shape: tuple[int, ...], dtype: np.dtype,
                    fortran: bool, fh: h5py.File, chunk_bytes: int,
                    tick: Callable[[int], object] | None = None) -> None:
    with zipfile.ZipFile(path) as zf, zf.open(member) as stream:
        _npy_header(stream, path, member)
        read, native = _exact(stream.read, tick), dtype.newbyteorder("=")
        if not fortran:
            _fill(fh, key, shape, dtype, native, read, chunk_bytes)
        else:
            whole = np.frombuffer(read(math.prod(shape) * dtype.itemsize), dtype)  # all of it
            fh.create_dataset(key, data=whole.reshape(shape[::-1]).T.astype(native),
                              chunks=_chunks(shape, dtype.itemsize))
        if stream.read(1):  # reading to the end also checks the member's CRC
            raise _Bad("the member holds more bytes than its header says")


def npz_arrays(path: str | Path, cache_dir: str | Path | None = None, *,
               only: Collection[str] | None = None,
               chunk_bytes: int = CHUNK_BYTES) -> LazyArrays:
    """The numeric members of an ``.npz`` file, read lazily.

    Parameters
    ----------
    path : path-like
    cache_dir : path-like, optional
        Folder of the converted-cache files (default :func:`default_cache_dir`).
    only : collection of str, optional
        Names to make readable; the others are put in ``skipped`` (never converted).
    chunk_bytes : int
        Largest block of values held in memory while converting.

    Returns
    -------
    LazyArrays
        Stored (uncompressed) C-ordered members as :class:`MappedArray`; compressed or
        Fortran-ordered ones as datasets of the cache file. Object, string and structured
        members are in ``skipped``.

    Raises
    ------
    DataFileError
        Missing, truncated or corrupt file, or a member that is not an NPY array (naming the
        file and the member).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist")
    variables, jobs, skipped, size = {}, [], {}, path.stat().st_size
    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
            for info in zf.infolist():
                name = info.filename.removesuffix(".npy")
                if (only is not None and name not in only) or name == info.filename:
                    skipped[name] = "not requested" if name != info.filename else "not .npy"
                    continue
                stored = info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 1
                if stored:
                    fh.seek(info.header_offset)
                    local = fh.read(30)
                    if len(local) < 30 or local[:4] != b"PK\x03\x04":
                        raise DataFileError(f"{path}: member {name!r} has no ZIP local header "
                                            f"at byte {info.header_offset}")
                    start = info.header_offset + 30 + sum(struct.unpack("<HH", local[26:30]))
                    fh.seek(start)
                    head = _npy_header(fh, path, name)
                else:
                    with zf.open(info) as stream:
                        head = _npy_header(stream, path, name)
                if head is None:
                    skipped[name] = "not a numeric array"
                    continue
                shape, fortran, dtype = head
                nbytes = math.prod(shape) * dtype.itemsize
                if stored and not fortran:
                    offset = fh.tell()
                    if offset - start + nbytes > info.file_size or offset + nbytes > size:
                        raise DataFileError(f"{path}: member {name!r} is truncated ({shape} "
                                            f"of {dtype} need {nbytes} bytes)")
                    variables[name] = _Var(_Part(dtype.str, shape, offset), None, dtype.str)
                    continue
                key, native = f"npz{len(jobs)}", dtype.newbyteorder("=").str
                variables[name] = _Var(_Part(native, shape, key=key), None, native)
                jobs.append((f"member {name!r}", nbytes, partial(
                    _convert_member, path, info.filename, key, shape, dtype, fortran)))
    except (zipfile.BadZipFile, zlib.error, EOFError, struct.error) as exc:
        raise DataFileError(f"{path}: not a readable .npz file ({exc})") from None
    cache = _cache_path(path, cache_dir)
    _ensure_cache(path, cache, variables, jobs, chunk_bytes)
    return LazyArrays(path, variables, cache, skipped, transposed=False)
