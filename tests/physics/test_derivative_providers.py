"""Derivative providers on fields that do not depend on the coordinates."""

from __future__ import annotations

import torch

from pdebench.physics.derivatives import Autograd, FiniteDifference


def test_autograd_derivatives_of_constants_and_data_are_zero():
    pts = torch.rand(10, 2, dtype=torch.float64).requires_grad_(True)
    d = Autograd(pts)
    const = torch.full((10,), 3.0, dtype=torch.float64)  # data at the points, not in the graph
    assert all(torch.equal(g, torch.zeros(10, dtype=torch.float64)) for g in d.grad(const))
    assert torch.equal(d.lap(const), torch.zeros(10, dtype=torch.float64))
    linear = 2 * pts[:, 0] + pts[:, 1]  # its gradient is constant: the Laplacian is 0
    assert torch.allclose(d.lap(linear), torch.zeros(10, dtype=torch.float64))
    assert torch.allclose(d.div((linear, const)), torch.full((10,), 2.0, dtype=torch.float64))


def test_finite_differences_of_constants_are_zero_away_from_dirichlet_walls():
    d = FiniteDifference((0.1, 0.1), bc="neumann_zero")
    u = torch.full((2, 8, 8), 3.0)
    assert all(torch.equal(g, torch.zeros_like(u)) for g in d.grad(u))
    assert torch.equal(d.lap(u), torch.zeros_like(u))
