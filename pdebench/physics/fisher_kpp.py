"""Fisher--KPP with three reaction forms (MT-DeepONet, specs/PROBLEMS.md B.1), written once.

``u_t = D u_xx + a g(u)`` on the periodic unit interval, with one of

- form 1: ``g1(u) = u - u^2``                      (logistic, Fisher--KPP),
- form 2: ``g2(u) = u - u^3``                      (Newell--Whitehead--Segel / Allen--Cahn type),
- form 3: ``g3(u) = u (1 - u) exp(-beta (1 - u))`` (an activated logistic reaction).

The multi-task DeepONet tells its branch network the form through the coefficients ``c`` of
``u, u^2, u^3, u^4`` in a polynomial ``a (c1 u + c2 u^2 + c3 u^3 + c4 u^4)``
(:func:`branch_coefficients`): exact for forms 1 and 2, and for form 3 the expansion of
``g3`` obtained by replacing the exponential factor ``exp(-beta (1 - u)) = e^-beta e^(beta u)``
with its second-order Taylor polynomial about ``u = 0``, ``e^-beta (1 + beta u + beta^2 u^2 / 2)``:

    u (1 - u) (1 + beta u + beta^2 u^2 / 2)
      = u + (beta - 1) u^2 + (beta^2 / 2 - beta) u^3 - (beta^2 / 2) u^4,

i.e. ``c = a e^-beta [1, beta - 1, beta (beta/2 - 1), -beta^2 / 2]`` as published (checked
symbolically in ``tests/test_mtdeeponet.py``). The coefficients are an *encoding* of the task; the
data are generated with the exact ``g3``. The encoding is invertible (:func:`reaction_parameters`):
``beta = 1 + c2 / c1``, so the physics metrics read the exact reaction from the dataset's input
channels.

Written once: :func:`fisher_kpp_terms` are the terms ``(u_t, -D u_xx, -a g(u))``;
:func:`fisher_kpp_residual` (the generator's self-check) sums them, and :data:`FISHER_KPP`
(``DatasetMeta.pde = "fisher_kpp"``) evaluates them on the dataset's frames
(:func:`fisher_kpp_frame_terms`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pdebench.physics.advection import _check_1d
from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation

__all__ = ["EQUATIONS", "FISHER_KPP", "FORMS", "branch_coefficients", "fisher_kpp_frame_terms", "fisher_kpp_point_terms",
           "fisher_kpp_reaction", "fisher_kpp_residual",
           "fisher_kpp_terms", "frame_midpoints", "reaction_parameters"]

#: Reaction form id -> formula (documentation and error messages).
FORMS = {1: "u - u^2", 2: "u - u^3", 3: "u (1 - u) exp(-beta (1 - u))"}
#: Largest deviation of ``c / c1`` from a form's pattern that :func:`reaction_parameters` accepts
#: (float32 storage leaves ~1e-7).
DECODE_TOL = 1e-4


def _check_form(form: int) -> int:
    if isinstance(form, bool) or int(form) != form or int(form) not in FORMS:
        raise ValueError(f"unknown Fisher-KPP reaction form {form!r}; valid: "
                         + ", ".join(f"{k} ({v})" for k, v in FORMS.items()))
    return int(form)


def branch_coefficients(form: int, a: float, beta: float | None = None) -> np.ndarray:
    """Coefficients of ``u, u^2, u^3, u^4`` that encode a task for the branch network.

    Form 1: ``a [1, -1, 0, 0]``; form 2: ``a [1, 0, -1, 0]``; form 3: ``a e^-beta [1, beta - 1,
    beta (beta/2 - 1), -beta^2/2]`` (second-order Taylor polynomial of the exponential factor, see
    the module docstring). Returns a float64 array of shape ``(4,)``.
    """
    form = _check_form(form)
    a = float(a)
    if form == 1:
        return a * np.array([1.0, -1.0, 0.0, 0.0])
    if form == 2:
        return a * np.array([1.0, 0.0, -1.0, 0.0])
    if beta is None:
        raise ValueError("form 3 needs beta")
    b = float(beta)
    return a * math.exp(-b) * np.array([1.0, b - 1.0, b * (b / 2.0 - 1.0), -b * b / 2.0])


def fisher_kpp_reaction(u: Tensor, form: int | Tensor, beta: Tensor | float = 0.0) -> Tensor:
    """The reaction ``g(u)`` of the chosen form (without the rate ``a``).

    Parameters
    ----------
    u : Tensor
        The field, any shape.
    form : int or Tensor
        1, 2 or 3, or an integer tensor broadcastable to ``u`` (e.g. ``(batch, 1)``) to mix forms
        in one batch.
    beta : Tensor or float
        Activation parameter of form 3, broadcastable to ``u`` (ignored by forms 1 and 2).

    Returns
    -------
    Tensor
        ``g(u)`` shaped like ``u``.
    """
    g1 = u - u * u
    g2 = u - u * u * u
    if not isinstance(form, Tensor):
        form = _check_form(form)
        if form == 1:
            return g1
        if form == 2:
            return g2
        return g1 * torch.exp(-torch.as_tensor(beta, dtype=u.dtype, device=u.device) * (1.0 - u))
    bad = ~((form == 1) | (form == 2) | (form == 3))
    if bool(bad.any()):
        raise ValueError(f"unknown Fisher-KPP reaction form(s) {sorted(set(form[bad].tolist()))};"
                         f" valid: {', '.join(map(str, FORMS))}")
    g3 = g1 * torch.exp(-torch.as_tensor(beta, dtype=u.dtype, device=u.device) * (1.0 - u))
    return torch.where(form == 1, g1, torch.where(form == 2, g2, g3))


def fisher_kpp_residual(u_t: Tensor, u: Tensor, diffusivity: Tensor | float, a: Tensor | float,
                        form: int | Tensor, beta: Tensor | float, d: DerivativeProvider
                        ) -> Tensor:
    """Residual ``r = u_t - D u_xx - a g(u)`` of Fisher--KPP (specs/PROBLEMS.md, B.1).

    Parameters
    ----------
    u_t : Tensor
        Time derivative of ``u``, shaped like ``u`` (for gridded frames e.g.
        :func:`~pdebench.physics.advection.central_time_derivative`). Units ``1 / T``.
    u : Tensor
        The field (dimensionless) in the provider's layout: ``(batch, X)`` for
        :class:`~pdebench.physics.derivatives.FiniteDifference` with ``bc="periodic"`` (flatten
        ``(sample, time)`` into the batch axis), ``(N,)`` or ``(N, 1)`` at points for
        :class:`~pdebench.physics.derivatives.Autograd` built on ``x`` alone.
    diffusivity : Tensor or float
        ``D`` (> 0), units ``L^2 / T``.
    a : Tensor or float
        Reaction rate, units ``1 / T``; broadcastable to ``u`` (e.g. ``(batch, 1)``).
    form : int or Tensor
        Reaction form(s), see :func:`fisher_kpp_reaction`.
    beta : Tensor or float
        Activation parameter of form 3, broadcastable to ``u``.
    d : DerivativeProvider
        One-dimensional provider; supplies ``lap``.

    Returns
    -------
    Tensor
        Shaped like ``u``, units ``1 / T``. With ``FiniteDifference(bc="periodic")`` the Laplacian
        is exactly the three-point one of :mod:`pdebench.datasets.mtdeeponet.fisher_kpp_solver`, so the
        generator's solution leaves only its time error (and that of ``u_t``).
    """
    _check_1d(d, "fisher_kpp_residual")
    time, diffusion, reaction = fisher_kpp_terms(u_t, u, diffusivity, a, form, beta, d)
    return time + diffusion + reaction


def fisher_kpp_terms(u_t: Tensor, u: Tensor, diffusivity: Tensor | float, a: Tensor | float,
                     form: int | Tensor, beta: Tensor | float, d: DerivativeProvider
                     ) -> tuple[Tensor, Tensor, Tensor]:
    """The terms ``(u_t, -D u_xx, -a g(u))`` of Fisher--KPP; their sum is the residual.

    Parameters and layouts as :func:`fisher_kpp_residual` (pointwise: any provider, including
    :class:`~pdebench.physics.derivatives.Autograd` built on ``x`` for a PINN, with ``u_t`` from a
    separate ``t`` tensor). Returns three tensors shaped like ``u``, units ``1 / T``.
    """
    _check_1d(d, "fisher_kpp_terms")
    return u_t, -(diffusivity * d.lap(u)), -(a * fisher_kpp_reaction(u, form, beta))


def reaction_parameters(c1: Tensor, c2: Tensor, c3: Tensor, c4: Tensor,
                        tol: float = DECODE_TOL) -> tuple[Tensor, Tensor, Tensor]:
    """Invert :func:`branch_coefficients`: the rate, form and activation parameter of each task.

    With ``r = c / c1``: form 2 when ``r = (1, 0, -1, 0)``; otherwise ``beta = 1 + r2`` and the
    activated pattern ``r3 = beta (beta/2 - 1)``, ``r4 = -beta^2 / 2`` must hold, ``a = c1
    e^beta`` (form 3), form 1 being its case ``beta = 0`` (``g3 = g1``, ``c = a [1, -1, 0, 0]``).

    Parameters
    ----------
    c1, c2, c3, c4 : Tensor
        Branch coefficients of ``u, u^2, u^3, u^4`` (units ``1 / T``), broadcastable shapes,
        e.g. the input channels ``(batch, X)`` of the ``fisher_kpp`` dataset. ``c1 > 0``.
    tol : float
        Largest deviation of ``r`` from a pattern that is accepted (see :data:`DECODE_TOL`).

    Returns
    -------
    (a, form, beta) : tuple of Tensor
        Broadcast shape; ``a`` (``1 / T``) and ``beta`` (0 for forms 1 and 2) in the dtype of
        ``c1``, ``form`` int64 in ``{1, 2, 3}``.

    Raises
    ------
    ValueError
        ``c1 <= 0``, or coefficients that encode none of the forms.
    """
    c1, c2, c3, c4 = torch.broadcast_tensors(*(torch.as_tensor(c) for c in (c1, c2, c3, c4)))
    if not bool((c1 > 0).all()):
        raise ValueError("reaction_parameters: c1 (a, or a e^-beta for form 3) must be > 0")
    r2, r3, r4 = c2 / c1, c3 / c1, c4 / c1
    beta = 1.0 + r2
    form2 = (r2.abs() <= tol) & ((r3 + 1.0).abs() <= tol) & (r4.abs() <= tol)
    activated = ((r3 - beta * (0.5 * beta - 1.0)).abs() <= tol) \
        & ((r4 + 0.5 * beta * beta).abs() <= tol)
    if not bool((form2 | activated).all()):
        raise ValueError("reaction_parameters: coefficients that encode no Fisher-KPP reaction "
                         "form (branch_coefficients of " + ", ".join(
                             f"{k}: {v}" for k, v in FORMS.items()) + ")")
    form1 = activated & (beta.abs() <= tol)
    form = torch.where(form2, 2, torch.where(form1, 1, 3)).to(torch.int64)
    beta = torch.where(form == 3, beta, torch.zeros_like(beta))
    a = torch.where(form == 3, c1 * torch.exp(beta), c1)
    return a, form, beta


def frame_midpoints(frames: Tensor, u0: Tensor, frame_dt: float) -> tuple[Tensor, Tensor]:
    """Midpoint values and time differences of frames stored after an initial state.

    The frames ``u_1 .. u_N`` at ``t_k = k dt`` follow ``u_0`` (the dataset's input ``u0`` at
    ``t = 0``). Step ``k`` is evaluated at ``t_{k-1/2}``: ``u = (u_{k-1} + u_k) / 2`` and ``u_t =
    (u_k - u_{k-1}) / dt`` (both second order in ``dt``, as the grid metrics treat trajectories).

    Parameters
    ----------
    frames : Tensor
        ``(..., N)``: the frames on a trailing axis, e.g. ``(batch, X, N)``.
    u0 : Tensor
        ``(...)``: the state at ``t = 0``, e.g. ``(batch, X)``.
    frame_dt : float
        Frame spacing ``dt`` (> 0), units ``T``.

    Returns
    -------
    (u, u_t) : tuple of Tensor
        Both ``(..., N)``; ``u_t`` in units of ``u / T``.
    """
    frame_dt = float(frame_dt)
    if not 0 < frame_dt < float("inf"):
        raise ValueError(f"frame_midpoints: frame_dt must be positive and finite, got {frame_dt}")
    full = torch.cat([u0.unsqueeze(-1), frames], dim=-1)
    before, after = full[..., :-1], full[..., 1:]
    return 0.5 * (before + after), (after - before) / frame_dt


def fisher_kpp_frame_terms(fields: Mapping[str, Tensor], params: Mapping[str, Any],
                           d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`fisher_kpp_terms` at the midpoints of the ``fisher_kpp`` dataset's frame steps.

    Parameters
    ----------
    fields : mapping
        ``"u_t*"`` the frames ``(batch, X, N)`` (:attr:`Equation.unknowns` pattern), ``"u0"``
        the initial state and ``"c1" .. "c4"`` the branch coefficients, ``(batch, X)`` each.
    params : mapping
        ``diffusivity`` (``D``, ``L^2 / T``) and ``frame_dt`` (frame spacing, ``T``).
    d : DerivativeProvider
        One-dimensional grid provider (``FiniteDifference(bc="periodic")``) for ``(batch, X)``
        fields; the frame axis is moved into the batch axis for it.

    Returns
    -------
    tuple of three Tensor
        ``(u_t, -D u_xx, -a g(u))``, each ``(batch, X, N)``, units ``1 / T``.
    """
    u, u_t = frame_midpoints(fields["u_t*"], fields["u0"], params["frame_dt"])
    a, form, beta = reaction_parameters(*(fields[c].unsqueeze(-1)
                                          for c in ("c1", "c2", "c3", "c4")))
    batch, nx, nt = u.shape

    def lines(t: Tensor) -> Tensor:  # (batch, X, N) -> (batch * N, X)
        return torch.broadcast_to(t, u.shape).movedim(-1, 1).reshape(batch * nt, nx)

    terms = fisher_kpp_terms(lines(u_t), lines(u), float(params["diffusivity"]), lines(a),
                             lines(form), lines(beta), d)
    return tuple(t.reshape(batch, nt, nx).movedim(1, -1) for t in terms)


def fisher_kpp_point_terms(fields: Mapping[str, Tensor], params: Mapping[str, Any],
                           d: DerivativeProvider) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`fisher_kpp_terms` of ``u(x, t)`` at points: fields ``u``, ``u_t`` and the branch
    coefficients ``c1 .. c4`` (decoded by :func:`reaction_parameters`); ``diffusivity``."""
    a, form, beta = reaction_parameters(*(fields[c] for c in ("c1", "c2", "c3", "c4")))
    return fisher_kpp_terms(fields["u_t"], fields["u"], float(params["diffusivity"]), a, form,
                            beta, d)


#: The ``fisher_kpp`` system for ``u(x, t)`` (the space-time form solvers at points use).
FISHER_KPP_SPACE_TIME = Equation(
    name="fisher_kpp", description="Fisher-KPP u_t = D u_xx + a g(u) in space and time",
    unknowns=("u",), coefficients=("c1", "c2", "c3", "c4"), params=("diffusivity",),
    time_derivatives=("u",),
    components={"fisher_kpp": Component(("u", "u_t", "c1", "c2", "c3", "c4"),
                                        fisher_kpp_point_terms, units="1/T")},
    grid_bc="periodic", margin=0, grids=("cell_centered",),
)

#: Fisher--KPP of the ``fisher_kpp`` dataset (MT-DeepONet B.1): pairs of ``[u0, c1..c4]`` (the
#: initial state and the branch coefficients, whose task :func:`reaction_parameters` decodes) and
#: the frames ``u_t1 .. u_tN`` at ``t_k = k frame_dt`` as channels. Every step ``u_{k-1} -> u_k``
#: (``u_0`` the input ``u0``) is scored at its midpoint (:func:`frame_midpoints`); the Laplacian
#: is the generator's periodic three-point one, so the reference's residual is the
#: ``O(frame_dt^2)`` error of the midpoint difference (plus float32 round-off): it falls with the
#: frame spacing, not with the grid. ``residual_l2/fisher_kpp`` is the RMS over cells and frames
#: (the grid metrics score a residual's trailing frame axis with the cells). Metrics that do not apply: ``bc_error`` (periodic in ``x``: no walls),
#: ``divergence_l2`` (no velocity), ``coupling_consistency`` (one field), ``conservation_error``
#: (the reaction creates and destroys ``u``: no conserved integral).
FISHER_KPP = Equation(
    name="fisher_kpp",
    description="Fisher-KPP u_t = D u_xx + a g(u), three reaction forms, periodic, frames as "
                "channels after u0 (MT-DeepONet B.1)",
    unknowns=("u_t*",), coefficients=("u0", "c1", "c2", "c3", "c4"),
    params=("diffusivity", "frame_dt"),
    components={"fisher_kpp": Component(("u_t*", "u0", "c1", "c2", "c3", "c4"),
                                        fisher_kpp_frame_terms, units="1/T")},
    grid_bc="periodic", margin=0, grids=("cell_centered",),
    space_time=FISHER_KPP_SPACE_TIME, initial="u0",
)

EQUATIONS = (FISHER_KPP,)
