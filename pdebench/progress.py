"""Progress that reads well in a terminal and in a log file.

In a terminal a progress bar redraws one line in place; written to a CI log or a ``nohup`` file
the same bar becomes one line of thousands of characters (every redraw appended with a carriage
return). So: a bar when the stream is a terminal, otherwise a plain line at most every
:data:`LINE_FRACTION` of the work (and at least every :data:`LINE_SECONDS`), and at the end.

``PDEBENCH_PROGRESS`` overrides the choice: ``bar``, ``lines`` or ``none``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any

__all__ = ["LineProgress", "progress", "progress_mode"]

#: Fraction of the work between two progress lines outside a terminal.
LINE_FRACTION = 0.1
#: Longest silence (seconds) between two progress lines outside a terminal.
LINE_SECONDS = 60.0
MODES = ("bar", "lines", "none")


def progress_mode(stream: IO[str] | None = None, setting: str | None = None) -> str:
    """``"bar"`` on a terminal, ``"lines"`` otherwise; ``setting`` or ``PDEBENCH_PROGRESS``
    (``bar``, ``lines``, ``none``, ``auto``) override it."""
    choice = setting or os.environ.get("PDEBENCH_PROGRESS") or "auto"
    if choice == "auto":
        stream = stream or sys.stderr
        return "bar" if getattr(stream, "isatty", lambda: False)() else "lines"
    if choice not in MODES:
        raise ValueError(f"progress setting {choice!r} is unknown; valid: auto, "
                         f"{', '.join(MODES)}")
    return choice


class LineProgress:
    """A tqdm-like counter that prints ``desc: n/total (p%) t s`` lines to a log.

    Supports what the harness uses of tqdm: ``total``, ``n``, ``update(k)``, ``close()``, use as
    a context manager.
    """

    def __init__(self, total: int | None = None, desc: str = "", unit: str = "it",
                 file: IO[str] | None = None, enabled: bool = True, **_: Any) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = 0
        self.file = file or sys.stderr
        self.enabled = enabled
        self._t0 = time.monotonic()
        self._last_t = self._t0
        self._last_n = 0

    def _line(self) -> str:
        elapsed = time.monotonic() - self._t0
        frac = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        of = f"/{self.total}" if self.total else ""
        return f"{self.desc}: {self.n}{of} {self.unit}{frac} {elapsed:.1f} s"

    def update(self, k: int = 1) -> None:
        self.n += k
        if not self.enabled:
            return
        now = time.monotonic()
        step = max(1, int(LINE_FRACTION * self.total)) if self.total else None
        if (step and self.n - self._last_n >= step) or now - self._last_t >= LINE_SECONDS:
            self._emit(now)

    def _emit(self, now: float) -> None:
        print(self._line(), file=self.file, flush=True)
        self._last_t, self._last_n = now, self.n

    def close(self) -> None:
        if self.enabled and self.n != self._last_n:
            self._emit(time.monotonic())

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress(total: int | None = None, desc: str = "", unit: str = "it", **kwargs: Any) -> Any:
    """A progress counter for long work: a tqdm bar on a terminal, :class:`LineProgress`
    otherwise (``PDEBENCH_PROGRESS`` chooses explicitly). Extra keyword arguments go to tqdm."""
    mode = progress_mode(kwargs.get("file"))
    if mode == "bar":
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, **kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k == "file"}
    return LineProgress(total, desc, unit, enabled=mode == "lines", **kwargs)
