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
data are generated with the exact ``g3``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from pdebench.physics.advection import _check_1d
from pdebench.physics.derivatives import DerivativeProvider

__all__ = ["FORMS", "branch_coefficients", "fisher_kpp_reaction", "fisher_kpp_residual"]

#: Reaction form id -> formula (documentation and error messages).
FORMS = {1: "u - u^2", 2: "u - u^3", 3: "u (1 - u) exp(-beta (1 - u))"}


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
    return u_t - diffusivity * d.lap(u) - a * fisher_kpp_reaction(u, form, beta)
