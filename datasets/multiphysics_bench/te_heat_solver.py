"""Electro-thermal coupling (Multiphysics Bench problem, specs C.1): numerics.

Dimensionless problem on the unit square (equations in :mod:`pdebench.physics.multiphysics`)::

    Lap E + k0^2 (eps_r - i sigma_t(T)) E = 0,   Lap T + q sigma_t(T) |E|^2 = 0,
    sigma_t(T) = sigma_t0 exp(gamma (1 - 1/T))

with an elliptic semiconductor inclusion (``eps_r``, ``sigma_t0`` > 0 inside; vacuum, 1 and 0,
outside) and, per sample, a random centre, semi-axes and orientation.

Time convention ``exp(+i omega t)`` (the one in which ``eps_r - i sigma_t`` is lossy): the incident
plane wave is ``E_inc = exp(-i k0 (x cos th + y sin th))`` and the scattered field ``E - E_inc``
obeys the first-order absorbing (Robin) condition ``d_n E_s + i k0 E_s = 0`` on every wall, i.e.
``d_n E + i k0 E = d_n E_inc + i k0 E_inc``. (The brief's ``d_n E = i k0 E`` is the same condition
in the ``exp(-i omega t)`` convention; with ``eps_r - i sigma_t`` it must read as here, or the
medium would gain energy.) Heat: ``-d_n T = Bi (T - 1)`` (convective, ambient ``T = 1``).

Coupling: Picard iteration ``T_k -> sigma_t(T_k) -> E_{k+1} -> T_{k+1}`` until
``max |T_{k+1} - T_k| < tol``; a non-finite temperature, a temperature above ``T_MAX`` (thermal
runaway) or no convergence within ``max_iter`` raises :class:`RuntimeError` naming the iteration
and the quantity. Discretisation: :func:`pdebench.datasets.numerics.finite_volume.assemble_fv`
(cell-centred, complex Robin walls), SuperLU
(:func:`pdebench.datasets.numerics.sparse_direct.direct_solve` for the Helmholtz step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from pdebench.datasets.numerics.finite_volume import SIDES, WallBC, assemble_fv
from pdebench.datasets.numerics.grid import cell_centres, cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.sparse_direct import direct_solve
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.electrothermal import interior
from pdebench.physics.multiphysics import helmholtz_residual, joule_heat_residual

__all__ = ["T_MAX", "helmholtz_bcs", "picard_solve", "generate_electro_thermal",
           "sample_inclusions"]

T_MAX = 10.0
#: Self-check tolerance of both relative residuals (they are round-off at the Picard tolerance).
SELF_CHECK_TOL = 1e-6
#: Cells per wavelength (inside the inclusion) below which the grid is too coarse.
MIN_PPW = 8.0


def sample_inclusions(n: int, shape: tuple[int, int], rng: np.random.Generator,
                      eps_range: tuple[float, float] = (2.0, 4.0),
                      sigma_range: tuple[float, float] = (0.2, 1.0)
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Material maps ``eps_r`` and ``sigma_t0``, each ``(n, H, W)`` float64, sample by sample."""
    x, y = cell_centres(shape)
    eps, sig = np.ones((n, *shape)), np.zeros((n, *shape))
    for i in range(n):
        cx, cy = 0.35 + 0.3 * rng.random(2)
        a, b = 0.1 + 0.15 * rng.random(), 0.06 + 0.09 * rng.random()
        th = np.pi * rng.random()
        e = eps_range[0] + (eps_range[1] - eps_range[0]) * rng.random()
        s = sigma_range[0] + (sigma_range[1] - sigma_range[0]) * rng.random()
        xr = (x - cx) * np.cos(th) + (y - cy) * np.sin(th)
        yr = -(x - cx) * np.sin(th) + (y - cy) * np.cos(th)
        inside = (xr / a) ** 2 + (yr / b) ** 2 <= 1.0
        eps[i][inside], sig[i][inside] = e, s
    return eps, sig


def helmholtz_bcs(shape: tuple[int, int], k0: float, theta: float) -> dict[str, WallBC]:
    """Robin data ``d_n E + i k0 E = d_n E_inc + i k0 E_inc`` on the four walls."""
    xs, ys = cell_centres_1d(shape[0]), cell_centres_1d(shape[1])
    kx, ky = k0 * np.cos(theta), k0 * np.sin(theta)

    def inc(x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        return np.exp(-1j * (kx * x + ky * y))

    ik = 1j * k0
    # d_n E_inc = n . grad E_inc = -i (n . k) E_inc
    walls = {"x_lo": (inc(0.0, ys), (-1.0, 0.0)), "x_hi": (inc(1.0, ys), (1.0, 0.0)),
             "y_lo": (inc(xs, 0.0), (0.0, -1.0)), "y_hi": (inc(xs, 1.0), (0.0, 1.0))}
    return {s: WallBC("robin", g=(-1j * (nx * kx + ny * ky) + ik) * e, a=ik)
            for s, (e, (nx, ny)) in walls.items()}


def _heat_bcs(biot: float) -> dict[str, WallBC]:
    return {s: WallBC("robin", g=biot, a=biot) for s in SIDES}


def picard_solve(eps: np.ndarray, sigma0: np.ndarray, k0: float, q: float, gamma: float,
                 biot: float, theta: float = 0.0, tol: float = 1e-9, max_iter: int = 60,
                 lap: tuple[sp.csr_matrix, np.ndarray] | None = None,
                 heat: tuple[Any, np.ndarray] | None = None) -> dict[str, Any]:
    """Solve one sample by Picard iteration; returns ``E`` (complex), ``T``, ``iterations``.

    ``lap`` (Helmholtz Laplacian and its boundary vector) and ``heat`` (an LU of the heat
    Laplacian and its boundary vector) may be passed precomputed for the grid.
    """
    shape = eps.shape
    lap_e, b_e = lap if lap is not None else assemble_fv(1.0, shape,
                                                         helmholtz_bcs(shape, k0, theta))
    if heat is None:
        a_t, b_t = assemble_fv(1.0, shape, _heat_bcs(biot))
        heat = (spla.splu(sp.csc_matrix(a_t)), b_t)
    lu_t, b_t = heat
    temp = np.ones(shape)
    hot = sigma0 > 0
    change = np.inf
    for it in range(1, max_iter + 1):
        sig = np.where(hot, sigma0 * np.exp(gamma * (1.0 - 1.0 / temp)), 0.0)
        a = lap_e + sp.diags((k0 * k0 * (eps - 1j * sig)).ravel())
        field = direct_solve(a, -b_e, shape)
        source = q * sig * np.abs(field) ** 2
        new = lu_t.solve(-source.ravel() - b_t).reshape(shape)
        if not np.isfinite(new).all():
            raise RuntimeError(f"te_heat Picard iteration {it}: temperature T is not "
                               "finite")
        if new.max() > T_MAX:
            raise RuntimeError(f"te_heat Picard iteration {it}: temperature T reached "
                               f"{new.max():.3g} > {T_MAX} (thermal runaway; lower data.q)")
        change, temp = float(np.abs(new - temp).max()), new
        if change < tol:
            sig = np.where(hot, sigma0 * np.exp(gamma * (1.0 - 1.0 / temp)), 0.0)
            return {"E": field, "T": temp, "sigma": sig, "iterations": it, "change": change}
    raise RuntimeError(f"te_heat Picard iteration {max_iter}: max |T_k - T_(k-1)| = "
                       f"{change:.3e} still above tol {tol:g} (no convergence)")


def generate_electro_thermal(n_samples: int, resolution: int = 64, k0: float = 4 * np.pi,
                             q: float = 10.0, gamma: float = 5.0, biot: float = 1.0,
                             theta: float = 0.0, seed: int = 0, tol: float = 1e-9,
                             max_iter: int = 60,
                             progress: Callable[[int, int], None] | None = None
                             ) -> dict[str, Any]:
    """Generate ``n_samples`` (material map, fields) pairs; parameters validated by the caller.

    Returns
    -------
    dict
        ``eps_r``, ``sigma0`` (N, H, W) float32 inputs; ``E_re``, ``E_im``, ``T`` (N, H, W)
        float32 outputs; ``residual`` and ``solver`` dicts.
    """
    shape = (resolution, resolution)
    eps, sig0 = sample_inclusions(n_samples, shape, np.random.default_rng(seed))
    lap = assemble_fv(1.0, shape, helmholtz_bcs(shape, k0, theta))
    a_t, b_t = assemble_fv(1.0, shape, _heat_bcs(biot))
    heat = (spla.splu(sp.csc_matrix(a_t)), b_t)
    e_out = np.empty((n_samples, *shape), dtype=complex)
    t_out, s_out = np.empty((n_samples, *shape)), np.empty((n_samples, *shape))
    iters = np.empty(n_samples, dtype=int)
    for i in range(n_samples):
        sol = picard_solve(eps[i], sig0[i], k0, q, gamma, biot, theta, tol, max_iter, lap, heat)
        e_out[i], t_out[i], s_out[i], iters[i] = sol["E"], sol["T"], sol["sigma"], \
            sol["iterations"]
        if progress is not None:
            progress(i + 1, n_samples)
    d = FiniteDifference((1.0 / resolution,) * 2)
    er, ei = torch.from_numpy(e_out.real.copy()), torch.from_numpy(e_out.imag.copy())
    tt, st = torch.from_numpy(t_out), torch.from_numpy(s_out)
    h_re, h_im = helmholtz_residual(er, ei, torch.from_numpy(eps), st, k0, d)
    h_rel = (interior(h_re).abs().amax(dim=(1, 2)) + interior(h_im).abs().amax(dim=(1, 2))) / k0**2
    heat_res = interior(joule_heat_residual(tt, er, ei, st, q, d)).abs().amax(dim=(1, 2))
    heat_scale = (q * st * (er.square() + ei.square())).amax(dim=(1, 2))
    heat_rel = heat_res / heat_scale.clamp_min(1e-300)
    residual = self_check(
        "te_heat",
        "shared equations (pdebench.physics.multiphysics, finite differences) on interior cells "
        "at the converged T: max |Lap E + k0^2 eps_c E| / k0^2 (|E_inc| = 1) and max |Lap T + q "
        "sigma |E|^2| / max(q sigma |E|^2)",
        {"helmholtz_rel_max": h_rel.max().item(), "heat_rel_max": heat_rel.max().item(),
         "picard_iterations_max": iters.max(), "picard_iterations_mean": iters.mean()},
        {"helmholtz_rel_max": SELF_CHECK_TOL, "heat_rel_max": SELF_CHECK_TOL})
    solver = {"method": "cell-centred finite volumes, complex Robin absorbing walls, Picard "
                        "coupling, SuperLU (MMD_AT_PLUS_A)", "grid": "cell_centered",
              "resolution": list(shape),
              "picard_tol": tol, "max_iter": max_iter, "time_convention": "exp(+i omega t)",
              "seed": seed}
    return {"eps_r": eps.astype(np.float32), "sigma0": sig0.astype(np.float32),
            "E_re": e_out.real.astype(np.float32), "E_im": e_out.imag.astype(np.float32),
            "T": t_out.astype(np.float32), "residual": residual, "solver": solver}
