"""Datasets: one subpackage per suite a problem comes from. Registered through the entry point
``builtin_datasets`` (the mechanism a plugin uses).

Each suite folder holds its generators (``<problem>_solver.py``: numerics that import nothing
from the harness but the shared equation code of :mod:`pdebench.physics`), the harness-facing
sources the configs name (``sources.py`` or ``<problem>.py``), and the readers of that suite's
published files (``files.py``). What generators share lives in :mod:`.numerics`; the generic
plumbing of file formats in :mod:`pdebench.data`.
"""

from __future__ import annotations

from typing import Any

#: Suites, in the order ``pdebench list datasets`` shows their members.
SUITES = ("pdebench_suite", "the_well", "mtdeeponet", "multiphysics_bench", "lstm_pinn",
          "realpdebench")

#: Names earlier releases used -> the current name (the publication's own problem name).
RENAMED = {
    "electro_thermal": "te_heat",
    "natural_convection": "ns_heat",
    "electro_osmotic": "e_flow",
    "acoustic_structure": "va",
}


def register(api: Any) -> None:
    """Register every suite's datasets, and the renamed names (which fail naming the new one)."""
    from importlib import import_module

    for suite in SUITES:
        import_module(f"pdebench.datasets.{suite}").register(api)
    for old, new in RENAMED.items():
        api.rename_dataset(old, new)
