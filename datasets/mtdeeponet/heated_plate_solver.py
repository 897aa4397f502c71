"""Numerics of the 3D heated plate with holes (MT-DeepONet, specs/PROBLEMS.md B.3).

Published: steady conduction ``-div(k grad T) = q`` on a voxel grid, 2--9 holes on a line at a
position parameter in [0.9, 1.6], branch input (number of holes, position), mask = solid voxels,
24 training and 40 test geometries. Everything else is the harness's concrete reading:

- plate ``[0, 2] x [0, 1] x [0, 0.5]`` (x, y, z), conductivity ``k = 1``;
- ``n`` cylindrical holes through the whole thickness (axis along z), radius ``hole_radius``
  (0.09), centres ``(2 (i + 1/2) / n, p / 2)``, ``i = 0..n-1``: equally spaced along x on the line
  ``y = p / 2`` (so ``p`` in [0.9, 1.6] moves the row from just below the middle, ``y = 0.45``,
  towards the edge ``y = 1``, at ``y = 0.8``);
- ``T = 0`` on the four side faces (x = 0, 2 and y = 0, 1); the hole surfaces and the top face are
  insulated; heat enters through the bottom face z = 0 with a uniform flux ``q`` (1) into the solid
  (``heating="bottom_face"``, default: the field then varies through the thickness) or is released
  uniformly in the solid (``heating="volume"``, source ``q``: the field is then independent of z);
- the published 24 training geometries read as 8 hole counts (2..9) x 3 positions (0.9, 1.25,
  1.6), the 40 test geometries as 8 hole counts x 5 positions drawn uniformly from [0.9, 1.6]
  (seeded, per hole count). The test geometries come first in the file, so ``split.mode =
  published`` takes them as the test set.

Voxels: ``resolution = (nx, ny, nz)`` cells (default 64 x 32 x 8: cells 1/32 x 1/32 x 1/16, a
hole about 6 cells across; 32 x 16 x 8 cannot hold nine holes of radius 0.09), a voxel is solid
when its centre lies outside every hole. The grid must hold the holes: the cell width at most
the radius (a hole spans >= 2 cells), at least one solid cell between neighbouring holes and
between a hole and the edge y = 1; otherwise ValueError.

Discretisation: :class:`pdebench.datasets.numerics.finite_volume.FiniteVolume` in 3D (seven-point
finite volumes on the solid voxels, Dirichlet sides by ghost values, no flux through top, bottom
and hole faces; the bottom heat flux enters as the source ``q / h_z`` in the bottom layer of solid
cells, which is exactly its finite-volume balance). Second order on a plate without holes
(manufactured solution in ``tests/test_mtdeeponet.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy

from pdebench.datasets.numerics.finite_volume import FiniteVolume
from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.validation import (
    check_choice,
    check_int,
    check_range,
    check_real,
    check_resolution,
    check_seed,
)

__all__ = [
    "BOX_BC",
    "EXTENT",
    "HEATING",
    "HOLE_RANGE",
    "POSITION_RANGE",
    "SELF_CHECK_TOL",
    "check_parameters",
    "generate_heated_plate",
    "geometries",
    "plate_mask",
    "plate_source",
]

EXTENT = ((0.0, 2.0), (0.0, 1.0), (0.0, 0.5))
#: Outer faces: T = 0 on the sides (x, y), insulated top and bottom (z; the bottom's heat flux is
#: a source in its cells).
BOX_BC = ("dirichlet_zero", "dirichlet_zero", "neumann_zero")
HOLE_RANGE = (2, 9)
POSITION_RANGE = (0.9, 1.6)
HEATING = ("bottom_face", "volume")
#: Relative residual above which the self-check fails (round-off is ~1e-13).
SELF_CHECK_TOL = 1e-8


def _spacing(resolution: Sequence[int]) -> tuple[float, float, float]:
    return tuple((hi - lo) / n for (lo, hi), n in zip(EXTENT, resolution, strict=True))


def _resolution(resolution: Any) -> tuple[int, int, int]:
    """``(nx, ny, nz)`` ints >= 4, or ValueError."""
    return check_resolution("resolution", resolution, 3, 4, " (nx, ny, nz)", scalar=False)


def check_geometry(n_holes: int, position: float, hole_radius: float,
                   resolution: Sequence[int], names: tuple[str, str] = ("n_holes", "position")
                   ) -> None:
    """ValueError unless the hole count and position are in range and the grid holds the holes.

    ``names`` are the options the two values come from, for the messages.
    """
    check_range(names[0], n_holes, *HOLE_RANGE, integer=True, why=" (number of holes)")
    check_range(names[1], position, *POSITION_RANGE, why=" (hole position p)")
    hx, hy, _ = _spacing(resolution)
    r = float(hole_radius)
    gap = 2.0 / n_holes - 2.0 * r
    edge = 1.0 - (position / 2.0 + r)
    if max(hx, hy) > r or gap < hx or edge < hy:
        raise ValueError(
            f"resolution {tuple(resolution)} is too coarse for {n_holes} holes of radius {r:g} at "
            f"p = {position:g}: need cell widths <= the radius (have {hx:g}, {hy:g}), a gap of "
            f">= one cell between holes (gap {gap:.3g}, cell {hx:g}) and between the holes and "
            f"the edge y = 1 ({edge:.3g}, cell {hy:g}); refine the grid or reduce the hole count")


def plate_mask(n_holes: int, position: float, hole_radius: float,
               resolution: Sequence[int]) -> np.ndarray:
    """Solid voxels, bool ``(nx, ny, nz)``: cell centres outside every hole."""
    res = _resolution(resolution)
    check_geometry(n_holes, position, hole_radius, res)
    xc = cell_centres_1d(res[0], *EXTENT[0])
    yc = cell_centres_1d(res[1], *EXTENT[1])
    centres = 2.0 * (np.arange(n_holes) + 0.5) / n_holes
    d2 = (xc[:, None, None] - centres[None, None, :]) ** 2 + (yc[None, :, None] - position / 2) ** 2
    solid = (d2 >= hole_radius**2).all(axis=-1)
    return np.broadcast_to(solid[:, :, None], res).copy()


def plate_source(mask: np.ndarray, q: float, heating: str) -> np.ndarray:
    """Volumetric source of the finite-volume balance, ``(nx, ny, nz)``, 0 in the holes."""
    check_choice("heating", heating, HEATING)
    if heating == "volume":
        return np.where(mask, q, 0.0)
    hz = _spacing(mask.shape)[2]
    out = np.zeros(mask.shape)
    out[:, :, 0] = np.where(mask[:, :, 0], q / hz, 0.0)
    return out


def geometries(holes: Sequence[int], train_positions: Sequence[float], n_test_positions: int,
               seed: int) -> list[tuple[str, int, float]]:
    """``(subset, n_holes, p)`` of every sample: the test geometries first, then the training ones.

    Test: per hole count (in ``holes`` order) ``n_test_positions`` positions drawn uniformly from
    :data:`POSITION_RANGE` with ``numpy.random.default_rng(seed)``. Training: every hole count
    with every ``train_positions`` entry.
    """
    rng = np.random.default_rng(seed)
    test = [("test", int(n), float(p)) for n in holes
            for p in rng.uniform(*POSITION_RANGE, size=n_test_positions)]
    train = [("train", int(n), float(p)) for n in holes for p in train_positions]
    return test + train


def check_parameters(resolution: Sequence[int] = (64, 32, 8),
                     holes: Sequence[int] = tuple(range(2, 10)),
                     train_positions: Sequence[float] = (0.9, 1.25, 1.6),
                     n_test_positions: int = 5, hole_radius: float = 0.09,
                     heating: str = "bottom_face", q: float = 1.0, conductivity: float = 1.0,
                     seed: int = 0) -> dict[str, Any]:
    """Validate the arguments of :func:`generate_heated_plate` (ValueError naming the offending
    one; every geometry is checked against the grid) and return them normalised (JSON-able)."""
    res = _resolution(resolution)
    for name, v in (("holes", holes), ("train_positions", train_positions)):
        if isinstance(v, str | bytes) or not hasattr(v, "__len__") or not len(v):
            raise ValueError(f"data.{name} must be a non-empty list, got {v!r}")
    n_test_positions = check_int("n_test_positions", n_test_positions, 0)
    hole_radius = check_real("hole_radius", hole_radius, positive=True)
    q = check_real("q", q, positive=True)
    conductivity = check_real("conductivity", conductivity, positive=True)
    check_choice("heating", heating, HEATING)
    seed = check_seed(seed)
    for i, n in enumerate(holes):  # every geometry, before any solve (test positions in range)
        for j, p in enumerate(train_positions):
            check_geometry(n, p, hole_radius, res, (f"holes[{i}]", f"train_positions[{j}]"))
        for p in POSITION_RANGE if n_test_positions else ():
            check_geometry(n, p, hole_radius, res, (f"holes[{i}]", "position"))
    return {"resolution": list(res), "holes": [int(n) for n in holes],
            "train_positions": [float(v) for v in train_positions],
            "n_test_positions": int(n_test_positions), "hole_radius": float(hole_radius),
            "heating": heating, "q": float(q), "conductivity": float(conductivity),
            "seed": int(seed)}


def generate_heated_plate(resolution: Sequence[int] = (64, 32, 8),
                          holes: Sequence[int] = tuple(range(2, 10)),
                          train_positions: Sequence[float] = (0.9, 1.25, 1.6),
                          n_test_positions: int = 5, hole_radius: float = 0.09,
                          heating: str = "bottom_face", q: float = 1.0, conductivity: float = 1.0,
                          seed: int = 0, progress: Callable[[int, int], None] | None = None
                          ) -> dict[str, Any]:
    """Solve the plate for every geometry of :func:`geometries`.

    Parameters
    ----------
    resolution : (int, int, int)
        Voxels along x, y, z (>= 4 each; default 64 x 32 x 8).
    holes : sequence of int
        Hole counts, each in [2, 9] (published: 2..9).
    train_positions : sequence of float
        Training positions ``p``, each in [0.9, 1.6].
    n_test_positions : int
        Random test positions per hole count (>= 0; 5 gives the published 40 test geometries).
    hole_radius : float
        Radius of the holes (> 0).
    heating : {"bottom_face", "volume"}
        Heat flux ``q`` through the bottom face, or source ``q`` in the solid.
    q, conductivity : float
        Heating strength and ``k`` (> 0).
    seed : int
        Seed of the test positions (>= 0).
    progress : callable, optional
        ``progress(done, total)``.

    Returns
    -------
    dict
        ``x`` (N, 3, nx, ny, nz) float32, channels ``[n_holes, position, mask]`` (the branch
        inputs as constant channels, the solid mask); ``y`` (N, 1, nx, ny, nz) float32, ``T``
        (0 in the holes); ``geometries`` (N,) ``(subset, n, p)``; ``n_test``, ``n_train``;
        ``residual``, ``solver``.
    """
    p = check_parameters(resolution, holes, train_positions, n_test_positions, hole_radius,
                         heating, q, conductivity, seed)
    res, holes, train_positions = tuple(p["resolution"]), p["holes"], p["train_positions"]
    hole_radius, heating, q, conductivity = (p[k] for k in ("hole_radius", "heating", "q",
                                                            "conductivity"))
    n_test_positions, seed = p["n_test_positions"], p["seed"]

    import torch

    from pdebench.physics.heat import MaskedFiniteDifference, conduction_residual

    geoms = geometries(holes, train_positions, int(n_test_positions), int(seed))
    spacing = _spacing(res)
    volume = math.prod(spacing)
    n = len(geoms)
    x = np.zeros((n, 3, *res), dtype=np.float32)
    y = np.zeros((n, 1, *res), dtype=np.float32)
    rel, balance = np.empty(n), np.empty(n)
    for i, (_, nh, p) in enumerate(geoms):
        mask = plate_mask(nh, p, hole_radius, res)
        src = plate_source(mask, q, heating)
        system = FiniteVolume(res, spacing, BOX_BC, mask=mask, inner_bc="neumann_zero", sign=-1)
        temp = system.solve(float(conductivity), src)
        d = MaskedFiniteDifference(spacing, torch.from_numpy(mask), bc=BOX_BC,
                                   inner_bc="neumann_zero")
        r = conduction_residual(torch.from_numpy(temp)[None], float(conductivity),
                                torch.from_numpy(src)[None], d, torch.from_numpy(mask)[None])
        scale = float(np.sqrt(np.mean(src[mask] ** 2)))
        rel[i] = float(r.square().sum().div(mask.sum()).sqrt()) / scale
        # energy balance: heat released = heat leaving through the T = 0 side faces
        out = 0.0
        for k in (0, 1):
            for idx in (0, -1):
                t_face = np.take(temp, idx, axis=k)
                area = volume / spacing[k]
                out += float(np.sum(2.0 * conductivity * t_face / spacing[k]) * area)
        released = float(src.sum() * volume)
        balance[i] = abs(out - released) / released
        x[i, 0], x[i, 1], x[i, 2] = nh, p, mask
        y[i, 0] = temp
        if progress is not None:
            progress(i + 1, n)
    residual = self_check(
        "heated_plate",
        "RMS over solid voxels of -div(k grad T) - q (pdebench.physics.heat.conduction_residual "
        "with MaskedFiniteDifference: T = 0 sides, insulated top/bottom/holes) divided by the RMS "
        "of q, per geometry; energy_balance: |heat out through the sides - heat released| / heat "
        "released",
        {"rel_rms_max": rel.max(), "energy_balance_rel_max": balance.max()},
        {"rel_rms_max": SELF_CHECK_TOL, "energy_balance_rel_max": SELF_CHECK_TOL},
        expected="round-off (~1e-13): A T - q of the solved system; conservation is exact")
    n_test = sum(1 for s, _, _ in geoms if s == "test")
    solver = {
        "method": "masked_finite_volume_direct_3d",
        "discretisation": "cell-centred seven-point finite volumes on the solid voxels "
                          "(pdebench.datasets.numerics.finite_volume); T = 0 on the x and y faces "
                          "by ghost values; no flux through z faces and hole faces",
        "linear_solver": "scipy.sparse.linalg.splu (SuperLU, symmetric mode, MMD on A^T + A)",
        "order_space": 2,
        "extent": [list(e) for e in EXTENT],
        "resolution": list(res),
        "spacing": list(spacing),
        "hole_radius": float(hole_radius),
        "hole_centres": "x_i = 2 (i + 1/2) / n, y = p / 2, through the thickness",
        "heating": heating,
        "q": float(q),
        "conductivity": float(conductivity),
        "labels": {"subset": [s for s, _, _ in geoms], "n_holes": [g[1] for g in geoms],
                   "position": [g[2] for g in geoms]},
        "n_test": n_test,
        "n_train": n - n_test,
        "seed": int(seed),
        "dtype_solve": "float64",
        "dtype_stored": "float32",
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
    }
    return {"x": x, "y": y, "geometries": geoms, "n_test": n_test, "n_train": n - n_test,
            "residual": residual, "solver": solver}
