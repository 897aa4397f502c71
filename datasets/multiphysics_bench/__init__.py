"""Multiphysics Bench (2025; specs/PROBLEMS.md section C): its six coupled problems under the
publication's own names (TE_heat, NS_heat, E_flow, MHD, VA, Elder), generated in reduced form by
the harness's solvers (``<problem>_solver.py``, sources in ``<problem>.py``), and readers of the
published ``.pt``/``.npy``/``.mat`` files (:mod:`.files`)."""

from __future__ import annotations

from typing import Any


def register(api: Any) -> None:
    """Register this suite's datasets (configs ``conf/data/<name>.yaml``)."""
    from pdebench.datasets.multiphysics_bench import e_flow, elder, files, mhd, ns_heat, te_heat, va

    api.register_dataset("te_heat", te_heat.TEHeatSource,
                         "TE_heat: E_z scattering by a heated Arrhenius semiconductor ellipse, "
                         "Picard coupled (Multiphysics Bench), generated")
    api.register_dataset("ns_heat", ns_heat.NSHeatSource,
                         "NS_heat: steady Boussinesq convection around a heated disc in a cavity "
                         "with cold side walls (Multiphysics Bench), generated")
    api.register_dataset("e_flow", e_flow.EFlowSource,
                         "E_flow: electro-osmotic Darcy flow around a Gaussian conductivity bump "
                         "(Multiphysics Bench), generated")
    api.register_dataset("mhd", mhd.MhdSource,
                         "MHD: Hartmann duct flow (w, b, Lorentz force) from a forcing map and Ha, "
                         "reduced (Multiphysics Bench), generated")
    api.register_dataset("va", va.VASource,
                         "VA: time-harmonic acoustics in a variable-density medium around a rigid "
                         "disc, reduced vibro-acoustics (Multiphysics Bench), generated")
    api.register_dataset("elder", elder.ElderSource,
                         "Elder problem: salt-driven porous convection, stream function + "
                         "advection-diffusion, 11 frames (Multiphysics Bench), generated")
    api.register_dataset("multiphysics_pt", files.MultiphysicsPtFile,
                         "a published Multiphysics Bench {problem}_{train|test}_128.pt dict "
                         "(data.path=...), steady pairs")
    api.register_dataset("multiphysics_npy", files.MultiphysicsNpyDir,
                         "a folder of Multiphysics Bench merge_{id}.npy arrays (data.root=..., "
                         "data.n_inputs=...), steady pairs")
    api.register_dataset("multiphysics_mat", files.MultiphysicsMatDir,
                         "a folder of Multiphysics Bench .mat files with export_<field> "
                         "variables (data.root=..., data.inputs/outputs=[...]), steady pairs")
