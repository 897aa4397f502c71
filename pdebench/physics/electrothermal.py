"""Steady five-field electrothermal transport (u, v, p, phi, T), written once against a provider.

This is the harness's definition of the LSTM-PINN problem family (specs/PROBLEMS.md, section C,
"Steady electrothermal transport, five fields"). The paper's exact regime equations were not
published in reachable form; the operator below and its four regime variants are this harness's
choice, built on the representative operator of the specs:

- continuity   ``u_x + v_y = s_c``
- x-momentum   ``u u_x + v u_y + p_x - nu Lap u + c_phi phi_x + c_T T [+ drag_x] = s_x``
- y-momentum   ``u v_x + v v_y + p_y - nu Lap v + c_phi phi_y [- Ri (T - T0)] [+ drag_y] = s_y``
- energy       ``u T_x + v T_y - alpha_T Lap T + J |grad phi|^2 = s_T``
- potential    ``u phi_x + v phi_y - D_phi div(sigma(T) grad phi) + eta (u + v/2) = s_phi``

Regimes (:data:`REGIMES`):

1. Boussinesq electrothermal flow: buoyancy ``-Ri (T - T0)`` in y-momentum and a temperature
   dependent conductivity ``sigma(T) = exp(beta_sigma (T - T0))`` in the potential equation;
2. drift-potential transport with gauge constraints: the base operator (``sigma = 1``, no
   buoyancy); ``p`` and ``phi`` are fixed by ``mean(p) = mean(phi) = 0`` instead of Dirichlet data
   (the gauge lives in the data, the operator only sees their gradients);
3. strong buoyancy-coupled convection: regime 1 with ``Ri`` multiplied by 10 (``ri_factor``) and
   steep temperature fronts in the manufactured fields;
4. Brinkman-Forchheimer drift: the base operator plus Darcy drag ``(nu / K) u`` and Forchheimer
   drag ``(c_F / sqrt(K)) |u| u`` (``|u| = sqrt(u^2 + v^2)``) in both momentum equations.

In regimes other than 1 and 3 ``sigma = 1``, so the potential diffusion is ``D_phi Lap phi``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["COMPONENTS", "FIELDS", "REGIMES", "ElectrothermalParams", "electrothermal_operator",
           "electrothermal_residual", "interior"]

#: Unknown fields, in channel order.
FIELDS = ("u", "v", "p", "phi", "T")
#: Equations (and their source terms s_c, s_x, s_y, s_T, s_phi), in channel order.
COMPONENTS = ("continuity", "momentum_x", "momentum_y", "energy", "potential")
#: Regime number -> short description.
REGIMES = {
    1: "Boussinesq electrothermal flow (buoyancy -Ri (T - T0), sigma(T) in the potential equation)",
    2: "drift-potential transport with gauge constraints (mean p = mean phi = 0)",
    3: "strong buoyancy-coupled convection (Ri x ri_factor, steep T fronts)",
    4: "Brinkman-Forchheimer drift (Darcy drag nu/K u, Forchheimer c_F/sqrt(K) |u| u)",
}


@dataclass(frozen=True)
class ElectrothermalParams:
    """Coefficients of the five-field operator (all dimensionless).

    Attributes
    ----------
    regime : int
        1, 2, 3 or 4 (:data:`REGIMES`).
    nu, alpha_t, d_phi : float
        Viscosity, thermal diffusivity, potential diffusivity; > 0. Defaults 0.02, 0.015, 0.02.
    c_phi, c_t, j, eta : float
        Electric body force, thermal coupling in x-momentum, Joule heating, drift coupling.
        Defaults 0.12, 0.08, 0.03, 0.05.
    ri, t0 : float
        Richardson number and reference temperature of the buoyancy term (regimes 1, 3);
        defaults 0.5 and 0.5. Regime 3 uses ``ri * ri_factor``.
    ri_factor : float
        Buoyancy amplification of regime 3 (default 10).
    beta_sigma : float
        Conductivity law ``sigma(T) = exp(beta_sigma (T - t0))`` (regimes 1, 3); default 0.5.
    k_perm, c_f : float
        Permeability ``K > 0`` and Forchheimer coefficient ``c_F >= 0`` (regime 4); defaults 0.05
        and 0.55.
    """

    regime: int = 1
    nu: float = 0.02
    alpha_t: float = 0.015
    d_phi: float = 0.02
    c_phi: float = 0.12
    c_t: float = 0.08
    j: float = 0.03
    eta: float = 0.05
    ri: float = 0.5
    t0: float = 0.5
    ri_factor: float = 10.0
    beta_sigma: float = 0.5
    k_perm: float = 0.05
    c_f: float = 0.55

    def __post_init__(self) -> None:
        if isinstance(self.regime, bool) or self.regime not in REGIMES:
            raise ValueError(f"regime {self.regime!r} is unknown; valid: "
                             + "; ".join(f"{k} ({v})" for k, v in REGIMES.items()))
        for name, value in asdict(self).items():
            if name != "regime" and not math.isfinite(float(value)):
                raise ValueError(f"{name} must be finite, got {value!r}")
        for name in ("nu", "alpha_t", "d_phi", "k_perm"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0 (a diffusivity / permeability), got "
                                 f"{getattr(self, name)!r}")
        if self.c_f < 0 or self.ri_factor <= 0:
            raise ValueError(f"c_f must be >= 0 and ri_factor > 0, got {self.c_f}, "
                             f"{self.ri_factor}")

    @property
    def buoyancy(self) -> float:
        """Effective Richardson number: ``ri`` (regime 1), ``ri * ri_factor`` (3), else 0."""
        return {1: self.ri, 3: self.ri * self.ri_factor}.get(self.regime, 0.0)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def electrothermal_operator(u: Tensor, v: Tensor, p: Tensor, phi: Tensor, temp: Tensor,
                            d: DerivativeProvider, params: ElectrothermalParams
                            ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Left-hand sides of the five equations (the source terms they must equal).

    Parameters
    ----------
    u, v, p, phi, temp : Tensor
        The five fields in the provider's layout: ``(batch, H, W)`` cell-centred values for
        :class:`~pdebench.physics.derivatives.FiniteDifference`, ``(N,)`` pointwise functions of
        the coordinates for :class:`~pdebench.physics.derivatives.Autograd`.
    d : DerivativeProvider
        A 2D provider (axis 0 = x, axis 1 = y).
    params : ElectrothermalParams
        Coefficients and regime.

    Returns
    -------
    tuple of Tensor
        ``(L_c, L_x, L_y, L_T, L_phi)`` shaped like ``u``, in the order of :data:`COMPONENTS`.
        Note: a finite-difference provider imposes its own boundary ghost values, so on fields
        with non-homogeneous boundary data only the :func:`interior` of the result is meaningful.
    """
    ux, uy = d.grad(u)
    vx, vy = d.grad(v)
    px, py = d.grad(p)
    fx, fy = d.grad(phi)
    tx, ty = d.grad(temp)
    cont = ux + vy
    mom_x = u * ux + v * uy + px - params.nu * d.lap(u) + params.c_phi * fx + params.c_t * temp
    mom_y = u * vx + v * vy + py - params.nu * d.lap(v) + params.c_phi * fy
    ri = params.buoyancy
    if ri:
        mom_y = mom_y - ri * (temp - params.t0)
    if params.regime == 4:
        speed = torch.sqrt(u * u + v * v)
        drag = params.nu / params.k_perm + params.c_f / math.sqrt(params.k_perm) * speed
        mom_x = mom_x + drag * u
        mom_y = mom_y + drag * v
    energy = u * tx + v * ty - params.alpha_t * d.lap(temp) + params.j * (fx * fx + fy * fy)
    if params.regime in (1, 3):
        sigma = torch.exp(params.beta_sigma * (temp - params.t0))
        diffusion = d.div_flux(sigma, phi)
    else:
        diffusion = d.lap(phi)
    potential = u * fx + v * fy - params.d_phi * diffusion + params.eta * (u + 0.5 * v)
    return cont, mom_x, mom_y, energy, potential


def electrothermal_residual(fields: tuple[Tensor, ...], sources: tuple[Tensor, ...],
                            d: DerivativeProvider, params: ElectrothermalParams
                            ) -> tuple[Tensor, ...]:
    """Residuals ``L(fields) - s`` of the five equations.

    Parameters
    ----------
    fields : tuple of 5 Tensor
        ``(u, v, p, phi, T)`` in the provider's layout (see :func:`electrothermal_operator`).
    sources : tuple of 5 Tensor
        ``(s_c, s_x, s_y, s_T, s_phi)``, broadcastable to the fields.
    d, params
        As in :func:`electrothermal_operator`.

    Returns
    -------
    tuple of Tensor
        Five residuals in the order of :data:`COMPONENTS`, units of the source terms.
    """
    if len(fields) != 5 or len(sources) != 5:
        raise ValueError(f"expected 5 fields {FIELDS} and 5 sources, got {len(fields)} and "
                         f"{len(sources)}")
    lhs = electrothermal_operator(*fields, d, params)
    return tuple(a - s for a, s in zip(lhs, sources, strict=True))


def interior(r: Tensor, width: int = 1) -> Tensor:
    """Drop ``width`` cells next to every wall of a ``(batch, H, W)`` field.

    A finite-difference provider's ghost cells encode homogeneous boundary data; the cells they
    touch are excluded when a field carries other boundary values (manufactured solutions).
    """
    if r.ndim != 3 or min(r.shape[1:]) <= 2 * width:
        raise ValueError(f"interior: need (batch, H, W) with H, W > {2 * width}, got "
                         f"{tuple(r.shape)}")
    return r[:, width:-width, width:-width]
