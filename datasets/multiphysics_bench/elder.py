"""Elder problem (Multiphysics Bench, specs C.6), generated and cached as trajectories.

The harness-facing source; numerics in :mod:`pdebench.datasets.multiphysics_bench.elder_solver`,
equations in :mod:`pdebench.physics.porous_convection`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pdebench.data.generated import GeneratedTrajectories, Progress
from pdebench.data.meta import DatasetMeta
from pdebench.datasets.numerics.validation import check_int, check_real

__all__ = ["ElderSource"]


class ElderSource(GeneratedTrajectories):
    """Elder problem: salt-driven convection in a porous box (Multiphysics Bench C.6), generated.

    Dimensionless Boussinesq Darcy flow (:mod:`pdebench.physics.porous_convection`): lengths in
    units of the box height H, time in φH²/D, velocity in D/H; stream function
    u = ψ_y, v = −ψ_x with Δψ = Ra c_x, ψ = 0 on all walls (no flow); c_t + u·∇c = Δc.
    Ra = kρ₀βgH/(μD); classical Elder Ra = 400 (``rayleigh``).

    Domain: the right half of the 4:1 Elder box by symmetry, x ∈ [0, 2], y ∈ [0, 1]; x = 0 is the
    outer wall, x = 2 the symmetry plane (both: no flow, no salt flux). Salt c = 1 on the top for
    x ≥ 2 − L_s (classical L_s = 1: the middle half of the full top), no flux on the rest of the
    top, c = 0 on the bottom; c = 0 initially.

    Per sample (seeded): Ra uniform in ``rayleigh`` · [1 − s, 1 + s] (s = ``rayleigh_spread``,
    default 0.5: Ra ∈ [200, 600]) and L_s uniform in [``source_min``, ``source_max``] = [0.5, 1.5].
    Stored trajectories ``u`` (N, T, 3, 2n, n) with channels c, u, v (cell centres), ``t`` (T,)
    uniform on [0, ``t_end``], and per trajectory the constant parameter maps ``constants``
    (N, 2, 2n, n): ra (Ra broadcast) and source (1 on the columns under the salt source, 0
    elsewhere). The model sees one-step windows: c, u, v of ``history`` frames plus ra and source
    in, the next c, u, v out (the constant maps are inputs only, never predicted or scored).

    Numerics (:mod:`pdebench.datasets.multiphysics_bench.elder_solver`): ψ at vertices (5-point, prefactored SuperLU),
    face velocities discretely divergence-free, flux-form central finite volumes for c (second
    order; measured 2.0 on a manufactured solution, as is the ψ solve), Heun RK2 with
    dt = min(``dt``, ``cfl`` h/max|u|); ``dt`` above the explicit diffusion limit h²/4 or ``cfl``
    outside (0, 1] is a ValueError before any work, a diverging c a RuntimeError naming the step.
    Self-check: the shared equations with finite differences on interior cells (curl of Darcy's
    law and the transport equation with the scheme's c_t), relative RMS stored in ``residual``.
    Physics metrics: the registered equation ``elder``
    (:data:`pdebench.physics.porous_convection.ELDER`).

    Provenance: Multiphysics Bench (2025) solved the Elder problem with a commercial FEM code and
    published 11 frames per sample; the half-box symmetry, the stream-function formulation, the
    scaling, the parameter ranges and the time span (default t_end = 0.2; the mapping of the
    published span onto this time unit is not stated in reachable form) are this harness's
    choices. Default 80 samples of 64 × 32 cells, 11 frames (about 0.5 s per sample, 40 s).

    Parameters
    ----------
    n_samples, resolution, n_frames, seed : int
        Samples (80), cells along the height n (>= 8; the grid is 2n × n; default 32), frames
        (>= 2, default 11), seed.
    t_end, rayleigh, rayleigh_spread : float
        Final time (> 0, 0.2), centre Rayleigh number (> 0, 400), relative spread ([0, 1), 0.5).
    source_min, source_max : float
        Range of the source length L_s (0 < min <= max <= 2).
    dt, cfl : float
        Largest time step (default ``null``: 0.2 h²) and advective CFL number (0.5).
    history, stride : int
        One-step window shape (:class:`~pdebench.data.generated.GeneratedTrajectories`).
    """

    name = "elder"
    version = 3  # 3: the store records the physics floor of the registered "elder" equation

    def __init__(self, n_samples: int = 80, resolution: int = 32, n_frames: int = 11,
                 t_end: float = 0.2, rayleigh: float = 400.0, rayleigh_spread: float = 0.5,
                 source_min: float = 0.5, source_max: float = 1.5, dt: float | None = None,
                 cfl: float = 0.5, seed: int = 0, data_dir: str | Path = ".",
                 in_memory: bool | str = "auto", history: int = 1, stride: int = 1) -> None:
        from pdebench.datasets.multiphysics_bench.elder_solver import check_time_step

        p = {"n_samples": check_int("n_samples", n_samples, 1),
             "resolution": check_int("resolution", resolution, 8, " (cells along the height)"),
             "n_frames": check_int("n_frames", n_frames, 2), "t_end": check_real("t_end", t_end, positive=True),
             "rayleigh": check_real("rayleigh", rayleigh, positive=True),
             "rayleigh_spread": check_real("rayleigh_spread", rayleigh_spread, nonneg=True),
             "source_min": check_real("source_min", source_min, positive=True),
             "source_max": check_real("source_max", source_max, positive=True), "cfl": float(cfl),
             "seed": check_int("seed", seed, 0)}
        if p["rayleigh_spread"] >= 1:
            raise ValueError(f"data.rayleigh_spread must be in [0, 1), got {rayleigh_spread!r}")
        if not p["source_min"] <= p["source_max"] <= 2.0:
            raise ValueError(f"data.source_min <= data.source_max <= 2 (half-box width) needed, "
                             f"got {source_min!r}, {source_max!r}")
        h = 1.0 / p["resolution"]
        if dt is not None:
            p["dt"] = check_real("dt", dt, positive=True)
        check_time_step(p.get("dt", 0.2 * h * h), p["cfl"], h)
        super().__init__(p, data_dir, in_memory, history, stride)

    @property
    def physical_meta(self) -> DatasetMeta:
        p = self.params
        n = p["resolution"]
        fields, constant = ("c", "u", "v"), ("ra", "source")
        return DatasetMeta(
            name="elder", pde="elder", spatial_dims=2, resolution=(2 * n, n),
            extent=((0.0, 2.0), (0.0, 1.0)), input_fields=fields + constant,
            output_fields=fields, units=dict.fromkeys(fields + constant, "1"),
            grid="cell_centered", constant_fields=constant,
            time={"n_frames": p["n_frames"], "t_end": p["t_end"],
                  "dt": p["t_end"] / (p["n_frames"] - 1)},
            boundary_conditions={"c": "dirichlet_one_top_source_zero_bottom_else_neumann_zero",
                                 "u": "dirichlet_zero_x_walls", "v": "dirichlet_zero_y_walls"},
            pde_params={k: p[k] for k in ("rayleigh", "rayleigh_spread", "source_min",
                                          "source_max")},
            extra={"generated": True, "half_box": "x in [0, 2], symmetry plane at x = 2"},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        from pdebench.datasets.multiphysics_bench.elder_solver import generate_elder

        return generate_elder(**self.params, progress=progress)
