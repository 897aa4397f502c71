"""Dataset adapters and generators. Registered through the entry point ``builtin_datasets``."""

from __future__ import annotations

from pdebench.registry import PluginAPI


def register(api: PluginAPI) -> None:
    """Register the built-in datasets (their configs are ``conf/data/<name>.yaml``)."""
    from pdebench.datasets.darcy import DarcySource
    from pdebench.datasets.pdebench_files import PDEBenchDarcyFile, PDEBenchTrajectoryFile

    api.register_dataset("darcy", DarcySource,
                         "Darcy flow -div(a grad u) = beta on (0,1)^2, generated (PDEBench A.1)")
    api.register_dataset("pdebench_darcy", PDEBenchDarcyFile,
                         "PDEBench's published 2D_DarcyFlow_beta*.hdf5 file (data.path=...)")
    from pdebench.datasets import pdebench_family as fam

    for cls, desc in (
        (fam.AdvectionSource, "1D advection, periodic, exact solution (PDEBench A.2), generated"),
        (fam.BurgersSource, "1D Burgers, periodic, pseudo-spectral ETDRK4 (PDEBench A.3), generated"),
        (fam.DiffusionReactionSource,
         "2D FitzHugh-Nagumo diffusion-reaction, no-flux (PDEBench A.4), generated"),
        (fam.NavierStokesSource,
         "2D incompressible Navier-Stokes, vorticity, forced, periodic (FNO/PDEBench A.5)"),
    ):
        api.register_dataset(cls.name, cls, desc)
    from pdebench.datasets import (
        cylinder_flow,
        mtdeeponet,
        mtdeeponet_files,
        multiphysics,
        multiphysics_files,
        multiphysics_more,
        multiphysics_reduced,
        realpdebench_files,
        the_well,
    )

    for module in (mtdeeponet, multiphysics, multiphysics_more, multiphysics_reduced, cylinder_flow, the_well, realpdebench_files,
                   multiphysics_files, mtdeeponet_files):
        module.register(api)
    api.register_dataset("pdebench_file", PDEBenchTrajectoryFile,
                         "a published time-dependent PDEBench file, single-file or multi-group "
                         "(data.path=...), as one-step windows")
