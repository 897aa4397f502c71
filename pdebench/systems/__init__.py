"""LightningModules, one per training paradigm."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pdebench.registry import PluginAPI


def register(api: PluginAPI) -> None:
    from pdebench.systems.operator import OperatorSystem

    api.register_system("operator", OperatorSystem,
                        "supervised field-to-field learning (steady problems, one-step maps)")
