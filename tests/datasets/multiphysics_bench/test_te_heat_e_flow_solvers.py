"""The TE_heat and E_flow generators: finite volumes, convergence, self-checks, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pdebench.datasets.multiphysics_bench.e_flow import EFlowSource as ElectroOsmoticSource
from pdebench.datasets.multiphysics_bench.e_flow_solver import generate_electro_osmotic
from pdebench.datasets.multiphysics_bench.te_heat import TEHeatSource as ElectroThermalSource
from pdebench.datasets.multiphysics_bench.te_heat_solver import (
    generate_electro_thermal,
    picard_solve,
)
from pdebench.datasets.numerics.finite_volume import WallBC, assemble_fv
from pdebench.datasets.numerics.grid import cell_centres
from pdebench.datasets.numerics.sparse_direct import direct_solve as solve_fv
from pdebench.physics.derivatives import Autograd
from pdebench.physics.multiphysics import conduction_residual, helmholtz_residual

# ------------------------------------------------------------------------------------------------
# Electro-osmotic flow
# ------------------------------------------------------------------------------------------------

def _conduction_mms_error(n: int) -> float:
    x, y = cell_centres((n, n))
    pts = torch.from_numpy(np.stack([x.ravel(), y.ravel()], 1)).requires_grad_(True)
    px, py = pts[:, 0], pts[:, 1]
    kap = 1 + 0.5 * torch.sin(2 * math.pi * px) * torch.cos(math.pi * py)
    sol = 1 - px + 0.2 * torch.sin(math.pi * px) * torch.cos(math.pi * py)  # d_y V = 0 at y=0,1
    f = conduction_residual(sol, kap, Autograd(pts)).detach().numpy()  # the shared equation
    bcs = {"x_lo": WallBC("dirichlet", 1.0), "x_hi": WallBC("dirichlet", 0.0),
           "y_lo": WallBC("robin"), "y_hi": WallBC("robin")}
    a, b = assemble_fv(kap.detach().numpy().reshape(n, n), (n, n), bcs)
    return float(np.abs(solve_fv(a, f - b, (n, n)).ravel() - sol.detach().numpy()).max())


def test_electro_osmotic_fv_converges_at_second_order():
    e32, e64 = _conduction_mms_error(32), _conduction_mms_error(64)
    order = math.log2(e32 / e64)
    print(f"\nelectro_osmotic FV manufactured solution: {e32:.3e}, {e64:.3e}, order {order:.3f}")
    assert 1.8 < order < 2.2


def test_electro_osmotic_generator_self_check_and_determinism():
    calls = []
    one = generate_electro_osmotic(4, 24, seed=1, progress=lambda *c: calls.append(c))
    two = generate_electro_osmotic(4, 24, seed=1)
    res = one["residual"]
    assert res["passed"] and res["conduction_rel_max"] < 1e-9 and res["face_divergence_max"] < 1e-8
    assert calls[-1] == (4, 4)
    for k in ("kappa", "k_p", "V", "u", "v"):
        assert one[k].shape == (4, 24, 24) and one[k].tobytes() == two[k].tobytes()
    assert 0 < one["V"].min() and one["V"].max() < 1  # maximum principle
    assert (one["u"] < 0).all()  # flow along k_V grad V (V falls along x)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kappa0": -1.0}, "kappa0"), ({"k_p0": 0.0}, "k_p0"), ({"k_v": -1.0}, "k_v"),
    ({"resolution": 8}, "too coarse"), ({"seed": -1}, "seed"),
])
def test_electro_osmotic_invalid_parameters(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        ElectroOsmoticSource(**{"n_samples": 4, "resolution": 16, "data_dir": tmp_path} | kwargs)


# ------------------------------------------------------------------------------------------------
# Electro-thermal
# ------------------------------------------------------------------------------------------------

def _helmholtz_mms_error(n: int, k0: float = 4 * math.pi) -> float:
    """Manufactured complex field; source from the shared residual with autograd."""
    x, y = cell_centres((n, n))
    pts = torch.from_numpy(np.stack([x.ravel(), y.ravel()], 1)).requires_grad_(True)

    def exact(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        px, py = p[:, 0], p[:, 1]
        amp = 1 + 0.3 * torch.sin(math.pi * px) * torch.cos(2 * math.pi * py)
        return amp * torch.cos(5 * px + 3 * py), amp * torch.sin(5 * px + 3 * py)

    px, py = pts[:, 0], pts[:, 1]
    eps = 1.5 + 0.5 * torch.sin(math.pi * px) * torch.sin(math.pi * py)
    sig = 0.3 * torch.cos(math.pi * px) ** 2
    er, ei = exact(pts)
    fr, fi = helmholtz_residual(er, ei, eps, sig, k0, Autograd(pts))
    f = fr.detach().numpy() + 1j * fi.detach().numpy()
    c = (np.arange(n) + 0.5) / n
    bcs = {}
    walls = {"x_lo": (np.zeros(n), c, -1, 0), "x_hi": (np.ones(n), c, 1, 0),
             "y_lo": (c, np.zeros(n), 0, -1), "y_hi": (c, np.ones(n), 0, 1)}
    for side, (wx, wy, nx, ny) in walls.items():
        wp = torch.from_numpy(np.stack([wx, wy], 1)).requires_grad_(True)
        wr, wi = exact(wp)
        d = Autograd(wp)
        (rx, ry), (ix, iy) = d.grad(wr), d.grad(wi)
        dn = (nx * rx + ny * ry).detach().numpy() + 1j * (nx * ix + ny * iy).detach().numpy()
        val = wr.detach().numpy() + 1j * wi.detach().numpy()
        bcs[side] = WallBC("robin", g=dn + 1j * k0 * val, a=1j * k0)
    a, b = assemble_fv(1.0, (n, n), bcs)
    eps_c = eps.detach().numpy() - 1j * sig.detach().numpy()
    a = a + sp.diags(k0 * k0 * eps_c)
    sol = solve_fv(a, f - b, (n, n)).ravel()
    return float(np.abs(sol - (er.detach().numpy() + 1j * ei.detach().numpy())).max())


def test_helmholtz_converges_at_second_order():
    e32, e64 = _helmholtz_mms_error(32), _helmholtz_mms_error(64)
    order = math.log2(e32 / e64)
    print(f"\nHelmholtz (Robin walls) manufactured solution: {e32:.3e}, {e64:.3e}, order "
          f"{order:.3f}")
    assert 1.8 < order < 2.2


def test_electro_thermal_generator_self_check_and_determinism():
    one = generate_electro_thermal(3, 16, k0=6.0, seed=4)
    two = generate_electro_thermal(3, 16, k0=6.0, seed=4)
    assert one["residual"]["passed"] and one["residual"]["helmholtz_rel_max"] < 1e-6
    for k in ("eps_r", "sigma0", "E_re", "E_im", "T"):
        assert one[k].shape == (3, 16, 16) and one[k].tobytes() == two[k].tobytes()
    assert one["T"].min() > 1.0  # heated above ambient
    assert set(np.unique(one["eps_r"]).tolist()) - {1.0}  # an inclusion exists


def test_electro_thermal_runaway_raises_naming_iteration():
    eps = np.ones((16, 16))
    eps[5:10, 5:10] = 3.0
    sig = np.where(eps > 1, 1.0, 0.0)
    with pytest.raises(RuntimeError, match=r"Picard iteration \d+: temperature T"):
        picard_solve(eps, sig, 6.0, q=1e4, gamma=5.0, biot=1.0)
    with pytest.raises(RuntimeError, match=r"Picard iteration 2: max \|T_k"):
        picard_solve(eps, sig, 6.0, q=10.0, gamma=5.0, biot=1.0, max_iter=2)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"q": -1.0}, "data.q"), ({"biot": 0.0}, "biot"), ({"k0": -2.0}, "k0"),
    ({"k0": 40.0}, "too coarse"), ({"resolution": 8}, "too coarse"), ({"max_iter": 0}, "max_iter"),
])
def test_electro_thermal_invalid_parameters(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        ElectroThermalSource(**{"n_samples": 4, "resolution": 16, "k0": 6.0,
                                "data_dir": tmp_path} | kwargs)
