"""Equations at collocation points (:class:`pdebench.physics.points.PointPhysics`) and the
space-time autograd provider: exact solutions leave no residual, manufactured ones leave the
hand-computed residual, and boundary terms follow their definitions."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from pdebench.data.collocation import Collocation
from pdebench.datasets.lstm_pinn.electrothermal_solver import (
    closed_form_at,
    closed_form_fields,
    sample_parameters,
)
from pdebench.physics.advection import ADVECTION
from pdebench.physics.burgers import BURGERS
from pdebench.physics.darcy import DARCY
from pdebench.physics.derivatives import Autograd
from pdebench.physics.electrothermal import (
    COMPONENTS,
    ELECTROTHERMAL,
    ELECTROTHERMAL_GAUGE,
    FIELDS,
    SOURCES,
    ElectrothermalParams,
)
from pdebench.physics.equations import Component, Equation, dirichlet, neumann, robin
from pdebench.physics.fisher_kpp import FISHER_KPP, FISHER_KPP_SPACE_TIME, branch_coefficients
from pdebench.physics.points import PointPhysics, PointPhysicsError

F64 = torch.float64
PI = math.pi


def _points(n: int, box: list[tuple[float, float]], seed: int = 0) -> torch.Tensor:
    """``n`` random points of ``box`` (one ``(lo, hi)`` per column), ``(n, len(box))``."""
    g = torch.Generator().manual_seed(seed)
    lo = torch.tensor([b[0] for b in box], dtype=F64)
    hi = torch.tensor([b[1] for b in box], dtype=F64)
    return lo + torch.rand(n, len(box), generator=g, dtype=F64) * (hi - lo)


def _rms(t: torch.Tensor) -> float:
    return float(t.square().mean().sqrt())


def _num(t: torch.Tensor) -> float:
    """A scalar loss term (which carries a graph) as a number."""
    return float(t.detach())


# --- exact solutions and manufactured residuals ---------------------------------------------
def test_advection_exact_solution_has_no_residual_and_no_periodic_gap():
    beta = 0.4
    phys = PointPhysics(ADVECTION, {"beta": beta}, 1, True, ())
    phys.set_extent(((0.0, 1.0), (0.0, 2.0)))

    def exact(x):
        return {"u": torch.sin(2 * PI * (x[:, 0] - beta * x[:, 1]))}

    pts = _points(200, [(0.0, 1.0), (0.0, 2.0)])
    scale = 2 * PI * beta  # the size of u_t and beta u_x
    (name, term), = phys.interior_terms(exact, pts, {}).items()
    assert name == "pde/advection" and math.sqrt(_num(term)) < 1e-10 * scale
    walls = {"x_lo": torch.cat([torch.zeros(50, 1, dtype=F64),
                                _points(50, [(0.0, 2.0)], seed=1)], dim=1)}
    assert phys.walls() == ["x_lo"]
    terms = phys.boundary_terms(exact, walls)
    assert set(terms) == {"periodic/u"} and _num(terms["periodic/u"]) < 1e-20
    # a wave at the wrong speed leaves r = 2 pi (beta - c) cos(2 pi (x - c t))
    c = 0.1

    def wrong(x):
        return {"u": torch.sin(2 * PI * (x[:, 0] - c * x[:, 1]))}

    r = phys.residuals(wrong, pts, {})["advection"]
    hand = 2 * PI * (beta - c) * torch.cos(2 * PI * (pts[:, 0] - c * pts[:, 1]))
    torch.testing.assert_close(r, hand, rtol=0, atol=1e-12)
    # u = x is not periodic: the values differ by 1 across the box, the slopes agree
    gap = phys.boundary_terms(lambda x: {"u": x[:, 0] + 0 * x[:, 1]}, walls)["periodic/u"]
    torch.testing.assert_close(gap, torch.tensor(1.0, dtype=F64))


def test_advection_initial_term():
    phys = PointPhysics(ADVECTION, {"beta": 0.4}, 1, True, ())
    x = _points(64, [(0.0, 1.0)])
    pts = torch.cat([x, torch.zeros_like(x)], dim=1)

    def net(p):
        return {"u": torch.sin(2 * PI * (p[:, 0] - 0.4 * p[:, 1]))}

    u0 = torch.sin(2 * PI * x[:, 0])
    torch.testing.assert_close(phys.initial_terms(net, pts, {"u": u0})["ic/u"],
                               torch.tensor(0.0, dtype=F64), rtol=0, atol=1e-24)
    torch.testing.assert_close(phys.initial_terms(net, pts, {"u": u0 + 0.5})["ic/u"],
                               torch.tensor(0.25, dtype=F64))
    assert phys.initial_terms(net, pts, {}) == {}  # no reference for u: no term


@pytest.mark.parametrize("nu", [0.1, 0.01])
def test_burgers_residual_of_a_manufactured_field(nu):
    phys = PointPhysics(BURGERS, {"nu": nu}, 1, True, ())
    pts = _points(300, [(0.0, 1.0), (0.0, 2.0)])

    def net(x):
        return {"u": torch.sin(2 * PI * x[:, 0]) * torch.exp(-x[:, 1])}

    x, t = pts[:, 0], pts[:, 1]
    u = torch.sin(2 * PI * x) * torch.exp(-t)
    u_x = 2 * PI * torch.cos(2 * PI * x) * torch.exp(-t)
    u_xx = -4 * PI**2 * u
    hand = -u + u * u_x - nu / PI * u_xx  # u_t + u u_x - (nu / pi) u_xx
    r = phys.residuals(net, pts, {})["burgers"]
    assert _num((r - hand).abs().max()) < 1e-10 * _num(hand.abs().max())
    term = phys.interior_terms(net, pts, {})["pde/burgers"]
    torch.testing.assert_close(term, hand.square().mean(), rtol=1e-10, atol=0)


@pytest.mark.parametrize("a", [1.0, 2.5])
def test_darcy_residual_and_dirichlet_walls(a):
    beta = 1.0
    phys = PointPhysics(DARCY, {"beta": beta}, 2, False, ("a",))
    pts = _points(300, [(0.0, 1.0), (0.0, 1.0)])

    def net(x):
        return {"u": torch.sin(PI * x[:, 0]) * torch.sin(PI * x[:, 1])}

    u = net(pts)["u"]
    hand = a * 2 * PI**2 * u - beta  # -div(a grad u) - beta for a constant a
    r = phys.residuals(net, pts, {"a": torch.full((300,), a, dtype=F64)})["darcy"]
    assert _num((r - hand).abs().max()) < 1e-10 * _num(hand.abs().max())
    assert phys.term_names() == ["pde/darcy", "bc/u"]
    assert phys.walls() == ["x_lo", "x_hi", "y_lo", "y_hi"]
    walls = Collocation([(0.0, 1.0), (0.0, 1.0)], sampler="Halton", n_interior=4,
                        n_boundary=32).sample(1).walls
    walls = {k: torch.from_numpy(v) for k, v in walls.items()}
    terms = phys.boundary_terms(net, walls)
    assert set(terms) == {"bc/u"} and _num(terms["bc/u"]) < 1e-28  # sin(pi) ~ 1e-16
    # a field that is 1 on the walls violates u = 0 by 1 everywhere
    torch.testing.assert_close(phys.boundary_terms(lambda x: {"u": 1 + 0 * x[:, 0]}, walls)["bc/u"],
                               torch.tensor(1.0, dtype=F64))


def _electrothermal_net(index: int, seed: int, params: ElectrothermalParams):
    """Sample ``index`` of the generator as a network: the closed form, differentiable."""
    prm = torch.from_numpy(sample_parameters(index + 1, np.random.default_rng(seed),
                                             steep=params.regime == 3)[index:index + 1])

    def net(x):
        fields = closed_form_fields(x.view(1, -1, 2), prm, params.t0)
        return {f: v.reshape(-1) for f, v in zip(FIELDS, fields, strict=True)}

    return net


def test_electrothermal_closed_form_is_an_exact_solution_at_points():
    params = ElectrothermalParams(regime=1)
    pde_params = {**params.to_dict(), "regime": 1.0}
    index, seed = 3, 0
    phys = PointPhysics(ELECTROTHERMAL, pde_params, 2, False, SOURCES)
    assert phys.term_names() == [*(f"pde/{c}" for c in COMPONENTS),
                                 *(f"bc/{f}" for f in FIELDS)]
    net = _electrothermal_net(index, seed, params)
    exact = closed_form_at(index, seed, params, 16)
    pts = _points(256, [(0.0, 1.0), (0.0, 1.0)], seed=2)
    data = exact(pts)
    terms = phys.interior_terms(net, pts, {s: data[s] for s in SOURCES})
    scale = max(_rms(data[s]) for s in SOURCES)
    assert set(terms) == {f"pde/{c}" for c in COMPONENTS}
    for name, value in terms.items():
        assert math.sqrt(_num(value)) < 1e-10 * scale, name
    walls = {k: torch.from_numpy(v) for k, v in Collocation(
        [(0.0, 1.0), (0.0, 1.0)], sampler="pseudo", n_interior=4, n_boundary=24
    ).sample(3).walls.items()}
    reference = {side: exact(p) for side, p in walls.items()}
    bc = phys.boundary_terms(net, walls, reference)
    assert set(bc) == {f"bc/{f}" for f in FIELDS}
    for name, value in bc.items():
        assert _num(value) < 1e-24, name
    # the wrong sample is no solution: its residual is of the sources' size
    wrong = phys.interior_terms(_electrothermal_net(index + 1, seed, params), pts,
                                {s: data[s] for s in SOURCES})
    assert max(math.sqrt(_num(v)) for v in wrong.values()) > 1e-2 * scale
    with pytest.raises(PointPhysicsError, match=re.escape(
            "boundary data of 'u' is the reference, which the instance does not give at points")):
        phys.boundary_terms(net, walls)


def test_electrothermal_gauge_has_no_wall_data_for_p_and_phi():
    params = {**ElectrothermalParams(regime=2).to_dict(), "regime": 2.0}
    phys = PointPhysics(ELECTROTHERMAL_GAUGE, params, 2, False, SOURCES)
    assert phys.term_names() == [*(f"pde/{c}" for c in COMPONENTS), "bc/u", "bc/v", "bc/T",
                                 "gauge/p", "gauge/phi"]


def test_gauge_terms_are_the_squared_means():
    """p = x + 0.25 and phi = y - 0.5 on the unit square: gauge terms mean(p)^2, mean(phi)^2."""
    params = {**ElectrothermalParams(regime=2).to_dict(), "regime": 2.0}
    phys = PointPhysics(ELECTROTHERMAL_GAUGE, params, 2, False, SOURCES)
    pts = torch.rand(4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def net(x):
        zero = 0.0 * x[:, 0]
        return {"u": zero, "v": zero, "T": zero, "p": x[:, 0] + 0.25, "phi": x[:, 1] - 0.5}

    coeffs = {s: torch.zeros(len(pts), dtype=torch.float64) for s in SOURCES}
    terms = phys.interior_terms(net, pts, coeffs)
    assert torch.isclose(terms["gauge/p"], (pts[:, 0] + 0.25).mean() ** 2)
    assert torch.isclose(terms["gauge/phi"], (pts[:, 1] - 0.5).mean() ** 2)
    assert 0.5 < float(terms["gauge/p"]) < 0.7 and float(terms["gauge/phi"]) < 1e-3


# --- wall conditions ---------------------------------------------------------------------------
def _laplacian(fields, params, d):
    return (d.lap(fields["u"]),)


def _wall_value(coords, params, normal):
    """``g = x n_y``: on the top wall (outward normal +y) that is ``x``."""
    return coords["x"] * normal[1]


MIXED = Equation(
    name="mixed_walls", description="Laplace with a wall of every kind", unknowns=("u",),
    params=("k", "g0"), components={"mixed_walls": Component(("u",), _laplacian)},
    boundary={"u": {"x_lo": neumann(0.5), "x_hi": robin("k", lambda c, p, n: c["y"]),
                    "y_lo": dirichlet("g0"), "y_hi": neumann(_wall_value)}},
)


def test_neumann_robin_and_dirichlet_walls_against_hand_computed_values():
    k, g0 = 2.0, 0.25
    phys = PointPhysics(MIXED, {"k": k, "g0": g0}, 2, False, ())
    assert phys.walls() == ["x_lo", "x_hi", "y_lo", "y_hi"]
    s = _points(40, [(0.0, 1.0)], seed=5)[:, 0]
    zeros, ones = torch.zeros_like(s), torch.ones_like(s)
    walls = {"x_lo": torch.stack([zeros, s], 1), "x_hi": torch.stack([ones, s], 1),
             "y_lo": torch.stack([s, zeros], 1), "y_hi": torch.stack([s, ones], 1)}

    def net(x):  # u = x^2 + 3 y
        return {"u": x[:, 0] ** 2 + 3 * x[:, 1]}

    per_side = [
        (0.0 - 0.5) ** 2 * ones,                 # x_lo: du/dn = -2x = 0, g = 0.5
        (2.0 + k * (1 + 3 * s) - s) ** 2,        # x_hi: du/dn = 2, u = 1 + 3y, g = y
        (s**2 - g0) ** 2,                        # y_lo: u = x^2, g = g0
        (3.0 - s) ** 2,                          # y_hi: du/dn = 3, g = x n_y = x
    ]
    hand = torch.stack([p.mean() for p in per_side]).mean()
    terms = phys.boundary_terms(net, walls)
    assert set(terms) == {"bc/u"}
    torch.testing.assert_close(terms["bc/u"], hand, rtol=1e-12, atol=0)
    # walls missing from the draw are skipped: only x_lo is left
    torch.testing.assert_close(phys.boundary_terms(net, {"x_lo": walls["x_lo"]})["bc/u"],
                               torch.tensor(0.25, dtype=F64))


COMPLEX = Equation(
    name="complex_wall", description="an absorbing wall of u + i w", unknowns=("u", "w"),
    components={"complex_wall": Component(("u",), _laplacian)},
    boundary={"u": {"x_hi": robin(2j, 0.0, imag="w")}},
)


def test_complex_robin_wall_of_a_field_stored_as_two_channels():
    phys = PointPhysics(COMPLEX, {}, 1, False, ())
    walls = {"x_hi": torch.ones(1, 1, dtype=F64)}

    def net(x):  # u + i w = x^2 + i x: at x = 1, du/dn + 2i u = (2 + i) + 2i (1 + i) = 3i
        return {"u": x[:, 0] ** 2, "w": x[:, 0]}

    torch.testing.assert_close(phys.boundary_terms(net, walls)["bc/u"],
                               torch.tensor(9.0, dtype=F64))


# --- Fisher-KPP in space and time ----------------------------------------------------------
@pytest.mark.parametrize(("form", "a", "beta"), [(1, 0.7, None), (2, 0.3, None), (3, 0.5, 1.2)])
def test_fisher_kpp_space_time_residual_by_hand(form, a, beta):
    diffusivity = 0.01
    phys = PointPhysics(FISHER_KPP_SPACE_TIME, {"diffusivity": diffusivity}, 1, True,
                        ("c1", "c2", "c3", "c4"))
    assert phys.term_names(has_initial=True) == ["pde/fisher_kpp", "periodic/u", "ic/u"]
    pts = _points(200, [(0.0, 1.0), (0.0, 1.0)], seed=form)
    c = branch_coefficients(form, a, beta)
    coeffs = {f"c{i + 1}": torch.full((200,), float(c[i]), dtype=F64) for i in range(4)}

    def net(x):
        return {"u": 0.5 + 0.3 * torch.sin(2 * PI * x[:, 0]) * torch.exp(-x[:, 1])}

    x, t = pts[:, 0], pts[:, 1]
    wave = 0.3 * torch.sin(2 * PI * x) * torch.exp(-t)
    u, u_t, u_xx = 0.5 + wave, -wave, -4 * PI**2 * wave
    g = {1: u - u**2, 2: u - u**3,
         3: u * (1 - u) * torch.exp(-(beta or 0.0) * (1 - u))}[form]
    hand = u_t - diffusivity * u_xx - a * g
    r = phys.residuals(net, pts, coeffs)["fisher_kpp"]
    assert _num((r - hand).abs().max()) < 1e-10 * _num(hand.abs().max())


# --- refused equations and the terms that exist ---------------------------------------------
def test_point_physics_refuses_frames_stored_as_channels():
    with pytest.raises(PointPhysicsError, match=re.escape(
            "equation 'fisher_kpp' stores its frames as channels (u_t*)")):
        PointPhysics(FISHER_KPP, {"diffusivity": 0.01, "frame_dt": 0.25}, 1, False,
                     ("u0", "c1", "c2", "c3", "c4"))


def test_point_physics_refuses_what_it_cannot_feed():
    with pytest.raises(PointPhysicsError, match=re.escape(
            "none of the components of equation 'darcy' can be fed at points (they need "
            "['a', 'u'], available: ['u', 'x', 'y'])")):
        PointPhysics(DARCY, {"beta": 1.0}, 2, False, ())
    with pytest.raises(PointPhysicsError, match=re.escape(
            "equation 'darcy' needs pde_params ['beta']")):
        PointPhysics(DARCY, {}, 2, False, ("a",))
    # a steady view of advection has no u_t: nothing to evaluate
    with pytest.raises(PointPhysicsError, match="none of the components of equation "
                                                "'advection'"):
        PointPhysics(ADVECTION, {"beta": 1.0}, 1, False, ())


def test_components_that_cannot_be_fed_are_skipped():
    params = {**ElectrothermalParams().to_dict(), "regime": 1.0}
    phys = PointPhysics(ELECTROTHERMAL, params, 2, False, ("s_c", "s_T"))
    assert list(phys.components) == ["continuity", "energy"]
    assert phys.coefficients == ("s_c", "s_T")
    assert phys.term_names()[:2] == ["pde/continuity", "pde/energy"]


def test_term_names_by_kind_of_problem():
    adv = PointPhysics(ADVECTION, {"beta": 1.0}, 1, True, ())
    assert adv.term_names() == ["pde/advection", "periodic/u"]
    assert adv.term_names(has_initial=True) == ["pde/advection", "periodic/u", "ic/u"]
    darcy = PointPhysics(DARCY, {"beta": 1.0}, 2, False, ("a",))
    assert darcy.term_names(has_initial=True) == ["pde/darcy", "bc/u"]  # steady: no ic
    mixed = PointPhysics(MIXED, {"k": 1.0, "g0": 0.0}, 2, False, ())
    assert mixed.term_names() == ["pde/mixed_walls", "bc/u"]


# --- the autograd provider in space and time ------------------------------------------------
def test_autograd_time_derivative_and_spatial_gradient():
    pts = _points(50, [(0.0, 2.0), (0.5, 1.5)]).requires_grad_(True)
    d = Autograd(pts, spatial_dims=1)
    assert d.ndim == 1
    x, t = pts[:, 0], pts[:, 1]
    u = x**2 * t**3
    xd, td = x.detach(), t.detach()
    torch.testing.assert_close(d.time_derivative(u), 3 * xd**2 * td**2, rtol=1e-14, atol=0)
    grad = d.grad(u)
    assert len(grad) == 1  # only the x-partial
    torch.testing.assert_close(grad[0], 2 * xd * td**3, rtol=1e-14, atol=0)
    torch.testing.assert_close(d.lap(u), 2 * td**3, rtol=1e-14, atol=0)
    # (N, 1) fields keep their shape
    assert d.time_derivative(u.unsqueeze(1)).shape == (50, 1)


def test_autograd_differentiates_each_field_once():
    pts = _points(20, [(0.0, 1.0), (0.0, 1.0)]).requires_grad_(True)
    d = Autograd(pts, spatial_dims=1)
    u = torch.sin(pts[:, 0]) * pts[:, 1]
    first = d.grad(u)[0]
    again = d.grad(u)[0]
    u_t = d.time_derivative(u)
    # grad, grad again and d/dt are columns of one (N, 2) tensor of partials: one backward pass
    assert again.data_ptr() == first.data_ptr() and torch.equal(again, first)
    assert u_t.untyped_storage().data_ptr() == first.untyped_storage().data_ptr()
    assert u_t.data_ptr() == first.data_ptr() + first.element_size()  # the next column
    torch.testing.assert_close(u_t, torch.sin(pts[:, 0]).detach())
    torch.testing.assert_close(first, (torch.cos(pts[:, 0]) * pts[:, 1]).detach())
    v = u * 1.0  # another field with equal values gets its own partials
    assert d.grad(v)[0].untyped_storage().data_ptr() != first.untyped_storage().data_ptr()


def test_autograd_refuses_bad_space_time_layouts():
    pts = _points(5, [(0.0, 1.0)] * 3).requires_grad_(True)
    with pytest.raises(ValueError, match=re.escape(
            "Autograd: spatial_dims=1 for coords with 3 columns (space, then at most one time "
            "column)")):
        Autograd(pts, spatial_dims=1)
    with pytest.raises(ValueError, match="spatial_dims=0"):
        Autograd(pts, spatial_dims=0)
    d = Autograd(pts)
    with pytest.raises(ValueError, match="coords have no time column"):
        d.time_derivative(pts[:, 0] ** 2)
