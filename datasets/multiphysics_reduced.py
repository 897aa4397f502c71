"""Reduced Multiphysics Bench problems C.4 (MHD) and C.5 (acoustic-structure), generated.

Thin source classes: parameters validated in the constructor, numerics in
:mod:`pdebench.datasets.mp_mhd` and :mod:`pdebench.datasets.mp_acoustic`, equations in
:mod:`pdebench.physics.mhd_acoustic`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from pdebench.data.generated import GeneratedPairs, Progress
from pdebench.data.meta import DatasetMeta

__all__ = ["AcousticStructureSource", "MhdSource", "register"]


def _int(name: str, value: Any, minimum: int, why: str = "") -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < minimum:
        raise ValueError(f"data.{name} must be an int >= {minimum}{why}, got {value!r}")
    return int(value)


def _finite(name: str, value: Any, positive: bool = False, nonneg: bool = False) -> float:
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0) or (nonneg and v < 0):
        need = " > 0" if positive else " >= 0" if nonneg else ""
        raise ValueError(f"data.{name} must be a finite number{need}, got {value!r}")
    return v


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
        from pdebench.datasets.mp_mhd import MAX_CELL_HA

        n = _int("n_samples", n_samples, 1)
        res = _int("resolution", resolution, 8, " (grid too coarse below that)")
        seed = _int("seed", seed, 0)
        lo = _finite("ha_min", ha_min, nonneg=True)
        hi = _finite("ha_max", ha_max, nonneg=True)
        if hi < lo:
            raise ValueError(f"data.ha_max must be >= data.ha_min, got {hi} < {lo}")
        if hi * 2.0 / res > MAX_CELL_HA:
            raise ValueError(f"data.resolution={res} is too coarse for data.ha_max={hi:g}: the "
                             f"Hartmann layer 1/Ha needs Ha * h <= {MAX_CELL_HA:g} (h = 2 / "
                             f"resolution); raise data.resolution to >= {math.ceil(2 * hi)} or "
                             "lower data.ha_max")
        g0 = _finite("g0", g0, positive=True)
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
        from pdebench.datasets.mp_mhd import generate_mhd

        p = dict(self.params)
        out = generate_mhd(p.pop("n_samples"), p.pop("resolution"), **p, progress=progress)
        return {**out, "x": np.stack([out["G"], out["Ha"]], axis=1),
                "y": np.stack([out["w"], out["b"], out["F"]], axis=1)}


class AcousticStructureSource(GeneratedPairs):
    """Acoustic–structure interaction, reduced to scattering by a rigid disc (time-harmonic).

    Equation (:mod:`pdebench.physics.mhd_acoustic`), unit square, time factor exp(+iωt):
    ∇·((1/ρ)∇p) + (ω²/κ) p = 0 in the fluid, ∂ₙp = 0 on the disc (sound-hard), κ = 1 and
    1/ρ = 1 near the walls (background wavenumber k = ω, lengths in units of the side L, ρ in
    units of the background density, p in units of the incident amplitude). Incident plane wave
    p_inc = exp(−iω(x cos θ + y sin θ)); the scattered field obeys the first-order absorbing
    condition ∂ₙp_s + iω p_s = 0 on every wall (the convention of ``electro_thermal``).

    Per sample: a disc (centre in [0.3, 0.7]², radius 0.06–0.14) and a density map
    1/ρ = clip(1 + Σ₁² a_m β_m, 0.5, 2) with compact C² bumps β_m (centre in [0.3, 0.7]², radius
    0.1–0.25, a_m ∈ [−0.5, 1]); 1/ρ = 0 in the disc (the rigid limit ρ → ∞). Input
    x = (inv_rho, mask) with mask = 1 on disc cells; output y = (p_re, p_im, p_abs) (p = 0 in the
    disc). Cell-centred.

    Rigid disc by an immersed staircase mask: cells whose centre lies in the disc are solid; the
    solver floors their 1/ρ at 1e-12, so the harmonic-mean fluid–solid faces carry no flux
    (∂ₙp = 0 on the staircase), and holds p = 0 in them. The staircase is formally first-order
    accurate at the disc (error against a 256² solution outside a ring of 0.1 around the disc:
    RMS orders 1.6 (32² → 64²) and 1.4 (64² → 128²), max 1.5 and 1.2, falling towards 1); without
    the disc the scheme is second order (measured 2.00, manufactured solution). Grid check: at least 8 cells
    per shortest wavelength 2π√(min 1/ρ)/ω, else ValueError. Self-check: the shared residual on
    interior cells at round-off.

    Provenance: Multiphysics Bench (2025) solved a fully coupled acoustic–elastic problem (an
    elastic structure in a fluid) with a commercial FEM code on 128² grids. The harness keeps the
    variable-density acoustics and the fluid–structure interface, but makes the structure rigid
    (its elastic response dropped; the published problem's structural fields are not produced):
    the simplification specs allow, documented. Parameter ranges are this harness's choices.
    Default 2000 samples of 64² (about 0.03 s each); published size ``data.resolution=128``.

    Parameters
    ----------
    n_samples, resolution, seed : int
        Samples (default 2000), cells per side (>= 8), seed.
    omega : float
        Angular frequency = background wavenumber, > 0 (default 4π: two wavelengths across).
    theta : float
        Incidence angle (radians, default 0: from x = 0).
    """

    name = "acoustic_structure"

    def __init__(self, n_samples: int = 2000, resolution: int = 64, seed: int = 0,
                 omega: float = 4 * math.pi, theta: float = 0.0, data_dir: str | Path = ".",
                 in_memory: bool | str = "auto") -> None:
        from pdebench.datasets.mp_acoustic import INV_RHO_MIN, MIN_PPW

        n = _int("n_samples", n_samples, 1)
        res = _int("resolution", resolution, 8, " (grid too coarse below that)")
        seed = _int("seed", seed, 0)
        omega = _finite("omega", omega, positive=True)
        theta = _finite("theta", theta)
        ppw = 2 * math.pi * math.sqrt(INV_RHO_MIN) / omega * res
        if ppw < MIN_PPW:
            raise ValueError(f"data.resolution={res} is too coarse for data.omega={omega:.4g}: "
                             f"{ppw:.1f} cells per shortest wavelength, need >= {MIN_PPW:g} "
                             "(raise data.resolution or lower data.omega)")
        super().__init__({"n_samples": n, "resolution": res, "seed": seed, "omega": omega,
                          "theta": theta}, data_dir, in_memory)

    @property
    def physical_meta(self) -> DatasetMeta:
        r, p = self.params["resolution"], self.params
        fields = ("inv_rho", "mask", "p_re", "p_im", "p_abs")
        return DatasetMeta(
            name="acoustic_structure", pde="acoustic_rigid_disc", spatial_dims=2,
            resolution=(r, r), extent=((0.0, 1.0), (0.0, 1.0)),
            input_fields=("inv_rho", "mask"), output_fields=("p_re", "p_im", "p_abs"),
            units=dict.fromkeys(fields, "1"), grid="cell_centered",
            boundary_conditions={"p": "robin_absorbing", "disc": "neumann_zero_staircase"},
            pde_params={k: p[k] for k in ("omega", "theta")},
            extra={"generated": True, "time_convention": "exp(+i omega t)", "kappa": 1.0,
                   "reduced_from": "Multiphysics Bench acoustic-structure (2025)"},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        from pdebench.datasets.mp_acoustic import generate_acoustic

        p = dict(self.params)
        out = generate_acoustic(p.pop("n_samples"), p.pop("resolution"), **p, progress=progress)
        return {**out, "x": np.stack([out["inv_rho"], out["mask"]], axis=1),
                "y": np.stack([out["p_re"], out["p_im"], out["p_abs"]], axis=1)}


def register(api: Any) -> None:
    """Register the reduced MHD and acoustic datasets (configs ``conf/data/<name>.yaml``)."""
    api.register_dataset("mhd", MhdSource,
                         "Hartmann duct flow (w, b, Lorentz force) from a forcing map and Ha, "
                         "reduced Multiphysics Bench MHD, generated")
    api.register_dataset("acoustic_structure", AcousticStructureSource,
                         "time-harmonic acoustics in a variable-density medium around a rigid "
                         "disc, reduced Multiphysics Bench, generated")
