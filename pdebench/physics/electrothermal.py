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

Each equation's terms are one function (:func:`continuity_terms`, :func:`momentum_x_terms`,
:func:`momentum_y_terms`, :func:`energy_terms`, :func:`potential_terms`); the generator's operator
(:func:`electrothermal_operator`) sums them and the registered equations :data:`ELECTROTHERMAL`
(regimes 1, 3, 4) and :data:`ELECTROTHERMAL_GAUGE` (regime 2) score them, with either provider.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation, dirichlet

__all__ = ["COMPONENTS", "ELECTROTHERMAL", "ELECTROTHERMAL_GAUGE", "EQUATIONS", "FIELDS",
           "PARAMS", "REGIMES", "SOURCES", "ElectrothermalParams", "continuity_terms",
           "electrothermal_operator", "electrothermal_residual", "energy_terms", "interior",
           "momentum_x_terms", "momentum_y_terms", "potential_terms"]

#: Unknown fields, in channel order.
FIELDS = ("u", "v", "p", "phi", "T")
#: Equations (and their source terms s_c, s_x, s_y, s_T, s_phi), in channel order.
COMPONENTS = ("continuity", "momentum_x", "momentum_y", "energy", "potential")
#: Source fields (dataset inputs), one per equation of :data:`COMPONENTS`, in channel order.
SOURCES = ("s_c", "s_x", "s_y", "s_T", "s_phi")
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


#: ``DatasetMeta.pde_params`` keys of the operator: the fields of :class:`ElectrothermalParams`.
PARAMS = tuple(f.name for f in dataclasses.fields(ElectrothermalParams))


def _coefficients(params: ElectrothermalParams | Mapping[str, Any]) -> ElectrothermalParams:
    """``params`` as :class:`ElectrothermalParams` (a ``DatasetMeta.pde_params`` mapping holds the
    regime as a number)."""
    if isinstance(params, ElectrothermalParams):
        return params
    values = {k: float(params[k]) for k in PARAMS}
    regime = values.pop("regime")
    if regime != int(regime):
        raise ValueError(f"regime must be an integer, got {regime!r}")
    return ElectrothermalParams(regime=int(regime), **values)


def continuity_terms(u: Tensor, v: Tensor, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """Terms ``(u_x, v_y)`` of the continuity operator ``u_x + v_y`` (equals ``s_c``).

    Fields in the provider's layout (see :func:`electrothermal_operator`); units ``U / L``.
    """
    (ux, _), (_, vy) = d.grad(u), d.grad(v)
    return ux, vy


def momentum_x_terms(u: Tensor, v: Tensor, p: Tensor, phi: Tensor, temp: Tensor,
                     d: DerivativeProvider, params: ElectrothermalParams
                     ) -> tuple[Tensor, ...]:
    """Terms of the x-momentum operator (equals ``s_x``).

    Returns
    -------
    tuple of Tensor
        ``(u u_x + v u_y, p_x, -nu Lap u, c_phi phi_x, c_T T)`` and, in regime 4, the drag
        ``(nu / K + c_F / sqrt(K) |u|) u``; shaped like ``u``.
    """
    ux, uy = d.grad(u)
    (px, _), (fx, _) = d.grad(p), d.grad(phi)
    terms = (u * ux + v * uy, px, -params.nu * d.lap(u), params.c_phi * fx, params.c_t * temp)
    if params.regime == 4:
        terms += (_drag(u, v, params) * u,)
    return terms


def momentum_y_terms(u: Tensor, v: Tensor, p: Tensor, phi: Tensor, temp: Tensor,
                     d: DerivativeProvider, params: ElectrothermalParams
                     ) -> tuple[Tensor, ...]:
    """Terms of the y-momentum operator (equals ``s_y``).

    Returns
    -------
    tuple of Tensor
        ``(u v_x + v v_y, p_y, -nu Lap v, c_phi phi_y)``, then the buoyancy ``-Ri (T - T0)`` in
        regimes 1 and 3 (``Ri`` = :attr:`ElectrothermalParams.buoyancy`) and the drag
        ``(nu / K + c_F / sqrt(K) |u|) v`` in regime 4; shaped like ``u``.
    """
    vx, vy = d.grad(v)
    (_, py), (_, fy) = d.grad(p), d.grad(phi)
    terms = (u * vx + v * vy, py, -params.nu * d.lap(v), params.c_phi * fy)
    ri = params.buoyancy
    if ri:
        terms += (-ri * (temp - params.t0),)
    if params.regime == 4:
        terms += (_drag(u, v, params) * v,)
    return terms


def _drag(u: Tensor, v: Tensor, params: ElectrothermalParams) -> Tensor:
    """Darcy-Forchheimer drag coefficient ``nu / K + c_F / sqrt(K) |u|`` (regime 4)."""
    speed = torch.sqrt(u * u + v * v)
    return params.nu / params.k_perm + params.c_f / math.sqrt(params.k_perm) * speed


def energy_terms(u: Tensor, v: Tensor, phi: Tensor, temp: Tensor, d: DerivativeProvider,
                 params: ElectrothermalParams) -> tuple[Tensor, Tensor, Tensor]:
    """Terms ``(u T_x + v T_y, -alpha_T Lap T, J |grad phi|^2)`` of the energy operator (equals
    ``s_T``); the last is the Joule heating by the potential gradient."""
    tx, ty = d.grad(temp)
    fx, fy = d.grad(phi)
    return u * tx + v * ty, -params.alpha_t * d.lap(temp), params.j * (fx * fx + fy * fy)


def potential_terms(u: Tensor, v: Tensor, phi: Tensor, temp: Tensor, d: DerivativeProvider,
                    params: ElectrothermalParams) -> tuple[Tensor, Tensor, Tensor]:
    """Terms ``(u phi_x + v phi_y, -D_phi div(sigma grad phi), eta (u + v/2))`` of the potential
    operator (equals ``s_phi``); ``sigma = exp(beta_sigma (T - T0))`` in regimes 1 and 3 (flux
    form, :meth:`~pdebench.physics.derivatives.DerivativeProvider.div_flux`), else 1."""
    fx, fy = d.grad(phi)
    if params.regime in (1, 3):
        sigma = torch.exp(params.beta_sigma * (temp - params.t0))
        diffusion = d.div_flux(sigma, phi)
    else:
        diffusion = d.lap(phi)
    return u * fx + v * fy, -params.d_phi * diffusion, params.eta * (u + 0.5 * v)


def _total(terms: tuple[Tensor, ...]) -> Tensor:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def electrothermal_operator(u: Tensor, v: Tensor, p: Tensor, phi: Tensor, temp: Tensor,
                            d: DerivativeProvider, params: ElectrothermalParams
                            ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Left-hand sides of the five equations (the source terms they must equal).

    Each is the sum of the terms of :func:`continuity_terms`, :func:`momentum_x_terms`,
    :func:`momentum_y_terms`, :func:`energy_terms` and :func:`potential_terms` (the terms the
    registered :data:`ELECTROTHERMAL` equation scores).

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
    return (_total(continuity_terms(u, v, d)),
            _total(momentum_x_terms(u, v, p, phi, temp, d, params)),
            _total(momentum_y_terms(u, v, p, phi, temp, d, params)),
            _total(energy_terms(u, v, phi, temp, d, params)),
            _total(potential_terms(u, v, phi, temp, d, params)))


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


# ----------------------------------------------------------------------------------------------
# Registered equations
# ----------------------------------------------------------------------------------------------

Fields = Mapping[str, Tensor]


def _continuity(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    return (*continuity_terms(fields["u"], fields["v"], d), -fields["s_c"])


def _momentum_x(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    f = fields
    return (*momentum_x_terms(f["u"], f["v"], f["p"], f["phi"], f["T"], d,
                              _coefficients(params)), -f["s_x"])


def _momentum_y(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    f = fields
    return (*momentum_y_terms(f["u"], f["v"], f["p"], f["phi"], f["T"], d,
                              _coefficients(params)), -f["s_y"])


def _energy(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    f = fields
    return (*energy_terms(f["u"], f["v"], f["phi"], f["T"], d, _coefficients(params)),
            -f["s_T"])


def _potential(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    f = fields
    return (*potential_terms(f["u"], f["v"], f["phi"], f["T"], d, _coefficients(params)),
            -f["s_phi"])


_ENERGY = Component(("u", "v", "phi", "T", "s_T"), _energy, units="1")

#: The five-field operator as an :class:`~pdebench.physics.equations.Equation` (LSTM-PINN family,
#: :mod:`pdebench.datasets.lstm_pinn.electrothermal`): unknowns ``u, v, p, phi, T``, coefficients
#: the source fields :data:`SOURCES`, the regime and the coefficients from ``pde_params``
#: (:data:`PARAMS`; the regime's operator terms are chosen from ``pde_params["regime"]``). The
#: same components serve the grid metrics (finite differences) and a PINN loss
#: (:class:`~pdebench.physics.derivatives.Autograd` at collocation points).
#:
#: - components: ``continuity``, ``momentum_x``, ``momentum_y``, ``energy``, ``potential``, each
#:   its operator terms minus its source; scored one cell from the walls (``margin = 1``);
#: - ``bc_error/<field>`` for all five fields: Dirichlet data = the closed form on every wall
#:   (``"reference"``: the reference solution's own wall trace);
#: - ``divergence_l2``: the manufactured velocity derives from a stream function (``s_c = 0``);
#: - ``coupling_consistency``: the energy equation, where the Joule heating ``J |grad phi|^2``
#:   (electric -> thermal) and the advection by ``(u, v)`` (flow -> thermal) drive the
#:   temperature; it equals ``residual_l2/electrothermal/energy``;
#: - no ``conservation_error``: the problem is steady.
ELECTROTHERMAL = Equation(
    name="electrothermal",
    description="steady five-field electrothermal transport (u, v, p, phi, T) of the LSTM-PINN "
                "family, manufactured sources; regime and coefficients from pde_params",
    unknowns=FIELDS, coefficients=SOURCES, params=PARAMS,
    components={
        "continuity": Component(("u", "v", "s_c"), _continuity, units="1"),
        "momentum_x": Component(("u", "v", "p", "phi", "T", "s_x"), _momentum_x, units="1"),
        "momentum_y": Component(("u", "v", "p", "phi", "T", "s_y"), _momentum_y, units="1"),
        "energy": _ENERGY,
        "potential": Component(("u", "v", "phi", "T", "s_phi"), _potential, units="1"),
    },
    boundary={f: {"all": dirichlet("reference")} for f in FIELDS},
    coupled=("u", "v", "phi", "T"), coupling=_ENERGY, velocity=("u", "v"),
)

#: Regime 2 (gauge constraints): :data:`ELECTROTHERMAL` without the Dirichlet data of ``p`` and
#: ``phi``, which are fixed by ``mean(p) = mean(phi) = 0`` instead. The operator is the same (its
#: regime comes from ``pde_params``); only the set of boundary conditions, and so the metrics a
#: dataset gets, differs, and that set is a property of the equation, not of its parameters. The
#: gauge is not a wall condition and no metric of ``specs/METRICS.md`` measures it (a constant
#: offset of ``p`` or ``phi`` leaves every residual unchanged).
ELECTROTHERMAL_GAUGE = dataclasses.replace(
    ELECTROTHERMAL, name="electrothermal_gauge",
    description="five-field electrothermal transport, regime 2: p and phi fixed by the gauge "
                "mean(p) = mean(phi) = 0 instead of Dirichlet data",
    boundary={f: {"all": dirichlet("reference")} for f in ("u", "v", "T")},
    gauges=("p", "phi"),
)

EQUATIONS = (ELECTROTHERMAL, ELECTROTHERMAL_GAUGE)
