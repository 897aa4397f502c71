"""RealPDEBench (ICLR 2026; specs/PROBLEMS.md section D): paired simulated and emulated-measured
flows past a cylinder in the published per-trajectory layout (solver :mod:`.cylinder_solver`,
measurement model :mod:`.measurement_model`, sources in :mod:`.cylinder`), and the reader of the
published files (:mod:`.files`)."""

from __future__ import annotations

from typing import Any


def register(api: Any) -> None:
    """Register this suite's datasets (configs ``conf/data/<name>.yaml``)."""
    from pdebench.datasets.realpdebench import cylinder, files

    api.register_dataset("cylinder_sim", cylinder.CylinderSimSource,
                         "flow past a cylinder, simulated side (u, v, p), RealPDEBench layout")
    api.register_dataset("cylinder_real", cylinder.CylinderRealSource,
                         "flow past a cylinder, emulated PIV measurements (u, v), RealPDEBench "
                         "layout; not real data")
    api.register_dataset("realpdebench", files.RealPDEBenchFiles,
                         "RealPDEBench published trajectories of one scenario, real or "
                         "numerical (data.root=..., data.scenario=...), as one-step windows")
