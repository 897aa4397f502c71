"""Physics-oriented metrics of a model's grid prediction, for every dataset that names an equation.

One torchmetrics class, :class:`PhysicsMetrics`, evaluates all the physics quantities a dataset's
equation supports (:class:`pdebench.physics.grid.GridPhysics` lists them and defines each:
``residual_l2/<eq>``, ``residual_rel/<eq>``, ``bc_error/<field>``, ``divergence_l2``,
``coupling_consistency``, ``conservation_error/<quantity>``). Each value is a per-sample number
(computed in float64); the metric sums them and counts samples (``dist_reduce_fx="sum"``), so DDP,
``merge_state`` and batching give the mean over every sample seen (relative metrics: the ratio of
the sums over every sample seen). ``compute()`` returns
``{name: tensor of shape (1, 1)}`` (one value, the metric contract's ``(C, T)``).

:func:`reference_floor` runs the same class over a dataset's own reference solution: the values
a generator records with its data as the dataset's physics floor, which a perfect model would
score (the discretisation level of the reference itself).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torchmetrics import Metric

from pdebench.data.meta import DatasetMeta
from pdebench.physics.equations import Equation
from pdebench.physics.grid import GridPhysics, PhysicsUnavailable

__all__ = ["PhysicsMetrics", "equation_for", "floor_from_sums", "reference_floor", "reference_sums"]


def equation_for(meta: DatasetMeta) -> Equation | None:
    """The registered equation ``meta.pde`` names (``None`` when the dataset names none).

    Raises
    ------
    pdebench.registry.UnknownNameError
        ``meta.pde`` is not a registered equation (the message lists the known ones).
    """
    if not meta.pde:
        return None
    from pdebench.registry import EQUATIONS, UnknownNameError

    try:
        return EQUATIONS.get(meta.pde).target
    except UnknownNameError as exc:
        raise UnknownNameError(f"dataset {meta.name!r} names the equation {meta.pde!r} "
                               f"(DatasetMeta.pde), which is not registered: {exc}") from None


class PhysicsMetrics(Metric):
    """Every physics metric of ``meta``'s equation, reduced as a mean over samples.

    Parameters
    ----------
    meta : DatasetMeta
        The dataset as the model sees it; ``meta.pde`` names a registered equation.
    physics : GridPhysics, optional
        A prepared evaluator (default: built from ``meta``).
    """

    full_state_update = False
    higher_is_better = False
    is_differentiable = False

    def __init__(self, meta: DatasetMeta, physics: GridPhysics | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if physics is None:
            eq = equation_for(meta)
            if eq is None:
                raise ValueError(f"dataset {meta.name!r} names no equation (DatasetMeta.pde)")
            physics = GridPhysics(eq, meta)
        self.physics = physics
        self.names = physics.names()
        self._sums = physics.sums()
        self.add_state("total", default=torch.zeros(len(self._sums), dtype=torch.float64),
                       dist_reduce_fx="sum")
        self.add_state("count", default=torch.zeros((), dtype=torch.long), dist_reduce_fx="sum")

    def update(self, pred: Tensor, target: Tensor, inputs: Tensor | None = None,
               mask: Tensor | None = None) -> None:
        """Accumulate a batch: ``pred``, ``target`` ``(batch, C, *spatial, T)``; ``inputs``
        ``(batch, C_in, *spatial)``, all in physical units.

        ``mask`` (the metric contract's geometry mask) is accepted and not used: the scored
        cells are the equation's own domain (:class:`~pdebench.physics.grid.GridPhysics`: an
        equation on a masked geometry names its mask input, ``Equation.domain``, and is
        evaluated inside it, away from its edge by the stencil margin), which the inputs carry.
        """
        values = self.physics.evaluate(pred, target, inputs)
        sums = torch.stack([values[n].sum() for n in self._sums]) if self._sums else \
            torch.zeros(0, dtype=torch.float64)
        self.total = self.total + sums.to(self.total.device)
        self.count = self.count + pred.shape[0]

    def _wrap_compute(self, compute: Callable[..., dict[str, Tensor]]
                      ) -> Callable[..., dict[str, Tensor]]:
        # torchmetrics squeezes one-element results to 0-d; keep the contract's (1, 1) shape
        wrapped = super()._wrap_compute(compute)

        @functools.wraps(compute)
        def keep_shape(*args: Any, **kwargs: Any) -> dict[str, Tensor]:
            return {n: v.reshape(1, 1) for n, v in wrapped(*args, **kwargs).items()}

        return keep_shape

    def compute(self) -> dict[str, Tensor]:
        """``{name: (1, 1) float64}``: the mean over samples (ratios of sums for the relative
        metrics, :meth:`pdebench.physics.grid.GridPhysics.reduce`)."""
        if int(self.count) == 0:
            raise ValueError("physics metrics: compute() called before any sample was seen")
        totals = {n: self.total[i] for i, n in enumerate(self._sums)}
        return {n: v.reshape(1, 1) for n, v in self.physics.reduce(totals, self.count).items()}


def reference_sums(meta: DatasetMeta, batches: Iterable[tuple[Tensor, Tensor | None]]
                   ) -> dict[str, Any]:
    """The physics metrics of a dataset's reference solution as mergeable sums.

    Parameters
    ----------
    meta : DatasetMeta
        As the model sees the data (for trajectories: one-step windows, ``history = 1``).
    batches : iterable of (target, inputs)
        ``target`` ``(batch, C_out, *spatial)``, ``inputs`` ``(batch, C_in, *spatial)``, as
        stored (float32 values).

    Returns
    -------
    dict
        ``{"count": samples, "sums": {key: float}}`` (the per-sample quantities of
        :meth:`pdebench.physics.grid.GridPhysics.sums` summed), or ``{}`` when the dataset names
        no equation or its grid cannot be scored. Records of parts of a dataset (trajectories
        written one by one) add up: :func:`floor_from_sums`.
    """
    eq = equation_for(meta)
    if eq is None:
        return {}
    try:
        metric = PhysicsMetrics(meta, GridPhysics(eq, meta))
    except PhysicsUnavailable:
        return {}
    for y, x in batches:
        y = torch.as_tensor(y)[..., None]
        metric.update(y, y, None if x is None else torch.as_tensor(x))
    if int(metric.count) == 0:
        return {}
    return {"count": int(metric.count),
            "sums": {k: float(v) for k, v in zip(metric._sums, metric.total, strict=True)}}


def floor_from_sums(meta: DatasetMeta, records: Iterable[dict[str, Any]]) -> dict[str, float]:
    """The physics floor of the samples behind ``records`` (:func:`reference_sums` of parts of
    one dataset): their sums added, then reduced as the metric reduces them."""
    records = [r for r in records if r]
    eq = equation_for(meta)
    if not records or eq is None:
        return {}
    grid = GridPhysics(eq, meta)
    keys = grid.sums()
    if any(set(r["sums"]) != set(keys) for r in records):
        raise ValueError(f"dataset {meta.name!r}: physics sums name other quantities than its "
                         f"equation gives now ({sorted(keys)})")
    totals = {k: torch.tensor(sum(r["sums"][k] for r in records), dtype=torch.float64)
              for k in keys}
    count = sum(r["count"] for r in records)
    return {k: float(v) for k, v in grid.reduce(totals, count).items()}


def reference_floor(meta: DatasetMeta, batches: Iterable[tuple[Tensor, Tensor | None]]
                    ) -> dict[str, float]:
    """The physics metrics of a dataset's own reference solution (see :func:`reference_sums`):
    ``{name: value}``, empty when the dataset names no equation or its grid cannot be scored."""
    return floor_from_sums(meta, [reference_sums(meta, batches)])
