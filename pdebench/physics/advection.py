"""Linear advection ``u_t + beta u_x = 0``, written once against a derivative provider.

:data:`ADVECTION` registers the equation (``DatasetMeta.pde = "advection"``) for the physics
metrics of :mod:`pdebench.physics.grid`; :func:`advection_residual` (the generator's self-check)
sums the same terms, :func:`advection_parts`.

Also home of :func:`central_time_derivative`, the time derivative of gridded trajectories used by
the residuals of the time-dependent problems (imported by :mod:`pdebench.physics.burgers`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation

__all__ = ["ADVECTION", "EQUATIONS", "advection_parts", "advection_residual", "advection_terms",
           "central_time_derivative", "energy_density", "mass_density"]


def central_time_derivative(frames: Tensor, dt: float, dim: int = 1) -> Tensor:
    """Time derivative of equally spaced frames by second-order finite differences.

    Interior frames use the central difference ``(u[n+1] - u[n-1]) / (2 dt)``; the first and last
    frame the second-order one-sided differences ``(-3 u[0] + 4 u[1] - u[2]) / (2 dt)`` and its
    mirror (:func:`torch.gradient` with ``edge_order=2``). With only two frames both get the
    first-order difference ``(u[1] - u[0]) / dt``. The truncation error of the central difference
    is ``dt^2 / 6 * u_ttt``: for a wave of angular wavenumber ``kappa`` moving at speed ``c`` it is
    accurate only while ``kappa c dt`` is small, so sparse frames give a residual at
    *discretisation* level, not round-off.

    Parameters
    ----------
    frames : Tensor
        Trajectories with a time axis ``dim``, e.g. ``(batch, T, X)``; ``T >= 2``. Dimensionless.
    dt : float
        Spacing of the frames (> 0), dimensionless time.
    dim : int
        The time axis (default 1, the harness layout ``(sample, time, ...)``).

    Returns
    -------
    Tensor
        ``u_t`` shaped like ``frames``.
    """
    dt = float(dt)
    if not dt > 0 or dt == float("inf"):
        raise ValueError(f"central_time_derivative: dt must be positive and finite, got {dt!r}")
    n = frames.shape[dim]
    if n < 2:
        raise ValueError(f"central_time_derivative: need >= 2 frames along dim {dim}, got {n}")
    (ut,) = torch.gradient(frames, spacing=dt, dim=dim, edge_order=2 if n >= 3 else 1)
    return ut


def _check_1d(d: DerivativeProvider, name: str) -> None:
    if getattr(d, "ndim", None) != 1:
        raise ValueError(
            f"{name}: the provider must be one-dimensional in space (ndim == 1), got "
            f"ndim={getattr(d, 'ndim', None)}; for a PINN build Autograd on the x coordinates "
            "alone and pass u_t computed from a separate t tensor"
        )


def advection_parts(u_t: Tensor, u: Tensor, beta: Tensor | float,
                    d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """The terms ``(u_t, beta u_x)`` of 1D linear advection; their sum is the residual.

    Parameters and layouts as :func:`advection_residual`. Returns two tensors shaped like ``u``
    (dimensionless per unit time).
    """
    _check_1d(d, "advection_residual")
    (u_x,) = d.grad(u)
    return u_t, beta * u_x


def advection_residual(u_t: Tensor, u: Tensor, beta: Tensor | float,
                       d: DerivativeProvider) -> Tensor:
    """Residual ``r = u_t + beta u_x`` of 1D linear advection (specs/PROBLEMS.md, A.2).

    Parameters
    ----------
    u_t : Tensor
        Time derivative of ``u``, shaped like ``u``, supplied by the caller: for gridded
        trajectories :func:`central_time_derivative` of the frames, for a PINN the autograd
        derivative with respect to a separate time input.
    u : Tensor
        The field in the provider's layout: ``(batch, X)`` on a grid for
        :class:`~pdebench.physics.derivatives.FiniteDifference` (periodic domain: ``bc="periodic"``;
        flatten ``(sample, time)`` into the batch axis), ``(N,)`` or ``(N, 1)`` at collocation
        points for :class:`~pdebench.physics.derivatives.Autograd` built on ``x`` alone.
        Dimensionless.
    beta : Tensor or float
        Advection speed, a scalar or broadcastable to ``u`` (e.g. ``(batch, 1)``).
    d : DerivativeProvider
        One-dimensional spatial provider (``d.ndim == 1``); supplies ``grad``.

    Returns
    -------
    Tensor
        The residual, shaped like ``u``: the sum of :func:`advection_parts`. For the exact
        solution sampled on a grid it is the truncation error of the differences (second order
        in ``dx`` and ``dt``).
    """
    return sum(advection_parts(u_t, u, beta, d))


def advection_terms(fields, params, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """:func:`advection_parts` in the equation signature: fields ``u``, ``u_t``; ``beta``."""
    return advection_parts(fields["u_t"], fields["u"], params["beta"], d)


def mass_density(fields, params, d: DerivativeProvider) -> tuple[Tensor]:
    """The density ``u`` of the conserved integral ``int u dx`` ("mass"), like ``u``."""
    return (fields["u"],)


def energy_density(fields, params, d: DerivativeProvider) -> tuple[Tensor]:
    """The density ``u^2`` of the conserved integral ``int u^2 dx`` ("energy"), like ``u``."""
    return (fields["u"] * fields["u"],)


#: 1D linear advection of PDEBench (A.2) on the periodic unit interval, ``beta`` from
#: ``pde_params``. Metrics on a grid (see :mod:`pdebench.physics.grid`): ``residual_l2/advection``
#: and ``residual_rel/advection`` (midpoint of each step: a second-order truncation error in
#: ``dx`` and in the frame spacing ``dt``; a mode ``A sin(kappa (x - beta t) + phi)`` leaves
#: exactly ``beta [cos(theta) sinc(kappa dx) - sinc(theta)]`` times its ``x``-derivative at the
#: midpoint time, ``theta = kappa beta dt / 2``, ``sinc(z) = sin(z) / z``: O(1) when the frames
#: do not resolve the motion), ``conservation_error/mass`` (``int u``) and
#: ``conservation_error/energy`` (``int u^2``): the exact shift conserves both, and so does the
#: sampled exact solution of band-limited data (Parseval). Not applicable: ``bc_error`` (periodic,
#: no walls), ``divergence_l2`` (the velocity ``beta`` is a given constant, not a predicted field),
#: ``coupling_consistency`` (a single scalar equation).
ADVECTION = Equation(
    name="advection",
    description="1D linear advection u_t + beta u_x = 0, periodic (PDEBench A.2)",
    unknowns=("u",), params=("beta",), time_derivatives=("u",),
    components={"advection": Component(("u", "u_t"), advection_terms, units="1/T")},
    conserved={"mass": Component(("u",), mass_density, units="[u] L"),
               "energy": Component(("u",), energy_density, units="[u]^2 L")},
    grid_bc="periodic", margin=0, grids=("cell_centered",),
)

EQUATIONS = (ADVECTION,)
