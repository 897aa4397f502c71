"""Elder problem (Multiphysics Bench, specs C.6): numerics.

Half of the classical Elder box by symmetry: ``x`` in ``[0, 2]`` (outer wall at ``x = 0``,
symmetry plane at ``x = 2``), ``y`` in ``[0, 1]`` (lengths in units of the height), ``nx = 2 ny``
square cells of side ``h = 1 / ny``. Array axis 0 = x, axis 1 = y.

- ``c`` at cell centres; salt ``c = 1`` on the top faces with ``x >= 2 - L_s`` (source length
  ``L_s``; classical Elder: 1, i.e. the middle half of the full box), no flux elsewhere on top,
  ``c = 0`` on the bottom, no flux through the side walls (outer wall and symmetry plane).
- ``psi`` at vertices, ``psi = 0`` on the whole boundary (no flow through any wall); 5-point
  ``Lap psi = Ra c_x`` with ``c_x`` at a vertex from the four cells around it (second order).
- Face velocities ``u = psi_y`` on x faces, ``v = -psi_x`` on y faces: the discrete divergence of
  every cell is zero to round-off.
- Flux-form transport, central face values (second order), Heun (RK2) in time with
  ``dt = min(dt_max, cfl h / max|u|)`` per step and the output frames hit exactly;
  ``dt_max <= h^2 / 4`` (explicit diffusion limit) is checked before any work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.validation import check_range
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.electrothermal import interior
from pdebench.physics.porous_convection import advection_diffusion_residual, darcy_curl_residual

__all__ = ["StreamSolver", "check_time_step", "face_velocities", "generate_elder", "run_elder",
           "transport_rhs"]

#: Explicit diffusion stability: dt <= DIFF_LIMIT h^2.
DIFF_LIMIT = 0.25
#: Self-check tolerances, relative RMS on interior cells, as multiples of h (second order in the
#: smooth region, but the jumps of the top data at the source edges pollute the FD check).
TOL_PER_H = {"darcy": 5.0, "transport": 10.0}


def check_time_step(dt_max: float, cfl: float, h: float) -> None:
    """Raise ValueError if ``dt_max`` or ``cfl`` cannot be stable (before any work)."""
    check_range("cfl", cfl, 0.0, 1.0, open_lo=True, why=" (advective CFL number)")
    if not 0.0 < dt_max <= DIFF_LIMIT * h * h:
        raise ValueError(f"data.dt={dt_max!r} violates the explicit diffusion limit dt <= h^2/4 "
                         f"= {DIFF_LIMIT * h * h:.4g} at h = {h:.4g}")


class StreamSolver:
    """Prefactored 5-point ``Lap psi = f`` on the interior vertices, ``psi = 0`` on the boundary.

    Parameters
    ----------
    nx, ny : int
        Cells along x and y (vertices ``(nx + 1, ny + 1)``).
    h : float
        Cell side.
    """

    def __init__(self, nx: int, ny: int, h: float) -> None:
        def lap1(n: int) -> sp.csr_matrix:
            return sp.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n - 1, n - 1)) / (h * h)

        a = sp.kron(lap1(nx), sp.identity(ny - 1)) + sp.kron(sp.identity(nx - 1), lap1(ny))
        self.shape = (nx - 1, ny - 1)
        self.lu = spla.splu(sp.csc_matrix(a))

    def solve(self, f: np.ndarray) -> np.ndarray:
        """``psi`` ``(nx + 1, ny + 1)`` from ``f`` at the interior vertices ``(nx - 1, ny - 1)``."""
        psi = np.zeros((self.shape[0] + 2, self.shape[1] + 2))
        psi[1:-1, 1:-1] = self.lu.solve(np.ascontiguousarray(f.ravel())).reshape(self.shape)
        return psi

    def from_concentration(self, c: np.ndarray, ra: float, h: float) -> np.ndarray:
        """``psi`` with ``Lap psi = Ra c_x``, ``c_x`` at vertices from the four cells around."""
        cy = 0.5 * (c[:, 1:] + c[:, :-1])  # (nx, ny - 1): averaged along y at vertex rows
        return self.solve(ra * (cy[1:] - cy[:-1]) / h)


def face_velocities(psi: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """``u`` on x faces ``(nx + 1, ny)`` and ``v`` on y faces ``(nx, ny + 1)`` from vertex psi."""
    return np.diff(psi, axis=1) / h, -np.diff(psi, axis=0) / h


def transport_rhs(c: np.ndarray, uf: np.ndarray, vf: np.ndarray, h: float, top_mask: np.ndarray,
                  top_value: float = 1.0, bottom_value: float = 0.0) -> np.ndarray:
    """``c_t = -div(u c - grad c)`` by finite volumes, ``(nx, ny)``.

    Side walls and unmasked top faces: no flux; masked top faces ``c = top_value``; bottom
    ``c = bottom_value``. Normal face velocities vanish on the walls (``psi = 0`` there).
    """
    fx = np.zeros((c.shape[0] + 1, c.shape[1]))
    fx[1:-1] = uf[1:-1] * 0.5 * (c[1:] + c[:-1]) - (c[1:] - c[:-1]) / h
    fy = np.zeros((c.shape[0], c.shape[1] + 1))
    fy[:, 1:-1] = vf[:, 1:-1] * 0.5 * (c[:, 1:] + c[:, :-1]) - (c[:, 1:] - c[:, :-1]) / h
    fy[:, 0] = -(c[:, 0] - bottom_value) / (0.5 * h)
    fy[:, -1] = np.where(top_mask, -(top_value - c[:, -1]) / (0.5 * h), 0.0)
    return -(np.diff(fx, axis=0) + np.diff(fy, axis=1)) / h


def run_elder(ra: float, source_length: float, ny: int, t_frames: np.ndarray, dt_max: float,
              cfl: float = 0.5, max_steps: int = 1_000_000) -> dict[str, np.ndarray]:
    """Integrate one sample from ``c = 0``; frames of ``c``, cell ``u``, ``v`` and ``c_t``.

    Returns
    -------
    dict
        ``c``, ``u``, ``v``, ``c_t`` each ``(T, nx, ny)``; ``steps`` (int).
    """
    nx, h = 2 * ny, 1.0 / ny
    check_time_step(dt_max, cfl, h)
    mask = cell_centres_1d(nx, 0.0, 2.0) >= 2.0 - source_length
    solver = StreamSolver(nx, ny, h)
    c = np.zeros((nx, ny))
    out = {k: np.zeros((len(t_frames), nx, ny)) for k in ("c", "u", "v", "c_t")}

    def rates(cc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        uf, vf = face_velocities(solver.from_concentration(cc, ra, h), h)
        return transport_rhs(cc, uf, vf, h, mask), uf, vf

    def record(k: int, cc: np.ndarray) -> None:
        rate, uf, vf = rates(cc)
        out["c"][k], out["c_t"][k] = cc, rate
        out["u"][k], out["v"][k] = 0.5 * (uf[1:] + uf[:-1]), 0.5 * (vf[:, 1:] + vf[:, :-1])

    record(0, c)
    t, step = float(t_frames[0]), 0
    for k in range(1, len(t_frames)):
        while t < t_frames[k] - 1e-12:
            k1, uf, vf = rates(c)
            speed = max(np.abs(uf).max(), np.abs(vf).max(), 1e-12)
            dt = min(dt_max, cfl * h / speed, t_frames[k] - t)
            c1 = c + dt * k1
            k2, _, _ = rates(c1)
            c = c + 0.5 * dt * (k1 + k2)
            t, step = t + dt, step + 1
            if not np.isfinite(c).all() or np.abs(c).max() > 10.0:
                raise RuntimeError(f"Elder step {step} (t = {t:.4g}): concentration c diverged "
                                   f"(max |c| = {np.abs(c).max():.3g}, Ra = {ra:.4g})")
            if step >= max_steps:
                raise RuntimeError(f"Elder step {step} (t = {t:.4g}): step limit reached")
        record(k, c)
    return {**out, "steps": step}


def _residuals(out: dict[str, np.ndarray], ra: np.ndarray, ny: int) -> dict[str, float]:
    """Shared-equation residuals (finite differences, interior cells) of frames 1 onwards."""
    d = FiniteDifference((1.0 / ny, 1.0 / ny))
    n, nt = out["c"].shape[:2]
    flat = {k: torch.from_numpy(out[k][:, 1:].reshape(n * (nt - 1), 2 * ny, ny))
            for k in ("c", "u", "v", "c_t")}
    ra_t = torch.from_numpy(np.repeat(ra, nt - 1))[:, None, None]
    curl = interior(darcy_curl_residual(flat["u"], flat["v"], flat["c"], ra_t, d), 2)
    (cx, _) = d.grad(flat["c"])
    scale = interior(ra_t * cx, 2).square().mean().sqrt().clamp_min(1e-12)
    tr = interior(advection_diffusion_residual(flat["c_t"], flat["c"], flat["u"], flat["v"], d), 2)
    tscale = interior(d.lap(flat["c"]), 2).square().mean().sqrt().clamp_min(1e-12)
    return {"darcy_rel_rms": float(curl.square().mean().sqrt() / scale),
            "transport_rel_rms": float(tr.square().mean().sqrt() / tscale)}


def generate_elder(n_samples: int, resolution: int = 32, n_frames: int = 11, t_end: float = 0.1,
                   rayleigh: float = 400.0, rayleigh_spread: float = 0.5,
                   source_min: float = 0.5, source_max: float = 1.5, dt: float | None = None,
                   cfl: float = 0.5, seed: int = 0,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Generate Elder trajectories; parameters validated by the caller.

    Per sample ``Ra`` uniform in ``rayleigh * [1 - spread, 1 + spread]`` and the source length
    uniform in ``[source_min, source_max]``.

    Returns
    -------
    dict
        ``u`` (N, T, 3, 2 ny, ny) float32 with channels ``c, u, v``; ``t`` (T,); ``constants``
        (N, 2, 2 ny, ny) float32, the maps ``ra`` (Ra broadcast) and ``source`` (1 under the salt
        source);
        ``ra``, ``source_length`` (N,); ``residual`` and ``solver`` dicts.
    """
    ny, nx, h = resolution, 2 * resolution, 1.0 / resolution
    dt_max = 0.2 * h * h if dt is None else float(dt)
    check_time_step(dt_max, cfl, h)
    rng = np.random.default_rng(seed)
    ras = rayleigh * (1.0 - rayleigh_spread + 2.0 * rayleigh_spread * rng.random(n_samples))
    lens = source_min + (source_max - source_min) * rng.random(n_samples)
    t = np.linspace(0.0, t_end, n_frames)
    frames = {k: np.zeros((n_samples, n_frames, nx, ny)) for k in ("c", "u", "v", "c_t")}
    steps = 0
    for i in range(n_samples):
        run = run_elder(float(ras[i]), float(lens[i]), ny, t, dt_max, cfl)
        for k in frames:
            frames[k][i] = run[k]
        steps += run["steps"]
        if progress is not None:
            progress(i + 1, n_samples)
    residual = self_check(
        "elder",
        "shared equations (pdebench.physics.porous_convection, finite differences) on interior "
        "cells (2 from each wall), frames 1..T-1: RMS of v_x - u_y + Ra c_x over RMS of Ra c_x; "
        "RMS of c_t + u.grad c - Lap c (c_t of the FV scheme) over RMS of Lap c",
        _residuals(frames, ras, ny),
        {"darcy_rel_rms": TOL_PER_H["darcy"] / ny,
         "transport_rel_rms": TOL_PER_H["transport"] / ny})
    xc = cell_centres_1d(nx, 0.0, 2.0)
    src = (xc[None, :] >= 2.0 - lens[:, None]).astype(np.float64)  # (N, nx)
    u = np.empty((n_samples, n_frames, 3, nx, ny), dtype=np.float32)
    for j, k in enumerate(("c", "u", "v")):
        u[:, :, j] = frames[k]
    constants = np.empty((n_samples, 2, nx, ny), dtype=np.float32)
    constants[:, 0] = ras[:, None, None]
    constants[:, 1] = src[:, :, None]
    solver = {"method": "stream function at vertices (SuperLU) + flux-form central FV transport,"
                        " Heun RK2, adaptive dt (CFL + diffusion)", "grid": "cell_centered",
              "resolution": [nx, ny], "dt_max": dt_max, "cfl": cfl, "steps_total": int(steps),
              "seed": seed}
    return {"u": u, "t": t, "constants": constants, "ra": ras, "source_length": lens,
            "residual": residual, "solver": solver}
