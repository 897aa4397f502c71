"""Equations of the reduced Multiphysics Bench MHD and acoustic problems (specs/PROBLEMS.md, C.4-5).

Written once against a derivative provider (axis 0 = x, axis 1 = y).

MHD, Shercliff's fully developed duct flow (C.4), non-dimensional (lengths in units of the duct
half-width ``a``, velocity ``w`` along the duct axis, induced axial field ``b``, imposed transverse
field ``B0`` along y, Hartmann number ``Ha = B0 a sqrt(sigma / (rho nu))``, pressure-gradient
forcing ``G``)::

    Lap w + Ha d_y b = -G            (axial momentum; Ha d_y b is the axial Lorentz force)
    Lap b + Ha d_y w = -s            (induction; s = 0 for the physical problem, s != 0 only
                                      for manufactured solutions)

Acoustics with variable density (C.5), time-harmonic (factor ``exp(+i omega t)``), pressure ``p``
complex, ``inv_rho = 1 / rho`` and ``inv_kappa = 1 / kappa`` (bulk modulus)::

    div(inv_rho grad p) + omega^2 inv_kappa p = -f

Each equation is a tuple of *terms* whose sum is the residual (:mod:`pdebench.physics.equations`);
the ``*_residuals`` functions the generators' self-checks call return the sums of the same terms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider
from pdebench.physics.equations import Component, Equation, dirichlet, robin
from pdebench.physics.multiphysics import absorbing_wall

__all__ = ["EQUATIONS", "MHD", "RIGID_INV_RHO", "VA", "acoustic_residual", "acoustic_terms",
           "fluid_domain", "hartmann_residuals", "hartmann_terms", "lorentz_force",
           "lorentz_terms", "magnitude_terms"]

Fields = Mapping[str, Tensor]

#: ``1 / rho`` of the rigid obstacle in the acoustic residual (the limit ``rho -> inf``, floored
#: as the ``va`` generator does so that harmonic means of two solid cells stay finite).
RIGID_INV_RHO = 1e-12


def _total(terms: Sequence[Tensor | float]) -> Tensor:
    """Sum of an equation's terms (the residual)."""
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


# ----------------------------------------------------------------------------------------------
# MHD: Hartmann duct
# ----------------------------------------------------------------------------------------------

def lorentz_force(b: Tensor, ha: Tensor | float, d: DerivativeProvider) -> Tensor:
    """Axial Lorentz force ``Ha d_y b`` (units of the forcing ``G``), shaped like ``b``.

    Parameters
    ----------
    b : Tensor
        Induced axial field, ``(batch, H, W)`` (grid) or ``(N,)`` (points).
    ha : Tensor or float
        Hartmann number, broadcastable to ``b``.
    d : DerivativeProvider
        Provider for ``grad`` (y is spatial axis 1).
    """
    return ha * d.grad(b)[1]


def hartmann_terms(w: Tensor, b: Tensor, ha: Tensor | float, g: Tensor | float,
                   d: DerivativeProvider, s: Tensor | float = 0.0
                   ) -> tuple[tuple[Tensor, Tensor, Tensor | float],
                              tuple[Tensor, Tensor, Tensor | float]]:
    """Terms of the momentum and induction equations.

    Momentum ``(Lap w, Ha b_y, G)`` (the second is :func:`lorentz_force`), induction
    ``(Lap b, Ha w_y, s)``; arguments as in :func:`hartmann_residuals`. Tensors shaped like ``w``
    (``G`` and ``s`` as given), units of ``G``.
    """
    mom = d.lap(w), lorentz_force(b, ha, d), g
    ind = d.lap(b), ha * d.grad(w)[1], s
    return mom, ind


def hartmann_residuals(w: Tensor, b: Tensor, ha: Tensor | float, g: Tensor | float,
                       d: DerivativeProvider, s: Tensor | float = 0.0) -> tuple[Tensor, Tensor]:
    """Momentum and induction residuals ``(Lap w + Ha b_y + G, Lap b + Ha w_y + s)``.

    Parameters
    ----------
    w, b : Tensor
        Axial velocity and induced field, ``(batch, H, W)`` or ``(N,)``.
    ha : Tensor or float
        Hartmann number (>= 0), broadcastable.
    g : Tensor or float
        Pressure-gradient forcing ``G = -dp/dz`` (scaled), broadcastable.
    d : DerivativeProvider
        Provider for ``lap`` and ``grad``.
    s : Tensor or float
        Induction source (0 for the physical problem).

    Returns
    -------
    (Tensor, Tensor)
        Both shaped like ``w``; zero for a solution. The sums of :func:`hartmann_terms`.
    """
    mom, ind = hartmann_terms(w, b, ha, g, d, s)
    return _total(mom), _total(ind)


def lorentz_terms(force: Tensor, b: Tensor, ha: Tensor | float, d: DerivativeProvider
                  ) -> tuple[Tensor, Tensor]:
    """A Lorentz force field against the induced field: ``(F, -Ha b_y)``.

    ``force``, ``b``: ``(batch, H, W)`` or ``(N,)``; ``ha`` broadcastable. Zero sum when ``F`` is
    the Lorentz force :func:`lorentz_force` of ``b``; units of ``G``.
    """
    return force, -lorentz_force(b, ha, d)


def _mhd_momentum(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                  ) -> tuple[Tensor | float, ...]:
    return hartmann_terms(fields["w"], fields["b"], fields["Ha"], fields["G"], d)[0]


def _mhd_induction(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                   ) -> tuple[Tensor, Tensor]:
    return hartmann_terms(fields["w"], fields["b"], fields["Ha"], 0.0, d)[1][:2]


def _mhd_lorentz(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                 ) -> tuple[Tensor, Tensor]:
    return lorentz_terms(fields["F"], fields["b"], fields["Ha"], d)


#: Hartmann duct flow, the reduced Multiphysics Bench MHD (C.4, dataset ``mhd``): outputs ``w``,
#: ``b``, ``F`` (the axial Lorentz force), inputs ``G`` and ``Ha`` (per-sample Hartmann number
#: broadcast over the grid).
#:
#: - ``momentum``, ``induction``: :func:`hartmann_terms`. The generator's operators are exactly
#:   the finite-difference provider's with ``w = b = 0`` ghost cells, so every cell is scored
#:   (``margin=0``, as Darcy) and the reference scores float32 round-off; a wall violation is
#:   charged in the residual too.
#: - ``bc_error/w``, ``bc_error/b``: no slip and insulating walls, ``w = b = 0`` on every wall;
#:   the reference scores the O(h^2) distance of the quadratic extrapolation of its cell values
#:   from 0.
#: - ``coupling_consistency``: :func:`lorentz_terms`, the Lorentz force output ``F`` against
#:   ``Ha d_y b`` of the induced field output (the force the induced current exerts on the flow).
#: - Steady; the velocity is axial (one component, along the duct): no conservation_error, no
#:   divergence_l2 (``d_z w = 0`` for a fully developed flow).
MHD = Equation(
    name="mhd_hartmann_duct",
    description="Hartmann duct flow: Lap w + Ha b_y = -G, Lap b + Ha w_y = 0, w = b = 0 on the "
                "walls, Lorentz force F = Ha b_y (Multiphysics Bench MHD, reduced, C.4)",
    unknowns=("w", "b", "F"), coefficients=("G", "Ha"),
    components={
        "momentum": Component(("w", "b", "Ha", "G"), _mhd_momentum, units="[G]"),
        "induction": Component(("w", "b", "Ha"), _mhd_induction, units="[G]"),
    },
    boundary={"w": {"all": dirichlet(0.0)}, "b": {"all": dirichlet(0.0)}},
    coupled=("b", "F"), coupling=Component(("F", "b", "Ha"), _mhd_lorentz, units="[G]"),
    grid_bc="dirichlet_zero", margin=0, grids=("cell_centered",),
)


# ----------------------------------------------------------------------------------------------
# Acoustics around a rigid disc (va)
# ----------------------------------------------------------------------------------------------

def acoustic_terms(p_re: Tensor, p_im: Tensor, inv_rho: Tensor | float,
                   inv_kappa: Tensor | float, omega: float, d: DerivativeProvider,
                   f_re: Tensor | float = 0.0, f_im: Tensor | float = 0.0
                   ) -> tuple[tuple[Tensor, Tensor, Tensor | float],
                              tuple[Tensor, Tensor, Tensor | float]]:
    """Terms of the real and imaginary parts of ``div(inv_rho grad p) + omega^2 inv_kappa p + f``.

    Real part ``(div(inv_rho grad p_re), omega^2 inv_kappa p_re, f_re)``, imaginary part likewise;
    arguments as in :func:`acoustic_residual`. Tensors shaped like ``p_re``, units
    ``[inv_rho][p] / L^2``.
    """
    w2 = omega * omega
    re = d.div_flux(inv_rho, p_re), w2 * inv_kappa * p_re, f_re
    im = d.div_flux(inv_rho, p_im), w2 * inv_kappa * p_im, f_im
    return re, im


def acoustic_residual(p_re: Tensor, p_im: Tensor, inv_rho: Tensor | float,
                      inv_kappa: Tensor | float, omega: float, d: DerivativeProvider,
                      f_re: Tensor | float = 0.0, f_im: Tensor | float = 0.0
                      ) -> tuple[Tensor, Tensor]:
    """Real and imaginary parts of ``div(inv_rho grad p) + omega^2 inv_kappa p + f``.

    Parameters
    ----------
    p_re, p_im : Tensor
        Real and imaginary parts of the pressure, ``(batch, H, W)`` or ``(N,)``.
    inv_rho, inv_kappa : Tensor or float
        ``1 / rho`` (> 0) and ``1 / kappa``, broadcastable (a real medium: both real).
    omega : float
        Angular frequency (units ``sqrt(kappa / rho) / L``).
    d : DerivativeProvider
        Provider for ``div_flux``.
    f_re, f_im : Tensor or float
        Source (0 for a scattering problem driven by the incident wave).

    Returns
    -------
    (Tensor, Tensor)
        The sums of :func:`acoustic_terms`, shaped like ``p_re``.
    """
    re, im = acoustic_terms(p_re, p_im, inv_rho, inv_kappa, omega, d, f_re, f_im)
    return _total(re), _total(im)


def magnitude_terms(p_abs: Tensor, p_re: Tensor, p_im: Tensor) -> tuple[Tensor, Tensor]:
    """A magnitude field against the complex value: ``(|p|, -sqrt(p_re^2 + p_im^2))``.

    All ``(batch, H, W)`` or ``(N,)``; zero sum when ``p_abs`` is the modulus of
    ``p_re + i p_im``; units of ``p``.
    """
    return p_abs, -(p_re * p_re + p_im * p_im).sqrt()


def fluid_domain(fields: Fields, params: Mapping[str, Any]) -> Tensor:
    """The fluid of ``va``: cells whose ``mask`` (1 on the rigid disc) is 0; bool like ``mask``."""
    return fields["mask"] < 0.5


def _va_acoustic(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                 ) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    inv_rho = fields["inv_rho"].clamp_min(RIGID_INV_RHO)
    return acoustic_terms(fields["p_re"], fields["p_im"], inv_rho, 1.0 / float(params["kappa"]),
                          float(params["omega"]), d)


def _va_re(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
           ) -> tuple[Tensor, ...]:
    return _va_acoustic(fields, params, d)[0][:2]


def _va_im(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
           ) -> tuple[Tensor, ...]:
    return _va_acoustic(fields, params, d)[1][:2]


def _va_magnitude(fields: Fields, params: Mapping[str, Any], d: DerivativeProvider
                  ) -> tuple[Tensor, Tensor]:
    return magnitude_terms(fields["p_abs"], fields["p_re"], fields["p_im"])


_VA_FIELDS = ("p_re", "p_im", "inv_rho")

#: Time-harmonic acoustics around a rigid disc, the reduced Multiphysics Bench VA (C.5, dataset
#: ``va``): outputs ``p_re``, ``p_im``, ``p_abs``, inputs ``inv_rho`` (0 on the disc) and ``mask``
#: (1 on the disc); ``omega`` and the bulk modulus ``kappa`` from ``pde_params``.
#:
#: - ``helmholtz_re``, ``helmholtz_im``: :func:`acoustic_terms` without source on the fluid
#:   (:func:`fluid_domain`: the disc and, with ``margin=1``, its neighbouring cells and one cell
#:   per wall are not scored); ``inv_rho`` is floored at :data:`RIGID_INV_RHO` on the disc as in
#:   the generator. The generator's finite volumes exactly, so the reference scores float32
#:   round-off.
#: - ``coupling_consistency``: :func:`magnitude_terms`, ``p_abs`` against the modulus of
#:   ``p_re + i p_im`` on the fluid: the three outputs are one complex field, and a model that
#:   predicts them as independent channels can get each close but not the same field.
#: - No ``bc_error``: the walls are first-order absorbing (Robin) conditions on the scattered field
#:   and the disc's sound-hard ``d_n p = 0`` lies on a staircase inside the box, not on its walls;
#:   ``bc_error`` measures Dirichlet/Neumann data on the box walls only.
#: - Steady (time-harmonic), no velocity output: no conservation_error, no divergence_l2.
VA = Equation(
    name="va",
    description="time-harmonic acoustics around a rigid disc: div(inv_rho grad p) + omega^2/kappa "
                "p = 0 in the fluid, absorbing walls (Multiphysics Bench VA, reduced, C.5)",
    unknowns=("p_re", "p_im", "p_abs"), coefficients=("inv_rho", "mask"),
    params=("omega", "kappa"),
    components={
        "helmholtz_re": Component(_VA_FIELDS, _va_re, units="[inv_rho][p]/L^2"),
        "helmholtz_im": Component(_VA_FIELDS, _va_im, units="[inv_rho][p]/L^2"),
    },
    # the walls sit in the background medium (inv_rho = 1, kappa = 1: wavenumber omega) and
    # absorb the scattered wave: bc_error/p_re measures d_n p + i omega p = g for p_re + i p_im
    boundary={"p_re": {"all": robin(*absorbing_wall("omega"), imag="p_im")}},
    coupled=("p_re", "p_im", "p_abs"),
    coupling=Component(("p_abs", "p_re", "p_im"), _va_magnitude, units="[p]"),
    domain=fluid_domain, grids=("cell_centered",),
)

EQUATIONS = (MHD, VA)
