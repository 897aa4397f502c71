"""Multiphysics Bench problems C.2 (natural convection) and C.6 (Elder), generated and cached.

Thin source classes: parameters are validated in the constructor (before any work); the numerics
live in :mod:`pdebench.datasets.mp_elder` and :mod:`pdebench.datasets.mp_natural_convection`, the
equations in :mod:`pdebench.physics.porous_convection`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pdebench.data.generated import GeneratedPairs, GeneratedTrajectories, Progress
from pdebench.data.meta import DatasetMeta

__all__ = ["ElderSource", "NaturalConvectionSource", "register"]


def _int(name: str, value: Any, minimum: int, why: str = "") -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < minimum:
        raise ValueError(f"data.{name} must be an int >= {minimum}{why}, got {value!r}")
    return int(value)


def _pos(name: str, value: Any, nonneg: bool = False) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not nonneg):
        raise ValueError(f"data.{name} must be a finite number {'>=' if nonneg else '>'} 0, "
                         f"got {value!r}")
    return v


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

    Numerics (:mod:`pdebench.datasets.mp_elder`): ψ at vertices (5-point, prefactored SuperLU),
    face velocities discretely divergence-free, flux-form central finite volumes for c (second
    order; measured 2.0 on a manufactured solution, as is the ψ solve), Heun RK2 with
    dt = min(``dt``, ``cfl`` h/max|u|); ``dt`` above the explicit diffusion limit h²/4 or ``cfl``
    outside (0, 1] is a ValueError before any work, a diverging c a RuntimeError naming the step.
    Self-check: the shared equations with finite differences on interior cells (curl of Darcy's
    law and the transport equation with the scheme's c_t), relative RMS stored in ``residual``.

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
    version = 2  # 2: ra and source stored once per trajectory as constant inputs

    def __init__(self, n_samples: int = 80, resolution: int = 32, n_frames: int = 11,
                 t_end: float = 0.2, rayleigh: float = 400.0, rayleigh_spread: float = 0.5,
                 source_min: float = 0.5, source_max: float = 1.5, dt: float | None = None,
                 cfl: float = 0.5, seed: int = 0, data_dir: str | Path = ".",
                 in_memory: bool | str = "auto", history: int = 1, stride: int = 1) -> None:
        from pdebench.datasets.mp_elder import check_time_step

        p = {"n_samples": _int("n_samples", n_samples, 1),
             "resolution": _int("resolution", resolution, 8, " (cells along the height)"),
             "n_frames": _int("n_frames", n_frames, 2), "t_end": _pos("t_end", t_end),
             "rayleigh": _pos("rayleigh", rayleigh),
             "rayleigh_spread": _pos("rayleigh_spread", rayleigh_spread, nonneg=True),
             "source_min": _pos("source_min", source_min),
             "source_max": _pos("source_max", source_max), "cfl": float(cfl),
             "seed": _int("seed", seed, 0)}
        if p["rayleigh_spread"] >= 1:
            raise ValueError(f"data.rayleigh_spread must be in [0, 1), got {rayleigh_spread!r}")
        if not p["source_min"] <= p["source_max"] <= 2.0:
            raise ValueError(f"data.source_min <= data.source_max <= 2 (half-box width) needed, "
                             f"got {source_min!r}, {source_max!r}")
        h = 1.0 / p["resolution"]
        if dt is not None:
            p["dt"] = _pos("dt", dt)
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
            boundary_conditions={"c": "dirichlet_top_source_bottom_zero_else_neumann",
                                 "psi": "dirichlet_zero"},
            pde_params={k: p[k] for k in ("rayleigh", "rayleigh_spread", "source_min",
                                          "source_max")},
            extra={"generated": True, "half_box": "x in [0, 2], symmetry plane at x = 2"},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        from pdebench.datasets.mp_elder import generate_elder

        return generate_elder(**self.params, progress=progress)


class NaturalConvectionSource(GeneratedPairs):
    """Natural convection around a heated disc in a square cavity (Multiphysics Bench C.2).

    Steady dimensionless Boussinesq flow (:mod:`pdebench.physics.porous_convection`), lengths in
    units of the side L, velocity in κ/L: u·∇u = −∇p + Pr Δu + Ra Pr T ê_y, ∇·u = 0,
    u·∇T = ΔT + q; no slip on all walls, cold side walls T = 0 at x = 0, 1, adiabatic top and
    bottom. q = heat rate inside a disc (smoothed over one cell), 0 outside.

    Per sample (seeded): Ra log-uniform in [``ra_min``, ``ra_max``] = [1e3, 1e4], disc centre
    uniform in [0.3, 0.7]², radius in [0.08, 0.15], heat rate in [``rate_min``, ``rate_max``] =
    [10, 30]; Pr fixed (0.71, air). Input x = (q, disc mask, Ra broadcast); output y = (u, v, T),
    on the n × n vertex grid including the walls.

    Numerics (:mod:`pdebench.datasets.mp_natural_convection`): stream function–vorticity,
    central differences (second order; measured 2.0 on manufactured Poisson and heat sub-steps),
    Thom's wall vorticity, implicit pseudo-time marching (coupled sparse LU per iteration, lagged
    advecting velocity, pseudo-time step ``dtau`` grown as the residual falls) until the
    relative steady residual is below ``tol`` (else RuntimeError naming the iteration and the
    residual). Self-check: the steady residuals under the shared equations (finite differences,
    interior nodes) stored in ``residual``.

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

    name = "natural_convection"

    def __init__(self, n_samples: int = 50, resolution: int = 64, ra_min: float = 1e3,
                 ra_max: float = 1e4, pr: float = 0.71, rate_min: float = 10.0,
                 rate_max: float = 30.0, dtau: float = 0.05, tol: float = 1e-6,
                 max_iter: int = 200, seed: int = 0, data_dir: str | Path = ".",
                 in_memory: bool | str = "auto") -> None:
        p = {"n_samples": _int("n_samples", n_samples, 1),
             "resolution": _int("resolution", resolution, 9, " (nodes per side)"),
             "ra_min": _pos("ra_min", ra_min), "ra_max": _pos("ra_max", ra_max),
             "pr": _pos("pr", pr), "rate_min": _pos("rate_min", rate_min),
             "rate_max": _pos("rate_max", rate_max), "dtau": _pos("dtau", dtau),
             "tol": _pos("tol", tol), "max_iter": _int("max_iter", max_iter, 1),
             "seed": _int("seed", seed, 0)}
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
            name="natural_convection", pde="natural_convection", spatial_dims=2,
            resolution=(n, n), extent=((0.0, 1.0), (0.0, 1.0)), input_fields=ins,
            output_fields=outs, units=dict.fromkeys((*ins, *outs), "1"), grid="vertex",
            boundary_conditions={"u": "dirichlet_zero", "v": "dirichlet_zero",
                                 "T": "dirichlet_zero_x_neumann_y"},
            pde_params={k: p[k] for k in ("ra_min", "ra_max", "pr", "rate_min", "rate_max")},
            extra={"generated": True},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        from pdebench.datasets.mp_natural_convection import generate_natural_convection

        return generate_natural_convection(**self.params, progress=progress)


def register(api: Any) -> None:
    """Register the datasets (configs ``conf/data/elder.yaml``, ``natural_convection.yaml``)."""
    api.register_dataset("elder", ElderSource,
                         "Elder problem: salt-driven porous convection, stream function + "
                         "advection-diffusion, 11 frames (Multiphysics Bench), generated")
    api.register_dataset("natural_convection", NaturalConvectionSource,
                         "steady Boussinesq convection around a heated disc in a cavity with "
                         "cold side walls (Multiphysics Bench), generated")
