"""MHD, reduced to Shercliff's Hartmann duct (Multiphysics Bench, specs C.4), generated.

The harness-facing source; numerics in :mod:`pdebench.datasets.multiphysics_bench.mhd_solver`,
equations in :mod:`pdebench.physics.mhd_acoustic`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from pdebench.data.generated import GeneratedPairs, Progress
from pdebench.data.meta import DatasetMeta
from pdebench.datasets.numerics.validation import check_int, check_real

__all__ = ["MhdSource"]


class MhdSource(GeneratedPairs):
    """MHD duct flow, reduced to Shercliff's fully developed Hartmann problem (2D cross-section).

    Equations (:mod:`pdebench.physics.mhd_acoustic`), square duct cross-section [−1, 1]², lengths
    in units of the half-width a, imposed transverse field B₀ along y:
    Δw + Ha ∂b/∂y = −G (axial momentum), Δb + Ha ∂w/∂y = 0 (induction), with w the axial
    velocity (units G₀a²/(ρν)), b the induced axial magnetic field (scaled so both equations carry
    Ha), Ha = B₀a√(σ/(ρν)) and G = −∂p/∂z the pressure-gradient forcing. Walls: no slip w = 0,
    electrically insulating b = 0 (the Hartmann walls y = ±1 and the side walls x = ±1).
    Lorentz force (axial component of j × B₀, same units as G): F = Ha ∂b/∂y.

    Per sample: Ha uniform in [ha_min, ha_max] and a forcing map
    G = g0 (1 + Σ₁³ a_m exp(−|x − c_m|²/2s_m²)), a_m ∈ [−0.5, 1], c_m ∈ [−0.7, 0.7]²,
    s_m ∈ [0.15, 0.4] (a spatially varying body force: the harness's choice, so that the input is a
    field and the dataset an operator-learning task). Input x = (G, Ha broadcast); output
    y = (w, b, F), cell-centred.

    Numerics: finite volumes (the shared Dirichlet operator) and central ∂/∂y, one coupled sparse
    block system solved directly per sample; second order (measured ≈ 2.0 on a manufactured
    solution) and, with uniform G and zero-flux side walls (a wide duct), the classical Hartmann
    profile w = G/Ha (cosh Ha − cosh Ha y)/sinh Ha within discretisation error (tests). Grid check:
    the Hartmann layer (thickness 1/Ha) must have at least one cell, Ha_max·h ≤ 1 with
    h = 2/resolution, else ValueError. Self-check: both residuals under the shared equation code at
    round-off on every cell.

    Provenance: Multiphysics Bench (2025) generated its MHD problem as a fully coupled
    Navier–Stokes–Maxwell problem with a commercial FEM code on 128² grids. This harness keeps the
    coupling (flow ↔ induced field through the Lorentz force and induction by the flow) in its
    classical linear, fully developed form, which a direct sparse solve handles in tens of
    milliseconds, and documents the reduction; all parameter ranges are its choices. Only
    insulating walls (conducting walls would need Robin data of the wall-conductance ratio).
    Default 1000 samples of 64² (about 0.05 s each); published size ``data.resolution=128``
    (allows ``data.ha_max`` up to 64, e.g. the published-style range 1–50).

    Parameters
    ----------
    n_samples, resolution, seed : int
        Samples (default 1000), cells per side (>= 8, default 64), seed.
    ha_min, ha_max : float
        Hartmann number range (0 <= ha_min <= ha_max, ha_max * 2 / resolution <= 1).
    g0 : float
        Mean forcing (> 0, default 1).
    """

    name = "mhd"

    def __init__(self, n_samples: int = 1000, resolution: int = 64, seed: int = 0,
                 ha_min: float = 1.0, ha_max: float = 20.0, g0: float = 1.0,
                 data_dir: str | Path = ".", in_memory: bool | str = "auto") -> None:
        from pdebench.datasets.multiphysics_bench.mhd_solver import MAX_CELL_HA

        n = check_int("n_samples", n_samples, 1)
        res = check_int("resolution", resolution, 8, " (grid too coarse below that)")
        seed = check_int("seed", seed, 0)
        lo = check_real("ha_min", ha_min, nonneg=True)
        hi = check_real("ha_max", ha_max, nonneg=True)
        if hi < lo:
            raise ValueError(f"data.ha_max must be >= data.ha_min, got {hi} < {lo}")
        if hi * 2.0 / res > MAX_CELL_HA:
            raise ValueError(f"data.resolution={res} is too coarse for data.ha_max={hi:g}: the "
                             f"Hartmann layer 1/Ha needs Ha * h <= {MAX_CELL_HA:g} (h = 2 / "
                             f"resolution); raise data.resolution to >= {math.ceil(2 * hi)} or "
                             "lower data.ha_max")
        g0 = check_real("g0", g0, positive=True)
        super().__init__({"n_samples": n, "resolution": res, "seed": seed, "ha_min": lo,
                          "ha_max": hi, "g0": g0}, data_dir, in_memory)

    @property
    def physical_meta(self) -> DatasetMeta:
        r, p = self.params["resolution"], self.params
        fields = ("G", "Ha", "w", "b", "F")
        return DatasetMeta(
            name="mhd", pde="mhd_hartmann_duct", spatial_dims=2, resolution=(r, r),
            extent=((-1.0, 1.0), (-1.0, 1.0)), input_fields=("G", "Ha"),
            output_fields=("w", "b", "F"), units=dict.fromkeys(fields, "1"),
            grid="cell_centered", boundary_conditions={"w": "dirichlet_zero",
                                                       "b": "dirichlet_zero"},
            pde_params={k: p[k] for k in ("ha_min", "ha_max", "g0")},
            extra={"generated": True, "reduced_from": "Multiphysics Bench MHD (2025)",
                   "field_direction": "y", "walls": "no-slip, insulating"},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        from pdebench.datasets.multiphysics_bench.mhd_solver import generate_mhd

        p = dict(self.params)
        out = generate_mhd(p.pop("n_samples"), p.pop("resolution"), **p, progress=progress)
        return {**out, "x": np.stack([out["G"], out["Ha"]], axis=1),
                "y": np.stack([out["w"], out["b"], out["F"]], axis=1)}
