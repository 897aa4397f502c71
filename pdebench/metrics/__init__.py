"""Data-oriented and physics-oriented metrics (torchmetrics, DDP-safe).

Contract of every metric: built as ``factory(meta: DatasetMeta)``; ``update(pred, target,
inputs=None, mask=None)`` with pred/target in physical units, layout ``(batch, C, *spatial, T)``,
``inputs`` the model inputs ``(batch, C_in, *spatial)`` and ``mask`` ``None`` or a bool tensor
broadcastable to pred's layout (typically ``(batch, 1, *spatial, 1)``), True where a cell is
scored: on a dataset with geometry masks (``DatasetMeta.masks``) spatial means become means over
the masked-in cells, maxima maxima over them, spectra those of the error zeroed outside, and a
sample with no active cell raises ``ValueError``
(:class:`~pdebench.metrics.collection.FieldMetrics` derives the mask from ``inputs`` and refuses
a metric whose ``update`` takes no ``mask`` on such a dataset); ``compute()`` returns a
``(C, T)`` tensor (or, for a metric reporting several names, a mapping
name -> ``(C, T)`` tensor and a ``names`` attribute listing them). The overall (headline) value
is the mean of that array; a metric defined jointly over all fields (a ratio of sums, a maximum:
family ``pinn``) also defines ``compute_overall()`` returning that value (a 0-d tensor, or a
mapping name -> value), which :class:`~pdebench.metrics.collection.FieldMetrics` reports
instead, while the ``(C, T)`` array still gives the per-field values. Names follow
``<family>/<metric>`` (``pdebench/nrmse``) for published families and ``<kind>/<equation>`` for
physics metrics (``residual_l2/darcy``), which exist for every dataset whose ``DatasetMeta.pde``
names a registered equation (:mod:`pdebench.metrics.physics`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pdebench.data.meta import DatasetMeta
    from pdebench.registry import PluginAPI

#: The default evaluation set: the PDEBench family plus rel_l2 (the physics metrics of the
#: dataset's equation are added by :func:`select_metrics`).
DEFAULT_METRICS = (
    "pdebench/rmse", "pdebench/nrmse", "pdebench/crmse", "pdebench/max_error", "pdebench/brmse",
    "pdebench/frmse_low", "pdebench/frmse_mid", "pdebench/frmse_high", "rel_l2",
)


def register(api: PluginAPI) -> None:
    """Register the built-in data metrics (entry point ``builtin_metrics``)."""
    from pdebench.metrics import pdebench_family, pinn_family, well_family

    for family in (pdebench_family, pinn_family, well_family):
        for name, (cls, desc) in family.FACTORIES.items():
            api.register_metric(name, cls, desc)


def select_metrics(names: list[str] | tuple[str, ...], meta: DatasetMeta,
                   physics: bool = True) -> dict[str, Any]:
    """``{name: factory}`` for the data metrics ``names`` plus, with ``physics``, one entry
    ``physics/<equation>`` evaluating every physics metric of ``meta.pde``'s equation.

    Unknown metric names raise :class:`pdebench.registry.UnknownNameError` listing the known
    ones, as does an equation name that is not registered. Metrics that cannot be measured on
    the dataset (a frequency band the grid does not have, an equation parameter the dataset
    lacks) are left out with a note on stderr.
    """
    from pdebench.metrics.physics import PhysicsMetrics, equation_for
    from pdebench.physics.grid import GridPhysics, PhysicsUnavailable
    from pdebench.registry import METRICS

    chosen: dict[str, Any] = {name: METRICS.get(name).target for name in names}
    for name, target in list(chosen.items()):
        reason = getattr(target, "applicable", lambda m: None)(meta)
        if reason:
            print(f"pdebench: metric {name} is left out: {reason}", file=sys.stderr)
            del chosen[name]
    eq = equation_for(meta)  # an unregistered equation name fails here, physics or not
    if physics and eq is not None:
        try:
            grid = GridPhysics(eq, meta)
        except PhysicsUnavailable as exc:
            print(f"pdebench: physics metrics are left out: {exc}", file=sys.stderr)
        else:
            if grid.names():
                chosen[f"physics/{eq.name}"] = lambda m, g=grid: PhysicsMetrics(m, g)
    return chosen
