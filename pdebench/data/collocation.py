"""Collocation points for physics-informed training, from DeepXDE's geometries and samplers.

A :class:`Collocation` describes where a PINN's loss is evaluated: the domain (a box from the
dataset's extent, optionally with holes cut out by DeepXDE's constructive geometry: discs and
polygons), a time interval for space-time problems, the sampler and the number of points per
region (interior, each wall, the initial time). :meth:`Collocation.sample` draws one set; a
system redraws it every ``resample_every`` steps with a new seed.

Samplers are DeepXDE's (``"pseudo"`` = uniform random, ``"LHS"``, ``"Halton"``,
``"Hammersley"``, ``"Sobol"``), plus ``"uniform"`` (DeepXDE's ``uniform_points``: a regular
lattice, whose size is the nearest lattice to the requested count, so counts are approximate).
Sampling never touches the global random generators a run's seed set. Walls are sampled as their own lower-dimensional geometry (an interval, a rectangle, or
that times the time interval) with the same sampler, so every wall gets its configured count and
its outward normal is known exactly.
"""

from __future__ import annotations

import contextlib
import random
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from pdebench._deepxde import deepxde

__all__ = ["SAMPLERS", "Collocation", "CollocationError", "PointSet"]

#: ``sampler`` values: DeepXDE's random samplers and its regular lattice.
SAMPLERS = ("uniform", "pseudo", "LHS", "Halton", "Hammersley", "Sobol")
_SIDES = ("x_lo", "x_hi", "y_lo", "y_hi", "z_lo", "z_hi")


class CollocationError(ValueError):
    """A collocation setting that cannot give points (no interior left, unknown sampler...)."""


@dataclass
class PointSet:
    """One draw of collocation points (float64 arrays, columns: space, then time).

    Attributes
    ----------
    interior : ndarray (N, D[+1])
    walls : dict side -> ndarray (N_w, D[+1])
        Points on each wall of the box (``x_lo`` ... ``z_hi``), holes' points removed.
    initial : ndarray (N_0, D + 1) or None
        Points at the initial time.
    """

    interior: np.ndarray
    walls: dict[str, np.ndarray] = field(default_factory=dict)
    initial: np.ndarray | None = None


def _box(dde, lo: Sequence[float], hi: Sequence[float]):
    if len(lo) == 1:
        return dde.geometry.Interval(lo[0], hi[0])
    if len(lo) == 2:
        return dde.geometry.Rectangle(list(lo), list(hi))
    return dde.geometry.Cuboid(list(lo), list(hi))


def _hole(dde, spec: Mapping[str, Any]):
    where = "system.collocation.holes"
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise CollocationError(f"{where}: each hole is one of {{disk: {{center, radius}}}} or "
                               f"{{polygon: [[x, y], ...]}}, got {spec!r}")
    (kind, arg), = spec.items()
    if kind == "disk":
        missing = [k for k in ("center", "radius") if not isinstance(arg, Mapping) or k not in arg]
        if missing:
            raise CollocationError(f"{where}: a disk needs {' and '.join(missing)}, got {arg!r}")
        radius = float(arg["radius"])
        if radius <= 0:
            raise CollocationError(f"{where}: disk radius must be > 0, got {radius}")
        return dde.geometry.Disk(list(map(float, arg["center"])), radius)
    if kind == "polygon":
        vertices = [list(map(float, v)) for v in arg]
        if len(vertices) < 3 or any(len(v) != 2 for v in vertices):
            raise CollocationError(f"{where}: a polygon needs >= 3 vertices [x, y], got {arg!r}")
        if len(vertices) == 3:
            return dde.geometry.Triangle(*vertices)
        if dde.geometry.Rectangle.is_valid(np.asarray(vertices)):
            v = np.asarray(vertices)
            return dde.geometry.Rectangle(v.min(axis=0).tolist(), v.max(axis=0).tolist())
        try:
            return dde.geometry.Polygon(vertices)
        except ValueError as exc:  # DeepXDE: not a simple polygon ...
            raise CollocationError(f"{where}: polygon {arg!r}: {exc}") from None
    raise CollocationError(f"{where}: unknown shape {kind!r}; valid: disk, polygon")


@contextlib.contextmanager
def _own_random_state():
    """DeepXDE's samplers draw from the global Python, NumPy and torch generators (and
    ``set_random_seed`` reseeds all three): keep a run's own random streams untouched."""
    state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])
        torch.set_rng_state(state[2])


class Collocation:
    """Where the loss of a physics-informed run is evaluated.

    Parameters
    ----------
    extent : sequence of (lo, hi)
        The spatial box, one pair per dimension.
    time : (t0, t1), optional
        Time interval of a space-time problem.
    sampler : str
        One of :data:`SAMPLERS`.
    n_interior, n_boundary, n_initial : int
        Points in the interior (>= 1), on each wall, at the initial time.
    holes : sequence of mappings
        Shapes cut out of a 2D box by DeepXDE's constructive geometry (``{"disk": {"center":
        [x, y], "radius": r}}``, ``{"polygon": [[x, y], ...]}``).
    """

    def __init__(self, extent: Sequence[Sequence[float]], time: Sequence[float] | None = None,
                 sampler: str = "Sobol", n_interior: int = 2000, n_boundary: int = 200,
                 n_initial: int = 200, holes: Sequence[Mapping[str, Any]] = ()) -> None:
        if sampler not in SAMPLERS:
            raise CollocationError(f"system.collocation.sampler={sampler!r} is unknown; "
                                   f"valid: {', '.join(SAMPLERS)}")
        for key, value, least in (("n_interior", n_interior, 1), ("n_boundary", n_boundary, 0),
                                  ("n_initial", n_initial, 0)):
            if isinstance(value, bool) or int(value) != value or value < least:
                raise CollocationError(f"system.collocation.{key} must be an integer >= "
                                       f"{least}, got {value!r}")
        self.extent = [tuple(map(float, e)) for e in extent]
        self.time = None if time is None else tuple(map(float, time))
        self.sampler = sampler
        self.n_interior, self.n_boundary, self.n_initial = \
            int(n_interior), int(n_boundary), int(n_initial)
        dde = deepxde()
        lo, hi = [e[0] for e in self.extent], [e[1] for e in self.extent]
        self.box = self.space = _box(dde, lo, hi)
        if holes:
            if len(self.extent) != 2:
                raise CollocationError("system.collocation.holes are supported in 2D only")
            for spec in holes:
                self.space = self.space - _hole(dde, spec)
        self.holes = [dict(h) for h in holes]
        self._check_interior()

    def _check_interior(self) -> None:
        lo, hi = (np.array([e[k] for e in self.extent]) for k in (0, 1))
        probe = lo + (hi - lo) * np.random.default_rng(0).random((4096, len(lo)))
        if not np.any(self.space.inside(probe)):
            raise CollocationError("the collocation geometry has no interior points (the holes "
                                   "cover the whole domain); make them smaller")

    # --- sampling ----------------------------------------------------------------------------
    def _space_points(self, geom, n: int, seed: int) -> np.ndarray:
        if n == 0:
            return np.zeros((0, geom.dim))
        if self.sampler == "uniform":
            return np.asarray(geom.uniform_points(n, boundary=False), dtype=np.float64)
        return self._draw(geom, n, seed, self.box if geom is self.space and self.holes else None)

    def _draw(self, geom, n: int, seed: int, box=None) -> np.ndarray:
        """``n`` points of ``geom`` from the sampler.

        The quasi-random sequences are deterministic, so a redraw (``seed > 0``) shifts them by a
        random offset modulo the box (a Cranley-Patterson rotation: still low-discrepancy, new
        points). A domain with holes is sampled as its box (``box``: the box geometry, times the
        time interval) and the points inside a hole are dropped, drawing more until ``n`` remain.
        """
        target = geom if box is None else box
        lo, hi = self._bounds(target)
        want = n
        with _own_random_state(), warnings.catch_warnings():
            # skopt: "Sobol' points require n to be a power of 2"
            warnings.simplefilter("ignore", UserWarning)
            deepxde().config.set_random_seed(seed)
            for _ in range(12):
                pts = np.asarray(target.random_points(want, random=self.sampler),
                                 dtype=np.float64)
                if seed and self.sampler != "pseudo" and pts.size:
                    shift = np.random.default_rng(seed).random(pts.shape[1]) * (hi - lo)
                    pts = lo + np.mod(pts - lo + shift, hi - lo)
                if box is None:
                    return pts
                kept = pts[np.asarray(self.space.inside(pts[:, : len(self.extent)]), bool)]
                if len(kept) >= n:
                    return kept[:n]
                want *= 2
        raise CollocationError(f"could not draw {n} points inside the collocation geometry "
                               "(the holes leave too little of the domain)")

    @staticmethod
    def _bounds(geom) -> tuple[np.ndarray, np.ndarray]:
        if hasattr(geom, "timedomain"):  # box x time
            lo = np.append(geom.geometry.bbox[0], geom.timedomain.t0)
            hi = np.append(geom.geometry.bbox[1], geom.timedomain.t1)
            return lo.astype(np.float64), hi.astype(np.float64)
        return tuple(np.asarray(b, dtype=np.float64) for b in geom.bbox)

    def _space_time_points(self, n: int, seed: int) -> np.ndarray:
        if self.time is None:
            return self._space_points(self.space, n, seed)
        dde = deepxde()
        geom = dde.geometry.GeometryXTime(self.space, dde.geometry.TimeDomain(*self.time))
        if self.sampler == "uniform":
            return np.asarray(geom.uniform_points(n, boundary=False), dtype=np.float64)
        box = None
        if self.holes:
            box = dde.geometry.GeometryXTime(self.box, dde.geometry.TimeDomain(*self.time))
        return self._draw(geom, n, seed, box)

    def _wall(self, side: str, seed: int) -> np.ndarray:
        """Points on one wall of the box (the wall's own geometry, times the time interval)."""
        dim, upper = divmod(_SIDES.index(side), 2)
        value = self.extent[dim][upper]
        others = [e for k, e in enumerate(self.extent) if k != dim]
        ranges = others + ([self.time] if self.time is not None else [])
        n = self.n_boundary
        if n == 0:
            return np.zeros((0, len(self.extent) + (self.time is not None)))
        if ranges:
            dde = deepxde()
            face = _box(dde, [r[0] for r in ranges], [r[1] for r in ranges])
            pts = self._space_points(face, n, seed)
        else:  # the wall of a 1D steady problem is one point
            pts = np.zeros((1, 0))
        space = np.insert(pts[:, : len(others)], dim, value, axis=1)
        out = np.concatenate([space, pts[:, len(others):]], axis=1)
        if self.holes:
            inside = np.asarray(self.space.inside(out[:, : len(self.extent)]), dtype=bool)
            out = out[inside]
        return out

    def sample(self, seed: int = 0, sides: Sequence[str] | None = None) -> PointSet:
        """Draw interior, wall and initial points (``sides``: the walls wanted, default all)."""
        sides = list(_SIDES[: 2 * len(self.extent)] if sides is None else sides)
        interior = self._space_time_points(self.n_interior, seed)
        walls = {s: self._wall(s, seed + 1 + k) for k, s in enumerate(sides)}
        initial = None
        if self.time is not None and self.n_initial:
            space = self._space_points(self.space, self.n_initial, seed + 17)
            initial = np.concatenate([space, np.full((len(space), 1), self.time[0])], axis=1)
        return PointSet(interior, walls, initial)

    def candidates(self, n: int, seed: int) -> np.ndarray:
        """``n`` interior candidates (residual-based refinement picks among them)."""
        return self._space_time_points(n, seed)
