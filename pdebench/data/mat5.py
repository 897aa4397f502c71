"""Lazy reading of MATLAB v5 ``.mat`` files, written from MathWorks' MAT-file format.

A v5 file is a 128-byte header and tagged data elements; a variable is an ``miMATRIX`` element
whose sub-elements are the array flags, the dimensions, the name, the real and (complex flag)
the imaginary part; ``miCOMPRESSED`` wraps one element in a zlib stream (MATLAB's default,
``scipy.io.savemat(..., do_compression=True)``). Uncompressed variables are memory-mapped per
access, compressed ones converted once into the cache (:mod:`pdebench.data.lazyfiles`).
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Collection
from functools import partial
from pathlib import Path

import h5py
import numpy as np

from pdebench.data.lazyfiles import (
    CHUNK_BYTES,
    LazyArrays,
    Reader,
    _Bad,
    _cache_path,
    _ensure_cache,
    _exact,
    _fill,
    _Part,
    _Var,
)
from pdebench.data.store import DataFileError

_MI = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_MX = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8",
       15: "u8"}
_MX_OTHER = {1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 16: "function",
             17: "opaque"}
MI_MATRIX, MI_COMPRESSED = 14, 15


class _Inflate:
    """``read(n)``: the next ``n`` bytes (fewer at its end) of the zlib stream in bytes
    ``[start, start + size)`` of the open file ``fh``, decompressed a block at a time."""

    def __init__(self, fh, start: int, size: int, block: int = 2**20) -> None:
        self.fh, self.pos, self.end, self.block = fh, start, start + size, block
        self.z, self.tail = zlib.decompressobj(), b""

    def read(self, n: int) -> bytearray:
        out = bytearray()
        while len(out) < n and not self.z.eof:
            if not self.tail:
                self.fh.seek(self.pos)
                self.tail = self.fh.read(max(0, min(self.block, self.end - self.pos)))
                if not self.tail:
                    break
                self.pos += len(self.tail)
            out += self.z.decompress(self.tail, n - len(out))
            self.tail = self.z.unconsumed_tail
        return out


def _tag(read: Reader, e: str) -> tuple[int, int, bool]:
    """``(data type, byte count, small)`` of a data element's tag; a small element holds its
    type and count in the tag's first word and its data in the second (read next)."""
    t = struct.unpack(e + "I", read(4))[0]
    if t >> 16:
        return t & 0xFFFF, t >> 16, True
    return t, struct.unpack(e + "I", read(4))[0], False


def _element(read: Reader, e: str, what: str, types: Collection[int]) -> bytes:
    """The data of a short sub-element (flags, dims, name), its padding consumed."""
    t, n, small = _tag(read, e)
    if not small and n > 2**16:
        raise _Bad(f"its {what} sub-element claims {n} bytes")
    if t not in types:
        raise _Bad(f"no {what} sub-element (found data type {t})")
    return read(4)[:n] if small else read(n + -n % 8)[:n]


def _matrix_head(read: Reader, e: str) -> tuple[int, bool, bool, tuple[int, ...], str]:
    """``(class, complex, logical, dims, name)`` from the sub-elements opening an miMATRIX."""
    flags = _element(read, e, "array-flags", (6,))
    if len(flags) != 8:
        raise _Bad(f"array flags of {len(flags)} bytes, expected 8")
    f = struct.unpack(e + "I", flags[:4])[0]
    d = _element(read, e, "dimensions", (5,))
    dims = struct.unpack(f"{e}{len(d) // 4}i", d[: len(d) // 4 * 4])
    name = _element(read, e, "name", (1, 2)).decode("ascii", "replace")
    return f & 0xFF, bool(f & 0x800), bool(f & 0x200), dims, name


def _data_tag(read: Reader, e: str, dims: tuple[int, ...]) -> tuple[np.dtype, int, bool]:
    """``(stored dtype, byte count, small)`` of a real or imaginary part, checked on ``dims``."""
    t, n, small = _tag(read, e)
    if t not in _MI:
        raise _Bad(f"its values have data type {t}, not a numeric one")
    dtype = np.dtype(e + _MI[t])
    if n != math.prod(dims) * dtype.itemsize:
        raise _Bad(f"its values take {n} bytes, dims {dims} of {dtype} need "
                   f"{math.prod(dims) * dtype.itemsize}")
    return dtype, n, small


def _convert_variable(path: Path, pos: int, size: int, e: str, key: str, cplx: bool,
                      out: np.dtype, fh: h5py.File, chunk_bytes: int,
                      tick: Callable[[int], object] | None = None) -> None:
    with open(path, "rb") as f:
        z = _Inflate(f, pos + 8, size)
        read = _exact(z.read, tick)
        read(8)
        dims = _matrix_head(read, e)[3]
        for part in ("real", "imag") if cplx else ("real",):
            dtype, n, small = _data_tag(read, e, dims)
            _fill(fh, f"{key}.{part}", tuple(dims[::-1]), dtype, out, read, chunk_bytes)
            read(4 - n if small else -n % 8)
        if z.read(1) or not z.z.eof:  # reading to the end also checks the stream's checksum
            raise _Bad("the compressed stream does not end after the variable")


def mat_arrays(path: str | Path, cache_dir: str | Path | None = None, *,
               only: Collection[str] | None = None,
               chunk_bytes: int = CHUNK_BYTES) -> LazyArrays:
    """The numeric variables of a MATLAB v5 ``.mat`` file, read lazily, dims reversed.

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
        ``transposed`` True: a variable of MATLAB dims ``(d0, ..., dk)`` has shape
        ``(dk, ..., d0)``. Uncompressed variables are :class:`~pdebench.data.lazyfiles.MappedArray` (or a
        :class:`LazyView` of them: stored type other than the class, logical, complex);
        ``miCOMPRESSED`` ones datasets of the cache file in their class's dtype. Cell, struct,
        char, sparse and object variables are in ``skipped`` with their class.

    Raises
    ------
    DataFileError
        Not a v5 file (v4, v7.3), or a truncated or corrupt element (naming the file, and the
        variable when its name could be read).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist")
    variables, jobs, skipped, size = {}, [], {}, path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(128)
        e = {b"IM": "<", b"MI": ">"}.get(head[126:128]) if len(head) == 128 else None
        if e is None or head.startswith(b"MATLAB 7.3") or h5py.is_hdf5(path):
            raise DataFileError(f"{path}: not a MATLAB v5 .mat file (no v5 header; v4 files "
                                "are not supported, v7.3 files are HDF5)")
        pos = 128
        while pos < size:
            where = f"the element at byte {pos}"
            try:
                fh.seek(pos)
                t, n = struct.unpack(e + "II", _exact(fh.read)(8))
                read = _exact(_Inflate(fh, pos + 8, n).read if t == MI_COMPRESSED else fh.read)
                if t not in (MI_MATRIX, MI_COMPRESSED) or (
                        t == MI_COMPRESSED and struct.unpack(e + "I", read(8)[:4])[0] != MI_MATRIX):
                    pos += 8 + n
                    continue
                cls, cplx, logical, dims, name = _matrix_head(read, e)
                where = f"variable {name!r}"
                if pos + 8 + n > size:
                    raise _Bad(f"it ends at byte {pos + 8 + n}, the file has {size} bytes")
                if not name or (only is not None and name not in only):
                    skipped.update({name: "not requested"} if name else {})
                elif cls not in _MX:
                    skipped[name] = _MX_OTHER.get(cls, f"class {cls}")
                else:
                    out = np.dtype("?" if logical else _MX[cls])  # the class's dtype
                    want = np.result_type(out, np.complex64) if cplx else out
                    rdims, parts = tuple(dims[::-1]), []
                    if t == MI_COMPRESSED:  # converted into the cache, in the class's dtype
                        key = f"mat{len(jobs)}"
                        parts = [_Part(out.str, rdims, key=f"{key}.{p}") for p in ("real", "imag")]
                        jobs.append((f"variable {name!r}", math.prod(dims) * want.itemsize,
                                     partial(_convert_variable, path, pos, n, e, key, cplx, out)))
                    for _ in range(0 if parts else 2 if cplx else 1):  # memory-mapped
                        dtype, nb, small = _data_tag(read, e, dims)
                        if fh.tell() + nb > pos + 8 + n:
                            raise _Bad("its values run past the end of the element")
                        parts.append(_Part(dtype.str, rdims, fh.tell()))
                        fh.seek(fh.tell() + (4 if small else nb + -nb % 8))
                    plain = not cplx and parts[0].dtype == out.str  # else cast per access
                    variables[name] = _Var(parts[0], parts[1] if cplx else None,
                                           out.str if plain else want.str)
            except (_Bad, EOFError, zlib.error, struct.error) as exc:
                raise DataFileError(f"{path}: {where} is corrupt or truncated ({exc})") from None
            pos += 8 + n
    cache = _cache_path(path, cache_dir)
    _ensure_cache(path, cache, variables, jobs, chunk_bytes)
    return LazyArrays(path, variables, cache, skipped, transposed=True)

