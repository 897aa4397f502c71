"""Physics quantities of an :class:`~pdebench.physics.equations.Equation` on gridded fields.

:class:`GridPhysics` binds a registered equation to a dataset's :class:`DatasetMeta` (which
channel holds which field, the grid, the time step) and evaluates, per sample, every physics
metric of ``specs/METRICS.md`` that the dataset's fields support:

``residual_l2/<eq>`` (or ``residual_l2/<eq>/<component>``)
    RMS over the scored cells of each component's residual on the prediction, in the equation's
    units. Time-dependent equations are evaluated at the midpoint of each step: fields
    ``(u_prev + u) / 2``, time derivative ``(u - u_prev) / dt`` (second order in ``dt``), with
    ``u_prev`` the last input frame (``<field>[t]``) for the first predicted frame. Components
    without a time derivative (constraints such as continuity) are evaluated at the predicted
    frame itself.
``residual_rel/<eq>``
    Mean over components of that RMS divided by the component's natural scale on the
    *reference*, the RMS over the scored cells of its largest term ``max_i |term_i(Y)|``, each
    summed over the samples first (a ratio of sums, so a sample whose reference has decayed to
    round-off cannot dominate). Dimensionless; predicting zeros for a forced problem scores
    about 1.
``bc_error/<field>``
    RMS over the walls of the violation of the equation's boundary conditions: the wall value
    (cell-centred grids: quadratic extrapolation ``(15 u_0 - 10 u_1 + 3 u_2) / 8`` from the three
    cells nearest the wall; vertex grids: the wall node) minus the prescribed value, the outward
    normal derivative (``(2 u_0 - 3 u_1 + u_2) / h``; vertex ``(3 u_0 - 4 u_1 + u_2) / (2h)``)
    minus the prescribed flux, or ``du/dn + a u - g`` for a Robin condition (complex for a field
    stored as real and imaginary channels: the modulus). The traces are exact for quadratics, so
    a smooth solution scores its O(h^2) extrapolation error.
``divergence_l2``
    RMS of ``div(velocity)`` (central differences) over the scored cells.
``coupling_consistency``
    RMS of the coupling terms' residual over the scored cells.
``conservation_error/<quantity>``
    ``|Q(frame) - Q(first)|`` over ``sum(|density(first)|) dV``, each summed over samples and
    averaged over the predicted frames (a ratio of sums), with ``Q = sum(density) dV`` over the
    domain; ``first`` is the last input frame (the drift of a rollout relative to its start;
    normalised by the integral of ``|density|`` so that a zero-mean quantity is well defined).

"Scored cells": all cells but ``margin`` at each non-periodic wall and, for masked geometries,
the domain (the equation's ``domain`` input) shrunk by ``margin``. Every value is computed in
float64 per sample and per predicted frame, then averaged over frames; the metrics average over
samples (``residual_rel`` and ``conservation_error``: ratios of sums over samples).

:meth:`GridPhysics.residual_losses` is the training-time counterpart of ``residual_l2``: the mean
square of each component's residual over the same scored cells and frames, differentiable, in the
prediction's own dtype (a physics-regularised loss, :class:`pdebench.systems.operator.OperatorSystem`
with ``physics_weight > 0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from pdebench.data.meta import DatasetMeta
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.equations import COORDINATES, Component, Equation

__all__ = ["GridPhysics", "PhysicsUnavailable"]

#: Smallest natural scale a component may have before ``residual_rel`` treats it as zero.
TINY_SCALE = 1e-30


class PhysicsUnavailable(ValueError):
    """The dataset cannot be scored with its equation (missing parameter, grid too small)."""


def _channel_map(names: tuple[str, ...]) -> dict[str, int]:
    return {n: i for i, n in enumerate(names)}


class GridPhysics:
    """Evaluate an equation's physics metrics on a dataset's grid.

    Parameters
    ----------
    equation : Equation
    meta : DatasetMeta
        The dataset as the model sees it (window inputs ``<field>[t]`` for time-dependent data).

    Raises
    ------
    PhysicsUnavailable
        A required ``pde_params`` key is missing, or the grid has fewer than 3 points along an
        axis.
    """

    def __init__(self, equation: Equation, meta: DatasetMeta) -> None:
        self.eq = equation
        self.meta = meta
        where = f"dataset {meta.name!r} (equation {equation.name!r})"
        if meta.grid not in equation.grids:
            raise PhysicsUnavailable(f"{where}: the grid evaluation needs a "
                                     f"{' or '.join(equation.grids)} grid, got {meta.grid!r}")
        if min(meta.resolution) < 3:
            raise PhysicsUnavailable(f"{where}: needs >= 3 points per axis, got "
                                     f"{meta.resolution}")
        missing = [k for k in equation.params if k not in meta.pde_params]
        if missing:
            raise PhysicsUnavailable(f"{where}: meta.pde_params lacks {missing} (has "
                                     f"{sorted(meta.pde_params)})")
        self.params: dict[str, Any] = dict(meta.pde_params)
        self.dims = meta.spatial_dims
        self.out = _channel_map(meta.output_fields)
        self.inp = _channel_map(meta.input_fields)
        self.prev = {f: self.inp[f"{f}[t]"] for f in equation.unknowns
                     if f in self.out and f"{f}[t]" in self.inp}
        dt = (meta.time or {}).get("dt")
        self.dt = float(dt) if dt else None
        bcs = (equation.grid_bc,) * self.dims if isinstance(equation.grid_bc, str) \
            else tuple(equation.grid_bc)
        if len(bcs) != self.dims:
            raise PhysicsUnavailable(f"{where}: grid_bc {equation.grid_bc!r} does not match "
                                     f"{self.dims} dimensions")
        self.periodic = tuple(b == "periodic" for b in bcs)
        self.provider = FiniteDifference(meta.spacing, bc=bcs)

        self.patterns = {f: [i for n, i in self.out.items() if n.startswith(f[:-1])]
                         for f in equation.unknowns if f.endswith("*")}
        avail = {f for f in equation.unknowns if f in self.out}
        avail |= {f for f, idx in self.patterns.items() if idx}
        avail |= {c for c in equation.coefficients if c in self.inp}
        avail |= set(COORDINATES[: self.dims])
        self.time_fields = tuple(f for f in equation.time_derivatives if f in self.prev)
        if self.dt is not None:
            avail |= {f"{f}_t" for f in self.time_fields}
        self.available = avail
        self.components = {k: c for k, c in equation.components.items()
                           if set(c.needs) <= avail}
        ok = (lambda c: c is not None and set(c.needs) <= avail)  # noqa: E731
        self.coupling = equation.coupling if ok(equation.coupling) else None
        self.conserved = {k: c for k, c in equation.conserved.items()
                          if ok(c) and all(f in self.prev for f in c.needs if f in self.out)
                          and any(f in self.prev for f in c.needs)}
        self.velocity = equation.velocity if (len(equation.velocity) == self.dims and all(
            f in self.out for f in equation.velocity)) else ()
        self.walls = {f: sides for f in equation.boundary if f in self.out
                      if (sides := self._walls(f))}
        if isinstance(equation.domain, str) and equation.domain not in self.inp:
            raise PhysicsUnavailable(f"{where}: the domain mask {equation.domain!r} is not an "
                                     f"input field ({meta.input_fields})")
        self._base = self._base_mask()
        self._coords = self._coordinates()

    # ------------------------------------------------------------------ names
    def residual_name(self, component: str) -> str:
        return (f"residual_l2/{self.eq.name}" if self.eq.single
                else f"residual_l2/{self.eq.name}/{component}")

    def names(self) -> list[str]:
        """The metric names this dataset supports, in a stable order."""
        out = [self.residual_name(k) for k in self.components]
        if self.components:
            out.append(f"residual_rel/{self.eq.name}")
        out += [f"bc_error/{f}" for f in self.walls]
        if self.velocity:
            out.append("divergence_l2")
        if self.coupling is not None:
            out.append("coupling_consistency")
        out += [f"conservation_error/{q}" for q in self.conserved]
        return out

    def _ratios(self) -> dict[str, list[tuple[str, str]]]:
        """The metrics reduced as ratios of sums: name -> [(numerator, denominator) keys]."""
        out = {}
        if self.components:
            out[f"residual_rel/{self.eq.name}"] = [
                (f"residual_rel/{self.eq.name}#num/{k}", f"residual_rel/{self.eq.name}#den/{k}")
                for k in self.components]
        for q in self.conserved:
            out[f"conservation_error/{q}"] = [(f"conservation_error/{q}#num",
                                               f"conservation_error/{q}#den")]
        return out

    def sums(self) -> list[str]:
        """The per-sample quantities :meth:`evaluate` returns and a metric sums over samples:
        the plain metrics and the numerators and denominators of the ratio metrics."""
        ratios = self._ratios()
        out = [n for n in self.names() if n not in ratios]
        return out + [key for parts in ratios.values() for pair in parts for key in pair]

    def reduce(self, totals: Mapping[str, Tensor], count: int | Tensor) -> dict[str, Tensor]:
        """The metrics from the sums over samples of :meth:`sums` (``count`` samples): a mean
        over samples, or for ``residual_rel`` and ``conservation_error`` a ratio of the sums
        (mean over components for ``residual_rel``): a sample whose reference is near zero
        (a decayed trajectory) cannot blow the ratio up."""
        ratios = self._ratios()
        out = {}
        for name in self.names():
            if name in ratios:
                parts = [totals[n] / totals[d].clamp_min(TINY_SCALE) for n, d in ratios[name]]
                out[name] = torch.stack(parts).mean(0)
            else:
                out[name] = totals[name] / count
        return out

    # ------------------------------------------------------------------ setup helpers
    def _walls(self, f: str) -> dict[tuple[int, int], Any]:
        """``{(dim, side 0|1): condition}`` for the non-periodic walls with a condition on f."""
        conds = self.eq.side_conditions(f, self.dims)
        out = {}
        for name, bc in conds.items():
            dim, side = "xyz".index(name[0]), int(name.endswith("hi"))
            if self.periodic[dim]:
                continue
            if isinstance(bc.value, str) and bc.value != "reference" \
                    and bc.value not in self.params:
                raise PhysicsUnavailable(
                    f"dataset {self.meta.name!r}: the boundary condition of {f!r} on {name} "
                    f"names pde_params[{bc.value!r}], which the dataset does not have")
            out[(dim, side)] = bc
        return out

    def _base_mask(self) -> Tensor:
        m = torch.ones(self.meta.resolution, dtype=torch.bool)
        k = self.eq.margin
        for dim, periodic in enumerate(self.periodic):
            if periodic or k == 0:
                continue
            n = self.meta.resolution[dim]
            if n <= 2 * k:
                raise PhysicsUnavailable(f"dataset {self.meta.name!r}: {n} points along axis "
                                         f"{dim} leave no interior after a margin of {k}")
            idx = [slice(None)] * self.dims
            idx[dim] = slice(0, k)
            m[tuple(idx)] = False
            idx[dim] = slice(n - k, n)
            m[tuple(idx)] = False
        return m

    def _coordinates(self) -> dict[str, Tensor]:
        ext = self.meta.extent or tuple((0.0, 1.0) for _ in range(self.dims))
        axes = []
        for (lo, _), n, h in zip(ext, self.meta.resolution, self.meta.spacing, strict=True):
            offset = 0.0 if self.meta.grid == "vertex" else 0.5
            axes.append(lo + (torch.arange(n, dtype=torch.float64) + offset) * h)
        grids = torch.meshgrid(*axes, indexing="ij")
        return {COORDINATES[i]: g[None] for i, g in enumerate(grids)}

    # ------------------------------------------------------------------ evaluation
    def _fields(self, cur: Tensor, prev: Tensor | None, inputs: Tensor | None
                ) -> dict[str, Tensor]:
        """Fields of one frame (``cur`` (B, C, *S)); midpoint values for time-dependent data."""
        fields: dict[str, Tensor] = {k: v.to(cur.device) for k, v in self._coords.items()}
        for f in self.eq.unknowns:
            if f in self.out:
                fields[f] = cur[:, self.out[f]]
        for f, idx in self.patterns.items():
            if idx:
                fields[f] = torch.stack([cur[:, i] for i in idx], dim=-1)
        if inputs is not None:
            for c in self.eq.coefficients:
                if c in self.inp:
                    fields[c] = inputs[:, self.inp[c]]
        if prev is not None and self.dt is not None:
            for f in self.time_fields:
                now, before = fields[f], prev[:, self.out[f]]
                fields[f"{f}_t"] = (now - before) / self.dt
                fields[f] = 0.5 * (now + before)
            for f in self.prev:  # other unknowns at the midpoint too
                if f not in self.time_fields:
                    fields[f] = 0.5 * (fields[f] + prev[:, self.out[f]])
        return fields

    def _frame_fields(self, cur: Tensor, prev: Tensor | None, inputs: Tensor | None
                      ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """``(midpoint fields, predicted-frame fields)`` of one frame ``cur`` (B, C, *S) after
        ``prev`` (the same object twice when there is no previous frame)."""
        mid = self._fields(cur, prev, inputs)
        return mid, (self._fields(cur, None, inputs) if prev is not None else mid)

    @staticmethod
    def _at(comp: Component, mid: Any, now: Any) -> Any:
        """The fields a component is evaluated on: a component with a time derivative at the
        step's midpoint, one without (continuity, a constraint) at the predicted frame itself."""
        return mid if any(n.endswith("_t") for n in comp.needs) else now

    def _prev_from_inputs(self, inputs: Tensor | None, like: Tensor) -> Tensor | None:
        """The last input frame in output-channel layout (B, C_out, *S), or None."""
        if inputs is None or not self.prev:
            return None
        prev = torch.zeros_like(like)
        for f, i in self.prev.items():
            prev[:, self.out[f]] = inputs[:, i]
        return prev

    def _mask(self, inputs: Tensor | None, batch: int, device: torch.device) -> Tensor:
        base = self._base.to(device).expand(batch, *self.meta.resolution)
        if self.eq.domain is None:
            return base
        dom = self._domain(inputs, batch, device)
        k = self.eq.margin
        if k:
            pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[self.dims - 1]
            outside = pool((~dom).to(torch.float64)[:, None], 2 * k + 1, stride=1, padding=k)[:, 0]
            dom = dom & (outside == 0)
        return base & dom

    def _domain(self, inputs: Tensor | None, batch: int, device: torch.device) -> Tensor:
        """The domain (B, *S) bool: the mask input, or the equation's callable."""
        if isinstance(self.eq.domain, str):
            return inputs[:, self.inp[self.eq.domain]] > 0.5
        fields = {k: v.to(device) for k, v in self._coords.items()}
        if inputs is not None:
            fields.update({c: inputs[:, self.inp[c]] for c in self.eq.coefficients
                           if c in self.inp})
        dom = torch.as_tensor(self.eq.domain(fields, self.params), device=device).bool()
        return dom.expand(batch, *self.meta.resolution)

    @staticmethod
    def _rms(r: Tensor, mask: Tensor, where: str) -> Tensor:
        """RMS per sample over the scored cells (:meth:`_mean_square`, square-rooted)."""
        return GridPhysics._mean_square(r, mask, where).sqrt()

    @staticmethod
    def _mean_square(r: Tensor, mask: Tensor, where: str) -> Tensor:
        """Mean square per sample ``(batch,)`` over the scored cells; a residual with trailing
        axes beyond the grid (frames stored as channels, ``"u_t*"`` patterns) is scored over
        those axes too."""
        m = mask.to(r.dtype)
        if r.ndim > m.ndim:
            m = m.reshape(*m.shape, *(1,) * (r.ndim - m.ndim)).expand(r.shape)
        elif r.shape != m.shape:
            raise ValueError(f"{where}: a residual of shape {tuple(r.shape)} does not match the "
                             f"grid {tuple(m.shape)}")
        count = m.flatten(1).sum(1)
        if bool((count == 0).any()):
            raise PhysicsUnavailable(f"{where}: a sample has no scored cells (domain too small "
                                     "for the grid)")
        return (r * r * m).flatten(1).sum(1) / count

    def _component_rms(self, comp: Component, fields: Mapping[str, Tensor], mask: Tensor,
                       name: str) -> tuple[Tensor, Tensor]:
        """``(RMS of the residual, RMS of the largest term)`` per sample."""
        terms = comp.evaluate_terms(fields, self.params, self.provider)
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        largest = torch.stack([t.abs() for t in terms]).amax(0)
        return self._rms(total, mask, name), self._rms(largest, mask, name)

    def _trace(self, u: Tensor, dim: int, side: int, kind: str) -> Tensor:
        """Wall value (``kind="dirichlet"``) or outward normal derivative of ``u`` (B, *S) on
        one wall."""
        axis = dim + 1
        n = u.shape[axis]
        idx = (0, 1, 2) if side == 0 else (n - 1, n - 2, n - 3)
        u0, u1, u2 = (u.select(axis, i) for i in idx)
        h = self.meta.spacing[dim]
        if self.meta.grid == "vertex":
            return u0 if kind == "dirichlet" else (3 * u0 - 4 * u1 + u2) / (2 * h)
        return (15 * u0 - 10 * u1 + 3 * u2) / 8 if kind == "dirichlet" \
            else (2 * u0 - 3 * u1 + u2) / h

    def _wall_coords(self, dim: int, side: int) -> dict[str, Tensor]:
        """Coordinates of the wall points: cell centres (or nodes) along the wall, the wall's
        own position across it."""
        ext = self.meta.extent or tuple((0.0, 1.0) for _ in range(self.dims))
        out = {}
        for name, c in self._coords.items():
            k = COORDINATES.index(name)
            wall = c.select(k + 1, 0)
            out[name] = torch.full_like(wall, ext[dim][side]) if k == dim else \
                c.select(dim + 1, 0)
        return out

    def _wall_value(self, spec: Any, dim: int, side: int, like: Tensor) -> Tensor | float:
        """Boundary data (``g`` or a Robin ``a``) on one wall: a number, a pde_params key or a
        function of the wall."""
        if callable(spec):
            normal = tuple((1.0 if side else -1.0) if k == dim else 0.0
                           for k in range(self.dims))
            coords = {k: v.to(like.device) for k, v in self._wall_coords(dim, side).items()}
            return torch.as_tensor(spec(coords, self.params, normal), device=like.device)
        return complex(self.params[spec]) if isinstance(spec, str) else complex(spec)

    def _bc_error(self, f: str, cur_p: Tensor, cur_y: Tensor, inputs: Tensor | None
                  ) -> Tensor:
        dom = None
        if self.eq.domain is not None:
            dom = self._domain(inputs, cur_p.shape[0], cur_p.device).to(cur_p.dtype)
        num = cur_p.new_zeros(cur_p.shape[0])
        den = cur_p.new_zeros(cur_p.shape[0])
        for (dim, side), bc in self.walls[f].items():
            def field(cur: Tensor, kind: str, bc=bc, dim=dim, side=side) -> Tensor:
                t = self._trace(cur[:, self.out[f]], dim, side, kind)
                if bc.imag is not None:
                    t = torch.complex(t, self._trace(cur[:, self.out[bc.imag]], dim, side, kind))
                return t

            if bc.kind == "robin":
                got = field(cur_p, "neumann") + self._wall_value(bc.coef, dim, side, cur_p) \
                    * field(cur_p, "dirichlet")
            else:
                got = field(cur_p, bc.kind)
            want = field(cur_y, bc.kind) if bc.value == "reference" else \
                self._wall_value(bc.value, dim, side, cur_p)
            err = (got - want).abs() ** 2
            if not err.is_floating_point():
                err = err.real
            w = torch.ones_like(err) if dom is None else \
                dom.select(dim + 1, 0 if side == 0 else dom.shape[dim + 1] - 1)
            num = num + (err * w).flatten(1).sum(1)
            den = den + w.flatten(1).sum(1)
        return (num / den.clamp_min(1)).sqrt()

    def _check(self, pred: Tensor, target: Tensor, inputs: Tensor | None) -> None:
        where = f"physics metrics of dataset {self.meta.name!r}"
        expect = (len(self.meta.output_fields), *self.meta.resolution)
        if pred.ndim != self.dims + 3 or tuple(pred.shape[1:-1]) != expect:
            raise ValueError(f"{where}: pred has shape {tuple(pred.shape)}, expected (batch, "
                             f"{', '.join(map(str, expect))}, T) (the dataset resolution, or "
                             "the spacing would be wrong)")
        if target.shape != pred.shape:
            raise ValueError(f"{where}: target {tuple(target.shape)} does not match pred "
                             f"{tuple(pred.shape)}")
        needs_inputs = bool(self.prev) or isinstance(self.eq.domain, str) or any(
            c in self.available for c in self.eq.coefficients)
        if inputs is None:
            if needs_inputs:
                raise ValueError(f"{where}: needs the model inputs (coefficients, mask or the "
                                 "last input frame), got None")
            return
        if tuple(inputs.shape) != (pred.shape[0], len(self.meta.input_fields),
                                   *self.meta.resolution):
            raise ValueError(f"{where}: inputs {tuple(inputs.shape)} do not match pred "
                             f"{tuple(pred.shape)}; expected (batch, C_in, *spatial)")

    def evaluate(self, pred: Tensor, target: Tensor, inputs: Tensor | None = None
                 ) -> dict[str, Tensor]:
        """Per-sample values of :meth:`names`.

        Parameters
        ----------
        pred, target : Tensor
            ``(batch, C_out, *spatial, T)`` in physical units (``T`` predicted frames).
        inputs : Tensor, optional
            ``(batch, C_in, *spatial)``, physical units: coefficients, the domain mask and, for
            time-dependent data, the last input frame.

        Returns
        -------
        dict key -> Tensor (batch,) float64
            The per-sample quantities of :meth:`sums` (turned into the metrics by
            :meth:`reduce` once summed over samples).
        """
        self._check(pred, target, inputs)
        pred = pred.detach().to(torch.float64)
        target = target.detach().to(torch.float64)
        inputs = None if inputs is None else inputs.detach().to(torch.float64)
        batch, n_frames = pred.shape[0], pred.shape[-1]
        mask = self._mask(inputs, batch, pred.device)
        first = self._prev_from_inputs(inputs, pred[..., 0])
        out = {n: pred.new_zeros(batch) for n in self.sums()}
        where = f"dataset {self.meta.name!r}"
        for k in range(n_frames):
            cur_p, cur_y = pred[..., k], target[..., k]
            prev_p = first if k == 0 else pred[..., k - 1]
            prev_y = first if k == 0 else target[..., k - 1]
            mid_p, now_p = self._frame_fields(cur_p, prev_p, inputs)
            mid_y, now_y = self._frame_fields(cur_y, prev_y, inputs)
            at = self._at
            rel = f"residual_rel/{self.eq.name}"
            for name, comp in self.components.items():
                rp, _ = self._component_rms(comp, at(comp, mid_p, now_p), mask, where)
                _, scale = self._component_rms(comp, at(comp, mid_y, now_y), mask, where)
                out[self.residual_name(name)] += rp / n_frames
                out[f"{rel}#num/{name}"] += rp / n_frames
                out[f"{rel}#den/{name}"] += scale / n_frames
            for f in self.walls:
                out[f"bc_error/{f}"] += self._bc_error(f, cur_p, cur_y, inputs) / n_frames
            if self.velocity:
                div = self.provider.div(tuple(now_p[v] for v in self.velocity))
                out["divergence_l2"] += self._rms(div, mask, where) / n_frames
            if self.coupling is not None:
                r = self.coupling.residual(at(self.coupling, mid_p, now_p), self.params,
                                           self.provider)
                out["coupling_consistency"] += self._rms(r, mask, where) / n_frames
            for q, comp in self.conserved.items():
                dom = mask.to(torch.float64) if self.eq.domain is not None else 1.0
                now = comp.residual(now_p, self.params, self.provider) * dom
                start = comp.residual(self._fields(first, None, inputs), self.params,
                                      self.provider) * dom
                out[f"conservation_error/{q}#num"] += (now - start).flatten(1).sum(1).abs() \
                    / n_frames
                out[f"conservation_error/{q}#den"] += start.abs().flatten(1).sum(1) / n_frames
        return out

    def residual_losses(self, pred: Tensor, inputs: Tensor | None = None) -> dict[str, Tensor]:
        """Mean-square residual of every fed component: a differentiable training loss.

        The same residuals as ``residual_l2`` (same stencils, scored cells, midpoint rule for
        time-dependent components with the last input frame before the first predicted one),
        squared instead of square-rooted so the gradient stays finite at a zero residual, and
        computed in ``pred``'s dtype with the autograd graph kept (cast ``pred`` to float64
        first for double precision; the cast is differentiable).

        Parameters
        ----------
        pred : Tensor
            ``(batch, C_out, *spatial)`` (one predicted frame) or ``(batch, C_out, *spatial,
            T)``, physical units (de-normalised), usually requiring grad.
        inputs : Tensor, optional
            ``(batch, C_in, *spatial)``, physical units (coefficients, the domain mask, the last
            input frame); cast to ``pred``'s dtype.

        Returns
        -------
        dict component name -> Tensor ()
            ``mean_b [ mean_t ( sum_cells m r^2 / sum_cells m ) ]``: per sample and frame the
            mean square over the scored cells ``m`` (and trailing frame axes of the residual),
            averaged over frames, then over the batch. Units: the component's units squared.
            Keys are :attr:`components` (those the dataset's fields feed), in order; the value
            of sample ``i`` is ``residual_l2`` of sample ``i`` squared when ``T == 1``.
        """
        frames = pred.unsqueeze(-1) if pred.ndim == self.dims + 2 else pred
        if inputs is not None and inputs.is_floating_point():
            inputs = inputs.to(frames.dtype)
        self._check(frames, frames, inputs)
        batch, n_frames = frames.shape[0], frames.shape[-1]
        mask = self._mask(inputs, batch, frames.device)
        first = self._prev_from_inputs(inputs, frames[..., 0])
        where = f"dataset {self.meta.name!r}"
        out: dict[str, Tensor] = {}
        for k in range(n_frames):
            prev = first if k == 0 else frames[..., k - 1]
            mid, now = self._frame_fields(frames[..., k], prev, inputs)
            for name, comp in self.components.items():
                r = comp.residual(self._at(comp, mid, now), self.params, self.provider)
                term = self._mean_square(r, mask, where).mean() / n_frames
                out[name] = term if name not in out else out[name] + term
        return out
