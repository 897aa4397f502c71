"""Viscous Burgers ``u_t + (u^2/2)_x = (nu/pi) u_xx``, written once against a derivative provider.

The viscosity convention is PDEBench's: the diffusion coefficient is ``nu / pi``.
:data:`BURGERS` registers the equation (``DatasetMeta.pde = "burgers"``) for the physics metrics
of :mod:`pdebench.physics.grid`; :func:`burgers_residual` (the generator's self-check) sums the
same terms, :func:`burgers_parts`.
"""

from __future__ import annotations

import math

from torch import Tensor

from pdebench.physics.advection import _check_1d, central_time_derivative, mass_density
from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation

__all__ = ["BURGERS", "EQUATIONS", "burgers_parts", "burgers_residual", "burgers_terms",
           "central_time_derivative"]


def burgers_parts(u_t: Tensor, u: Tensor, nu: Tensor | float,
                  d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """The terms ``(u_t, (u^2/2)_x, -(nu/pi) u_xx)`` of 1D viscous Burgers; their sum is the
    residual.

    Parameters and layouts as :func:`burgers_residual`. Returns three tensors shaped like ``u``
    (dimensionless per unit time).
    """
    _check_1d(d, "burgers_residual")
    (flux_x,) = d.grad(0.5 * u * u)
    return u_t, flux_x, -(nu / math.pi) * d.lap(u)


def burgers_residual(u_t: Tensor, u: Tensor, nu: Tensor | float,
                     d: DerivativeProvider) -> Tensor:
    """Residual ``r = u_t + (u^2/2)_x - (nu/pi) u_xx`` of 1D viscous Burgers (specs A.3).

    The flux derivative is taken in conservation form, ``d.grad(u^2 / 2)``; with the periodic
    finite-difference provider that is the central difference of the flux, so the spatial sum of
    ``r - u_t`` vanishes exactly (discrete conservation of the mean).

    Parameters
    ----------
    u_t : Tensor
        Time derivative of ``u``, shaped like ``u`` (see
        :func:`~pdebench.physics.advection.central_time_derivative` for gridded frames).
    u : Tensor
        The field: ``(batch, X)`` on a grid for
        :class:`~pdebench.physics.derivatives.FiniteDifference` (``bc="periodic"``), ``(N,)`` or
        ``(N, 1)`` at points for :class:`~pdebench.physics.derivatives.Autograd` built on ``x``
        alone. Dimensionless.
    nu : Tensor or float
        PDEBench's viscosity parameter (> 0); the diffusion coefficient is ``nu / pi``. A scalar
        or broadcastable to ``u``.
    d : DerivativeProvider
        One-dimensional spatial provider (``d.ndim == 1``); supplies ``grad`` and ``lap``.

    Returns
    -------
    Tensor
        The residual, shaped like ``u``: the sum of :func:`burgers_parts`.
    """
    return sum(burgers_parts(u_t, u, nu, d))


def burgers_terms(fields, params, d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`burgers_parts` in the equation signature: fields ``u``, ``u_t``; ``nu``."""
    return burgers_parts(fields["u_t"], fields["u"], params["nu"], d)


#: 1D viscous Burgers of PDEBench (A.3) on the periodic unit interval, ``nu`` from
#: ``pde_params``. Metrics on a grid (see :mod:`pdebench.physics.grid`): ``residual_l2/burgers``
#: and ``residual_rel/burgers`` (midpoint of each step: second order in ``dx`` and in the frame
#: spacing ``dt``; the pseudo-spectral solution itself is far more accurate, so the floor is the
#: truncation of the output grid and frames), ``conservation_error/mass`` (``int u``: the
#: conservative flux and the periodic walls leave the mean unchanged; the solver keeps it to
#: round-off). Not applicable: ``conservation_error`` of the energy ``int u^2`` (viscosity
#: dissipates it), ``bc_error`` (periodic, no walls), ``divergence_l2`` (``u`` is a 1D velocity
#: whose compression is the physics, not a constraint), ``coupling_consistency`` (a single scalar
#: equation).
BURGERS = Equation(
    name="burgers",
    description="1D viscous Burgers u_t + (u^2/2)_x = (nu/pi) u_xx, periodic (PDEBench A.3)",
    unknowns=("u",), params=("nu",), time_derivatives=("u",),
    components={"burgers": Component(("u", "u_t"), burgers_terms, units="1/T")},
    conserved={"mass": Component(("u",), mass_density, units="[u] L")},
    grid_bc="periodic", margin=0, grids=("cell_centered",),
)

EQUATIONS = (BURGERS,)
