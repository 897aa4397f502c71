"""NS_heat: natural convection around a heated disc (Multiphysics Bench, specs C.2), generated.

The harness-facing source; numerics in :mod:`pdebench.datasets.multiphysics_bench.ns_heat_solver`,
equations in :mod:`pdebench.physics.porous_convection`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pdebench.data.generated import GeneratedPairs, Progress
from pdebench.data.meta import DatasetMeta
from pdebench.datasets.numerics.validation import check_int, check_real

__all__ = ["NSHeatSource"]


class NSHeatSource(GeneratedPairs):
    """Natural convection around a heated disc in a square cavity (Multiphysics Bench C.2).

    Steady dimensionless Boussinesq flow (:mod:`pdebench.physics.porous_convection`), lengths in
    units of the side L, velocity in κ/L: u·∇u = −∇p + Pr Δu + Ra Pr T ê_y, ∇·u = 0,
    u·∇T = ΔT + q; no slip on all walls, cold side walls T = 0 at x = 0, 1, adiabatic top and
    bottom. q = heat rate inside a disc (smoothed over one cell), 0 outside.

    Per sample (seeded): Ra log-uniform in [``ra_min``, ``ra_max``] = [1e3, 1e4], disc centre
    uniform in [0.3, 0.7]², radius in [0.08, 0.15], heat rate in [``rate_min``, ``rate_max``] =
    [10, 30]; Pr fixed (0.71, air). Input x = (q, disc mask, Ra broadcast); output y = (u, v, T),
    on the n × n vertex grid including the walls.

    Numerics (:mod:`pdebench.datasets.multiphysics_bench.ns_heat_solver`): stream function–vorticity,
    central differences (second order; measured 2.0 on manufactured Poisson and heat sub-steps),
    Thom's wall vorticity, implicit pseudo-time marching (coupled sparse LU per iteration, lagged
    advecting velocity, pseudo-time step ``dtau`` grown as the residual falls) until the
    relative steady residual is below ``tol`` (else RuntimeError naming the iteration and the
    residual). Self-check: the steady residuals under the shared equations (finite differences,
    interior nodes) stored in ``residual``. Physics metrics: the registered equation ``ns_heat``
    (:data:`pdebench.physics.porous_convection.NS_HEAT`).

    Provenance: Multiphysics Bench (2025) solved this with a commercial FEM code on 128² grids;
    the formulation, scaling, boundary details and parameter ranges here are this harness's
    choices. Default 50 samples of 64² (about 1 s each, 12 pseudo-time iterations on average, so
    about a minute; fewer than the other generators because each sample is a nonlinear steady
    solve), ``data.resolution=128`` for the published size (several times slower per sample).

    Parameters
    ----------
    n_samples, resolution, seed : int
        Samples (50), nodes per side (>= 9, default 64), seed.
    ra_min, ra_max, pr : float
        Rayleigh number range (0 < min <= max <= 1e5) and Prandtl number (> 0).
    rate_min, rate_max : float
        Heat-rate range of the disc (0 < min <= max).
    dtau, tol : float
        Initial pseudo-time step (> 0, 0.05) and steady residual tolerance (> 0, 1e-6).
    max_iter : int
        Pseudo-time iteration limit (>= 1, 200).
    """

    name = "ns_heat"
    version = 2  # 2: the store records the physics floor of the registered "ns_heat" equation

    def __init__(self, n_samples: int = 50, resolution: int = 64, ra_min: float = 1e3,
                 ra_max: float = 1e4, pr: float = 0.71, rate_min: float = 10.0,
                 rate_max: float = 30.0, dtau: float = 0.05, tol: float = 1e-6,
                 max_iter: int = 200, seed: int = 0, data_dir: str | Path = ".",
                 in_memory: bool | str = "auto") -> None:
        p = {"n_samples": check_int("n_samples", n_samples, 1),
             "resolution": check_int("resolution", resolution, 9, " (nodes per side)"),
             "ra_min": check_real("ra_min", ra_min, positive=True), "ra_max": check_real("ra_max", ra_max, positive=True),
             "pr": check_real("pr", pr, positive=True), "rate_min": check_real("rate_min", rate_min, positive=True),
             "rate_max": check_real("rate_max", rate_max, positive=True), "dtau": check_real("dtau", dtau, positive=True),
             "tol": check_real("tol", tol, positive=True), "max_iter": check_int("max_iter", max_iter, 1),
             "seed": check_int("seed", seed, 0)}
        if not p["ra_min"] <= p["ra_max"] <= 1e5:
            raise ValueError(f"data.ra_min <= data.ra_max <= 1e5 needed (steady laminar regime),"
                             f" got {ra_min!r}, {ra_max!r}")
        if p["rate_min"] > p["rate_max"]:
            raise ValueError(f"data.rate_min <= data.rate_max needed, got {rate_min!r}, "
                             f"{rate_max!r}")
        super().__init__(p, data_dir, in_memory)

    @property
    def physical_meta(self) -> DatasetMeta:
        p, n = self.params, self.params["resolution"]
        ins, outs = ("q", "disc", "ra"), ("u", "v", "T")
        return DatasetMeta(
            name="ns_heat", pde="ns_heat", spatial_dims=2,
            resolution=(n, n), extent=((0.0, 1.0), (0.0, 1.0)), input_fields=ins,
            output_fields=outs, units=dict.fromkeys((*ins, *outs), "1"), grid="vertex",
            boundary_conditions={"u": "dirichlet_zero", "v": "dirichlet_zero",
                                 "T": "dirichlet_zero_x_neumann_y"},
            pde_params={k: p[k] for k in ("ra_min", "ra_max", "pr", "rate_min", "rate_max")},
            extra={"generated": True},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        from pdebench.datasets.multiphysics_bench.ns_heat_solver import generate_natural_convection

        return generate_natural_convection(**self.params, progress=progress)
