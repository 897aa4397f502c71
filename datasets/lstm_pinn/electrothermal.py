"""Steady five-field electrothermal transport (LSTM-PINN, specs/PROBLEMS.md C), generated.

The harness-facing source; the numerics (manufactured solutions) live in
:mod:`pdebench.datasets.lstm_pinn.electrothermal_solver`, the equations in
:mod:`pdebench.physics.electrothermal`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pdebench.data.generated import GeneratedPairs, Progress
from pdebench.data.meta import DatasetMeta
from pdebench.datasets.numerics.validation import check_int, check_real, check_seed
from pdebench.physics.electrothermal import COMPONENTS, FIELDS, SOURCES, ElectrothermalParams

__all__ = ["ElectrothermalSource"]


class ElectrothermalSource(GeneratedPairs):
    """Steady five-field electrothermal transport (LSTM-PINN family), manufactured solutions.

    Fields u, v (velocity), p (pressure), phi (electric potential), T (temperature) on the unit
    square, all dimensionless. Operator (:mod:`pdebench.physics.electrothermal`):

    - continuity  u_x + v_y = s_c
    - x-momentum  u u_x + v u_y + p_x − ν Δu + c_φ φ_x + c_T T [+ drag] = s_x
    - y-momentum  u v_x + v v_y + p_y − ν Δv + c_φ φ_y [− Ri (T − T₀)] [+ drag] = s_y
    - energy      u T_x + v T_y − α_T ΔT + J |∇φ|² = s_T
    - potential   u φ_x + v φ_y − D_φ ∇·(σ(T)∇φ) + η (u + v/2) = s_φ

    ν = 0.02, α_T = 0.015, D_φ = 0.02, c_φ = 0.12, c_T = 0.08, J = 0.03, η = 0.05 (specs).
    Regimes: 1 buoyancy Ri = 0.5 and σ(T) = exp(0.5 (T − T₀)), T₀ = 0.5; 2 no buoyancy, σ = 1,
    gauge mean p = mean φ = 0 instead of Dirichlet data for p, φ; 3 regime 1 with Ri × 10 and steep
    T fronts (steepness 20–28 instead of 10–20); 4 Darcy drag (ν/K) u and Forchheimer
    (c_F/√K)|u| u, K = 0.05, c_F = 0.55, in both momentum equations.

    Samples: closed-form fields (u, v from a stream function, so divergence-free and s_c = 0 to
    round-off; sines, tanh fronts, Gaussian bumps; random parameters per sample, seeded); the
    sources are the shared operator applied to them with autograd. Input x = the five source
    fields (s_c, s_x, s_y, s_T, s_phi), output y = (u, v, p, phi, T), cell-centred grid, boundary
    data = the closed form (Dirichlet; regime 2: gauge for p, phi). Self-check: the operator with
    finite differences on the exact gridded fields minus the sources, interior cells, is O(h²)
    (about 3e-2 relative at 64², order 2.0 measured 32² → 64² → 128²). Physics metrics: the
    registered equation ``electrothermal`` (regime 2: ``electrothermal_gauge``, without wall
    data for p and phi), :mod:`pdebench.physics.electrothermal`.

    Provenance: the published group's code uses manufactured solutions of this kind; the exact
    regime equations were not published in reachable form, so the operator variants, coefficient
    laws and parameter ranges here are this harness's definitions. Sizes: 1000 samples of 64² by
    default (about 10 s; the paper evaluates on 121² or 201² grids: ``data.resolution=128``).

    Parameters
    ----------
    n_samples, resolution, regime, seed : int
        Samples (default 1000), cells per side (>= 16, default 64), regime (1-4), seed.
    nu, alpha_t, d_phi, c_phi, c_t, j, eta, ri, t0, ri_factor, beta_sigma, k_perm, c_f : float
        Operator coefficients (:class:`~pdebench.physics.electrothermal.ElectrothermalParams`).
    data_dir, in_memory
        Cache folder and whether to hold the arrays in RAM.
    """

    name = "electrothermal"
    version = 2  # 2: the store records the physics floor of the registered equation

    def __init__(self, n_samples: int = 1000, resolution: int = 64, regime: int = 1,
                 seed: int = 0, nu: float = 0.02, alpha_t: float = 0.015, d_phi: float = 0.02,
                 c_phi: float = 0.12, c_t: float = 0.08, j: float = 0.03, eta: float = 0.05,
                 ri: float = 0.5, t0: float = 0.5, ri_factor: float = 10.0,
                 beta_sigma: float = 0.5, k_perm: float = 0.05, c_f: float = 0.55,
                 data_dir: str | Path = ".", in_memory: bool | str = "auto") -> None:
        from pdebench.datasets.lstm_pinn.electrothermal_solver import MIN_RESOLUTION

        n, res = check_int("n_samples", n_samples, 1), check_int("resolution", resolution, MIN_RESOLUTION, " (grid too coarse below that)")
        seed = check_seed(seed)
        coeffs = {"nu": nu, "alpha_t": alpha_t, "d_phi": d_phi, "c_phi": c_phi, "c_t": c_t,
                  "j": j, "eta": eta, "ri": ri, "t0": t0, "ri_factor": ri_factor,
                  "beta_sigma": beta_sigma, "k_perm": k_perm, "c_f": c_f}
        coeffs = {k: check_real(k, v) for k, v in coeffs.items()}
        try:
            self.operator = ElectrothermalParams(regime=regime, **coeffs)
        except ValueError as err:
            raise ValueError(f"data.{err}") from None
        super().__init__({"n_samples": n, "resolution": res, "regime": int(regime),
                          "seed": int(seed), **coeffs}, data_dir, in_memory)

    @property
    def physical_meta(self) -> DatasetMeta:
        r = self.params["resolution"]
        gauge = self.params["regime"] == 2
        bcs = {f: "dirichlet" for f in FIELDS}
        if gauge:
            bcs.update(p="gauge_mean_zero", phi="gauge_mean_zero")
        return DatasetMeta(
            name="electrothermal", pde="electrothermal_gauge" if gauge else "electrothermal",
            spatial_dims=2, resolution=(r, r),
            extent=((0.0, 1.0), (0.0, 1.0)), input_fields=SOURCES, output_fields=FIELDS,
            units={f: "1" for f in (*SOURCES, *FIELDS)}, grid="cell_centered",
            boundary_conditions=bcs,
            pde_params={k: float(v) for k, v in self.operator.to_dict().items()},
            extra={"generated": True, "manufactured": True, "equations": list(COMPONENTS),
                   "residual_domain": "interior (one cell from each wall excluded)"},
        )

    def closed_form(self, index: int):
        """Sample ``index`` (fields and sources) at arbitrary points, exact: the manufactured
        closed form (:func:`~pdebench.datasets.lstm_pinn.electrothermal_solver.closed_form_at`),
        so a PINN's collocation points and boundary data are not tied to the grid."""
        from pdebench.datasets.lstm_pinn.electrothermal_solver import closed_form_at

        return closed_form_at(index, self.params["seed"], self.operator,
                              self.params["resolution"])

    def generate(self, progress: Progress) -> dict[str, Any]:
        from pdebench.datasets.lstm_pinn.electrothermal_solver import generate_electrothermal

        p = self.params
        out = generate_electrothermal(p["n_samples"], p["resolution"], self.operator, p["seed"],
                                      progress=progress)
        return {**out, "x": out["sources"], "y": out["fields"]}
