"""Derivative providers: the small interface every equation residual is written against.

An equation in :mod:`pdebench.physics` is written once, e.g. ``-d.div_flux(a, u) - beta``, and
evaluated by whichever provider ``d`` fits the use:

- :class:`FiniteDifference` -- fields on a cell-centred grid, shape ``(batch, *spatial)``; used
  by generators to verify their own solutions and by the physics metrics on model predictions;
- :class:`Autograd` -- a network's output at collocation points, differentiated with
  :func:`torch.autograd.grad` with respect to the point coordinates; used by PINN losses.

Convention shared by both: a scalar field is a tensor ``u``; a vector field is a tuple of ``D``
tensors shaped like ``u`` (one per spatial dimension, in dimension order), so an equation never
needs to know where a provider keeps its component axis.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["BOUNDARY_CONDITIONS", "Autograd", "DerivativeProvider", "FiniteDifference"]

#: Boundary conditions the finite-difference provider can impose on the differentiated field.
BOUNDARY_CONDITIONS = ("dirichlet_zero", "neumann_zero", "periodic")


class DerivativeProvider:
    """Interface: ``grad``, ``div``, ``lap`` and the flux form ``div_flux``.

    Subclasses implement :meth:`grad` and :meth:`div`; :meth:`lap` and :meth:`div_flux` default to
    their compositions and may be overridden by a compact stencil (as the finite-difference
    provider does, so that ``div_flux`` is exactly the finite-volume scheme of the generators).
    """

    ndim: int

    def grad(self, u: Tensor) -> tuple[Tensor, ...]:
        """Gradient of a scalar field: ``ndim`` tensors shaped like ``u``."""
        raise NotImplementedError

    def div(self, v: Sequence[Tensor]) -> Tensor:
        """Divergence of a vector field given as ``ndim`` tensors of one shape."""
        raise NotImplementedError

    def lap(self, u: Tensor) -> Tensor:
        """Laplacian ``div(grad(u))``, shaped like ``u``."""
        return self.div(self.grad(u))

    def div_flux(self, coef: Tensor | float, u: Tensor) -> Tensor:
        """Flux form ``div(coef * grad(u))`` for a scalar coefficient field, shaped like ``u``."""
        c = _as_field(coef, u)
        return self.div(tuple(c * g for g in self.grad(u)))


def _as_field(coef: Tensor | float, u: Tensor) -> Tensor:
    return torch.broadcast_to(torch.as_tensor(coef, dtype=u.dtype, device=u.device), u.shape)


class FiniteDifference(DerivativeProvider):
    """Second-order finite differences on a cell-centred grid.

    Fields have shape ``(batch, *spatial)`` with ``len(spatial) == len(spacing)``; value ``k`` of a
    spatial axis sits at the cell centre ``lo + (k + 1/2) h``. Boundaries are handled with one
    ghost cell per side whose value enforces the condition on the wall face:

    - ``"dirichlet_zero"``: ghost ``-u_0``, so the wall value is 0 and the wall-face gradient is
      ``(u_0 - 0) / (h/2)``;
    - ``"neumann_zero"``: ghost ``u_0`` (zero wall-face gradient, no flux);
    - ``"periodic"``: ghost = the cell on the opposite side.

    ``div_flux(coef, u)`` is the five-point (in 2D) finite-volume operator
    ``sum_k (F_{k,+} - F_{k,-}) / h_k`` with face fluxes ``F = c_f (u_R - u_L) / h_k`` and face
    coefficients the harmonic mean ``c_f = 2 c_L c_R / (c_L + c_R)`` of the two neighbouring cells
    (at a wall, the wall cell's own value). ``coef`` must be positive. ``lap(u)`` is the same
    operator with ``coef = 1``. ``grad(u)`` is the central difference with the same ghost cells.
    ``div(v)`` assumes nothing about ``v`` at a non-periodic wall: its edge cells use second-order
    one-sided differences (:func:`torch.gradient` with ``edge_order=2``).

    Accuracy: ``lap`` and ``div_flux`` are exact on cubics (per dimension) in the interior; at a
    Dirichlet wall the local error is O(1) for curved profiles (the ghost is a linear
    extrapolation), which the solution of the scheme still converges at second order through.

    Parameters
    ----------
    spacing : sequence of float
        Cell width ``h_k`` per spatial dimension (``DatasetMeta.spacing``).
    bc : str or sequence of str
        Boundary condition of the differentiated field, one for all dimensions or one per
        dimension, from :data:`BOUNDARY_CONDITIONS`. Default ``"dirichlet_zero"``.
    """

    def __init__(self, spacing: Sequence[float], bc: str | Sequence[str] = "dirichlet_zero") -> None:
        hs = tuple(float(h) for h in spacing)
        if not hs or not all(h > 0 and h < float("inf") for h in hs):
            raise ValueError(f"FiniteDifference: spacing must be positive and finite, got {spacing!r}")
        bcs = (bc,) * len(hs) if isinstance(bc, str) else tuple(bc)
        if len(bcs) != len(hs):
            raise ValueError(f"FiniteDifference: {len(bcs)} boundary conditions for {len(hs)} dims")
        for b in bcs:
            if b not in BOUNDARY_CONDITIONS:
                raise ValueError(
                    f"FiniteDifference: unknown boundary condition {b!r}; "
                    f"valid: {', '.join(BOUNDARY_CONDITIONS)}"
                )
        self.spacing = hs
        self.bc = bcs
        self.ndim = len(hs)

    def _check(self, u: Tensor) -> None:
        if u.ndim != self.ndim + 1:
            raise ValueError(
                f"FiniteDifference: expected a field (batch, {self.ndim} spatial dims), "
                f"got shape {tuple(u.shape)}"
            )
        if min(u.shape[1:]) < 3:
            raise ValueError(f"FiniteDifference: need >= 3 cells per dim, got {tuple(u.shape)}")

    def _pad(self, u: Tensor, k: int, odd: bool) -> Tensor:
        """Add one ghost cell per side along spatial dim ``k``.

        ``odd`` selects the Dirichlet (sign-flipping) ghost for the differentiated field; a
        coefficient field is always mirrored (``odd=False``), so the wall face takes the wall cell's
        own value.
        """
        dim = k + 1
        n = u.shape[dim]
        first, last = u.narrow(dim, 0, 1), u.narrow(dim, n - 1, 1)
        if self.bc[k] == "periodic":
            lo, hi = last, first
        elif self.bc[k] == "dirichlet_zero" and odd:
            lo, hi = -first, -last
        else:
            lo, hi = first, last
        return torch.cat([lo, u, hi], dim=dim)

    def grad(self, u: Tensor) -> tuple[Tensor, ...]:
        self._check(u)
        out = []
        for k, h in enumerate(self.spacing):
            p = self._pad(u, k, odd=True)
            n = u.shape[k + 1]
            out.append((p.narrow(k + 1, 2, n) - p.narrow(k + 1, 0, n)) / (2.0 * h))
        return tuple(out)

    def div(self, v: Sequence[Tensor]) -> Tensor:
        if len(v) != self.ndim:
            raise ValueError(f"FiniteDifference.div: expected {self.ndim} components, got {len(v)}")
        total = None
        for k, (vk, h) in enumerate(zip(v, self.spacing, strict=True)):
            self._check(vk)
            if self.bc[k] == "periodic":
                dk = (vk.roll(-1, k + 1) - vk.roll(1, k + 1)) / (2.0 * h)
            else:
                (dk,) = torch.gradient(vk, spacing=h, dim=k + 1, edge_order=2)
            total = dk if total is None else total + dk
        return total

    def lap(self, u: Tensor) -> Tensor:
        self._check(u)
        total = None
        for k, h in enumerate(self.spacing):
            p = self._pad(u, k, odd=True)
            n = u.shape[k + 1]
            d2 = (p.narrow(k + 1, 2, n) - 2.0 * u + p.narrow(k + 1, 0, n)) / (h * h)
            total = d2 if total is None else total + d2
        return total

    def div_flux(self, coef: Tensor | float, u: Tensor) -> Tensor:
        self._check(u)
        c = _as_field(coef, u)
        total = None
        for k, h in enumerate(self.spacing):
            dim, n = k + 1, u.shape[k + 1]
            up, cp = self._pad(u, k, odd=True), self._pad(c, k, odd=False)
            cl, cr = cp.narrow(dim, 0, n + 1), cp.narrow(dim, 1, n + 1)
            flux = (2.0 * cl * cr / (cl + cr)) * (up.narrow(dim, 1, n + 1) - up.narrow(dim, 0, n + 1))
            d = (flux.narrow(dim, 1, n) - flux.narrow(dim, 0, n)) / (h * h)
            total = d if total is None else total + d
        return total


class Autograd(DerivativeProvider):
    """Derivatives of network outputs with respect to collocation coordinates.

    ``coords`` has shape ``(N, D)`` and ``requires_grad=True``; fields are tensors with ``N``
    entries computed *pointwise* from it (``u = net(coords)``, shape ``(N,)`` or ``(N, 1)``): entry
    ``i`` may depend on row ``i`` of ``coords`` only, which is what makes the summed-output trick of
    :func:`torch.autograd.grad` give per-point derivatives. Derivatives keep the graph
    (``create_graph=True`` by default) so a residual can be a training loss and be differentiated
    again (second derivatives, parameter gradients). In ``div_flux`` a coefficient that does not
    depend on ``coords`` through the graph (e.g. data values at the points) is treated as locally
    constant.

    Space-time collocation (a PINN of ``u(x, t)``) passes ``spatial_dims``: the first
    ``spatial_dims`` columns of ``coords`` are space (``grad``, ``div``, ``lap`` act on them only,
    as the equations expect) and the next column is time, whose partial :meth:`time_derivative`
    gives.

    Parameters
    ----------
    coords : Tensor
        Collocation coordinates ``(N, D)``, a leaf or any tensor with ``requires_grad``.
    create_graph : bool
        Keep the graph of the derivatives (default ``True``).
    spatial_dims : int, optional
        Number of leading spatial columns (default: all ``D``); ``D - spatial_dims`` must be 0
        or 1 (time).
    """

    def __init__(self, coords: Tensor, create_graph: bool = True,
                 spatial_dims: int | None = None) -> None:
        if coords.ndim != 2 or not coords.requires_grad:
            raise ValueError(
                "Autograd: coords must have shape (N, D) and requires_grad=True, got shape "
                f"{tuple(coords.shape)}, requires_grad={coords.requires_grad}"
            )
        ndim = coords.shape[1] if spatial_dims is None else int(spatial_dims)
        if not 1 <= ndim <= coords.shape[1] or coords.shape[1] - ndim > 1:
            raise ValueError(f"Autograd: spatial_dims={spatial_dims} for coords with "
                             f"{coords.shape[1]} columns (space, then at most one time column)")
        self.coords = coords
        self.ndim = ndim
        self.create_graph = create_graph
        # first partials by field: an equation asks for grad(u) in several components (and
        # lap(u) differentiates the same partials again); one backward pass per field is
        # enough. The field is kept with its partials so that its id cannot be reused.
        self._partials: dict[int, tuple[Tensor, Tensor]] = {}

    def time_derivative(self, u: Tensor) -> Tensor:
        """``du/dt`` of a pointwise field, shaped like ``u`` (the column after space)."""
        if self.coords.shape[1] == self.ndim:
            raise ValueError("Autograd.time_derivative: coords have no time column "
                             "(build the provider with spatial_dims=D on (N, D + 1) points)")
        return self._d(u)[:, self.ndim].reshape(u.shape)

    def _d(self, f: Tensor) -> Tensor:
        """All first partials of a pointwise field: shape ``(N, D)``."""
        if f.numel() != self.coords.shape[0]:
            raise ValueError(
                f"Autograd: field with {f.numel()} entries for {self.coords.shape[0]} points"
            )
        if not f.requires_grad:  # a constant, or data at the points: no dependence on coords
            return torch.zeros_like(self.coords)
        hit = self._partials.get(id(f))
        if hit is not None and hit[0] is f:
            return hit[1]
        (g,) = torch.autograd.grad(
            f, self.coords, grad_outputs=torch.ones_like(f), create_graph=self.create_graph,
            allow_unused=True, materialize_grads=True,
        )
        self._partials[id(f)] = (f, g)
        return g

    def grad(self, u: Tensor) -> tuple[Tensor, ...]:
        g = self._d(u)
        return tuple(g[:, k].reshape(u.shape) for k in range(self.ndim))

    def div(self, v: Sequence[Tensor]) -> Tensor:
        if len(v) != self.ndim:
            raise ValueError(f"Autograd.div: expected {self.ndim} components, got {len(v)}")
        return sum(self._d(vk)[:, k].reshape(vk.shape) for k, vk in enumerate(v))
