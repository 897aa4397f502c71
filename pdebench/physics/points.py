"""An :class:`~pdebench.physics.equations.Equation` at collocation points: the PINN loss terms.

The third use of an equation written once (after the generator's check and the grid metrics):
:class:`PointPhysics` evaluates its components with the
:class:`~pdebench.physics.derivatives.Autograd` provider on a network's output at arbitrary
points, and its boundary conditions on the walls of the box, as mean-square terms:

``pde/<component>``
    mean of the component's residual squared over the interior points (units of the residual,
    squared);
``bc/<field>``
    mean squared violation of the field's conditions over the wall points: ``u - g``
    (Dirichlet), ``du/dn - g`` (Neumann), ``du/dn + a u - g`` (Robin; for a complex field stored
    as two channels, ``|.|^2`` of the complex residual); ``g = "reference"`` takes the instance's
    reference values at the points;
``periodic/<field>``
    for each periodic direction, ``u`` and ``du/dx_k`` at a point of the low wall minus the same
    at the matching point of the high wall, squared;
``ic/<field>``
    mean squared difference to the reference at the initial time (space-time problems);
``gauge/<field>``
    the square of the field's mean over the interior points, for fields the equation fixes only
    up to a constant (``Equation.gauges``: pressure and potential of the electrothermal regime 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from pdebench.physics.derivatives import Autograd
from pdebench.physics.equations import COORDINATES, SIDES, BoundaryCondition, Equation

__all__ = ["PointPhysics", "PointPhysicsError"]

#: ``net(points) -> {field: (N,)}``: the physical fields at points ``(N, D[+1])``.
FieldFn = Callable[[Tensor], Mapping[str, Tensor]]


class PointPhysicsError(ValueError):
    """The equation cannot be evaluated at points for this dataset."""


def _mean_square(r: Tensor) -> Tensor:
    r = r.reshape(-1)
    if r.is_complex():
        return (r.real.square() + r.imag.square()).mean()
    return r.square().mean()


class PointPhysics:
    """The loss terms of ``equation`` for one problem instance.

    Parameters
    ----------
    equation : Equation
    params : mapping
        ``DatasetMeta.pde_params``.
    spatial_dims : int
    time_dependent : bool
        Points carry a time column after space; unknowns of ``equation.time_derivatives`` get
        their ``<f>_t`` from it.
    coefficients : tuple of str
        Coefficient fields the instance can give at points (components needing others are
        skipped, as on grids).
    grid_bc : sequence of str
        Per spatial dimension: ``"periodic"`` adds the periodic pairing terms.
    """

    def __init__(self, equation: Equation, params: Mapping[str, Any], spatial_dims: int,
                 time_dependent: bool, coefficients: tuple[str, ...]) -> None:
        patterns = [u for u in equation.unknowns if u.endswith("*")]
        if patterns:
            raise PointPhysicsError(
                f"equation {equation.name!r} stores its frames as channels ({patterns[0]}); "
                "a space-time solve at points needs the time axis, which these data do not "
                "have as such")
        missing = [p for p in equation.params if p not in params]
        if missing:
            raise PointPhysicsError(f"equation {equation.name!r} needs pde_params {missing}")
        self.equation = equation
        self.params = dict(params)
        self.spatial_dims = spatial_dims
        self.time_dependent = time_dependent
        self.coefficients = tuple(c for c in equation.coefficients if c in coefficients)
        known = {*equation.unknowns, *self.coefficients, *COORDINATES[:spatial_dims]}
        if time_dependent:
            known |= {f"{f}_t" for f in equation.time_derivatives}
        self.components = {k: c for k, c in equation.components.items()
                           if set(c.needs) <= known}
        if not self.components:
            raise PointPhysicsError(
                f"none of the components of equation {equation.name!r} can be fed at points "
                f"(they need {sorted({n for c in equation.components.values() for n in c.needs})}"
                f", available: {sorted(known)})")
        bcs = equation.grid_bc
        bcs = (bcs,) * spatial_dims if isinstance(bcs, str) else tuple(bcs)
        self.periodic = tuple(k for k, b in enumerate(bcs[:spatial_dims]) if b == "periodic")
        self.boundary = {f: equation.side_conditions(f, spatial_dims) for f in equation.boundary}
        self.boundary = {f: s for f, s in self.boundary.items() if s}

    # --- which terms exist --------------------------------------------------------------------
    def term_names(self, has_initial: bool = False) -> list[str]:
        names = [f"pde/{k}" for k in self.components]
        names += [f"bc/{f}" for f in self.boundary]
        names += [f"periodic/{f}" for f in self.equation.unknowns] if self.periodic else []
        if has_initial and self.time_dependent:
            names += [f"ic/{f}" for f in self.equation.unknowns]
        return names + [f"gauge/{f}" for f in self.equation.gauges]

    def walls(self) -> list[str]:
        """The walls whose points the boundary and periodic terms use."""
        sides = {s for conds in self.boundary.values() for s in conds}
        sides |= {SIDES[2 * k] for k in self.periodic}
        return [s for s in SIDES if s in sides]

    # --- evaluation ---------------------------------------------------------------------------
    def _fields(self, net: FieldFn, pts: Tensor, coeffs: Mapping[str, Tensor]
                ) -> tuple[dict[str, Tensor], Autograd]:
        x = pts.detach().requires_grad_(True)
        d = Autograd(x, spatial_dims=self.spatial_dims)
        out = dict(net(x))
        fields: dict[str, Tensor] = {**out, **coeffs}
        for k in range(self.spatial_dims):
            fields[COORDINATES[k]] = x[:, k]
        if self.time_dependent:
            for f in self.equation.time_derivatives:
                fields[f"{f}_t"] = d.time_derivative(out[f])
        return fields, d

    def _evaluate(self, net: FieldFn, pts: Tensor, coeffs: Mapping[str, Tensor]
                  ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        fields, d = self._fields(net, pts, coeffs)
        res = {k: c.residual(fields, self.params, d).reshape(-1)
               for k, c in self.components.items()}
        return res, fields

    def residuals(self, net: FieldFn, pts: Tensor, coeffs: Mapping[str, Tensor]
                  ) -> dict[str, Tensor]:
        """Each fed component's residual at ``pts``: ``(N,)`` per component name."""
        return self._evaluate(net, pts, coeffs)[0]

    def interior_terms(self, net: FieldFn, pts: Tensor, coeffs: Mapping[str, Tensor]
                       ) -> dict[str, Tensor]:
        """``pde/<component>`` and ``gauge/<field>`` at the interior points."""
        res, fields = self._evaluate(net, pts, coeffs)
        out = {f"pde/{k}": _mean_square(r) for k, r in res.items()}
        for f in self.equation.gauges:
            out[f"gauge/{f}"] = fields[f].mean().square()
        return out

    def _value(self, spec: Any, f: str, pts: Tensor, normal: tuple[float, ...],
               reference: Mapping[str, Tensor] | None) -> Tensor | float | complex:
        if callable(spec):
            coords = {COORDINATES[k]: pts[:, k] for k in range(self.spatial_dims)}
            return spec(coords, self.params, normal)
        if isinstance(spec, str):
            if spec == "reference":
                if reference is None or f not in reference:
                    raise PointPhysicsError(f"boundary data of {f!r} is the reference, which "
                                            "the instance does not give at points")
                return reference[f]
            return self.params[spec]
        return spec

    def boundary_terms(self, net: FieldFn, walls: Mapping[str, Tensor],
                       reference: Mapping[str, Mapping[str, Tensor]] | None = None
                       ) -> dict[str, Tensor]:
        """``bc/<field>`` and ``periodic/<field>`` terms from points on the walls.

        ``reference[side][field]`` holds reference values at ``walls[side]`` (for
        ``"reference"`` boundary data).
        """
        terms: dict[str, list[Tensor]] = {}
        cache: dict[str, tuple[dict[str, Tensor], Autograd]] = {}

        def at(side: str) -> tuple[dict[str, Tensor], Autograd]:
            if side not in cache:
                x = walls[side].detach().requires_grad_(True)
                cache[side] = (dict(net(x)), Autograd(x, spatial_dims=self.spatial_dims))
            return cache[side]

        for f, sides in self.boundary.items():
            for side, bc in sides.items():
                if side not in walls or len(walls[side]) == 0:
                    continue
                out, d = at(side)
                dim, upper = divmod(SIDES.index(side), 2)
                normal = tuple((1.0 if upper else -1.0) if k == dim else 0.0
                               for k in range(self.spatial_dims))
                ref = (reference or {}).get(side)
                terms.setdefault(f"bc/{f}", []).append(
                    self._bc_residual(bc, f, out, d, dim, normal, walls[side], ref))
        for k in self.periodic:
            lo = walls.get(SIDES[2 * k])
            if lo is None or len(lo) == 0:
                continue
            hi = lo.clone()
            hi[:, k] = self._hi[k]
            xl = lo.detach().requires_grad_(True)
            xh = hi.detach().requires_grad_(True)
            ol, oh = net(xl), net(xh)
            dl = Autograd(xl, spatial_dims=self.spatial_dims)
            dh = Autograd(xh, spatial_dims=self.spatial_dims)
            for f in self.equation.unknowns:
                gap = _mean_square(ol[f] - oh[f]) + _mean_square(
                    dl.grad(ol[f])[k] - dh.grad(oh[f])[k])
                terms.setdefault(f"periodic/{f}", []).append(gap)
        return {name: torch.stack(parts).mean() for name, parts in terms.items()}

    def _bc_residual(self, bc: BoundaryCondition, f: str, out: Mapping[str, Tensor],
                     d: Autograd, dim: int, normal: tuple[float, ...], pts: Tensor,
                     reference: Mapping[str, Tensor] | None) -> Tensor:
        u = out[f]
        if bc.imag is not None:
            u = torch.complex(u, out[bc.imag])
        g = self._value(bc.value, f, pts, normal, reference)
        if bc.kind == "dirichlet":
            return _mean_square(u - g)

        def dn(v: Tensor) -> Tensor:
            return d.grad(v)[dim] * normal[dim]

        du = dn(out[f]) if bc.imag is None else torch.complex(dn(out[f]), dn(out[bc.imag]))
        if bc.kind == "neumann":
            return _mean_square(du - g)
        a = self._value(bc.coef, f, pts, normal, reference)
        return _mean_square(du + a * u - g)

    def initial_terms(self, net: FieldFn, pts: Tensor, reference: Mapping[str, Tensor]
                      ) -> dict[str, Tensor]:
        """``ic/<field>``: the fields at the initial-time points against the reference."""
        out = net(pts)
        return {f"ic/{f}": _mean_square(out[f] - reference[f]) for f in self.equation.unknowns
                if f in reference}

    def set_extent(self, extent: tuple[tuple[float, float], ...]) -> None:
        """The box (space first): periodic pairs map the low wall onto the high one."""
        self._hi = [float(e[1]) for e in extent]
