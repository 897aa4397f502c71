"""The generators' shared numerics (datasets/numerics): the finite-volume assembler, the sparse
direct solve, grids, ETDRK4 coefficients, parameter validation and the self-check record.

The assembler is checked by manufactured solutions converging at second order (2D and 3D; Dirichlet
data, Robin, Neumann, a mask with Dirichlet or impermeable inner faces); that it reproduces the
three assemblers it replaced was checked entry by entry when it was written.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from pdebench.datasets.numerics.etdrk4 import etdrk4_coefficients
from pdebench.datasets.numerics.finite_volume import (
    FiniteVolume,
    WallBC,
    assemble_fv,
    check_connected,
    side_names,
)
from pdebench.datasets.numerics.grid import cell_centres, cell_centres_1d
from pdebench.datasets.numerics.selfcheck import SelfCheckError, self_check
from pdebench.datasets.numerics.sparse_direct import direct_solve
from pdebench.datasets.numerics.validation import (
    check_interval,
    check_range,
    check_real,
    check_resolution,
    check_subset,
)

PI = math.pi


def order(errors: list[float]) -> list[float]:
    return [math.log2(errors[i] / errors[i + 1]) for i in range(len(errors) - 1)]


# ------------------------------------------------------------------------------------------------
# Manufactured solutions
# ------------------------------------------------------------------------------------------------

def _dirichlet_data_2d(n: int) -> float:
    """div(c grad u) = f on [0, 1.5] x [0, 1] (anisotropic cells), u given on every wall."""
    extent = ((0.0, 1.5), (0.0, 1.0))
    shape = (n, n)
    spacing = (1.5 / n, 1.0 / n)

    def u(x, y):
        return np.sin(PI * x) * np.exp(y) + x * y + 1.0

    x, y = cell_centres(shape, extent)
    ux, uy = PI * np.cos(PI * x) * np.exp(y) + y, np.sin(PI * x) * np.exp(y) + x
    lap = (1.0 - PI**2) * np.sin(PI * x) * np.exp(y)
    c, cx, cy = 1.0 + 0.5 * x * y**2, 0.5 * y**2, x * y
    f = cx * ux + cy * uy + c * lap
    xs, ys = cell_centres_1d(n, 0.0, 1.5), cell_centres_1d(n)
    bcs = {"x_lo": WallBC("dirichlet", u(0.0, ys)), "x_hi": WallBC("dirichlet", u(1.5, ys)),
           "y_lo": WallBC("dirichlet", u(xs, 0.0)), "y_hi": WallBC("dirichlet", u(xs, 1.0))}
    a, b = assemble_fv(c, shape, bcs, spacing=spacing)
    got = direct_solve(a, (f - 0.0).ravel() - b, shape)
    return float(np.abs(got - u(x, y)).max())


def test_dirichlet_data_2d_second_order():
    errs = [_dirichlet_data_2d(n) for n in (16, 32, 64)]
    p = order(errs)
    print("2D Dirichlet data orders", p, errs)
    assert all(1.8 < v < 2.2 for v in p), (errs, p)


def _robin_neumann_3d(n: int) -> float:
    """-div(c grad u) = f on the unit cube: Dirichlet data at x = 0, Robin (a = 2) at x = 1,
    Neumann 0 at y = 0, 1 and z = 0, Robin with a varying coefficient at z = 1.

    A Robin face takes the coefficient of its cell (the data are at cell centres): second order
    where ``d_n c = 0`` on the wall, as here (and in every generator: constant there).
    """
    shape = (n, n, n)

    def u(x, y, z):
        return np.cos(PI * x) * np.cos(PI * y) * (1 + z**2) + x

    def u_x(x, y, z):
        return -PI * np.sin(PI * x) * np.cos(PI * y) * (1 + z**2) + 1.0

    def u_z(x, y, z):
        return 2 * z * np.cos(PI * x) * np.cos(PI * y)

    x, y, z = cell_centres(shape)
    cc = np.cos(PI * x) * np.cos(PI * y)
    uy = -PI * np.cos(PI * x) * np.sin(PI * y) * (1 + z**2)
    lap = -2 * PI**2 * cc * (1 + z**2) + 2 * cc
    c = 1.0 + 0.3 * np.cos(PI * x) + 0.2 * np.cos(PI * z)
    cx, cz = -0.3 * PI * np.sin(PI * x), -0.2 * PI * np.sin(PI * z)
    f = -(cx * u_x(x, y, z) + 0.0 * uy + cz * u_z(x, y, z) + c * lap)
    h = cell_centres_1d(n)
    fy, fz = np.meshgrid(h, h, indexing="ij")  # (y, z) on x faces
    gx, gy = np.meshgrid(h, h, indexing="ij")  # (x, y) on z faces
    a_top = 1.0 + gx
    bcs = {"x_lo": WallBC("dirichlet", u(0.0, fy, fz)),
           "x_hi": WallBC("robin", g=u_x(1.0, fy, fz) + 2.0 * u(1.0, fy, fz), a=2.0),
           "y_lo": "neumann_zero", "y_hi": "neumann_zero", "z_lo": WallBC("robin"),
           "z_hi": WallBC("robin", g=u_z(gx, gy, 1.0) + a_top * u(gx, gy, 1.0), a=a_top)}
    assert set(bcs) == set(side_names(3))
    got = FiniteVolume(shape, None, bcs, sign=-1).solve(c, f)
    return float(np.abs(got - u(x, y, z)).max())


def test_robin_and_neumann_3d_second_order():
    errs = [_robin_neumann_3d(n) for n in (8, 16, 32)]
    p = order(errs)
    print("3D Robin/Neumann orders", p, errs)
    assert all(1.8 < v < 2.2 for v in p), (errs, p)


def _masked_2d(n: int, inner: str) -> float:
    """-div(c grad u) = f on the unit square minus the hole [1/4, 1/2]^2 (faces on grid lines).

    ``dirichlet_zero`` inner faces: ``u = sin(4 pi x) sin(4 pi y)`` (0 on every face, box too);
    ``neumann_zero``: ``u = cos(4 pi x) cos(4 pi y)`` (no normal derivative on the hole, Dirichlet
    data on the box).
    """
    shape = (n, n)
    x, y = cell_centres(shape)
    mask = ~((x > 0.25) & (x < 0.5) & (y > 0.25) & (y < 0.5))
    k = 4 * PI
    if inner == "dirichlet_zero":
        s, t = np.sin, np.cos
        bcs = "dirichlet_zero"
    else:
        s, t = np.cos, lambda v: -np.sin(v)
        c1 = cell_centres_1d(n)
        bcs = {"x_lo": WallBC("dirichlet", np.cos(k * c1)),
               "x_hi": WallBC("dirichlet", np.cos(k) * np.cos(k * c1)),
               "y_lo": WallBC("dirichlet", np.cos(k * c1)),
               "y_hi": WallBC("dirichlet", np.cos(k) * np.cos(k * c1))}
    u = s(k * x) * s(k * y)
    ux, uy = k * t(k * x) * s(k * y), k * s(k * x) * t(k * y)
    c, cx, cy = 1.0 + 0.5 * x + 0.25 * y, 0.5, 0.25
    f = -(cx * ux + cy * uy - 2 * k * k * c * u)
    fv = FiniteVolume(shape, None, bcs, mask=mask, inner_bc=inner, sign=-1)
    got = fv.solve(np.where(mask, c, -1.0), f)  # values outside the mask are ignored
    assert np.all(got[~mask] == 0)
    return float(np.abs(got - u)[mask].max())


@pytest.mark.parametrize("inner", ["dirichlet_zero", "neumann_zero"])
def test_mask_second_order(inner):
    errs = [_masked_2d(n, inner) for n in (16, 32, 64)]
    p = order(errs)
    print(f"2D mask ({inner}) orders", p, errs)
    assert all(1.8 < v < 2.2 for v in p), (errs, p)


# ------------------------------------------------------------------------------------------------
# Conventions, reuse, failures
# ------------------------------------------------------------------------------------------------

def test_sign_conventions_and_symmetry():
    rng = np.random.default_rng(0)
    shape = (7, 5)
    c = np.exp(rng.standard_normal(shape))
    bcs = {"x_lo": WallBC("dirichlet", rng.standard_normal(5)),
           "x_hi": WallBC("robin", g=1.0 + 2j, a=1j * 3.0),
           "y_lo": "neumann_zero", "y_hi": WallBC("robin", g=rng.standard_normal(7), a=0.5)}
    a_plus, b_plus = assemble_fv(c, shape, bcs)
    a_minus, b_minus = assemble_fv(c, shape, bcs, sign=-1)
    assert a_plus.dtype == complex and b_plus.dtype == complex  # complex Robin data
    assert abs(a_plus + a_minus).max() == 0 and np.array_equal(b_plus, -b_minus)
    assert abs(a_plus - a_plus.T).max() == 0  # (complex) symmetric
    # a constant u with homogeneous Neumann everywhere is in the kernel of div(c grad .)
    a0, b0 = assemble_fv(c, shape, "neumann_zero")
    assert np.abs(a0 @ np.ones(35)).max() < 1e-12 and not b0.any()


def test_reordered_system_matches_the_natural_one():
    rng = np.random.default_rng(1)
    shape = (12, 10)
    mask = rng.random(shape) > 0.15
    c = np.exp(rng.standard_normal(shape))
    f = rng.standard_normal(shape)
    kw = {"mask": mask, "inner_bc": "neumann_zero", "sign": -1}
    natural = FiniteVolume(shape, (0.1, 0.2), "dirichlet_zero", **kw)
    ordered = FiniteVolume(shape, (0.1, 0.2), "dirichlet_zero", reorder=True, **kw)
    p = ordered.perm
    a_nat = natural.natural_matrix(c)
    assert abs(ordered.matrix(c) - a_nat[p][:, p]).max() == 0
    np.testing.assert_allclose(ordered.rhs(f), f.ravel()[natural.cells][p])
    u1, u2 = natural.solve(c, f), ordered.solve(c, f)
    np.testing.assert_allclose(u2, u1, rtol=1e-12, atol=1e-14)
    assert np.abs(a_nat @ u1.ravel()[natural.cells] - f.ravel()[natural.cells]).max() < 1e-9
    for _ in range(3):  # the cached pattern serves every coefficient
        c2 = np.exp(rng.standard_normal(shape))
        assert abs(ordered.matrix(c2) - natural.natural_matrix(c2)[p][:, p]).max() == 0


def test_invalid_inputs_fail_with_a_clear_message():
    fv = FiniteVolume((6, 6))
    with pytest.raises(ValueError, match="positive"):
        fv.matrix(-np.ones((6, 6)))
    with pytest.raises(ValueError, match="shape"):
        fv.matrix(np.ones((6, 5)))
    with pytest.raises(ValueError, match="source must be a scalar or of shape"):
        fv.rhs(np.ones(3))
    with pytest.raises(ValueError, match="missing"):
        assemble_fv(1.0, (4, 4), {"x_lo": "dirichlet_zero"})
    with pytest.raises(ValueError, match="unknown boundary condition 'wall'"):
        FiniteVolume((4, 4), bcs="wall")
    with pytest.raises(ValueError, match=r"y_hi: g has shape \(3,\)"):
        FiniteVolume((4, 4), bcs={"x_lo": "dirichlet_zero", "x_hi": "dirichlet_zero",
                                  "y_lo": "dirichlet_zero",
                                  "y_hi": WallBC("dirichlet", np.ones(3))})
    with pytest.raises(ValueError, match="pass the coefficient"):
        FiniteVolume((4, 4), bcs=WallBC("dirichlet", 1.0)).rhs(0.0)
    # an island inside an impermeable hole: singular, refused before factorising
    mask = np.ones((8, 8), dtype=bool)
    mask[2:6, 2:6] = False
    mask[3:5, 3:5] = True
    with pytest.raises(ValueError, match="touch no Dirichlet"):
        FiniteVolume((8, 8), mask=mask, inner_bc="neumann_zero", sign=-1).solve(1.0, 1.0)
    check_connected(mask, "dirichlet_zero", WallBC("robin", a=1.0))  # absorbing faces fix it


def test_direct_solve_and_grids():
    a = sp.csr_matrix(np.array([[4.0, 1.0], [1.0, 3.0]]))
    np.testing.assert_allclose(direct_solve(a, np.array([1.0, 2.0]), (2,)), [1 / 11, 7 / 11])
    with pytest.raises(RuntimeError, match="non-finite"):
        direct_solve(sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1e-320]])), np.ones(2), (2,))
    assert np.array_equal(cell_centres_1d(4), [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(cell_centres_1d(2, -1.0, 1.0), [-0.5, 0.5])
    x, y = cell_centres((2, 3), ((0.0, 2.0), (0.0, 3.0)))
    assert x.shape == y.shape == (2, 3) and x[1, 0] == 1.5 and y[0, 2] == 2.5


def test_etdrk4_coefficients_limits():
    """At dt * lin -> 0 the coefficients tend to (1, 1, dt/2, dt/6, dt/6, dt/6) (Cox & Matthews)."""
    dt = 0.1
    e, e2, q, f1, f2, f3 = etdrk4_coefficients(np.array([0.0, -1e-9]), dt)
    np.testing.assert_allclose(e, 1.0, atol=1e-9)
    np.testing.assert_allclose(e2, 1.0, atol=1e-9)
    np.testing.assert_allclose(q, dt / 2, rtol=1e-8)
    for f in (f1, f2, f3):
        np.testing.assert_allclose(f, dt / 6, rtol=1e-8)
    # a stiff mode: the closed forms, e.g. Q = (exp(z/2) - 1) / lin
    lam = -50.0
    _, _, q, f1, _, _ = etdrk4_coefficients(np.array([lam]), dt)
    z = lam * dt
    assert q[0] == pytest.approx((math.exp(z / 2) - 1) / lam, rel=1e-10)
    assert f1[0] == pytest.approx(dt * (-4 - z + math.exp(z) * (4 - 3 * z + z * z)) / z**3,
                                  rel=1e-9)


# ------------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,message", [
    (lambda: check_range("cfl", 0.0, 0.0, 0.5, open_lo=True),
     r"data.cfl must be a finite number in \(0, 0.5\], got 0.0"),
    (lambda: check_range("holes[1]", 10, 2, 9, integer=True),
     r"data.holes\[1\] must be an int in \[2, 9\]"),
    (lambda: check_range("holes[1]", 2.5, 2, 9, integer=True), "must be an int"),
    (lambda: check_interval("a_range", [1.0, 0.5], 0.0), r"data.a_range must be a pair \[lo, hi\]"),
    (lambda: check_interval("a_range", [0.0, 0.5], 0.0), r"0 < lo <= hi"),
    (lambda: check_interval("a_range", 3.0), "pair"),
    (lambda: check_resolution("resolution", (16, 7), 2, 8),
     "data.resolution must be an int or 2 ints >= 8"),
    (lambda: check_resolution("resolution", 16, 3, 4, scalar=False), "must be 3 ints >= 4"),
    (lambda: check_resolution("resolution", (8, True), 2, 1), "resolution"),
    (lambda: check_subset("geometries", ["square", "hexagon"], ("square", "disc"), "geometry"),
     "data.geometries: unknown geometry 'hexagon'; valid: square, disc"),
    (lambda: check_subset("forms", [1, 1], {1: "u - u^2", 2: "u - u^3"}, "form"),
     "lists the form 1 twice"),
    (lambda: check_subset("forms", [], {1: "u - u^2"}, "form"),
     r"non-empty list of forms from 1 \(u - u\^2\)"),
    (lambda: check_real("beta", True), "data.beta must be a finite number"),
])
def test_validation_messages(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_validation_returns_normalised_values():
    assert check_range("p", 1, 0.9, 1.6) == 1.0
    assert isinstance(check_range("n", 3.0, 2, 9, integer=True), int)
    assert check_interval("r", (0.1, 1)) == (0.1, 1.0)
    assert check_resolution("r", 16, 2, 8) == (16, 16)
    assert check_resolution("r", np.array([16, 8]), 2, 8) == (16, 8)
    assert check_subset("g", ("disc",), ("square", "disc")) == ("disc",)


# ------------------------------------------------------------------------------------------------
# Self-check record
# ------------------------------------------------------------------------------------------------

def test_self_check_record_has_the_standard_keys():
    rec = self_check("darcy", "RMS of the residual / beta",
                     {"rel_rms_max": np.float64(1e-13), "per_eq": {"a": 1e-9, "b": 2e-9},
                      "frames": np.array([1, 2])},
                     {"rel_rms_max": 1e-8, "per_eq": 1e-8}, expected="round-off")
    assert list(rec)[:1] == ["definition"] and rec["passed"] is True
    assert rec["tolerance"] == {"rel_rms_max": 1e-8, "per_eq": 1e-8}
    assert rec["frames"] == [1, 2] and type(rec["rel_rms_max"]) is float
    assert rec["expected"] == "round-off"


def test_self_check_failures_name_dataset_quantity_and_tolerance():
    with pytest.raises(SelfCheckError, match=r"mhd self-check failed: momentum_rel_max = 2.000e-06 "
                                             r"> tolerance 1e-08 \(pass a finer grid\)") as info:
        self_check("mhd", "d", {"momentum_rel_max": 2e-6, "induction_rel_max": 0.0},
                   {"momentum_rel_max": 1e-8, "induction_rel_max": 1e-8}, hint="pass a finer grid")
    assert info.value.record["passed"] is False and isinstance(info.value, RuntimeError)
    with pytest.raises(SelfCheckError, match=r"rel\[T\] = nan is not finite"):
        self_check("electrothermal", "d", {"rel": {"T": float("nan"), "c": 0.0}}, {"rel": 1.0})
    with pytest.raises(SelfCheckError, match="per sample r <= 1.1 t does not hold"):
        self_check("navier_stokes", "d", {"r": 1.0}, rule="per sample r <= 1.1 t", passed=False)
    with pytest.raises(ValueError, match="not among the values"):
        self_check("x", "d", {"a": 1.0}, {"b": 1.0})
    with pytest.raises(ValueError, match="verdict"):
        self_check("x", "d", {"a": 1.0}, rule="something")
