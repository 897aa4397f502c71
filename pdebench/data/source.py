"""``DataSource``: what a dataset adapter or generator provides to the harness."""

from __future__ import annotations

import contextlib
import fcntl
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from torch.utils.data import Dataset

from pdebench.data.meta import DatasetMeta


class DataSource(ABC):
    """A dataset the harness can train on.

    Subclasses describe themselves through :attr:`meta`, make their data available in
    :meth:`prepare` (generate and cache, or check a file) and return a map-style dataset of sample
    dicts ``{"x": (C_in, *spatial), "y": (C_out, *spatial)}`` from :meth:`open`.
    """

    #: ``None`` or a dict of :func:`pdebench.data.splits.make_splits` arguments that reproduce
    #: the split used by the dataset's publication.
    published_split: dict | None = None

    @property
    @abstractmethod
    def meta(self) -> DatasetMeta:
        """Shapes, fields, equation and parameters of the dataset."""

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Generate or check the data once per machine (called before :meth:`open`)."""

    @abstractmethod
    def open(self) -> Dataset:
        """A map-style dataset of sample dicts."""

    def closed_form(self, index: int):  # noqa: B027 - optional hook
        """Sample ``index`` at arbitrary points, exactly, when the source knows it in closed
        form (manufactured solutions): ``at(points (N, D) float64) -> {field: (N,)}`` for any of
        its input and output fields; ``None`` (the default) means "interpolate the grid"."""
        return None

    def card(self) -> str:
        """A longer human description (equations, provenance); defaults to the class docstring."""
        return (type(self).__doc__ or "").strip()


@contextlib.contextmanager
def file_lock(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (several jobs generating the same cache entry wait for
    the first one instead of all doing the work)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"pdebench: waiting for another process generating {what} ...", file=sys.stderr)
            t0 = time.monotonic()
            fcntl.flock(fh, fcntl.LOCK_EX)
            print(f"pdebench: ... done after {time.monotonic() - t0:.0f} s", file=sys.stderr)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
