"""Steady conduction ``-div(k grad T) = q`` on masked grids, and the masked derivative provider.

Used by two MT-DeepONet problems (specs/PROBLEMS.md, B.2 and B.3):

- the 3D heated plate with holes: :func:`conduction_residual` with
  :class:`MaskedFiniteDifference` (solid voxels = mask, insulated holes: ``inner_bc =
  "neumann_zero"``);
- Darcy on several geometries, ``-div(K grad h) = 1`` in a domain cut out of the unit square by a
  mask, ``h = 0`` on its boundary: the same provider with ``inner_bc="dirichlet_zero"`` handed to
  :func:`pdebench.physics.darcy.darcy_residual` (and the result multiplied by the mask, see
  :func:`masked_residual`); the equation is written once, only the provider knows the geometry.

:class:`MaskedFiniteDifference` extends the grid provider
:class:`~pdebench.physics.derivatives.FiniteDifference` to a domain made of the cells where a mask
is true ("staircase" geometry). ``div_flux(c, u)`` is the cell-centred finite-volume operator of the
generators' masked finite volumes (:mod:`pdebench.datasets.numerics`): a face between two domain
cells carries the flux ``c_f (u_R - u_L) / h`` with the harmonic mean ``c_f``; a face between a
domain cell and an excluded cell carries the inner boundary condition (Dirichlet ``u = 0`` on the
face: flux ``2 c_P (0 - u_P) / h`` from the cell's own coefficient and a ghost value ``-u_P``, as
at the box walls; or no flux); the faces of the bounding box use the provider's ``bc`` as in the
parent class. The result is 0 on excluded cells.

Written once: :func:`conduction_terms` (one flux divergence per axis, :func:`flux_divergence_parts`,
and the source) are summed by :func:`conduction_residual` (the heated plate's self-check) and scored
on the ``heated_plate`` dataset by :data:`HEAT_CONDUCTION`; :data:`DARCY_MASKED` scores the
``darcy_geometries`` dataset with :func:`pdebench.physics.darcy.darcy_terms`, the terms its
generator's :func:`~pdebench.physics.darcy.darcy_residual` sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from pdebench.physics.darcy import darcy_terms
from pdebench.physics.derivatives import DerivativeProvider, FiniteDifference, _as_field
from pdebench.physics.equations import Component, Equation, dirichlet, neumann

__all__ = ["DARCY_MASKED", "EQUATIONS", "HEAT_CONDUCTION", "INNER_BCS", "MaskedFiniteDifference",
           "conduction_residual", "conduction_terms", "flux_divergence_parts",
           "masked_darcy_terms", "masked_residual", "plate_conduction_terms"]

#: Conditions on faces between the domain and excluded cells.
INNER_BCS = ("dirichlet_zero", "neumann_zero")


class MaskedFiniteDifference(FiniteDifference):
    """Finite volumes on the cells where ``mask`` is true (cell-centred grid).

    Parameters
    ----------
    spacing : sequence of float
        Cell width per spatial dimension.
    mask : Tensor
        Boolean (or 0/1) domain indicator, ``(batch, *spatial)`` or ``(*spatial)`` (one geometry
        for the whole batch); broadcast against the fields.
    bc : str or sequence of str
        Condition on the faces of the bounding box (see
        :class:`~pdebench.physics.derivatives.FiniteDifference`).
    inner_bc : {"dirichlet_zero", "neumann_zero"}
        Condition on faces between a domain cell and an excluded cell.

    Only :meth:`div_flux` and :meth:`lap` (``div_flux`` with ``coef = 1``) know the mask; ``grad``
    and ``div`` raise, rather than silently differencing across the excluded cells.
    """

    def __init__(self, spacing: Sequence[float], mask: Tensor,
                 bc: str | Sequence[str] = "dirichlet_zero",
                 inner_bc: str = "dirichlet_zero") -> None:
        super().__init__(spacing, bc)
        if inner_bc not in INNER_BCS:
            raise ValueError(f"MaskedFiniteDifference: unknown inner_bc {inner_bc!r}; valid: "
                             f"{', '.join(INNER_BCS)}")
        mask = torch.as_tensor(mask)
        if mask.ndim not in (self.ndim, self.ndim + 1):
            raise ValueError(f"MaskedFiniteDifference: mask must be (*spatial) or (batch, "
                             f"*spatial) with {self.ndim} spatial dims, got {tuple(mask.shape)}")
        self.mask = mask.bool() if mask.ndim == self.ndim + 1 else mask.bool()[None]
        self.inner_bc = inner_bc

    def grad(self, u: Tensor) -> tuple[Tensor, ...]:
        raise NotImplementedError("MaskedFiniteDifference supports div_flux and lap only")

    def div(self, v: Sequence[Tensor]) -> Tensor:
        raise NotImplementedError("MaskedFiniteDifference supports div_flux and lap only")

    def lap(self, u: Tensor) -> Tensor:
        return self.div_flux(1.0, u)

    def div_flux(self, coef: Tensor | float, u: Tensor) -> Tensor:
        self._check(u)
        m = torch.broadcast_to(self.mask.to(u.device), u.shape)
        c = _as_field(coef, u)
        dirichlet = self.inner_bc == "dirichlet_zero"
        total = torch.zeros_like(u)
        for k, h in enumerate(self.spacing):
            dim, n = k + 1, u.shape[k + 1]
            up, cp = self._pad(u, k, odd=True), self._pad(c, k, odd=False)
            mp = self._pad(m.to(u.dtype), k, odd=False) > 0.5  # ghosts share the wall cell's mask
            ul, ur = up.narrow(dim, 0, n + 1), up.narrow(dim, 1, n + 1)
            cl, cr = cp.narrow(dim, 0, n + 1), cp.narrow(dim, 1, n + 1)
            ml, mr = mp.narrow(dim, 0, n + 1), mp.narrow(dim, 1, n + 1)
            both = (2.0 * cl * cr / (cl + cr)) * (ur - ul)
            zero = torch.zeros_like(both)
            if dirichlet:  # face value 0: half-cell distance, the domain cell's own coefficient
                left_only = 2.0 * cl * (0.0 - ul)
                right_only = 2.0 * cr * (ur - 0.0)
            else:
                left_only = right_only = zero
            flux = torch.where(ml & mr, both,
                               torch.where(ml, left_only, torch.where(mr, right_only, zero)))
            total = total + (flux.narrow(dim, 1, n) - flux.narrow(dim, 0, n)) / (h * h)
        return torch.where(m, total, torch.zeros_like(total))


def masked_residual(r: Tensor, mask: Tensor) -> Tensor:
    """``r`` on the domain cells, 0 on excluded ones (``mask`` broadcast to ``r``)."""
    m = torch.broadcast_to(torch.as_tensor(mask, device=r.device).bool(), r.shape)
    return torch.where(m, r, torch.zeros_like(r))


def conduction_residual(temperature: Tensor, k: Tensor | float, q: Tensor | float,
                        d: DerivativeProvider, mask: Tensor | None = None) -> Tensor:
    """Residual ``r = -div(k grad T) - q`` of steady heat conduction (specs/PROBLEMS.md, B.3).

    Parameters
    ----------
    temperature : Tensor
        ``T`` in the provider's layout: ``(batch, *spatial)`` on a grid (for a body with holes use
        :class:`MaskedFiniteDifference`, insulated holes ``inner_bc="neumann_zero"``), ``(N,)``
        or ``(N, 1)`` at points for :class:`~pdebench.physics.derivatives.Autograd`. Units ``K``.
    k : Tensor or float
        Conductivity (> 0), broadcastable to ``T``; units ``W / (m K)`` (dimensionless here).
    q : Tensor or float
        Volumetric source, broadcastable to ``T``; units ``W / m^3``. A heat flux through a face
        enters a finite-volume grid as ``q = flux / h`` in the cells along that face.
    d : DerivativeProvider
        Supplies ``div_flux``.
    mask : Tensor, optional
        Domain indicator; the residual is set to 0 outside (where ``T`` and ``q`` mean nothing).

    Returns
    -------
    Tensor
        Shaped like ``T``, units of ``q``: the sum of :func:`conduction_terms`. With
        :class:`MaskedFiniteDifference` it is ``A T - q`` for the masked finite-volume matrix
        ``A`` of the generator (:mod:`pdebench.datasets.numerics`; up to the order of the sums):
        round-off on the generator's solution.
    """
    terms = conduction_terms(temperature, k, q, d)
    r = terms[0]
    for t in terms[1:]:
        r = r + t
    return r if mask is None else masked_residual(r, mask)


def flux_divergence_parts(coef: Tensor | float, u: Tensor, d: DerivativeProvider
                          ) -> tuple[Tensor, ...]:
    """The flux divergence along each axis, ``d_k(coef d_k u)``; their sum is ``div(coef grad u)``.

    Parameters
    ----------
    coef : Tensor or float
        Positive coefficient, broadcastable to ``u``.
    u : Tensor
        The field in the provider's layout (``(batch, *spatial)`` on grids, ``(N,)`` or ``(N, 1)``
        at points).
    d : DerivativeProvider
        For :class:`~pdebench.physics.derivatives.FiniteDifference` and
        :class:`MaskedFiniteDifference` part ``k`` is the axis-``k`` share of their
        finite-volume ``div_flux`` (the same provider in one dimension along the lines of axis
        ``k``: same faces, ghosts and mask), so the parts sum to ``d.div_flux(coef, u)`` up to
        the order of the additions. Other providers (``Autograd``): ``d.grad(coef
        d.grad(u)[k])[k]``.

    Returns
    -------
    tuple of Tensor
        ``d.ndim`` tensors shaped like ``u``, units ``[coef][u] / L^2``.
    """
    c = _as_field(coef, u)
    if not isinstance(d, FiniteDifference):
        return tuple(d.grad(c * g)[k] for k, g in enumerate(d.grad(u)))
    if u.ndim != d.ndim + 1:
        raise ValueError(f"flux_divergence_parts: expected a field (batch, {d.ndim} spatial "
                         f"dims), got shape {tuple(u.shape)}")
    mask = torch.broadcast_to(d.mask.to(u.device), u.shape) \
        if isinstance(d, MaskedFiniteDifference) else None
    parts = []
    for k, (h, bc) in enumerate(zip(d.spacing, d.bc, strict=True)):
        moved = u.movedim(k + 1, -1).shape

        def lines(t: Tensor, k: int = k) -> Tensor:  # axis k last, every line one batch row
            return t.movedim(k + 1, -1).reshape(-1, t.shape[k + 1])

        line = FiniteDifference((h,), bc) if mask is None else \
            MaskedFiniteDifference((h,), lines(mask), bc=bc, inner_bc=d.inner_bc)
        parts.append(line.div_flux(lines(c), lines(u)).reshape(moved).movedim(-1, k + 1))
    return tuple(parts)


def conduction_terms(temperature: Tensor, k: Tensor | float, q: Tensor | float,
                     d: DerivativeProvider) -> tuple[Tensor | float, ...]:
    """The terms of steady conduction: ``-d_x(k d_x T)``, ``-d_y(k d_y T)``, ... and ``-q``.

    One flux divergence per axis (:func:`flux_divergence_parts`), so that a heat balance without
    a source (the plate heated through a face) still has a natural scale: the fluxes that balance.
    Parameters as :func:`conduction_residual`; returns ``d.ndim`` tensors shaped like ``T`` and
    ``-q`` (tensor or number), units of ``q``.
    """
    return (*(-p for p in flux_divergence_parts(k, temperature, d)), -q)


def plate_conduction_terms(fields: Mapping[str, Tensor], params: Mapping[str, Any],
                           d: DerivativeProvider) -> tuple[Tensor | float, ...]:
    """:func:`conduction_terms` of the ``heated_plate`` dataset: field ``T``, parameters
    ``conductivity`` (``k``) and ``volume_source`` (``q`` in the solid for ``heating="volume"``,
    0 when the heat enters through the bottom face)."""
    return conduction_terms(fields["T"], float(params["conductivity"]),
                            float(params["volume_source"]), d)


def masked_darcy_terms(fields: Mapping[str, Tensor], params: Mapping[str, Any],
                       d: DerivativeProvider) -> tuple[Tensor, float]:
    """:func:`pdebench.physics.darcy.darcy_terms` of the ``darcy_geometries`` dataset.

    Fields ``h`` (the head) and ``log_k`` (the standardised log-permeability ``G / sigma``),
    parameters ``sigma`` and ``source`` (``f``): the terms ``(-div(K grad h), -f)`` with ``K =
    exp(sigma log_k)``, units of ``f``.
    """
    k = torch.exp(float(params["sigma"]) * fields["log_k"])
    return darcy_terms({"u": fields["h"], "a": k}, {"beta": params["source"]}, d)


#: Darcy flow ``-div(K grad h) = f`` on the masked geometries of ``darcy_geometries``
#: (MT-DeepONet B.2), ``K = exp(sigma log_k)``, ``h = 0`` on the domain's boundary. Scored on the
#: domain (the ``mask`` input) shrunk by one cell, where the grid's five-point finite volumes are
#: those of the generator: its solution scores round-off. ``bc_error/h`` checks ``h = 0`` on the
#: walls of the unit square where they bound the domain (all of them for the square and the cross,
#: a few cells for the disc and the triangle); the cut-out boundaries (disc, triangle, the cross's
#: hole) are not checked. Not applicable: ``divergence_l2`` (the Darcy velocity ``-K grad h`` has
#: divergence ``f``, not 0), ``coupling_consistency`` (one field), ``conservation_error`` (steady).
DARCY_MASKED = Equation(
    name="darcy_masked",
    description="steady Darcy flow -div(exp(sigma log_k) grad h) = f on a masked domain, h = 0 on "
                "its boundary (MT-DeepONet B.2)",
    unknowns=("h",), coefficients=("log_k", "mask"), params=("sigma", "source"),
    components={"darcy_masked": Component(("h", "log_k"), masked_darcy_terms, units="[f]")},
    boundary={"h": {"all": dirichlet(0.0)}},
    grid_bc="dirichlet_zero", margin=1, domain="mask", grids=("cell_centered",),
)

#: Steady conduction ``-div(k grad T) = q`` in the heated plate of ``heated_plate`` (MT-DeepONet
#: B.3): solid voxels = the ``mask`` input, ``T = 0`` on the four side faces (x, y walls), the top
#: and the holes insulated, the heat entering through the bottom face (flux ``q``) or released in
#: the solid (``pde_params["volume_source"]``). Scored on the solid shrunk by one cell (away from
#: the holes and all six faces), where the grid's seven-point finite volumes are the generator's:
#: its solution scores round-off. The terms are the flux divergences per axis
#: (:func:`conduction_terms`): with face heating the interior has no source and the balancing
#: fluxes are the natural scale. ``bc_error/T`` checks ``T = 0`` on the side faces and ``dT/dn =
#: 0`` on the top, where they bound the solid. Not checked: the insulated hole surfaces (cut out of
#: the box), and the bottom face: where the heated bottom meets the ``T = 0`` sides the data are
#: incompatible and the gradient is singular at the edges, so the one-sided normal derivative of the
#: generator's own solution misses ``q / k`` by 21-36 % (RMS over the face at 32x16x4, 32x16x8 and
#: 64x32x8 voxels, not falling with refinement), a floor that would hide every other wall violation
#: (the bottom flux is in the generator's finite-volume balance of the bottom layer instead). Not
#: applicable: ``divergence_l2`` (no velocity), ``coupling_consistency`` (one field),
#: ``conservation_error`` (steady: no rollout whose heat content could drift).
HEAT_CONDUCTION = Equation(
    name="heat_conduction",
    description="steady conduction -div(k grad T) = q in the 3D heated plate with insulated holes, "
                "T = 0 on the sides, insulated top, heated bottom (MT-DeepONet B.3)",
    unknowns=("T",), coefficients=("mask",), params=("conductivity", "volume_source"),
    components={"heat_conduction": Component(("T",), plate_conduction_terms, units="W/m^3")},
    boundary={"T": {"x_lo": dirichlet(0.0), "x_hi": dirichlet(0.0), "y_lo": dirichlet(0.0),
                    "y_hi": dirichlet(0.0), "z_hi": neumann(0.0)}},
    grid_bc=("dirichlet_zero", "dirichlet_zero", "neumann_zero"), margin=1, domain="mask",
    grids=("cell_centered",),
)

EQUATIONS = (DARCY_MASKED, HEAT_CONDUCTION)
