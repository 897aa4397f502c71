"""Equations written once against a derivative provider, and their registry.

Each module of this package holds the equations of a family of problems (residual functions used
by the generators' self-checks) and exports ``EQUATIONS``: the
:class:`~pdebench.physics.equations.Equation` objects registered under the names
``DatasetMeta.pde`` carries (entry point ``builtin_equations``). A registered equation gives every
dataset naming it the physics metrics of :mod:`pdebench.physics.grid`, and a PINN its loss.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Modules whose ``EQUATIONS`` are registered, in order.
MODULES = ("darcy", "advection", "burgers", "diffusion_reaction", "navier_stokes", "fisher_kpp",
           "heat", "electrothermal", "multiphysics", "mhd_acoustic", "porous_convection",
           "incompressible")


def register(api: Any) -> None:
    """Register the built-in equations."""
    for module in MODULES:
        for eq in getattr(import_module(f"pdebench.physics.{module}"), "EQUATIONS", ()):
            api.register_equation(eq.name, eq, eq.description)
