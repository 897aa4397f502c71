"""Physics metrics of the multi-task DeepONet datasets (fisher_kpp, darcy_geometries, heated_plate).

Each dataset's own reference solution scores the physics floor its generator recorded, the floor is
at discretisation level, and perturbed solutions score measurably worse; the equations' terms are
checked on hand-computable fields with the grid and the autograd providers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.data.meta import DatasetMeta
from pdebench.metrics.physics import PhysicsMetrics
from pdebench.physics.derivatives import Autograd, FiniteDifference
from pdebench.physics.fisher_kpp import (
    branch_coefficients,
    fisher_kpp_frame_terms,
    fisher_kpp_reaction,
    fisher_kpp_residual,
    fisher_kpp_terms,
    frame_midpoints,
    reaction_parameters,
)
from pdebench.physics.heat import (
    MaskedFiniteDifference,
    conduction_residual,
    conduction_terms,
    flux_divergence_parts,
    masked_darcy_terms,
)
from pdebench.testing import physics_values, recorded_floor, tiny_datamodule

FISHER = {"residual_l2/fisher_kpp", "residual_rel/fisher_kpp"}
DARCY = {"residual_l2/darcy_masked", "residual_rel/darcy_masked", "bc_error/h"}
PLATE = {"residual_l2/heat_conduction", "residual_rel/heat_conduction", "bc_error/T"}


def _build(name: str, data_dir, *overrides: str):
    return tiny_datamodule(name, *overrides, data_dir=data_dir)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The three datasets at their declared tiny sizes, generated once for the module."""
    root = tmp_path_factory.mktemp("mtdeeponet_physics")
    return {name: _build(name, root) for name in ("fisher_kpp", "darcy_geometries", "heated_plate")}


def _y_max(dm) -> float:
    return max(float(dm.dataset[i]["y"].abs().max()) for i in range(len(dm.dataset)))


def _sines(y: torch.Tensor) -> torch.Tensor:
    """``prod_k sin(pi (i_k + 1/2) / n_k)`` over the spatial axes of ``y`` (batch, C, *spatial):
    a smooth bump, 1 in the middle and ~0 on the walls."""
    out = torch.ones((), dtype=y.dtype)
    spatial = y.shape[2:]
    for k, n in enumerate(spatial):
        s = torch.sin(math.pi * (torch.arange(n, dtype=y.dtype) + 0.5) / n)
        out = out * s.reshape([n if j == k else 1 for j in range(len(spatial))])
    return out


# ------------------------------------------------------------------------------------------------
# The reference solution scores its recorded floor, and the floor is at discretisation level
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, names", [("fisher_kpp", FISHER), ("darcy_geometries", DARCY),
                                         ("heated_plate", PLATE)])
def test_reference_scores_its_recorded_floor(tiny, name, names):
    dm = tiny[name]
    floor = recorded_floor(dm.source)
    assert set(floor) == names
    assert physics_values(dm.meta, dm.dataset) == pytest.approx(floor, rel=1e-9)


def test_fisher_floor_is_the_frame_spacing_error_second_order(tiny, tmp_path):
    """The Laplacian is the generator's, so the floor is the O(dt^2) error of the midpoint step
    (measured: residual_rel 0.064 with 4 frames; ratios 3.53 and 3.85 for 4 -> 8 -> 16)."""
    floors = [recorded_floor(tiny["fisher_kpp"].source)]
    floors += [recorded_floor(_build("fisher_kpp", tmp_path, f"data.tiny.n_frames={n}").source)
               for n in (8, 16)]
    assert floors[0]["residual_rel/fisher_kpp"] < 0.1
    l2 = [f["residual_l2/fisher_kpp"] for f in floors]
    orders = [math.log2(a / b) for a, b in zip(l2, l2[1:], strict=False)]
    assert 1.7 < orders[0] < 2.3 and 1.85 < orders[1] < 2.15, (l2, orders)


def test_darcy_floor_is_round_off_and_the_wall_error_falls_with_the_grid(tiny, tmp_path):
    """Float32 round-off in the residual (measured 1.7e-6); the wall extrapolation error of the
    finite-volume solution falls on the finer grid (measured 2.4e-3 -> 7.4e-4, 16 -> 32 cells;
    the random fields differ between the grids, so only a factor is asserted)."""
    coarse = recorded_floor(tiny["darcy_geometries"].source)
    fine = recorded_floor(_build("darcy_geometries", tmp_path, "data.tiny.resolution=32").source)
    assert coarse["residual_rel/darcy_masked"] < 1e-5
    assert fine["residual_rel/darcy_masked"] < 1e-5
    assert coarse["bc_error/h"] < 0.05 * _y_max(tiny["darcy_geometries"])
    assert fine["bc_error/h"] < coarse["bc_error/h"] / 2


def test_plate_floor_is_round_off_and_the_wall_error_falls_with_the_grid(tiny, tmp_path):
    """Float32 round-off in the residual (measured 2.2e-6); bc_error/T (dominated by the insulated
    top's one-sided derivative over 4 voxels) falls when the voxels are halved through the
    thickness (measured 2.5e-2 -> 4.2e-3, order 2.6)."""
    coarse = recorded_floor(tiny["heated_plate"].source)
    fine = recorded_floor(_build("heated_plate", tmp_path,
                                 "data.tiny.resolution=[32,16,8]").source)
    assert coarse["residual_rel/heat_conduction"] < 1e-5
    assert fine["residual_rel/heat_conduction"] < 1e-5
    assert fine["bc_error/T"] < coarse["bc_error/T"] / 4


# ------------------------------------------------------------------------------------------------
# Perturbed solutions score worse
# ------------------------------------------------------------------------------------------------

def _fisher_bump(amount: float):
    """``amount sin(2 pi x) t / t_end`` on the frames: smooth, periodic, 0 at t = 0 (so ``u0``
    stays consistent), a wrong ``u_t``, ``u_xx`` and ``g(u)`` in every step."""
    def perturb(y, x):
        n, nt = y.shape[-1], y.shape[1]
        xs = (torch.arange(n, dtype=y.dtype) + 0.5) / n
        t = torch.arange(1, nt + 1, dtype=y.dtype) / nt
        return y + amount * torch.sin(2 * math.pi * xs) * t[:, None]
    return perturb


@pytest.mark.parametrize("metric", sorted(FISHER))
def test_fisher_perturbed_solution_scores_worse(tiny, metric):
    """A 5 % bump (u lies in (0, 1)) roughly triples the residual (measured 2.9x and 3.1x)."""
    dm = tiny["fisher_kpp"]
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=_fisher_bump(0.05))[metric]
    assert worse > 2 * floor, (metric, floor, worse)


@pytest.mark.parametrize("name, metric", [
    ("darcy_geometries", "residual_l2/darcy_masked"), ("darcy_geometries", "residual_rel/darcy_masked"),
    ("heated_plate", "residual_l2/heat_conduction"), ("heated_plate", "residual_rel/heat_conduction")])
def test_interior_bump_raises_the_residual_far_above_round_off(tiny, name, metric):
    """A smooth bump of 1 % of the field's maximum (measured: 2.7e4 and 2.2e4 times the floor)."""
    dm = tiny[name]
    amount = 0.01 * _y_max(dm)
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=lambda y, x: y + amount * _sines(y))[metric]
    assert worse > 100 * floor, (metric, floor, worse)


@pytest.mark.parametrize("name, metric, perturb", [
    # an offset of 5 % of max|h| on every wall cell of the domain (measured 2.8x)
    ("darcy_geometries", "bc_error/h", lambda y, x, m: y + 0.05 * m),
    # T = 0 sides: an offset of 30 % of max|T| (measured 2.8x; the floor is dominated by the
    # insulated top, which an offset leaves alone)
    ("heated_plate", "bc_error/T", lambda y, x, m: y + 0.3 * m),
    # insulated top: a tilt dT/dz = 0.15 max|T| / m (measured 2.5x)
    ("heated_plate", "bc_error/T",
     lambda y, x, m: y + 0.15 * m * 0.5 * (torch.arange(y.shape[-1], dtype=y.dtype) + 0.5)
     / y.shape[-1]),
])
def test_wall_violation_raises_bc_error(tiny, name, metric, perturb):
    dm = tiny[name]
    scale = _y_max(dm)
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=lambda y, x: perturb(y, x, scale))[metric]
    assert worse > 2 * floor, (metric, floor, worse)


# ------------------------------------------------------------------------------------------------
# Fisher-KPP terms on hand-computable fields
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("form, a, beta", [(1, 0.1, None), (1, 1.0, None), (2, 0.55, None),
                                           (3, 0.1, 0.5), (3, 0.7, 1.0), (3, 1.0, 2.0),
                                           (3, 0.3, 1.25)])
def test_reaction_parameters_invert_the_branch_coefficients(form, a, beta):
    c = torch.tensor(branch_coefficients(form, a, beta), dtype=torch.float32).double()
    got_a, got_form, got_beta = reaction_parameters(*c)
    assert int(got_form) == form
    assert float(got_a) == pytest.approx(a, rel=1e-6)
    assert float(got_beta) == pytest.approx(beta or 0.0, abs=1e-6)
    u = torch.linspace(0, 1, 11, dtype=torch.float64)
    torch.testing.assert_close(got_a * fisher_kpp_reaction(u, got_form, got_beta),
                               a * fisher_kpp_reaction(u, form, beta or 0.0), rtol=1e-6, atol=0)


def test_reaction_parameters_reject_what_encodes_no_form():
    with pytest.raises(ValueError, match="no Fisher-KPP reaction form"):
        reaction_parameters(torch.tensor(1.0), torch.tensor(0.0), torch.tensor(-0.9),
                            torch.tensor(0.0))
    with pytest.raises(ValueError, match="c1"):
        reaction_parameters(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(0.0),
                            torch.tensor(0.0))


def test_fisher_terms_with_autograd_on_a_sine():
    """``u = sin(2 pi x)``: ``u_xx = -4 pi^2 u`` exactly; form 3."""
    x = torch.linspace(0.05, 0.95, 19, dtype=torch.float64)[:, None].requires_grad_(True)
    u = torch.sin(2 * math.pi * x)
    u_t = 0.3 * torch.cos(2 * math.pi * x).detach()
    d, a, beta, diff = Autograd(x), 0.4, 1.5, 0.01
    terms = fisher_kpp_terms(u_t, u, diff, a, 3, beta, d)
    us = u.detach()
    g3 = us * (1 - us) * torch.exp(-beta * (1 - us))
    torch.testing.assert_close(terms[0], u_t)
    torch.testing.assert_close(terms[1].detach(), diff * 4 * math.pi**2 * us)
    torch.testing.assert_close(terms[2].detach(), -a * g3)
    torch.testing.assert_close(fisher_kpp_residual(u_t, u, diff, a, 3, beta, d).detach(),
                               (terms[0] + terms[1] + terms[2]).detach())


def test_frame_midpoints_of_a_linear_ramp():
    u0 = torch.tensor([[1.0, 2.0]])
    frames = torch.stack([u0 + 0.5 * k for k in (1, 2, 3)], dim=-1)  # u = u0 + 2 t, dt = 0.25
    mid, rate = frame_midpoints(frames, u0, 0.25)
    torch.testing.assert_close(rate, torch.full((1, 2, 3), 2.0))
    torch.testing.assert_close(mid, u0[..., None] + 2 * 0.25 * torch.tensor([0.5, 1.5, 2.5]))


def test_fisher_metrics_of_manufactured_frames_equal_the_closed_form():
    """Frames ``u = 1/2 + t s(x)``, ``s = 0.1 sin(2 pi x)``: ``u_t = s`` and the periodic
    three-point Laplacian of ``s`` is ``-(4/h^2) sin^2(pi h) s`` exactly; form 2, ``a = 0.7``."""
    n, nt, dt, diff, a = 16, 3, 0.2, 0.05, 0.7
    x = (np.arange(n) + 0.5) / n
    s = 0.1 * np.sin(2 * np.pi * x)
    t_mid = dt * (np.arange(nt) + 0.5)
    u_mid = 0.5 + t_mid[:, None] * s  # (nt, n)
    lam = -(4 * n**2) * math.sin(math.pi / n) ** 2
    hand = np.stack(np.broadcast_arrays(s, -diff * lam * t_mid[:, None] * s,
                                        -a * (u_mid - u_mid**3)))
    residual_l2 = math.sqrt(np.mean(hand.sum(0) ** 2))
    scale = math.sqrt(np.mean(np.abs(hand).max(0) ** 2))

    frames = torch.from_numpy(0.5 + dt * np.arange(1, nt + 1)[:, None] * s)[None]  # (1, nt, n)
    c = torch.from_numpy(branch_coefficients(2, a))
    inputs = torch.cat([torch.full((1, 1, n), 0.5, dtype=torch.float64),
                        c[None, :, None].expand(1, 4, n)], dim=1)
    meta = DatasetMeta(name="manufactured", pde="fisher_kpp", spatial_dims=1, resolution=(n,),
                       extent=((0.0, 1.0),), input_fields=("u0", "c1", "c2", "c3", "c4"),
                       output_fields=tuple(f"u_t{k}" for k in range(1, nt + 1)),
                       pde_params={"diffusivity": diff, "frame_dt": dt})
    metric = PhysicsMetrics(meta)
    metric.update(frames[..., None], frames[..., None], inputs)
    got = {k: float(v) for k, v in metric.compute().items()}
    assert got == pytest.approx({"residual_l2/fisher_kpp": residual_l2,
                                 "residual_rel/fisher_kpp": residual_l2 / scale}, rel=1e-12)
    # the unfolded terms, frame by frame
    fields = {"u_t*": frames.permute(0, 2, 1), "u0": inputs[:, 0],
              **{f"c{k}": inputs[:, k] for k in range(1, 5)}}
    terms = fisher_kpp_frame_terms(fields, meta.pde_params, FiniteDifference([1 / n], "periodic"))
    torch.testing.assert_close(torch.stack(terms)[:, 0].permute(0, 2, 1), torch.from_numpy(hand))


# ------------------------------------------------------------------------------------------------
# Conduction and masked Darcy terms on hand-computable fields
# ------------------------------------------------------------------------------------------------

def _cell_grid(shape, spacing):
    axes = [(torch.arange(n, dtype=torch.float64) + 0.5) * h for n, h in zip(shape, spacing,
                                                                             strict=True)]
    return torch.meshgrid(*axes, indexing="ij")


def test_flux_divergence_parts_sum_to_div_flux_and_are_exact_on_quadratics():
    shape, spacing = (7, 6, 5), (0.2, 0.25, 0.1)
    bc = ("dirichlet_zero", "dirichlet_zero", "neumann_zero")
    d = FiniteDifference(spacing, bc)
    gen = torch.Generator().manual_seed(1)
    u = torch.randn(2, *shape, generator=gen, dtype=torch.float64)
    coef = torch.rand(2, *shape, generator=gen, dtype=torch.float64) + 0.5
    torch.testing.assert_close(sum(flux_divergence_parts(coef, u, d)), d.div_flux(coef, u))
    mask = torch.ones(shape, dtype=torch.bool)
    mask[2:4, 2:4] = False  # a hole through the thickness
    for inner in ("dirichlet_zero", "neumann_zero"):
        dm = MaskedFiniteDifference(spacing, mask, bc=bc, inner_bc=inner)
        torch.testing.assert_close(sum(flux_divergence_parts(coef, u, dm)),
                                   dm.div_flux(coef, u))
    # k (x^2 + 3 y^2 - z^2): the parts are 2k, 6k, -2k in the interior cells
    x, y, z = _cell_grid(shape, spacing)
    parts = flux_divergence_parts(1.5, (x**2 + 3 * y**2 - z**2)[None], d)
    for part, want in zip(parts, (3.0, 9.0, -3.0), strict=True):
        torch.testing.assert_close(part[0, 1:-1, 1:-1, 1:-1],
                                   torch.full((5, 4, 3), want, dtype=torch.float64))


def test_conduction_terms_with_autograd_on_a_separable_field():
    """``T = sin(pi x) sin(pi y) cosh(z)``, ``k = 2``, ``q = 0.3``: the parts of ``-div(k grad T)``
    are ``k pi^2 T`` (x and y) and ``-k T`` (z)."""
    gen = torch.Generator().manual_seed(2)
    pts = torch.rand(25, 3, generator=gen, dtype=torch.float64).requires_grad_(True)
    x, y, z = pts.unbind(1)
    temp = torch.sin(math.pi * x) * torch.sin(math.pi * y) * torch.cosh(z)
    terms = conduction_terms(temp, 2.0, 0.3, Autograd(pts))
    t = temp.detach()
    for got, want in zip(terms[:3], (2 * math.pi**2 * t, 2 * math.pi**2 * t, -2.0 * t),
                         strict=True):
        torch.testing.assert_close(got.detach(), want)
    assert terms[3] == -0.3
    torch.testing.assert_close(
        conduction_residual(temp, 2.0, 0.3, Autograd(pts)).detach(),
        (4 * math.pi**2 - 2.0) * t - 0.3)


def test_conduction_residual_is_the_masked_finite_volume_balance():
    shape, spacing = (8, 6, 4), (0.25, 1 / 6, 0.125)
    mask = torch.ones(shape, dtype=torch.bool)
    mask[3:5, 2:4] = False
    d = MaskedFiniteDifference(spacing, mask, bc=("dirichlet_zero", "dirichlet_zero",
                                                  "neumann_zero"), inner_bc="neumann_zero")
    gen = torch.Generator().manual_seed(3)
    temp = torch.rand(1, *shape, generator=gen, dtype=torch.float64)
    q = torch.rand(1, *shape, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(conduction_residual(temp, 1.7, q, d, mask[None]),
                               torch.where(mask, -d.div_flux(1.7, temp) - q, 0.0))


def test_masked_darcy_terms_on_a_quadratic_head():
    """``h = x(1-x) y(1-y)``, ``log_k = c``: ``-div(K grad h) = 2 K (x(1-x) + y(1-y))`` with
    ``K = exp(sigma c)``, exact for the five-point finite volumes in the interior."""
    n, sigma, c, f = 8, 0.8, 0.5, 1.3
    x, y = _cell_grid((n, n), (1 / n, 1 / n))
    head = (x * (1 - x) * y * (1 - y))[None]
    want = 2 * math.exp(sigma * c) * (x * (1 - x) + y * (1 - y))
    params = {"sigma": sigma, "source": f}
    fields = {"h": head, "log_k": torch.full_like(head, c)}
    div, src = masked_darcy_terms(fields, params, FiniteDifference((1 / n, 1 / n)))
    torch.testing.assert_close(div[0, 1:-1, 1:-1], want[1:-1, 1:-1])
    assert src == -f
    pts = torch.rand(20, 2, generator=torch.Generator().manual_seed(4),
                     dtype=torch.float64).requires_grad_(True)
    px, py = pts.unbind(1)
    ph = px * (1 - px) * py * (1 - py)
    div, _ = masked_darcy_terms({"h": ph, "log_k": torch.full_like(px, c).detach()}, params,
                                Autograd(pts))
    torch.testing.assert_close(div.detach(), 2 * math.exp(sigma * c)
                               * (px * (1 - px) + py * (1 - py)).detach())
