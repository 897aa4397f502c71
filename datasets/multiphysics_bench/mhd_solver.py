"""MHD reduced to Shercliff's Hartmann duct problem (Multiphysics Bench, specs C.4): numerics.

Equations (:mod:`pdebench.physics.mhd_acoustic`) on the square cross-section ``[-1, 1]^2`` (lengths
in units of the half-width; the imposed field ``B0`` is along y, so ``y = +-1`` are the Hartmann
walls and ``x = +-1`` the side walls)::

    Lap w + Ha d_y b = -G,    Lap b + Ha d_y w = 0,    w = b = 0 on every wall

(no slip; electrically insulating walls). Discretisation: the cell-centred operator of
:class:`pdebench.datasets.numerics.finite_volume.FiniteVolume` (homogeneous Dirichlet walls) for
``Lap`` on the square of side 2; ``d_y`` the central difference with the same
odd ghost cell (``u_ghost = -u_wall_cell``, wall value 0), i.e. exactly the operators of
:class:`~pdebench.physics.derivatives.FiniteDifference` with ``"dirichlet_zero"``, so a solution's
residual under the shared equation code is round-off everywhere. The coupled ``2 N^2`` block
system ``[[L, Ha D_y], [Ha D_y, L]] [w; b] = [-G; 0]`` is solved directly (SuperLU).

Central differences of the Lorentz coupling stay monotone while the cell Hartmann number
``Ha h / 2 < 1`` (in Elsasser variables ``w +- b`` the system is two advection-diffusion equations
with speed ``Ha``); the generator requires ``Ha h <= 1`` (at least one cell per Hartmann layer of
thickness ``1/Ha``), ``h = 2 / resolution``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from pdebench.datasets.numerics.finite_volume import FiniteVolume
from pdebench.datasets.numerics.grid import cell_centres
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.sparse_direct import direct_solve
from pdebench.datasets.numerics.threads import single_threaded_blas
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.mhd_acoustic import hartmann_residuals, lorentz_force

__all__ = ["MAX_CELL_HA", "cell_centres_duct", "d_y", "forcing_maps", "generate_mhd",
           "hartmann_profile", "solve_hartmann"]

#: Largest allowed ``Ha * h`` (cells per Hartmann layer >= 1 / MAX_CELL_HA).
MAX_CELL_HA = 1.0
#: Self-check tolerance of the relative momentum and induction residuals (round-off).
SELF_CHECK_TOL = 1e-8
#: The duct's cross-section.
EXTENT = ((-1.0, 1.0), (-1.0, 1.0))


def cell_centres_duct(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre coordinates ``(X, Y)``, each ``(n, n)``, of ``[-1, 1]^2``."""
    return cell_centres((n, n), EXTENT)


def d_y(shape: tuple[int, int], h: float) -> sp.csr_matrix:
    """Central ``d/dy`` (axis 1) with zero wall values (odd ghost cells), ``(H*W, H*W)``."""
    hgt, wid = shape
    main = np.zeros(shape)
    main[:, 0], main[:, -1] = 1.0, -1.0  # ghost -u_0 at j = -1, -u_{W-1} at j = W
    one = sp.diags([-np.ones(wid - 1), np.ones(wid - 1)], [-1, 1], shape=(wid, wid))
    op = sp.kron(sp.identity(hgt), one) + sp.diags(main.ravel())
    return sp.csr_matrix(op / (2.0 * h))


def _laplacian(n: int) -> sp.csr_matrix:
    return FiniteVolume((n, n), (2.0 / n, 2.0 / n), "dirichlet_zero").natural_matrix(1.0)


def solve_hartmann(g: np.ndarray, ha: float, lap: sp.csr_matrix | None = None,
                   dy: sp.csr_matrix | None = None, s: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Solve the coupled system for one forcing map.

    Parameters
    ----------
    g : numpy.ndarray
        Forcing ``G``, ``(n, n)`` at cell centres of ``[-1, 1]^2``.
    ha : float
        Hartmann number (>= 0).
    lap, dy : scipy.sparse matrix, optional
        Precomputed operators of the grid.
    s : numpy.ndarray, optional
        Induction source ``(n, n)`` (manufactured solutions only).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``w`` and ``b``, each ``(n, n)`` float64.
    """
    n = g.shape[0]
    lap = _laplacian(n) if lap is None else lap
    dy = d_y((n, n), 2.0 / n) if dy is None else dy
    block = sp.bmat([[lap, ha * dy], [ha * dy, lap]], format="csr")
    rhs = np.concatenate([-g.ravel(), np.zeros(n * n) if s is None else -s.ravel()])
    sol = direct_solve(block, rhs, (2, n, n))
    return sol[0], sol[1]


def hartmann_profile(y: np.ndarray, ha: float, g: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Classical 1D Hartmann flow between insulating walls ``y = +-1`` (``Ha > 0``).

    ``w = G/Ha (cosh Ha - cosh Ha y) / sinh Ha``, ``b = G/Ha (sinh Ha y / sinh Ha - y)``.
    """
    w = g / ha * (np.cosh(ha) - np.cosh(ha * y)) / np.sinh(ha)
    b = g / ha * (np.sinh(ha * y) / np.sinh(ha) - y)
    return w, b


def forcing_maps(n_samples: int, n: int, rng: np.random.Generator, g0: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample forcing maps ``(N, n, n)`` and Hartmann-number fractions ``(N,)`` in [0, 1).

    ``G = g0 (1 + sum_{m=1}^3 a_m exp(-|x - c_m|^2 / (2 s_m^2)))`` with ``a_m`` in [-0.5, 1],
    ``c_m`` in ``[-0.7, 0.7]^2`` and ``s_m`` in [0.15, 0.4].
    """
    x, y = cell_centres_duct(n)
    out = np.empty((n_samples, n, n))
    frac = np.empty(n_samples)
    for i in range(n_samples):
        field = np.ones((n, n))
        for _ in range(3):
            a = -0.5 + 1.5 * rng.random()
            cx, cy = -0.7 + 1.4 * rng.random(2)
            sd = 0.15 + 0.25 * rng.random()
            field += a * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sd * sd))
        out[i] = g0 * field
        frac[i] = rng.random()
    return out, frac


def generate_mhd(n_samples: int, resolution: int = 64, ha_min: float = 1.0,
                 ha_max: float = 20.0, g0: float = 1.0, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Generate ``n_samples`` (forcing, Ha) -> (w, b, Lorentz force) pairs.

    Parameters are validated by the caller. Returns ``G``, ``Ha`` (N, n, n) float32 inputs,
    ``w``, ``b``, ``F`` (N, n, n) float32 outputs, ``ha`` (N,) float64, ``residual``, ``solver``.
    """
    n = resolution
    h = 2.0 / n
    g, frac = forcing_maps(n_samples, n, np.random.default_rng(seed), g0)
    has = ha_min + (ha_max - ha_min) * frac
    lap, dy = _laplacian(n), d_y((n, n), h)
    w_out, b_out = np.empty((n_samples, n, n)), np.empty((n_samples, n, n))
    with single_threaded_blas():
        for i in range(n_samples):
            w_out[i], b_out[i] = solve_hartmann(g[i], float(has[i]), lap, dy)
            if progress is not None:
                progress(i + 1, n_samples)
    d = FiniteDifference((h, h))
    wt, bt, gt = (torch.from_numpy(a) for a in (w_out, b_out, g))
    hat = torch.from_numpy(has)[:, None, None]
    mom, ind = hartmann_residuals(wt, bt, hat, gt, d)
    force = lorentz_force(bt, hat, d)
    scale = gt.abs().amax(dim=(1, 2))
    mom_rel = mom.abs().amax(dim=(1, 2)) / scale
    ind_rel = ind.abs().amax(dim=(1, 2)) / scale
    residual = self_check(
        "mhd",
        "shared equations (pdebench.physics.mhd_acoustic, finite differences, dirichlet_zero) on "
        "all cells: max |Lap w + Ha b_y + G| / max |G| and max |Lap b + Ha w_y| / max |G|",
        {"momentum_rel_max": mom_rel.max().item(), "induction_rel_max": ind_rel.max().item()},
        {"momentum_rel_max": SELF_CHECK_TOL, "induction_rel_max": SELF_CHECK_TOL})
    solver = {"method": "cell-centred finite volumes, central d_y, coupled block system, "
                        "SuperLU (MMD_AT_PLUS_A)", "grid": "cell_centered", "resolution": [n, n],
              "walls": "no-slip, electrically insulating (w = b = 0)", "seed": seed,
              "cell_hartmann_max": float(has.max() * h)}
    return {"G": g.astype(np.float32),
            "Ha": np.broadcast_to(has[:, None, None], g.shape).astype(np.float32),
            "w": w_out.astype(np.float32), "b": b_out.astype(np.float32),
            "F": force.numpy().astype(np.float32), "ha": has,
            "residual": residual, "solver": solver}
