"""Shared numerics of the multiphysics generators: a cell-centred finite-volume operator.

``div(c grad u)`` on a rectangle of ``H x W`` cells (array axis 0 = x, axis 1 = y, values at cell
centres) with harmonic-mean face coefficients (the stencil of
:class:`pdebench.physics.derivatives.FiniteDifference`'s ``div_flux`` in the interior) and, per
wall, either

- Dirichlet ``u = g`` on the wall face: outward derivative ``(g - u_0) / (h/2)``, or
- Robin ``d_n u + a u = g`` (outward normal; ``a = 0`` is Neumann): eliminating the wall value
  ``u_w`` from ``(u_w - u_0) / (h/2) + a u_w = g`` gives ``d_n u = (g - a u_0) / (1 + a h / 2)``.

``a`` and ``g`` may be complex (absorbing boundaries of Helmholtz problems) and vary along the
wall. :func:`assemble_fv` returns ``A`` and ``b`` with ``div(c grad u) = A u + b`` (unknown
``i * W + j`` = cell ``(i, j)``); solving ``A u = f - b`` is second-order accurate for smooth data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["SIDES", "WallBC", "assemble_fv", "cell_centres", "solve_fv"]

#: Walls: ``x_lo`` (i = 0), ``x_hi`` (i = H - 1), ``y_lo`` (j = 0), ``y_hi`` (j = W - 1).
SIDES = ("x_lo", "x_hi", "y_lo", "y_hi")


@dataclass(frozen=True)
class WallBC:
    """Boundary condition on one wall.

    Attributes
    ----------
    kind : {"dirichlet", "robin"}
        ``u = g`` or ``d_n u + a u = g`` (outward normal derivative).
    g : float, complex or array
        Data, a scalar or one value per wall cell (``(W,)`` on x walls, ``(H,)`` on y walls).
    a : float, complex or array
        Robin coefficient (ignored for Dirichlet); 0 gives Neumann.
    """

    kind: str
    g: float | complex | np.ndarray = 0.0
    a: float | complex | np.ndarray = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("dirichlet", "robin"):
            raise ValueError(f"unknown boundary kind {self.kind!r}; valid: dirichlet, robin")


def cell_centres(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre coordinates ``(X, Y)``, each ``(H, W)``, of the unit square."""
    h, w = shape
    return np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")


def _harmonic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 2.0 * a * b / (a + b)


def assemble_fv(coef: np.ndarray | float, shape: tuple[int, int],
                bcs: Mapping[str, WallBC]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Finite-volume ``div(c grad u) = A u + b`` on the unit square.

    Parameters
    ----------
    coef : float or numpy.ndarray
        Positive coefficient, scalar or ``(H, W)`` at cell centres.
    shape : (int, int)
        Cells ``(H, W)`` along x and y.
    bcs : mapping
        A :class:`WallBC` for each of :data:`SIDES`.

    Returns
    -------
    (scipy.sparse.csr_matrix, numpy.ndarray)
        ``A`` ``(H*W, H*W)`` and ``b`` ``(H*W,)`` (complex if any boundary datum is).
    """
    missing = [s for s in SIDES if s not in bcs]
    if missing:
        raise ValueError(f"assemble_fv: no boundary condition for {missing}; need {SIDES}")
    hgt, wid = shape
    c = np.broadcast_to(np.asarray(coef, dtype=np.float64), shape)
    if not (np.isfinite(c).all() and (c > 0).all()):
        raise ValueError("assemble_fv: the coefficient must be finite and positive everywhere")
    h0, h1 = 1.0 / hgt, 1.0 / wid
    idx = np.arange(hgt * wid).reshape(shape)
    t0 = _harmonic(c[1:], c[:-1]) / h0**2
    t1 = _harmonic(c[:, 1:], c[:, :-1]) / h1**2
    rows = [idx[1:].ravel(), idx[:-1].ravel(), idx[:, 1:].ravel(), idx[:, :-1].ravel()]
    cols = [idx[:-1].ravel(), idx[1:].ravel(), idx[:, :-1].ravel(), idx[:, 1:].ravel()]
    vals = [t0.ravel(), t0.ravel(), t1.ravel(), t1.ravel()]
    diag = np.zeros(shape, dtype=complex)
    diag[1:] -= t0
    diag[:-1] -= t0
    diag[:, 1:] -= t1
    diag[:, :-1] -= t1
    rhs = np.zeros(shape, dtype=complex)
    walls = {"x_lo": (np.s_[0, :], h0), "x_hi": (np.s_[-1, :], h0),
             "y_lo": (np.s_[:, 0], h1), "y_hi": (np.s_[:, -1], h1)}
    for side, (sl, h) in walls.items():
        bc, cw = bcs[side], c[sl]
        if bc.kind == "dirichlet":
            diag[sl] -= 2.0 * cw / h**2
            rhs[sl] += 2.0 * cw * bc.g / h**2
        else:
            beta = 1.0 / (1.0 + np.asarray(bc.a) * h / 2.0)
            diag[sl] -= cw * beta * bc.a / h
            rhs[sl] += cw * beta * bc.g / h
    is_complex = bool(diag.imag.any() or rhs.imag.any())
    dtype = complex if is_complex else float
    rows.append(idx.ravel())
    cols.append(idx.ravel())
    vals.append(diag.ravel() if is_complex else diag.real.ravel())
    n = hgt * wid
    a = sp.csr_matrix((np.concatenate(vals).astype(dtype),
                       (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return a, (rhs.ravel() if is_complex else rhs.real.ravel())


def solve_fv(matrix: sp.spmatrix, rhs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Sparse direct solve (SuperLU) of ``matrix u = rhs``; returns ``u`` ``(H, W)``."""
    u = spla.splu(sp.csc_matrix(matrix)).solve(np.ascontiguousarray(rhs))
    if not np.isfinite(u).all():
        raise RuntimeError("finite-volume solve produced non-finite values (singular system?)")
    return u.reshape(shape)
