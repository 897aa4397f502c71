"""Electro-osmotic flow in a porous medium (Multiphysics Bench problem, specs C.3): numerics.

Unit square, array axis 0 = x, cell-centred ``n x n`` grid. Per sample a Gaussian bump
``g(x) = exp(-|x - c|^2 / (2 w^2))`` (random centre ``c`` in ``[0.25, 0.75]^2``, width ``w`` in
``[0.05, 0.15]``) marks a zone of different pore structure that scales

- the electric conductivity ``kappa = kappa0 (1 + a_k g)``, ``a_k`` in ``[1, 4]``, and
- the hydraulic permeability ``k_p = k_p0 (1 + a_p g)``, ``a_p`` in ``[-0.8, 2]``.

(With a uniform ``k_p`` and ``k_V`` the flow ``u = grad(k_V V - k_p p)`` would be uniform whatever
``kappa``; a bump in ``k_p`` is this harness's choice to keep the coupling visible.)

1. ``div(kappa grad V) = 0``, ``V = v_applied`` at ``x = 0``, ``V = 0`` at ``x = 1``, insulating
   (``d_n V = 0``) at ``y = 0, 1``.
2. ``u = -k_p grad p + k_V grad V``, ``div u = 0``  =>  ``div(k_p grad p) = div(k_V grad V)``, with
   ``p = dp`` at ``x = 0``, ``p = 0`` at ``x = 1`` (open ends) and no flow (``d_n p = 0``, as
   ``d_n V = 0``) at ``y = 0, 1``. Both sides use the same face fluxes, so the face velocities are
   discretely divergence-free; cell velocities are the averages of the two faces per direction.

Both steps: :func:`pdebench.datasets.numerics.finite_volume.assemble_fv` and a sparse direct solve
(:func:`pdebench.datasets.numerics.sparse_direct.direct_solve`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from pdebench.datasets.numerics.finite_volume import WallBC, assemble_fv
from pdebench.datasets.numerics.grid import cell_centres
from pdebench.datasets.numerics.selfcheck import self_check
from pdebench.datasets.numerics.sparse_direct import direct_solve
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.electrothermal import interior
from pdebench.physics.multiphysics import conduction_residual, continuity_residual

__all__ = ["face_velocities", "generate_electro_osmotic", "sample_media", "solve_electro_osmotic"]

#: Self-check tolerances: conduction (round-off) and relative continuity ``C h^2``.
COND_TOL, CONT_C = 1e-8, 100.0


def sample_media(n: int, shape: tuple[int, int], rng: np.random.Generator, kappa0: float,
                 k_p0: float) -> tuple[np.ndarray, np.ndarray]:
    """``kappa`` and ``k_p`` maps ``(n, H, W)`` float64, drawn sample by sample."""
    x, y = cell_centres(shape)
    kap, kp = np.empty((n, *shape)), np.empty((n, *shape))
    for i in range(n):
        cx, cy = 0.25 + 0.5 * rng.random(2)
        w = 0.05 + 0.1 * rng.random()
        a_k, a_p = 1.0 + 3.0 * rng.random(), -0.8 + 2.8 * rng.random()
        g = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.0 * w * w))
        kap[i], kp[i] = kappa0 * (1.0 + a_k * g), k_p0 * (1.0 + a_p * g)
    return kap, kp


def _bcs(left: float) -> dict[str, WallBC]:
    return {"x_lo": WallBC("dirichlet", left), "x_hi": WallBC("dirichlet", 0.0),
            "y_lo": WallBC("robin"), "y_hi": WallBC("robin")}


def face_velocities(p: np.ndarray, potential: np.ndarray, k_p: np.ndarray, k_v: float,
                    dp: float, v_applied: float) -> tuple[np.ndarray, np.ndarray]:
    """Face velocities ``(H+1, W)`` (x faces) and ``(H, W+1)`` (y faces) of the FV scheme."""
    hgt, wid = p.shape

    def faces(f: np.ndarray, lo: float, axis: int) -> np.ndarray:
        h = 1.0 / f.shape[axis]
        f = np.moveaxis(f, axis, 0)
        inner = (f[1:] - f[:-1]) / h
        if axis == 0:  # Dirichlet walls: value lo at x = 0, 0 at x = 1
            lo_g, hi_g = (f[0] - lo) / (h / 2), (0.0 - f[-1]) / (h / 2)
        else:  # no-flux walls
            lo_g, hi_g = np.zeros_like(f[0]), np.zeros_like(f[0])
        return np.moveaxis(np.concatenate([lo_g[None], inner, hi_g[None]]), 0, axis)

    def face_coef(c: np.ndarray, axis: int) -> np.ndarray:
        c = np.moveaxis(c, axis, 0)
        mid = 2.0 * c[1:] * c[:-1] / (c[1:] + c[:-1])
        return np.moveaxis(np.concatenate([c[:1], mid, c[-1:]]), 0, axis)

    u_f = -face_coef(k_p, 0) * faces(p, dp, 0) + k_v * faces(potential, v_applied, 0)
    v_f = -face_coef(k_p, 1) * faces(p, dp, 1) + k_v * faces(potential, v_applied, 1)
    assert u_f.shape == (hgt + 1, wid) and v_f.shape == (hgt, wid + 1)
    return u_f, v_f


def solve_electro_osmotic(kappa: np.ndarray, k_p: np.ndarray, k_v: float = 1.0,
                          v_applied: float = 1.0, dp: float = 0.0) -> dict[str, np.ndarray]:
    """Solve one sample; returns ``V``, ``p``, ``u``, ``v`` (cell centres, ``(H, W)``) and faces."""
    shape = kappa.shape
    a_v, b_v = assemble_fv(kappa, shape, _bcs(v_applied))
    potential = direct_solve(a_v, -b_v, shape)
    a_p, b_p = assemble_fv(k_p, shape, _bcs(dp))
    a_kv, b_kv = assemble_fv(k_v, shape, _bcs(v_applied))
    p = direct_solve(a_p, a_kv @ potential.ravel() + b_kv - b_p, shape)
    u_f, v_f = face_velocities(p, potential, k_p, k_v, dp, v_applied)
    return {"V": potential, "p": p, "u": 0.5 * (u_f[1:] + u_f[:-1]),
            "v": 0.5 * (v_f[:, 1:] + v_f[:, :-1]), "u_faces": u_f, "v_faces": v_f}


def generate_electro_osmotic(n_samples: int, resolution: int = 64, kappa0: float = 1.0,
                             k_p0: float = 1.0, k_v: float = 1.0, v_applied: float = 1.0,
                             dp: float = 0.0, seed: int = 0,
                             progress: Callable[[int, int], None] | None = None
                             ) -> dict[str, Any]:
    """Generate ``n_samples`` (media, solution) pairs; parameters validated by the caller.

    Returns
    -------
    dict
        ``kappa``, ``k_p`` (N, H, W) float32 inputs; ``V``, ``u``, ``v`` (N, H, W) float32
        outputs; ``residual`` and ``solver`` dicts.
    """
    shape = (resolution, resolution)
    kap, kp = sample_media(n_samples, shape, np.random.default_rng(seed), kappa0, k_p0)
    kap, kp = kap.astype(np.float32).astype(np.float64), kp.astype(np.float32).astype(np.float64)
    out = {k: np.empty((n_samples, *shape)) for k in ("V", "u", "v")}
    div_faces = np.empty(n_samples)
    for i in range(n_samples):
        sol = solve_electro_osmotic(kap[i], kp[i], k_v, v_applied, dp)
        for k in out:
            out[k][i] = sol[k]
        div_faces[i] = np.abs(np.diff(sol["u_faces"], axis=0) * resolution
                              + np.diff(sol["v_faces"], axis=1) * resolution).max()
        if progress is not None:
            progress(i + 1, n_samples)
    d = FiniteDifference((1.0 / resolution,) * 2)
    vt, kt = torch.from_numpy(out["V"]), torch.from_numpy(kap)
    cond = interior(conduction_residual(vt, kt, d)).abs().amax(dim=(1, 2))
    cond_rel = (cond / (kt.mean(dim=(1, 2)) * abs(v_applied))).numpy()
    ut, wt = torch.from_numpy(out["u"]), torch.from_numpy(out["v"])
    speed = (ut.square() + wt.square()).sqrt().amax(dim=(1, 2))
    cont = interior(continuity_residual(ut, wt, d)).square().mean(dim=(1, 2)).sqrt()
    cont_rel = (cont / speed).numpy()
    tol_cont = CONT_C / resolution**2  # O(h^2) truncation of the cell-centre averages
    residual = self_check(
        "e_flow",
        "shared equations (pdebench.physics.multiphysics, finite differences) on interior cells: "
        "max |div(kappa grad V)| / (mean kappa |V_applied|); RMS of div(u, v) of the cell "
        "velocities / max speed; max |FV face divergence|",
        {"conduction_rel_max": cond_rel.max(), "continuity_rel_max": cont_rel.max(),
         "face_divergence_max": div_faces.max()},
        {"conduction_rel_max": COND_TOL, "continuity_rel_max": tol_cont})
    solver = {"method": "cell-centred finite volumes, harmonic-mean faces, SuperLU",
              "grid": "cell_centered", "resolution": list(shape), "seed": seed}
    return {"kappa": kap.astype(np.float32), "k_p": kp.astype(np.float32),
            **{k: v.astype(np.float32) for k, v in out.items()},
            "residual": residual, "solver": solver}
