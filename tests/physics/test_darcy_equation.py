"""The Darcy equation under the finite-difference and autograd providers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.datasets.pdebench_suite.darcy_solver import (
    assemble_darcy_matrix,
    cell_centres,
)
from pdebench.physics.darcy import darcy_residual
from pdebench.physics.derivatives import Autograd, FiniteDifference

F64 = torch.float64


def grid(shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell-centre coordinate fields, each ``(1, H, W)`` float64."""
    x0, x1 = (torch.from_numpy(c) for c in cell_centres(shape))
    xx, yy = torch.meshgrid(x0, x1, indexing="ij")
    return xx[None], yy[None]


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
