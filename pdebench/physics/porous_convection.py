"""Buoyancy-driven flows of Multiphysics Bench (specs/PROBLEMS.md C.2 and C.6), dimensionless.

Written once against a derivative provider (axis 0 = x, axis 1 = y, gravity along -y). With the
finite-difference provider only interior cells/nodes are meaningful where fields carry
non-homogeneous boundary data (:func:`pdebench.physics.electrothermal.interior`; the registered
equations leave them out with their ``margin``).

Elder problem (C.6), density-driven flow in a porous medium. Darcy
``u = -(k/mu)(grad p - rho(c) g)``, ``rho = rho0 (1 + beta c)`` (Boussinesq), ``div u = 0`` and
``phi c_t + u . grad c = D Lap c``; lengths in units of the box height ``H``, velocities in
``D / H``, time in ``phi H^2 / D``. The curl of Darcy's law with ``u = psi_y``, ``v = -psi_x``::

    Lap psi = Ra c_x,        Ra = k rho0 beta g H / (mu D)
    c_t + u c_x + v c_y = Lap c

Natural convection (C.2), steady Boussinesq flow, lengths in units of the cavity side ``L``,
velocities in ``kappa / L``, temperature in units of the source's scale, stream function
``psi`` (``u = psi_y``, ``v = -psi_x``) and vorticity ``omega = v_x - u_y = -Lap psi``::

    u . grad u = -grad p + Pr Lap u + Ra Pr T e_y,   div u = 0
    =>  u omega_x + v omega_y = Pr Lap omega + Ra Pr T_x
    u . grad T = Lap T + q

Each equation is a ``*_terms`` function (the terms whose sum is the residual; the registered
:class:`~pdebench.physics.equations.Equation` objects :data:`ELDER` and :data:`NS_HEAT` use them)
and a ``*_residual`` function returning their sum (the generators' self-checks): one
implementation per equation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation, dirichlet, neumann

__all__ = ["ELDER", "EQUATIONS", "NS_HEAT", "advection_diffusion_residual",
           "advection_diffusion_terms", "darcy_curl_residual", "darcy_curl_terms",
           "stream_velocity", "stream_vorticity_residual", "velocity_vorticity",
           "vorticity_transport_residual", "vorticity_transport_terms"]

Fields = Mapping[str, Tensor]


def _total(terms: Sequence[Tensor | float]) -> Tensor:
    """The sum of the terms, left to right."""
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def stream_velocity(psi: Tensor, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """``(u, v) = (psi_y, -psi_x)``: two tensors shaped like ``psi`` ``(batch, H, W)`` or ``(N,)``."""
    gx, gy = d.grad(psi)
    return gy, -gx


def velocity_vorticity(u: Tensor, v: Tensor, d: DerivativeProvider) -> Tensor:
    """Vorticity ``omega = v_x - u_y`` of a 2D velocity, shaped like ``u``.

    Parameters
    ----------
    u, v : Tensor
        Velocity components, ``(batch, H, W)`` on a grid or ``(N,)`` at collocation points.
    d : DerivativeProvider
        A 2D provider (axis 0 = x, axis 1 = y).

    Returns
    -------
    Tensor
        ``v_x - u_y`` (units of velocity / length). With finite differences the central
        differences of the provider: meaningful two nodes from a wall, where the stencil of a
        derivative of ``omega`` does not reach the provider's ghost cells.
    """
    (vx, _), (_, uy) = d.grad(v), d.grad(u)
    return vx - uy


def darcy_curl_terms(u: Tensor, v: Tensor, c: Tensor, ra: Tensor | float,
                     d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """Terms of the curl of Boussinesq Darcy flow: ``(v_x - u_y, Ra c_x)``.

    Parameters
    ----------
    u, v : Tensor
        Darcy velocity in units of ``D / H``, ``(batch, H, W)`` or ``(N,)``.
    c : Tensor
        Concentration (dimensionless), shaped like ``u``.
    ra : Tensor or float
        Rayleigh number, broadcastable to ``u`` (one value per sample, or a map).
    d : DerivativeProvider
        A 2D provider (axis 0 = x, axis 1 = y, gravity along -y).

    Returns
    -------
    tuple of Tensor
        The vorticity of the Darcy velocity and the buoyancy torque, units ``D / H^2``; their sum
        is zero for a solution (``Lap psi = Ra c_x`` with ``u = psi_y``, ``v = -psi_x``).
    """
    (cx, _) = d.grad(c)
    return velocity_vorticity(u, v, d), ra * cx


def darcy_curl_residual(u: Tensor, v: Tensor, c: Tensor, ra: Tensor | float,
                        d: DerivativeProvider) -> Tensor:
    """Curl of Boussinesq Darcy flow, ``v_x - u_y + Ra c_x`` (zero for a solution).

    ``u``, ``v``, ``c`` are ``(batch, H, W)`` or ``(N,)``; ``ra`` broadcastable (per sample). The
    sum of :func:`darcy_curl_terms`.
    """
    return _total(darcy_curl_terms(u, v, c, ra, d))


def advection_diffusion_terms(c_t: Tensor | float, c: Tensor, u: Tensor, v: Tensor,
                              d: DerivativeProvider, diffusivity: float = 1.0,
                              source: Tensor | float = 0.0
                              ) -> tuple[Tensor | float, Tensor, Tensor, Tensor | float]:
    """Terms of ``c_t + u c_x + v c_y - diffusivity Lap c - source``.

    Parameters
    ----------
    c_t : Tensor or float
        Time derivative of ``c`` (``0.0`` for a steady problem), shaped like ``c`` or a number.
    c : Tensor
        The transported scalar, ``(batch, H, W)`` or ``(N,)``.
    u, v : Tensor
        Advecting velocity, shaped like ``c``.
    d : DerivativeProvider
        A 2D provider.
    diffusivity : float
        Diffusion coefficient (1 in both dimensionless problems).
    source : Tensor or float
        Volumetric source, broadcastable to ``c``.

    Returns
    -------
    tuple
        ``(c_t, u c_x + v c_y, -diffusivity Lap c, -source)`` in units of ``[c] / time``; their
        sum is zero for a solution.
    """
    cx, cy = d.grad(c)
    return c_t, u * cx + v * cy, -diffusivity * d.lap(c), -source


def advection_diffusion_residual(c_t: Tensor | float, c: Tensor, u: Tensor, v: Tensor,
                                 d: DerivativeProvider, diffusivity: float = 1.0,
                                 source: Tensor | float = 0.0) -> Tensor:
    """``c_t + u c_x + v c_y - diffusivity Lap c - source`` (zero for a solution).

    Elder transport with ``c_t`` the time derivative and ``source = 0``; the steady heat equation
    of natural convection with ``c_t = 0``, ``c = T`` and ``source = q``. The sum of
    :func:`advection_diffusion_terms`.
    """
    return _total(advection_diffusion_terms(c_t, c, u, v, d, diffusivity, source))


def stream_vorticity_residual(psi: Tensor, omega: Tensor, d: DerivativeProvider) -> Tensor:
    """``Lap psi + omega`` (zero when ``omega`` is the vorticity of ``(psi_y, -psi_x)``)."""
    return d.lap(psi) + omega


def vorticity_transport_terms(omega: Tensor, u: Tensor, v: Tensor, temp: Tensor,
                              ra: Tensor | float, pr: float, d: DerivativeProvider
                              ) -> tuple[Tensor, Tensor, Tensor]:
    """Terms of the steady Boussinesq vorticity equation.

    Parameters
    ----------
    omega : Tensor
        Vorticity ``v_x - u_y``, ``(batch, H, W)`` or ``(N,)``, units ``kappa / L^2``.
    u, v : Tensor
        Velocity (units ``kappa / L``), shaped like ``omega``.
    temp : Tensor
        Temperature, shaped like ``omega``.
    ra : Tensor or float
        Rayleigh number, broadcastable (one value per sample, or a map).
    pr : float
        Prandtl number.
    d : DerivativeProvider
        A 2D provider (axis 0 = x, axis 1 = y, gravity along -y).

    Returns
    -------
    tuple of Tensor
        ``(u omega_x + v omega_y, -Pr Lap omega, -Ra Pr T_x)``, units ``kappa^2 / L^4``; their sum
        is zero for a solution.
    """
    wx, wy = d.grad(omega)
    (tx, _) = d.grad(temp)
    return u * wx + v * wy, -pr * d.lap(omega), -ra * pr * tx


def vorticity_transport_residual(omega: Tensor, u: Tensor, v: Tensor, temp: Tensor,
                                 ra: Tensor | float, pr: float,
                                 d: DerivativeProvider) -> Tensor:
    """Steady Boussinesq vorticity equation ``u omega_x + v omega_y - Pr Lap omega - Ra Pr T_x``.

    Shapes ``(batch, H, W)`` or ``(N,)``; ``ra`` broadcastable, ``pr`` the Prandtl number. The
    sum of :func:`vorticity_transport_terms`.
    """
    return _total(vorticity_transport_terms(omega, u, v, temp, ra, pr, d))


# ----------------------------------------------------------------------------------------------
# Registered equations
# ----------------------------------------------------------------------------------------------

def _elder_darcy(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    return darcy_curl_terms(fields["u"], fields["v"], fields["c"], fields["ra"], d)


def _elder_transport(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    return advection_diffusion_terms(fields["c_t"], fields["c"], fields["u"], fields["v"], d)


_ELDER_DARCY = Component(("u", "v", "c", "ra"), _elder_darcy, units="D/H^2")

#: Elder problem (Multiphysics Bench C.6) on the half box ``[0, 2] x [0, 1]``, cell-centred
#: ``c, u, v`` (:mod:`pdebench.datasets.multiphysics_bench.elder`), Ra per sample from the
#: constant input map ``ra``.
#:
#: - components: ``darcy`` (curl of Darcy's law, :func:`darcy_curl_terms`) and ``transport``
#:   (:func:`advection_diffusion_terms` with ``c_t``), at the midpoint of each frame step;
#: - ``bc_error/c``: ``c = 0`` on the bottom, no salt flux (``dc/dn = 0``) through the outer wall
#:   and the symmetry plane. The top is mixed (``c = 1`` under the source, no flux elsewhere): a
#:   condition that changes along one wall with the ``source`` input is not expressible per side,
#:   so the top is left out;
#: - ``bc_error/u``, ``bc_error/v``: no flow through any wall (``psi = 0``): ``u = 0`` on the
#:   x walls, ``v = 0`` on the y walls (the tangential Darcy velocity is free);
#: - ``divergence_l2``: ``(u, v)`` is divergence-free;
#: - ``coupling_consistency``: the curl of Darcy's law, whose terms are all coupling terms (the
#:   vorticity of the velocity against the buoyancy torque ``Ra c_x`` of the concentration that
#:   drives it), so it equals ``residual_l2/elder/darcy``;
#: - no ``conservation_error``: salt mass is not conserved, the source (``c = 1`` on the top) and
#:   the sink (``c = 0`` on the bottom) exchange salt through the walls.
ELDER = Equation(
    name="elder",
    description="Elder problem: curl of Boussinesq Darcy flow v_x - u_y + Ra c_x = 0 and salt "
                "transport c_t + u.grad c = Lap c (Multiphysics Bench C.6)",
    unknowns=("c", "u", "v"), coefficients=("ra",), time_derivatives=("c",),
    components={"darcy": _ELDER_DARCY,
                "transport": Component(("c", "c_t", "u", "v"), _elder_transport,
                                       units="D/(phi H^2)")},
    boundary={"c": {"y_lo": dirichlet(0.0), "x_lo": neumann(0.0), "x_hi": neumann(0.0)},
              "u": {"x_lo": dirichlet(0.0), "x_hi": dirichlet(0.0)},
              "v": {"y_lo": dirichlet(0.0), "y_hi": dirichlet(0.0)}},
    coupled=("c", "u", "v"), coupling=_ELDER_DARCY, velocity=("u", "v"),
    grids=("cell_centered",),
)


def _ns_heat_heat(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    return advection_diffusion_terms(0.0, fields["T"], fields["u"], fields["v"], d,
                                     source=fields["q"])


def _ns_heat_vorticity(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider):
    u, v = fields["u"], fields["v"]
    return vorticity_transport_terms(velocity_vorticity(u, v, d), u, v, fields["T"],
                                     fields["ra"], float(params["pr"]), d)


_NS_HEAT_VORTICITY = Component(("u", "v", "T", "ra"), _ns_heat_vorticity,
                               units="kappa^2/L^4")

#: Natural convection around a heated disc (Multiphysics Bench C.2), steady, on the vertex grid
#: of the unit cavity (:mod:`pdebench.datasets.multiphysics_bench.ns_heat`); ``q`` and ``Ra`` from
#: the input maps, ``Pr`` from ``pde_params``.
#:
#: - components: ``heat`` (``u . grad T - Lap T - q``) and ``vorticity`` (the curl of the
#:   momentum equation with ``omega = v_x - u_y`` from the velocity: the data carry no pressure,
#:   stream function or vorticity). ``margin = 2``: a derivative of ``omega`` two nodes from a wall
#:   is the first that does not reach the provider's ghost nodes;
#: - ``bc_error``: no slip ``u = v = 0`` on every wall, ``T = 0`` on the cold side walls
#:   ``x = 0, 1``, adiabatic ``dT/dn = 0`` on the top and bottom;
#: - ``divergence_l2``: ``(u, v)`` is divergence-free;
#: - ``coupling_consistency``: the vorticity equation, the only place the temperature drives the
#:   flow (buoyancy torque ``Ra Pr T_x`` against the vorticity it generates); it equals
#:   ``residual_l2/ns_heat/vorticity``;
#: - no ``conservation_error``: the data are steady (no rollout to drift along). The steady heat
#:   balance (source heat = heat out through the cold walls) is a global budget, not a metric of
#:   ``specs/METRICS.md``.
NS_HEAT = Equation(
    name="ns_heat",
    description="steady Boussinesq natural convection around a heated disc: u.grad T = Lap T + q "
                "and the vorticity equation u.grad w = Pr Lap w + Ra Pr T_x (Multiphysics Bench "
                "C.2)",
    unknowns=("u", "v", "T"), coefficients=("q", "ra"), params=("pr",),
    components={"heat": Component(("u", "v", "T", "q"), _ns_heat_heat, units="kappa/L^2"),
                "vorticity": _NS_HEAT_VORTICITY},
    boundary={"u": {"all": dirichlet(0.0)}, "v": {"all": dirichlet(0.0)},
              "T": {"x_lo": dirichlet(0.0), "x_hi": dirichlet(0.0), "y_lo": neumann(0.0),
                    "y_hi": neumann(0.0)}},
    coupled=("u", "v", "T"), coupling=_NS_HEAT_VORTICITY, velocity=("u", "v"),
    margin=2, grids=("vertex",),
)

EQUATIONS = (ELDER, NS_HEAT)
