"""2D incompressible Navier--Stokes in velocity--pressure and vorticity form, against a provider.

specs/PROBLEMS.md, D (flow past a cylinder; dimensionless, density 1, ``nu = 1 / Re``):

    u_t + (u . grad) u + grad p - nu lap u - f = 0,    div u = 0,
    w_t + u . grad w - nu lap w - curl f = 0,          w = v_x - u_y.

Layout: the provider's dimension 0 is ``x`` and dimension 1 is ``y``: a finite-difference field is
``(batch, X, Y)``. Data stored ``(T, H, W)`` with axis ``H = y`` (RealPDEBench's layout) is passed
transposed, ``field.transpose(-1, -2)``, with spacing ``(h_x, h_y)``. For ``Autograd`` the
collocation coordinates are ``(x, y)`` in that order. Units: lengths in ``D``, velocities in
``U``, time in ``D / U``, pressure in ``rho U^2``.
"""

from __future__ import annotations

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["divergence", "momentum_residual", "vorticity", "vorticity_residual"]


def _f(value: Tensor | float | None) -> Tensor | float:
    return 0.0 if value is None else value


def divergence(u: Tensor, v: Tensor, d: DerivativeProvider) -> Tensor:
    """``u_x + v_y``, shaped like ``u`` (units ``U / D``).

    With the solver's own provider (:class:`pdebench.datasets.realpdebench.cylinder_solver.SpectralDerivatives`)
    it is round-off for the solver's velocity; with ``FiniteDifference(bc="periodic")`` it is the
    second-order central difference (``O(h^2)`` truncation of a spectral field).
    """
    return d.div((u, v))


def vorticity(u: Tensor, v: Tensor, d: DerivativeProvider) -> Tensor:
    """``w = v_x - u_y``, shaped like ``u`` (units ``U / D``)."""
    return d.grad(v)[0] - d.grad(u)[1]


def momentum_residual(u_t: Tensor, v_t: Tensor, u: Tensor, v: Tensor, p: Tensor,
                      nu: Tensor | float, d: DerivativeProvider,
                      forcing: tuple[Tensor | float, Tensor | float] | None = None
                      ) -> tuple[Tensor, Tensor]:
    """Residual of the momentum equations, ``(r_x, r_y)``, each shaped like ``u``.

    ``r = u_t + (u . grad) u + grad p - nu lap u - f``.

    Parameters
    ----------
    u_t, v_t : Tensor
        Time derivatives of the velocity (e.g. differences between frames or solver steps).
    u, v, p : Tensor
        Velocity components along dims 0 (``x``) and 1 (``y``) and pressure, ``(batch, X, Y)``
        on a grid or ``(N,)`` at collocation points.
    nu : Tensor or float
        Kinematic viscosity ``1 / Re``; broadcastable.
    d : DerivativeProvider
    forcing : (Tensor, Tensor), optional
        Body force ``f`` (sponge, penalisation), broadcastable; default zero.

    Returns
    -------
    (Tensor, Tensor)
        Units ``U^2 / D``.
    """
    fx, fy = forcing if forcing is not None else (None, None)
    ux, uy = d.grad(u)
    vx, vy = d.grad(v)
    px, py = d.grad(p)
    rx = u_t + u * ux + v * uy + px - nu * d.lap(u) - _f(fx)
    ry = v_t + u * vx + v * vy + py - nu * d.lap(v) - _f(fy)
    return rx, ry


def vorticity_residual(w_t: Tensor, u: Tensor, v: Tensor, nu: Tensor | float,
                       d: DerivativeProvider, curl_forcing: Tensor | float = 0.0) -> Tensor:
    """Residual ``w_t + u w_x + v w_y - nu lap w - curl f`` with ``w`` = :func:`vorticity`.

    ``w_t`` is the time derivative of the vorticity (units ``U^2 / D^2``); shapes as in
    :func:`momentum_residual`. The pressure drops out, so this is the check for data without
    pressure (the emulated measurements carry ``u, v`` only).
    """
    w = vorticity(u, v, d)
    wx, wy = d.grad(w)
    return w_t + u * wx + v * wy - nu * d.lap(w) - curl_forcing
