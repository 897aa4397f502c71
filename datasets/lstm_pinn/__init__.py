"""LSTM-PINN (2026; specs/PROBLEMS.md section C, last part): steady five-field electrothermal
transport in four regimes, manufactured solutions (:mod:`.electrothermal_solver`, source in
:mod:`.electrothermal`)."""

from __future__ import annotations

from typing import Any


def register(api: Any) -> None:
    """Register this suite's datasets (configs ``conf/data/<name>.yaml``)."""
    from pdebench.datasets.lstm_pinn import electrothermal

    api.register_dataset("electrothermal", electrothermal.ElectrothermalSource,
                         "steady five-field electrothermal transport (u, v, p, phi, T), "
                         "manufactured solutions, regimes 1-4 (LSTM-PINN family)")
