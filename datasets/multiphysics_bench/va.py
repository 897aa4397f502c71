"""VA: acoustics around a rigid disc, reduced vibro-acoustics (Multiphysics Bench, specs C.5).

The harness-facing source; numerics in :mod:`pdebench.datasets.multiphysics_bench.va_solver`,
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

__all__ = ["VASource"]


class VASource(GeneratedPairs):
    """Acoustic–structure interaction, reduced to scattering by a rigid disc (time-harmonic).

    Equation (:mod:`pdebench.physics.mhd_acoustic`), unit square, time factor exp(+iωt):
    ∇·((1/ρ)∇p) + (ω²/κ) p = 0 in the fluid, ∂ₙp = 0 on the disc (sound-hard), κ = 1 and
    1/ρ = 1 near the walls (background wavenumber k = ω, lengths in units of the side L, ρ in
    units of the background density, p in units of the incident amplitude). Incident plane wave
    p_inc = exp(−iω(x cos θ + y sin θ)); the scattered field obeys the first-order absorbing
    condition ∂ₙp_s + iω p_s = 0 on every wall (the convention of ``te_heat``).

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

    name = "va"

    def __init__(self, n_samples: int = 2000, resolution: int = 64, seed: int = 0,
                 omega: float = 4 * math.pi, theta: float = 0.0, data_dir: str | Path = ".",
                 in_memory: bool | str = "auto") -> None:
        from pdebench.datasets.multiphysics_bench.va_solver import INV_RHO_MIN, MIN_PPW

        n = check_int("n_samples", n_samples, 1)
        res = check_int("resolution", resolution, 8, " (grid too coarse below that)")
        seed = check_int("seed", seed, 0)
        omega = check_real("omega", omega, positive=True)
        theta = check_real("theta", theta)
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
            name="va", pde="va", spatial_dims=2,
            resolution=(r, r), extent=((0.0, 1.0), (0.0, 1.0)),
            input_fields=("inv_rho", "mask"), output_fields=("p_re", "p_im", "p_abs"),
            units=dict.fromkeys(fields, "1"), grid="cell_centered",
            boundary_conditions={"p": "robin_absorbing", "disc": "neumann_zero_staircase"},
            pde_params={**{k: p[k] for k in ("omega", "theta")}, "kappa": 1.0},
            # no DatasetMeta.masks: its mask is 1 on the rigid disc, i.e. outside the fluid
            # domain, where a geometry mask (1 = inside, only those cells scored) would be 0
            extra={"generated": True, "time_convention": "exp(+i omega t)",
                   "reduced_from": "Multiphysics Bench acoustic-structure (2025)"},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        from pdebench.datasets.multiphysics_bench.va_solver import generate_acoustic

        p = dict(self.params)
        out = generate_acoustic(p.pop("n_samples"), p.pop("resolution"), **p, progress=progress)
        return {**out, "x": np.stack([out["inv_rho"], out["mask"]], axis=1),
                "y": np.stack([out["p_re"], out["p_im"], out["p_abs"]], axis=1)}
