"""One problem instance of a dataset, as a physics-informed solver sees it.

A PINN solves one problem (``data.instance=K``: sample ``K`` of the test split, or trajectory
``K`` of the test trajectories) from its equation alone. What it needs from the dataset is the
problem's data **at arbitrary points** (collocation points are not tied to the grid):

- the coefficient fields the equation reads (Darcy's ``a``, the electrothermal source terms, the
  constant fields of a trajectory);
- the reference fields where a boundary or initial condition takes its values from the reference
  (``"reference"`` boundary data, the initial frame) and at observed points of a data-assisted run.

Both come from a closed form when the dataset's source has one (:meth:`DataSource.closed_form`,
e.g. the manufactured electrothermal solutions, exact everywhere) and otherwise from
interpolation of the gridded values (:func:`interpolate`: multilinear or nearest, cell centres
or vertices, clamped at the domain edge). The instance also holds the reference grid the solver is
scored on, in the layout the metrics take.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from pdebench.data.meta import DatasetMeta

__all__ = ["INTERPOLATION", "InstanceError", "ProblemInstance", "cell_coordinates",
           "interpolate"]

#: Interpolation modes of gridded data at points.
INTERPOLATION = ("linear", "nearest")

#: ``closed(points) -> {name: values}``: exact fields at points ``(N, D)`` (float64).
ClosedForm = Callable[[Tensor], Mapping[str, Tensor]]


class InstanceError(ValueError):
    """The requested problem instance does not exist or cannot be solved pointwise."""


def cell_coordinates(meta: DatasetMeta) -> list[Tensor]:
    """Coordinates of the grid values along each spatial axis (cell centres or vertices),
    float64."""
    extent = meta.extent or tuple((0.0, 1.0) for _ in range(meta.spatial_dims))
    out = []
    for (lo, _hi), n, h in zip(extent, meta.resolution, meta.spacing, strict=True):
        k = torch.arange(n, dtype=torch.float64)
        out.append(lo + (k if meta.grid == "vertex" else k + 0.5) * h)
    return out


def _fractional_index(x: Tensor, axis: Tensor) -> Tensor:
    """Fractional index of ``x`` on a uniform ``axis`` (values at ``axis[k]``), normalised to
    ``[-1, 1]`` over ``axis[0] .. axis[-1]`` (``grid_sample`` with ``align_corners=True``)."""
    n = axis.numel()
    if n == 1:
        return torch.zeros_like(x)
    frac = (x - axis[0]) / (axis[-1] - axis[0]) * (n - 1)
    return 2.0 * frac / (n - 1) - 1.0


def interpolate(values: Tensor, axes: list[Tensor], points: Tensor,
                mode: str = "linear") -> Tensor:
    """Values of gridded fields at arbitrary points.

    Parameters
    ----------
    values : Tensor
        ``(C, n_1, ..., n_k)``: ``C`` fields on a grid of ``k`` axes (1 to 3; space, or space
        and time).
    axes : list of Tensor
        Coordinates of the values along each axis, uniform, increasing.
    points : Tensor
        ``(N, k)`` query points, columns in axis order.
    mode : {"linear", "nearest"}
        Multilinear or nearest-value interpolation. Outside the first and last grid value the
        field is clamped (the half cell between a wall and the first cell centre takes the
        nearest value).

    Returns
    -------
    Tensor
        ``(N, C)`` in the dtype of ``points``.
    """
    if mode not in INTERPOLATION:
        raise ValueError(f"interpolation {mode!r} is unknown; valid: {', '.join(INTERPOLATION)}")
    k = len(axes)
    if values.ndim != k + 1 or points.ndim != 2 or points.shape[1] != k:
        raise ValueError(f"interpolate: values {tuple(values.shape)} and points "
                         f"{tuple(points.shape)} do not match {k} axes")
    if k > 3:
        raise InstanceError(f"interpolation over {k} axes (3D space and time) is not "
                            "supported; give the dataset a closed form")
    dtype = points.dtype
    vals = values.to(dtype)
    grid = torch.stack([_fractional_index(points[:, j], axes[j].to(dtype))
                        for j in range(k)], dim=-1)
    if k == 1:  # as a 2D image of height 1
        vals = vals.unsqueeze(1)
        grid = torch.cat([torch.zeros_like(grid), grid], dim=-1)  # (row 0, x)
        k = 2
    # grid_sample reads the last coordinate column as the first value axis
    grid = grid.flip(-1).reshape(1, *([1] * (k - 1)), -1, k)
    out = F.grid_sample(vals.unsqueeze(0), grid, mode="bilinear" if mode == "linear" else
                        "nearest", padding_mode="border", align_corners=True)
    return out.reshape(values.shape[0], -1).T


@dataclass
class ProblemInstance:
    """One problem of a dataset: its reference grid and its data at arbitrary points.

    Attributes
    ----------
    meta : DatasetMeta
        The dataset as the metrics see it (window inputs for time-dependent data).
    fields : tuple of str
        The solved fields (the equation's unknowns, in the reference's channel order).
    reference : Tensor
        Steady: ``(C, *spatial)``; time-dependent: ``(T, C, *spatial)`` (all frames).
    coefficients : dict of str -> Tensor
        Coefficient fields on the grid, ``(*spatial)`` each (constant in time).
    times : Tensor or None
        ``(T,)`` frame times of a time-dependent instance.
    index : int
        The instance number within the test split (``data.instance``).
    sample : int
        Its sample (steady) or trajectory (time-dependent) index in the dataset.
    closed : callable, optional
        Exact values at points (see :data:`ClosedForm`); names it returns override the
        interpolation.
    interpolation : {"linear", "nearest"}
    history : int
        Frames a time-dependent model would be given (the metrics score the frames after them).
    """

    meta: DatasetMeta
    fields: tuple[str, ...]
    reference: Tensor
    coefficients: dict[str, Tensor]
    times: Tensor | None = None
    index: int = 0
    sample: int = 0
    closed: ClosedForm | None = None
    interpolation: str = "linear"
    history: int = 1
    frames_as_channels: bool = False
    _axes: list[Tensor] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.interpolation not in INTERPOLATION:
            raise ValueError(f"system.interpolation={self.interpolation!r} is unknown; valid: "
                             f"{', '.join(INTERPOLATION)}")
        self._axes = cell_coordinates(self.meta)

    # --- geometry ---------------------------------------------------------------------------
    @property
    def spatial_dims(self) -> int:
        return self.meta.spatial_dims

    @property
    def time_dependent(self) -> bool:
        return self.times is not None

    @property
    def extent(self) -> tuple[tuple[float, float], ...]:
        """Space, then ``(t_0, t_end)`` for a time-dependent instance."""
        ext = tuple(tuple(map(float, e)) for e in (
            self.meta.extent or tuple((0.0, 1.0) for _ in range(self.spatial_dims))))
        if self.times is not None:
            ext += ((float(self.times[0]), float(self.times[-1])),)
        return ext

    @property
    def coordinate_names(self) -> tuple[str, ...]:
        names = ("x", "y", "z")[: self.spatial_dims]
        return names + (("t",) if self.time_dependent else ())

    def grid_points(self) -> Tensor:
        """Coordinates of the scored grid values, ``(M, D[+1])`` float64, in the order of
        :meth:`grid_values` (space axes then, for trajectories, the scored frames)."""
        axes = list(self._axes)
        if self.times is not None:
            axes.append(self.times[self.history:].to(torch.float64))
        mesh = torch.meshgrid(*axes, indexing="ij")
        return torch.stack([m.reshape(-1) for m in mesh], dim=-1)

    def grid_values(self) -> Tensor:
        """The reference at :meth:`grid_points`: ``(M, C)`` float64."""
        if self.times is None:
            return self.reference.reshape(self.reference.shape[0], -1).T
        frames = self.reference[self.history:].movedim(0, -1)
        return frames.reshape(frames.shape[0], -1).T

    def to_grid(self, values: Tensor) -> Tensor:
        """``(M, C)`` values at :meth:`grid_points` -> the metrics' layout ``(1, C, *spatial)``
        (steady) or ``(1, C, *spatial, T_scored)``."""
        shape = [*self.meta.resolution]
        if self.times is not None:
            shape.append(len(self.times) - self.history)
        out = values.T.reshape(1, values.shape[1], *shape)
        if self.frames_as_channels:  # (1, 1, *spatial, T) -> frames as channels (1, T, *spatial)
            out = out[:, 0].movedim(-1, 1)
        return out

    # --- data at points -----------------------------------------------------------------------
    def _space_time_reference(self) -> tuple[Tensor, list[Tensor]]:
        if self.times is None:
            return self.reference, self._axes
        return self.reference.movedim(0, 1), [self.times.to(torch.float64), *self._axes]

    def _interp(self, names: tuple[str, ...], grid: Tensor, axes: list[Tensor],
                points: Tensor) -> dict[str, Tensor]:
        values = interpolate(grid, axes, points, self.interpolation)
        return {n: values[:, i] for i, n in enumerate(names)}

    def coefficients_at(self, points: Tensor, names: tuple[str, ...] | None = None
                        ) -> dict[str, Tensor]:
        """Coefficient fields at points ``(N, D[+1])`` (time, if any, ignored): ``(N,)`` each."""
        names = tuple(self.coefficients) if names is None else names
        missing = [n for n in names if n not in self.coefficients]
        if missing:
            raise InstanceError(f"dataset {self.meta.name!r} has no coefficient field(s) "
                                f"{missing}; it has {sorted(self.coefficients)}")
        out = dict(self._exact(points, names))
        rest = tuple(n for n in names if n not in out)
        if rest:
            stacked = torch.stack([self.coefficients[n] for n in rest])
            out.update(self._interp(rest, stacked, self._axes, points[:, : self.spatial_dims]))
        return out

    def reference_at(self, points: Tensor, names: tuple[str, ...] | None = None
                     ) -> dict[str, Tensor]:
        """Reference fields at points ``(N, D[+1])`` (space-time for trajectories)."""
        names = self.fields if names is None else names
        out = dict(self._exact(points, names))
        rest = tuple(n for n in names if n not in out)
        if rest:
            grid, axes = self._space_time_reference()
            idx = [self.fields.index(n) for n in rest]
            pts = points if self.times is None else torch.cat(
                [points[:, -1:], points[:, : self.spatial_dims]], dim=1)
            out.update(self._interp(rest, grid[idx], axes, pts))
        return out

    def _exact(self, points: Tensor, names: tuple[str, ...]) -> dict[str, Tensor]:
        if self.closed is None:
            return {}
        values = self.closed(points.to(torch.float64))
        return {n: values[n].to(points.dtype) for n in names if n in values}

    # --- the scored grid ----------------------------------------------------------------------
    def eval_batch(self) -> dict[str, Tensor]:
        """The instance as one metrics batch: ``x`` (the model-view inputs, ``(1, C_in,
        *spatial)``) and ``y`` (the reference, ``(1, C, *spatial)`` or ``(1, C, *spatial, T)``
        over the frames after the first ``history``)."""
        if self.frames_as_channels:
            return {"x": self._inputs_steady().float(),
                    "y": self.reference[1:, 0].unsqueeze(0).float()}
        if self.times is None:
            y = self.reference.unsqueeze(0)
            x = self._inputs_steady()
        else:
            y = self.reference[self.history:].movedim(0, -1).unsqueeze(0)
            frames = self.reference[: self.history].reshape(-1, *self.meta.resolution)
            const = [self.coefficients[n] for n in self.meta.constant_fields]
            x = torch.cat([frames, *(c.unsqueeze(0) for c in const)]).unsqueeze(0)
        return {"x": x.float(), "y": y.float()}

    def _inputs_steady(self) -> Tensor:
        return torch.stack([self.coefficients[n] for n in self.meta.input_fields]).unsqueeze(0)

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def from_datamodule(cls, dm, index: int, fields: tuple[str, ...] | None = None,
                        interpolation: str = "linear",
                        frames: tuple[str, str, float, str] | None = None) -> ProblemInstance:
        """Instance ``index`` of the test split of a set-up :class:`PDEDataModule`.

        ``frames = (pattern, initial, frame_dt, unknown)`` reads a dataset that stores the frames
        of one field as output channels (``u_t*``: ``u_t1 ... u_tN`` at ``k frame_dt``) and its
        first frame as the input ``initial``, as one trajectory of the field ``unknown``.
        """
        test = np.asarray(dm.indices["test"])
        dataset, meta = dm.dataset, dm.meta
        if frames is not None:
            return _frames_instance(cls, dm, index, interpolation, *frames)
        groups = getattr(dataset, "groups", None)
        closed_factory = getattr(dm.source, "closed_form", None)
        if groups is not None:
            ids = np.unique(np.asarray(groups)[test])
            sample = _pick(ids, index, meta.name, "test trajectories")
            reader = dataset.reader
            ref = torch.from_numpy(np.asarray(reader.read(sample), dtype=np.float64))
            const = (torch.from_numpy(np.asarray(reader.constants(sample), dtype=np.float64))
                     if reader.const_fields else None)
            coeffs = {n: const[i] for i, n in enumerate(reader.const_fields)} if const is not None \
                else {}
            times = _frame_times(meta, ref.shape[0])
            history = int(meta.extra.get("history", 1))
            return cls(meta, tuple(meta.output_fields), ref, coeffs, times, index, sample,
                       closed_factory(sample) if closed_factory else None, interpolation,
                       history)
        sample = _pick(test, index, meta.name, "test samples")
        item = dataset[sample]
        x = item["x"].to(torch.float64)
        coeffs = {n: x[i] for i, n in enumerate(meta.input_fields)}
        return cls(meta, tuple(meta.output_fields), item["y"].to(torch.float64), coeffs, None,
                   index, sample, closed_factory(sample) if closed_factory else None,
                   interpolation)


def _frames_instance(cls, dm, index: int, interpolation: str, pattern: str, initial: str,
                     frame_dt: float, unknown: str) -> ProblemInstance:
    meta = dm.meta
    prefix = pattern.rstrip("*")
    chans = [i for i, f in enumerate(meta.output_fields) if f.startswith(prefix)]
    if not chans or initial not in meta.input_fields:
        raise InstanceError(f"dataset {meta.name!r} has no frames {pattern!r} with the first "
                            f"frame {initial!r} among its fields")
    sample = _pick(np.asarray(dm.indices["test"]), index, meta.name, "test samples")
    item = dm.dataset[sample]
    x, y = item["x"].to(torch.float64), item["y"].to(torch.float64)
    ref = torch.cat([x[meta.input_fields.index(initial)].unsqueeze(0), y[chans]]).unsqueeze(1)
    coeffs = {n: x[i] for i, n in enumerate(meta.input_fields)}
    times = torch.arange(ref.shape[0], dtype=torch.float64) * float(frame_dt)
    closed = getattr(dm.source, "closed_form", None)
    return cls(meta, (unknown,), ref, coeffs, times, index, sample,
               closed(sample) if closed else None, interpolation, 1, True)


def _pick(pool: np.ndarray, index: int, name: str, what: str) -> int:
    if isinstance(index, bool) or int(index) != index or not 0 <= int(index) < len(pool):
        raise InstanceError(f"data.instance={index} is out of range: dataset {name!r} has "
                            f"{len(pool)} {what} (valid: 0..{len(pool) - 1}; more samples: "
                            "data.n_samples or the split fractions)")
    return int(pool[int(index)])


def _frame_times(meta: DatasetMeta, n_frames: int) -> Tensor:
    time = meta.time or {}
    if "dt" in time:
        dt = float(time["dt"])
    elif "t_end" in time and n_frames > 1:
        dt = float(time["t_end"]) / (n_frames - 1)
    else:
        raise InstanceError(f"dataset {meta.name!r} does not say its frame spacing "
                            "(DatasetMeta.time needs 'dt' or 't_end')")
    return torch.arange(n_frames, dtype=torch.float64) * dt
