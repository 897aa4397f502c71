"""Physics metrics of the generated Multiphysics Bench datasets (te_heat, e_flow, mhd, va).

Each dataset's own reference solution scores the physics floor its generator recorded, with the
full set of metrics its equation supports; the floor is at round-off (the metric's stencils are
the generator's discrete equations) or at O(h^2) truncation where it is not; a perturbation aimed
at each metric scores measurably worse. The terms of the equations are checked on manufactured
fields with both derivative providers.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from pdebench.physics.derivatives import Autograd, FiniteDifference
from pdebench.physics.mhd_acoustic import (
    MHD,
    VA,
    acoustic_terms,
    fluid_domain,
    hartmann_residuals,
    hartmann_terms,
    lorentz_terms,
    magnitude_terms,
)
from pdebench.physics.multiphysics import (
    E_FLOW,
    TE_HEAT,
    conduction_residual,
    conduction_terms,
    continuity_residual,
    continuity_terms,
    darcy_curl_terms,
    helmholtz_residual,
    helmholtz_terms,
    joule_balance_terms,
    joule_heat_residual,
    joule_heat_terms,
)
from pdebench.testing import physics_values, recorded_floor, tiny_datamodule

DATASETS = ("te_heat", "e_flow", "mhd", "va")

#: The full metric set of each dataset (a metric that silently disappears fails).
EXPECTED = {
    "te_heat": {"residual_l2/te_heat/helmholtz_re", "residual_l2/te_heat/helmholtz_im",
                "residual_l2/te_heat/heat", "residual_rel/te_heat", "coupling_consistency",
                "bc_error/E_re", "bc_error/T"},
    "e_flow": {"residual_l2/e_flow/conduction", "residual_l2/e_flow/continuity",
               "residual_l2/e_flow/darcy", "residual_rel/e_flow", "bc_error/V", "bc_error/v",
               "divergence_l2", "coupling_consistency"},
    "mhd": {"residual_l2/mhd_hartmann_duct/momentum", "residual_l2/mhd_hartmann_duct/induction",
            "residual_rel/mhd_hartmann_duct", "bc_error/w", "bc_error/b",
            "coupling_consistency"},
    "va": {"residual_l2/va/helmholtz_re", "residual_l2/va/helmholtz_im", "residual_rel/va",
           "coupling_consistency", "bc_error/p_re"},
}


def _build(name: str, root, *overrides: str):
    return tiny_datamodule(name, *overrides, data_dir=root)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Callable:
    """``tiny(name, resolution=None)``: the dataset at its declared tiny size, built once."""
    built: dict = {}

    def get(name: str, resolution: int | None = None):
        key = (name, resolution)
        if key not in built:
            extra = () if resolution is None else (f"data.tiny.resolution={resolution}",)
            built[key] = _build(name, tmp_path_factory.mktemp(f"{name}{resolution}"), *extra)
        return built[key]

    return get


# ----------------------------------------------------------------------------------------------
# (a) the reference scores its recorded floor, with every metric
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DATASETS)
def test_reference_scores_its_recorded_floor(tiny, name):
    dm = tiny(name)
    floor = recorded_floor(dm.source)
    assert set(floor) == EXPECTED[name]
    assert physics_values(dm.meta, dm.dataset) == pytest.approx(floor, rel=1e-9)


@pytest.mark.parametrize("name,equation", [("te_heat", TE_HEAT), ("e_flow", E_FLOW),
                                           ("mhd", MHD), ("va", VA)])
def test_dataset_names_its_equation(tiny, name, equation):
    meta = tiny(name).meta
    assert meta.pde == equation.name
    assert set(equation.params) <= set(meta.pde_params)
    assert set(equation.coefficients) <= set(meta.input_fields)
    assert set(equation.unknowns) == set(meta.output_fields)


# ----------------------------------------------------------------------------------------------
# (b) the floor is at round-off or at discretisation level
# ----------------------------------------------------------------------------------------------

def _order(coarse: float, fine: float) -> float:
    return math.log2(coarse / fine)


@pytest.mark.parametrize("name,components", [
    ("te_heat", ("helmholtz_re", "helmholtz_im", "heat")),
    ("va", ("helmholtz_re", "helmholtz_im")),
    ("mhd", ("momentum", "induction")),
])
def test_roundoff_floor_grows_like_the_stencil(tiny, name, components):
    """The metric's stencil is the generator's discrete equation: the reference leaves only its
    float32 storage error, which the second-difference stencil amplifies by 1/h^2 (a truncation
    floor would fall instead). Measured orders 16^2 -> 32^2: te_heat -2.03, -2.02, -1.99; va
    -2.05, -2.03; mhd -1.99, -1.88."""
    coarse = recorded_floor(tiny(name).source)
    fine = recorded_floor(tiny(name, 32).source)
    eq = tiny(name).meta.pde
    assert coarse[f"residual_rel/{eq}"] < 1e-4
    for c in components:
        key = f"residual_l2/{eq}/{c}"
        assert -2.5 < _order(coarse[key], fine[key]) < -1.5, (key, coarse[key], fine[key])


def test_te_heat_and_va_coupling_floor_is_roundoff(tiny):
    """Joule balance: the Helmholtz round-off times q |E| / k0^2; |p| against (p_re, p_im): the
    float32 rounding of the stored modulus."""
    assert recorded_floor(tiny("te_heat").source)["coupling_consistency"] < 1e-4
    assert recorded_floor(tiny("va").source)["coupling_consistency"] < 1e-6


def test_e_flow_floor_falls_at_second_order(tiny):
    """Cell velocities are face averages: continuity and the Darcy curl carry their O(h^2)
    truncation; the wall traces the O(h^2) error of the solution; conduction is round-off."""
    coarse, fine = recorded_floor(tiny("e_flow").source), recorded_floor(tiny("e_flow", 32).source)
    orders = {k: _order(coarse[k], fine[k]) for k in coarse}
    # measured 16 -> 32: continuity 1.53, darcy 1.66, bc_error/V 2.23, bc_error/v 2.63
    # (32 -> 64: 1.88, 1.92, 2.14, 2.38)
    for key in ("residual_l2/e_flow/continuity", "residual_l2/e_flow/darcy", "divergence_l2",
                "coupling_consistency"):
        assert orders[key] > 1.3, (key, orders[key])
    for key in ("bc_error/V", "bc_error/v"):
        assert orders[key] > 1.8, (key, orders[key])
    assert -2.5 < orders["residual_l2/e_flow/conduction"] < -1.5  # round-off: measured -1.99
    assert coarse["residual_rel/e_flow"] < 0.1


def test_mhd_wall_floor_falls_at_second_order(tiny):
    """w = b = 0 lies half a cell beyond the first cell centre; the quadratic extrapolation of
    the scheme's cell values misses it by O(h^2) (measured 2.17 and 2.18 from 16^2 to 32^2)."""
    coarse, fine = recorded_floor(tiny("mhd").source), recorded_floor(tiny("mhd", 32).source)
    for key in ("bc_error/w", "bc_error/b"):
        assert _order(coarse[key], fine[key]) > 1.8, key


# ----------------------------------------------------------------------------------------------
# (c) a perturbation aimed at each metric scores worse
# ----------------------------------------------------------------------------------------------

def _bump_shape(y: torch.Tensor) -> torch.Tensor:
    """``sin(pi i/n) sin(pi j/n)`` at cell centres: smooth, 1 in the middle, ~0 at the walls."""
    n0, n1 = y.shape[-2:]
    s0 = torch.sin(math.pi * (torch.arange(n0, dtype=y.dtype) + 0.5) / n0)
    s1 = torch.sin(math.pi * (torch.arange(n1, dtype=y.dtype) + 0.5) / n1)
    return s0[:, None] * s1[None, :]


def _edit(meta_fields: tuple[str, ...], field: str, how: str, amount: float) -> Callable:
    """Perturb one output channel: ``how`` = "bump" (smooth interior bump), "offset" (a constant,
    so every wall moves), "shear" (``sin(pi y)``, constant along x) or "scale"; ``amount``
    relative to the channel's largest magnitude (per batch)."""
    c = meta_fields.index(field)

    def perturb(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        out = y.clone()
        a = amount * y[:, c].abs().amax()
        if how == "bump":
            out[:, c] += a * _bump_shape(y)
        elif how == "offset":
            out[:, c] += a
        elif how == "shear":
            n1 = y.shape[-1]
            out[:, c] += a * torch.sin(math.pi * (torch.arange(n1, dtype=y.dtype) + 0.5) / n1)
        elif how == "scale":
            out[:, c] *= 1.0 + amount
        else:
            raise ValueError(how)
        return out

    return perturb


PERTURBATIONS = [
    # te_heat: each equation through its own unknown; the coupling through T alone (sigma(T))
    ("te_heat", ("E_re", "bump", 0.01), "residual_l2/te_heat/helmholtz_re"),
    ("te_heat", ("E_im", "bump", 0.01), "residual_l2/te_heat/helmholtz_im"),
    ("te_heat", ("T", "bump", 0.01), "residual_l2/te_heat/heat"),
    ("te_heat", ("T", "bump", 0.01), "residual_rel/te_heat"),
    ("te_heat", ("T", "bump", 0.01), "coupling_consistency"),
    # the absorbing-wall floor is ~8% of |g| at 16^2 (k h = 0.375), second order in h
    ("te_heat", ("E_re", "offset", 0.5), "bc_error/E_re"),
    ("te_heat", ("T", "offset", 0.05), "bc_error/T"),
    # e_flow
    ("e_flow", ("V", "bump", 0.01), "residual_l2/e_flow/conduction"),
    ("e_flow", ("u", "bump", 0.05), "residual_rel/e_flow"),  # continuity, darcy dominate it
    ("e_flow", ("u", "bump", 0.05), "residual_l2/e_flow/continuity"),
    ("e_flow", ("u", "bump", 0.05), "divergence_l2"),
    ("e_flow", ("u", "shear", 0.05), "residual_l2/e_flow/darcy"),
    ("e_flow", ("V", "bump", 0.1), "coupling_consistency"),  # the driving potential alone
    ("e_flow", ("u", "shear", 0.05), "coupling_consistency"),  # the driven flow alone
    ("e_flow", ("V", "offset", 0.05), "bc_error/V"),
    ("e_flow", ("v", "offset", 0.05), "bc_error/v"),
    # mhd
    ("mhd", ("w", "bump", 0.01), "residual_l2/mhd_hartmann_duct/momentum"),
    ("mhd", ("b", "bump", 0.01), "residual_l2/mhd_hartmann_duct/induction"),
    ("mhd", ("w", "bump", 0.01), "residual_rel/mhd_hartmann_duct"),
    # the wall floor is ~10% of max |b| at 16^2 (Hartmann layers of about one cell)
    ("mhd", ("w", "offset", 0.3), "bc_error/w"),
    ("mhd", ("b", "offset", 0.3), "bc_error/b"),
    ("mhd", ("F", "scale", 0.01), "coupling_consistency"),
    # va
    ("va", ("p_re", "bump", 0.01), "residual_l2/va/helmholtz_re"),
    ("va", ("p_im", "bump", 0.01), "residual_l2/va/helmholtz_im"),
    ("va", ("p_re", "bump", 0.01), "residual_rel/va"),
    ("va", ("p_abs", "scale", 0.01), "coupling_consistency"),
    ("va", ("p_im", "offset", 0.5), "bc_error/p_re"),
]

#: Each perturbation must raise its metric above this multiple of the floor (plus 1e-6).
FACTOR = 2.0


def test_every_metric_has_a_perturbation():
    covered = {(name, metric) for name, _, metric in PERTURBATIONS}
    assert covered == {(name, m) for name in DATASETS for m in EXPECTED[name]}


@pytest.mark.parametrize("name,edit,metric", PERTURBATIONS,
                         ids=[f"{n}-{e[1]}({e[0]})-{m}" for n, e, m in PERTURBATIONS])
def test_perturbed_solution_scores_worse(tiny, name, edit, metric):
    dm = tiny(name)
    floor = recorded_floor(dm.source)[metric]
    perturb = _edit(dm.meta.output_fields, *edit)
    worse = physics_values(dm.meta, dm.dataset, perturb=perturb)[metric]
    assert worse > FACTOR * floor + 1e-6, (metric, floor, worse)


def test_va_disc_is_not_scored(tiny):
    """Values on the disc (and its neighbour cells) do not enter the metrics; the fluid does."""
    dm = tiny("va")
    floor = recorded_floor(dm.source)
    m = dm.meta.input_fields.index("mask")

    def on_disc(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return y + 10.0 * x[:, m:m + 1]

    assert physics_values(dm.meta, dm.dataset, perturb=on_disc) == pytest.approx(floor, rel=1e-9)


# ----------------------------------------------------------------------------------------------
# (d) the terms on hand-computable cases
# ----------------------------------------------------------------------------------------------

def _points(lo: float = 0.0, hi: float = 1.0, n: int = 64, seed: int = 0) -> torch.Tensor:
    """``n`` random collocation points in ``[lo, hi]^2``, a leaf with ``requires_grad``."""
    g = torch.Generator().manual_seed(seed)
    pts = lo + (hi - lo) * torch.rand(n, 2, dtype=torch.float64, generator=g)
    return pts.requires_grad_(True)


def _grid(n: int = 12) -> tuple[torch.Tensor, torch.Tensor, FiniteDifference]:
    c = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    x, y = torch.meshgrid(c, c, indexing="ij")
    return x[None], y[None], FiniteDifference((1.0 / n, 1.0 / n), bc="neumann_zero")


def _close(a: torch.Tensor, b: torch.Tensor | float, tol: float = 1e-10) -> bool:
    return bool(torch.allclose(torch.as_tensor(a, dtype=torch.float64),
                               torch.as_tensor(b, dtype=torch.float64).expand_as(a),
                               atol=tol, rtol=tol))


def test_conduction_terms_split_about_the_ramp():
    """V = v0 (1 - x) + c sin(pi x) sin(pi y), kappa = 1 + x: div(kappa grad ramp) = -v0 and
    div(kappa grad (V - ramp)) = c pi (cos(pi x) sin(pi y) - 2 pi (1 + x) sin(pi x) sin(pi y))."""
    pts = _points()
    x, y = pts[:, 0], pts[:, 1]
    v0, c = 0.7, 0.3
    ramp = v0 * (1.0 - x)
    pot = ramp + c * torch.sin(math.pi * x) * torch.sin(math.pi * y)
    kappa = 1.0 + x
    induced, applied = conduction_terms(pot, kappa, Autograd(pts), ramp=ramp)
    sx, sy, cx = torch.sin(math.pi * x), torch.sin(math.pi * y), torch.cos(math.pi * x)
    assert _close(applied, torch.full_like(x, -v0))
    assert _close(induced, c * math.pi * (cx * sy - 2 * math.pi * (1 + x) * sx * sy))
    # on a grid the split is the single finite-volume term, by linearity
    gx, gy, d = _grid()
    pot = 0.7 * (1.0 - gx) + torch.sin(3 * gx) * gy**2
    kap = 1.0 + gx * gy
    parts = conduction_terms(pot, kap, d, ramp=0.7 * (1.0 - gx))
    assert _close(parts[0] + parts[1], conduction_residual(pot, kap, d), 1e-12)
    assert _close(conduction_residual(pot, kap, d), d.div_flux(kap, pot), 0.0)


def test_continuity_terms_are_the_two_partials():
    """u = x^2 y, v = sin(y): terms 2 x y and cos(y) (autograd); on a grid, quadratics are exact
    for central differences and the sum is the provider's div."""
    pts = _points()
    x, y = pts[:, 0], pts[:, 1]
    ux, vy = continuity_terms(x * x * y, torch.sin(y), Autograd(pts))
    assert _close(ux, 2 * x * y) and _close(vy, torch.cos(y))
    gx, gy, d = _grid()
    ux, vy = continuity_terms(gx * gx, 3 * gy * gy, d)
    inner = (slice(None), slice(1, -1), slice(1, -1))
    assert _close(ux[inner], (2 * gx)[inner]) and _close(vy[inner], (6 * gy)[inner])
    assert _close(continuity_residual(gx * gx, 3 * gy * gy, d), d.div((gx * gx, 3 * gy * gy)),
                  0.0)


def test_darcy_curl_terms():
    """Zero for u = -k_p grad p + k_V grad V (any p, V, k_p(x, y)); a shear u = y, v = 0 with
    k_p = 1 and V = 0 has curl -1; a potential with k_p = exp(x) gives the electro-osmotic term
    -k_V grad(1/k_p) x grad V = k_V exp(-x) V_y."""
    pts = _points()
    x, y = pts[:, 0], pts[:, 1]
    d = Autograd(pts)
    k_p, k_v = 1.0 + 0.5 * x * y, 0.8
    p, pot = torch.sin(x + 2 * y), x * x - y * x
    u, v = (-k_p * gp + k_v * gv for gp, gv in zip(d.grad(p), d.grad(pot), strict=True))
    assert _close(sum(darcy_curl_terms(u, v, pot, k_p, k_v, d)), 0.0)
    one = 1.0 + 0.0 * x
    terms = darcy_curl_terms(y * one, 0 * y, 0 * x, one, k_v, d)
    assert _close(terms[0], 0.0) and _close(terms[1], -1.0) and _close(terms[2], 0.0)
    terms = darcy_curl_terms(0 * x, 0 * y, y * y, torch.exp(x), k_v, d)
    assert _close(terms[0], 0.0) and _close(terms[1], 0.0)
    assert _close(terms[2], k_v * torch.exp(-x) * 2 * y)


def _lossy_plane_wave(pts: torch.Tensor, k0: float, eps: float, sigma: float):
    """``E = exp(-i kappa x)``, ``kappa = k0 sqrt(eps - i sigma)``: solves the lossy Helmholtz
    equation; ``|E|^2 = exp(2 Im(kappa) x)``."""
    kap = k0 * complex(eps, -sigma) ** 0.5
    x = pts[:, 0]
    mag = torch.exp(kap.imag * x)
    return mag * torch.cos(kap.real * x), -mag * torch.sin(kap.real * x), torch.exp(
        2 * kap.imag * x)


def test_helmholtz_heat_and_joule_balance_on_a_lossy_plane_wave():
    pts = _points()
    k0, eps, sigma, q = 3.0, 2.0, 0.4, 7.0
    e_re, e_im, abs2 = _lossy_plane_wave(pts, k0, eps, sigma)
    d = Autograd(pts)
    re, im = helmholtz_terms(e_re, e_im, eps, sigma, k0, d)
    assert _close(sum(re), 0.0, 1e-9) and _close(sum(im), 0.0, 1e-9)
    assert _close(re[2], k0**2 * sigma * e_im) and _close(im[2], -k0**2 * sigma * e_re)
    source, absorbed = joule_balance_terms(e_re, e_im, sigma, q, k0, d)
    assert _close(source, q * sigma * abs2)
    assert _close(source + absorbed, 0.0, 1e-9)
    # T = -q sigma |E|^2 / (2 Im kappa)^2 + 5 x solves the heat equation with this source
    kim = (k0 * complex(eps, -sigma) ** 0.5).imag
    temp = -q * sigma * abs2 / (2 * kim) ** 2 + 5 * pts[:, 0]
    lap_t, joule = joule_heat_terms(temp, e_re, e_im, sigma, q, d)
    assert _close(joule, q * sigma * abs2) and _close(lap_t + joule, 0.0, 1e-9)


def test_joule_balance_is_the_imaginary_part_of_conj_e_times_helmholtz():
    """Exactly, for any fields and the finite-difference lap:
    balance = -(q / k0^2) (E_re H_im - E_im H_re)."""
    g = torch.Generator().manual_seed(1)
    e_re, e_im, eps, sig = (torch.rand(2, 9, 9, dtype=torch.float64, generator=g)
                            for _ in range(4))
    k0, q = 2.5, 3.0
    d = FiniteDifference((0.1, 0.1))
    h_re, h_im = helmholtz_residual(e_re, e_im, eps, sig, k0, d)
    balance = sum(joule_balance_terms(e_re, e_im, sig, q, k0, d))
    assert _close(balance, -(q / k0**2) * (e_re * h_im - e_im * h_re), 1e-12)
    assert _close(joule_heat_residual(e_re, e_re, e_im, sig, q, d),
                  sum(joule_heat_terms(e_re, e_re, e_im, sig, q, d)), 0.0)


def test_hartmann_terms_on_the_hartmann_profile():
    """Hartmann flow w = G/Ha (cosh Ha - cosh Ha y)/sinh Ha, b = G/Ha (sinh Ha y / sinh Ha - y)
    solves both equations; its Lorentz force is Ha b_y = G (Ha cosh Ha y / sinh Ha - 1)."""
    pts = _points(-1.0, 1.0)
    y = pts[:, 1]
    ha, g = 3.0, 1.5
    w = g / ha * (math.cosh(ha) - torch.cosh(ha * y)) / math.sinh(ha)
    b = g / ha * (torch.sinh(ha * y) / math.sinh(ha) - y)
    d = Autograd(pts)
    mom, ind = hartmann_terms(w, b, ha, g, d)
    assert _close(sum(mom), 0.0, 1e-9) and _close(sum(ind), 0.0, 1e-9)
    assert _close(mom[1], g * (ha * torch.cosh(ha * y) / math.sinh(ha) - 1.0))
    assert _close(hartmann_residuals(w, b, ha, g, d)[0], sum(mom), 1e-12)
    force = g * (ha * torch.cosh(ha * y) / math.sinh(ha) - 1.0)
    f, minus = lorentz_terms(force, b, ha, d)
    assert _close(f, force, 0.0) and _close(f + minus, 0.0, 1e-9)


def test_acoustic_and_magnitude_terms():
    """A plane wave exp(-i k x) with k^2 = omega^2 inv_kappa / inv_rho solves the acoustic
    equation; |3 + 4i| = 5."""
    pts = _points()
    x = pts[:, 0]
    omega, inv_rho, inv_kappa = 4.0, 2.0, 0.5
    k = omega * math.sqrt(inv_kappa / inv_rho)
    re, im = acoustic_terms(torch.cos(k * x), -torch.sin(k * x), inv_rho, inv_kappa, omega,
                            Autograd(pts))
    assert _close(sum(re), 0.0, 1e-9) and _close(sum(im), 0.0, 1e-9)
    assert _close(re[1], omega**2 * inv_kappa * torch.cos(k * x))
    a, b = magnitude_terms(torch.tensor([5.0, 1.0]), torch.tensor([3.0, 1.0]),
                           torch.tensor([4.0, -1.0]))
    assert a.tolist() == [5.0, 1.0] and b.tolist() == pytest.approx([-5.0, -math.sqrt(2)])
    mask = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert fluid_domain({"mask": mask}, {}).tolist() == [[True, False], [False, True]]


@pytest.mark.parametrize("equation", [TE_HEAT, E_FLOW, MHD, VA], ids=lambda e: e.name)
def test_registered_equations_vanish_on_exact_solutions_with_autograd(equation):
    """The registered components (the PINN loss) are zero on closed-form solutions."""
    pts = _points(-1.0, 1.0) if equation is MHD else _points()
    x, y = pts[:, 0], pts[:, 1]
    one = 1.0 + 0.0 * x  # on the graph, so that autograd can differentiate through constants
    d = Autograd(pts)
    if equation is TE_HEAT:
        # vacuum plane wave (sigma0 = 0) and a harmonic temperature
        k0 = 3.0
        fields = {"E_re": torch.cos(k0 * x), "E_im": -torch.sin(k0 * x), "T": 1 + x * y,
                  "eps_r": one, "sigma0": 0 * one}
        params = {"k0": k0, "q": 2.0, "gamma": 5.0}
    elif equation is E_FLOW:
        # uniform media: V the applied ramp, u = k_V grad V - k_p grad p with p = 0.3 x
        fields = {"V": 0.7 * (1 - x), "kappa": 2 * one, "k_p": 1.5 * one,
                  "u": (-0.8 * 0.7 - 1.5 * 0.3) * one, "v": 0 * one, "x": x, "y": y}
        params = {"k_v": 0.8, "v_applied": 0.7}
    elif equation is MHD:
        ha, g = 2.0, 1.0
        w = g / ha * (math.cosh(ha) - torch.cosh(ha * y)) / math.sinh(ha)
        b = g / ha * (torch.sinh(ha * y) / math.sinh(ha) - y)
        force = g * (ha * torch.cosh(ha * y) / math.sinh(ha) - 1.0)
        fields = {"w": w, "b": b, "F": force, "Ha": ha * one, "G": g * one}
        params = {}
    else:
        omega = 5.0
        p_re, p_im = torch.cos(omega * y), -torch.sin(omega * y)
        fields = {"p_re": p_re, "p_im": p_im, "p_abs": one, "inv_rho": one, "mask": 0 * one}
        params = {"omega": omega, "kappa": 1.0}
    for name, r in equation.residual(fields, params, d).items():
        assert _close(r, 0.0, 1e-9), name
    assert _close(equation.coupling.residual(fields, params, d), 0.0, 1e-9)


@pytest.mark.parametrize("name,metric", [("te_heat", "bc_error/E_re"), ("te_heat", "bc_error/T"),
                                         ("va", "bc_error/p_re")])
def test_a_zero_prediction_violates_the_walls_that_drive_the_problem(tiny, name, metric):
    """The interior equations are homogeneous (the zero field satisfies them); the incident wave
    and the heat loss enter through the walls, which bc_error checks."""
    dm = tiny(name)
    floor = recorded_floor(dm.source)[metric]
    zero = physics_values(dm.meta, dm.dataset, perturb=lambda y, x: torch.zeros_like(y))[metric]
    assert zero > 10 * floor, (metric, floor, zero)


@pytest.mark.parametrize("name,metric", [("te_heat", "bc_error/E_re"), ("te_heat", "bc_error/T"),
                                         ("va", "bc_error/p_re")])
def test_robin_wall_floor_falls_at_second_order(tiny, name, metric):
    """Measured 16^2 -> 32^2 -> 64^2: te_heat E 0.581, 0.146, 0.0366 (orders 1.99, 2.00), T
    2.8e-3, 3.8e-4, 7e-5; va 0.629, 0.153, 0.0381 (2.04, 2.01)."""
    coarse = recorded_floor(tiny(name).source)[metric]
    fine = recorded_floor(tiny(name, 32).source)[metric]
    assert math.log2(coarse / fine) > 1.8, (coarse, fine)


def test_absorbing_wall_data_is_exact_for_the_incident_wave():
    """The incident plane wave alone, without a scatterer, satisfies the absorbing condition:
    d_n u + i k u = g on every wall (with exact derivatives)."""
    from pdebench.physics.multiphysics import absorbing_wall

    coef, data = absorbing_wall("k")
    params = {"k": 5.0, "theta": 0.4}
    y = torch.linspace(0, 1, 7, dtype=torch.float64)
    kx, ky = 5.0 * math.cos(0.4), 5.0 * math.sin(0.4)
    for normal, x in (((-1.0, 0.0), 0.0), ((1.0, 0.0), 1.0)):
        xs = torch.full_like(y, x)
        u = torch.exp(-1j * (kx * xs + ky * y))
        dn = normal[0] * (-1j * kx) * u
        lhs = dn + coef({"x": xs, "y": y}, params, normal) * u
        assert torch.allclose(lhs, data({"x": xs, "y": y}, params, normal), atol=1e-12)
