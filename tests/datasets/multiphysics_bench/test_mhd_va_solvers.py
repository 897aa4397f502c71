"""Reduced Multiphysics Bench MHD and acoustic generators (PROBLEMS C.4, C.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.datasets.multiphysics_bench.mhd import MhdSource
from pdebench.datasets.multiphysics_bench.mhd_solver import (
    cell_centres_duct,
    d_y,
    generate_mhd,
    hartmann_profile,
    solve_hartmann,
)
from pdebench.datasets.multiphysics_bench.va import VASource as AcousticStructureSource
from pdebench.datasets.multiphysics_bench.va_solver import generate_acoustic, solve_acoustic
from pdebench.datasets.numerics.finite_volume import WallBC, assemble_fv
from pdebench.datasets.numerics.grid import cell_centres
from pdebench.datasets.numerics.threads import single_threaded_blas
from pdebench.physics.derivatives import Autograd
from pdebench.physics.mhd_acoustic import acoustic_residual, hartmann_residuals

# ------------------------------------------------------------------------------------------------
# MHD
# ------------------------------------------------------------------------------------------------

def _mhd_mms_error(n: int, ha: float = 6.0) -> float:
    """Manufactured w, b vanishing on the walls; sources from the shared residual (autograd)."""
    x, y = cell_centres_duct(n)
    pts = torch.from_numpy(np.stack([x.ravel(), y.ravel()], 1)).requires_grad_(True)
    px, py = pts[:, 0], pts[:, 1]
    w = torch.cos(math.pi * px / 2) * torch.cos(math.pi * py / 2) * (1 + 0.3 * px * py)
    b = torch.cos(math.pi * px / 2) * torch.sin(math.pi * py) * (1 + 0.2 * px)
    zero = torch.zeros_like(px)
    mom, ind = hartmann_residuals(w, b, ha, zero, Autograd(pts), zero)
    g, s = (-r.detach().numpy().reshape(n, n) for r in (mom, ind))  # residual(G=0) = -G
    ws, bs = solve_hartmann(g, ha, s=s)
    return max(float(np.abs(ws - w.detach().numpy().reshape(n, n)).max()),
               float(np.abs(bs - b.detach().numpy().reshape(n, n)).max()))


def test_mhd_converges_at_second_order():
    e32, e64 = _mhd_mms_error(32), _mhd_mms_error(64)
    order = math.log2(e32 / e64)
    print(f"\nMHD manufactured solution: {e32:.3e}, {e64:.3e}, order {order:.3f}")
    assert 1.8 < order < 2.2


def _wide_duct_error(n: int, ha: float) -> float:
    """Uniform G, zero-flux side walls: x-independent, the classical 1D Hartmann profile."""
    bcs = {"x_lo": WallBC("robin"), "x_hi": WallBC("robin"), "y_lo": WallBC("dirichlet"),
           "y_hi": WallBC("dirichlet")}
    lap, _ = assemble_fv(1.0, (n, n), bcs)
    w, b = solve_hartmann(np.ones((n, n)), ha, lap=lap / 4.0, dy=d_y((n, n), 2.0 / n))
    _, y = cell_centres_duct(n)
    we, be = hartmann_profile(y, ha)
    assert np.abs(w - w[:1]).max() < 1e-10  # no x dependence
    return float(np.abs(w - we).max() / we.max())


@pytest.mark.parametrize("ha", [5.0, 20.0])
def test_mhd_reproduces_hartmann_profile(ha):
    e32, e64 = _wide_duct_error(32, ha), _wide_duct_error(64, ha)
    order = math.log2(e32 / e64)
    print(f"\nHartmann profile Ha={ha:g}: rel err {e32:.3e} (32), {e64:.3e} (64), order {order:.2f}")
    assert e64 < (0.01 if ha == 5.0 else 0.06)
    assert order > 1.7
    # the core velocity flattens to G/Ha and the layer has thickness ~ 1/Ha
    w, _ = hartmann_profile(np.array([0.0, 1.0 - 1.0 / ha]), ha)
    assert abs(w[0] * ha - 1.0) < 3 * math.exp(-ha) and 0.55 < w[1] / w[0] < 0.7


def test_mhd_generator_self_check_determinism_progress():
    calls = []
    one = generate_mhd(3, 16, ha_max=8.0, seed=2, progress=lambda *c: calls.append(c))
    two = generate_mhd(3, 16, ha_max=8.0, seed=2)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert one["residual"]["passed"] and one["residual"]["momentum_rel_max"] < 1e-10
    for k in ("G", "Ha", "w", "b", "F"):
        assert one[k].shape == (3, 16, 16) and one[k].tobytes() == two[k].tobytes()
    assert (one["w"] > 0).mean() > 0.5  # flow mostly down the pressure gradient
    assert not np.array_equal(generate_mhd(3, 16, ha_max=8.0, seed=3)["w"], one["w"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ha_min": -1.0}, "ha_min"), ({"ha_max": -2.0, "ha_min": -3.0}, "ha_min"),
    ({"ha_max": 0.5}, "ha_max must be >= data.ha_min"), ({"ha_max": 50.0}, "too coarse"),
    ({"g0": 0.0}, "g0"), ({"n_samples": 0}, "n_samples"), ({"resolution": 4}, "resolution"),
])
def test_mhd_invalid_parameters(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        MhdSource(**{"n_samples": 4, "resolution": 16, "ha_max": 8.0, "data_dir": tmp_path}
                  | kwargs)
    assert not list(tmp_path.rglob("*.h5"))


# ------------------------------------------------------------------------------------------------
# Acoustic-structure
# ------------------------------------------------------------------------------------------------

def _acoustic_mms_error(n: int, omega: float = 4 * math.pi) -> float:
    """No disc: manufactured complex field, variable density, exact Robin data (autograd)."""
    x, y = cell_centres((n, n))
    pts = torch.from_numpy(np.stack([x.ravel(), y.ravel()], 1)).requires_grad_(True)

    def exact(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        px, py = p[:, 0], p[:, 1]
        amp = 1 + 0.3 * torch.sin(math.pi * px) * torch.cos(2 * math.pi * py)
        return amp * torch.cos(6 * px + 4 * py), amp * torch.sin(6 * px + 4 * py)

    px, py = pts[:, 0], pts[:, 1]
    inv_rho = 1 + 0.5 * torch.sin(math.pi * px) ** 2 * torch.sin(math.pi * py) ** 2
    pr, pi = exact(pts)
    fr, fi = acoustic_residual(pr, pi, inv_rho, 1.0, omega, Autograd(pts))  # residual(f=0) = -f
    f = -(fr.detach().numpy() + 1j * fi.detach().numpy()).reshape(n, n)
    c = (np.arange(n) + 0.5) / n
    bcs = {}
    walls = {"x_lo": (np.zeros(n), c, -1, 0), "x_hi": (np.ones(n), c, 1, 0),
             "y_lo": (c, np.zeros(n), 0, -1), "y_hi": (c, np.ones(n), 0, 1)}
    for side, (wx, wy, nx, ny) in walls.items():  # inv_rho = 1 on the walls
        wp = torch.from_numpy(np.stack([wx, wy], 1)).requires_grad_(True)
        wr, wi = exact(wp)
        d = Autograd(wp)
        (rx, ry), (ix, iy) = d.grad(wr), d.grad(wi)
        dn = (nx * rx + ny * ry).detach().numpy() + 1j * (nx * ix + ny * iy).detach().numpy()
        val = wr.detach().numpy() + 1j * wi.detach().numpy()
        bcs[side] = WallBC("robin", g=dn + 1j * omega * val, a=1j * omega)
    sol = solve_acoustic(inv_rho.detach().numpy().reshape(n, n), np.zeros((n, n), bool), omega,
                         source=f, bcs=bcs)
    exact_p = (pr.detach().numpy() + 1j * pi.detach().numpy()).reshape(n, n)
    return float(np.abs(sol - exact_p).max())


def test_acoustic_without_disc_converges_at_second_order():
    e32, e64 = _acoustic_mms_error(32), _acoustic_mms_error(64)
    order = math.log2(e32 / e64)
    print(f"\nacoustic (no disc) manufactured solution: {e32:.3e}, {e64:.3e}, order {order:.3f}")
    assert 1.8 < order < 2.2


def _disc_solution(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = cell_centres((n, n))
    solid = (x - 0.5) ** 2 + (y - 0.45) ** 2 < 0.12**2
    far = (x - 0.5) ** 2 + (y - 0.45) ** 2 > 0.22**2
    return solve_acoustic(np.ones((n, n)), solid, 4 * math.pi), far


def test_acoustic_rigid_disc_measured_order():
    """Staircase disc: RMS error against a 128^2 solution (block averages) away from the disc.

    Measured 2.0 here (the reference is only twice finer than the 64^2 grid); against 256^2 the
    same measure gives 1.6 (32 -> 64) and 1.4 (64 -> 128): the staircase limits the order towards
    one as the grid refines.
    """
    with single_threaded_blas():
        ref, _ = _disc_solution(128)
        sols = {n: _disc_solution(n) for n in (32, 64)}
    errs = {}
    for n, (p, far) in sols.items():
        f = 128 // n
        r = ref.reshape(n, f, n, f).mean(axis=(1, 3))
        errs[n] = float(np.sqrt(np.mean(np.abs(p - r)[far] ** 2)))
    order = math.log2(errs[32] / errs[64])
    print(f"\nrigid disc (staircase) vs 128^2: {errs[32]:.3e}, {errs[64]:.3e}, order {order:.2f}")
    assert order > 0.8


def test_acoustic_disc_is_sound_hard_and_scatters():
    p, _ = _disc_solution(64)
    x, y = cell_centres((64, 64))
    solid = (x - 0.5) ** 2 + (y - 0.45) ** 2 < 0.12**2
    assert np.all(p[solid] == 0)
    free = solve_acoustic(np.ones((64, 64)), np.zeros((64, 64), bool), 4 * math.pi)
    inc = np.exp(-1j * 4 * math.pi * x)
    assert np.abs(free - inc).max() < 0.05  # normal incidence: the absorbing walls are exact
    assert np.abs(p - inc)[~solid].max() > 0.3  # the disc scatters


def test_acoustic_generator_self_check_determinism_progress():
    calls = []
    one = generate_acoustic(3, 16, omega=6.0, seed=4, progress=lambda *c: calls.append(c))
    two = generate_acoustic(3, 16, omega=6.0, seed=4)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert one["residual"]["passed"] and one["residual"]["helmholtz_rel_max"] < 1e-8
    for k in ("inv_rho", "mask", "p_re", "p_im", "p_abs"):
        assert one[k].shape == (3, 16, 16) and one[k].tobytes() == two[k].tobytes()
    assert np.all(one["inv_rho"][one["mask"] > 0] == 0) and one["mask"].any()
    assert np.all(one["p_abs"][one["mask"] > 0] == 0)
    fluid = one["inv_rho"][one["mask"] == 0]
    assert 0.5 <= fluid.min() and fluid.max() <= 2.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"omega": 0.0}, "omega"), ({"omega": -1.0}, "omega"), ({"omega": 30.0}, "too coarse"),
    ({"resolution": 4}, "resolution"), ({"seed": -1}, "seed"), ({"theta": float("nan")}, "theta"),
])
def test_acoustic_invalid_parameters(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        AcousticStructureSource(**{"n_samples": 4, "resolution": 16, "omega": 6.0,
                                   "data_dir": tmp_path} | kwargs)


