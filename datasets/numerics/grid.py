"""Cell-centred grids: the coordinates every generator stores and evaluates its data on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["cell_centres", "cell_centres_1d"]


def cell_centres_1d(n: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Centres ``lo + (j + 1/2) (hi - lo) / n`` of ``n`` equal cells of ``[lo, hi]``, ``(n,)``
    float64 (for ``[0, 1]``: exactly ``(j + 1/2) / n``)."""
    c = (np.arange(n) + 0.5) / n
    return c if (lo, hi) == (0.0, 1.0) else lo + (hi - lo) * c


def cell_centres(shape: Sequence[int],
                 extent: Sequence[tuple[float, float]] | None = None) -> tuple[np.ndarray, ...]:
    """Cell-centre coordinates of a box, one array of the grid's shape per axis (``ij``
    indexing: ``X[i, j] = x_i``); ``extent`` ``((lo, hi), ...)`` per axis, default the unit box."""
    extent = [(0.0, 1.0)] * len(shape) if extent is None else extent
    axes = [cell_centres_1d(int(n), float(lo), float(hi))
            for n, (lo, hi) in zip(shape, extent, strict=True)]
    return tuple(np.meshgrid(*axes, indexing="ij"))
