"""Steady Darcy flow, ``-div(a grad u) = beta``, written once against a derivative provider."""

from __future__ import annotations

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation, dirichlet

__all__ = ["DARCY", "EQUATIONS", "darcy_residual", "darcy_terms"]


def darcy_residual(u: Tensor, a: Tensor | float, beta: Tensor | float,
                   d: DerivativeProvider) -> Tensor:
    """Residual ``r = -div(a grad u) - beta`` of steady Darcy flow (specs/PROBLEMS.md, A.1).

    Parameters
    ----------
    u : Tensor
        Pressure / potential field, in the provider's layout: ``(batch, *spatial)`` on a grid for
        :class:`~pdebench.physics.derivatives.FiniteDifference` (the Dirichlet condition
        ``u = 0`` on the boundary is the provider's ``bc``), ``(N,)`` or ``(N, 1)`` at collocation
        points for :class:`~pdebench.physics.derivatives.Autograd`. Units ``[u]``.
    a : Tensor or float
        Positive diffusion coefficient (permeability), broadcastable to ``u``. Units ``[a]``.
    beta : Tensor or float
        Source term, a scalar or broadcastable to ``u`` (e.g. ``(batch, 1, 1)`` for one value per
        sample). Units ``[a][u] / L^2``.
    d : DerivativeProvider
        Supplies ``div_flux``; spatial coordinates in units ``L``.

    Returns
    -------
    Tensor
        The residual, shaped like ``u``, units ``[a][u] / L^2`` (those of ``beta``). With the
        finite-difference provider it is exactly ``A u - beta`` for the cell-centred five-point
        finite-volume matrix ``A`` of :mod:`pdebench.datasets.pdebench_suite.darcy_solver`, so the generator's
        solutions have a residual at round-off level.
    """
    return -d.div_flux(a, u) - beta


def darcy_terms(fields, params, d: DerivativeProvider) -> tuple[Tensor, float]:
    """Terms of :func:`darcy_residual`: ``(-div(a grad u), -beta)``; fields ``u`` and ``a``."""
    return -d.div_flux(fields["a"], fields["u"]), -float(params["beta"])


#: Steady Darcy flow of PDEBench (A.1) and of published PDEBench Darcy files. On grids every
#: cell is scored with the ``u = 0`` ghost cells of the generator's finite volumes (margin 0),
#: so the generator's own solution scores round-off and a wall violation is charged too.
DARCY = Equation(
    name="darcy",
    description="steady Darcy flow -div(a grad u) = beta, u = 0 on the boundary (PDEBench A.1)",
    unknowns=("u",), coefficients=("a",), params=("beta",),
    components={"darcy": Component(("u", "a"), darcy_terms, units="[a][u]/L^2")},
    boundary={"u": {"all": dirichlet(0.0)}},
    grid_bc="dirichlet_zero", margin=0, grids=("cell_centered",),
)

EQUATIONS = (DARCY,)
