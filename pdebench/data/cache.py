"""Generated datasets cached as store files under ``paths.data_dir``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pdebench.data.source import file_lock
from pdebench.data.store import DataFileError, read_store_info


def ensure_cached(path: Path, build: Callable[[], Path], what: str) -> Path:
    """Return ``path`` if it holds a complete, valid store; otherwise ``build()`` it under a lock.

    A file at ``path`` that fails validation (corrupt, foreign) is not trusted: it is rebuilt, with
    a message saying so.
    """
    with file_lock(path.with_name(path.name + ".lock"), what):
        if path.exists():
            try:
                read_store_info(path)
                return path
            except DataFileError as exc:
                print(f"pdebench: cached {what} is not usable ({exc}); regenerating",
                      file=sys.stderr)
                path.unlink()
        return build()


def resolve_in_memory(setting: bool | str, path: Path, limit_gb: float = 2.0) -> bool:
    """``in_memory`` option: ``true``/``false``, or ``"auto"`` = files under ``limit_gb``."""
    if isinstance(setting, bool):
        return setting
    if setting != "auto":
        raise ValueError(f"in_memory must be true, false or 'auto', got {setting!r}")
    return path.stat().st_size < limit_gb * 2**30



def default_data_dir() -> Path:
    """``paths.data_dir`` of the default config: ``$PDEBENCH_DATA`` or the user's cache folder."""
    import os

    from pdebench.config import _cache_dir

    return Path(os.environ.get("PDEBENCH_DATA") or _cache_dir())


def cache_groups(root: Path) -> dict[str, list[Path]]:
    """The cached data under ``root`` by top-level folder (a dataset name, ``cylinder_flow``,
    ``converted``): the files and scenario folders in each, lock files left out."""
    groups: dict[str, list[Path]] = {}
    if not root.is_dir():
        return groups
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        entries = sorted(p for p in folder.iterdir() if not p.name.endswith(".lock"))
        if entries:
            groups[folder.name] = entries
    return groups


def disk_size(path: Path) -> int:
    """Bytes of a file, or of every file below a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop returns
