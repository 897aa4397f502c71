"""Data metrics of the PINN benchmarks (DeepXDE, PINNacle): joint errors over all points.

Definitions follow ``specs/METRICS.md``, family ``pinn``. Notation: prediction P, target Y, error
D = P - Y in **physical units**. A PINN is scored on a set of evaluation points of its space-time
domain, so every metric here pools the samples, the spatial points **and the frames** of the
harness layout ``(batch, C, *spatial, T)`` into one set of points:

- ``pinn/l2re``  = sqrt(mean D^2) / sqrt(mean Y^2)   (PINNacle's L2RE, DeepXDE's ``l2 relative
  error``)
- ``pinn/l1re``  = mean |D| / mean |Y|                (PINNacle's L1RE)
- ``pinn/mse``   = mean D^2
- ``pinn/mae``   = mean |D|
- ``pinn/max_error`` = max |D|

Two reductions are reported:

- **overall** (:meth:`compute_overall`, the headline number): the means and the maximum run over
  all evaluation points and all output components **jointly**. For the ratios this is *not* the
  mean of the per-field ratios (a field of large magnitude dominates the joint l2re, as in the
  published benchmarks), and ``max_error`` is the maximum over the fields;
- **per field** (``compute()``, shape ``(C, 1)``): the same formulas over that field's points
  only. The time axis is pooled with the points, hence ``T = 1`` in the ``(C, T)`` array.

Every field has the same number of points in this layout, so the joint ``mse`` and ``mae`` equal
the mean of the per-field values; the joint ``l2re``, ``l1re`` and ``max_error`` do not.

States are sums over points (float64) and maxima, reduced over batches and DDP ranks with
``dist_reduce_fx`` ``"sum"`` and ``"max"``: ``update`` on the halves of a batch, ``merge_state``
and the DDP reduction all give the value of one instance that saw every point. Batches may differ
in their number of points (scattered evaluation sets); only the channel count is fixed by the
first ``update``. :meth:`compute_overall` synchronises the states across ranks like ``compute``.

Zero targets (documented policy, no epsilon): a field whose target is identically zero at every
evaluation point has no relative error, and ``pinn/l2re`` / ``pinn/l1re`` raise ``ValueError``
at ``compute()`` naming the field (use ``pinn/mse`` or ``pinn/mae`` for such a dataset); the
values are never inf or NaN. The absolute metrics are defined for any target.

Masked domains (``update(..., mask=M)``, M bool broadcastable to the prediction, True = scored):
the evaluation points are the cells with M = 1; every sum, count and maximum runs over them only,
so a masked metric equals the unmasked one on the active cells alone. The number of points per
field is then counted per field (a mask may differ between fields). A sample whose mask has no
active cell raises ``ValueError`` (see :mod:`pdebench.metrics.pdebench_family`).

Not implemented here: PINNacle's fRMSE bands (cut-offs 5 and 13, unlike PDEBench's 4 and 12),
which would be separate names.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

from pdebench.metrics.pdebench_family import _FrameMetric, _inside

__all__ = ["FACTORIES", "PinnL1RE", "PinnL2RE", "PinnMAE", "PinnMSE", "PinnMaxError"]

_F64 = torch.float64


class _JointMetric(_FrameMetric):
    """A metric over the pooled evaluation points, per field and jointly over the fields.

    Constructed like every data metric (``Cls(meta)`` or ``Cls(spatial_dims=d,
    field_names=...)``). Subclasses name their per-point sums in :attr:`sums` (and
    :attr:`maxima`), accumulate them in ``_update`` and turn a ``(C,)`` or summed ``()`` state
    into the value in ``_value``.
    """

    #: states summed over points, each shape ``(C,)``
    sums: tuple[str, ...] = ()
    #: states maximised over points, each shape ``(C,)``
    maxima: tuple[str, ...] = ()

    def _add_states(self) -> None:
        # evaluation points per field (samples x spatial points x frames, masked-in ones only),
        # over every batch: shape (C,)
        self.add_state("points", default=torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")
        for attr in self.sums:
            self.add_state(attr, default=torch.zeros((), dtype=_F64), dist_reduce_fx="sum")
        for attr in self.maxima:
            # |D| >= 0, so 0 is a neutral element for the max
            self.add_state(attr, default=torch.zeros((), dtype=_F64), dist_reduce_fx="max")

    def _points_axes(self, x: Tensor) -> tuple[int, ...]:
        """Every axis of ``(batch, C, *spatial, T)`` except the channel axis."""
        return (0, *range(2, x.ndim))

    def _update(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        if mask is None:
            per_field = torch.full(pred.shape[1:2], pred.numel() // pred.shape[1],
                                   dtype=torch.long, device=pred.device)
        else:
            per_field = mask.sum(self._points_axes(mask)).round().long()
            pred, target = _inside(pred, mask), _inside(target, mask)  # D = Y = 0 outside
        self._accumulate("points", per_field)
        self._accumulate_points(pred, target)

    def _accumulate_points(self, pred: Tensor, target: Tensor) -> None:
        """Add the sums (maxima) over the points of ``pred`` and ``target``, zero outside the
        mask (a zero contributes nothing to a sum, nor to a maximum of ``|D| >= 0``)."""
        raise NotImplementedError

    def _value(self, state: dict[str, Tensor], points: Tensor) -> Tensor:
        """The metric from states of one field (``(C,)``) or of all fields (summed, ``()``).

        ``points`` is the number of points the states cover (per field ``(C,)``, or their sum
        jointly).
        """
        raise NotImplementedError

    def _state(self, joint: bool) -> tuple[dict[str, Tensor], Tensor]:
        """The states per field (``(C,)`` each), or reduced over the fields (``()`` each), and
        the number of points they cover."""
        state = {a: getattr(self, a) for a in (*self.sums, *self.maxima)}
        points = self.points.to(_F64)
        if joint:
            state = {a: v.sum() if a in self.sums else v.amax() for a, v in state.items()}
            points = points.sum()
        return state, points

    def compute(self) -> Tensor:
        """Per field: the metric over that field's points, shape ``(C, 1)``."""
        self._require_data()
        state, points = self._state(joint=False)
        return self._value(state, points).reshape(-1, 1)

    def compute_overall(self) -> Tensor:
        """Jointly over all points and fields: the headline value, a 0-d float64 tensor.

        Synchronises the states across DDP ranks (like ``compute``) and restores the local ones
        afterwards.
        """
        self._require_data()
        synced = self._is_synced
        with self.sync_context(dist_sync_fn=self.dist_sync_fn,
                               should_sync=self._to_sync and not synced,
                               should_unsync=self._should_unsync and not synced):
            state, points = self._state(joint=True)
        return self._value(state, points).reshape(()).clone()

    def _relative(self, num: Tensor, den: Tensor) -> Tensor:
        """``num / den``; a zero ``den`` (a target identically zero) raises ``ValueError``."""
        zero = den == 0
        if bool(zero.any()):
            where = (f"the target of {self._channel(int(zero.nonzero()[0]))}"
                     if den.ndim else "the target of every field")
            raise ValueError(
                f"{self.name}: {where} is identically zero at every evaluation point, so the "
                "relative error is undefined; use an absolute metric (pinn/mse, pinn/mae)"
            )
        return num / den


class PinnL2RE(_JointMetric):
    """Relative L2 error of the PINN benchmarks, ``pinn/l2re``.

    ``l2re = sqrt(sum D^2) / sqrt(sum Y^2)`` over the evaluation points (= sqrt(mean D^2) /
    sqrt(mean Y^2)); per field over its points, overall over all points and fields jointly (a
    ratio of sums, not a mean of per-field ratios). Dimensionless; invariant under a common
    rescaling of P and Y. Reproduces PINNacle's L2RE and DeepXDE's ``l2 relative error`` on the
    stacked output. A zero target raises ``ValueError`` (see the module docstring).
    """

    name = "pinn/l2re"
    sums = ("sum_d2", "sum_y2")

    def _accumulate_points(self, pred: Tensor, target: Tensor) -> None:
        axes = self._points_axes(pred)
        self._accumulate("sum_d2", (pred - target).square().sum(axes))
        self._accumulate("sum_y2", target.square().sum(axes))

    def _value(self, state: dict[str, Tensor], points: Tensor) -> Tensor:
        return self._relative(state["sum_d2"], state["sum_y2"]).sqrt()


class PinnL1RE(_JointMetric):
    """Relative L1 error of the PINN benchmarks, ``pinn/l1re``.

    ``l1re = sum |D| / sum |Y|`` over the evaluation points (= mean |D| / mean |Y|); per field
    and jointly, like :class:`PinnL2RE`. Dimensionless. Reproduces PINNacle's L1RE. A zero
    target raises ``ValueError`` (see the module docstring).
    """

    name = "pinn/l1re"
    sums = ("sum_abs_d", "sum_abs_y")

    def _accumulate_points(self, pred: Tensor, target: Tensor) -> None:
        axes = self._points_axes(pred)
        self._accumulate("sum_abs_d", (pred - target).abs().sum(axes))
        self._accumulate("sum_abs_y", target.abs().sum(axes))

    def _value(self, state: dict[str, Tensor], points: Tensor) -> Tensor:
        return self._relative(state["sum_abs_d"], state["sum_abs_y"])


class PinnMSE(_JointMetric):
    """Mean squared error over the evaluation points, ``pinn/mse``.

    ``mse = sum D^2 / number of points``; per field over its points, overall over all points and
    fields (equal to the mean of the per-field values, every field having the same points).
    Units: those of the field, squared (overall: mixed units when the fields differ).
    """

    name = "pinn/mse"
    sums = ("sum_d2",)

    def _accumulate_points(self, pred: Tensor, target: Tensor) -> None:
        self._accumulate("sum_d2", (pred - target).square().sum(self._points_axes(pred)))

    def _value(self, state: dict[str, Tensor], points: Tensor) -> Tensor:
        return state["sum_d2"] / points


class PinnMAE(_JointMetric):
    """Mean absolute error over the evaluation points, ``pinn/mae``.

    ``mae = sum |D| / number of points``; per field and jointly, like :class:`PinnMSE`. Units:
    those of the field.
    """

    name = "pinn/mae"
    sums = ("sum_abs_d",)

    def _accumulate_points(self, pred: Tensor, target: Tensor) -> None:
        self._accumulate("sum_abs_d", (pred - target).abs().sum(self._points_axes(pred)))

    def _value(self, state: dict[str, Tensor], points: Tensor) -> Tensor:
        return state["sum_abs_d"] / points


class PinnMaxError(_JointMetric):
    """Maximum absolute error over the evaluation points, ``pinn/max_error``.

    ``max_error = max |D|`` per field over its points; overall the maximum over all points and
    fields (not the mean of the per-field maxima). DDP reduction ``"max"``. Units: those of the
    field.
    """

    name = "pinn/max_error"
    maxima = ("max_abs_d",)

    def _accumulate_points(self, pred: Tensor, target: Tensor) -> None:
        per_field = (pred - target).abs().amax(self._points_axes(pred))
        self._accumulate("max_abs_d", per_field, op="max")

    def _value(self, state: dict[str, Tensor], points: Tensor) -> Tensor:
        return state["max_abs_d"]


#: Registry name -> (metric class, one-line description), for ``pdebench.metrics.register``.
FACTORIES: dict[str, tuple[type[Metric], str]] = {
    "pinn/l2re": (PinnL2RE, "PINN relative L2 error sqrt(mean D^2)/sqrt(mean Y^2), all points"),
    "pinn/l1re": (PinnL1RE, "PINN relative L1 error mean|D| / mean|Y| over all points"),
    "pinn/mse": (PinnMSE, "PINN mean squared error over all evaluation points"),
    "pinn/mae": (PinnMAE, "PINN mean absolute error over all evaluation points"),
    "pinn/max_error": (PinnMaxError, "PINN maximum absolute error over all evaluation points"),
}

