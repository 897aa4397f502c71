"""Training paradigms: one :class:`~pdebench.systems.base.System` (a LightningModule on the
contract ``run.py`` relies on) per paradigm, registered through the entry point
``builtin_systems``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pdebench.registry import PluginAPI


def register(api: PluginAPI) -> None:
    """Register the built-in systems (configs ``conf/system/<name>.yaml``)."""
    from pdebench.systems.multitask import MultiTaskSystem
    from pdebench.systems.operator import OperatorSystem
    from pdebench.systems.pinn import PINNSystem
    from pdebench.systems.rollout import RolloutSystem

    api.register_system("operator", OperatorSystem,
                        "supervised field-to-field learning (steady problems, one-step maps)")
    api.register_system("pinn", PINNSystem,
                        "physics-informed solve of one problem instance (data.instance) from its "
                        "registered equation")
    api.register_system("multitask", MultiTaskSystem,
                        "several tasks (datasets.<task>=...) training one shared model; metrics "
                        "per task and their mean")
    api.register_system("rollout", RolloutSystem,
                        "autoregressive time stepping: data.history frames in, system.n_out "
                        "out; evaluated by rollout to the end of each trajectory")
