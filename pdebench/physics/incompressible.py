"""2D incompressible Navier--Stokes in velocity--pressure and vorticity form, against a provider.

specs/PROBLEMS.md, D (flow past a cylinder; dimensionless, density 1, ``nu = 1 / Re``):

    u_t + (u . grad) u + grad p - nu lap u - f = 0,    div u = 0,
    w_t + u . grad w - nu lap w - curl f = 0,          w = v_x - u_y,
    lap p + div((u . grad) u) - div f = 0               (the divergence of the momentum equation).

Layout of the functions below: the provider's dimension 0 is ``x`` and dimension 1 is ``y``: a
finite-difference field is ``(batch, X, Y)``. Data stored ``(T, H, W)`` with axis ``H = y``
(RealPDEBench's layout) is passed transposed, ``field.transpose(-1, -2)``, with spacing
``(h_x, h_y)``. For ``Autograd`` the collocation coordinates are ``(x, y)`` in that order. Units:
lengths in ``D``, velocities in ``U``, time in ``D / U``, pressure in ``rho U^2``.

The registered :data:`INCOMPRESSIBLE` equation (``DatasetMeta.pde = "incompressible"``) is the same
physics on data in RealPDEBench's own ``(H, W) = (y, x)`` layout: it calls these functions with the
two axes and the two velocity components swapped (a reflection, under which the equations are
invariant), so there is one implementation of each equation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation

__all__ = ["EQUATIONS", "GEOMETRY_PARAMS", "INCOMPRESSIBLE", "continuity_terms", "cylinder_fluid",
           "divergence", "momentum_residual", "momentum_terms", "pressure_poisson_residual",
           "pressure_poisson_terms", "vorticity", "vorticity_residual", "vorticity_terms"]

Number = Tensor | float


def _f(value: Number | None) -> Number:
    return 0.0 if value is None else value


def _sum(terms: tuple[Number, ...]) -> Tensor:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def continuity_terms(u: Tensor, v: Tensor, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """Terms ``(u_x, v_y)`` of the continuity equation ``div u = 0``, each shaped like ``u``.

    Units ``U / D``; shapes as in :func:`momentum_residual`.
    """
    return d.grad(u)[0], d.grad(v)[1]


def divergence(u: Tensor, v: Tensor, d: DerivativeProvider) -> Tensor:
    """``u_x + v_y``, shaped like ``u`` (units ``U / D``): the sum of :func:`continuity_terms`.

    With the solver's own provider (:class:`pdebench.datasets.realpdebench.cylinder_solver.SpectralDerivatives`)
    it is round-off for the solver's velocity; with ``FiniteDifference(bc="periodic")`` it is the
    second-order central difference (``O(h^2)`` truncation of a spectral field).
    """
    return _sum(continuity_terms(u, v, d))


def vorticity(u: Tensor, v: Tensor, d: DerivativeProvider) -> Tensor:
    """``w = v_x - u_y``, shaped like ``u`` (units ``U / D``)."""
    return d.grad(v)[0] - d.grad(u)[1]


def momentum_terms(u_t: Tensor, v_t: Tensor, u: Tensor, v: Tensor, p: Tensor,
                   nu: Number, d: DerivativeProvider,
                   forcing: tuple[Number, Number] | None = None
                   ) -> tuple[tuple[Number, ...], tuple[Number, ...]]:
    """Terms of the two momentum equations, ``(terms_x, terms_y)``.

    ``terms_x = (u_t, u u_x, v u_y, p_x, -nu lap u, -f_x)`` and likewise for ``y``; their sums are
    :func:`momentum_residual`. Arguments as there; each term is shaped like ``u`` (``-f`` may be a
    number), units ``U^2 / D``.
    """
    fx, fy = forcing if forcing is not None else (None, None)
    ux, uy = d.grad(u)
    vx, vy = d.grad(v)
    px, py = d.grad(p)
    return ((u_t, u * ux, v * uy, px, -nu * d.lap(u), -_f(fx)),
            (v_t, u * vx, v * vy, py, -nu * d.lap(v), -_f(fy)))


def momentum_residual(u_t: Tensor, v_t: Tensor, u: Tensor, v: Tensor, p: Tensor,
                      nu: Tensor | float, d: DerivativeProvider,
                      forcing: tuple[Tensor | float, Tensor | float] | None = None
                      ) -> tuple[Tensor, Tensor]:
    """Residual of the momentum equations, ``(r_x, r_y)``, each shaped like ``u``.

    ``r = u_t + (u . grad) u + grad p - nu lap u - f`` (the sums of :func:`momentum_terms`).

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
    tx, ty = momentum_terms(u_t, v_t, u, v, p, nu, d, forcing)
    return _sum(tx), _sum(ty)


def pressure_poisson_terms(u: Tensor, v: Tensor, p: Tensor, d: DerivativeProvider,
                           forcing: tuple[Number, Number] | None = None
                           ) -> tuple[Number, Number, Number]:
    """Terms ``(lap p, div((u . grad) u), -div f)`` of the pressure equation.

    The divergence of the momentum equation for a divergence-free velocity (the viscous term and
    ``u_t`` drop out, so it needs no ``nu``): the equation the cylinder solver solves for its
    pressure frames. Shapes as in :func:`momentum_residual`; units ``U^2 / D^2``. ``-div f`` is the
    number 0 without ``forcing``.
    """
    ux, uy = d.grad(u)
    vx, vy = d.grad(v)
    adv = d.div((u * ux + v * uy, u * vx + v * vy))
    force = 0.0 if forcing is None else -d.div(tuple(forcing))
    return d.lap(p), adv, force


def pressure_poisson_residual(u: Tensor, v: Tensor, p: Tensor, d: DerivativeProvider,
                              forcing: tuple[Number, Number] | None = None) -> Tensor:
    """``lap p + div((u . grad) u) - div f``, the sum of :func:`pressure_poisson_terms`.

    Parameters
    ----------
    u, v, p : Tensor
        As in :func:`momentum_residual`.
    d : DerivativeProvider
    forcing : (Tensor, Tensor), optional
        Body force ``f``, shaped like ``u`` (its divergence is taken); default zero.

    Returns
    -------
    Tensor
        Shaped like ``u``, units ``U^2 / D^2``.
    """
    return _sum(pressure_poisson_terms(u, v, p, d, forcing))


def vorticity_terms(w_t: Tensor, u: Tensor, v: Tensor, nu: Number, d: DerivativeProvider,
                    curl_forcing: Number = 0.0) -> tuple[Number, ...]:
    """Terms ``(w_t, u w_x, v w_y, -nu lap w, -curl f)`` with ``w`` = :func:`vorticity`.

    Their sum is :func:`vorticity_residual`; units ``U^2 / D^2``.
    """
    w = vorticity(u, v, d)
    wx, wy = d.grad(w)
    return w_t, u * wx, v * wy, -nu * d.lap(w), -curl_forcing


def vorticity_residual(w_t: Tensor, u: Tensor, v: Tensor, nu: Tensor | float,
                       d: DerivativeProvider, curl_forcing: Tensor | float = 0.0) -> Tensor:
    """Residual ``w_t + u w_x + v w_y - nu lap w - curl f`` with ``w`` = :func:`vorticity`.

    ``w_t`` is the time derivative of the vorticity (units ``U^2 / D^2``); shapes as in
    :func:`momentum_residual`. The pressure drops out, so this is the check for data without
    pressure (the emulated measurements carry ``u, v`` only).
    """
    return _sum(vorticity_terms(w_t, u, v, nu, d, curl_forcing))


# ----------------------------------------------------------------------------------------------
# The registered equation: fields in RealPDEBench's (H, W) = (y, x) layout
# ----------------------------------------------------------------------------------------------
# Provider dimension 0 is the cross-stream y and dimension 1 the streamwise x, so the velocity in
# dimension order is (v, u). Calling the functions above with (v, u) for (u, v) evaluates the
# equations in the reflected frame (x', y') = (y, x): scalar equations are unchanged, the momentum
# components come back as (y, x), and the vorticity changes sign (w' = -w).

Fields = Mapping[str, Tensor]
Params = Mapping[str, Any]

#: ``pde_params`` keys of the flow-past-a-cylinder geometry that :func:`cylinder_fluid` reads
#: (lengths in ``D``): the box (``length`` along x, ``height`` along y, both periodic), the
#: cylinder's centre, the radius of the excluded disk around it (the penalised body and the tail
#: of its smoothed indicator) and the fringe band (centre and half-width).
GEOMETRY_PARAMS = ("length", "height", "cylinder_x", "cylinder_y", "body_exclusion_radius",
                   "fringe_x", "fringe_exclusion_half_width")


def _momentum(f: Fields, d: DerivativeProvider) -> tuple[tuple[Number, ...], tuple[Number, ...]]:
    """``(terms_y, terms_x)`` in the (y, x) layout."""
    return momentum_terms(f["v_t"], f["u_t"], f["v"], f["u"], f["p"], f["nu"], d)


def _momentum_x(f: Fields, params: Params, d: DerivativeProvider) -> tuple[Number, ...]:
    return _momentum(f, d)[1]


def _momentum_y(f: Fields, params: Params, d: DerivativeProvider) -> tuple[Number, ...]:
    return _momentum(f, d)[0]


def _continuity(f: Fields, params: Params, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    return continuity_terms(f["v"], f["u"], d)


def _pressure(f: Fields, params: Params, d: DerivativeProvider) -> tuple[Number, ...]:
    return pressure_poisson_terms(f["v"], f["u"], f["p"], d)


def _vorticity(f: Fields, params: Params, d: DerivativeProvider) -> tuple[Number, ...]:
    w_t = vorticity(f["v_t"], f["u_t"], d)  # = -w_t in the reflected frame
    return tuple(-t for t in vorticity_terms(w_t, f["v"], f["u"], f["nu"], d))


def _wrap(a: Tensor, period: float) -> Tensor:
    """``a`` mapped to ``[-period / 2, period / 2]`` (periodic distance)."""
    return a - period * torch.round(a / period)


def cylinder_fluid(fields: Fields, params: Params) -> Tensor:
    """Where the plain Navier--Stokes equations govern: outside the body and the fringe.

    Parameters
    ----------
    fields : mapping
        The coordinates of provider dimensions 0 and 1 under the framework's names ``"x"`` and
        ``"y"``; for this equation dimension 0 is the physical ``y`` and dimension 1 the physical
        ``x`` (RealPDEBench's ``(H, W)``), so ``fields["x"]`` holds ``y`` values. Shapes
        ``(1, H, W)`` or broadcastable, units ``D``.
    params : mapping
        ``pde_params`` with the :data:`GEOMETRY_PARAMS` keys.

    Returns
    -------
    Tensor
        Bool, shaped like the coordinates: ``False`` inside the disk of radius
        ``body_exclusion_radius`` around ``(cylinder_x, cylinder_y)`` and within
        ``fringe_exclusion_half_width`` of ``x = fringe_x`` (distances periodic in both axes).
    """
    y, x = fields["x"], fields["y"]
    dx = _wrap(x - params["cylinder_x"], params["length"])
    dy = _wrap(y - params["cylinder_y"], params["height"])
    body = torch.hypot(dx, dy) <= params["body_exclusion_radius"]
    fringe = _wrap(x - params["fringe_x"], params["length"]).abs() \
        <= params["fringe_exclusion_half_width"]
    return ~(body | fringe)


#: Flow past a cylinder of the RealPDEBench stand-in (``cylinder_sim``: u, v, p;
#: ``cylinder_real``: emulated measurements of u, v), fields ``(batch, H, W)`` with ``H = y`` and
#: ``W = x`` (``Autograd`` collocation coordinates in the order ``(y, x)``).
#:
#: Components: ``momentum_x``, ``momentum_y`` (:func:`momentum_terms`), ``continuity``
#: (:func:`continuity_terms`), ``pressure`` (:func:`pressure_poisson_terms`, no ``nu``) and
#: ``vorticity`` (:func:`vorticity_terms`, velocity only). The momentum and vorticity equations
#: read the viscosity as a coefficient ``nu`` (``1 / Re``, an input field or, for a PINN, a
#: number); the cylinder datasets do not give the model ``Re`` (it differs per trajectory and
#: RealPDEBench's inputs are the frames only), so on them those two components do not score:
#: ``cylinder_sim`` scores ``continuity`` and ``pressure``, ``cylinder_real`` (no ``p``)
#: ``continuity``. Scored cells are those of :func:`cylinder_fluid` (the penalised body and the
#: fringe are forced, not plain Navier--Stokes), shrunk by ``margin`` = 1 cell. The solver's own
#: pressure meets ``pressure`` to the finite-difference truncation on coarse grids (second order
#: from 8 to 16 cells per D) but not below about 4% of the natural scale (measured at 32 cells
#: per D, where the spectral residual is the same).
#:
#: Metrics that do not apply: ``bc_error`` -- the box is periodic in both directions (no walls);
#: the no-slip condition on the cylinder is imposed by penalisation inside the excluded disk, not
#: on a wall of the box. ``coupling_consistency`` -- a single flow, not a coupled system (the
#: consistency of the pressure with the velocity is the ``pressure`` component).
#: ``conservation_error`` -- nothing is conserved: the body's drag and the fringe's relaxation to
#: the free stream change the momentum integrals, viscosity and forcing the kinetic energy, the
#: circulation of the scored region changes as the vorticity the body sheds crosses it (over the
#: whole periodic box it is zero identically), and the density is constant (no mass field).
INCOMPRESSIBLE = Equation(
    name="incompressible",
    description="2D incompressible Navier-Stokes past a penalised cylinder in a periodic box "
                "with a fringe (RealPDEBench stand-in, PROBLEMS D); fields (H, W) = (y, x)",
    unknowns=("u", "v", "p"),
    coefficients=("nu",),
    params=GEOMETRY_PARAMS,
    time_derivatives=("u", "v"),
    components={
        "momentum_x": Component(("u", "v", "p", "u_t", "v_t", "nu"), _momentum_x, "U^2/D"),
        "momentum_y": Component(("u", "v", "p", "u_t", "v_t", "nu"), _momentum_y, "U^2/D"),
        "continuity": Component(("u", "v"), _continuity, "U/D"),
        "pressure": Component(("u", "v", "p"), _pressure, "U^2/D^2"),
        "vorticity": Component(("u", "v", "u_t", "v_t", "nu"), _vorticity, "U^2/D^2"),
    },
    velocity=("v", "u"),
    grid_bc="periodic", margin=1, domain=cylinder_fluid, grids=("cell_centered",),
)

EQUATIONS = (INCOMPRESSIBLE,)
