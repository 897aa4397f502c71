"""Viscous Burgers ``u_t + (u^2/2)_x = (nu/pi) u_xx``, written once against a derivative provider.

The viscosity convention is PDEBench's: the diffusion coefficient is ``nu / pi``.
"""

from __future__ import annotations

import math

from torch import Tensor

from pdebench.physics.advection import _check_1d, central_time_derivative
from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["burgers_residual", "central_time_derivative"]


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
        The residual, shaped like ``u``.
    """
    _check_1d(d, "burgers_residual")
    (flux_x,) = d.grad(0.5 * u * u)
    return u_t + flux_x - (nu / math.pi) * d.lap(u)
