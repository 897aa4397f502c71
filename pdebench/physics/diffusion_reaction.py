"""2D diffusion-reaction (FitzHugh--Nagumo, PDEBench), written once against a derivative provider.

specs/PROBLEMS.md, A.4: activator ``u`` and inhibitor ``v`` on ``[-1, 1]^2`` with no-flux walls,

    u_t = D_u lap(u) + R_u(u, v),   R_u = u - u^3 - k - v,
    v_t = D_v lap(v) + R_v(u, v),   R_v = u - v,

PDEBench's values ``D_u = 1e-3``, ``D_v = 5e-3``, ``k = 5e-3``. The no-flux condition is the
provider's business (``FiniteDifference(..., bc="neumann_zero")`` on a grid); with
:class:`~pdebench.physics.derivatives.Autograd` the Laplacian is ``div(grad(.))`` of the network.

:data:`DIFFUSION_REACTION` registers the system (``DatasetMeta.pde = "diffusion_reaction"``) for
the physics metrics of :mod:`pdebench.physics.grid`; :func:`fitzhugh_nagumo_residual` (the
generator's self-check) sums the same terms, :func:`activator_parts` and :func:`inhibitor_parts`.
"""

from __future__ import annotations

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation, neumann

__all__ = ["DIFFUSION_REACTION", "EQUATIONS", "activator_parts", "activator_terms",
           "fitzhugh_nagumo_reaction", "fitzhugh_nagumo_residual", "inhibitor_drive_terms",
           "inhibitor_parts", "inhibitor_terms"]


def fitzhugh_nagumo_reaction(u: Tensor, v: Tensor, k: Tensor | float) -> tuple[Tensor, Tensor]:
    """PDEBench's FitzHugh--Nagumo reaction ``(R_u, R_v) = (u - u^3 - k - v, u - v)``.

    Works on any array type with ``*``, ``-`` (torch tensors or NumPy arrays), shapes broadcast.
    """
    return u - u * u * u - k - v, u - v


def activator_parts(u_t: Tensor, u: Tensor, v: Tensor, du: Tensor | float, k: Tensor | float,
                    d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """Terms ``(u_t, -D_u lap u, -R_u)`` of the activator equation; their sum is ``r_u``.

    Time derivative, diffusion and reaction: the split of the generator's self-check.
    Parameters, layouts and units as :func:`fitzhugh_nagumo_residual`.
    """
    ru, _ = fitzhugh_nagumo_reaction(u, v, k)
    return u_t, -du * d.lap(u), -ru


def inhibitor_parts(v_t: Tensor, u: Tensor, v: Tensor, dv: Tensor | float,
                    d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """Terms ``(v_t, -D_v lap v, -R_v)`` of the inhibitor equation; their sum is ``r_v``.

    Parameters, layouts and units as :func:`fitzhugh_nagumo_residual` (``R_v`` does not depend
    on ``k``).
    """
    _, rv = fitzhugh_nagumo_reaction(u, v, 0.0)
    return v_t, -dv * d.lap(v), -rv


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
        ``(r_u, r_v)``, each shaped like ``u``, units ``1 / T``: the sums of
        :func:`activator_parts` and :func:`inhibitor_parts`. With the finite-difference provider and
        ``bc="neumann_zero"`` the Laplacian is exactly the one of
        :mod:`pdebench.datasets.pdebench_suite.diffusion_reaction_solver`, so a generator solution
        leaves only its time-discretisation error (and that of ``u_t``) in the residual.
    """
    return sum(activator_parts(u_t, u, v, du, k, d)), sum(inhibitor_parts(v_t, u, v, dv, d))


def activator_terms(fields, params, d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """Terms ``(u_t, -D_u lap u, -R_u)`` of the activator equation; fields ``u``, ``v``, ``u_t``;
    params ``du``, ``k``. Units ``1 / T``."""
    return activator_parts(fields["u_t"], fields["u"], fields["v"], params["du"], params["k"], d)


def inhibitor_terms(fields, params, d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """Terms ``(v_t, -D_v lap v, -R_v)`` of the inhibitor equation; fields ``u``, ``v``, ``v_t``;
    param ``dv``. Units ``1 / T``."""
    return inhibitor_parts(fields["v_t"], fields["u"], fields["v"], params["dv"], d)


def inhibitor_drive_terms(fields, params, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """The coupling of the pair: the inhibitor's response ``v_t - D_v lap v + v`` against its
    drive by the activator, ``-u``; fields ``u``, ``v``, ``v_t``; param ``dv``. Units ``1 / T``.

    The inhibitor equation is linear and the activator is its only source, so this is the
    residual of the coupling terms alone: zero exactly when the predicted ``v`` is the inhibitor
    that the predicted ``u`` drives. Its sum equals :func:`inhibitor_terms`' (the split differs:
    two terms, response and drive).
    """
    v_t, diffusion, _ = inhibitor_parts(fields["v_t"], fields["u"], fields["v"], params["dv"], d)
    return v_t + diffusion + fields["v"], -fields["u"]


#: The FitzHugh--Nagumo system of PDEBench (A.4): components ``u`` (activator) and ``v``
#: (inhibitor), ``du``, ``dv``, ``k`` from ``pde_params``. Metrics on a grid (see
#: :mod:`pdebench.physics.grid`):
#:
#: - ``residual_l2/diffusion_reaction/u`` and ``.../v``, ``residual_rel/diffusion_reaction``: the
#:   midpoint of each step; every cell is scored (margin 0) with the mirror ghost cells of the
#:   generator's finite volumes, so the residual holds only the time error of the frames (second
#:   order in the frame spacing) and the solver's own (second order in its step);
#: - ``bc_error/u`` and ``bc_error/v``: no flux through the walls, ``du/dn = dv/dn = 0``, checked
#:   with the one-sided quadratic normal derivative of the three cells next to each wall (the
#:   finite volumes impose the zero flux on the wall face, so the reference scores the
#:   extrapolation error of its profile: O(1/h) while PDEBench's white-noise initial state is
#:   still rough, ~24 and ~14 per unit length at the tiny size);
#: - ``coupling_consistency``: the two fields are tied by the linear cross terms ``-v`` in the
#:   activator and ``+u`` in the inhibitor equation. The inhibitor has no other source than the
#:   activator, so the coupling terms alone are the inhibitor's response against its drive,
#:   ``(v_t - D_v lap v + v) - u`` (:func:`inhibitor_drive_terms`): it is the inhibitor residual
#:   regrouped, and its RMS equals ``residual_l2/diffusion_reaction/v`` (there is no constitutive
#:   relation between ``u`` and ``v`` that would give an independent check).
#:
#: Not applicable: ``conservation_error`` (the reaction creates and destroys both species: no
#: integral of ``u`` or ``v`` is conserved; only pure diffusion would conserve the means) and
#: ``divergence_l2`` (no velocity).
DIFFUSION_REACTION = Equation(
    name="diffusion_reaction",
    description="2D FitzHugh-Nagumo u_t = Du lap u + u - u^3 - k - v, v_t = Dv lap v + u - v, "
                "no-flux walls (PDEBench A.4)",
    unknowns=("u", "v"), params=("du", "dv", "k"), time_derivatives=("u", "v"),
    components={"u": Component(("u", "v", "u_t"), activator_terms, units="1/T"),
                "v": Component(("u", "v", "v_t"), inhibitor_terms, units="1/T")},
    boundary={"u": {"all": neumann(0.0)}, "v": {"all": neumann(0.0)}},
    coupled=("u", "v"),
    coupling=Component(("u", "v", "v_t"), inhibitor_drive_terms, units="1/T"),
    grid_bc="neumann_zero", margin=0, grids=("cell_centered",),
)

EQUATIONS = (DIFFUSION_REACTION,)
