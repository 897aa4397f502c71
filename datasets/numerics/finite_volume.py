"""Cell-centred finite volumes for ``div(c grad u)``: the one assembler of every generator.

Grid: a box of ``shape`` cells in any dimension (array axis ``k`` is coordinate ``k``, cell width
``spacing[k]``, values at the cell centres), optionally restricted to the cells where ``mask`` is
true (a staircase domain; the unknowns are the domain cells in C order). Fluxes:

- face between two domain cells L, R: ``c_f (u_R - u_L) / h`` with the harmonic mean
  ``c_f = 2 c_L c_R / (c_L + c_R)`` (the interior stencil of ``div_flux`` in
  :class:`pdebench.physics.derivatives.FiniteDifference` and
  :class:`pdebench.physics.heat.MaskedFiniteDifference`);
- face of the box (a :class:`WallBC` per side) or between a domain cell P and an excluded cell
  (one ``inner_bc`` for all of them), with the coefficient of P:

  - Dirichlet ``u = g`` on the face: outward derivative ``(g - u_P) / (h/2)`` (ghost value
    ``2 g - u_P``);
  - Robin ``d_n u + a u = g`` (outward normal; ``a = g = 0`` is an impermeable face):
    eliminating the face value ``u_f`` from ``(u_f - u_P) / (h/2) + a u_f = g`` gives
    ``d_n u = (g - a u_P) / (1 + a h / 2)``.

  ``a`` and ``g`` may be complex (absorbing walls of Helmholtz problems); on a box side they may
  vary along it (one value per face cell), on inner faces they are scalars. The coefficient is
  known at cell centres only, so such a face's flux takes the coefficient of its cell: exact
  where ``c`` is constant across the wall's half cell (every generator's case), second order
  when ``d_n c = 0`` there; a Robin or Neumann-data face where ``c`` varies normally to it adds
  an ``O(h)`` flux error.

The cell balance divided by the cell volume gives ``sign * div(c grad u) = A u + b``: ``sign=+1``
is the operator (``A u = f - b`` solves ``div(c grad u) = f``), ``sign=-1`` its negative
(``-div(c grad u) = f``), symmetric positive definite for a positive coefficient when every part
of the domain touches a Dirichlet or absorbing face (:func:`check_connected`). ``A`` is symmetric
(complex symmetric with complex Robin data). Second order for smooth data on a box; a staircase
mask limits it to first order near curved boundaries.

:class:`FiniteVolume` fixes a grid, its conditions and its sparsity pattern once; a coefficient
then costs one vectorised evaluation of the entries. With ``reorder=True`` it also computes once a
fill-reducing ordering (SuperLU's minimum degree on ``A^T + A``) and assembles every matrix
straight into that ordering's compressed layout by one gather, so a factorisation per sample does
no ordering work (the Darcy generators' speed path; see ``benchmarks/bench_darcy_generation.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.ndimage as ndi
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["SIDES", "ZERO_BCS", "FiniteVolume", "WallBC", "assemble_fv", "assemble_masked",
           "check_connected", "side_names", "solve_masked"]

#: Shorthands for the homogeneous conditions (the names :mod:`pdebench.physics` providers use).
ZERO_BCS = ("dirichlet_zero", "neumann_zero")

BCSpec = Any  # a WallBC or one of ZERO_BCS


@dataclass(frozen=True)
class WallBC:
    """Boundary condition on one side of the box (or on every inner face of a mask).

    Attributes
    ----------
    kind : {"dirichlet", "robin"}
        ``u = g`` or ``d_n u + a u = g`` (outward normal derivative; ``a = 0``: Neumann).
    g : float, complex or numpy.ndarray
        Data: a scalar, or one value per face cell (the grid's shape without the side's axis).
    a : float, complex or numpy.ndarray
        Robin coefficient (ignored for Dirichlet), same shapes as ``g``.
    """

    kind: str
    g: float | complex | np.ndarray = 0.0
    a: float | complex | np.ndarray = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("dirichlet", "robin"):
            raise ValueError(f"unknown boundary kind {self.kind!r}; valid: dirichlet, robin")

    @property
    def has_data(self) -> bool:
        """Whether ``g`` is not identically 0 (the condition adds to ``b``)."""
        return bool(np.any(np.asarray(self.g) != 0))

    @property
    def fixes_level(self) -> bool:
        """Whether the face fixes the level of ``u`` (Dirichlet, or Robin with ``a != 0``)."""
        return self.kind == "dirichlet" or bool(np.any(np.asarray(self.a) != 0))

    @property
    def is_flux_free(self) -> bool:
        """Homogeneous Neumann: the face carries no flux and adds nothing."""
        return self.kind == "robin" and not self.has_data and not self.fixes_level


def side_names(ndim: int) -> tuple[str, ...]:
    """Names of the box sides in axis order: ``x_lo, x_hi, y_lo, y_hi, z_lo, z_hi`` (up to 3D;
    ``axis3_lo`` ... beyond)."""
    axes = "xyz" if ndim <= 3 else [f"axis{k}" for k in range(ndim)]
    return tuple(f"{axes[k]}_{end}" for k in range(ndim) for end in ("lo", "hi"))


#: Sides of a 2D box: ``x_lo`` (i = 0), ``x_hi`` (i = H - 1), ``y_lo`` (j = 0), ``y_hi``
#: (j = W - 1).
SIDES = side_names(2)


def _bc(spec: BCSpec, where: str) -> WallBC:
    if isinstance(spec, WallBC):
        return spec
    if isinstance(spec, str) and spec in ZERO_BCS:
        return WallBC("dirichlet" if spec == "dirichlet_zero" else "robin")
    raise ValueError(f"{where}: unknown boundary condition {spec!r}; valid: a WallBC, "
                     f"{', '.join(ZERO_BCS)}")


def _box_bcs(bcs: BCSpec | Sequence[BCSpec] | Mapping[str, BCSpec],
             ndim: int) -> tuple[tuple[WallBC, WallBC], ...]:
    """``(lo, hi)`` conditions per axis from one condition, one per axis (or a ``(lo, hi)`` pair
    per axis) or a mapping side name -> condition."""
    names = side_names(ndim)
    if isinstance(bcs, Mapping):
        missing = [s for s in names if s not in bcs]
        unknown = [s for s in bcs if s not in names]
        if missing or unknown:
            raise ValueError(f"boundary conditions: missing {missing}, unknown {unknown}; need "
                             f"one per side of {names}")
        return tuple((_bc(bcs[names[2 * k]], names[2 * k]),
                      _bc(bcs[names[2 * k + 1]], names[2 * k + 1])) for k in range(ndim))
    if isinstance(bcs, WallBC | str):
        one = _bc(bcs, "bcs")
        return ((one, one),) * ndim
    per_axis = list(bcs)
    if len(per_axis) != ndim:
        raise ValueError(f"bcs: {len(per_axis)} entries for a {ndim}D grid; give one condition, "
                         f"one per axis or a mapping side -> condition over {names}")
    out = []
    for k, spec in enumerate(per_axis):
        if isinstance(spec, WallBC | str):
            out.append((_bc(spec, f"bcs[{k}]"),) * 2)
        else:
            lo, hi = spec
            out.append((_bc(lo, f"bcs[{k}]"), _bc(hi, f"bcs[{k}]")))
    return tuple(out)


def _is_complex(x: Any) -> bool:
    return bool(np.iscomplexobj(x) and np.any(np.imag(x) != 0))


def check_connected(mask: np.ndarray,
                    box_bc: BCSpec | Sequence[BCSpec] | Mapping[str, BCSpec] = "dirichlet_zero",
                    inner_bc: BCSpec = "dirichlet_zero") -> None:
    """ValueError unless every connected part of the domain touches a face that fixes the level.

    A part whose faces are all flux-free (or carry Neumann data only) makes the problem singular
    (its level is undetermined); with staircase geometries this happens when a grid is too coarse
    for the features it must resolve.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise ValueError("the domain mask is empty")
    bcs = _box_bcs(box_bc, mask.ndim)
    labels, n = ndi.label(mask)  # face neighbours only
    touching = np.zeros(n + 1, dtype=bool)
    if _bc(inner_bc, "inner_bc").fixes_level:
        near = ndi.binary_dilation(~mask, structure=ndi.generate_binary_structure(mask.ndim, 1))
        touching[np.unique(labels[near & mask])] = True
    for k, pair in enumerate(bcs):
        for idx, bc in zip((0, -1), pair, strict=True):
            if bc.fixes_level:
                touching[np.unique(np.take(labels, idx, axis=k))] = True
    bad = [i for i in range(1, n + 1) if not touching[i]]
    if bad:
        sizes = [int((labels == i).sum()) for i in bad]
        raise ValueError(f"{len(bad)} part(s) of the domain ({sizes} cells) touch no Dirichlet "
                         "boundary: the problem is singular there; the grid is probably too "
                         "coarse for the geometry")


class FiniteVolume:
    """The finite-volume system of one grid: ``sign * div(c grad u) = A u + b``.

    Parameters
    ----------
    shape : sequence of int
        Cells per axis.
    spacing : sequence of float, optional
        Cell width per axis (> 0); default ``1 / shape[k]`` (the unit box).
    bcs : WallBC or str, a sequence of them per axis, or a mapping side -> condition
        Conditions on the box sides (:func:`side_names`); strings are :data:`ZERO_BCS`. Per axis
        an entry may also be a ``(lo, hi)`` pair. Default ``u = 0`` everywhere.
    mask : numpy.ndarray of bool, optional
        Domain cells (``shape``); default the whole box.
    inner_bc : WallBC or str
        Condition on the faces between domain and excluded cells (scalar data only).
    sign : {1, -1}
        ``+1``: ``A`` discretises ``div(c grad .)``; ``-1``: ``-div(c grad .)``.
    reorder : bool
        Compute a fill-reducing ordering once and assemble :meth:`matrix` in it.

    Attributes
    ----------
    n_cells : int
        Unknowns (domain cells).
    cells : numpy.ndarray
        Flat grid index of each unknown, ``(n_cells,)``.
    perm : numpy.ndarray or None
        Solver order: ``perm[q]`` is the unknown at solver position ``q`` (None: natural order).
    definite : bool
        Real data and Robin ``a >= 0``: ``A`` is (semi)definite, factorised without pivoting.
    """

    def __init__(self, shape: Sequence[int], spacing: Sequence[float] | None = None,
                 bcs: BCSpec | Sequence[BCSpec] | Mapping[str, BCSpec] = "dirichlet_zero", *,
                 mask: np.ndarray | None = None, inner_bc: BCSpec = "dirichlet_zero",
                 sign: int = 1, reorder: bool = False) -> None:
        self.shape = tuple(int(n) for n in shape)
        if not self.shape or any(n < 1 for n in self.shape):
            raise ValueError(f"grid shape must be one or more ints >= 1, got {shape!r}")
        ndim = len(self.shape)
        if spacing is None:
            spacing = [1.0 / n for n in self.shape]
        self.spacing = tuple(float(h) for h in spacing)
        if len(self.spacing) != ndim or not all(math.isfinite(h) and h > 0 for h in self.spacing):
            raise ValueError(f"spacing must be {ndim} finite cell widths > 0, got {spacing!r}")
        if sign not in (1, -1):
            raise ValueError(f"sign must be 1 (div(c grad u)) or -1 (-div(c grad u)), got {sign!r}")
        self.sign = int(sign)
        self.bcs = _box_bcs(bcs, ndim)
        self.inner_bc = _bc(inner_bc, "inner_bc")
        if np.ndim(self.inner_bc.g) or np.ndim(self.inner_bc.a):
            raise ValueError("inner_bc: data g and Robin coefficient a must be scalars")
        for k, pair in enumerate(self.bcs):
            face = self.shape[:k] + self.shape[k + 1:]
            for name, bc in zip(side_names(ndim)[2 * k:2 * k + 2], pair, strict=True):
                for field in ("g", "a"):
                    got = np.shape(getattr(bc, field))
                    try:
                        ok = np.broadcast_shapes(got, face) == face
                    except ValueError:
                        ok = False
                    if not ok:
                        raise ValueError(f"boundary {name}: {field} has shape {got}, need a "
                                         f"scalar or one value per face cell {face}")
        all_bcs = [bc for pair in self.bcs for bc in pair] + [self.inner_bc]
        self._complex = any(_is_complex(bc.g) or _is_complex(bc.a) for bc in all_bcs)
        self._has_data = any(bc.has_data for bc in all_bcs)
        self.definite = not self._complex and all(
            np.all(np.real(np.asarray(bc.a)) >= 0) for bc in all_bcs if bc.kind == "robin")
        n_grid = math.prod(self.shape)
        if mask is None:
            self.mask = None
            self.cells = np.arange(n_grid)
            number = self.cells.reshape(self.shape)
        else:
            m = np.asarray(mask, dtype=bool)
            if m.shape != self.shape:
                raise ValueError(f"mask shape {m.shape} does not match the grid {self.shape}")
            if not m.any():
                raise ValueError("the domain mask is empty")
            self.mask = m
            self.cells = np.flatnonzero(m)
            number = np.full(self.shape, -1, dtype=np.int64)
            number[m] = np.arange(self.cells.size)
        self.n_cells = n = int(self.cells.size)
        # per axis: the low and high cell of every interior face; faces joining two domain cells
        self._lo, self._hi, self._both, self._inner, self._sides = [], [], [], [], []
        rows, cols = [], []
        for k in range(ndim):
            lo = tuple(slice(None, -1) if j == k else slice(None) for j in range(ndim))
            hi = tuple(slice(1, None) if j == k else slice(None) for j in range(ndim))
            ends = tuple(tuple(e if j == k else slice(None) for j in range(ndim)) for e in (0, -1))
            self._lo.append(lo)
            self._hi.append(hi)
            self._sides.append(ends)
            if self.mask is None:
                self._both.append(None)
                self._inner.append(None)
                nl, nh = number[lo].ravel(), number[hi].ravel()
            else:
                ml, mh = self.mask[lo], self.mask[hi]
                both = ml & mh
                self._both.append(both)
                self._inner.append((ml & ~mh, mh & ~ml))
                nl, nh = number[lo][both], number[hi][both]
            rows += [nl, nh]
            cols += [nh, nl]
        rows.append(np.arange(n))
        cols.append(np.arange(n))
        self._rows, self._cols = np.concatenate(rows), np.concatenate(cols)
        self._connected = False
        self.perm = self._ordering() if reorder else None
        self._csc: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # built on first use

    # -- pattern ------------------------------------------------------------------------------

    def _ordering(self) -> np.ndarray:
        """Minimum-degree ordering of ``A^T + A`` (structure only) as ``perm``."""
        n = self.n_cells
        n_off = self._rows.size - n
        degree = np.bincount(self._rows[:n_off], minlength=n)
        values = np.concatenate([-np.ones(n_off), degree + 1.0])  # diagonally dominant
        pattern = sp.csc_matrix((values, (self._rows, self._cols)), shape=(n, n))
        lu = spla.splu(pattern, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                       options={"SymmetricMode": True})
        # SuperLU factors Pr A Pc with Pc[k, perm_c[k]] = 1: perm_c maps natural -> new position
        return np.argsort(lu.perm_c)

    def _layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSC layout of ``A`` in solver order: a gather of the entries, indices, pointers."""
        n = self.n_cells
        r, c = self._rows, self._cols
        if self.perm is not None:
            inv = np.empty(n, dtype=np.int64)
            inv[self.perm] = np.arange(n)
            r, c = inv[r], inv[c]
        order = np.lexsort((r, c))  # by column, then row
        indptr = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=n))])
        return order, r[order].astype(np.int32), indptr.astype(np.int32)

    # -- entries ------------------------------------------------------------------------------

    def _coefficient(self, coef: np.ndarray | float) -> np.ndarray:
        c = np.asarray(coef, dtype=np.float64)
        if c.ndim == 0:
            c = np.broadcast_to(c, self.shape)
        elif c.shape != self.shape:
            raise ValueError(f"coefficient shape {c.shape} does not match the grid {self.shape}")
        dom = c if self.mask is None else c[self.mask]
        if not (np.isfinite(dom).all() and (dom > 0).all()):
            raise ValueError("the coefficient must be finite and positive on every domain cell")
        return c if self.mask is None else np.where(self.mask, c, 1.0)

    def _face_terms(self, bc: WallBC, cw: np.ndarray, h: float
                    ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Diagonal and data terms of ``-div`` from faces with ``bc`` (cell coefficient ``cw``)."""
        if bc.kind == "dirichlet":
            w = 2.0 * cw / (h * h)
            return w, w * bc.g
        beta = 1.0 / (1.0 + np.asarray(bc.a) * h / 2.0)
        return cw * beta * bc.a / h, cw * beta * bc.g / h

    def _values(self, coef: np.ndarray | float, want_b: bool
                ) -> tuple[np.ndarray, np.ndarray | None]:
        """Entries of ``A`` in pattern order and ``b`` (natural order; None unless ``want_b``)."""
        c = self._coefficient(coef)
        dtype = complex if self._complex else float
        diag = np.zeros(self.shape, dtype=dtype)  # of -div(c grad .)
        data = np.zeros(self.shape, dtype=dtype) if want_b and self._has_data else None
        off = []
        for k, h in enumerate(self.spacing):
            lo, hi, both = self._lo[k], self._hi[k], self._both[k]
            cl, cr = c[lo], c[hi]
            t = 2.0 * cl * cr / (cl + cr) / (h * h)
            if both is not None:
                t = np.where(both, t, 0.0)
            diag[lo] += t
            diag[hi] += t
            t = t.ravel() if both is None else t[both]
            off += [t, t]
            for end, bc in zip(self._sides[k], self.bcs[k], strict=True):
                if bc.is_flux_free:
                    continue
                d_term, g_term = self._face_terms(bc, c[end], h)
                if self.mask is not None:
                    d_term = np.where(self.mask[end], d_term, 0.0)
                    g_term = np.where(self.mask[end], g_term, 0.0)
                diag[end] += d_term
                if data is not None:
                    data[end] += g_term
            if self._inner[k] is not None and not self.inner_bc.is_flux_free:
                for sel, cells in zip(self._inner[k], (lo, hi), strict=True):
                    d_term, g_term = self._face_terms(self.inner_bc, c[cells], h)
                    diag[cells] += np.where(sel, d_term, 0.0)
                    if data is not None:
                        data[cells] += np.where(sel, g_term, 0.0)
        dvals = diag.ravel() if self.mask is None else diag[self.mask]
        if self.sign < 0:
            values = np.concatenate([*(-t for t in off), dvals])
        else:
            values = np.concatenate([*off, -dvals])
        b = None
        if want_b:
            if data is None:
                b = np.zeros(self.n_cells, dtype=dtype)
            else:
                b = data.ravel() if self.mask is None else data[self.mask]
                b = -b if self.sign < 0 else b
        return values, b

    # -- public -------------------------------------------------------------------------------

    def assemble(self, coef: np.ndarray | float) -> tuple[sp.csr_matrix, np.ndarray]:
        """``A`` (natural order, CSR, ``(n_cells, n_cells)``) and ``b`` (``(n_cells,)``).

        Complex when a boundary datum or Robin coefficient is. ``coef`` is a positive scalar or
        an array of the grid's shape (values outside the mask are ignored).
        """
        values, b = self._values(coef, want_b=True)
        a = sp.csr_matrix((values, (self._rows, self._cols)), shape=(self.n_cells,) * 2)
        return a, b

    def natural_matrix(self, coef: np.ndarray | float) -> sp.csr_matrix:
        """``A`` in natural order (row ``q`` is unknown ``q``, i.e. grid cell ``cells[q]``), CSR."""
        values, _ = self._values(coef, want_b=False)
        return sp.csr_matrix((values, (self._rows, self._cols)), shape=(self.n_cells,) * 2)

    def matrix(self, coef: np.ndarray | float) -> sp.csc_matrix:
        """``A`` in solver order (``A[perm][:, perm]``), CSC, by one gather of the entries."""
        if self._csc is None:
            self._csc = self._layout()
        order, indices, indptr = self._csc
        values, _ = self._values(coef, want_b=False)
        return sp.csc_matrix((values[order], indices, indptr), shape=(self.n_cells,) * 2)

    def rhs(self, source: float | np.ndarray, coef: np.ndarray | float | None = None
            ) -> np.ndarray:
        """``f - b`` in solver order for a scalar or grid-shaped source ``f``.

        ``coef`` is needed only when a condition carries data (``b`` depends on it).
        """
        f = np.asarray(source)
        f = f.astype(np.result_type(f.dtype, np.float64), copy=False)
        if f.ndim == 0:
            out = np.full(self.n_cells, f[()])
        elif f.shape == self.shape:
            out = f.ravel()[self.cells] if self.mask is not None else f.ravel()
        else:
            raise ValueError(f"source must be a scalar or of shape {self.shape}, got shape "
                             f"{f.shape}")
        if not np.isfinite(out).all():
            raise ValueError("the source must be finite on every domain cell")
        if self._has_data:
            if coef is None:
                raise ValueError("these boundary conditions carry data: pass the coefficient "
                                 "to rhs() (b depends on it)")
            out = out - self._values(coef, want_b=True)[1]
        return out if self.perm is None else out[self.perm]

    def to_grid(self, x: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Unknowns in solver order -> an array of the grid's shape (``fill`` outside the mask)."""
        if self.perm is not None:
            nat = np.empty_like(x)
            nat[self.perm] = x
            x = nat
        if self.mask is None:
            return x.reshape(self.shape)
        out = np.full(self.shape, fill, dtype=x.dtype)
        out.reshape(-1)[self.cells] = x
        return out

    def solve_matrix(self, matrix: sp.csc_matrix, rhs: np.ndarray) -> np.ndarray:
        """Factorise ``matrix`` (from :meth:`matrix`) and solve; ``u`` of the grid's shape.

        SuperLU: for a definite system without pivoting (safe for an M-matrix) in the cached
        ordering (or minimum degree on ``A^T + A`` computed now), else with partial pivoting.
        """
        if self.definite:
            opts: dict[str, Any] = {"diag_pivot_thresh": 0.0, "options": {"SymmetricMode": True}}
        else:
            opts = {}
        lu = spla.splu(matrix, permc_spec="NATURAL" if self.perm is not None else "MMD_AT_PLUS_A",
                       **opts)
        x = lu.solve(rhs)
        if not np.isfinite(x).all():
            raise RuntimeError("finite-volume solve produced non-finite values (singular system?)")
        return self.to_grid(x)

    def solve(self, coef: np.ndarray | float, source: float | np.ndarray) -> np.ndarray:
        """Solve ``sign * div(c grad u) = source`` with the grid's conditions.

        ValueError first (once per grid) if a part of the domain touches no face that fixes the
        level (:func:`check_connected`). Returns ``u`` of the grid's shape, 0 outside the mask.
        """
        if not self._connected:
            mask = np.ones(self.shape, dtype=bool) if self.mask is None else self.mask
            check_connected(mask, self.bcs, self.inner_bc)
            self._connected = True
        return self.solve_matrix(self.matrix(coef), self.rhs(source, coef))


def assemble_fv(coef: np.ndarray | float, shape: Sequence[int],
                bcs: BCSpec | Sequence[BCSpec] | Mapping[str, BCSpec], *,
                spacing: Sequence[float] | None = None, mask: np.ndarray | None = None,
                inner_bc: BCSpec = "dirichlet_zero", sign: int = 1
                ) -> tuple[sp.csr_matrix, np.ndarray]:
    """One assembly of ``sign * div(c grad u) = A u + b``: ``(A, b)`` of :class:`FiniteVolume`.

    Default: the unit box (``spacing = 1 / shape``), no mask, ``div(c grad .)``.
    """
    return FiniteVolume(shape, spacing, bcs, mask=mask, inner_bc=inner_bc,
                        sign=sign).assemble(coef)


def assemble_masked(coef: np.ndarray, mask: np.ndarray, spacing: Sequence[float],
                    box_bc: BCSpec | Sequence[BCSpec] = "dirichlet_zero",
                    inner_bc: BCSpec = "dirichlet_zero") -> tuple[sp.csr_matrix, np.ndarray]:
    """``-div(c grad .)`` on a masked domain with homogeneous conditions: ``(A, cells)``.

    ``A`` is exactly ``-div_flux`` of :class:`pdebench.physics.heat.MaskedFiniteDifference` on the
    domain cells, whose flat grid indices are ``cells`` (C order).
    """
    fv = FiniteVolume(np.shape(mask), spacing, box_bc, mask=mask, inner_bc=inner_bc, sign=-1)
    if fv._has_data:
        raise ValueError("assemble_masked takes homogeneous conditions; use "
                         "FiniteVolume(...).assemble for boundary data")
    return fv.natural_matrix(coef), fv.cells


def solve_masked(coef: np.ndarray, mask: np.ndarray, source: float | np.ndarray,
                 spacing: Sequence[float], box_bc: BCSpec | Sequence[BCSpec] = "dirichlet_zero",
                 inner_bc: BCSpec = "dirichlet_zero") -> np.ndarray:
    """Solve ``-div(c grad u) = f`` on a masked domain; ``u`` of the grid's shape, 0 outside."""
    return FiniteVolume(np.shape(mask), spacing, box_bc, mask=mask, inner_bc=inner_bc,
                        sign=-1).solve(coef, source)
