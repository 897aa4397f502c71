"""Data-oriented and physics-oriented metrics (torchmetrics, DDP-safe).

Contract of every metric: built as ``factory(meta: DatasetMeta)``; ``update(pred, target,
inputs=None)`` with pred/target in physical units, layout ``(batch, C, *spatial, T)``;
``compute()`` returns a ``(C, T)`` tensor. Names follow ``<family>/<metric>`` (``pdebench/nrmse``)
for published families and ``<kind>/<equation>`` for physics metrics (``residual_l2/darcy``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pdebench.data.meta import DatasetMeta
    from pdebench.registry import PluginAPI

#: The default evaluation set: the PDEBench family plus rel_l2 (physics metrics are added for the
#: dataset's equation by :func:`select_metrics`).
DEFAULT_METRICS = (
    "pdebench/rmse", "pdebench/nrmse", "pdebench/crmse", "pdebench/max_error", "pdebench/brmse",
    "pdebench/frmse_low", "pdebench/frmse_mid", "pdebench/frmse_high", "rel_l2",
)


def register(api: PluginAPI) -> None:
    from pdebench.metrics import pdebench_family, physics

    for name, (cls, desc) in pdebench_family.FACTORIES.items():
        api.register_metric(name, cls, desc)
    for name, (cls, desc) in physics.FACTORIES.items():
        api.register_metric(name, cls, desc, pde=name.split("/", 1)[1])


def select_metrics(names: list[str] | tuple[str, ...], meta: DatasetMeta, physics: bool = True):
    """``{name: factory}`` for ``names`` plus, with ``physics``, every metric registered for the
    equation ``meta.pde``. Unknown names raise :class:`pdebench.registry.UnknownNameError` listing
    the known ones.

    Metrics that cannot be measured on the dataset (a frequency band the grid does not have: the
    metric class's ``applicable(meta)`` says why) are left out with a note on stderr.
    """
    import sys

    from pdebench.registry import METRICS

    chosen = {name: METRICS.get(name).target for name in names}
    if physics and meta.pde:
        for entry in METRICS.entries():
            if entry.extra.get("pde") == meta.pde and entry.name not in chosen:
                chosen[entry.name] = entry.target
    for name, target in list(chosen.items()):
        reason = getattr(target, "applicable", lambda m: None)(meta)
        if reason:
            print(f"pdebench: metric {name} is left out: {reason}", file=sys.stderr)
            del chosen[name]
    return chosen
