"""Acoustic scattering by a rigid disc in a variable-density medium (specs C.5): numerics.

Equation (:mod:`pdebench.physics.mhd_acoustic`) on the unit square, time factor ``exp(+i omega t)``
(the convention of :mod:`pdebench.datasets.multiphysics_bench.te_heat_solver`)::

    div(inv_rho grad p) + omega^2 / kappa p = 0   in the fluid,   d_n p = 0 on the disc

with ``kappa = 1`` and ``inv_rho = 1 / rho = 1`` near the walls, so the background wavenumber is
``k = omega``. Incident plane wave ``p_inc = exp(-i omega (x cos th + y sin th))``; the scattered
field obeys the first-order absorbing condition ``d_n p_s + i omega p_s = 0`` on every wall (Robin
data of :func:`pdebench.datasets.multiphysics_bench.te_heat_solver.helmholtz_bcs`).

Rigid disc, immersed by a mask: a cell whose centre lies in the disc is solid. The rigid body is
the limit ``rho -> inf``, so its input map has ``inv_rho = 0``; the solver floors it at
:data:`INV_RHO_SOLID` (1e-12), for which the harmonic-mean face coefficient of every fluid-solid
face is ``~2e-12``: no flux, i.e. ``d_n p = 0`` on the staircase boundary of the solid cells. The
operator is :func:`pdebench.datasets.numerics.finite_volume.assemble_fv` on every cell; solid
cells are then removed from the system (their couplings to the fluid, ``~1e-12``, dropped) and
hold ``p = 0``. The staircase moves the wall by up to ``h / 2`` and turns the normal: the
scattered field is first-order accurate in ``h`` near the disc (measured in the tests); without
the disc the scheme is second order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from pdebench.datasets.multiphysics_bench.te_heat_solver import helmholtz_bcs
from pdebench.datasets.numerics.finite_volume import assemble_fv
from pdebench.datasets.numerics.grid import cell_centres
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.sparse_direct import direct_solve
from pdebench.datasets.numerics.threads import single_threaded_blas
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.electrothermal import interior
from pdebench.physics.mhd_acoustic import acoustic_residual

__all__ = ["INV_RHO_MAX", "INV_RHO_MIN", "INV_RHO_SOLID", "MIN_PPW", "SELF_CHECK_TOL",
           "generate_acoustic", "sample_media", "solve_acoustic"]

#: ``1 / rho`` used in the solver for solid (rigid) cells.
INV_RHO_SOLID = 1e-12
#: Self-check tolerance of the relative Helmholtz residual (round-off).
SELF_CHECK_TOL = 1e-8
#: Range of the fluid's ``1 / rho`` (background 1); the shortest wavelength is at the minimum.
INV_RHO_MIN, INV_RHO_MAX = 0.5, 2.0
#: Cells per (shortest) wavelength below which the grid is too coarse.
MIN_PPW = 8.0


def _bump(x: np.ndarray, y: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    """Compact C^2 bump ``(1 - d^2/r^2)^3`` for ``d < r``, else 0."""
    q = np.clip(1.0 - ((x - cx) ** 2 + (y - cy) ** 2) / (r * r), 0.0, None)
    return q**3


def sample_media(n: int, shape: tuple[int, int], rng: np.random.Generator,
                 radius: tuple[float, float] = (0.06, 0.14)
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Density maps and discs, sample by sample.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        ``inv_rho`` ``(n, H, W)`` (fluid values in [0.5, 2], exactly 1 within 0.05 of the walls,
        0 in the disc), ``solid`` ``(n, H, W)`` bool, ``discs`` ``(n, 3)`` (centre x, y, radius).
    """
    x, y = cell_centres(shape)
    inv_rho, solid = np.ones((n, *shape)), np.zeros((n, *shape), dtype=bool)
    discs = np.empty((n, 3))
    for i in range(n):
        cx, cy = 0.3 + 0.4 * rng.random(2)
        r = radius[0] + (radius[1] - radius[0]) * rng.random()
        field = np.ones(shape)
        for _ in range(2):
            bx, by = 0.3 + 0.4 * rng.random(2)
            br = 0.1 + 0.15 * rng.random()
            amp = -0.5 + 1.5 * rng.random()  # 1 + amp in [0.5, 2]
            field += amp * _bump(x, y, bx, by, br)
        field = np.clip(field, INV_RHO_MIN, INV_RHO_MAX)
        inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        field[inside] = 0.0
        inv_rho[i], solid[i], discs[i] = field, inside, (cx, cy, r)
    return inv_rho, solid, discs


def solve_acoustic(inv_rho: np.ndarray, solid: np.ndarray, omega: float, theta: float = 0.0,
                   source: np.ndarray | None = None, bcs: dict | None = None) -> np.ndarray:
    """Total pressure ``p`` ``(H, W)`` complex for one medium.

    Parameters
    ----------
    inv_rho : numpy.ndarray
        ``1 / rho`` ``(H, W)``, > 0 in the fluid (solid cells are floored at INV_RHO_SOLID).
    solid : numpy.ndarray
        ``(H, W)`` bool, the rigid obstacle's cells (``p = 0`` there).
    omega, theta : float
        Angular frequency (= background wavenumber) and incidence angle.
    source : numpy.ndarray, optional
        Complex ``f`` ``(H, W)`` (manufactured solutions).
    bcs : dict, optional
        Wall conditions; default the absorbing Robin data of the incident wave.
    """
    shape = inv_rho.shape
    coef = np.where(solid, INV_RHO_SOLID, inv_rho)
    bcs = helmholtz_bcs(shape, omega, theta) if bcs is None else bcs
    a, b = assemble_fv(coef, shape, bcs)
    a = a + sp.diags(np.full(a.shape[0], omega * omega))
    rhs = -b.astype(complex) - (0.0 if source is None else source.ravel())
    if not solid.any():
        return direct_solve(a, rhs, shape)
    fluid = ~solid.ravel()
    p = np.zeros(a.shape[0], dtype=complex)
    p[fluid] = direct_solve(a[fluid][:, fluid], rhs[fluid], (int(fluid.sum()),))
    return p.reshape(shape)


def generate_acoustic(n_samples: int, resolution: int = 64, omega: float = 4 * np.pi,
                      theta: float = 0.0, seed: int = 0,
                      progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Generate ``n_samples`` (medium, disc) -> pressure pairs; parameters validated by the caller.

    Returns
    -------
    dict
        ``inv_rho``, ``mask`` (N, H, W) float32 inputs; ``p_re``, ``p_im``, ``p_abs`` (N, H, W)
        float32 outputs; ``discs`` (N, 3); ``residual`` and ``solver`` dicts.
    """
    shape = (resolution, resolution)
    inv_rho, solid, discs = sample_media(n_samples, shape, np.random.default_rng(seed))
    bcs = helmholtz_bcs(shape, omega, theta)
    p = np.empty((n_samples, *shape), dtype=complex)
    with single_threaded_blas():
        for i in range(n_samples):
            p[i] = solve_acoustic(inv_rho[i], solid[i], omega, theta, bcs=bcs)
            if progress is not None:
                progress(i + 1, n_samples)
    d = FiniteDifference((1.0 / resolution,) * 2)
    coef = torch.from_numpy(np.where(solid, INV_RHO_SOLID, inv_rho))
    re, im = acoustic_residual(torch.from_numpy(p.real.copy()), torch.from_numpy(p.imag.copy()),
                               coef, 1.0, omega, d)
    rel = (interior(re).abs().amax(dim=(1, 2)) + interior(im).abs().amax(dim=(1, 2))) / omega**2
    residual = self_check(
        "va",
        "shared equation (pdebench.physics.mhd_acoustic, finite differences) on interior cells, "
        "solid cells at inv_rho = 1e-12: max |div(inv_rho grad p) + omega^2 p| / omega^2 "
        "(|p_inc| = 1)",
        {"helmholtz_rel_max": rel.max().item()}, {"helmholtz_rel_max": SELF_CHECK_TOL})
    solver = {"method": "cell-centred finite volumes, harmonic-mean faces, complex Robin "
                        "absorbing walls, rigid disc by a staircase mask (zero-flux faces), "
                        "SuperLU (MMD_AT_PLUS_A)", "grid": "cell_centered", "resolution": list(shape),
              "time_convention": "exp(+i omega t)", "inv_rho_solid": INV_RHO_SOLID,
              "seed": seed}
    return {"inv_rho": inv_rho.astype(np.float32), "mask": solid.astype(np.float32),
            "p_re": p.real.astype(np.float32), "p_im": p.imag.astype(np.float32),
            "p_abs": np.abs(p).astype(np.float32), "discs": discs,
            "residual": residual, "solver": solver}
