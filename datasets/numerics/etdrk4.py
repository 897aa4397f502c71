"""Exponential time differencing, fourth-order Runge--Kutta (ETDRK4) for diagonal linear parts.

Shared by the spectral Burgers solver (PDEBench suite) and the Fisher--KPP solver (MT-DeepONet).
"""

from __future__ import annotations

import numpy as np

__all__ = ["etdrk4_coefficients"]


def etdrk4_coefficients(lin: np.ndarray, dt: float, n_contour: int = 32
                        ) -> tuple[np.ndarray, ...]:
    """ETDRK4 coefficients ``(E, E2, Q, f1, f2, f3)`` for a diagonal linear operator.

    ``lin`` (M,) real eigenvalues (e.g. ``-eps kappa^2``); ``phi``-type functions evaluated as the
    mean over ``n_contour`` points of a unit circle around ``dt * lin`` (Kassam & Trefethen 2005,
    SIAM J. Sci. Comput. 26(4)), accurate also where ``dt * lin`` is near 0; the step of Cox &
    Matthews (2002). Each returned array is (M,) float64.
    """
    z = dt * np.asarray(lin, dtype=np.float64)
    r = z[:, None] + np.exp(1j * np.pi * (np.arange(1, n_contour + 1) - 0.5) / n_contour)[None]
    er = np.exp(r)
    q = dt * np.mean((np.exp(r / 2) - 1.0) / r, axis=1).real
    f1 = dt * np.mean((-4.0 - r + er * (4.0 - 3.0 * r + r * r)) / r**3, axis=1).real
    f2 = dt * np.mean((2.0 + r + er * (r - 2.0)) / r**3, axis=1).real
    f3 = dt * np.mean((-4.0 - 3.0 * r - r * r + er * (4.0 - r)) / r**3, axis=1).real
    return np.exp(z), np.exp(z / 2), q, f1, f2, f3
