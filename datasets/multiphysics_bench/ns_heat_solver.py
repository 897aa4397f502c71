"""Natural convection around a heated disc (Multiphysics Bench, specs C.2): numerics.

Unit square cavity, vertex grid of ``n x n`` nodes (``h = 1 / (n - 1)``, array axis 0 = x), steady
Boussinesq flow in stream function–vorticity form (:mod:`pdebench.physics.porous_convection`)::

    Lap psi + omega = 0,   u omega_x + v omega_y = Pr Lap omega + Ra Pr T_x,
    u T_x + v T_y = Lap T + q,            u = psi_y, v = -psi_x

No slip on all walls: ``psi = 0`` and Thom's wall vorticity ``omega_w = -2 psi_adjacent / h^2``;
cold side walls ``T = 0`` at ``x = 0, 1``; adiabatic ``T_y = 0`` at ``y = 0, 1`` (mirror ghost).
Central second-order differences. Steady state by implicit pseudo-time marching: each iteration
solves the coupled linear system for ``(psi, omega, T)`` (one sparse LU) with the advecting
velocity of the previous iterate and a backward-Euler pseudo-time term ``(phi - phi_k) / dtau``;
it stops when the steady residual (no pseudo-time term) relative to its scale is below ``tol``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.electrothermal import interior
from pdebench.physics.porous_convection import (
    advection_diffusion_residual,
    stream_vorticity_residual,
    vorticity_transport_residual,
)

__all__ = ["disc_source", "generate_natural_convection", "node_velocities", "solve_linear",
           "solve_steady"]

_IN = np.s_[1:-1, 1:-1]
PERMC = "COLAMD"
#: Self-check tolerance of the three relative steady residuals (the solver stops at 1e-6).
SELF_CHECK_TOL = 1e-4


def node_velocities(psi: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """``(psi_y, -psi_x)`` by central differences at interior nodes, zero on the walls."""
    u, v = np.zeros_like(psi), np.zeros_like(psi)
    u[_IN] = (psi[1:-1, 2:] - psi[1:-1, :-2]) / (2 * h)
    v[_IN] = -(psi[2:, 1:-1] - psi[:-2, 1:-1]) / (2 * h)
    return u, v


class _Builder:
    """COO entries of a block system over ``n_fields`` node fields of ``n x n`` nodes."""

    def __init__(self, n: int, n_fields: int) -> None:
        self.n, self.size = n, n_fields * n * n
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []

    def add(self, fr: int, fc: int, ij: tuple[np.ndarray, np.ndarray], d: tuple[int, int],
            val: float | np.ndarray) -> None:
        i, j = ij
        row = fr * self.n**2 + i * self.n + j
        self.rows.append(row)
        self.cols.append(fc * self.n**2 + (i + d[0]) * self.n + (j + d[1]))
        self.vals.append(np.broadcast_to(np.asarray(val, dtype=float), row.shape))

    def transport(self, fr: int, ij: tuple[np.ndarray, np.ndarray], u: np.ndarray,
                  v: np.ndarray, diff: float, h: float, shift: float) -> None:
        """``shift phi + u phi_x + v phi_y - diff Lap phi`` at interior nodes ``ij``."""
        self.add(fr, fr, ij, (0, 0), shift + 4 * diff / h**2)
        for d, a in (((1, 0), u), ((-1, 0), -u), ((0, 1), v), ((0, -1), -v)):
            self.add(fr, fr, ij, d, a[ij] / (2 * h) - diff / h**2)

    def matrix(self) -> sp.csc_matrix:
        return sp.csc_matrix((np.concatenate(self.vals), (np.concatenate(self.rows),
                                                          np.concatenate(self.cols))),
                             shape=(self.size, self.size))


def _node_sets(n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    inner = (i > 0) & (i < n - 1) & (j > 0) & (j < n - 1)
    xwall = (i == 0) | (i == n - 1)
    return {"inner": np.nonzero(inner), "boundary": np.nonzero(~inner),
            "xwall": np.nonzero(xwall), "ywall": np.nonzero(~xwall & ~inner)}


def _temperature_rows(b: _Builder, f: int, sets: dict, u: np.ndarray, v: np.ndarray, h: float,
                      shift: float) -> None:
    b.add(f, f, sets["xwall"], (0, 0), 1.0)
    b.transport(f, sets["inner"], u, v, 1.0, h, shift)
    i, j = sets["ywall"]
    inward = np.where(j == 0, 1, -1)
    b.add(f, f, (i, j), (0, 0), shift + 4.0 / h**2)
    b.add(f, f, (i, j), (1, 0), -1.0 / h**2)
    b.add(f, f, (i, j), (-1, 0), -1.0 / h**2)
    rows = f * b.n**2 + i * b.n + j
    b.rows.append(rows)
    b.cols.append(f * b.n**2 + i * b.n + j + inward)
    b.vals.append(np.full(rows.shape, -2.0 / h**2))


def solve_linear(psi_adv: np.ndarray, q: np.ndarray, h: float) -> np.ndarray:
    """Steady ``u . grad T = Lap T + q`` for a prescribed velocity (the temperature sub-step)."""
    n = q.shape[0]
    sets, (u, v) = _node_sets(n), node_velocities(psi_adv, h)
    b = _Builder(n, 1)
    _temperature_rows(b, 0, sets, u, v, h, 0.0)
    rhs = q.copy()
    rhs[sets["xwall"]] = 0.0
    return spla.spsolve(b.matrix(), rhs.ravel()).reshape(n, n)


def _system(state: np.ndarray, q: np.ndarray, ra: float, pr: float, h: float,
            shift: float) -> tuple[sp.csc_matrix, np.ndarray]:
    n = q.shape[0]
    sets = _node_sets(n)
    psi, omega, temp = state
    u, v = node_velocities(psi, h)
    b = _Builder(n, 3)
    b.add(0, 0, sets["boundary"], (0, 0), 1.0)  # psi = 0
    b.transport(0, sets["inner"], 0 * u, 0 * v, -1.0, h, 0.0)  # +Lap psi
    b.add(0, 1, sets["inner"], (0, 0), 1.0)  # + omega
    i, j = sets["boundary"]
    b.add(1, 1, (i, j), (0, 0), 1.0)
    corner = ((i == 0) | (i == n - 1)) & ((j == 0) | (j == n - 1))
    wall = ~corner
    di = np.where(i == 0, 1, np.where(i == n - 1, -1, 0))[wall]
    dj = np.where(j == 0, 1, np.where(j == n - 1, -1, 0))[wall]
    rows = n * n + i[wall] * n + j[wall]
    b.rows.append(rows)
    b.cols.append((i[wall] + di) * n + j[wall] + dj)  # psi at the inward neighbour
    b.vals.append(np.full(rows.shape, 2.0 / h**2))
    b.transport(1, sets["inner"], u, v, pr, h, shift)
    b.add(1, 2, sets["inner"], (1, 0), -ra * pr / (2 * h))
    b.add(1, 2, sets["inner"], (-1, 0), ra * pr / (2 * h))
    _temperature_rows(b, 2, sets, u, v, h, shift)
    rhs = np.zeros((3, n, n))
    rhs[1][sets["inner"]] = shift * omega[sets["inner"]]
    rhs[2] = q + shift * temp
    rhs[2][sets["xwall"]] = 0.0
    return b.matrix(), rhs.ravel()


def solve_steady(q: np.ndarray, ra: float, pr: float = 0.71, dtau: float = 0.05,
                 tol: float = 1e-6, max_iter: int = 200) -> dict[str, Any]:
    """Steady state for one heat-source map ``q`` ``(n, n)``; RuntimeError if not reached.

    Returns
    -------
    dict
        ``psi``, ``omega``, ``T``, ``u``, ``v`` ``(n, n)``; ``iterations``; ``residual``.
    """
    n = q.shape[0]
    h = 1.0 / (n - 1)
    state = np.zeros((3, n, n))
    res = res0 = np.inf
    for it in range(1, max_iter + 1):
        step = dtau * min(res0 / res, 1e4) if np.isfinite(res) else dtau  # SER growth
        a, rhs = _system(state, q, ra, pr, h, 1.0 / step)
        state = spla.splu(a, permc_spec=PERMC).solve(rhs).reshape(3, n, n)
        state[0][[0, -1]], state[0][:, [0, -1]], state[2][[0, -1]] = 0.0, 0.0, 0.0  # exact BCs
        if not np.isfinite(state).all():
            raise RuntimeError(f"natural convection iteration {it}: non-finite fields (Ra={ra:g})")
        a0, rhs0 = _system(state, q, ra, pr, h, 0.0)
        r = np.abs(a0 @ state.ravel() - rhs0).reshape(3, n, n)
        tx = np.abs(np.diff(state[2], axis=0)).max() / h
        res = max(r[1].max() / max(ra * pr * tx, 1e-12), r[2].max() / max(np.abs(q).max(), 1e-12))
        res0 = res if it == 1 else res0
        if res < tol:
            u, v = node_velocities(state[0], h)
            return {"psi": state[0], "omega": state[1], "T": state[2], "u": u, "v": v,
                    "iterations": it, "residual": float(res)}
    raise RuntimeError(f"natural convection iteration {max_iter}: steady residual {res:.3e} "
                       f"still above tol {tol:g} (Ra={ra:g}; raise data.max_iter or data.dtau)")


def disc_source(n: int, cx: float, cy: float, radius: float, rate: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Heat source ``q`` (``rate`` inside the disc, smoothed over one cell) and the disc mask."""
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    r = np.hypot(x - cx, y - cy)
    q = rate * 0.5 * (1.0 - np.tanh((r - radius) * (n - 1)))
    return q, (r <= radius).astype(np.float64)


def generate_natural_convection(n_samples: int, resolution: int = 64, ra_min: float = 1e3,
                                ra_max: float = 1e4, pr: float = 0.71, rate_min: float = 10.0,
                                rate_max: float = 30.0, dtau: float = 0.05, tol: float = 1e-6,
                                max_iter: int = 200, seed: int = 0,
                                progress: Callable[[int, int], None] | None = None
                                ) -> dict[str, Any]:
    """Generate ``n_samples`` (source, flow) pairs; parameters validated by the caller.

    Per sample: ``Ra`` log-uniform in ``[ra_min, ra_max]``, disc centre uniform in
    ``[0.3, 0.7]^2``, radius in ``[0.08, 0.15]``, heat rate in ``[rate_min, rate_max]``.

    Returns
    -------
    dict
        ``x`` (N, 3, n, n) float32 = ``(q, disc, ra)``; ``y`` (N, 3, n, n) = ``(u, v, T)``;
        ``residual`` and ``solver`` dicts.
    """
    n, h = resolution, 1.0 / (resolution - 1)
    rng = np.random.default_rng(seed)
    x = np.zeros((n_samples, 3, n, n))
    y = np.zeros((n_samples, 3, n, n))
    omega = np.zeros((n_samples, n, n))
    psi = np.zeros((n_samples, n, n))
    iters = []
    for k in range(n_samples):
        ra = float(np.exp(rng.uniform(np.log(ra_min), np.log(ra_max))))
        cx, cy = rng.uniform(0.3, 0.7, 2)
        radius, rate = rng.uniform(0.08, 0.15), rng.uniform(rate_min, rate_max)
        q, disc = disc_source(n, cx, cy, radius, rate)
        sol = solve_steady(q, ra, pr, dtau, tol, max_iter)
        x[k, 0], x[k, 1], x[k, 2] = q, disc, ra
        y[k] = sol["u"], sol["v"], sol["T"]
        omega[k], psi[k] = sol["omega"], sol["psi"]
        iters.append(sol["iterations"])
        if progress is not None:
            progress(k + 1, n_samples)
    residual = self_check(
        "ns_heat",
        "shared equations (pdebench.physics.porous_convection, finite differences) on interior "
        "nodes: max |heat residual| / max q, max |vorticity residual| / (Ra Pr max |T_x|), max "
        "|Lap psi + omega| / max |omega|",
        _residuals(x, y, psi, omega, pr, h),
        dict.fromkeys(("heat_rel_max", "vorticity_rel_max", "stream_rel_max"), SELF_CHECK_TOL))
    solver = {"method": "stream function-vorticity, central differences, Thom wall vorticity, "
                        "implicit pseudo-time with lagged velocity, SuperLU",
              "grid": "vertex", "resolution": [n, n], "dtau": dtau, "tol": tol,
              "iterations_max": int(max(iters)), "iterations_mean": float(np.mean(iters)),
              "seed": seed}
    return {"x": x.astype(np.float32), "y": y.astype(np.float32), "residual": residual,
            "solver": solver}


def _residuals(x: np.ndarray, y: np.ndarray, psi: np.ndarray, omega: np.ndarray, pr: float,
               h: float) -> dict[str, float]:
    """Steady residuals under the shared equations (finite differences, interior nodes)."""
    d = FiniteDifference((h, h))
    t = {k: torch.from_numpy(a) for k, a in (("q", x[:, 0]), ("ra", x[:, 2]), ("u", y[:, 0]),
                                              ("v", y[:, 1]), ("T", y[:, 2]), ("psi", psi),
                                              ("w", omega))}
    heat = interior(advection_diffusion_residual(0.0, t["T"], t["u"], t["v"], d,
                                                 source=t["q"]))
    vort = interior(vorticity_transport_residual(t["w"], t["u"], t["v"], t["T"], t["ra"], pr, d))
    stream = interior(stream_vorticity_residual(t["psi"], t["w"], d))
    (tx, _) = d.grad(t["T"])
    return {"heat_rel_max": float((heat.abs().amax((1, 2)) / t["q"].abs().amax((1, 2))).max()),
            "vorticity_rel_max": float((vort.abs().amax((1, 2)) / (
                t["ra"][:, 0, 0] * pr * interior(tx).abs().amax((1, 2)))).max()),
            "stream_rel_max": float((stream.abs().amax((1, 2)) / t["w"].abs().amax((1, 2))).max())}
