"""The multi-task DeepONet generators (specs/PROBLEMS.md, B): Fisher--KPP with three reaction
forms, Darcy on several geometries, the 3D heated plate with holes.

Covers datasets/fisher_kpp_solver.py, datasets/geometry_darcy_solver.py,
datasets/heated_plate_solver.py, datasets/numerics/finite_volume.py (masked),
datasets/mtdeeponet.py,
pdebench/physics/fisher_kpp.py and pdebench/physics/heat.py. Small grids only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdebench.datasets.mtdeeponet import darcy_geometries_solver as gds
from pdebench.datasets.mtdeeponet import fisher_kpp_solver as fks
from pdebench.datasets.mtdeeponet import heated_plate_solver as hps
from pdebench.datasets.mtdeeponet.sources import (
    DarcyGeometriesSource,
    FisherKPPSource,
    HeatedPlateSource,
    sample_labels,
)
from pdebench.datasets.numerics.finite_volume import assemble_masked as assemble
from pdebench.datasets.numerics.finite_volume import check_connected
from pdebench.datasets.numerics.finite_volume import solve_masked as solve
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.fisher_kpp import (
    branch_coefficients,
    fisher_kpp_reaction,
    fisher_kpp_residual,
)
from pdebench.physics.heat import MaskedFiniteDifference


def order(e_coarse: float, e_fine: float, ratio: float = 2.0) -> float:
    return math.log(e_coarse / e_fine) / math.log(ratio)


# ------------------------------------------------------------------------------------------------
# Fisher-KPP
# ------------------------------------------------------------------------------------------------

def test_branch_coefficients_are_the_published_taylor_expansion():
    """g3 = u (1-u) exp(-beta (1-u)): exp(beta u) replaced by its 2nd-order Taylor polynomial."""
    sympy = pytest.importorskip("sympy")
    u, a, b = sympy.symbols("u a beta", positive=True)
    taylor = sympy.series(sympy.exp(b * u), u, 0, 3).removeO()
    poly = sympy.Poly(sympy.expand(a * u * (1 - u) * sympy.exp(-b) * taylor), u)
    expected = [a * sympy.exp(-b) * c for c in (1, b - 1, b * (b / 2 - 1), -b**2 / 2)]
    for k in range(4):
        assert sympy.simplify(poly.coeff_monomial(u ** (k + 1)) - expected[k]) == 0
    for av, bv in [(0.3, 0.5), (1.0, 2.0)]:
        c = branch_coefficients(3, av, bv)
        num = [float(e.subs({a: av, b: bv})) for e in expected]
        np.testing.assert_allclose(c, num, rtol=1e-14)
        # the polynomial is the reaction up to O(u^4) near u = 0
        uu = np.array([1e-2, 2e-2])
        g3 = av * uu * (1 - uu) * np.exp(-bv * (1 - uu))
        p = sum(c[k] * uu ** (k + 1) for k in range(4))
        assert np.all(np.abs(g3 - p) < 2 * av * bv**3 * uu**4)
    np.testing.assert_array_equal(branch_coefficients(1, 0.5), [0.5, -0.5, 0, 0])
    np.testing.assert_array_equal(branch_coefficients(2, 0.5), [0.5, 0, -0.5, 0])
    with pytest.raises(ValueError, match="valid: 1"):
        branch_coefficients(4, 0.5)


def test_fisher_reaction_forms_and_residual():
    u = torch.linspace(0, 1, 11, dtype=torch.float64)[None].repeat(3, 1)
    form = torch.tensor([[1], [2], [3]])
    beta = torch.tensor([[0.0], [0.0], [1.5]], dtype=torch.float64)
    g = fisher_kpp_reaction(u, form, beta)
    torch.testing.assert_close(g[0], u[0] - u[0] ** 2)
    torch.testing.assert_close(g[1], u[1] - u[1] ** 3)
    torch.testing.assert_close(g[2], u[2] * (1 - u[2]) * torch.exp(-1.5 * (1 - u[2])))
    torch.testing.assert_close(fisher_kpp_reaction(u[2], 3, 1.5), g[2])
    with pytest.raises(ValueError, match="valid"):
        fisher_kpp_reaction(u, torch.tensor([[1], [5], [3]]), beta)
    # a discrete eigenmode of the periodic three-point Laplacian with the reaction switched off
    n = 32
    d = FiniteDifference([1 / n], bc="periodic")
    x = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    phi = torch.cos(2 * math.pi * 3 * x)[None]
    lam = -(4 * n**2) * math.sin(math.pi * 3 / n) ** 2
    r = fisher_kpp_residual(0.01 * lam * phi, phi, 0.01, 0.0, 1, 0.0, d)
    assert float(r.abs().max()) < 1e-10


def test_fisher_solver_exact_cases():
    """Pure diffusion of a grid mode (ETDRK4 is exact on the linear part) and the logistic ODE."""
    n = 32
    x = fks.cell_centres_1d(n)
    u0 = np.stack([np.cos(2 * np.pi * 2 * x), np.full(n, 0.2)])
    frames, _ = fks.solve_fisher_kpp(u0, np.array([0.0, 0.8]), np.array([1, 1]),
                                     np.array([np.nan, np.nan]), 0.01, 1.0, 4, 10)
    lam = -(4 * n**2) * math.sin(math.pi * 2 / n) ** 2
    t = np.arange(5) / 4
    np.testing.assert_allclose(frames[0], np.exp(0.01 * lam * t)[:, None] * u0[0], atol=1e-13)
    logistic = 0.2 * np.exp(0.8 * t) / (1 - 0.2 + 0.2 * np.exp(0.8 * t))
    np.testing.assert_allclose(frames[1], np.broadcast_to(logistic[:, None], (5, n)), atol=1e-11)


def test_fisher_generator_shapes_labels_determinism_and_self_check():
    kw = {"resolution": 16, "n_frames": 4, "max_wavenumber": 4, "seed": 3}
    a = fks.generate_fisher_kpp(7, **kw)
    b = fks.generate_fisher_kpp(7, **kw)
    assert a["x"].shape == (7, 5, 16) and a["y"].shape == (7, 4, 16)
    assert a["x"].dtype == np.float32 and a["y"].dtype == np.float32
    assert np.array_equal(a["x"], b["x"]) and np.array_equal(a["y"], b["y"])
    c = fks.generate_fisher_kpp(3, **kw)
    assert np.array_equal(c["y"], a["y"][:3])  # a smaller n gives a prefix
    d = fks.generate_fisher_kpp(7, **{**kw, "seed": 4})
    assert not np.array_equal(d["x"][:, 0], a["x"][:, 0])
    np.testing.assert_allclose(a["t"], [0.25, 0.5, 0.75, 1.0])
    labels = a["solver"]["labels"]
    assert labels["form"] == [1, 2, 3, 1, 2, 3, 1]
    for i in range(7):
        f, av, bv = labels["form"][i], labels["a"][i], labels["beta"][i]
        assert (bv is None) == (f != 3)
        assert av in np.round(np.linspace(0.1, 1, 10), 12)
        coef = branch_coefficients(f, av, bv)
        np.testing.assert_allclose(a["x"][i, 1:], np.broadcast_to(coef[:, None], (4, 16)),
                                   rtol=1e-6)
    assert 0 < a["x"][:, 0].min() and a["x"][:, 0].max() < 1
    assert 0 < a["y"].min() and a["y"].max() < 1
    assert a["residual"]["passed"] and a["residual"]["rel_rms_step_max"] < 1e-4


def test_fisher_converges_in_space_and_time():
    """Second order in space (three-point Laplacian), fourth order in time (ETDRK4)."""
    coef = np.random.default_rng(0).standard_normal((3, 2, 5))
    a, form, beta = np.ones(3), np.array([1, 2, 3]), np.array([np.nan, np.nan, 2.0])

    def run(n, steps):
        u0 = fks.initial_field(coef, fks.cell_centres_1d(n))
        return fks.solve_fisher_kpp(u0, a, form, beta, 0.01, 1.0, 20, steps)[0]

    # space: differences of successive grids 48, 144, 432, 1296 (odd ratios keep cell centres
    # nested); 16 -> 48 is still pre-asymptotic (order 2.2)
    grids = (48, 144, 432, 1296)
    u = [run(n, 20) for n in grids]
    errs = [np.abs(u[i + 1][..., 1::3] - u[i]).max() for i in range(3)]
    p_space = [order(errs[i], errs[i + 1], 3.0) for i in range(2)]
    # time: 1, 2, 4 steps per frame against 256
    ref = run(64, 256)
    errs_t = [np.abs(run(64, s) - ref).max() for s in (1, 2, 4)]
    p_time = [order(errs_t[i], errs_t[i + 1]) for i in range(2)]
    print("Fisher-KPP orders: space", p_space, errs, "time", p_time, errs_t)
    assert all(1.9 < p < 2.1 for p in p_space), (errs, p_space)
    assert all(3.7 < p < 4.4 for p in p_time), (errs_t, p_time)


@pytest.mark.parametrize("kw,message", [
    ({"diffusivity": 0.0}, "diffusivity"),
    ({"diffusivity": -0.01}, "diffusivity"),
    ({"forms": [1, 4]}, "unknown Fisher-KPP reaction form 4.*valid: 1"),
    ({"forms": []}, "forms"),
    ({"a_range": [0.0, 1.0]}, "a_range"),
    ({"a_range": [1.0, 0.1]}, "a_range"),
    ({"beta_range": [-0.5, 2.0]}, "beta_range"),
    ({"n_a": 0}, "n_a"),
    ({"resolution": 4}, "resolution"),
    ({"n_frames": 0}, "n_frames"),
    ({"t_end": 0.0}, "t_end"),
    ({"max_wavenumber": 8}, "max_wavenumber"),
    ({"dt": -1.0}, "dt"),
    ({"n_samples": 0}, "n_samples"),
])
def test_fisher_invalid_parameters_raise_before_work(kw, message, tmp_path):
    calls = []
    args = {"n_samples": 2, "resolution": 16} | kw
    with pytest.raises(ValueError, match=message):
        fks.generate_fisher_kpp(**args, progress=lambda *a: calls.append(a))
    with pytest.raises(ValueError, match=message):
        FisherKPPSource(data_dir=tmp_path, **args)
    assert calls == [] and not list(tmp_path.rglob("*.h5"))


def test_fisher_source_meta_and_file(tmp_path):
    src = FisherKPPSource(data_dir=tmp_path, n_samples=5, resolution=16, n_frames=4,
                          max_wavenumber=3, forms=[1, 3])
    meta = src.meta
    assert meta.input_fields == ("u0", "c1", "c2", "c3", "c4")
    assert meta.output_fields == ("u_t1", "u_t2", "u_t3", "u_t4")
    assert meta.extra["frame_times"] == [0.25, 0.5, 0.75, 1.0]
    assert meta.extra["form_counts"] == {"1": 3, "3": 2} and meta.pde == "fisher_kpp"
    src.prepare()
    ds = src.open()
    assert len(ds) == 5 and ds[0]["x"].shape == (5, 16) and ds[0]["y"].shape == (4, 16)
    labels = sample_labels(src.path)
    assert labels["form"] == [1, 3, 1, 3, 1] and labels["beta"][0] is None


# ------------------------------------------------------------------------------------------------
# Masked finite volumes and the shared conduction / Darcy residual
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,bc,inner", [
    ((12, 9), "dirichlet_zero", "dirichlet_zero"),
    ((10, 8), ("neumann_zero", "dirichlet_zero"), "dirichlet_zero"),
    ((10, 8, 6), ("dirichlet_zero", "dirichlet_zero", "neumann_zero"), "neumann_zero"),
])
def test_masked_matrix_is_the_shared_operator(shape, bc, inner):
    rng = np.random.default_rng(1)
    mask = rng.random(shape) > 0.2
    coef = np.exp(rng.standard_normal(shape))
    u = rng.standard_normal(shape) * mask
    spacing = [0.1 * (k + 1) for k in range(len(shape))]
    a, cells = assemble(coef, mask, spacing, bc, inner)
    d = MaskedFiniteDifference(spacing, torch.from_numpy(mask), bc=bc, inner_bc=inner)
    got = -d.div_flux(torch.from_numpy(coef)[None], torch.from_numpy(u)[None])[0].numpy()
    np.testing.assert_allclose(got.ravel()[cells], a @ u.ravel()[cells], rtol=1e-12, atol=1e-9)
    assert np.all(got[~mask] == 0)
    assert abs(a - a.T).max() < 1e-9  # symmetric


def test_masked_provider_without_holes_is_the_grid_provider():
    rng = np.random.default_rng(2)
    u, c = torch.from_numpy(rng.standard_normal((2, 9, 7))), torch.from_numpy(
        np.exp(rng.standard_normal((2, 9, 7))))
    for bc in ("dirichlet_zero", "neumann_zero", ("periodic", "dirichlet_zero")):
        full = MaskedFiniteDifference((0.1, 0.2), torch.ones(9, 7, dtype=torch.bool), bc=bc)
        torch.testing.assert_close(full.div_flux(c, u), FiniteDifference((0.1, 0.2), bc).div_flux(c, u))
    with pytest.raises(NotImplementedError):
        full.grad(u)
    with pytest.raises(ValueError, match="inner_bc"):
        MaskedFiniteDifference((0.1, 0.2), torch.ones(9, 7), inner_bc="robin")


def test_isolated_region_is_refused():
    mask = np.ones((8, 8), dtype=bool)
    mask[2:6, 2:6] = False
    mask[3:5, 3:5] = True  # an island inside an insulated hole
    with pytest.raises(ValueError, match="touch no Dirichlet"):
        check_connected(mask, "dirichlet_zero", "neumann_zero")
    check_connected(mask, "dirichlet_zero", "dirichlet_zero")  # the hole's faces are Dirichlet


# ------------------------------------------------------------------------------------------------
# Darcy on several geometries
# ------------------------------------------------------------------------------------------------

def test_geometry_masks():
    n = 128
    area = {g: gds.geometry_mask(g, n).mean() for g in gds.GEOMETRIES}
    assert area["square"] == 1.0
    assert abs(area["disc"] - math.pi / 4) < 0.01
    assert abs(area["triangle"] - math.sqrt(3) / 4) < 0.01
    assert abs(area["cross"] - (1 - 2 * 0.6 * 0.2 + 0.2**2)) < 0.01
    with pytest.raises(ValueError, match="unknown geometry 'hexagon'; valid: square, disc, "
                                         "triangle, cross"):
        gds.geometry_mask("hexagon", 32)


def test_spherical_grf_statistics():
    rng = np.random.default_rng(0)
    n, rho = 32, 0.25
    g = gds.sample_spherical_grf(1500, n, rng, rho, 1.0)
    h = 1.0 / n
    assert abs(g.mean()) < 0.05
    assert abs(g.var(axis=0).mean() - 1.0) < 0.05
    for lag in (2, 4, 8):  # 8 cells = the range: uncorrelated
        emp = float((g[:, :-lag] * g[:, lag:]).mean())
        exact = float(gds.spherical_covariance(lag * h, rho, 1.0))
        assert abs(emp - exact) < 0.05, (lag, emp, exact)
    diag = float((g[:, :-3, :-3] * g[:, 3:, 3:]).mean())
    assert abs(diag - float(gds.spherical_covariance(3 * h * math.sqrt(2), rho, 1.0))) < 0.05


def _manufactured_square(n):
    c = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(c, c, indexing="ij")
    s = 0.5 * np.sin(2 * np.pi * x) * np.cos(np.pi * y)
    k = np.exp(s)
    sx = np.pi * np.cos(2 * np.pi * x) * np.cos(np.pi * y)
    sy = -0.5 * np.pi * np.sin(2 * np.pi * x) * np.sin(np.pi * y)
    h = np.sin(np.pi * x) * np.sin(np.pi * y)
    hx = np.pi * np.cos(np.pi * x) * np.sin(np.pi * y)
    hy = np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
    f = -k * (-2 * np.pi**2 * h + sx * hx + sy * hy)  # -div(k grad h), k = exp(s)
    u = solve(k, gds.geometry_mask("square", n), f, (1 / n, 1 / n))
    return np.abs(u - h).max()


def _manufactured_disc(n):
    c = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(c, c, indexing="ij")
    mask = gds.geometry_mask("disc", n)
    h = (0.25 - (x - 0.5) ** 2 - (y - 0.5) ** 2) / 4  # -lap h = 1, h = 0 on the circle
    u = solve(np.ones((n, n)), mask, 1.0, (1 / n, 1 / n))
    return np.abs(u - h)[mask].max()


def test_darcy_geometries_convergence():
    """Square: second order (smooth K, manufactured h). Disc: the staircase boundary gives first
    order in the max norm (reported)."""
    sq = [_manufactured_square(n) for n in (16, 32, 64)]
    p_sq = [order(sq[i], sq[i + 1]) for i in range(2)]
    disc = [_manufactured_disc(n) for n in (32, 64, 128)]
    p_disc = [order(disc[i], disc[i + 1]) for i in range(2)]
    print("Darcy geometries: square orders", p_sq, sq, "disc orders (max norm)", p_disc, disc)
    assert all(1.85 < p < 2.15 for p in p_sq), (sq, p_sq)
    assert all(0.8 < p < 1.3 for p in p_disc), (disc, p_disc)


def test_darcy_geometries_generator():
    kw = {"resolution": 16, "seed": 1}
    out = gds.generate_darcy_geometries(5, **kw)
    again = gds.generate_darcy_geometries(5, **kw)
    assert np.array_equal(out["x"], again["x"]) and np.array_equal(out["y"], again["y"])
    prefix = gds.generate_darcy_geometries(2, **kw)
    assert np.array_equal(prefix["y"], out["y"][:2])
    assert out["x"].shape == (5, 2, 16, 16) and out["y"].shape == (5, 1, 16, 16)
    assert out["geometry"] == ["square", "disc", "triangle", "square", "disc"]
    for i, g in enumerate(out["geometry"]):
        mask = gds.geometry_mask(g, 16)
        assert np.array_equal(out["x"][i, 1], mask.astype(np.float32))
        assert np.all(out["y"][i, 0][~mask] == 0) and np.all(out["x"][i, 0][~mask] == 0)
        assert np.all(out["y"][i, 0][mask] > 0)  # positive source, zero boundary data
    assert out["residual"]["passed"] and out["residual"]["rel_rms_max"] < 1e-10
    cross = gds.generate_darcy_geometries(1, geometries=["cross"], **kw)
    assert cross["geometry"] == ["cross"] and cross["residual"]["passed"]


@pytest.mark.parametrize("kw,message", [
    ({"geometries": ["square", "hexagon"]}, "unknown geometry 'hexagon'; valid: square, disc"),
    ({"geometries": []}, "geometries"),
    ({"resolution": 8}, "resolution"),
    ({"sigma": 0.0}, "sigma"),
    ({"correlation_length": -1.0}, "correlation_length"),
    ({"n_samples": 0}, "n_samples"),
])
def test_darcy_geometries_invalid_parameters(kw, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        gds.generate_darcy_geometries(**({"n_samples": 2, "resolution": 16} | kw))
    with pytest.raises(ValueError, match=message):
        DarcyGeometriesSource(data_dir=tmp_path, **({"n_samples": 2, "resolution": 16} | kw))


def test_darcy_geometries_meta(tmp_path):
    meta = DarcyGeometriesSource(n_samples=7, resolution=16, data_dir=tmp_path).meta
    assert meta.masks == ("mask",) and meta.input_fields == ("log_k", "mask")
    assert meta.extra["geometry_counts"] == {"square": 3, "disc": 2, "triangle": 2}
    assert "mask" in meta.extra["masked_loss"] and not meta.extra["transfer_target"]
    target = DarcyGeometriesSource(n_samples=3, resolution=16, geometries=["cross"],
                                   data_dir=tmp_path).meta
    assert target.extra["transfer_target"] and target.extra["geometry_counts"] == {"cross": 3}


# ------------------------------------------------------------------------------------------------
# Heated plate
# ------------------------------------------------------------------------------------------------

def _manufactured_plate(res):
    spacing = [(hi - lo) / n for (lo, hi), n in zip(hps.EXTENT, res, strict=True)]
    c = [(np.arange(n) + 0.5) * h for n, h in zip(res, spacing, strict=True)]
    x, y, z = np.meshgrid(*c, indexing="ij")
    p = np.pi
    bx, by, bz = np.sin(p * x / 2), np.sin(p * y), 1 + 0.5 * np.cos(2 * p * z)
    t = bx * by * bz  # T = 0 at x = 0, 2 and y = 0, 1; dT/dz = 0 at z = 0, 0.5
    tx, ty = p / 2 * np.cos(p * x / 2) * by * bz, bx * p * np.cos(p * y) * bz
    tz = -bx * by * p * np.sin(2 * p * z)
    lap = -(p / 2) ** 2 * t - p**2 * t - 2 * p**2 * bx * by * np.cos(2 * p * z)
    k = 1 + 0.25 * x * y + 0.5 * z
    q = -(k * lap + 0.25 * y * tx + 0.25 * x * ty + 0.5 * tz)
    u = solve(k, np.ones(res, dtype=bool), q, spacing, hps.BOX_BC, "neumann_zero")
    return np.abs(u - t).max()


def test_plate_without_holes_converges_at_second_order():
    errs = [_manufactured_plate(r) for r in ((16, 8, 4), (32, 16, 8), (64, 32, 16))]
    p = [order(errs[i], errs[i + 1]) for i in range(2)]
    print("heated plate (no holes) orders", p, errs)
    assert all(1.85 < v < 2.15 for v in p), (errs, p)


def test_plate_geometry():
    from scipy import ndimage

    for n in (2, 5, 9):
        mask = hps.plate_mask(n, 1.3, 0.09, (64, 32, 8))
        assert np.array_equal(mask, np.broadcast_to(mask[:, :, :1], mask.shape))
        _, holes = ndimage.label(~mask[:, :, 0])
        assert holes == n
    g = hps.geometries([2, 3], [0.9, 1.6], 2, seed=0)
    assert [s for s, _, _ in g] == ["test"] * 4 + ["train"] * 4
    assert all(0.9 <= p <= 1.6 for _, _, p in g)
    assert g == hps.geometries([2, 3], [0.9, 1.6], 2, seed=0)


@pytest.mark.parametrize("kw,message", [
    ({"holes": [1, 3]}, r"holes\[0\] must be an int in \[2, 9\] \(number of holes\), got 1"),
    ({"holes": [10]}, r"holes\[0\] must be an int in \[2, 9\] \(number of holes\), got 10"),
    ({"train_positions": [0.8]},
     r"train_positions\[0\] must be a finite number in \[0.9, 1.6\] \(hole position p\), got 0.8"),
    ({"train_positions": [1.7]},
     r"train_positions\[0\] must be .* in \[0.9, 1.6\] \(hole position p\)"),
    ({"resolution": [16, 8, 4]}, "too coarse"),
    ({"holes": [9], "resolution": [32, 16, 8]}, "too coarse"),
    ({"hole_radius": 0.3, "holes": [2]}, "too coarse"),
    ({"resolution": [64, 32]}, "resolution"),
    ({"heating": "top"}, "data.heating='top' is unknown; valid: bottom_face, volume"),
    ({"q": 0.0}, "q must"),
    ({"n_test_positions": -1}, "n_test_positions"),
])
def test_plate_invalid_parameters(kw, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        hps.check_parameters(**kw)
    with pytest.raises(ValueError, match=message):
        HeatedPlateSource(data_dir=tmp_path, **kw)


def test_plate_generator():
    kw = {"resolution": (32, 16, 4), "holes": [2, 4], "train_positions": [0.9, 1.6],
          "n_test_positions": 1, "hole_radius": 0.075}
    out = hps.generate_heated_plate(**kw)
    again = hps.generate_heated_plate(**kw)
    assert np.array_equal(out["y"], again["y"])
    assert out["x"].shape == (6, 3, 32, 16, 4) and out["y"].shape == (6, 1, 32, 16, 4)
    assert (out["n_test"], out["n_train"]) == (2, 4)
    labels = out["solver"]["labels"]
    assert labels["subset"] == ["test", "test", "train", "train", "train", "train"]
    assert labels["n_holes"] == [2, 4, 2, 2, 4, 4]
    for i in range(6):
        mask = out["x"][i, 2] > 0.5
        assert np.all(out["x"][i, 0] == labels["n_holes"][i])
        np.testing.assert_allclose(out["x"][i, 1], labels["position"][i], rtol=1e-6)
        assert np.all(out["y"][i, 0][~mask] == 0) and np.all(out["y"][i, 0][mask] > 0)
    assert out["residual"]["passed"] and out["residual"]["energy_balance_rel_max"] < 1e-10
    t = out["y"][0, 0]
    assert np.all(np.diff(t[10:22, 4:12], axis=-1) < 0)  # bottom-face heating: hottest below
    vol = hps.generate_heated_plate(**kw, heating="volume")
    np.testing.assert_allclose(vol["y"], np.broadcast_to(vol["y"][..., :1], vol["y"].shape),
                               rtol=1e-5)  # z-invariant


def test_plate_published_split(tmp_path):
    from pdebench.data.module import PDEDataModule

    src = HeatedPlateSource(resolution=[32, 16, 4], holes=[2, 3], train_positions=[0.9, 1.2, 1.6],
                            n_test_positions=2, hole_radius=0.075, data_dir=tmp_path)
    assert src.published_split == {"train": 5, "val": 1, "test": 4}
    assert src.meta.extra["n_test_geometries"] == 4 and src.meta.spatial_dims == 3
    dm = PDEDataModule(src, split={"mode": "published", "seed": 0, "train": 0.8, "val": 0.1,
                                   "test": 0.1})
    dm.setup()
    assert dm.indices["test"].tolist() == [0, 1, 2, 3]
    assert sample_labels(src.path)["subset"][:4] == ["test"] * 4


# ------------------------------------------------------------------------------------------------
# Determinism of the cached file (the end-to-end run is in test_generated_datasets.py)
# ------------------------------------------------------------------------------------------------

def test_generation_is_deterministic_on_disk(tmp_path):
    import h5py

    def build(folder):
        src = DarcyGeometriesSource(n_samples=4, resolution=16, seed=5, data_dir=folder)
        src.prepare()
        with h5py.File(src.path, "r") as fh:
            return fh["x"][...], fh["y"][...]

    a, b = build(tmp_path / "a"), build(tmp_path / "b")
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
