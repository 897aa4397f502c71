"""1D advection and Burgers: shared equations, exact-shift and pseudo-spectral generators.

Covers pdebench/physics/advection.py, pdebench/physics/burgers.py, datasets/advection_solver.py
and datasets/burgers_solver.py. Grid: cell centres ``(j + 1/2) / X`` of the periodic unit interval.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import pdebench.datasets.pdebench_suite.advection_solver as adv
import pdebench.datasets.pdebench_suite.burgers_solver as bs
from pdebench.datasets.numerics.grid import cell_centres_1d
from pdebench.datasets.pdebench_suite.advection_solver import (
    generate_advection,
    sample_sine_sums,
)
from pdebench.datasets.pdebench_suite.burgers_solver import SpectralBurgers, generate_burgers
from pdebench.physics.advection import advection_residual, central_time_derivative
from pdebench.physics.burgers import burgers_residual
from pdebench.physics.derivatives import Autograd, FiniteDifference


def spectral_resample(u: np.ndarray, n_new: int) -> np.ndarray:
    """Trigonometric interpolant of cell-centred periodic data ``(..., X)`` at ``n_new`` centres
    (exact for band-limited data below both Nyquist limits)."""
    n = u.shape[-1]
    m = min(n, n_new) // 2  # keep modes strictly below both Nyquist limits
    v = np.fft.rfft(u)[..., :m] / n * np.exp(-1j * np.pi * np.arange(m) / n)
    out = np.zeros(u.shape[:-1] + (n_new // 2 + 1,), dtype=complex)
    out[..., :m] = v * np.exp(1j * np.pi * np.arange(m) / n_new) * n_new
    return np.fft.irfft(out, n_new)


def solve_spectral(n: int, nu: float, t_end: float, dt: float, n_samples: int = 3,
                   seed: int = 0, max_wavenumber: int = 3) -> np.ndarray:
    """Float64 solution at ``t_end`` (n_samples, n) from the same sine-sum draw on any grid."""
    ic = sample_sine_sums(n_samples, np.random.default_rng(seed), max_wavenumber=max_wavenumber)
    steps = round(t_end / dt)
    assert abs(steps * dt - t_end) < 1e-12
    return SpectralBurgers(n, nu, dt).run(ic.evaluate(cell_centres_1d(n)), 2, steps)[:, -1]


# ------------------------------------------------------------------------------------------------
# Shared equations
# ------------------------------------------------------------------------------------------------

def test_central_time_derivative_exact_on_quadratics():
    t = torch.linspace(0, 1, 6, dtype=torch.float64)
    frames = (3 * t**2 - t + 2)[None, :, None].expand(2, 6, 4)
    torch.testing.assert_close(central_time_derivative(frames, 0.2),
                               (6 * t - 1)[None, :, None].expand(2, 6, 4), rtol=0, atol=1e-12)
    two = central_time_derivative(frames[:, :2], 0.2)  # two frames: forward difference
    torch.testing.assert_close(two, (frames[:, 1:2] - frames[:, :1]).expand(2, 2, 4) / 0.2)
    with pytest.raises(ValueError, match="dt"):
        central_time_derivative(frames, 0.0)


def test_residuals_vanish_for_exact_solutions_under_autograd():
    beta, nu = 0.7, 0.05
    eps = nu / math.pi
    x = torch.rand(64, 1, dtype=torch.float64, requires_grad=True)
    t = torch.rand(64, 1, dtype=torch.float64, requires_grad=True)
    d = Autograd(x)
    u = torch.sin(2 * math.pi * (x - beta * t)) + 0.3 * torch.cos(6 * math.pi * (x - beta * t))
    (u_t,) = torch.autograd.grad(u.sum(), t, create_graph=True)
    assert advection_residual(u_t, u, beta, d).abs().max() < 1e-10
    # travelling viscous shock u = c - a tanh(a (x - c t) / (2 eps)) solves u_t + u u_x = eps u_xx
    c, a = 0.4, 0.8
    u = c - a * torch.tanh(a * (x - 0.5 - c * t) / (2 * eps))
    (u_t,) = torch.autograd.grad(u.sum(), t, create_graph=True)
    r = burgers_residual(u_t, u, nu, d)
    assert r.abs().max() < 1e-9
    assert burgers_residual(u_t, u, 2 * nu, d).abs().max() > 1e-2  # the viscosity matters


def test_residuals_reject_a_space_time_provider():
    xt = torch.rand(8, 2, dtype=torch.float64, requires_grad=True)
    u = xt.sum(dim=1)
    with pytest.raises(ValueError, match="one-dimensional"):
        burgers_residual(u, u, 0.1, Autograd(xt))
    with pytest.raises(ValueError, match="one-dimensional"):
        advection_residual(torch.zeros(2, 8), torch.zeros(2, 8, 8), 1.0,
                           FiniteDifference([0.1, 0.1], bc="periodic"))


def test_burgers_fd_residual_conserves_the_mean():
    u = torch.randn(3, 32, dtype=torch.float64)
    d = FiniteDifference([1 / 32], bc="periodic")
    r = burgers_residual(torch.zeros_like(u), u, 0.1, d)
    assert r.sum(dim=1).abs().max() < 1e-12


# ------------------------------------------------------------------------------------------------
# Generators: determinism, shapes, validation
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("gen", [generate_advection, generate_burgers])
def test_deterministic_prefix_stable_and_shapes(gen):
    kw = dict(resolution=64, n_frames=11, t_end=0.5, max_wavenumber=4)
    if gen is generate_burgers:
        kw["nu"] = 0.1
    one, two = gen(5, seed=3, **kw), gen(5, seed=3, **kw)
    assert one["u"].shape == (5, 11, 1, 64) and one["u"].dtype == np.float32
    assert one["t"].shape == (11,) and one["t"].dtype == np.float64
    assert one["x"].shape == (64,) and one["x"].dtype == np.float64
    np.testing.assert_allclose(one["x"], (np.arange(64) + 0.5) / 64)
    np.testing.assert_allclose(one["t"], np.linspace(0, 0.5, 11))
    assert np.array_equal(one["u"], two["u"])
    assert not np.array_equal(one["u"], gen(5, seed=4, **kw)["u"])
    assert np.array_equal(gen(2, seed=3, **kw)["u"], one["u"][:2])
    assert one["residual"]["passed"] and isinstance(one["solver"]["method"], str)
    calls = []
    gen(3, seed=0, progress=lambda done, total: calls.append((done, total)), **kw)
    assert calls[-1] == (3, 3)


@pytest.mark.parametrize("kwargs, name", [
    (dict(n_samples=0), "n_samples"),
    (dict(n_frames=1), "n_frames"),
    (dict(resolution=2), "resolution"),
    (dict(beta=0.0), "beta"),
    (dict(beta=-1.0), "beta"),
    (dict(t_end=float("nan")), "t_end"),
    (dict(max_wavenumber=0), "max_wavenumber"),
])
def test_advection_rejects_invalid_parameters(kwargs, name):
    args = dict(n_samples=2, resolution=32) | kwargs
    with pytest.raises(ValueError, match=name):
        generate_advection(**args)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(n_samples=0), "n_samples"),
    (dict(n_frames=1), "n_frames"),
    (dict(nu=0.0), "nu"),
    (dict(nu=-0.01), "nu"),
    (dict(resolution=64, nu=0.01), "too coarse for nu.*cell Reynolds"),
    (dict(resolution=16, max_wavenumber=8), "resolution.*de-aliasing"),
    (dict(dt=0.01), r"dt = 0.01 violates the CFL.*U\*dt/h"),
    (dict(cfl=2.0), "cfl"),
])
def test_burgers_rejects_invalid_parameters_before_work(monkeypatch, kwargs, pattern):
    def no_work(*a, **k):
        raise AssertionError("work started before validation")

    monkeypatch.setattr(bs, "sample_sine_sums", no_work)
    monkeypatch.setattr(bs, "SpectralBurgers", no_work)
    args = dict(n_samples=2, resolution=256, nu=0.01) | kwargs
    with pytest.raises(ValueError, match=pattern):
        generate_burgers(**args)


def test_burgers_divergence_is_detected_with_the_step():
    # dt = frame spacing = 0.05 is ~13x the CFL limit at X = 256: a genuine blow-up
    with pytest.raises(RuntimeError, match=r"diverged at step \d+ \(t = .*max\|u\|"):
        generate_burgers(2, resolution=256, nu=0.01, dt=0.05, check_cfl=False)


# ------------------------------------------------------------------------------------------------
# Advection: exact shift, second-order residual
# ------------------------------------------------------------------------------------------------

def test_advection_shift_direction_and_period():
    out = generate_advection(4, resolution=256, beta=1.0, n_frames=41, t_end=2.0)
    u = out["u"][:, :, 0].astype(np.float64)
    assert out["t"][20] == 1.0 and out["t"][5] == 0.25
    np.testing.assert_allclose(u[:, 20], u[:, 0], rtol=0, atol=1e-6)  # u(x, 1/beta) = u0(x)
    # t = 1/4 is a shift by 64 cells to the right: u(x_j, t) = u0(x_{j-64})
    np.testing.assert_allclose(u[:, 5], np.roll(u[:, 0], 64, axis=1), rtol=0, atol=1e-6)
    ic = out["initial_condition"]
    x = out["x"]
    u0 = sum(ic["amplitude"][:, i, None] * np.sin(2 * np.pi * ic["wavenumber"][:, i, None] * x
                                                  + ic["phase"][:, i, None]) for i in range(2))
    np.testing.assert_allclose(u[:, 0], u0, rtol=0, atol=1e-6)
    assert out["residual"]["closed_form_deviation"] < 1e-12


def test_advection_residual_converges_at_second_order():
    rms = []
    for n, frames in ((64, 41), (128, 81), (256, 161)):
        out = generate_advection(1, resolution=n, beta=1.0, n_frames=frames, t_end=1.0,
                                 max_wavenumber=2, seed=5)
        rms.append(out["residual"]["rms_max"])
    orders = [math.log2(a / b) for a, b in zip(rms[:-1], rms[1:], strict=True)]
    assert all(1.8 <= p <= 2.2 for p in orders), orders


# ------------------------------------------------------------------------------------------------
# Burgers: convergence in space and time, conservation, self-check
# ------------------------------------------------------------------------------------------------

def test_burgers_spectral_convergence_in_space():
    nu, t_end, dt = 0.1, 0.5, 1 / 1024
    ref = solve_spectral(256, nu, t_end, dt)
    err = {n: np.abs(solve_spectral(n, nu, t_end, dt) - spectral_resample(ref, n)).max()
           for n in (24, 48, 96)}
    # exponential convergence: each doubling gains far more than any algebraic order would
    assert err[48] < err[24] / 1000 and err[96] < err[48] / 1000, err
    assert err[96] < 1e-11


def test_burgers_time_stepper_is_fourth_order():
    # fitted over four halvings of dt (single pairs wobble pre-asymptotically: 4.4, 3.4, 3.9)
    nu, t_end, n = 0.1, 0.5, 64
    ref = solve_spectral(n, nu, t_end, 1 / 4096)
    dts = np.array([1 / 32, 1 / 64, 1 / 128, 1 / 256])
    errs = np.array([np.abs(solve_spectral(n, nu, t_end, dt) - ref).max() for dt in dts])
    order = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert 3.6 <= order <= 4.4, (errs, order)
    assert (np.diff(errs) < 0).all()


def test_burgers_conserves_the_mean_and_reports_a_small_residual():
    out = generate_burgers(3, resolution=128, nu=0.1, n_frames=101, t_end=0.5, max_wavenumber=4)
    u = out["u"][:, :, 0].astype(np.float64)
    np.testing.assert_allclose(u.mean(axis=2), u[:, :1].mean(axis=2).repeat(101, 1), atol=1e-6)
    res = out["residual"]
    assert res["mean_drift_max"] < 1e-14
    assert res["passed"] and res["rel_rms_max"] < 0.05
    fine = generate_burgers(3, resolution=256, nu=0.1, n_frames=201, t_end=0.5, max_wavenumber=4)
    ratio = res["rms_max"] / fine["residual"]["rms_max"]
    assert 3.0 < ratio < 5.0  # second order in the finite differences of the check


def test_burgers_max_principle_and_solver_record():
    out = generate_burgers(8, resolution=256, nu=0.01)
    u0max = np.abs(out["u"][:, 0]).max(axis=(1, 2))
    assert (np.abs(out["u"]).max(axis=(1, 2, 3)) <= u0max * (1 + 1e-3)).all()
    s = out["solver"]
    assert s["cfl_number"] <= bs.CFL_MAX and s["cell_reynolds"] <= bs.MAX_CELL_REYNOLDS
    assert s["steps_per_frame"] * s["dt"] == pytest.approx(out["t"][1])


def test_advection_self_check_catches_a_wrong_shift(monkeypatch):
    # the check looks at three interior frames only; a shift in the wrong direction must still fail
    good = adv.SineSums.evaluate
    monkeypatch.setattr(adv.SineSums, "evaluate",
                        lambda self, x, shift=0.0: good(self, x, -np.asarray(shift)))
    with pytest.raises(RuntimeError, match="closed form"):
        generate_advection(3, resolution=128, beta=0.4, n_frames=21)
    out = generate_advection(2, resolution=64, n_frames=2)  # two frames: finiteness only
    assert out["residual"]["passed"] and out["residual"]["frames_checked"] == []
