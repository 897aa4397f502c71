"""E_flow: electro-osmotic flow in a porous medium (Multiphysics Bench, specs C.3), generated.

The harness-facing source; numerics in :mod:`pdebench.datasets.multiphysics_bench.e_flow_solver`,
equations in :mod:`pdebench.physics.multiphysics`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pdebench.data.generated import GeneratedPairs, Progress
from pdebench.data.meta import DatasetMeta
from pdebench.datasets.numerics.validation import check_int, check_real, check_seed

__all__ = ["EFlowSource"]


class EFlowSource(GeneratedPairs):
    """Electro-osmotic flow in a porous medium (Multiphysics Bench problem), generated.

    Equations (unit square, dimensionless; :mod:`pdebench.physics.multiphysics`):
    ∇·(κ∇V) = 0 with V = v_applied at x = 0, V = 0 at x = 1, ∂ₙV = 0 at y = 0, 1; then Darcy +
    electro-osmosis u = −k_p∇p + k_V∇V, ∇·u = 0, i.e. ∇·(k_p∇p) = ∇·(k_V∇V), p = dp at x = 0,
    p = 0 at x = 1, no flow through y = 0, 1.

    Per sample a Gaussian bump g (centre in [0.25, 0.75]², width 0.05–0.15) scales the
    conductivity κ = κ₀(1 + a_κ g), a_κ ∈ [1, 4], and the permeability k_p = k_p₀(1 + a_p g),
    a_p ∈ [−0.8, 2] (harness's choice: with uniform k_p and k_V the flow would be uniform). Input
    x = (kappa, k_p); output y = (V, u, v) at cell centres. Numerics: cell-centred finite volumes
    with harmonic-mean faces (second order, measured 2.00 on a manufactured solution), sparse
    direct solves; face velocities are divergence-free to round-off, cell velocities are face
    averages. Self-check: conduction residual on interior cells at round-off, continuity of the
    cell velocities O(h²).

    Provenance: Multiphysics Bench (2025) solved this with a commercial FEM code on 128² grids;
    the boundary conditions, bump law and parameter values here are this harness's choices.
    Default 1000 samples of 64² (about 25 s); ``data.resolution=128`` for the published size.

    Parameters
    ----------
    n_samples, resolution, seed : int
        Samples (default 1000), cells per side (>= 16), seed.
    kappa0, k_p0, k_v : float
        Background conductivity, permeability and electro-osmotic mobility (> 0; default 1).
    v_applied, dp : float
        Applied potential and pressure difference between x = 0 and x = 1 (default 1, 0).
    """

    name = "e_flow"

    def __init__(self, n_samples: int = 1000, resolution: int = 64, seed: int = 0,
                 kappa0: float = 1.0, k_p0: float = 1.0, k_v: float = 1.0,
                 v_applied: float = 1.0, dp: float = 0.0, data_dir: str | Path = ".",
                 in_memory: bool | str = "auto") -> None:
        n, res = check_int("n_samples", n_samples, 1), check_int("resolution", resolution, 16, " (grid too coarse below that)")
        seed = check_seed(seed)
        vals = {k: check_real(k, v, positive=True)
                for k, v in {"kappa0": kappa0, "k_p0": k_p0, "k_v": k_v}.items()}
        vals.update(v_applied=check_real("v_applied", v_applied), dp=check_real("dp", dp))
        super().__init__({"n_samples": n, "resolution": res, "seed": int(seed), **vals},
                         data_dir, in_memory)

    @property
    def physical_meta(self) -> DatasetMeta:
        r, p = self.params["resolution"], self.params
        return DatasetMeta(
            name="e_flow", pde="e_flow", spatial_dims=2, resolution=(r, r),
            extent=((0.0, 1.0), (0.0, 1.0)), input_fields=("kappa", "k_p"),
            output_fields=("V", "u", "v"), units=dict.fromkeys(("kappa", "k_p", "V", "u", "v"),
                                                               "1"),
            grid="cell_centered",
            boundary_conditions={"V": "dirichlet_x_neumann_y", "p": "dirichlet_x_neumann_y",
                                 "v": "dirichlet_zero_y"},
            pde_params={k: p[k] for k in ("kappa0", "k_p0", "k_v", "v_applied", "dp")},
            extra={"generated": True},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        import numpy as np

        from pdebench.datasets.multiphysics_bench.e_flow_solver import generate_electro_osmotic

        p = dict(self.params)
        out = generate_electro_osmotic(p.pop("n_samples"), p.pop("resolution"), **p,
                                       progress=progress)
        return {**out, "x": np.stack([out["kappa"], out["k_p"]], axis=1),
                "y": np.stack([out["V"], out["u"], out["v"]], axis=1)}
