"""2D diffusion-reaction (FitzHugh--Nagumo) and Navier--Stokes generators, equations and schemes.

Covers datasets/diffusion_reaction_solver.py, datasets/navier_stokes_solver.py,
pdebench/physics/diffusion_reaction.py and pdebench/physics/navier_stokes.py. Small grids only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.datasets.pdebench_suite.diffusion_reaction_solver import (
    cell_centres,
    generate_diffusion_reaction,
    solve_diffusion_reaction,
)
from pdebench.datasets.pdebench_suite.navier_stokes_solver import (
    SpectralGrid,
    generate_navier_stokes,
    sample_vorticity_grf,
    solve_navier_stokes,
)
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.diffusion_reaction import fitzhugh_nagumo_residual
from pdebench.physics.navier_stokes import (
    divergence,
    velocity_from_stream_function,
    velocity_from_vorticity,
    vorticity_residual,
)


def order(e_coarse: float, e_fine: float, ratio: float = 2.0) -> float:
    return math.log(e_coarse / e_fine) / math.log(ratio)


# ------------------------------------------------------------------------------------------------
# Diffusion-reaction
# ------------------------------------------------------------------------------------------------

def test_dr_generator_shapes_determinism_and_self_check():
    a = generate_diffusion_reaction(2, resolution=16, n_frames=6, t_end=1.0, seed=3)
    b = generate_diffusion_reaction(2, resolution=16, n_frames=6, t_end=1.0, seed=3)
    assert a["u"].shape == (2, 6, 2, 16, 16) and a["u"].dtype == np.float32
    assert np.array_equal(a["u"], b["u"])
    c = generate_diffusion_reaction(1, resolution=16, n_frames=6, t_end=1.0, seed=3)
    assert np.array_equal(c["u"][0], a["u"][0])  # a smaller n gives a prefix
    assert not np.array_equal(generate_diffusion_reaction(
        1, resolution=16, n_frames=6, t_end=1.0, seed=4)["u"][0], a["u"][0])
    np.testing.assert_allclose(a["t"], np.linspace(0, 1, 6))
    np.testing.assert_allclose(a["x"], -1 + (np.arange(16) + 0.5) / 8)
    assert a["residual"]["passed"] and a["residual"]["rel_rms_step_max"] < 5e-2


def test_dr_invalid_parameters_raise_before_work():
    calls = []
    for kw in [{"n_samples": 0}, {"resolution": 4}, {"n_frames": 1}, {"du": -1.0},
               {"t_end": 0.0}, {"dt": 1.0}]:
        args = {"n_samples": 1, "resolution": 16, "n_frames": 3, "t_end": 0.5} | kw
        with pytest.raises(ValueError):
            generate_diffusion_reaction(**args, progress=lambda *a: calls.append(a))
    assert calls == []


def _cos_mode(n: int, m: tuple[int, int]) -> np.ndarray:
    x, y = cell_centres(n)
    return np.cos(math.pi * m[0] * (x[:, None] + 1) / 2) * np.cos(math.pi * m[1] * (y[None] + 1) / 2)


def test_dr_pure_diffusion_cosine_decay_and_temporal_order():
    """Reaction off: a Neumann eigenmode decays as exp(-D |k|^2 t); CN is second order in dt."""
    n, du, dv, t_end, m = 32, 0.05, 0.1, 1.0, (2, 3)
    phi = _cos_mode(n, m)
    s0 = np.stack([phi, phi])[None]
    lam_h = -(4 * n**2 / 4) * (math.sin(math.pi * m[0] / (2 * n)) ** 2
                               + math.sin(math.pi * m[1] / (2 * n)) ** 2)
    lam = -(math.pi / 2) ** 2 * (m[0] ** 2 + m[1] ** 2)
    errs = []
    for dt in (0.1, 0.05, 0.025):
        out = solve_diffusion_reaction(s0, np.array([0.0, t_end]), du, dv, dt=dt, reaction=False)
        semi = np.stack([np.exp(du * lam_h * t_end) * phi, np.exp(dv * lam_h * t_end) * phi])
        errs.append(np.abs(out[0, -1] - semi).max())
        exact = np.stack([np.exp(du * lam * t_end) * phi, np.exp(dv * lam * t_end) * phi])
        assert np.abs(out[0, -1] - exact).max() < 2e-3  # continuum: O(h^2) + O(dt^2)
    orders = [order(errs[i], errs[i + 1]) for i in range(2)]
    print('DR diffusion-only temporal orders', orders)
    assert all(abs(p - 2) < 0.1 for p in orders), (errs, orders)


def test_dr_no_flux_conserves_mean_under_pure_diffusion():
    s0 = np.random.default_rng(0).standard_normal((2, 2, 16, 16))
    out = solve_diffusion_reaction(s0, np.linspace(0, 2, 5), reaction=False, dt=0.05)
    means = out.mean(axis=(-2, -1))
    np.testing.assert_allclose(means, np.broadcast_to(means[:, :1], means.shape), rtol=0,
                               atol=1e-14)


def test_dr_full_problem_converges_under_refinement():
    """Smooth data, reaction on: error at t_end against a 3x finer (space and time) reference.

    Grids 8, 24 and 72 cells: odd ratios keep the coarse cell centres on the fine ones.
    """
    du, dv, t_end = 0.05, 0.1, 0.5

    def init(n):
        x, y = cell_centres(n)
        u = 0.8 * np.cos(math.pi * (x[:, None] + 1) / 2) + 0.3 * np.cos(math.pi * (y[None] + 1))
        v = 0.5 * np.cos(math.pi * (x[:, None] + 1)) * np.cos(math.pi * (y[None] + 1) / 2)
        return np.stack([u, v])[None]

    def run(n, dt):
        return solve_diffusion_reaction(init(n), np.array([0, t_end]), du, dv, 5e-3, dt=dt)[0, -1]

    ref = run(72, 0.1 / 9)
    e8 = np.abs(run(8, 0.1) - ref[:, 4::9, 4::9]).max()
    e24 = np.abs(run(24, 0.1 / 3) - ref[:, 1::3, 1::3]).max()
    p = order(e8, e24, 3.0)
    print('DR full-problem order (h, dt / 3)', p, e8, e24)
    assert p > 1.8, (e8, e24, p)


def test_dr_residual_of_exact_eigenmode_and_autograd():
    n = 16
    d = FiniteDifference((2 / n, 2 / n), bc="neumann_zero")
    phi = torch.from_numpy(_cos_mode(n, (1, 2)))[None]
    lam_h = float((d.lap(phi) / phi).mean())
    u, v = phi, 0.0 * phi
    # choose u_t, v_t so that the discrete equations hold exactly
    u_t = 1e-3 * lam_h * u + (u - u**3 - 5e-3 - v)
    v_t = u - v
    ru, rv = fitzhugh_nagumo_residual(u_t, v_t, u, v, 1e-3, 5e-3, 5e-3, d)
    assert float(ru.abs().max()) < 1e-12 and float(rv.abs().max()) < 1e-12


# ------------------------------------------------------------------------------------------------
# Navier-Stokes
# ------------------------------------------------------------------------------------------------

def _grid(n):
    x = (np.arange(n) + 0.5) / n
    return x[:, None], x[None, :]


def test_ns_generator_shapes_determinism_mean_and_fields():
    kw = {"resolution": 16, "n_frames": 4, "t_end": 0.6}
    a = generate_navier_stokes(2, seed=1, **kw)
    b = generate_navier_stokes(2, seed=1, **kw)
    assert a["u"].shape == (2, 4, 1, 16, 16) and a["u"].dtype == np.float32
    assert np.array_equal(a["u"], b["u"])
    assert np.abs(a["u"].astype(np.float64).mean(axis=(-2, -1))).max() < 1e-7  # mean vorticity 0
    assert a["residual"]["passed"]
    c = generate_navier_stokes(2, seed=1, fields=("vorticity", "u", "v"), **kw)
    assert c["u"].shape == (2, 4, 3, 16, 16)
    np.testing.assert_array_equal(c["u"][:, :, 0], a["u"][:, :, 0])
    # the stored velocity is the one of the stored vorticity
    w = torch.from_numpy(c["u"][:, -1, 0].astype(np.float64))
    u, v = velocity_from_vorticity(w, (1 / 16, 1 / 16))
    np.testing.assert_allclose(c["u"][:, -1, 1], u.numpy(), atol=1e-6)
    np.testing.assert_allclose(c["u"][:, -1, 2], v.numpy(), atol=1e-6)


def test_ns_invalid_parameters_and_cfl_raise_before_work():
    calls = []
    for kw in [{"nu": 0.0}, {"nu": -1e-3}, {"resolution": 8}, {"n_frames": 1}, {"n_samples": 0},
               {"fields": ("pressure",)}, {"dt": -1.0}]:
        args = {"n_samples": 1, "resolution": 16, "n_frames": 3, "t_end": 0.5} | kw
        with pytest.raises(ValueError):
            generate_navier_stokes(**args, progress=lambda *a: calls.append(a))
    with pytest.raises(ValueError, match=r"dt=0\.5 violates the CFL condition: bound"):
        generate_navier_stokes(1, resolution=16, n_frames=2, t_end=0.5, dt=0.5,
                               grf_scale=686.0, progress=lambda *a: calls.append(a))
    assert calls == []


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_ns_forced_divergence_is_detected():
    with pytest.raises(RuntimeError, match=r"diverged at step \d+, t="):
        generate_navier_stokes(1, resolution=32, nu=1e-5, n_frames=3, t_end=20.0, dt=1.0,
                               check_cfl=False, grf_scale=686.0)


def test_ns_unforced_eigenmode_decays_exactly():
    """w = cos(2 pi x) cos(2 pi y) + sin(2 pi (x + y))/2: all |k|^2 = 8 pi^2, u.grad w = 0."""
    n, nu, t_end = 16, 0.01, 1.0
    x, y = _grid(n)
    w0 = (np.cos(2 * np.pi * x) * np.cos(2 * np.pi * y) + 0.5 * np.sin(2 * np.pi * (x + y)))[None]
    lam = 8 * np.pi**2 * nu
    errs = []
    for dt in (0.1, 0.05, 0.025):
        out, _ = solve_navier_stokes(w0, np.array([0, t_end]), nu, dt=dt, check_cfl=False)
        errs.append(np.abs(out[0, -1, 0] - np.exp(-lam * t_end) * w0[0]).max())
    assert errs[-1] < 1e-4
    p = [order(errs[i], errs[i + 1]) for i in range(2)]
    print('NS eigenmode orders', p, errs)
    assert all(abs(q - 2) < 0.1 for q in p), (errs, p)


def test_ns_forced_shear_mode_exact_solution_and_order():
    """f = 0.1 (sin + cos)(2 pi (x + y)); w = a(t) (sin + cos)(2 pi (x + y)) solves the full
    equation (a function of x + y has u.grad w = 0): a' = -8 pi^2 nu a + 0.1."""
    n, nu, t_end = 16, 0.02, 1.0
    x, y = _grid(n)
    mode = np.sin(2 * np.pi * (x + y)) + np.cos(2 * np.pi * (x + y))
    lam = 8 * np.pi**2 * nu
    a_inf, a0 = 0.1 / lam, 0.3
    exact = (a_inf + (a0 - a_inf) * np.exp(-lam * t_end)) * mode
    errs = []
    for dt in (0.1, 0.05, 0.025):
        out, _ = solve_navier_stokes(a0 * mode[None], np.array([0, t_end]), nu, 0.1 * mode, dt=dt,
                                     check_cfl=False)
        errs.append(np.abs(out[0, -1, 0] - exact).max())
    p = [order(errs[i], errs[i + 1]) for i in range(2)]
    print('NS forced shear orders', p, errs)
    assert errs[-1] < 1e-3 and all(abs(q - 2) < 0.1 for q in p), (errs, p)
    # and the shared residual of the exact solution vanishes up to FD truncation of one mode
    d = FiniteDifference((1 / n, 1 / n), bc="periodic")
    w = torch.from_numpy(exact)[None]
    w_t = torch.from_numpy(-lam * (exact - a_inf * mode))[None]
    r = vorticity_residual(w_t, w, nu, d, forcing=torch.from_numpy(0.1 * mode)[None])
    kh = 2 * np.pi / n
    assert float(r.abs().max()) < nu * 8 * np.pi**2 * kh**2 / 12 * np.abs(exact).max() * 1.5


def test_ns_nonlinear_temporal_order_by_self_convergence():
    n, nu, t_end = 32, 1e-3, 1.0
    w0 = sample_vorticity_grf(1, n, np.random.default_rng(0), scale=686.0)
    x, y = _grid(n)
    f = 0.1 * (np.sin(2 * np.pi * (x + y)) + np.cos(2 * np.pi * (x + y)))
    sols = [solve_navier_stokes(w0, np.array([0, t_end]), nu, f, dt=dt)[0][0, -1, 0]
            for dt in (0.04, 0.02, 0.01)]
    p = order(np.abs(sols[0] - sols[1]).max(), np.abs(sols[1] - sols[2]).max())
    print('NS nonlinear self-convergence order', p)
    assert abs(p - 2) < 0.2, p


def test_ns_velocity_divergence_free():
    n = 32
    w = torch.from_numpy(sample_vorticity_grf(2, n, np.random.default_rng(1), scale=686.0))
    d = FiniteDifference((1 / n, 1 / n), bc="periodic")
    # stream function spectrally, velocity through the provider: discrete divergence is round-off
    g = SpectralGrid(n)
    psi_hat = np.fft.rfft2(w.numpy()) * np.where(g.k2 > 0, 1 / np.where(g.k2 > 0, g.k2, 1), 0)
    psi = torch.from_numpy(np.fft.irfft2(psi_hat, s=(n, n)))
    u, v = velocity_from_stream_function(psi, d)
    assert float(divergence(u, v, d).abs().max()) < 1e-12 * float(u.abs().max()) * n
    # the spectral velocity: spectrally exact; FD divergence at truncation level only
    us, vs = velocity_from_vorticity(w, (1 / n, 1 / n))
    k0 = torch.from_numpy(2 * np.pi * np.fft.fftfreq(n, 1 / n))[:, None]
    k1 = torch.from_numpy(2 * np.pi * np.fft.rfftfreq(n, 1 / n))[None, :]
    div_sp = torch.fft.irfft2(1j * k0 * torch.fft.rfft2(us) + 1j * k1 * torch.fft.rfft2(vs),
                              s=(n, n))
    assert float(div_sp.abs().max()) < 1e-12
    assert float(divergence(us, vs, d).abs().max()) < 0.2 * float(w.abs().max())
    # and -lap(psi) = w through the provider up to truncation, w = v_x - u_y spectrally
    gx = d.grad(psi)
    assert torch.allclose(u, gx[1]) and torch.allclose(v, -gx[0])


def test_vorticity_residual_needs_velocity_for_other_providers():
    d = FiniteDifference((0.1, 0.1), bc="neumann_zero")
    w = torch.zeros(1, 8, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match="velocity"):
        vorticity_residual(w, w, 1e-3, d)
