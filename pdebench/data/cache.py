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

