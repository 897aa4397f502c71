"""Darcy physics layer: derivative providers, the shared residual, the solver/generator, the metric.

Covers pdebench/physics/derivatives.py, pdebench/physics/darcy.py, datasets/darcy_solver.py and
pdebench/metrics/physics.py. Grid convention: array axis k is coordinate k, cell centres
``(i + 1/2) h_k`` on the unit square.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.data.meta import DatasetMeta
from pdebench.datasets.pdebench_suite.darcy_solver import (
    COEFFICIENT_LAWS,
    DarcyDiscretisation,
    assemble_darcy_matrix,
    cell_centres,
    generate_darcy,
    sample_coefficients_grf,
    sample_coefficients_pdebench,
    solve_darcy,
)
from pdebench.metrics.physics import PhysicsMetrics
from pdebench.physics.darcy import darcy_residual
from pdebench.physics.derivatives import Autograd, FiniteDifference
from pdebench.physics.grid import PhysicsUnavailable

F64 = torch.float64


def grid(shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell-centre coordinate fields, each ``(1, H, W)`` float64."""
    x0, x1 = (torch.from_numpy(c) for c in cell_centres(shape))
    xx, yy = torch.meshgrid(x0, x1, indexing="ij")
    return xx[None], yy[None]


def meta_for(shape: tuple[int, int], beta: float = 1.0, **kw) -> DatasetMeta:
    return DatasetMeta(name="darcy", pde="darcy", spatial_dims=2, resolution=shape,
                       extent=((0, 1), (0, 1)), input_fields=("a",), output_fields=("u",),
                       pde_params={"beta": beta}, **kw)


# ------------------------------------------------------------------------------------------------
# Finite-difference provider
# ------------------------------------------------------------------------------------------------

SHAPE = (12, 15)
H = (1 / 12, 1 / 15)


def test_fd_interior_exact_on_polynomials():
    x, y = grid(SHAPE)
    d = FiniteDifference(H)
    inner = (slice(None), slice(1, -1), slice(1, -1))
    # cubic in each variable: the three-point second difference is exact away from the walls
    u = x**3 * y**2 - 2 * x**2 * y**3 + x * y + y**3 + 1
    lap = 6 * x * y**2 - 4 * y**3 + 2 * x**3 - 12 * x**2 * y + 6 * y
    torch.testing.assert_close(d.lap(u)[inner], lap[inner], rtol=0, atol=1e-10)
    torch.testing.assert_close(d.div_flux(2.5, u)[inner], 2.5 * lap[inner], rtol=0, atol=1e-10)
    # quadratic: central first differences are exact away from the walls
    q = x**2 - 3 * x * y + 2 * y**2 + x
    g0, g1 = d.grad(q)
    torch.testing.assert_close(g0[inner], (2 * x - 3 * y + 1)[inner], rtol=0, atol=1e-12)
    torch.testing.assert_close(g1[inner], (-3 * x + 4 * y)[inner], rtol=0, atol=1e-12)
    # div assumes nothing at the walls: one-sided second order, exact on quadratics everywhere
    div = d.div((x**2 + x * y, y**2 - x))
    torch.testing.assert_close(div, 2 * x + 3 * y, rtol=0, atol=1e-11)


def test_fd_dirichlet_ghost_cell_at_the_walls():
    x, _ = grid(SHAPE)
    h = H[0]
    d = FiniteDifference(H)
    u = x.expand(1, *SHAPE).clone()  # u = x: zero on the wall x = 0, equal to 1 on x = 1
    g0, _ = d.grad(u)
    # wall x = 0 is consistent with u: exact there
    torch.testing.assert_close(g0[:, 0], torch.ones_like(g0[:, 0]), rtol=0, atol=1e-12)
    lap = d.lap(u)
    torch.testing.assert_close(lap[:, :-1, 1:-1], torch.zeros_like(lap[:, :-1, 1:-1]), rtol=0,
                               atol=1e-9)
    # wall x = 1: ghost -u_{n-1} forces the wall value 0, the second difference is -2 / h^2
    # (plus the y-walls' contribution -2 u / h_1^2 in the corner columns, excluded here)
    torch.testing.assert_close(lap[:, -1, 1:-1], torch.full_like(lap[:, -1, 1:-1], -2 / h**2),
                               rtol=1e-12, atol=0)
    # the y walls act on u = x too (u != 0 there): ghost -u adds -2 u / h_1^2 in the edge columns
    torch.testing.assert_close(lap[:, 3, 0], -2 * u[:, 3, 0] / H[1] ** 2, rtol=1e-10, atol=0)


@pytest.mark.parametrize("bc", ["dirichlet_zero", "neumann_zero", "periodic"])
def test_fd_laplacian_discrete_eigenfunctions(bc):
    """Sines / cosines at cell centres are exact eigenvectors of the ghost-cell Laplacian."""
    x, y = grid(SHAPE)
    k, m = 3, 2
    if bc == "dirichlet_zero":
        u = torch.sin(math.pi * k * x) * torch.sin(math.pi * m * y)
        s0, s1 = math.pi * k * H[0] / 2, math.pi * m * H[1] / 2
    elif bc == "neumann_zero":
        u = torch.cos(math.pi * k * x) * torch.cos(math.pi * m * y)
        s0, s1 = math.pi * k * H[0] / 2, math.pi * m * H[1] / 2
    else:
        u = torch.sin(2 * math.pi * k * x) * torch.cos(2 * math.pi * m * y)
        s0, s1 = math.pi * k * H[0], math.pi * m * H[1]
    lam = -(4 / H[0] ** 2) * math.sin(s0) ** 2 - (4 / H[1] ** 2) * math.sin(s1) ** 2
    d = FiniteDifference(H, bc=bc)
    torch.testing.assert_close(d.lap(u), lam * u, rtol=0, atol=1e-9)
    torch.testing.assert_close(d.div_flux(1.0, u), lam * u, rtol=0, atol=1e-9)


def test_fd_harmonic_face_coefficient_exact_for_layered_medium():
    """Piecewise-linear u with continuous flux across a material interface on a face."""
    n = 16
    x, _ = grid((n, n))
    a = torch.where(x < 0.5, 1.0, 0.1).to(F64).expand(1, n, n)
    q = 0.7  # flux a du/dx, constant: div(a grad u) = 0
    u = torch.where(x < 0.5, q * x / 1.0, q * 0.5 / 1.0 + q * (x - 0.5) / 0.1).expand(1, n, n)
    d = FiniteDifference((1 / n, 1 / n), bc=("dirichlet_zero", "neumann_zero"))
    r = d.div_flux(a, u)
    # every cell but the last row (u != 0 at the wall x = 1) is exactly balanced
    assert float(r[:, :-1].abs().max()) < 1e-9 * q * n * n
    assert float(r[:, -1].abs().min()) > 1.0  # the wall x = 1 (u = 0 imposed) is not
    # the arithmetic face mean would not balance the interface cells
    ar = 0.5 * (1.0 + 0.1)
    flux_left = 1.0 * (u[0, n // 2 - 1, 0] - u[0, n // 2 - 2, 0]) * n
    flux_iface_arith = ar * (u[0, n // 2, 0] - u[0, n // 2 - 1, 0]) * n
    assert abs(float(flux_iface_arith - flux_left)) > 0.1 * q


def test_fd_div_flux_is_the_solver_matrix():
    rng = np.random.default_rng(5)
    shape = (12, 17)
    a = np.exp(rng.standard_normal(shape))
    u = rng.standard_normal(shape)
    d = FiniteDifference((1 / shape[0], 1 / shape[1]))
    fd = -d.div_flux(torch.from_numpy(a)[None], torch.from_numpy(u)[None])[0].numpy()
    au = (assemble_darcy_matrix(a) @ u.ravel()).reshape(shape)
    np.testing.assert_allclose(fd, au, rtol=0, atol=1e-12 * np.abs(au).max())


def test_fd_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown boundary condition 'wall'"):
        FiniteDifference(H, bc="wall")
    with pytest.raises(ValueError, match="spacing"):
        FiniteDifference((0.1, -0.1))
    with pytest.raises(ValueError, match="expected a field"):
        FiniteDifference(H).lap(torch.zeros(12, 15))


# ------------------------------------------------------------------------------------------------
# Autograd provider
# ------------------------------------------------------------------------------------------------

def test_autograd_provider_closed_form():
    gen = torch.Generator().manual_seed(0)
    pts = torch.rand(64, 2, dtype=F64, generator=gen).requires_grad_(True)
    x, y = pts[:, 0], pts[:, 1]
    u = torch.sin(x) * y**2 + x**3
    c = 1 + x * y
    d = Autograd(pts)
    g0, g1 = d.grad(u)
    xd, yd = x.detach(), y.detach()
    ux, uy = torch.cos(xd) * yd**2 + 3 * xd**2, 2 * yd * torch.sin(xd)
    lap = -torch.sin(xd) * yd**2 + 6 * xd + 2 * torch.sin(xd)
    torch.testing.assert_close(g0.detach(), ux)
    torch.testing.assert_close(g1.detach(), uy)
    torch.testing.assert_close(d.lap(u).detach(), lap)
    flux = (1 + xd * yd) * lap + yd * ux + xd * uy  # coef depends on the coordinates
    torch.testing.assert_close(d.div_flux(c, u).detach(), flux)
    r = darcy_residual(u, c, 2.0, d)
    torch.testing.assert_close(r.detach(), -flux - 2.0)


def test_autograd_residual_is_a_trainable_loss():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    pts = torch.rand(32, 2).requires_grad_(True)
    u = net(pts)  # (N, 1)
    r = darcy_residual(u, 1.0, 1.0, Autograd(pts))
    assert r.shape == u.shape
    r.square().mean().backward()
    # every parameter but the output bias (a constant shift of u has no Laplacian) gets a gradient
    *used, out_bias = list(net.parameters())
    assert all(p.grad is not None and float(p.grad.abs().max()) > 0 for p in used)
    assert all(torch.isfinite(p.grad).all() for p in used)
    assert out_bias.grad is None or float(out_bias.grad.abs().max()) == 0.0
    with pytest.raises(ValueError, match="requires_grad"):
        Autograd(torch.rand(4, 2))


# ------------------------------------------------------------------------------------------------
# Coefficient laws and generator
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("law", sorted(COEFFICIENT_LAWS))
def test_generator_deterministic_and_prefix_stable(law):
    one = generate_darcy(6, 16, coefficient=law, seed=3)
    two = generate_darcy(6, 16, coefficient=law, seed=3)
    for key in ("a", "u"):
        assert one[key].dtype == np.float32 and one[key].shape == (6, 16, 16)
        assert one[key].tobytes() == two[key].tobytes()
    other = generate_darcy(6, 16, coefficient=law, seed=4)
    assert not np.array_equal(one["a"], other["a"])
    # sample i does not depend on how many were asked for
    few = generate_darcy(4, 16, coefficient=law, seed=3)
    assert few["a"].tobytes() == one["a"][:4].tobytes()
    assert few["u"].tobytes() == one["u"][:4].tobytes()


@pytest.mark.parametrize("law", sorted(COEFFICIENT_LAWS))
def test_coefficient_values_are_exactly_two(law):
    a = generate_darcy(20, 16, coefficient=law, seed=1)["a"]
    assert set(np.unique(a).tolist()) == {float(np.float32(0.1)), 1.0}
    frac = float((a == 1.0).mean())
    assert 0.1 < frac < 0.9, frac


def test_grf_values_and_parameters():
    a = sample_coefficients_grf(5, (16, 24), np.random.default_rng(0), values=(12.0, 3.0))
    assert a.shape == (5, 16, 24) and set(np.unique(a).tolist()) == {3.0, 12.0}
    smooth = sample_coefficients_grf(5, 32, np.random.default_rng(0), alpha=4.0)
    rough = sample_coefficients_grf(5, 32, np.random.default_rng(0), alpha=1.0)

    def jumps(f: np.ndarray) -> float:
        return float((np.diff(f, axis=1) != 0).mean() + (np.diff(f, axis=2) != 0).mean())

    assert jumps(smooth) < jumps(rough)  # larger alpha: smoother field, fewer interfaces


def test_pdebench_law_thresholds_at_the_batch_mean():
    """Direct (unfactorised) evaluation of the recipe; 250 samples = a full and a partial batch."""
    res = 12
    got = sample_coefficients_pdebench(250, res, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    x0, x1 = cell_centres(res)
    pts = np.stack(np.meshgrid(x0, x1, indexing="ij"), axis=-1)  # (H, W, 2)
    want = []
    for _ in range(2):
        c = rng.random((200, 5, 2))
        w = 0.5 * (1.0 - rng.random((200, 5)))
        dist2 = ((pts[None, None] - c[:, :, None, None, :]) ** 2).sum(-1)  # (B, 5, H, W)
        s = np.exp(-dist2 / w[:, :, None, None]).sum(1)
        want.append(np.where(s > s.mean(), 1.0, 0.1))
    np.testing.assert_array_equal(got, np.concatenate(want)[:250])
    # the threshold is per batch of 200, not per sample: some samples are all one value
    per_sample_both = [(np.unique(g).size == 2) for g in got]
    assert not all(per_sample_both)


@pytest.mark.parametrize("beta", [0.01, 1.0, 100.0])
def test_generated_solution_residual_is_round_off(beta):
    out = generate_darcy(8, (24, 32), beta=beta, seed=2)
    res = out["residual"]
    assert res["passed"] and res["rel_rms_max"] < 1e-11
    assert out["solver"]["direct"] and out["solver"]["coefficient_law"] == "pdebench"
    assert out["solver"]["resolution"] == [24, 32] and out["u"].min() > 0  # positive source
    # independently: the shared residual on the *stored* float32 pair, in float64
    d = FiniteDifference((1 / 24, 1 / 32))
    u = torch.from_numpy(out["u"].astype(np.float64))
    a = torch.from_numpy(out["a"].astype(np.float64))
    r = darcy_residual(u, a, beta, d)
    rel = (r.square().mean(dim=(1, 2)).sqrt() / beta).max().item()
    assert rel == pytest.approx(res["rel_rms_max_float32"], rel=1e-6)
    assert rel < 1e-3  # float32 rounding of u amplified by the operator, not discretisation


def test_progress_callback():
    calls = []
    generate_darcy(3, 8, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


# ------------------------------------------------------------------------------------------------
# Convergence
# ------------------------------------------------------------------------------------------------

def _manufactured(n: int) -> float:
    x0, x1 = cell_centres(n)
    x, y = np.meshgrid(x0, x1, indexing="ij")
    pi = math.pi
    a = 1 + 0.5 * np.sin(2 * pi * x) * np.sin(2 * pi * y)
    u = np.sin(pi * x) * np.sin(pi * y)
    ax, ay = pi * np.cos(2 * pi * x) * np.sin(2 * pi * y), pi * np.sin(2 * pi * x) * np.cos(2 * pi * y)
    ux, uy = pi * np.cos(pi * x) * np.sin(pi * y), pi * np.sin(pi * x) * np.cos(pi * y)
    f = -(ax * ux + ay * uy - 2 * pi**2 * a * u)  # -div(a grad u)
    return float(np.abs(solve_darcy(a, f) - u).max())


def test_second_order_convergence_manufactured_solution():
    e32, e64 = _manufactured(32), _manufactured(64)
    order = math.log2(e32 / e64)
    print(f"\nmanufactured solution: max error {e32:.3e} (32^2), {e64:.3e} (64^2), order {order:.3f}")
    assert 1.8 <= order <= 2.2


def _restrict(fine: np.ndarray, n: int) -> np.ndarray:
    k = fine.shape[0] // n
    return fine.reshape(n, k, n, k).mean(axis=(1, 3))


def test_generator_path_refinement_reduces_the_error():
    """Piecewise-constant coefficients (PDEBench law) against a 256^2 solution of the same draw."""
    params = {"mean_batch": 4}
    orders_l2, orders_max = [], []
    for seed in range(4):
        ref = generate_darcy(1, 256, seed=seed, coefficient_params=params)["u"][0].astype(np.float64)
        e_l2, e_max = [], []
        for n in (16, 32, 64):
            diff = generate_darcy(1, n, seed=seed, coefficient_params=params)["u"][0] \
                - _restrict(ref, n)
            e_l2.append(np.sqrt(np.mean(diff**2) / np.mean(ref**2)))
            e_max.append(np.abs(diff).max() / np.abs(ref).max())
        assert e_l2[0] > e_l2[1] > e_l2[2], (seed, e_l2)
        assert e_max[2] < e_max[0], (seed, e_max)
        orders_l2.append(math.log2(e_l2[0] / e_l2[2]) / 2)
        orders_max.append(math.log2(e_max[0] / e_max[2]) / 2)
    print(f"\ngenerator path, 16->64 vs 256^2: L2 orders {np.round(orders_l2, 2)}, "
          f"max orders {np.round(orders_max, 2)}")
    assert np.mean(orders_l2) > 0.7


# ------------------------------------------------------------------------------------------------
# Residual metric
# ------------------------------------------------------------------------------------------------

L2, REL = "residual_l2/darcy", "residual_rel/darcy"


def _metric_value(name, meta, u: np.ndarray, a: np.ndarray, target=None) -> float:
    m = PhysicsMetrics(meta)
    pred = torch.from_numpy(np.asarray(u, dtype=np.float32))[:, None, ..., None]
    ref = pred if target is None else torch.from_numpy(np.asarray(target))[:, None, ..., None]
    m.update(pred, ref, torch.from_numpy(np.asarray(a, dtype=np.float32))[:, None])
    out = m.compute()[name]
    assert out.shape == (1, 1) and out.dtype == F64
    return float(out)


def test_metric_small_on_reference_and_large_on_perturbed():
    out = generate_darcy(4, 32, seed=0)
    meta = meta_for((32, 32))
    ref = _metric_value(REL, meta, out["u"], out["a"])
    rng = np.random.default_rng(0)
    noisy = out["u"] + 1e-3 * np.abs(out["u"]).max() * rng.standard_normal(out["u"].shape)
    bad = _metric_value(REL, meta, noisy, out["a"], target=out["u"])
    assert ref < 1e-4 and bad > 1e3 * ref, (ref, bad)


def test_metric_hand_computed_and_scaling():
    beta = 4.0
    meta = meta_for((16, 16), beta=beta)
    a = sample_coefficients_pdebench(3, 16, np.random.default_rng(1))
    zeros = np.zeros((3, 16, 16))
    # u = 0: residual is -beta on every cell, and beta is the equation's natural scale
    assert _metric_value(L2, meta, zeros, a) == pytest.approx(beta, rel=1e-12)
    assert _metric_value(REL, meta, zeros, a) == pytest.approx(1.0, rel=1e-12)
    # u = c * (exact discrete solution): residual (c - 1) beta on every cell (float64 pred)
    a32 = a.astype(np.float32).astype(np.float64)
    u = torch.from_numpy(np.stack([solve_darcy(x, beta) for x in a32]))[:, None, ..., None]
    m = PhysicsMetrics(meta)
    m.update(1.5 * u, u, torch.from_numpy(a32)[:, None])
    values = m.compute()
    assert float(values[L2]) == pytest.approx(0.5 * beta, rel=1e-9)
    assert float(values[REL]) == pytest.approx(0.5, rel=1e-9)


def test_metric_reduction_is_a_sample_mean_and_mergeable():
    meta = meta_for((16, 16))
    gen = torch.Generator().manual_seed(0)
    u = torch.rand(4, 1, 16, 16, 1, dtype=F64, generator=gen)
    a = torch.rand(4, 1, 16, 16, dtype=F64, generator=gen) + 0.1
    d = FiniteDifference(meta.spacing)
    per_sample = darcy_residual(u[:, 0, ..., 0], a[:, 0], 1.0, d).square().mean((1, 2)).sqrt()
    split = PhysicsMetrics(meta)
    split.update(u[:3], u[:3], a[:3])
    split.update(u[3:], u[3:], a[3:])
    assert float(split.compute()[L2]) == pytest.approx(float(per_sample.mean()), rel=1e-12)
    first, second = PhysicsMetrics(meta), PhysicsMetrics(meta)
    first.update(u[:1], u[:1], a[:1])
    second.update(u[1:], u[1:], a[1:])
    first.merge_state(second)
    assert float(first.compute()[L2]) == pytest.approx(float(per_sample.mean()), rel=1e-12)


def test_wall_violation_is_measured_by_bc_error():
    out = generate_darcy(3, 32, seed=2)
    meta = meta_for((32, 32))
    ref = _metric_value("bc_error/u", meta, out["u"], out["a"])
    shifted = _metric_value("bc_error/u", meta, out["u"] + 0.01, out["a"], target=out["u"])
    # the extrapolated wall value of the reference is small (discretisation level), an offset
    # of 0.01 shows as about 0.01
    assert ref < 0.1 * np.abs(out["u"]).max() and shifted == pytest.approx(0.01, abs=ref + 1e-3)


def test_metric_errors():
    meta = meta_for((16, 16))
    assert PhysicsMetrics(meta).names == [L2, REL, "bc_error/u"]
    with pytest.raises(PhysicsUnavailable, match="beta"):
        PhysicsMetrics(DatasetMeta(name="d", pde="darcy", spatial_dims=2, resolution=(8, 8),
                                   input_fields=("a",), output_fields=("u",)))
    with pytest.raises(PhysicsUnavailable, match="cell_centered"):
        PhysicsMetrics(meta_for((16, 16), grid="vertex"))
    m = PhysicsMetrics(meta)
    with pytest.raises(ValueError, match="inputs"):
        m.update(torch.zeros(1, 1, 16, 16, 1), torch.zeros(1, 1, 16, 16, 1), None)
    with pytest.raises(ValueError, match="resolution"):
        m.update(torch.zeros(1, 1, 8, 8, 1), torch.zeros(1, 1, 8, 8, 1), torch.ones(1, 1, 8, 8))
    with pytest.raises(ValueError, match="before any sample"):
        m.compute()


# ------------------------------------------------------------------------------------------------
# Parameter validation
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"beta": 0.0}, "beta"),
    ({"beta": -1.0}, "beta"),
    ({"beta": float("nan")}, "beta"),
    ({"beta": float("inf")}, "beta"),
    ({"resolution": 4}, "resolution"),
    ({"resolution": (16, 7)}, "resolution"),
    ({"n_samples": 0}, "n_samples"),
    ({"coefficient": "lognormal"}, "valid: pdebench, grf"),
    ({"coefficient_params": {"tau": 3.0}}, "valid: mean_batch, values"),
    ({"seed": -1}, "seed"),
])
def test_invalid_parameters_raise_before_work(kwargs, message):
    calls = []
    args = {"n_samples": 5, "resolution": 16, "progress": lambda *c: calls.append(c)} | kwargs
    with pytest.raises(ValueError, match=message):
        generate_darcy(**args)
    assert calls == []


def test_solver_rejects_bad_coefficients():
    with pytest.raises(ValueError, match="positive"):
        solve_darcy(-np.ones((8, 8)))
    with pytest.raises(ValueError, match="shape"):
        DarcyDiscretisation(8).solve(np.ones((8, 9)))
    with pytest.raises(ValueError, match="source"):
        solve_darcy(np.ones((8, 8)), np.ones((4, 4)))
