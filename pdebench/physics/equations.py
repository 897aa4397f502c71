"""Equations as data: what a governing system says, written once against a derivative provider.

An :class:`Equation` is registered under the name ``DatasetMeta.pde`` carries
(``api.register_equation``) and then serves three uses without another line of physics:

1. a generator's self-check and the physics floor recorded with its data
   (:func:`pdebench.metrics.physics.reference_floor`);
2. the physics metrics of any model's grid prediction (:class:`pdebench.physics.grid.GridPhysics`
   with the finite-difference provider);
3. a PINN loss (the same components with the autograd provider on collocation points).

One signature for every equation
--------------------------------
A component (one governing equation of the system) is ``terms(fields, params, d)``:

- ``fields``: a mapping from field name to tensor in the provider's layout (``(batch, *spatial)``
  on a grid, ``(N,)`` or ``(N, 1)`` at points). It holds the unknowns (model outputs), the
  coefficients (input fields such as ``a``), the coordinates ``x``, ``y``, ``z`` and, for every
  unknown ``f`` of :attr:`Equation.time_derivatives`, its time derivative ``f"{f}_t"``;
- ``params``: ``DatasetMeta.pde_params`` (numbers);
- ``d``: a :class:`~pdebench.physics.derivatives.DerivativeProvider`.

It returns the equation's *terms*; their sum is the residual (zero for a solution), and the
largest term's magnitude is the equation's natural scale (used by ``residual_rel``). A component
declares the field names it ``needs``, so a dataset that lacks one (emulated measurements without
pressure) is still scored on the components it can feed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from pdebench.physics.derivatives import BOUNDARY_CONDITIONS, DerivativeProvider

__all__ = ["COORDINATES", "SIDES", "BoundaryCondition", "Component", "Equation", "WallData",
           "dirichlet", "neumann", "robin"]

Fields = Mapping[str, Tensor]
Params = Mapping[str, Any]
Terms = Callable[[Fields, Params, DerivativeProvider], Sequence[Tensor | float]]

#: Coordinate names a component may read (cell centres or vertices on grids, collocation points
#: for PINNs), in dimension order.
COORDINATES = ("x", "y", "z")
#: Walls of the box: ``<axis>_lo`` at the first index, ``<axis>_hi`` at the last.
SIDES = ("x_lo", "x_hi", "y_lo", "y_hi", "z_lo", "z_hi")


#: Boundary data given as a function of the wall: ``g(coords, params, normal)`` with ``coords``
#: the coordinates ``x``, ``y``, ``z`` of the wall points (tensors), ``params`` the pde_params
#: and ``normal`` the outward unit normal as a tuple of numbers; returns a tensor (complex for a
#: complex field) broadcastable to the wall.
WallData = Callable[[Mapping[str, Tensor], Params, tuple[float, ...]], Tensor]


@dataclass(frozen=True)
class BoundaryCondition:
    """A condition a field must meet on a wall.

    Attributes
    ----------
    kind : {"dirichlet", "neumann", "robin"}
        ``u = g``, ``du/dn = g`` or ``du/dn + a u = g`` (``n`` the outward normal).
    value : float, str or callable
        ``g``: a number, a key of ``DatasetMeta.pde_params``, ``"reference"`` (the reference
        solution's own wall trace: boundary data given by a closed form, e.g. manufactured
        solutions; Dirichlet and Neumann only), or a function of the wall (:data:`WallData`).
    coef : float, str or callable
        ``a`` of a Robin condition (a number, a pde_params key or :data:`WallData`); may be
        complex (absorbing walls of time-harmonic problems).
    imag : str, optional
        For a complex field stored as two real channels: the channel of the imaginary part (the
        condition's field is the real part), so ``u = field + i imag``.
    """

    kind: str
    value: float | str | WallData = 0.0
    coef: float | str | WallData = 0.0
    imag: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("dirichlet", "neumann", "robin"):
            raise ValueError(f"BoundaryCondition.kind must be 'dirichlet', 'neumann' or "
                             f"'robin', got {self.kind!r}")
        if self.value == "reference" and (self.kind == "robin" or self.imag):
            raise ValueError("'reference' boundary data is for real Dirichlet or Neumann "
                             "conditions")


def dirichlet(value: float | str | WallData = 0.0, imag: str | None = None
              ) -> BoundaryCondition:
    """``u = value`` on the wall."""
    return BoundaryCondition("dirichlet", value, imag=imag)


def neumann(value: float | str | WallData = 0.0, imag: str | None = None
            ) -> BoundaryCondition:
    """``du/dn = value`` (outward normal) on the wall."""
    return BoundaryCondition("neumann", value, imag=imag)


def robin(coef: float | str | WallData, value: float | str | WallData = 0.0,
          imag: str | None = None) -> BoundaryCondition:
    """``du/dn + coef u = value`` (outward normal) on the wall, e.g. convective heat loss
    ``-dT/dn = Bi (T - 1)`` as ``robin("biot", "biot")``, or an absorbing wall of a complex field
    stored as two channels (``imag`` names the imaginary one)."""
    return BoundaryCondition("robin", value, coef, imag)


@dataclass(frozen=True)
class Component:
    """One equation of a system: the fields it reads and its terms.

    Attributes
    ----------
    needs : tuple of str
        Field names ``terms`` reads (unknowns, coefficients, coordinates, ``<unknown>_t``).
    terms : callable
        ``terms(fields, params, d) -> sequence of tensors or numbers`` whose sum is the residual.
    units : str
        Units of the residual (documentation).
    """

    needs: tuple[str, ...]
    terms: Terms
    units: str = ""

    def evaluate_terms(self, fields: Fields, params: Params, d: DerivativeProvider
                       ) -> list[Tensor]:
        """The terms broadcast to one shape (a number becomes a constant field)."""
        raw = list(self.terms(fields, params, d))
        if not raw:
            raise ValueError("an equation component returned no terms")
        ref = next((t for t in raw if isinstance(t, Tensor)), None)
        if ref is None:
            raise ValueError("an equation component returned only numbers; at least one term "
                             "must be a field")
        shape = torch.broadcast_shapes(*(t.shape for t in raw if isinstance(t, Tensor)))
        return [torch.as_tensor(t, dtype=ref.dtype, device=ref.device).expand(shape)
                for t in raw]

    def residual(self, fields: Fields, params: Params, d: DerivativeProvider) -> Tensor:
        """The sum of the terms (zero for a solution)."""
        terms = self.evaluate_terms(fields, params, d)
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total


@dataclass(frozen=True)
class Equation:
    """A governing system, keyed by ``DatasetMeta.pde``.

    Attributes
    ----------
    name : str
        Registry name (``DatasetMeta.pde`` of the datasets it governs).
    description : str
        One line for ``pdebench list equations``.
    unknowns : tuple of str
        Fields the system is solved for (dataset output fields). A name ending in ``*`` stands
        for every output field with that prefix (frames stored as channels, ``u_t*`` for
        ``u_t1 ... u_tN``): the fields dict then holds them stacked on a trailing axis, in
        channel order, under the pattern's name; a residual keeping that axis is scored over it
        (RMS over cells and frames).
    components : mapping str -> Component
        The governing equations, by name. A single equation is named like the system
        (``{"darcy": ...}``); its residual metric is then ``residual_l2/<name>``, otherwise
        ``residual_l2/<name>/<component>``.
    coefficients : tuple of str
        Input fields the components read (``a``, ``kappa``, parameter maps, masks).
    params : tuple of str
        ``DatasetMeta.pde_params`` keys the components read.
    time_derivatives : tuple of str
        Unknowns whose time derivative ``<f>_t`` appears (time-dependent systems).
    boundary : mapping field -> mapping side -> BoundaryCondition
        The conditions the system imposes on the walls (``"all"`` for every wall); measured by
        ``bc_error/<field>``. Periodic directions have none.
    coupled : tuple of str
        The fields the coupling terms tie together.
    coupling : Component, optional
        The coupling terms alone (e.g. a Joule source against the field that drives it), measured
        by ``coupling_consistency``.
    velocity : tuple of str
        Velocity components of an incompressible flow, in dimension order (``divergence_l2``).
    conserved : mapping str -> Component
        Conserved quantities: the component's single term is the density whose integral over the
        domain is conserved (``conservation_error/<quantity>``).
    grid_bc : str or tuple of str
        Ghost-cell rule of the finite-difference provider on grids (per dimension or one for all):
        ``"periodic"`` for periodic directions; otherwise the walls are handled by :attr:`margin`.
    margin : int
        Cells next to each non-periodic wall left out of the residuals on grids (where fields
        carry boundary data the ghost cells do not know). 0 evaluates every cell with the
        ghost rule of ``grid_bc`` (Darcy: the wall condition is in the flux).
    domain : str or callable, optional
        The domain of a masked geometry: an input field that is 1 on the domain and 0 outside,
        or ``domain(fields, params) -> bool tensor`` (from the coordinates ``x``, ``y``, ``z``,
        the coefficients and the parameters, e.g. a penalised body). Cells outside, and within
        ``margin`` of its edge, are not scored.
    grids : tuple of str
        ``DatasetMeta.grid`` values the grid evaluation is valid for.
    gauges : tuple of str
        Unknowns fixed only up to a constant by the equations and pinned instead by a zero mean
        over the domain (a pressure or potential gauge); solvers at points add ``mean(f)^2``.
    space_time : Equation, optional
        For an equation whose dataset stores frames as channels (an unknown pattern such as
        ``u_t*``): the same system for the unknown as a function of space and time, which
        solvers at points use (a PINN of ``u(x, t)``). The frames are at ``t_k = k frame_dt``
        (``pde_params["frame_dt"]``), ``k = 1 ... N``.
    initial : str, optional
        With :attr:`space_time`: the coefficient holding the frame at ``t = 0``.
    """

    name: str
    description: str
    unknowns: tuple[str, ...]
    components: Mapping[str, Component]
    coefficients: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    time_derivatives: tuple[str, ...] = ()
    boundary: Mapping[str, Mapping[str, BoundaryCondition]] = field(default_factory=dict)
    coupled: tuple[str, ...] = ()
    coupling: Component | None = None
    velocity: tuple[str, ...] = ()
    conserved: Mapping[str, Component] = field(default_factory=dict)
    grid_bc: str | tuple[str, ...] = "neumann_zero"
    margin: int = 1
    domain: str | Callable[[Fields, Params], Tensor] | None = None
    grids: tuple[str, ...] = ("cell_centered", "vertex")
    gauges: tuple[str, ...] = ()
    space_time: Equation | None = None
    initial: str | None = None

    def __post_init__(self) -> None:
        where = f"equation {self.name!r}"
        if not self.components:
            raise ValueError(f"{where}: no components")
        known = {*self.unknowns, *self.coefficients, *COORDINATES,
                 *(f"{f}_t" for f in self.time_derivatives)}
        parts = {**{f"component {k!r}": c for k, c in self.components.items()},
                 **({"coupling": self.coupling} if self.coupling else {}),
                 **{f"conserved {k!r}": c for k, c in self.conserved.items()}}
        for label, comp in parts.items():
            unknown = sorted(set(comp.needs) - known)
            if unknown:
                raise ValueError(f"{where}: {label} needs {unknown}, which are neither unknowns, "
                                 "coefficients, coordinates nor time derivatives of unknowns")
        for f in (*self.time_derivatives, *self.velocity, *self.coupled, *self.boundary,
                  *self.gauges):
            if f.endswith("*") and f in self.boundary:
                raise ValueError(f"{where}: boundary conditions of a field pattern ({f!r}) "
                                 "are not supported")
            if f not in self.unknowns:
                raise ValueError(f"{where}: {f!r} is not one of the unknowns {self.unknowns}")
        for f, sides in self.boundary.items():
            for bc in sides.values():
                if bc.imag is not None and bc.imag not in self.unknowns:
                    raise ValueError(f"{where}: the imaginary part {bc.imag!r} of {f!r}'s "
                                     f"boundary condition is not one of the unknowns")
            bad = sorted(set(sides) - {*SIDES, "all"})
            if bad:
                raise ValueError(f"{where}: boundary of {f!r} names sides {bad}; valid: "
                                 f"{', '.join(SIDES)}, all")
        bcs = (self.grid_bc,) if isinstance(self.grid_bc, str) else tuple(self.grid_bc)
        if any(b not in BOUNDARY_CONDITIONS for b in bcs):
            raise ValueError(f"{where}: grid_bc {self.grid_bc!r}; valid: "
                             f"{', '.join(BOUNDARY_CONDITIONS)}")
        if self.margin < 0:
            raise ValueError(f"{where}: margin must be >= 0")
        if self.space_time is not None and (self.initial not in self.coefficients
                                            or len(self.space_time.unknowns) != 1):
            raise ValueError(f"{where}: a space_time form needs one unknown and ``initial`` "
                             "naming the coefficient that holds the first frame")
        if isinstance(self.domain, str) and self.domain not in self.coefficients:
            raise ValueError(f"{where}: domain {self.domain!r} must be one of the coefficients")

    @property
    def single(self) -> bool:
        """One component named like the system."""
        return list(self.components) == [self.name]

    def metric_names(self) -> list[str]:
        """Every physics metric this equation can give (a dataset gets those its fields feed)."""
        out = [f"residual_l2/{self.name}" if self.single else f"residual_l2/{self.name}/{k}"
               for k in self.components]
        out.append(f"residual_rel/{self.name}")
        out += [f"bc_error/{f}" for f in self.boundary]
        out += ["divergence_l2"] if self.velocity else []
        out += ["coupling_consistency"] if self.coupling is not None else []
        out += [f"conservation_error/{q}" for q in self.conserved]
        return out

    def residual(self, fields: Fields, params: Params, d: DerivativeProvider
                 ) -> dict[str, Tensor]:
        """The residual of every component (zero for a solution), by component name."""
        return {name: c.residual(fields, params, d) for name, c in self.components.items()}

    def side_conditions(self, field_name: str, spatial_dims: int
                        ) -> dict[str, BoundaryCondition]:
        """The conditions on ``field_name`` per wall of a ``spatial_dims``-dimensional box."""
        sides = self.boundary.get(field_name, {})
        walls = SIDES[: 2 * spatial_dims]
        out = {s: sides["all"] for s in walls} if "all" in sides else {}
        out.update({s: bc for s, bc in sides.items() if s in walls})
        return out
