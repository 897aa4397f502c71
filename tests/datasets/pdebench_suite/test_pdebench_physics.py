"""Physics metrics of PDEBench's generated datasets: each dataset's own reference solution scores
the physics floor its generator recorded, and perturbed solutions score measurably worse."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from pdebench.physics.advection import ADVECTION
from pdebench.physics.burgers import BURGERS
from pdebench.physics.derivatives import Autograd, FiniteDifference
from pdebench.physics.diffusion_reaction import DIFFUSION_REACTION
from pdebench.physics.navier_stokes import NAVIER_STOKES, fno_forcing
from pdebench.testing import physics_values, recorded_floor, tiny_datamodule


def _tiny(name: str, tmp_path, *overrides: str):
    return tiny_datamodule(name, *overrides, data_dir=tmp_path)


def _offset(y: torch.Tensor, x: torch.Tensor, amount: float = 0.01) -> torch.Tensor:
    return y + amount


def _bump(y: torch.Tensor, x: torch.Tensor, amount: float = 0.05) -> torch.Tensor:
    """A smooth interior bump, zero on the walls (so it leaves the boundary values alone)."""
    n = y.shape[-1]
    s = torch.sin(math.pi * (torch.arange(n, dtype=y.dtype) + 0.5) / n)
    shape = s[:, None] * s[None, :] if y.ndim == 4 else s
    return y + amount * y.abs().amax() * shape


def test_darcy_reference_scores_its_recorded_floor(tmp_path):
    dm = _tiny("darcy", tmp_path)
    floor = recorded_floor(dm.source)
    assert set(floor) == {"residual_l2/darcy", "residual_rel/darcy", "bc_error/u"}
    got = physics_values(dm.meta, dm.dataset)
    assert got == pytest.approx(floor, rel=1e-9)
    # the generator's own solution solves the equation to float32 round-off
    assert floor["residual_rel/darcy"] < 1e-4


@pytest.mark.parametrize("perturb,metric", [
    (_bump, "residual_l2/darcy"), (_bump, "residual_rel/darcy"), (_offset, "bc_error/u")])
def test_darcy_perturbed_solution_scores_worse(tmp_path, perturb, metric):
    dm = _tiny("darcy", tmp_path)
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=perturb)[metric]
    assert worse > 2 * floor + 1e-6, (metric, floor, worse)


# ================================================================================================
# Time-dependent datasets (advection, Burgers, diffusion-reaction, Navier-Stokes): one-step
# windows scored at the midpoint of the step (pdebench.physics.grid), u_t = (u - u_prev) / dt.
# ================================================================================================

#: Advection with frames and grid that resolve the motion (two modes of wavenumber <= 2, 256
#: cells): the floor is then the second-order truncation, not the aliasing of the tiny size.
RESOLVED_ADVECTION = ("data.max_wavenumber=2", "data.resolution=256")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``built(name, *overrides)``: the tiny dataset, generated once per module."""
    cache = {}

    def get(name: str, *overrides: str):
        if (name, overrides) not in cache:
            cache[(name, overrides)] = _tiny(name, tmp_path_factory.mktemp(name), *overrides)
        return cache[(name, overrides)]

    return get


def _centres(n: int, lo: float, hi: float, dtype: torch.dtype) -> torch.Tensor:
    return lo + (hi - lo) * (torch.arange(n, dtype=dtype) + 0.5) / n


def _edit(channel: int, change):
    """A perturbation adding ``change(field)`` to one output channel (field ``(batch, *S)``)."""
    def perturb(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        out = y.clone()
        out[:, channel] += change(y[:, channel])
        return out
    return perturb


def _window_peak(f: torch.Tensor) -> torch.Tensor:
    """``max |f|`` of each window of ``f`` (batch, *S), shaped to broadcast against it."""
    return f.abs().flatten(1).amax(1).reshape(-1, *(1,) * (f.ndim - 1))


def _batch_peak(f: torch.Tensor) -> torch.Tensor:
    """``max |f|`` over the batch."""
    return f.abs().amax()


# Perturbation sizes: ``amount`` times a peak of the field. Metrics in physical units
# (residual_l2, divergence_l2, coupling_consistency) get one physical size across the batch
# (``_batch_peak``); the relative ones (residual_rel, conservation_error), which normalise each
# window by its own reference, one relative to each window (``_window_peak``: a decayed Burgers
# state is ~1e-16, and a batch-sized edit of it would be "wrong" by 1e13).

def _periodic_bump(amount: float, peak=_window_peak):
    """``amount peak(f)`` times ``sin(2 pi x) [sin(2 pi y)]`` on the unit interval / square."""
    def change(f: torch.Tensor) -> torch.Tensor:
        s = torch.sin(2 * math.pi * _centres(f.shape[-1], 0.0, 1.0, f.dtype))
        return amount * peak(f) * (s[:, None] * s[None, :] if f.ndim == 3 else s)
    return change


def _wall_bump(amount: float, peak=_window_peak):
    """``amount peak(f)`` times a smooth 2D bump that vanishes on the walls."""
    def change(f: torch.Tensor) -> torch.Tensor:
        s = torch.sin(math.pi * _centres(f.shape[-1], 0.0, 1.0, f.dtype))
        return amount * peak(f) * s[:, None] * s[None, :]
    return change


def _shift(amount: float):
    """A constant ``amount max|f|`` per window (a mass offset)."""
    return lambda f: amount * _window_peak(f) * torch.ones_like(f)


# ------------------------------------------------------------------------------------------------
# advection
# ------------------------------------------------------------------------------------------------

def test_advection_reference_scores_its_recorded_floor(built):
    dm = built("advection")
    floor = recorded_floor(dm.source)
    assert set(floor) == {"residual_l2/advection", "residual_rel/advection",
                          "conservation_error/mass", "conservation_error/energy"}
    assert physics_values(dm.meta, dm.dataset) == pytest.approx(floor, rel=1e-9)
    # the exact shift of band-limited data conserves both integrals to float32 round-off
    assert floor["conservation_error/mass"] < 1e-6
    assert floor["conservation_error/energy"] < 1e-6


def test_advection_floor_is_the_closed_form_truncation(built):
    """At the tiny size (17 frames on [0, 2], 32 cells) the floor is exactly the truncation of
    the midpoint rule. For each sine
    mode of angular wavenumber kappa the residual is ``beta [cos(theta) sinc(kappa h) -
    sinc(theta)]`` times the mode's ``x``-derivative at the midpoint, ``theta = kappa beta dt /
    2``, ``sinc(z) = sin(z) / z`` (spectra of each window's input frame)."""
    dm = built("advection")
    beta, dt, n = dm.meta.pde_params["beta"], dm.meta.time["dt"], dm.meta.resolution[0]
    frames = torch.stack([dm.dataset[i]["x"][0] for i in range(len(dm.dataset))]).double()
    kappa = 2 * math.pi * torch.fft.rfftfreq(n, 1.0 / n, dtype=torch.float64)
    theta = kappa * beta * dt / 2

    def sinc(z):
        return torch.where(z == 0, torch.ones_like(z), torch.sin(z) / torch.where(z == 0, 1, z))

    mid = torch.fft.rfft(frames) * torch.exp(-1j * theta)  # the exact solution at t + dt/2
    u_t = torch.fft.irfft(-1j * kappa * beta * sinc(theta) * mid, n)
    adv = torch.fft.irfft(1j * kappa * beta * torch.cos(theta) * sinc(kappa / n) * mid, n)
    rms = (u_t + adv).square().mean(-1).sqrt()
    scale = torch.maximum(u_t.abs(), adv.abs()).square().mean(-1).sqrt()
    got = physics_values(dm.meta, dm.dataset)
    assert got["residual_l2/advection"] == pytest.approx(float(rms.mean()), rel=1e-5)
    # a ratio of sums over the windows
    assert got["residual_rel/advection"] == pytest.approx(float(rms.sum() / scale.sum()), rel=1e-5)


def test_advection_floor_is_second_order_in_the_frame_spacing(built):
    coarse = recorded_floor(built("advection", *RESOLVED_ADVECTION, "data.n_frames=33").source)
    fine = recorded_floor(built("advection", *RESOLVED_ADVECTION, "data.n_frames=65").source)
    ratio = coarse["residual_l2/advection"] / fine["residual_l2/advection"]
    # measured 3.87: (kappa beta dt)^2 / 12 falls 4x, the (kappa h)^2 / 6 of space stays
    assert 3.5 < ratio < 4.3, ratio
    assert fine["residual_rel/advection"] < 0.02  # measured 0.0089


@pytest.mark.parametrize("perturb,metric", [
    (_edit(0, _periodic_bump(0.05, _batch_peak)), "residual_l2/advection"),
    (_edit(0, _periodic_bump(0.05)), "residual_rel/advection")])
def test_advection_perturbed_residual_scores_worse(built, perturb, metric):
    dm = built("advection", *RESOLVED_ADVECTION, "data.n_frames=33")
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=perturb)[metric]
    assert worse > 2 * floor, (metric, floor, worse)


def test_advection_conservation_sees_mass_and_energy_apart(built):
    dm = built("advection", *RESOLVED_ADVECTION, "data.n_frames=33")
    floor = recorded_floor(dm.source)
    assert max(floor["conservation_error/mass"], floor["conservation_error/energy"]) < 1e-6
    offset = physics_values(dm.meta, dm.dataset, perturb=_edit(0, _shift(0.01)))
    assert offset["conservation_error/mass"] > 1e-3
    # scaling by 1.01 keeps the zero mean but adds 1.01^2 - 1 to the energy
    scaled = physics_values(dm.meta, dm.dataset, perturb=lambda y, x: 1.01 * y)
    assert scaled["conservation_error/mass"] < 1e-6
    assert scaled["conservation_error/energy"] == pytest.approx(1.01**2 - 1, rel=1e-4)


# ------------------------------------------------------------------------------------------------
# Burgers
# ------------------------------------------------------------------------------------------------

def test_burgers_reference_scores_its_recorded_floor(built):
    dm = built("burgers")
    floor = recorded_floor(dm.source)
    assert set(floor) == {"residual_l2/burgers", "residual_rel/burgers",
                          "conservation_error/mass"}
    assert physics_values(dm.meta, dm.dataset) == pytest.approx(floor, rel=1e-9)
    assert floor["conservation_error/mass"] < 1e-6  # the solver keeps the mean to round-off


def test_burgers_floor_is_second_order_in_the_frame_spacing(built):
    # residual_rel is a ratio of sums over the windows, so the steep early windows weigh most:
    # measured 0.311, 0.118, 0.0316, 0.0187 at 33, 65, 129, 257 frames (ratios 2.6, 3.7, 1.7:
    # asymptotic from 65 frames on, until the spatial error of 64 cells takes over)
    coarse = recorded_floor(built("burgers", "data.n_frames=65").source)
    fine = recorded_floor(built("burgers", "data.n_frames=129").source)
    ratio = coarse["residual_rel/burgers"] / fine["residual_rel/burgers"]
    assert 3.2 < ratio < 5.0, ratio  # measured 3.74
    assert fine["residual_rel/burgers"] < 0.05  # measured 0.0316


@pytest.mark.parametrize("perturb,metric", [
    (_edit(0, _periodic_bump(0.05, _batch_peak)), "residual_l2/burgers"),
    (_edit(0, _periodic_bump(0.05)), "residual_rel/burgers")])
def test_burgers_perturbed_residual_scores_worse(built, perturb, metric):
    dm = built("burgers", "data.n_frames=129")
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=perturb)[metric]
    assert worse > 2 * floor, (metric, floor, worse)


def test_burgers_mass_offset_breaks_conservation(built):
    dm = built("burgers", "data.n_frames=33")
    assert recorded_floor(dm.source)["conservation_error/mass"] < 1e-6
    worse = physics_values(dm.meta, dm.dataset, perturb=_edit(0, _shift(0.01)))
    assert worse["conservation_error/mass"] > 1e-3


# ------------------------------------------------------------------------------------------------
# diffusion-reaction (FitzHugh-Nagumo)
# ------------------------------------------------------------------------------------------------

DR = "diffusion_reaction"


def test_diffusion_reaction_reference_scores_its_recorded_floor(built):
    dm = built(DR)
    floor = recorded_floor(dm.source)
    assert set(floor) == {f"residual_l2/{DR}/u", f"residual_l2/{DR}/v", f"residual_rel/{DR}",
                          "bc_error/u", "bc_error/v", "coupling_consistency"}
    assert physics_values(dm.meta, dm.dataset) == pytest.approx(floor, rel=1e-9)
    assert floor[f"residual_rel/{DR}"] < 0.05  # measured 0.019 with 5 frames on [0, 0.5]
    # the coupling is the inhibitor equation regrouped (response against drive)
    assert floor["coupling_consistency"] == pytest.approx(floor[f"residual_l2/{DR}/v"], rel=1e-9)


def test_diffusion_reaction_floor_is_second_order_in_the_frame_spacing(built):
    coarse = recorded_floor(built(DR).source)
    fine = recorded_floor(built(DR, "data.n_frames=9").source)
    for metric in (f"residual_rel/{DR}", f"residual_l2/{DR}/u", f"residual_l2/{DR}/v"):
        ratio = coarse[metric] / fine[metric]
        assert 3.0 < ratio < 4.5, (metric, ratio)  # measured 3.71, 3.29, 3.83


@pytest.mark.parametrize("perturb,metric", [
    (_edit(0, _wall_bump(0.05, _batch_peak)), f"residual_l2/{DR}/u"),
    (_edit(1, _wall_bump(0.05, _batch_peak)), f"residual_l2/{DR}/v"),
    (_edit(0, _wall_bump(0.05)), f"residual_rel/{DR}"),
    # the activator alone changed: the inhibitor's drive no longer matches its response
    (_edit(0, _wall_bump(0.1, _batch_peak)), "coupling_consistency")])
def test_diffusion_reaction_perturbed_solution_scores_worse(built, perturb, metric):
    dm = built(DR)
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=perturb)[metric]
    assert worse > 2 * floor, (metric, floor, worse)


@pytest.mark.parametrize("channel,field", [(0, "u"), (1, "v")])
def test_diffusion_reaction_wall_flux_is_measured(built, channel, field):
    """``c (x^2 + y^2) / 2`` has outward normal derivative ``c`` on every wall (exactly, for the
    one-sided quadratic stencil), so the flux violation adds in quadrature to the floor (large:
    the white-noise state of PDEBench is rough, its wall gradients are O(1/h))."""
    dm = built(DR)
    floor = recorded_floor(dm.source)
    c = 2 * floor[f"bc_error/{field}"]

    def bowl(f: torch.Tensor) -> torch.Tensor:
        s = _centres(f.shape[-1], -1.0, 1.0, f.dtype)
        return 0.5 * c * (s[:, None] ** 2 + s[None, :] ** 2).expand_as(f)

    worse = physics_values(dm.meta, dm.dataset, perturb=_edit(channel, bowl))
    expect = math.hypot(floor[f"bc_error/{field}"], c)
    assert worse[f"bc_error/{field}"] == pytest.approx(expect, rel=0.1)
    other = "v" if field == "u" else "u"
    assert worse[f"bc_error/{other}"] == pytest.approx(floor[f"bc_error/{other}"], rel=1e-9)


# ------------------------------------------------------------------------------------------------
# Navier-Stokes (vorticity form)
# ------------------------------------------------------------------------------------------------

NS = "navier_stokes"
NS_UV = "data.fields=[vorticity,u,v]"


def test_navier_stokes_reference_scores_its_recorded_floor(built):
    dm = built(NS)
    floor = recorded_floor(dm.source)
    assert set(floor) == {f"residual_l2/{NS}", f"residual_rel/{NS}",
                          "conservation_error/circulation"}
    assert physics_values(dm.meta, dm.dataset) == pytest.approx(floor, rel=1e-9)
    assert floor[f"residual_rel/{NS}"] < 0.15  # measured 0.090 on 16^2
    assert floor["conservation_error/circulation"] < 1e-6


def test_navier_stokes_with_velocity_scores_its_recorded_floor(built):
    dm = built(NS, NS_UV)
    floor = recorded_floor(dm.source)
    assert set(floor) == {f"residual_l2/{NS}", f"residual_rel/{NS}", "divergence_l2",
                          "coupling_consistency", "conservation_error/circulation"}
    assert physics_values(dm.meta, dm.dataset) == pytest.approx(floor, rel=1e-9)
    # the stored velocity is the spectral velocity of the stored vorticity: same residual
    assert floor[f"residual_l2/{NS}"] == pytest.approx(
        recorded_floor(built(NS).source)[f"residual_l2/{NS}"], rel=1e-4)


def _interpolate(a: torch.Tensor, m: int) -> torch.Tensor:
    """Trigonometric interpolant of cell-centred periodic ``(..., n, n)`` data on ``m x m`` cells
    (exact for the band-limited fields of the pseudo-spectral solver), float64."""
    n = a.shape[-1]
    k = torch.fft.fftfreq(n, 1.0 / n, dtype=torch.float64)
    keep = k.abs() < n / 2
    kk = k[keep]
    phase = torch.exp(1j * math.pi * kk * (1.0 / m - 1.0 / n))  # centres (j + 1/2) / n -> / m
    c = torch.fft.fft2(a.to(torch.float64))[..., keep, :][..., keep]
    c = c * phase[:, None] * phase[None, :] * (m / n) ** 2
    out = torch.zeros(*a.shape[:-2], m, m, dtype=torch.complex128)
    idx = kk.long() % m
    out[..., idx[:, None], idx[None, :]] = c
    return torch.fft.ifft2(out).real


def test_navier_stokes_floor_is_the_second_order_truncation_in_space(built):
    """On 16^2 the floor is the central differences' truncation: denser frames leave it as it
    is, the same band-limited fields on a 2x finer grid divide the kinematic floors by ~4 (the
    residual by > 2: the time error of the 5 frames, ~0.004, remains)."""
    dm = built(NS, NS_UV)
    floor = recorded_floor(dm.source)
    dense = recorded_floor(built(NS, NS_UV, "data.n_frames=9").source)
    assert dense[f"residual_l2/{NS}"] == pytest.approx(floor[f"residual_l2/{NS}"], rel=0.02)
    samples = [{k: _interpolate(dm.dataset[i][k], 32).float() for k in ("x", "y")}
               for i in range(len(dm.dataset))]
    fine = physics_values(dataclasses.replace(dm.meta, resolution=(32, 32)), samples)
    for metric in ("divergence_l2", "coupling_consistency"):
        assert 3.3 < floor[metric] / fine[metric] < 4.5, metric  # measured 3.70, 3.77
    assert floor[f"residual_l2/{NS}"] / fine[f"residual_l2/{NS}"] > 2.0  # measured 2.32


def _solenoid_breaker(amount: float):
    """``u += amount max|u| sin(2 pi x)`` (batch peak): ``div`` gains ``2 pi amount max|u|
    cos(2 pi x)``."""
    def change(f: torch.Tensor) -> torch.Tensor:
        s = torch.sin(2 * math.pi * _centres(f.shape[-2], 0.0, 1.0, f.dtype))
        return amount * _batch_peak(f) * s[:, None].expand_as(f)
    return change


@pytest.mark.parametrize("perturb,metric", [
    (_edit(0, _periodic_bump(0.05, _batch_peak)), f"residual_l2/{NS}"),
    (_edit(0, _periodic_bump(0.05)), f"residual_rel/{NS}"),
    (_edit(1, _solenoid_breaker(0.05)), "divergence_l2"),
    # the vorticity alone changed: no longer the curl of the velocity
    (_edit(0, _periodic_bump(0.2, _batch_peak)), "coupling_consistency")])
def test_navier_stokes_perturbed_solution_scores_worse(built, perturb, metric):
    dm = built(NS, NS_UV)
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=perturb)[metric]
    assert worse > 2 * floor, (metric, floor, worse)


def test_navier_stokes_vorticity_offset_breaks_the_circulation(built):
    dm = built(NS)
    assert recorded_floor(dm.source)["conservation_error/circulation"] < 1e-6
    worse = physics_values(dm.meta, dm.dataset, perturb=_edit(0, _shift(0.01)))
    assert worse["conservation_error/circulation"] > 1e-3


# ------------------------------------------------------------------------------------------------
# The equations' terms on hand-computable fields, finite differences and autograd
# ------------------------------------------------------------------------------------------------

def _terms(eq, part: str, fields, params, d) -> list[torch.Tensor]:
    comp = eq.coupling if part == "coupling" else eq.components[part]
    return comp.evaluate_terms(fields, params, d)


def _assert_terms(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, torch.as_tensor(w, dtype=g.dtype).expand_as(g),
                                   rtol=1e-12, atol=1e-12)


def test_advection_and_burgers_terms_on_a_sine_and_under_autograd():
    n, beta, nu = 16, 0.7, 0.05
    h, kappa = 1.0 / n, 2 * math.pi * 3
    x = _centres(n, 0.0, 1.0, torch.float64)[None]
    u, u_t = torch.sin(kappa * x), 0.3 * torch.cos(kappa * x)
    d = FiniteDifference([h], bc="periodic")
    fields = {"u": u, "u_t": u_t}
    # central differences: sin -> sin(kappa h)/h cos; u^2/2 = (1 - cos 2 kappa x)/4;
    # the three-point Laplacian of sin is -(4/h^2) sin^2(kappa h/2) sin
    _assert_terms(_terms(ADVECTION, "advection", fields, {"beta": beta}, d),
                  [u_t, beta * math.sin(kappa * h) / h * torch.cos(kappa * x)])
    _assert_terms(_terms(BURGERS, "burgers", fields, {"nu": nu}, d),
                  [u_t, math.sin(2 * kappa * h) / (4 * h) * torch.sin(2 * kappa * x),
                   nu / math.pi * 4 / h**2 * math.sin(kappa * h / 2) ** 2 * u])
    # autograd on x, u_t from a separate time input: the exact solutions leave nothing
    xs = torch.rand(64, 1, dtype=torch.float64, requires_grad=True)
    t = torch.rand(64, 1, dtype=torch.float64, requires_grad=True)
    ua = torch.sin(2 * math.pi * (xs - beta * t))
    (ua_t,) = torch.autograd.grad(ua.sum(), t, create_graph=True)
    r = ADVECTION.components["advection"].residual({"u": ua, "u_t": ua_t}, {"beta": beta},
                                                   Autograd(xs))
    assert float(r.detach().abs().max()) < 1e-12
    c, a, eps = 0.4, 0.8, nu / math.pi  # travelling viscous shock of u_t + u u_x = eps u_xx
    ub = c - a * torch.tanh(a * (xs - 0.5 - c * t) / (2 * eps))
    (ub_t,) = torch.autograd.grad(ub.sum(), t, create_graph=True)
    r = BURGERS.components["burgers"].residual({"u": ub, "u_t": ub_t}, {"nu": nu}, Autograd(xs))
    assert float(r.detach().abs().max()) < 1e-9


def test_fitzhugh_nagumo_terms_on_a_neumann_mode_and_under_autograd():
    """Mode ``phi = cos(pi (x + 1)) cos(pi (y + 1) / 2)`` of ``[-1, 1]^2`` has zero normal
    derivative on the walls; the no-flux five-point Laplacian multiplies it by
    ``-(4/h^2) (sin^2(pi/n) + sin^2(pi/2n))``, the exact one by ``-(pi^2 + pi^2/4)``."""
    n, p = 16, {"du": 1e-3, "dv": 5e-3, "k": 5e-3}
    h = 2.0 / n

    def fields(x, y):
        phi = torch.cos(math.pi * (x + 1)) * torch.cos(math.pi * (y + 1) / 2)
        return phi, {"u": 0.3 + 0.5 * phi, "v": -0.2 + 0.4 * phi, "u_t": 0.1 * phi,
                     "v_t": -0.2 * phi}

    def expected(f, phi, lam):
        u, v = f["u"], f["v"]
        act = [f["u_t"], -p["du"] * lam * 0.5 * phi, -(u - u**3 - p["k"] - v)]
        inh = [f["v_t"], -p["dv"] * lam * 0.4 * phi, -(u - v)]
        drive = [f["v_t"] - p["dv"] * lam * 0.4 * phi + v, -u]
        return act, inh, drive

    s = _centres(n, -1.0, 1.0, torch.float64)
    phi, f = fields(s[None, :, None], s[None, None, :])
    lam = -(4 / h**2) * (math.sin(math.pi / n) ** 2 + math.sin(math.pi / (2 * n)) ** 2)
    d = FiniteDifference([h, h], bc="neumann_zero")
    for part, want in zip(("u", "v", "coupling"), expected(f, phi, lam), strict=True):
        _assert_terms(_terms(DIFFUSION_REACTION, part, f, p, d), want)
    coupling = DIFFUSION_REACTION.coupling.residual(f, p, d)
    torch.testing.assert_close(coupling, DIFFUSION_REACTION.components["v"].residual(f, p, d))

    pts = (2 * torch.rand(64, 2, dtype=torch.float64) - 1).requires_grad_(True)
    phi, f = fields(pts[:, 0], pts[:, 1])
    lam = -(math.pi**2 + math.pi**2 / 4)
    for part, want in zip(("u", "v", "coupling"), expected(f, phi, lam), strict=True):
        got = _terms(DIFFUSION_REACTION, part, f, p, Autograd(pts))
        for g, w in zip(got, want, strict=True):
            torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-10)


def test_vorticity_terms_on_a_taylor_green_vortex_fd_and_autograd():
    """``w = A sin(kx) sin(ky)``, ``k = 2 pi``, with its exact velocity ``(psi_y, -psi_x)``,
    ``psi = w / (2 k^2)``: advection ``u.grad w`` vanishes (also under central differences), and
    ``w_t = -2 k^2 nu w`` cancels the exact diffusion, so the residual is ``-f`` under autograd;
    central differences leave ``nu (2 k^2 - (8/h^2) sin^2(kh/2)) w`` and a curl of the velocity of
    ``sinc(kh) w``."""
    a, k, nu, amp = 1.3, 2 * math.pi, 1e-2, 0.1
    p = {"nu": nu, "forcing_amplitude": amp}

    def fields(x, y):
        w = a * torch.sin(k * x) * torch.sin(k * y)
        return {"vorticity": w, "vorticity_t": -2 * k**2 * nu * w, "x": x, "y": y,
                "u": a / (2 * k) * torch.sin(k * x) * torch.cos(k * y),
                "v": -a / (2 * k) * torch.cos(k * x) * torch.sin(k * y)}

    n = 16
    h = 1.0 / n
    s = _centres(n, 0.0, 1.0, torch.float64)
    f = fields(s[None, :, None].expand(1, n, n), s[None, None, :].expand(1, n, n))
    w, force = f["vorticity"], fno_forcing(f["x"], f["y"], amp)
    d = FiniteDifference([h, h], bc="periodic")
    want = [f["vorticity_t"], torch.zeros_like(w), 8 * nu / h**2 * math.sin(k * h / 2) ** 2 * w,
            -force]
    _assert_terms(_terms(NAVIER_STOKES, NS, f, p, d), want)
    spectral = {key: f[key] for key in ("vorticity", "vorticity_t", "x", "y")}  # no u, v
    _assert_terms(_terms(NAVIER_STOKES, NS, spectral, p, d), want)
    sinc = math.sin(k * h) / (k * h)
    curl = NAVIER_STOKES.coupling.residual(f, p, d)
    torch.testing.assert_close(curl, (1 - sinc) * w, rtol=1e-12, atol=1e-12)

    pts = torch.rand(64, 2, dtype=torch.float64, requires_grad=True)
    f = fields(pts[:, 0], pts[:, 1])
    r = NAVIER_STOKES.components[NS].residual(f, p, Autograd(pts))
    torch.testing.assert_close(r, -fno_forcing(pts[:, 0], pts[:, 1], amp), rtol=1e-10,
                               atol=1e-12)
    assert float(NAVIER_STOKES.coupling.residual(f, p, Autograd(pts)).detach().abs().max()) < 1e-12
