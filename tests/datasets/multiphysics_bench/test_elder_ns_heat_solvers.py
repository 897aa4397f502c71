"""Elder and natural convection generators (PROBLEMS C.6, C.2): convergence, checks, e2e."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.datasets.multiphysics_bench.elder import ElderSource
from pdebench.datasets.multiphysics_bench.elder_solver import (
    StreamSolver,
    face_velocities,
    generate_elder,
    run_elder,
    transport_rhs,
)
from pdebench.datasets.multiphysics_bench.ns_heat import NSHeatSource as NaturalConvectionSource
from pdebench.datasets.multiphysics_bench.ns_heat_solver import (
    disc_source,
    generate_natural_convection,
    solve_linear,
    solve_steady,
)
from pdebench.physics.derivatives import Autograd
from pdebench.physics.porous_convection import advection_diffusion_residual, stream_velocity


def _order(e_coarse: float, e_fine: float) -> float:
    return math.log2(e_coarse / e_fine)


# ------------------------------------------------------------------------------------------------
# Elder
# ------------------------------------------------------------------------------------------------

def _stream_error(ny: int) -> float:
    nx, h = 2 * ny, 1.0 / ny
    x, y = np.meshgrid(np.arange(1, nx) * h, np.arange(1, ny) * h, indexing="ij")
    exact = np.sin(math.pi * x / 2) * np.sin(math.pi * y) * (1 + x * y)
    px, py = torch.from_numpy(x.ravel()), torch.from_numpy(y.ravel())
    pts = torch.stack([px, py], 1).requires_grad_(True)
    d = Autograd(pts)
    psi = torch.sin(math.pi * pts[:, 0] / 2) * torch.sin(math.pi * pts[:, 1]) * (
        1 + pts[:, 0] * pts[:, 1])
    f = d.lap(psi).detach().numpy().reshape(x.shape)
    sol = StreamSolver(nx, ny, h).solve(f)[1:-1, 1:-1]
    return float(np.abs(sol - exact).max())


def test_elder_stream_solve_converges_at_second_order():
    e1, e2 = _stream_error(16), _stream_error(32)
    order = _order(e1, e2)
    print(f"\nElder stream function Poisson: {e1:.3e}, {e2:.3e}, order {order:.3f}")
    assert 1.8 < order < 2.2


def _transport_error(ny: int, t_end: float = 0.05) -> float:
    """c = exp(-t) (1 + cos(pi x)/2) sin(pi y), psi = 2 sin(pi x/2) sin(pi y) prescribed."""
    nx, h = 2 * ny, 1.0 / ny
    xv, yv = np.meshgrid(np.arange(nx + 1) * h, np.arange(ny + 1) * h, indexing="ij")
    uf, vf = face_velocities(2 * np.sin(math.pi * xv / 2) * np.sin(math.pi * yv), h)
    xc, yc = np.meshgrid((np.arange(nx) + 0.5) * h, (np.arange(ny) + 0.5) * h, indexing="ij")
    pts = torch.from_numpy(np.stack([xc.ravel(), yc.ravel()], 1)).requires_grad_(True)
    d = Autograd(pts)
    g = (1 + 0.5 * torch.cos(math.pi * pts[:, 0])) * torch.sin(math.pi * pts[:, 1])
    u, v = stream_velocity(2 * torch.sin(math.pi * pts[:, 0] / 2) * torch.sin(math.pi * pts[:, 1]),
                           d)
    s0 = advection_diffusion_residual(-g, g, u, v, d).detach().numpy().reshape(nx, ny)
    mask = np.ones(nx, dtype=bool)
    c, t, dt = g.detach().numpy().reshape(nx, ny), 0.0, 0.2 * h * h
    steps = math.ceil(t_end / dt)
    dt = t_end / steps
    for _ in range(steps):
        k1 = transport_rhs(c, uf, vf, h, mask, 0.0) + math.exp(-t) * s0
        k2 = transport_rhs(c + dt * k1, uf, vf, h, mask, 0.0) + math.exp(-t - dt) * s0
        c, t = c + 0.5 * dt * (k1 + k2), t + dt
    return float(np.abs(c - math.exp(-t_end) * g.detach().numpy().reshape(nx, ny)).max())


def test_elder_transport_manufactured_solution_converges_at_second_order():
    e1, e2 = _transport_error(16), _transport_error(32)
    order = _order(e1, e2)
    print(f"\nElder advection-diffusion manufactured solution: {e1:.3e}, {e2:.3e}, order "
          f"{order:.3f}")
    assert 1.7 < order < 2.3


def test_elder_generator_self_check_determinism_and_progress():
    calls = []
    one = generate_elder(2, 8, 4, t_end=0.02, seed=3, progress=lambda i, n: calls.append((i, n)))
    two = generate_elder(2, 8, 4, t_end=0.02, seed=3)
    assert calls == [(1, 2), (2, 2)]
    assert one["u"].shape == (2, 4, 3, 16, 8) and one["t"].shape == (4,)
    assert one["constants"].shape == (2, 2, 16, 8)
    assert one["u"].tobytes() == two["u"].tobytes()
    assert one["residual"]["passed"]
    c = one["u"][:, :, 0]
    assert c[:, 0].max() == 0.0 and 0.0 < c[:, -1].max() <= 1.0 + 1e-6
    np.testing.assert_allclose(one["constants"][:, 0, 0, 0], one["ra"], rtol=1e-6)
    src = one["constants"][:, 1, :, 0]  # 1 on the columns x >= 2 - L_s, 0 elsewhere
    xc = (np.arange(16) + 0.5) / 8
    np.testing.assert_array_equal(src, xc[None] >= 2.0 - one["source_length"][:, None])
    assert 200 <= one["ra"].min() and one["ra"].max() <= 600


def test_elder_divergence_raises_naming_step_and_quantity():
    with pytest.raises(RuntimeError, match=r"Elder step \d+ \(t = .*\): concentration c"):
        run_elder(1e6, 1.0, 8, np.linspace(0.0, 0.05, 3), 0.2 / 64)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dt": 1.0}, "diffusion limit"), ({"cfl": 1.5}, "data.cfl"), ({"n_samples": 0}, "n_samples"),
    ({"resolution": 4}, "resolution"), ({"rayleigh": -1.0}, "rayleigh"),
    ({"rayleigh_spread": 1.0}, "rayleigh_spread"), ({"source_min": 1.5, "source_max": 1.0},
                                                    "source_min"),
    ({"source_max": 3.0}, "half-box"), ({"n_frames": 1}, "n_frames"), ({"t_end": 0.0}, "t_end"),
])
def test_elder_invalid_parameters(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        ElderSource(**{"n_samples": 2, "resolution": 8, "data_dir": tmp_path} | kwargs)


# ------------------------------------------------------------------------------------------------
# Natural convection
# ------------------------------------------------------------------------------------------------

def _heat_error(n: int, flow: float) -> float:
    """T = sin(pi x) cos(pi y) with psi = flow sin^2(pi x) sin^2(pi y) (no slip) prescribed."""
    h = 1.0 / (n - 1)
    x, y = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    psi = flow * np.sin(math.pi * x) ** 2 * np.sin(math.pi * y) ** 2
    pts = torch.from_numpy(np.stack([x.ravel(), y.ravel()], 1)).requires_grad_(True)
    d = Autograd(pts)
    px, py = pts[:, 0], pts[:, 1]
    temp = torch.sin(math.pi * px) * torch.cos(math.pi * py)
    u, v = stream_velocity(flow * torch.sin(math.pi * px) ** 2 * torch.sin(math.pi * py) ** 2, d)
    q = advection_diffusion_residual(0.0, temp, u, v, d).detach().numpy().reshape(n, n)
    sol = solve_linear(psi, q, h)
    return float(np.abs(sol - temp.detach().numpy().reshape(n, n)).max())


@pytest.mark.parametrize("flow", [0.0, 5.0])
def test_natural_convection_linear_substeps_converge_at_second_order(flow):
    e1, e2 = _heat_error(17, flow), _heat_error(33, flow)
    order = _order(e1, e2)
    print(f"\nnatural convection heat sub-step (flow {flow}): {e1:.3e}, {e2:.3e}, order "
          f"{order:.3f}")
    assert 1.8 < order < 2.2


def test_natural_convection_steady_residual_small_and_deterministic():
    calls = []
    one = generate_natural_convection(2, 17, seed=1, progress=lambda i, n: calls.append(i))
    two = generate_natural_convection(2, 17, seed=1)
    assert calls == [1, 2] and one["residual"]["passed"]
    assert max(one["residual"][k] for k in ("heat_rel_max", "vorticity_rel_max",
                                            "stream_rel_max")) < 1e-4
    assert one["x"].shape == one["y"].shape == (2, 3, 17, 17)
    assert one["x"].tobytes() == two["x"].tobytes() and one["y"].tobytes() == two["y"].tobytes()
    u, v, temp = one["y"][0]
    assert temp.max() > 0 and np.abs(temp[0]).max() == 0 and np.abs(u[:, 0]).max() == 0
    assert np.abs(u).max() > 1e-3  # buoyancy drives a flow


def test_natural_convection_non_convergence_raises_naming_iteration():
    q, _ = disc_source(17, 0.5, 0.4, 0.12, 20.0)
    with pytest.raises(RuntimeError, match=r"iteration 2: steady residual .* above tol"):
        solve_steady(q, 5e3, max_iter=2)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_samples": 0}, "n_samples"), ({"resolution": 5}, "resolution"), ({"pr": 0.0}, "data.pr"),
    ({"ra_min": 1e4, "ra_max": 1e3}, "ra_min"), ({"ra_max": 1e7}, "1e5"),
    ({"rate_min": 5.0, "rate_max": 1.0}, "rate_min"), ({"tol": -1.0}, "tol"),
    ({"max_iter": 0}, "max_iter"), ({"dtau": float("nan")}, "dtau"),
])
def test_natural_convection_invalid_parameters(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        NaturalConvectionSource(**{"n_samples": 2, "resolution": 17, "data_dir": tmp_path}
                                | kwargs)


