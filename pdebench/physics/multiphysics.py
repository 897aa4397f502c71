"""Equations of the Multiphysics Bench problems the harness generates (specs/PROBLEMS.md, C).

Written once against a derivative provider (axis 0 = x, axis 1 = y). With the finite-difference
provider, fields carrying non-homogeneous boundary data are meaningful only on interior cells
(:func:`pdebench.physics.electrothermal.interior`; the registered equations leave one cell per
wall out, ``margin=1``).

Electro-osmotic flow in a porous medium (C.3, dataset ``e_flow``)::

    div(kappa grad V) = 0,   u = -k_p grad p + k_V grad V,   div u = 0

The pressure is not an output; its pressure-free content is ``curl((u - k_V grad V) / k_p) = 0``
(``-grad p`` is irrotational).

Electro-thermal (C.1, dataset ``te_heat``), dimensionless (lengths in units of the domain side L,
``E`` in units of the incident amplitude, ``T`` in units of the ambient temperature)::

    Lap E + k0^2 (eps_r - i sigma_t(T)) E = 0,      sigma_t = sigma / (omega eps_0)
    Lap T + q sigma_t(T) |E|^2 = 0,                  q = omega eps_0 E0^2 L^2 / (2 k T_inf)
    sigma_t(T) = sigma_t0 exp(gamma (1 - 1/T)),      gamma = E_a / (k_B T_inf)  (Arrhenius)

(``k grad^2 T + sigma |E|^2 / 2 = 0`` divided by ``k T_inf / L^2``.) The imaginary part of
``conj(E) (Lap E + k0^2 (eps_r - i sigma_t) E)`` is the local power balance
``E_re Lap E_im - E_im Lap E_re = k0^2 sigma_t |E|^2``: the power the loss factor absorbs from the
wave, which the heat equation receives as its Joule source.

Each equation is a tuple of *terms* whose sum is the residual (:mod:`pdebench.physics.equations`);
the ``*_residual`` functions the generators' self-checks call return the sums of the same terms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation, dirichlet, neumann, robin

__all__ = ["EQUATIONS", "E_FLOW", "TE_HEAT", "absorbing_wall", "arrhenius_conductivity", "conduction_residual",
           "conduction_terms", "continuity_residual", "continuity_terms",
           "darcy_electroosmotic_velocity", "darcy_curl_terms", "helmholtz_residual",
           "helmholtz_terms", "joule_balance_terms", "joule_heat_residual", "joule_heat_terms"]

Fields = Mapping[str, Tensor]


def _total(terms: Sequence[Tensor | float]) -> Tensor:
    """Sum of an equation's terms (the residual)."""
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


# ----------------------------------------------------------------------------------------------
# Electro-osmotic flow (e_flow)
# ----------------------------------------------------------------------------------------------

def conduction_terms(potential: Tensor, kappa: Tensor | float, d: DerivativeProvider,
                     ramp: Tensor | float | None = None) -> tuple[Tensor, ...]:
    """Terms of ``div(kappa grad V)``: ``(div(kappa grad V),)``, or split about a ramp.

    Parameters
    ----------
    potential : Tensor
        Electric potential ``V``, ``(batch, H, W)`` (grid) or ``(N,)`` (points); units ``[V]``.
    kappa : Tensor or float
        Conductivity ``> 0``, broadcastable to ``potential``.
    d : DerivativeProvider
        Supplies ``div_flux`` (on grids the generator's harmonic-mean finite volumes).
    ramp : Tensor or float, optional
        The applied potential (e.g. ``V_applied (1 - x)``, meeting the same wall data as ``V``).
        Given, the terms are ``(div(kappa grad (V - ramp)), div(kappa grad ramp))``: the response
        of the induced potential and the forcing of the applied field by the conductivity
        contrast. ``div_flux`` is linear in its field, so their sum equals the single term.

    Returns
    -------
    tuple of Tensor
        Shaped like ``potential``, units ``[kappa][V] / L^2``; their sum is zero for a solution.
    """
    if ramp is None:
        return (d.div_flux(kappa, potential),)
    ramp = torch.as_tensor(ramp, dtype=potential.dtype, device=potential.device)
    ramp = ramp.expand_as(potential)
    return d.div_flux(kappa, potential - ramp), d.div_flux(kappa, ramp)


def conduction_residual(potential: Tensor, kappa: Tensor | float,
                        d: DerivativeProvider) -> Tensor:
    """``div(kappa grad V)`` (zero for a solution); units of ``kappa V / L^2``.

    ``potential`` and ``kappa`` are ``(batch, H, W)`` (grid) or ``(N,)`` (points); ``kappa > 0``.
    The sum of :func:`conduction_terms`.
    """
    return _total(conduction_terms(potential, kappa, d))


def darcy_electroosmotic_velocity(p: Tensor, potential: Tensor, k_p: Tensor | float,
                                  k_v: Tensor | float, d: DerivativeProvider
                                  ) -> tuple[Tensor, Tensor]:
    """Darcy + electro-osmosis velocity ``-k_p grad p + k_V grad V``: two tensors like ``p``."""
    gp, gv = d.grad(p), d.grad(potential)
    return tuple(-k_p * a + k_v * b for a, b in zip(gp, gv, strict=True))


def continuity_terms(u: Tensor, v: Tensor, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """Terms ``(u_x, v_y)`` of ``div (u, v)`` (the provider's ``div`` per direction).

    ``u``, ``v``: velocity components ``(batch, H, W)`` or ``(N,)``; returns two tensors like
    ``u`` (units velocity / L).
    """
    # the zero components stay on the autograd graph of the fields (0 * v, not zeros_like)
    return d.div((u, 0.0 * v)), d.div((0.0 * u, v))


def continuity_residual(u: Tensor, v: Tensor, d: DerivativeProvider) -> Tensor:
    """``u_x + v_y`` (zero for an incompressible flow), shaped like ``u``; the sum of
    :func:`continuity_terms`."""
    return _total(continuity_terms(u, v, d))


def darcy_curl_terms(u: Tensor, v: Tensor, potential: Tensor, k_p: Tensor | float,
                     k_v: Tensor | float, d: DerivativeProvider
                     ) -> tuple[Tensor, Tensor, Tensor]:
    """Terms of ``curl((u - k_V grad V) / k_p)`` (zero where ``u = -k_p grad p + k_V grad V``).

    Darcy's law with electro-osmosis makes ``(u - k_V grad V) / k_p = -grad p`` irrotational;
    this is its content without the pressure. The terms are the flow's
    ``(d_x (v / k_p), -d_y (u / k_p))`` and the electro-osmotic
    ``-k_V (d_x (V_y / k_p) - d_y (V_x / k_p))`` (``-k_V grad(1/k_p) x grad V``: zero for a
    uniform permeability, where any potential is consistent with a given flow).

    Parameters
    ----------
    u, v : Tensor
        Velocity components, ``(batch, H, W)`` or ``(N,)``.
    potential : Tensor
        Electric potential ``V``, like ``u``.
    k_p : Tensor or float
        Permeability ``> 0``, broadcastable (with :class:`~pdebench.physics.derivatives.Autograd`
        a tensor that does not depend on the coordinates through the graph is treated as locally
        constant).
    k_v : Tensor or float
        Electro-osmotic mobility.
    d : DerivativeProvider
        Supplies ``grad`` (on grids central differences; two nested ones reach one cell further
        than the stencil of ``lap``, still inside a one-cell margin).

    Returns
    -------
    tuple of three Tensors
        Shaped like ``u``, units velocity / (``[k_p]`` L).
    """
    gv = d.grad(potential)
    flow = d.grad(v / k_p)[0], -d.grad(u / k_p)[1]
    eo = -k_v * (d.grad(gv[1] / k_p)[0] - d.grad(gv[0] / k_p)[1])
    return flow[0], flow[1], eo


def _e_flow_conduction(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                       ) -> tuple[Tensor, ...]:
    ramp = float(params["v_applied"]) * (1.0 - fields["x"])
    return conduction_terms(fields["V"], fields["kappa"], d, ramp=ramp)


def _e_flow_continuity(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                       ) -> tuple[Tensor, Tensor]:
    return continuity_terms(fields["u"], fields["v"], d)


def _e_flow_darcy(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                  ) -> tuple[Tensor, Tensor, Tensor]:
    return darcy_curl_terms(fields["u"], fields["v"], fields["V"], fields["k_p"],
                            float(params["k_v"]), d)


_DARCY = Component(("u", "v", "V", "k_p"), _e_flow_darcy, units="velocity/([k_p] L)")

#: Electro-osmotic flow of Multiphysics Bench (C.3, dataset ``e_flow``): outputs ``V``, ``u``,
#: ``v`` (no pressure), inputs ``kappa``, ``k_p``; ``k_V`` and the applied potential from
#: ``pde_params``.
#:
#: - ``conduction``: ``div(kappa grad V) = 0`` split about the applied ramp
#:   ``V_applied (1 - x)`` (:func:`conduction_terms`); the generator's finite volumes exactly, so
#:   the reference scores float32 round-off.
#: - ``continuity``: ``u_x + v_y = 0`` (:func:`continuity_terms`); the stored cell velocities are
#:   face averages, so the reference scores their O(h^2) truncation. ``divergence_l2`` is the
#:   same quantity, reported as the flow metric of METRICS.md.
#: - ``darcy``: ``curl((u - k_V grad V) / k_p) = 0`` (:func:`darcy_curl_terms`), Darcy's law with
#:   electro-osmosis without the pressure; O(h^2) on the reference.
#: - ``coupling_consistency``: the same Darcy--electro-osmosis law, which is the coupling of the
#:   system (the potential drives the flow through ``k_V grad V``; nothing else ties ``u, v`` to
#:   ``V``), so it equals ``residual_l2/e_flow/darcy``.
#: - Walls: ``V = V_applied`` at ``x = 0``, ``V = 0`` at ``x = 1``, ``d_n V = 0`` at ``y = 0, 1``;
#:   no flow through ``y = 0, 1`` (``v = 0``). ``u`` has no wall condition (the pressure is
#:   prescribed at ``x = 0, 1``, not the velocity). The reference scores the O(h^2) distance of
#:   its cell values' quadratic extrapolation from the wall data.
#: - Steady: no conservation_error.
E_FLOW = Equation(
    name="e_flow",
    description="electro-osmotic Darcy flow: div(kappa grad V) = 0, u = -k_p grad p + k_V grad V,"
                " div u = 0 (Multiphysics Bench E_flow, C.3)",
    unknowns=("V", "u", "v"), coefficients=("kappa", "k_p"), params=("k_v", "v_applied"),
    components={
        "conduction": Component(("V", "kappa", "x"), _e_flow_conduction,
                                units="[kappa][V]/L^2"),
        "continuity": Component(("u", "v"), _e_flow_continuity, units="velocity/L"),
        "darcy": _DARCY,
    },
    boundary={"V": {"x_lo": dirichlet("v_applied"), "x_hi": dirichlet(0.0),
                    "y_lo": neumann(0.0), "y_hi": neumann(0.0)},
              "v": {"y_lo": dirichlet(0.0), "y_hi": dirichlet(0.0)}},
    coupled=("V", "u", "v"), coupling=_DARCY, velocity=("u", "v"),
    grids=("cell_centered",),
)


# ----------------------------------------------------------------------------------------------
# Electro-thermal coupling (te_heat)
# ----------------------------------------------------------------------------------------------

def arrhenius_conductivity(temp: Tensor, sigma0: Tensor | float, gamma: float) -> Tensor:
    """``sigma_t0 exp(gamma (1 - 1/T))`` (dimensionless loss factor), shaped like ``temp``."""
    return sigma0 * (gamma * (1.0 - 1.0 / temp)).exp()


def helmholtz_terms(e_re: Tensor, e_im: Tensor, eps_r: Tensor | float, sigma_t: Tensor | float,
                    k0: float, d: DerivativeProvider
                    ) -> tuple[tuple[Tensor, Tensor, Tensor], tuple[Tensor, Tensor, Tensor]]:
    """Terms of the real and imaginary parts of ``Lap E + k0^2 (eps_r - i sigma_t) E``.

    Real part ``(Lap E_re, k0^2 eps_r E_re, k0^2 sigma_t E_im)``, imaginary part
    ``(Lap E_im, k0^2 eps_r E_im, -k0^2 sigma_t E_re)``; arguments as in
    :func:`helmholtz_residual`. Each tensor is shaped like ``e_re`` (units ``[E] / L^2``).
    """
    k2 = k0 * k0
    re = d.lap(e_re), k2 * eps_r * e_re, k2 * sigma_t * e_im
    im = d.lap(e_im), k2 * eps_r * e_im, -k2 * sigma_t * e_re
    return re, im


def helmholtz_residual(e_re: Tensor, e_im: Tensor, eps_r: Tensor | float,
                       sigma_t: Tensor | float, k0: float, d: DerivativeProvider
                       ) -> tuple[Tensor, Tensor]:
    """Real and imaginary parts of ``Lap E + k0^2 (eps_r - i sigma_t) E``.

    Parameters
    ----------
    e_re, e_im : Tensor
        Real and imaginary parts of ``E_z``, ``(batch, H, W)`` or ``(N,)``.
    eps_r, sigma_t : Tensor or float
        Relative permittivity and loss factor ``sigma / (omega eps_0)``, broadcastable.
    k0 : float
        Free-space wavenumber (units 1/L).
    d : DerivativeProvider
        Provider for ``lap``.

    Returns
    -------
    (Tensor, Tensor)
        The sums of :func:`helmholtz_terms`, shaped like ``e_re``.
    """
    re, im = helmholtz_terms(e_re, e_im, eps_r, sigma_t, k0, d)
    return _total(re), _total(im)


def joule_heat_terms(temp: Tensor, e_re: Tensor, e_im: Tensor, sigma_t: Tensor | float,
                     q: float, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """Terms ``(Lap T, q sigma_t |E|^2)`` of the steady heat equation with its Joule source.

    ``temp``, ``e_re``, ``e_im``: ``(batch, H, W)`` or ``(N,)``; ``sigma_t`` broadcastable;
    ``q`` the heating number. Both terms shaped like ``temp``, units ``[T] / L^2``.
    """
    return d.lap(temp), q * sigma_t * (e_re * e_re + e_im * e_im)


def joule_heat_residual(temp: Tensor, e_re: Tensor, e_im: Tensor, sigma_t: Tensor | float,
                        q: float, d: DerivativeProvider) -> Tensor:
    """``Lap T + q sigma_t |E|^2`` (steady heat with Joule source), shaped like ``temp``; the sum
    of :func:`joule_heat_terms`."""
    return _total(joule_heat_terms(temp, e_re, e_im, sigma_t, q, d))


def joule_balance_terms(e_re: Tensor, e_im: Tensor, sigma_t: Tensor | float, q: float,
                        k0: float, d: DerivativeProvider) -> tuple[Tensor, Tensor]:
    """The Joule source against the power the wave loses: ``(q sigma_t |E|^2,
    -(q / k0^2) (E_re Lap E_im - E_im Lap E_re))``.

    ``E_re Lap E_im - E_im Lap E_re = div(E_re grad E_im - E_im grad E_re)`` is the divergence of
    the wave's power flux, and for a solution of the Helmholtz equation it equals
    ``k0^2 sigma_t |E|^2``, the power its loss factor absorbs (the imaginary part of ``conj(E)``
    times :func:`helmholtz_residual`, exactly, also for the finite-difference ``lap``). Scaled by
    ``q / k0^2`` it is the Joule source of the heat equation, so the sum is zero when the loss
    factor ``sigma_t(T)`` at the temperature matches the power drawn from the field.

    Parameters
    ----------
    e_re, e_im : Tensor
        ``(batch, H, W)`` or ``(N,)``.
    sigma_t : Tensor or float
        Loss factor at the temperature, broadcastable.
    q, k0 : float
        Heating number and free-space wavenumber.
    d : DerivativeProvider
        Supplies ``lap``.

    Returns
    -------
    (Tensor, Tensor)
        Shaped like ``e_re``, units ``[T] / L^2`` (those of :func:`joule_heat_terms`).
    """
    absorbed = e_re * d.lap(e_im) - e_im * d.lap(e_re)
    return q * sigma_t * (e_re * e_re + e_im * e_im), -(q / (k0 * k0)) * absorbed


def _sigma(fields: Fields, params: Mapping[str, Any]) -> Tensor:
    return arrhenius_conductivity(fields["T"], fields["sigma0"], float(params["gamma"]))


def _te_helmholtz(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                  ) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    return helmholtz_terms(fields["E_re"], fields["E_im"], fields["eps_r"], _sigma(fields, params),
                           float(params["k0"]), d)


def _te_helmholtz_re(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                     ) -> tuple[Tensor, ...]:
    return _te_helmholtz(fields, params, d)[0]


def _te_helmholtz_im(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                     ) -> tuple[Tensor, ...]:
    return _te_helmholtz(fields, params, d)[1]


def _te_heat(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
             ) -> tuple[Tensor, Tensor]:
    return joule_heat_terms(fields["T"], fields["E_re"], fields["E_im"], _sigma(fields, params),
                            float(params["q"]), d)


def _te_joule_balance(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                      ) -> tuple[Tensor, Tensor]:
    return joule_balance_terms(fields["E_re"], fields["E_im"], _sigma(fields, params),
                               float(params["q"]), float(params["k0"]), d)


_TE_FIELDS = ("E_re", "E_im", "T", "eps_r", "sigma0")

#: Electro-thermal coupling of Multiphysics Bench (C.1, dataset ``te_heat``): outputs ``E_re``,
#: ``E_im``, ``T``, inputs ``eps_r``, ``sigma0`` (the loss factor at ``T = 1``), ``k0``, ``q``,
#: ``gamma`` from ``pde_params``; the loss factor is ``sigma_t(T)`` (Arrhenius) at the
#: temperature of the prediction.
#:
#: - ``helmholtz_re``, ``helmholtz_im``: :func:`helmholtz_terms`; ``heat``:
#:   :func:`joule_heat_terms`. The generator's finite volumes are the five-point ``lap`` on
#:   interior cells, so the reference scores float32 round-off.
#: - ``coupling_consistency``: :func:`joule_balance_terms`, the Joule source ``q sigma_t(T)|E|^2``
#:   against the power the field loses (``(q / k0^2) div(E_re grad E_im - E_im grad E_re)``): it
#:   ties the temperature (through ``sigma_t(T)``) to the field that heats it, so a temperature
#:   inconsistent with the field's absorption is exposed even where each residual is small.
#: - No ``bc_error``: both walls are Robin conditions (the absorbing
#:   ``d_n E_s + i k0 E_s = 0`` on the scattered field and the convective
#:   ``-d_n T = Bi (T - 1)``), which ``bc_error`` (Dirichlet/Neumann data) does not measure.
#: - Steady, no velocity: no conservation_error, no divergence_l2.
def absorbing_wall(wavenumber: str, angle: str = "theta") -> tuple[Any, Any]:
    """``(a, g)`` of the first-order absorbing wall of a plane wave's scattering problem.

    The scattered field ``u - u_inc`` leaves through the wall, ``d_n u_s + i k u_s = 0`` (time
    factor ``exp(+i omega t)``), i.e. for the total field ``d_n u + i k u = g`` with
    ``g = d_n u_inc + i k u_inc = i (k - n . k_vec) u_inc`` and the incident wave
    ``u_inc = exp(-i k (x cos(theta) + y sin(theta)))``. ``wavenumber`` and ``angle`` name the
    pde_params holding ``k`` and ``theta``; the two callables are :data:`WallData`.
    """
    import math

    def coef(coords: Mapping[str, Tensor], params: Mapping[str, Any], normal) -> Tensor:
        return torch.tensor(1j * float(params[wavenumber]))

    def data(coords: Mapping[str, Tensor], params: Mapping[str, Any], normal) -> Tensor:
        k, th = float(params[wavenumber]), float(params[angle])
        kx, ky = k * math.cos(th), k * math.sin(th)
        inc = torch.exp(-1j * (kx * coords["x"] + ky * coords["y"]))
        return 1j * (k - (normal[0] * kx + normal[1] * ky)) * inc

    return coef, data


_TE_WALL = absorbing_wall("k0")

#: The walls are part of the problem: an absorbing wall for the incident wave on E (``bc_error/
#: E_re`` measures it for E = E_re + i E_im) and convective heat loss -dT/dn = Bi (T - 1) on T
#: (``bc_error/T``); without them the zero field would satisfy every interior equation.
TE_HEAT = Equation(
    name="te_heat",
    description="electro-thermal: Lap E + k0^2 (eps_r - i sigma(T)) E = 0, Lap T + q sigma(T) "
                "|E|^2 = 0, Arrhenius sigma(T) (Multiphysics Bench TE_heat, C.1)",
    unknowns=("E_re", "E_im", "T"), coefficients=("eps_r", "sigma0"),
    params=("k0", "q", "gamma"),
    components={
        "helmholtz_re": Component(_TE_FIELDS, _te_helmholtz_re, units="[E]/L^2"),
        "helmholtz_im": Component(_TE_FIELDS, _te_helmholtz_im, units="[E]/L^2"),
        "heat": Component(_TE_FIELDS, _te_heat, units="[T]/L^2"),
    },
    boundary={"E_re": {"all": robin(_TE_WALL[0], _TE_WALL[1], imag="E_im")},
              "T": {"all": robin("biot", "biot")}},
    coupled=("E_re", "E_im", "T"),
    coupling=Component(_TE_FIELDS, _te_joule_balance, units="[T]/L^2"),
    grids=("cell_centered",),
)

EQUATIONS = (E_FLOW, TE_HEAT)
