"""Data metrics of the PDEBench family (2024 fix) and the relative L2 error, as torchmetrics.

Every metric here follows one contract:

- constructed as ``Cls(meta)`` with a :class:`~pdebench.data.meta.DatasetMeta` (or, without
  metadata, ``Cls(spatial_dims=d, field_names=...)``);
- ``update(pred, target, inputs=None, mask=None)`` takes the prediction and the target in
  **physical units** (after de-normalisation), layout ``(batch, channels, *spatial, time)`` --
  PDEBench's ``[b, c, x..., t]`` with ``time >= 1`` (steady data has ``time == 1``). Only
  predicted frames may be passed: context (input) frames are never scored. ``inputs`` is
  ignored. ``mask`` (a bool tensor broadcastable to ``pred``, typically ``(batch, 1, *spatial,
  1)``; True = scored) restricts every spatial reduction to the cells inside a geometry (see
  "Masked domains" below);
- ``compute()`` returns a float64 tensor of shape ``(channels, time)``. The harness reports the
  mean over ``(channels, time)`` as the headline number and the mean over ``time`` per channel.

Definitions follow ``specs/METRICS.md``, family ``pdebench``. Notation: prediction P, target Y,
error D = P - Y, N spatial points. All sums and counts are exact: ``update`` on two halves of a
batch, ``merge_state`` of two instances and the DDP reduction (``dist_reduce_fx`` ``"sum"``,
``"max"`` for maxima) all give the result of one instance that saw every sample. Computation is in
float64.

Reference: ``pdebench.models.metrics.metric_func`` of PDEBench (PyPI 0.1.0; its fRMSE is unchanged
in the 2024 fix), which ``tests/metrics/test_pdebench_frmse_parity.py`` compares against on stored
reference values. The fRMSE keeps PDEBench's bins (1D: all ``n // 2 + 1`` rfft bins, Nyquist
included; 2D/3D: shells over ``0 <= i_d < n_d // 2``) and its factor of the domain lengths
(``Lx Ly Lz``, here from ``meta.extent``).

Defects of the published PDEBench code that are **not** reproduced: the per-batch means averaged
over batches (the 2024 code divides their sum by number of batches - 1; here: exact sample counts);
context frames scored as predictions (the Darcy coefficient stacked as a perfectly "predicted"
first frame halved the printed nRMSE); the 3D bRMSE summed over channels (here: per channel, like
1D and 2D). A target that is identically zero over space makes ``nrmse`` and ``rel_l2`` raise
``ValueError`` instead of returning inf/NaN.

Masked domains (``DatasetMeta.masks``): with a ``mask`` M, spatial means are means over the
cells with M = 1 (``sum_x M v / sum_x M``), norms and maxima run over those cells only, the
spectra of the fRMSE are those of D zeroed outside (``D M``; N stays the number of grid points,
as the transform's normalisation), and the bRMSE scores the boundary of the masked domain (see
:class:`PDEBenchBRMSE`). Hence a masked metric equals the unmasked one evaluated on the active
cells alone wherever that is defined (every metric but the fRMSE and bRMSE, whose definitions need
a grid). A sample whose mask has no active cell in some (channel, frame) raises ``ValueError``
naming the dataset and the sample. ``mask=None`` (or a mask that is True everywhere) gives the
unmasked value.

State shapes depend on ``(channels, time)`` (and on the grid for the fRMSE) and are fixed by the
first ``update``; in DDP every rank must see at least one batch before ``compute`` (Lightning's
distributed sampler guarantees it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from pdebench.data.meta import DatasetMeta

__all__ = [
    "FACTORIES",
    "FRMSE_BANDS",
    "PDEBenchBRMSE",
    "PDEBenchCRMSE",
    "PDEBenchFRMSEHigh",
    "PDEBenchFRMSELow",
    "PDEBenchFRMSEMid",
    "PDEBenchMaxError",
    "PDEBenchNRMSE",
    "PDEBenchRMSE",
    "RelL2",
]

_F64 = torch.float64

#: Radial shell bands of the fRMSE: ``name -> (first shell, end shell or None for r_max + 1)``.
FRMSE_BANDS: dict[str, tuple[int, int | None]] = {"low": (0, 4), "mid": (4, 12), "high": (12, None)}


def _inside(v: Tensor, mask: Tensor) -> Tensor:
    """``v`` where ``mask`` is 1, exactly 0 elsewhere (also where ``v`` is not finite)."""
    return torch.where(mask > 0, v, torch.zeros((), dtype=v.dtype, device=v.device))


class _FrameMetric(Metric):
    """Shared validation and lazily shaped ``(channels, time)`` states.

    Parameters
    ----------
    meta : DatasetMeta, optional
        Dataset metadata; ``meta.spatial_dims`` fixes the layout and ``meta.output_fields`` names
        the channels (used to check the channel count and in error messages).
    spatial_dims : int, optional
        Number of spatial dimensions when no ``meta`` is given (must agree with ``meta`` if both).
    field_names : sequence of str, optional
        Channel names when no ``meta`` is given.
    **kwargs
        Passed to :class:`torchmetrics.Metric` (``sync_on_compute``, ``dist_sync_fn``, ...).
    """

    name: str = ""
    full_state_update = False
    higher_is_better = False
    is_differentiable = False

    def __init__(
        self,
        meta: DatasetMeta | None = None,
        *,
        spatial_dims: int | None = None,
        field_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if meta is not None:
            if spatial_dims is not None and spatial_dims != meta.spatial_dims:
                raise ValueError(
                    f"{self.name}: spatial_dims={spatial_dims} contradicts "
                    f"meta.spatial_dims={meta.spatial_dims} of dataset {meta.name!r}"
                )
            spatial_dims = meta.spatial_dims
            if field_names is None:
                field_names = meta.output_fields
        if spatial_dims is None or int(spatial_dims) < 1:
            raise ValueError(
                f"{self.name}: give a DatasetMeta or spatial_dims >= 1 (got {spatial_dims!r})"
            )
        self.spatial_dims = int(spatial_dims)
        self.dataset_name: str | None = meta.name if meta is not None else None
        self.field_names: tuple[str, ...] | None = tuple(field_names) if field_names else None
        self.add_state("count", default=torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")
        self._add_states()

    def _add_states(self) -> None:
        raise NotImplementedError

    def _wrap_compute(self, compute: Callable[..., Tensor]) -> Callable[..., Tensor]:
        # torchmetrics squeezes a one-element result to a 0-d tensor; keep the (1, 1) shape so the
        # result is always (channels, time).
        wrapped = super()._wrap_compute(compute)

        @functools.wraps(compute)
        def keep_shape(*args: Any, **kwargs: Any) -> Tensor:
            out = wrapped(*args, **kwargs)
            return out.reshape(1, 1).clone() if out.ndim == 0 else out

        return keep_shape

    @property
    def _space(self) -> tuple[int, ...]:
        """Tensor dims of the spatial axes in ``(batch, channels, *spatial, time)``."""
        return tuple(range(2, 2 + self.spatial_dims))

    def _channel(self, c: int) -> str:
        if self.field_names is not None and c < len(self.field_names):
            return f"channel {c} ({self.field_names[c]!r})"
        return f"channel {c}"

    def _check(self, pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        if not isinstance(pred, Tensor) or not isinstance(target, Tensor):
            raise TypeError(f"{self.name}: pred and target must be tensors")
        if pred.shape != target.shape:
            raise ValueError(
                f"{self.name}: pred shape {tuple(pred.shape)} != target shape {tuple(target.shape)}"
            )
        want = self.spatial_dims + 3
        if pred.ndim != want:
            raise ValueError(
                f"{self.name}: expected {want} dims (batch, channels, {self.spatial_dims} spatial, "
                f"time), got shape {tuple(pred.shape)}; steady data needs a time axis of size 1"
            )
        if any(n == 0 for n in pred.shape[1:]):
            raise ValueError(f"{self.name}: empty channel, spatial or time axis in {tuple(pred.shape)}")
        if self.field_names is not None and pred.shape[1] != len(self.field_names):
            raise ValueError(
                f"{self.name}: {pred.shape[1]} channels but {len(self.field_names)} output fields "
                f"{self.field_names}"
            )
        if pred.is_complex() or target.is_complex():
            raise TypeError(f"{self.name}: complex inputs are not supported")
        if not bool(torch.isfinite(target).all()):
            raise ValueError(f"{self.name}: target contains NaN or inf")
        return pred.detach().to(_F64), target.detach().to(_F64)

    def _accumulate(self, attr: str, value: Tensor, *, op: str = "sum") -> None:
        """Add (or take the max with) ``value`` into state ``attr``, fixing its shape on first use."""
        state = getattr(self, attr)
        if state.ndim != 0 and state.shape != value.shape:
            raise ValueError(
                f"{self.name}: this batch gives state {attr!r} the shape {tuple(value.shape)} "
                f"(channels, time[, shells]) but earlier batches gave {tuple(state.shape)}"
            )
        setattr(self, attr, state + value if op == "sum" else torch.maximum(state, value))

    def _require_data(self) -> None:
        if int(self.count) == 0:
            raise ValueError(f"{self.name}: compute() called before any sample was seen")

    def _check_mask(self, mask: Any, shape: torch.Size) -> Tensor | None:
        """``mask`` broadcast to ``shape`` as float64 0/1, or ``None``; refuse a sample with no
        active cell in some (channel, frame)."""
        if mask is None:
            return None
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise TypeError(f"{self.name}: mask must be a bool tensor (True = scored), got "
                            f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}")
        try:
            m = torch.broadcast_to(mask, shape)
        except RuntimeError:
            raise ValueError(
                f"{self.name}: mask shape {tuple(mask.shape)} does not broadcast to the "
                f"prediction's {tuple(shape)}; pass (batch, 1, *spatial, 1)") from None
        empty = ~m.flatten(2, 1 + self.spatial_dims).any(2)  # (B, C, T)
        if bool(empty.any()):
            b, c, t = (int(i) for i in empty.nonzero()[0])
            where = f"dataset {self.dataset_name!r}" if self.dataset_name else "the data"
            raise ValueError(
                f"{self.name}: sample {b} of this batch of {where} has no active cell in its "
                f"geometry mask ({self._channel(c)}, frame {t}): nothing to score; remove "
                "samples whose mask is empty")
        return m.to(_F64)

    def update(self, pred: Tensor, target: Tensor, inputs: Any = None,
               mask: Tensor | None = None) -> None:
        """Accumulate a batch.

        Parameters
        ----------
        pred, target : Tensor
            Shape ``(batch, channels, *spatial, time)``, physical units.
        inputs : Any, optional
            Ignored (the signature is shared with the physics metrics).
        mask : Tensor, optional
            Bool, broadcastable to ``pred`` (typically ``(batch, 1, *spatial, 1)``): the cells
            scored (True). ``None`` scores every cell.
        """
        p, y = self._check(pred, target)
        m = self._check_mask(mask, p.shape)
        if m is None:
            self._update(p, y)
        else:
            self._update(p, y, m.to(p.device))
        self.count = self.count + p.shape[0]

    def _update(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        """Accumulate float64 ``pred``, ``target`` and the 0/1 ``mask`` of their shape (or
        ``None``: every cell)."""
        raise NotImplementedError

    def _mean_space(self, v: Tensor, mask: Tensor | None) -> Tensor:
        """Mean over space (over the masked-in cells): ``(B, C, *S, T) -> (B, C, T)``."""
        if mask is None:
            return v.mean(self._space)
        return _inside(v, mask).sum(self._space) / mask.sum(self._space)

    def _max_space(self, v: Tensor, mask: Tensor | None) -> Tensor:
        """Maximum over space (over the masked-in cells) of ``v >= 0``."""
        return (v if mask is None else _inside(v, mask)).amax(self._space)


class _SampleMean(_FrameMetric):
    """Mean over samples of a per-(sample, channel, frame) value; state ``total`` (C, T)."""

    def _add_states(self) -> None:
        self.add_state("total", default=torch.zeros((), dtype=_F64), dist_reduce_fx="sum")

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        """Return the per-sample quantity, shape ``(batch, channels, time)``."""
        raise NotImplementedError

    def _update(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        self._accumulate("total", self._per_sample(pred, target, mask).sum(0))

    def compute(self) -> Tensor:
        """Return the metric, shape ``(channels, time)``."""
        self._require_data()
        return self.total / self.count

    def _ratio(self, num: Tensor, den: Tensor) -> Tensor:
        """``num / den`` per (b, c, t); raise on a target that is identically zero over space."""
        zero = den == 0
        if bool(zero.any()):
            b, c, t = (int(i) for i in zero.nonzero()[0])
            raise ValueError(
                f"{self.name}: the target of {self._channel(c)} is identically zero over space "
                f"(sample {b} of this batch, frame {t}), so the relative error is undefined; "
                "exclude unmeasured channels or use an absolute metric such as pdebench/rmse"
            )
        return num / den


class PDEBenchRMSE(_SampleMean):
    """Root-mean-square error, PDEBench ``RMSE`` (2024 fix).

    ``rmse[c, t] = mean_b sqrt(mean_x D[b, c, x, t]^2)`` with D = P - Y.

    Reduction order: mean of D^2 over the N spatial points, square root, then mean over samples
    (over all batches and ranks, by exact count). Kept per channel and frame: ``compute()`` returns
    ``(channels, time)``; the harness averages over (channels, time). Units: those of each field.

    Not reproduced from the published code: the mean over batches divided by (batches - 1);
    context frames scored as predictions.
    """

    name = "pdebench/rmse"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        return self._mean_space((pred - target).square(), mask).sqrt()


class PDEBenchNRMSE(_SampleMean):
    """Normalised RMSE, PDEBench ``nRMSE`` (2024 fix).

    ``nrmse[c, t] = mean_b [ sqrt(mean_x D^2) / sqrt(mean_x Y^2) ]`` per (b, c, t).

    Reduction order: means over the N spatial points, the ratio per sample, then mean over
    samples (the mean of the ratio, not the ratio of means). Dimensionless; invariant under a
    common rescaling of P and Y. Per (b, c, t) it equals :class:`RelL2`. A target slice that is
    identically zero raises ``ValueError`` naming the channel (no epsilon, never inf/NaN).

    Not reproduced from the published code: the division by (batches - 1); context frames scored
    (the Darcy coefficient stacked as a perfect first frame, which halved the printed nRMSE).
    """

    name = "pdebench/nrmse"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        num = self._mean_space((pred - target).square(), mask).sqrt()
        return self._ratio(num, self._mean_space(target.square(), mask).sqrt())


class PDEBenchCRMSE(_FrameMetric):
    """Conserved-quantity RMSE, PDEBench ``cRMSE`` (2024 fix).

    ``crmse[c, t] = sqrt(mean_b (mean_x P - mean_x Y)^2)``: the error of the spatial mean (the
    conserved integral divided by the domain size).

    Reduction order: mean over the N spatial points per (b, c, t), square, mean over samples,
    square root. State: the sum over samples of the squared mean error. Units: those of the field.

    Not reproduced from the published code: the division by (batches - 1); context frames scored.
    """

    name = "pdebench/crmse"

    def _add_states(self) -> None:
        self.add_state("total", default=torch.zeros((), dtype=_F64), dist_reduce_fx="sum")

    def _update(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        diff = self._mean_space(pred, mask) - self._mean_space(target, mask)
        self._accumulate("total", diff.square().sum(0))

    def compute(self) -> Tensor:
        """Return the metric, shape ``(channels, time)``."""
        self._require_data()
        return (self.total / self.count).sqrt()


class PDEBenchMaxError(_FrameMetric):
    """Maximum absolute error, PDEBench ``Max error`` (2024 fix).

    ``max_error[c, t] = max_b max_x |D[b, c, x, t]|``.

    Reduction order: maximum over the spatial points, then the **maximum** over samples (not the
    mean, unlike the Multiphysics Bench ``max_error``); the harness then averages over (channels,
    time). DDP reduction ``"max"``. Units: those of the field.

    Not reproduced from the published code: context frames scored.
    """

    name = "pdebench/max_error"

    def _add_states(self) -> None:
        # |D| >= 0, so 0 is a neutral element for the max
        self.add_state("max_abs", default=torch.zeros((), dtype=_F64), dist_reduce_fx="max")

    def _update(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        per_sample = self._max_space((pred - target).abs(), mask)
        self._accumulate("max_abs", per_sample.amax(0), op="max")

    def compute(self) -> Tensor:
        """Return the metric, shape ``(channels, time)``."""
        self._require_data()
        return self.max_abs


class PDEBenchBRMSE(_SampleMean):
    """Boundary RMSE, PDEBench ``bRMSE`` (2024 fix).

    ``brmse[c, t] = mean_b sqrt( sum_{faces} sum_{x in face} D^2 / M )`` where the boundary is
    taken face by face: for every spatial axis, the first and the last slice along it, each in
    full. Hence 1D: the two end points, M = 2; 2D: the four edges with the corners counted twice,
    M = 2 n_x + 2 n_y; 3D (the harness's choice, the same rule): the six faces with points on an
    edge counted twice and the corners three times, M = 2 (n_x n_y + n_y n_z + n_x n_z).

    Reduction order: RMS over the boundary points per (b, c, t), then mean over samples. Per
    channel in every dimension. Units: those of the field.

    Masked domains (harness reading): the boundary is that of the masked domain, taken face by
    face in the same way: for every spatial axis and both directions along it, the masked-in
    cells whose neighbour in that direction is outside the domain (masked out, or beyond the
    grid), each counted once per such face. With a mask that is True everywhere these are exactly
    the faces above (same M, corners as often), so the masked value reduces to the unmasked one;
    a geometry inside the grid (a disc) is scored on its own rim, never on the empty grid edge.
    Every non-empty mask has such cells, so the value is always defined.

    Not reproduced from the published code: the division by (batches - 1); the 3D bRMSE summed
    over channels; context frames scored.
    """

    name = "pdebench/brmse"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        if mask is not None:
            return self._masked_per_sample((pred - target).square(), mask)
        diff2 = (pred - target).square()
        shape = diff2.shape[2 : 2 + self.spatial_dims]
        total = torch.zeros(diff2.shape[:2] + diff2.shape[-1:], dtype=_F64, device=diff2.device)
        points = 0
        for axis in range(self.spatial_dims):
            dim = 2 + axis
            rest = tuple(d for d in self._space if d != dim)
            rest = tuple(d if d < dim else d - 1 for d in rest)  # dims after the select
            for idx in (0, -1):
                face = diff2.select(dim, idx)
                total = total + (face.sum(rest) if rest else face)
            points += 2 * math.prod(n for a, n in enumerate(shape) if a != axis)
        return (total / points).sqrt()

    def _masked_per_sample(self, diff2: Tensor, mask: Tensor) -> Tensor:
        """RMS of ``diff2`` over the faces of the masked domain, ``(B, C, T)``."""
        total = diff2.new_zeros(diff2.shape[:2] + diff2.shape[-1:])
        points = torch.zeros_like(total)
        for dim in self._space:
            n = mask.shape[dim]
            for step in (1, -1):  # the neighbour at i + 1, then at i - 1; beyond the grid: 0
                neighbour = torch.zeros_like(mask)
                if n > 1:
                    src = mask.narrow(dim, 1, n - 1) if step == 1 else mask.narrow(dim, 0, n - 1)
                    dst = (neighbour.narrow(dim, 0, n - 1) if step == 1
                           else neighbour.narrow(dim, 1, n - 1))
                    dst.copy_(src)
                face = mask * (1 - neighbour)
                total = total + _inside(diff2, face).sum(self._space)
                points = points + face.sum(self._space)
        return (total / points).sqrt()


def _n_shells(spatial: Sequence[int]) -> int:
    """Number of fRMSE shells on a grid, as PDEBench 0.1.0's ``metric_func`` has them.

    1D: ``n // 2 + 1`` (every rfft bin, the Nyquist bin of an even n included); 2D/3D:
    ``min_d (n_d // 2)`` (floor division: an odd axis of 25 points gives 12 shells).
    """
    if len(spatial) == 1:
        return int(spatial[0]) // 2 + 1
    return min(int(n) // 2 for n in spatial)


def _min_points(first: int, spatial_dims: int) -> int:
    """Fewest grid points (1D: n; 2D/3D: min(n)) for which shell ``first`` exists."""
    return 2 * first if spatial_dims == 1 else 2 * first + 2


@lru_cache(maxsize=32)
def _shells(spatial: tuple[int, ...]) -> tuple[tuple[int, ...], Tensor, int]:
    """The kept block of Fourier indices and the shell of each kept mode (PDEBench 0.1.0).

    Returns
    -------
    kept : tuple of int
        Size of the kept block along each axis of the ``rfftn`` output. 1D: ``n // 2 + 1``, all
        rfft bins ``0 <= k <= n // 2``. 2D/3D: ``n_d // 2``, the indices ``0 <= i_d < n_d // 2``
        (non-negative frequencies, no Nyquist index, as PDEBench's ``range(n // 2)`` loops).
    shell : Tensor
        Long tensor over the flattened kept block: 1D: the bin index k; 2D/3D: ``r =
        floor(sqrt(sum_d i_d^2))``, or -1 where ``r >= R``.
    n_shells : int
        ``R`` of :func:`_n_shells`: shells ``0 <= r < R``.
    """
    n_shells = _n_shells(spatial)
    if len(spatial) == 1:
        return (n_shells,), torch.arange(n_shells), n_shells
    kept = tuple(n // 2 for n in spatial)
    grids = torch.meshgrid(*(torch.arange(k, dtype=_F64) for k in kept), indexing="ij")
    radius = torch.floor(torch.sqrt(sum(g.square() for g in grids))).long().reshape(-1)
    return kept, torch.where(radius < n_shells, radius, -1), n_shells


class _PDEBenchFRMSE(_FrameMetric):
    """Fourier-space RMSE of the error, per radial shell, averaged over a band of shells.

    Besides the common parameters, the domain lengths ``L_d = hi - lo`` come from ``meta.extent``
    (unit lengths without ``meta`` or with an empty extent) and multiply every shell error, as
    PDEBench's ``Lx, Ly, Lz`` arguments do.
    """

    band: str = ""

    def __init__(
        self,
        meta: DatasetMeta | None = None,
        *,
        spatial_dims: int | None = None,
        field_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(meta, spatial_dims=spatial_dims, field_names=field_names, **kwargs)
        extent = meta.extent if meta is not None and meta.extent else ()
        extent = extent or tuple((0.0, 1.0) for _ in range(self.spatial_dims))
        lengths = tuple(float(hi) - float(lo) for lo, hi in extent)
        if not all(math.isfinite(x) and x > 0 for x in lengths):
            raise ValueError(f"{self.name}: domain lengths {lengths} from extent {extent} must be "
                             "finite and positive")
        #: ``(L_x, ...)``; the shell errors are multiplied by their product
        self.domain_lengths: tuple[float, ...] = lengths

    def _add_states(self) -> None:
        # sum over samples of the shell power, shape (channels, time, shells)
        self.add_state("shell_power", default=torch.zeros((), dtype=_F64), dist_reduce_fx="sum")
        # the spatial grid, identical on every rank (the max is just a consistent reduction)
        self.add_state("grid", default=torch.zeros((), dtype=torch.long), dist_reduce_fx="max")

    def _update(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        spatial = tuple(pred.shape[2 : 2 + self.spatial_dims])
        if self.grid.ndim != 0 and tuple(self.grid.tolist()) != spatial:
            raise ValueError(
                f"{self.name}: grid {spatial} differs from the grid {tuple(self.grid.tolist())} "
                "of earlier batches; the shells would not match"
            )
        kept, shell, n_shells = _shells(spatial)
        diff = pred - target if mask is None else _inside(pred - target, mask)  # D zeroed outside
        spec = torch.fft.rfftn(diff, dim=self._space)
        for axis, k in enumerate(kept):
            spec = spec.narrow(2 + axis, 0, k)
        power = spec.abs().square().movedim(-1, 2).flatten(3)  # (B, C, T, kept modes)
        shell = shell.to(power.device)
        inside = shell >= 0
        per_shell = power.new_zeros(power.shape[:3] + (n_shells,))
        per_shell.index_add_(3, shell[inside], power[..., inside])
        self._accumulate("shell_power", per_shell.sum(0))
        self.grid = torch.tensor(spatial, dtype=torch.long, device=self.grid.device)

    @classmethod
    def applicable(cls, meta: DatasetMeta) -> str | None:
        """Why this band cannot be measured on ``meta``'s grid (``None`` if it can)."""
        first = FRMSE_BANDS[cls.band][0]
        if _n_shells(meta.resolution) <= first:
            what = "the number of points" if meta.spatial_dims == 1 else "min(resolution)"
            return (f"band {cls.band!r} needs {what} >= {_min_points(first, meta.spatial_dims)}, "
                    f"the grid is {tuple(meta.resolution)}")
        return None

    def shell_errors(self) -> Tensor:
        """``E_r = sqrt(mean_b S_r) / N * prod_d L_d`` per shell, shape ``(channels, time, R)``."""
        self._require_data()
        n_points = math.prod(self.grid.tolist())
        factor = math.prod(self.domain_lengths)
        return (self.shell_power / self.count).sqrt() / n_points * factor

    def compute(self) -> Tensor:
        """Return the band value, shape ``(channels, time)``."""
        errors = self.shell_errors()
        n_shells = errors.shape[-1]
        first, end = FRMSE_BANDS[self.band]
        end = n_shells if end is None else min(end, n_shells)
        if end <= first:
            grid = tuple(self.grid.tolist())
            what = "n" if self.spatial_dims == 1 else "min(n)"
            raise ValueError(
                f"{self.name}: band {self.band!r} (shells r >= {first}) is empty on grid {grid}: "
                f"only shells r <= {n_shells - 1} exist; it needs "
                f"{what} >= {_min_points(first, self.spatial_dims)}"
            )
        return errors[..., first:end].mean(-1)


_FRMSE_DOC = """Fourier-space RMSE of the error, PDEBench ``fRMSE`` {band} band.

    Reproduces ``pdebench.models.metrics.metric_func`` of PDEBench 0.1.0 (unchanged in the 2024
    fix) called with ``Lx, Ly, Lz`` = the domain lengths, apart from the defects listed below.

    F = unnormalised DFT of D over the spatial axes. 1D: ``rfft``, all ``n // 2 + 1`` bins
    ``0 <= k <= n // 2`` (the Nyquist bin of an even n included); bin k is shell k. 2D/3D: the
    modes ``0 <= i_d < n_d // 2`` (non-negative indices, floor division), shell ``r =
    floor(sqrt(sum_d i_d^2))``, kept where ``r < R = min_d(n_d // 2)``. Shell power: ``S_r[b, c,
    t] = sum_{{modes in shell r}} |F|^2``; shell error ``E_r[c, t] = sqrt(mean_b S_r) / N *
    prod_d L_d`` with N the number of grid points and ``L_d = hi - lo`` from ``meta.extent``
    (1 on the unit domain; 2 per axis on [-1, 1]); value = mean of ``E_r`` over the shells of the
    band, {range}.

    Masked domains: F is the transform of D zeroed outside the mask (N remains the number of
    grid points).

    Reduction order: FFT over space per (b, c, t), sum over each shell, mean over samples, square
    root, division by N, multiplication by the domain lengths, then mean over the band's shells;
    per channel and frame (PDEBench's ``if_mean=True`` number is the mean over (channels, time),
    the harness's headline). A constant error c on the unit domain gives ``E_0 = |c|`` and ``E_r =
    0`` for r > 0. Units: those of the field times length^d. Raises ``ValueError`` at ``compute``
    when the grid has no shell in the band ({need}; PDEBench returns NaN there).

    Not reproduced from the published code: the averaging of per-DataLoader-batch values in
    PDEBench's ``metrics`` loop (0.1.0: their sum / number of batches; the 2024 code: / (batches
    - 1)), here one exact mean over all samples; context frames scored; the shell sums in float32
    (here float64).
    """


class PDEBenchFRMSELow(_PDEBenchFRMSE):
    __doc__ = _FRMSE_DOC.format(
        band="low", range="r in [0, 4)", need="2D/3D: min(n) < 2; 1D never")
    name = "pdebench/frmse_low"
    band = "low"


class PDEBenchFRMSEMid(_PDEBenchFRMSE):
    __doc__ = _FRMSE_DOC.format(
        band="mid", range="r in [4, 12)", need="1D: n < 8; 2D/3D: min(n) < 10")
    name = "pdebench/frmse_mid"
    band = "mid"


class PDEBenchFRMSEHigh(_PDEBenchFRMSE):
    __doc__ = _FRMSE_DOC.format(
        band="high", range="r in [12, R - 1]", need="1D: n < 24; 2D/3D: min(n) < 26")
    name = "pdebench/frmse_high"
    band = "high"


class RelL2(_SampleMean):
    """Relative L2 error, the harness's ``rel_l2`` (as used by FNO and Multiphysics Bench).

    ``rel_l2[c, t] = mean_b ||D[b, c, :, t]||_2 / ||Y[b, c, :, t]||_2``, norms over space.

    Reduction order: L2 norms over the spatial points per (b, c, t), the ratio, then mean over
    samples. Dimensionless; invariant under a common rescaling of P and Y. Numerically equal to
    ``pdebench/nrmse`` (the 1/N factors cancel) and to Multiphysics Bench's per-channel
    ``nrmse``; the FNO training loss instead takes the norm over all channels and frames of a
    sample at once. A target slice that is identically zero raises ``ValueError`` naming the
    channel.
    """

    name = "rel_l2"

    def _per_sample(self, pred: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        if mask is not None:  # norms over the masked-in cells
            pred, target = _inside(pred, mask), _inside(target, mask)
        num = torch.linalg.vector_norm(pred - target, dim=self._space)
        return self._ratio(num, torch.linalg.vector_norm(target, dim=self._space))


#: Registry name -> (metric class, one-line description), for ``pdebench.metrics.register``.
FACTORIES: dict[str, tuple[type[Metric], str]] = {
    "pdebench/rmse": (PDEBenchRMSE, "PDEBench RMSE: mean over samples of sqrt(mean_x D^2)"),
    "pdebench/nrmse": (
        PDEBenchNRMSE,
        "PDEBench nRMSE: mean over samples of sqrt(mean_x D^2) / sqrt(mean_x Y^2)",
    ),
    "pdebench/crmse": (PDEBenchCRMSE, "PDEBench cRMSE: RMS over samples of the spatial-mean error"),
    "pdebench/max_error": (PDEBenchMaxError, "PDEBench max error: max over samples and space of |D|"),
    "pdebench/brmse": (PDEBenchBRMSE, "PDEBench bRMSE: RMS error on the boundary, mean over samples"),
    "pdebench/frmse_low": (PDEBenchFRMSELow, "PDEBench fRMSE, Fourier shells r in [0, 4)"),
    "pdebench/frmse_mid": (PDEBenchFRMSEMid, "PDEBench fRMSE, Fourier shells r in [4, 12)"),
    "pdebench/frmse_high": (PDEBenchFRMSEHigh, "PDEBench fRMSE, Fourier shells r in [12, R)"),
    "rel_l2": (RelL2, "Relative L2 error ||D||_2 / ||Y||_2 over space, mean over samples"),
}
