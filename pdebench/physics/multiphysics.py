"""Equations of the Multiphysics Bench problems the harness generates (specs/PROBLEMS.md, C).

Written once against a derivative provider (axis 0 = x, axis 1 = y). With the finite-difference
provider, fields carrying non-homogeneous boundary data are meaningful only on interior cells
(:func:`pdebench.physics.electrothermal.interior`).

Electro-osmotic flow in a porous medium (C.3)::

    div(kappa grad V) = 0,   u = -k_p grad p + k_V grad V,   div u = 0

Electro-thermal (C.1), dimensionless (lengths in units of the domain side L, ``E`` in units of
the incident amplitude, ``T`` in units of the ambient temperature)::

    Lap E + k0^2 (eps_r - i sigma_t(T)) E = 0,      sigma_t = sigma / (omega eps_0)
    Lap T + q sigma_t(T) |E|^2 = 0,                  q = omega eps_0 E0^2 L^2 / (2 k T_inf)
    sigma_t(T) = sigma_t0 exp(gamma (1 - 1/T)),      gamma = E_a / (k_B T_inf)  (Arrhenius)

(``k grad^2 T + sigma |E|^2 / 2 = 0`` divided by ``k T_inf / L^2``.)
"""

from __future__ import annotations

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["arrhenius_conductivity", "conduction_residual", "continuity_residual",
           "darcy_electroosmotic_velocity", "helmholtz_residual", "joule_heat_residual"]


def conduction_residual(potential: Tensor, kappa: Tensor | float,
                        d: DerivativeProvider) -> Tensor:
    """``div(kappa grad V)`` (zero for a solution); units of ``kappa V / L^2``.

    ``potential`` and ``kappa`` are ``(batch, H, W)`` (grid) or ``(N,)`` (points); ``kappa > 0``.
    """
    return d.div_flux(kappa, potential)


def darcy_electroosmotic_velocity(p: Tensor, potential: Tensor, k_p: Tensor | float,
                                  k_v: Tensor | float, d: DerivativeProvider
                                  ) -> tuple[Tensor, Tensor]:
    """Darcy + electro-osmosis velocity ``-k_p grad p + k_V grad V``: two tensors like ``p``."""
    gp, gv = d.grad(p), d.grad(potential)
    return tuple(-k_p * a + k_v * b for a, b in zip(gp, gv, strict=True))


def continuity_residual(u: Tensor, v: Tensor, d: DerivativeProvider) -> Tensor:
    """``u_x + v_y`` (zero for an incompressible flow), shaped like ``u``."""
    return d.div((u, v))


def arrhenius_conductivity(temp: Tensor, sigma0: Tensor | float, gamma: float) -> Tensor:
    """``sigma_t0 exp(gamma (1 - 1/T))`` (dimensionless loss factor), shaped like ``temp``."""
    return sigma0 * (gamma * (1.0 - 1.0 / temp)).exp()


def helmholtz_residual(e_re: Tensor, e_im: Tensor, eps_r: Tensor | float,
                       sigma_t: Tensor | float, k0: float, d: DerivativeProvider
                       ) -> tuple[Tensor, Tensor]:
    """Real and imaginary parts of ``Lap E + k0^2 (eps_r - i sigma_t) E``.

    Parameters
    ----------
    e_re, e_im : Tensor
        Real and imaginary parts of ``E_z``, ``(batch, H, W)`` or ``(N,)``.
    eps_r, sigma_t : Tensor or float
        Relative permittivity and loss factor ``sigma / (omega eps_0)``, broadcastable.
    k0 : float
        Free-space wavenumber (units 1/L).
    d : DerivativeProvider
        Provider for ``lap``.
    """
    k2 = k0 * k0
    re = d.lap(e_re) + k2 * (eps_r * e_re + sigma_t * e_im)
    im = d.lap(e_im) + k2 * (eps_r * e_im - sigma_t * e_re)
    return re, im


def joule_heat_residual(temp: Tensor, e_re: Tensor, e_im: Tensor, sigma_t: Tensor | float,
                        q: float, d: DerivativeProvider) -> Tensor:
    """``Lap T + q sigma_t |E|^2`` (steady heat with Joule source), shaped like ``temp``."""
    return d.lap(temp) + q * sigma_t * (e_re * e_re + e_im * e_im)
