"""The Darcy generator: coefficient laws, finite-volume solver, convergence, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.datasets.pdebench_suite.darcy_solver import (
    COEFFICIENT_LAWS,
    DarcyDiscretisation,
    cell_centres,
    generate_darcy,
    sample_coefficients_grf,
    sample_coefficients_pdebench,
    solve_darcy,
)
from pdebench.physics.darcy import darcy_residual
from pdebench.physics.derivatives import FiniteDifference

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
