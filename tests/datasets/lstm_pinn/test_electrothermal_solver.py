"""The five-field electrothermal generator (manufactured solutions)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.datasets.lstm_pinn.electrothermal import ElectrothermalSource
from pdebench.datasets.lstm_pinn.electrothermal_solver import (
    _evaluate,
    generate_electrothermal,
    sample_parameters,
)
from pdebench.datasets.lstm_pinn.electrothermal_solver import relative_residuals as self_check
from pdebench.physics.derivatives import Autograd
from pdebench.physics.electrothermal import ElectrothermalParams, electrothermal_residual

# ------------------------------------------------------------------------------------------------
# Five-field electrothermal operator and manufactured solutions
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("regime", [1, 2, 3, 4])
def test_sources_make_closed_forms_exact_under_autograd(regime):
    """At random points, the autograd residual of the closed forms against their sources is 0."""
    params = ElectrothermalParams(regime=regime)
    out = generate_electrothermal(3, 16, params, seed=1)
    assert out["residual"]["passed"]
    f, s = _evaluate(sample_parameters(2, np.random.default_rng(5), regime == 3), 16, params)
    assert f.shape == s.shape == (2, 5, 16, 16)
    assert float(s[:, 0].abs().max()) < 1e-12  # stream function: divergence-free
    if regime == 2:
        assert float(f[:, 2:4].mean(dim=(2, 3)).abs().max()) < 1e-14


def test_operator_regimes_differ_as_documented():
    pts = torch.rand(50, 2, dtype=torch.float64).requires_grad_(True)
    x, y = pts[:, 0], pts[:, 1]
    fields = (torch.sin(y) * x, -torch.sin(x) * y, x * y, torch.cos(x + y), 0.5 + 0.3 * torch.sin(x * y))
    zero = tuple(torch.zeros(50, dtype=torch.float64) for _ in range(5))
    res = {r: electrothermal_residual(fields, zero, Autograd(pts), ElectrothermalParams(regime=r))
           for r in (1, 2, 3, 4)}
    temp = fields[4]
    # y-momentum: regime 3 buoyancy = 10 x regime 1; regime 2 has none
    b1 = (res[1][2] - res[2][2]).detach()
    b3 = (res[3][2] - res[2][2]).detach()
    torch.testing.assert_close(b1, -0.5 * (temp - 0.5).detach())
    torch.testing.assert_close(b3, 10 * b1)
    # regime 4: Darcy + Forchheimer drag on x-momentum
    u, v = fields[0].detach(), fields[1].detach()
    drag = (0.02 / 0.05 + 0.55 / math.sqrt(0.05) * torch.sqrt(u * u + v * v)) * u
    torch.testing.assert_close((res[4][1] - res[2][1]).detach(), drag)


def test_electrothermal_residual_converges_at_second_order():
    params = ElectrothermalParams(regime=1)
    prm = sample_parameters(4, np.random.default_rng(3), steep=False)
    errs = {}
    for n in (32, 64):
        f, s = _evaluate(prm, n, params)
        errs[n] = self_check(f.numpy(), s.numpy(), params).max(axis=0)
    orders = np.log2(errs[32] / errs[64])
    print(f"\nelectrothermal FD residual orders 32->64 per equation: {np.round(orders, 3)}")
    assert np.all(np.abs(orders - 2.0) < 0.25), orders


def test_electrothermal_deterministic_prefix_and_progress():
    calls = []
    one = generate_electrothermal(5, 16, seed=2, chunk=2, progress=lambda *c: calls.append(c))
    two = generate_electrothermal(3, 16, seed=2)
    assert calls == [(2, 5), (4, 5), (5, 5)]
    assert one["fields"].dtype == np.float32 and one["sources"].shape == (5, 5, 16, 16)
    assert one["fields"][:3].tobytes() == two["fields"].tobytes()
    assert one["sources"][:3].tobytes() == two["sources"].tobytes()
    assert not np.array_equal(generate_electrothermal(3, 16, seed=3)["fields"], two["fields"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"nu": -0.02}, "nu"),
    ({"alpha_t": 0.0}, "alpha_t"),
    ({"d_phi": -1.0}, "d_phi"),
    ({"k_perm": 0.0}, "k_perm"),
    ({"regime": 5}, "valid: 1 .*; 2 .*; 3 .*; 4 "),
    ({"resolution": 8}, "too coarse"),
    ({"n_samples": 0}, "n_samples"),
    ({"eta": float("nan")}, "eta"),
])
def test_electrothermal_invalid_parameters(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        ElectrothermalSource(**{"n_samples": 4, "resolution": 16, "data_dir": tmp_path} | kwargs)
    assert not list(tmp_path.rglob("*.h5"))
