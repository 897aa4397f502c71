"""Multi-task DeepONet (Neural Networks 2025; specs/PROBLEMS.md section B): Fisher-KPP with
several reaction forms, Darcy flow on several geometries and the 3D heated plate with holes,
generated (``<problem>_solver.py``, sources in :mod:`.sources`), and readers of the published
``.npz``/``.mat`` files (:mod:`.files`)."""

from __future__ import annotations

from typing import Any


def register(api: Any) -> None:
    """Register this suite's datasets (configs ``conf/data/<name>.yaml``)."""
    from pdebench.datasets.mtdeeponet import files, sources

    api.register_dataset("fisher_kpp", sources.FisherKPPSource,
                         "Fisher-KPP, three reaction forms, periodic 1D, 64 x 20 space-time "
                         "output (MT-DeepONet B.1), generated")
    api.register_dataset("darcy_geometries", sources.DarcyGeometriesSource,
                         "Darcy -div(exp(G) grad h) = 1 on square/disc/triangle (or cross), "
                         "masked (MT-DeepONet B.2), generated")
    api.register_dataset("heated_plate", sources.HeatedPlateSource,
                         "3D steady conduction in a plate with 2-9 holes, masked voxels "
                         "(MT-DeepONet B.3), generated")
    api.register_dataset("mtdeeponet_npz", files.MTDeepONetFisherNpz,
                         "multi-task DeepONet's published Fisher-KPP .npz (data.path=...), pairs "
                         "u0, a(, beta) -> 20 frames")
    api.register_dataset("mtdeeponet_mat", files.MTDeepONetDarcyMat,
                         "multi-task DeepONet's published Darcy-geometries .mat (data.path=...), "
                         "pairs k, mask -> u")
