"""TE_heat: electro-thermal coupling (Multiphysics Bench, specs C.1), generated.

The harness-facing source; numerics in :mod:`pdebench.datasets.multiphysics_bench.te_heat_solver`,
equations in :mod:`pdebench.physics.multiphysics`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pdebench.data.generated import GeneratedPairs, Progress
from pdebench.data.meta import DatasetMeta
from pdebench.datasets.numerics.validation import check_int, check_real, check_seed

__all__ = ["TEHeatSource"]


class TEHeatSource(GeneratedPairs):
    """Electro-thermal coupling: E_z scattering by an elliptic semiconductor heated by it.

    Dimensionless equations (:mod:`pdebench.physics.multiphysics`; lengths in units of the side
    L, E in units of the incident amplitude, T in units of the ambient temperature):
    ∇²E + k₀²(ε_r − iσ̃(T))E = 0 with σ̃ = σ/(ωε₀); ∇²T + q σ̃(T)|E|² = 0 (k∇²T + ½σ|E|² = 0
    scaled, q = ωε₀E₀²L²/(2kT_∞)); Arrhenius σ̃(T) = σ̃₀ exp(γ(1 − 1/T)), γ = E_a/(k_B T_∞).
    Boundaries: incident plane wave exp(−ik₀(x cos θ + y sin θ)) (time factor exp(+iωt)) and a
    first-order absorbing condition ∂ₙE_s + ik₀E_s = 0 on the scattered field; convective heat
    loss −∂ₙT = Bi (T − 1). Coupled by Picard iteration to max|ΔT| < 1e-9 (a non-finite T,
    thermal runaway T > 10 or no convergence in max_iter raises RuntimeError naming the
    iteration).

    Per sample an ellipse (centre in [0.35, 0.65]², semi-axes 0.1–0.25 and 0.06–0.15, random
    orientation) with ε_r ∈ [2, 4] and σ̃₀ ∈ [0.2, 1]; vacuum (ε_r = 1, σ̃ = 0) outside. Input
    x = (eps_r, sigma0); output y = (E_re, E_im, T), cell-centred. Numerics: finite volumes with
    complex Robin walls, sparse direct solves (second order, measured 1.99 on a manufactured
    Helmholtz solution). Self-check: both residuals on interior cells at the Picard tolerance.

    Provenance: Multiphysics Bench (2025), COMSOL on 128² grids; the non-dimensionalisation,
    parameter values and absorbing boundary are this harness's choices. Default 200 samples of
    64² (about 0.25 s each); ``data.resolution=128`` for the published size.

    Parameters
    ----------
    n_samples, resolution, seed : int
        Samples (default 200), cells per side (>= 16 and >= 8 cells per wavelength in the
        densest inclusion), seed.
    k0 : float
        Free-space wavenumber, > 0 (default 4π: two wavelengths across the domain).
    q, gamma, biot : float
        Heating number (> 0, default 10), Arrhenius exponent (>= 0, default 5), Biot number
        (> 0, default 1).
    theta : float
        Incidence angle (radians, default 0: from x = 0).
    max_iter : int
        Picard iteration limit (default 60).
    """

    name = "te_heat"

    def __init__(self, n_samples: int = 200, resolution: int = 64, seed: int = 0,
                 k0: float = 4 * math.pi, q: float = 10.0, gamma: float = 5.0,
                 biot: float = 1.0, theta: float = 0.0, max_iter: int = 60,
                 data_dir: str | Path = ".", in_memory: bool | str = "auto") -> None:
        from pdebench.datasets.multiphysics_bench.te_heat_solver import MIN_PPW

        n, res = check_int("n_samples", n_samples, 1), check_int("resolution", resolution, 16, " (grid too coarse below that)")
        seed = check_seed(seed)
        vals = {"k0": check_real("k0", k0, positive=True), "q": check_real("q", q, positive=True),
                "gamma": check_real("gamma", gamma, nonneg=True),
                "biot": check_real("biot", biot, positive=True), "theta": check_real("theta", theta)}
        if int(max_iter) != max_iter or max_iter < 1:
            raise ValueError(f"data.max_iter must be an int >= 1, got {max_iter!r}")
        ppw = 2 * math.pi / (vals["k0"] * 2.0) * res  # eps_r <= 4: wavelength / 2 inside
        if ppw < MIN_PPW:
            raise ValueError(f"data.resolution={res} is too coarse for data.k0={vals['k0']:.4g}: "
                             f"{ppw:.1f} cells per wavelength inside the inclusion, need >= "
                             f"{MIN_PPW:g} (raise data.resolution or lower data.k0)")
        super().__init__({"n_samples": n, "resolution": res, "seed": int(seed), **vals,
                          "max_iter": int(max_iter)}, data_dir, in_memory)

    @property
    def physical_meta(self) -> DatasetMeta:
        r, p = self.params["resolution"], self.params
        return DatasetMeta(
            name="te_heat", pde="te_heat", spatial_dims=2, resolution=(r, r),
            extent=((0.0, 1.0), (0.0, 1.0)), input_fields=("eps_r", "sigma0"),
            output_fields=("E_re", "E_im", "T"),
            units=dict.fromkeys(("eps_r", "sigma0", "E_re", "E_im", "T"), "1"),
            grid="cell_centered",
            boundary_conditions={"E": "robin_absorbing", "T": "robin_convective"},
            pde_params={k: p[k] for k in ("k0", "q", "gamma", "biot", "theta")},
            extra={"generated": True, "time_convention": "exp(+i omega t)"},
        )

    def generate(self, progress: Progress) -> dict[str, Any]:
        import numpy as np

        from pdebench.datasets.multiphysics_bench.te_heat_solver import generate_electro_thermal

        p = dict(self.params)
        out = generate_electro_thermal(p.pop("n_samples"), p.pop("resolution"), **p,
                                       progress=progress)
        return {**out, "x": np.stack([out["eps_r"], out["sigma0"]], axis=1),
                "y": np.stack([out["E_re"], out["E_im"], out["T"]], axis=1)}
