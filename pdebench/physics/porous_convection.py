"""Buoyancy-driven flows of Multiphysics Bench (specs/PROBLEMS.md C.2 and C.6), dimensionless.

Written once against a derivative provider (axis 0 = x, axis 1 = y, gravity along -y). With the
finite-difference provider only interior cells/nodes are meaningful where fields carry
non-homogeneous boundary data (:func:`pdebench.physics.electrothermal.interior`).

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
"""

from __future__ import annotations

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["advection_diffusion_residual", "darcy_curl_residual", "stream_velocity",
           "stream_vorticity_residual", "vorticity_transport_residual"]


def stream_velocity(psi: Tensor, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """``(u, v) = (psi_y, -psi_x)``: two tensors shaped like ``psi`` ``(batch, H, W)`` or ``(N,)``."""
    gx, gy = d.grad(psi)
    return gy, -gx


def darcy_curl_residual(u: Tensor, v: Tensor, c: Tensor, ra: Tensor | float,
                        d: DerivativeProvider) -> Tensor:
    """Curl of Boussinesq Darcy flow, ``v_x - u_y + Ra c_x`` (zero for a solution).

    ``u``, ``v``, ``c`` are ``(batch, H, W)`` or ``(N,)``; ``ra`` broadcastable (per sample).
    """
    (vx, _), (_, uy), (cx, _) = d.grad(v), d.grad(u), d.grad(c)
    return vx - uy + ra * cx


def advection_diffusion_residual(c_t: Tensor, c: Tensor, u: Tensor, v: Tensor,
                                 d: DerivativeProvider, diffusivity: float = 1.0,
                                 source: Tensor | float = 0.0) -> Tensor:
    """``c_t + u c_x + v c_y - diffusivity Lap c - source`` (zero for a solution).

    Elder transport with ``c_t`` the time derivative and ``source = 0``; the steady heat equation
    of natural convection with ``c_t = 0``, ``c = T`` and ``source = q``.
    """
    cx, cy = d.grad(c)
    return c_t + u * cx + v * cy - diffusivity * d.lap(c) - source


def stream_vorticity_residual(psi: Tensor, omega: Tensor, d: DerivativeProvider) -> Tensor:
    """``Lap psi + omega`` (zero when ``omega`` is the vorticity of ``(psi_y, -psi_x)``)."""
    return d.lap(psi) + omega


def vorticity_transport_residual(omega: Tensor, u: Tensor, v: Tensor, temp: Tensor,
                                 ra: Tensor | float, pr: float,
                                 d: DerivativeProvider) -> Tensor:
    """Steady Boussinesq vorticity equation ``u omega_x + v omega_y - Pr Lap omega - Ra Pr T_x``.

    Shapes ``(batch, H, W)`` or ``(N,)``; ``ra`` broadcastable, ``pr`` the Prandtl number.
    """
    wx, wy = d.grad(omega)
    (tx, _) = d.grad(temp)
    return u * wx + v * wy - pr * d.lap(omega) - ra * pr * tx
