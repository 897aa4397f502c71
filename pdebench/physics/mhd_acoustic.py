"""Equations of the reduced Multiphysics Bench MHD and acoustic problems (specs/PROBLEMS.md, C.4-5).

Written once against a derivative provider (axis 0 = x, axis 1 = y).

MHD, Shercliff's fully developed duct flow (C.4), non-dimensional (lengths in units of the duct
half-width ``a``, velocity ``w`` along the duct axis, induced axial field ``b``, imposed transverse
field ``B0`` along y, Hartmann number ``Ha = B0 a sqrt(sigma / (rho nu))``, pressure-gradient
forcing ``G``)::

    Lap w + Ha d_y b = -G            (axial momentum; Ha d_y b is the axial Lorentz force)
    Lap b + Ha d_y w = -s            (induction; s = 0 for the physical problem, s != 0 only
                                      for manufactured solutions)

Acoustics with variable density (C.5), time-harmonic (factor ``exp(+i omega t)``), pressure ``p``
complex, ``inv_rho = 1 / rho`` and ``inv_kappa = 1 / kappa`` (bulk modulus)::

    div(inv_rho grad p) + omega^2 inv_kappa p = -f
"""

from __future__ import annotations

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["acoustic_residual", "hartmann_residuals", "lorentz_force"]


def lorentz_force(b: Tensor, ha: Tensor | float, d: DerivativeProvider) -> Tensor:
    """Axial Lorentz force ``Ha d_y b`` (units of the forcing ``G``), shaped like ``b``.

    Parameters
    ----------
    b : Tensor
        Induced axial field, ``(batch, H, W)`` (grid) or ``(N,)`` (points).
    ha : Tensor or float
        Hartmann number, broadcastable to ``b``.
    d : DerivativeProvider
        Provider for ``grad`` (y is spatial axis 1).
    """
    return ha * d.grad(b)[1]


def hartmann_residuals(w: Tensor, b: Tensor, ha: Tensor | float, g: Tensor | float,
                       d: DerivativeProvider, s: Tensor | float = 0.0) -> tuple[Tensor, Tensor]:
    """Momentum and induction residuals ``(Lap w + Ha b_y + G, Lap b + Ha w_y + s)``.

    Parameters
    ----------
    w, b : Tensor
        Axial velocity and induced field, ``(batch, H, W)`` or ``(N,)``.
    ha : Tensor or float
        Hartmann number (>= 0), broadcastable.
    g : Tensor or float
        Pressure-gradient forcing ``G = -dp/dz`` (scaled), broadcastable.
    d : DerivativeProvider
        Provider for ``lap`` and ``grad``.
    s : Tensor or float
        Induction source (0 for the physical problem).

    Returns
    -------
    (Tensor, Tensor)
        Both shaped like ``w``; zero for a solution.
    """
    mom = d.lap(w) + lorentz_force(b, ha, d) + g
    ind = d.lap(b) + ha * d.grad(w)[1] + s
    return mom, ind


def acoustic_residual(p_re: Tensor, p_im: Tensor, inv_rho: Tensor | float,
                      inv_kappa: Tensor | float, omega: float, d: DerivativeProvider,
                      f_re: Tensor | float = 0.0, f_im: Tensor | float = 0.0
                      ) -> tuple[Tensor, Tensor]:
    """Real and imaginary parts of ``div(inv_rho grad p) + omega^2 inv_kappa p + f``.

    Parameters
    ----------
    p_re, p_im : Tensor
        Real and imaginary parts of the pressure, ``(batch, H, W)`` or ``(N,)``.
    inv_rho, inv_kappa : Tensor or float
        ``1 / rho`` (> 0) and ``1 / kappa``, broadcastable (a real medium: both real).
    omega : float
        Angular frequency (units ``sqrt(kappa / rho) / L``).
    d : DerivativeProvider
        Provider for ``div_flux``.
    f_re, f_im : Tensor or float
        Source (0 for a scattering problem driven by the incident wave).
    """
    w2 = omega * omega
    re = d.div_flux(inv_rho, p_re) + w2 * inv_kappa * p_re + f_re
    im = d.div_flux(inv_rho, p_im) + w2 * inv_kappa * p_im + f_im
    return re, im
