"""2D diffusion-reaction (FitzHugh--Nagumo, PDEBench), written once against a derivative provider.

specs/PROBLEMS.md, A.4: activator ``u`` and inhibitor ``v`` on ``[-1, 1]^2`` with no-flux walls,

    u_t = D_u lap(u) + R_u(u, v),   R_u = u - u^3 - k - v,
    v_t = D_v lap(v) + R_v(u, v),   R_v = u - v,

PDEBench's values ``D_u = 1e-3``, ``D_v = 5e-3``, ``k = 5e-3``. The no-flux condition is the
provider's business (``FiniteDifference(..., bc="neumann_zero")`` on a grid); with
:class:`~pdebench.physics.derivatives.Autograd` the Laplacian is ``div(grad(.))`` of the network.
"""

from __future__ import annotations

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["fitzhugh_nagumo_reaction", "fitzhugh_nagumo_residual"]


def fitzhugh_nagumo_reaction(u: Tensor, v: Tensor, k: Tensor | float) -> tuple[Tensor, Tensor]:
    """PDEBench's FitzHugh--Nagumo reaction ``(R_u, R_v) = (u - u^3 - k - v, u - v)``.

    Works on any array type with ``*``, ``-`` (torch tensors or NumPy arrays), shapes broadcast.
    """
    return u - u * u * u - k - v, u - v


def fitzhugh_nagumo_residual(u_t: Tensor, v_t: Tensor, u: Tensor, v: Tensor,
                             du: Tensor | float, dv: Tensor | float, k: Tensor | float,
                             d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """Residuals ``(r_u, r_v)`` of the FitzHugh--Nagumo system (specs/PROBLEMS.md, A.4).

    ``r_u = u_t - D_u lap(u) - (u - u^3 - k - v)`` and ``r_v = v_t - D_v lap(v) - (u - v)``.

    Parameters
    ----------
    u_t, v_t : Tensor
        Time derivatives of activator and inhibitor, shaped like ``u`` (for gridded trajectories,
        e.g. central differences between frames). Units ``1 / T``.
    u, v : Tensor
        Activator and inhibitor (dimensionless), in the provider's layout: ``(batch, H, W)`` for
        :class:`~pdebench.physics.derivatives.FiniteDifference` (no-flux walls: ``bc =
        "neumann_zero"``), ``(N,)`` or ``(N, 1)`` at collocation points for ``Autograd``.
    du, dv : Tensor or float
        Diffusion coefficients, units ``L^2 / T`` (PDEBench: 1e-3 and 5e-3); broadcastable.
    k : Tensor or float
        Reaction constant (PDEBench: 5e-3).
    d : DerivativeProvider
        Supplies ``lap``; coordinates in units ``L``.

    Returns
    -------
    (Tensor, Tensor)
        ``(r_u, r_v)``, each shaped like ``u``, units ``1 / T``. With the finite-difference
        provider and ``bc="neumann_zero"`` the Laplacian is exactly the one of
        :mod:`pdebench.datasets.pdebench_suite.diffusion_reaction_solver`, so a generator solution leaves only its
        time-discretisation error (and that of ``u_t``) in the residual.
    """
    ru, rv = fitzhugh_nagumo_reaction(u, v, k)
    return u_t - du * d.lap(u) - ru, v_t - dv * d.lap(v) - rv
