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
generators (:mod:`pdebench.datasets.numerics.masked_fv`): a face between two domain cells carries the flux
``c_f (u_R - u_L) / h`` with the harmonic mean ``c_f``; a face between a domain cell and an excluded
cell carries the inner boundary condition (Dirichlet ``u = 0`` on the face: flux ``2 c_P (0 -
u_P) / h`` from the cell's own coefficient and a ghost value ``-u_P``, as at the box walls; or no
flux); the faces of the bounding box use the provider's ``bc`` as in the parent class. The result is
0 on excluded cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from pdebench.physics.derivatives import DerivativeProvider, FiniteDifference, _as_field

__all__ = ["INNER_BCS", "MaskedFiniteDifference", "conduction_residual", "masked_residual"]

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
        Shaped like ``T``, units of ``q``. With :class:`MaskedFiniteDifference` it is ``A T - q``
        for the matrix ``A`` of :mod:`pdebench.datasets.numerics.masked_fv`: round-off on the generator's
        solution.
    """
    r = -d.div_flux(k, temperature) - q
    return r if mask is None else masked_residual(r, mask)
