"""Physics metrics of the RealPDEBench stand-in (cylinder_sim, cylinder_real): the equation's terms
on hand-computable flows, the scored region, the floors recorded at generation, and perturbed
solutions scoring measurably worse."""

from __future__ import annotations

import json
import math

import h5py
import numpy as np
import pytest
import torch

from pdebench.datasets.realpdebench import cylinder as cf
from pdebench.datasets.realpdebench.cylinder_solver import CylinderSolver, simulate
from pdebench.datasets.realpdebench.measurement_model import MeasurementModel, measure
from pdebench.physics.derivatives import Autograd, FiniteDifference
from pdebench.physics.incompressible import (
    INCOMPRESSIBLE,
    cylinder_fluid,
    divergence,
    momentum_residual,
    pressure_poisson_residual,
    vorticity,
    vorticity_residual,
)
from pdebench.testing import check_dataset, physics_values, recorded_floor, tiny_datamodule

EQ = "incompressible"
SIM_METRICS = {f"residual_l2/{EQ}/continuity", f"residual_l2/{EQ}/pressure", f"residual_rel/{EQ}",
               "divergence_l2"}
REAL_METRICS = {f"residual_l2/{EQ}/continuity", f"residual_rel/{EQ}", "divergence_l2"}
EXPECTED = {"cylinder_sim": SIM_METRICS, "cylinder_real": REAL_METRICS}


# ------------------------------------------------------------------------------ the terms
def _components(fields, provider) -> dict[str, torch.Tensor]:
    return {k: c.residual(fields, {}, provider) for k, c in INCOMPRESSIBLE.components.items()}


def _points(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Collocation points, columns in the equation's dimension order (y, x)."""
    g = torch.Generator().manual_seed(seed)
    yx = (torch.rand(n, 2, generator=g, dtype=torch.float64) * 4.0 - 2.0).requires_grad_(True)
    return yx, yx[:, 0], yx[:, 1]


def test_taylor_green_solves_every_component_under_autograd():
    """u = sin x cos y F, v = -cos x sin y F, p = (cos 2x + cos 2y) F^2 / 4, F = exp(-2 nu t)."""
    nu, t = 0.05, 0.7
    big_f = math.exp(-2 * nu * t)
    yx, y, x = _points()
    u = torch.sin(x) * torch.cos(y) * big_f
    v = -torch.cos(x) * torch.sin(y) * big_f
    p = (torch.cos(2 * x) + torch.cos(2 * y)) * big_f**2 / 4
    fields = {"u": u, "v": v, "p": p, "u_t": -2 * nu * u, "v_t": -2 * nu * v, "nu": nu}
    res = _components(fields, Autograd(yx))
    assert set(res) == {"momentum_x", "momentum_y", "continuity", "pressure", "vorticity"}
    for name, r in res.items():
        assert r.abs().max().item() < 1e-12, name
    # a wrong viscosity is seen by the components that carry it, and only by them
    res = _components({**fields, "nu": 2 * nu}, Autograd(yx))
    assert res["momentum_x"].abs().max().item() > 1e-2
    assert res["vorticity"].abs().max().item() > 1e-2
    assert res["pressure"].abs().max().item() < 1e-12


def test_closed_form_residuals_under_autograd():
    """Taylor-Green velocity with half its pressure, p = (cos 2x + cos 2y) F^2 / 8: what is
    left is half of (u . grad) u = F^2 (sin 2x, sin 2y) / 2 in the momentum residual and half of
    div((u . grad) u) = F^2 (cos 2x + cos 2y) in the pressure residual. (Every field depends on
    both coordinates: ``Autograd`` cannot differentiate a derivative that is constant.)"""
    nu, big_f = 0.05, 0.8
    yx, y, x = _points()
    u = torch.sin(x) * torch.cos(y) * big_f
    v = -torch.cos(x) * torch.sin(y) * big_f
    p = (torch.cos(2 * x) + torch.cos(2 * y)) * big_f**2 / 8
    fields = {"u": u, "v": v, "p": p, "u_t": -2 * nu * u, "v_t": -2 * nu * v, "nu": nu}
    res = _components(fields, Autograd(yx))
    f2 = big_f**2
    torch.testing.assert_close(res["momentum_x"], f2 * torch.sin(2 * x) / 4, rtol=0, atol=1e-12)
    torch.testing.assert_close(res["momentum_y"], f2 * torch.sin(2 * y) / 4, rtol=0, atol=1e-12)
    torch.testing.assert_close(res["pressure"], f2 * (torch.cos(2 * x) + torch.cos(2 * y)) / 2,
                               rtol=0, atol=1e-12)
    for name in ("continuity", "vorticity"):
        assert res[name].abs().max().item() < 1e-12, name


def test_closed_form_residuals_on_the_grid():
    """Shear flow u = sin(k y) along the stored H axis, nothing else: it decays by viscosity, so
    momentum_x = nu k^2 sin(k y) and the vorticity residual -nu k^3 cos(k y) (w = -k cos(k y));
    nothing else is violated. Central differences: relative error ~ (k h)^2 / 4."""
    nu = 0.1
    yy, xx, fd = _periodic_grid(n_y=32)
    k = 2 * math.pi / 2.0
    zero = 0.0 * xx
    u = torch.sin(k * yy) + zero
    res = _components({"u": u, "v": zero, "p": zero, "u_t": zero, "v_t": zero, "nu": nu}, fd)
    torch.testing.assert_close(res["momentum_x"], nu * k**2 * torch.sin(k * yy) + zero,
                               rtol=0, atol=0.03 * nu * k**2)
    torch.testing.assert_close(res["vorticity"], -nu * k**3 * torch.cos(k * yy) + zero,
                               rtol=0, atol=0.03 * nu * k**3)
    for name in ("momentum_y", "continuity", "pressure"):
        assert res[name].abs().max().item() < 1e-12, name


def _periodic_grid(n_y: int = 24, n_x: int = 32, ly: float = 2.0, lx: float = 4.0):
    y = (torch.arange(n_y, dtype=torch.float64) + 0.5) * ly / n_y
    x = (torch.arange(n_x, dtype=torch.float64) + 0.5) * lx / n_x
    yy, xx = torch.meshgrid(y, x, indexing="ij")
    return yy[None], xx[None], FiniteDifference((ly / n_y, lx / n_x), bc="periodic")


def test_grid_components_are_the_shared_functions_on_transposed_fields():
    """On RealPDEBench's (H, W) = (y, x) layout the components equal the (x, y)-layout functions
    the generator's self-check calls, on the transposed fields: one implementation."""
    yy, xx, fd = _periodic_grid()
    ky, kx = 2 * math.pi / 2.0, 2 * math.pi / 4.0
    u = 1.0 + 0.3 * torch.sin(kx * xx) * torch.cos(2 * ky * yy)
    v = 0.2 * torch.cos(kx * xx + 0.3) * torch.sin(ky * yy)
    p = 0.1 * torch.cos(2 * kx * xx) * torch.sin(ky * yy + 0.5)
    u_t, v_t = 0.4 * torch.cos(ky * yy) * torch.sin(kx * xx), 0.1 * torch.sin(kx * xx - ky * yy)
    nu = 0.02
    res = _components({"u": u, "v": v, "p": p, "u_t": u_t, "v_t": v_t, "nu": nu}, fd)
    t = (lambda a: a.transpose(-1, -2))  # noqa: E731
    fd_xy = FiniteDifference(tuple(reversed(fd.spacing)), bc="periodic")
    rx, ry = momentum_residual(t(u_t), t(v_t), t(u), t(v), t(p), nu, fd_xy)
    w_t = vorticity(t(u_t), t(v_t), fd_xy)
    expected = {"momentum_x": rx, "momentum_y": ry, "continuity": divergence(t(u), t(v), fd_xy),
                "pressure": pressure_poisson_residual(t(u), t(v), t(p), fd_xy),
                "vorticity": vorticity_residual(w_t, t(u), t(v), nu, fd_xy)}
    for name, want in expected.items():
        torch.testing.assert_close(t(res[name]), want, rtol=0, atol=1e-12, msg=name)
        assert want.abs().max().item() > 1e-2, name  # a field that is not a solution


def test_grid_components_converge_at_second_order_on_taylor_green():
    errors = []
    for n in (16, 32):
        yy, xx, fd = _periodic_grid(n, n, 2 * math.pi, 2 * math.pi)
        u, v = torch.sin(xx) * torch.cos(yy), -torch.cos(xx) * torch.sin(yy)
        p = (torch.cos(2 * xx) + torch.cos(2 * yy)) / 4
        res = _components({"u": u, "v": v, "p": p, "u_t": -0.2 * u, "v_t": -0.2 * v,
                           "nu": 0.1}, fd)
        errors.append(np.array([res[k].abs().max().item() for k in
                                ("momentum_x", "momentum_y", "pressure", "vorticity")]))
        # the velocity is exactly solenoidal under central differences (sin/cos separate)
        assert res["continuity"].abs().max().item() < 1e-12
    order = np.log2(errors[0] / errors[1])
    assert np.all(np.abs(order - 2.0) < 0.2), (errors, order)


def test_scored_region_leaves_out_the_body_and_the_fringe():
    params = {"length": 4.0, "height": 2.0, "cylinder_x": 1.0, "cylinder_y": 1.0,
              "body_exclusion_radius": 0.6, "fringe_x": 3.8, "fringe_exclusion_half_width": 0.3}
    # (y, x) points: dimension 0 holds y under the framework's coordinate name "x"
    pts = {"fluid": (1.0, 2.5), "body centre": (1.0, 1.0), "body edge": (1.0, 1.59),
           "just outside": (1.0, 1.61), "fringe": (0.2, 3.6), "fringe across x=L": (0.2, 0.05),
           "past the fringe": (0.2, 0.2), "body across y=H": (1.95, 1.0)}
    ys = torch.tensor([p[0] for p in pts.values()], dtype=torch.float64)
    xs = torch.tensor([p[1] for p in pts.values()], dtype=torch.float64)
    got = dict(zip(pts, cylinder_fluid({"x": ys, "y": xs}, params).tolist(), strict=True))
    assert got == {"fluid": True, "body centre": False, "body edge": False, "just outside": True,
                   "fringe": False, "fringe across x=L": False, "past the fringe": True,
                   "body across y=H": True}
    params["height"] = 1.5  # periodic images: the body reaches y = 1.95 from below y = 0
    assert not cylinder_fluid({"x": ys, "y": xs}, params)[-1]


def test_geometry_follows_the_solver_forcing():
    """Every cell whose penalisation or fringe rate reaches the tolerance is left out, and the
    scored cells exist."""
    src = cf.CylinderSimSource(data_dir=".", n_re=5, resolution=(16, 32), height=2.0,
                               length=4.0)
    g = src.geometry
    s = CylinderSolver(100.0, (16, 32), 2.0, 4.0, cf.cylinder_x(4.0))
    yy, xx = np.meshgrid(s.y, s.x, indexing="ij")
    fluid = cylinder_fluid({"x": torch.as_tensor(yy), "y": torch.as_tensor(xx)}, g).numpy()
    forced = (s.chi / s.eta >= cf.FORCING_TOLERANCE) | (s.sigma >= cf.FORCING_TOLERANCE)
    assert not (fluid & forced).any() and fluid.sum() >= 64
    assert (g["cylinder_x"], g["cylinder_y"]) == (1.0, 1.0)
    assert 0.5 + 7 * 0.125 < g["body_exclusion_radius"] < 0.5 + 9 * 0.125  # ~8 cells of tail


# ------------------------------------------------------------------------------ the datasets
@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cylinder")  # cylinder_sim and cylinder_real share a folder


def _tiny(name: str, data_dir, *overrides: str):
    return tiny_datamodule(name, *overrides, data_dir=data_dir)


@pytest.mark.parametrize("name", ["cylinder_sim", "cylinder_real"])
def test_reference_scores_its_recorded_floor(name, data_dir):
    dm = _tiny(name, data_dir)
    floor = recorded_floor(dm.source)
    assert set(floor) == EXPECTED[name]
    assert physics_values(dm.meta, dm.dataset) == pytest.approx(floor, rel=1e-9)
    check_dataset(dm.source)
    # divergence_l2 (each frame) measures the divergence the continuity component measures at
    # the midpoint of each step (which averages two frames' noise), velocity in the same (y, x)
    # order: the same level (the velocity in (x, y) order would give 13x)
    assert 0.5 < floor["divergence_l2"] / floor[f"residual_l2/{EQ}/continuity"] < 2
    # recorded before the rename: in the marker (all trajectories) and in every file
    info = json.loads((dm.source.folder.parent / cf.MARKER).read_text())
    assert set(info["physics_floor"][dm.source.kind]) == EXPECTED[name]
    for sid in dm.source.served_ids:
        with h5py.File(dm.source.folder / dm.source.kind / f"{sid}.h5", "r") as fh:
            record = json.loads(fh.attrs["physics_floor"])
            steps = np.diff(fh["t"][()])
        assert record == info["residual"][sid]["physics_floor"][dm.source.kind]
        assert record["n_windows"] == dm.meta.time["n_frames"] - 1
        np.testing.assert_allclose(steps, dm.meta.time["dt"], rtol=1e-12)  # the windows' dt


def test_simulated_floor_is_at_discretisation_level_and_falls_with_the_grid(data_dir):
    """The tiny grid (8 cells per diameter) is coarse: about 0.33 of the natural scale. One
    configuration on grids 16 x 32 and 32 x 64 (measured ratio 3.7-4.2 over Re 100-400, i.e.
    second order) through the generator's own floor functions."""
    floor = recorded_floor(_tiny("cylinder_sim", data_dir).source)
    assert floor[f"residual_rel/{EQ}"] < 0.5
    p = cf.CylinderSimSource(data_dir=data_dir, n_re=5, resolution=(16, 32), height=2.0,
                             length=4.0, n_frames=4, frame_dt=0.25, spin_up=1.0).params
    rel = []
    for res in ((16, 32), (32, 64)):
        q = {**p, "resolution": list(res)}
        s = CylinderSolver(250.0, res, q["height"], q["length"], cf.cylinder_x(q["length"]))
        sim = simulate(s, q["n_frames"], q["frame_dt"], q["spin_up"], seed=2, cfl=q["cfl"])
        record = cf.trajectory_floor(cf.dataset_meta(q, "numerical", cf.pde_params(q)),
                                     np.stack([sim[k] for k in "uvp"], axis=1))
        rel.append(record["values"][f"residual_rel/{EQ}"])
    assert rel[0] / rel[1] > 2 ** 1.5, rel  # order > 1.5


def test_measured_floor_is_the_measurements_own_level(data_dir):
    """The emulated measurements are not a solution: their floor (continuity only) holds the
    noise, the blur and the resampling. On the simulation's own grid the blurred, noise-free
    measurement is at discretisation level (measured 0.07-0.11) and the 3% noise multiplies it
    (measured 3-5x); resampling to the coarser measurement grid raises the noise-free level."""
    floor = recorded_floor(_tiny("cylinder_real", data_dir).source)
    assert floor[f"residual_rel/{EQ}"] < 1.0
    p = cf.CylinderRealSource(data_dir=data_dir, n_re=5, resolution=(16, 32), height=2.0,
                              length=4.0, n_frames=4, frame_dt=0.25, spin_up=1.0).params
    s = CylinderSolver(250.0, (16, 32), p["height"], p["length"], cf.cylinder_x(p["length"]))
    sim = simulate(s, p["n_frames"], p["frame_dt"], p["spin_up"], seed=2, cfl=p["cfl"])

    def rel(resolution, noisy: bool) -> float:
        quiet = {} if noisy else {"noise": 0.0, "additive_noise": 0.0}
        model = MeasurementModel(**{**p["measurement"], "resolution": resolution, **quiet})
        um, vm = measure(model, sim["u"], sim["v"], seed=5)
        q = {**p, "measurement": model.to_dict()}
        record = cf.trajectory_floor(cf.dataset_meta(q, "real", cf.pde_params(q)),
                                     np.stack([um, vm], axis=1))
        return record["values"][f"residual_rel/{EQ}"]

    clean, noisy, coarse = rel((16, 32), False), rel((16, 32), True), rel((8, 16), False)
    assert clean < 0.2 and noisy > 2 * clean and coarse > 2 * clean, (clean, noisy, coarse)


def _phases(meta, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``2 pi (x - x_c) / length`` (1, W) and ``2 pi (y - y_c) / height`` (H, 1), with x_c in the
    middle of the scored band (between the excluded body and the fringe)."""
    g = meta.pde_params
    (y0, y1), (x0, x1) = meta.extent
    h, w = y.shape[-2:]
    ys = y0 + (torch.arange(h, dtype=y.dtype)[:, None] + 0.5) * (y1 - y0) / h
    xs = x0 + (torch.arange(w, dtype=y.dtype)[None, :] + 0.5) * (x1 - x0) / w
    x_c = 0.5 * (g["cylinder_x"] + g["body_exclusion_radius"]
                 + g["fringe_x"] - g["fringe_exclusion_half_width"])
    return (2 * math.pi * (xs - x_c) / g["length"],
            2 * math.pi * (ys - g["cylinder_y"]) / g["height"])


def _non_solenoidal(meta, delta: float = 0.4):
    """``v += delta height / (2 pi) sin(phase_y)``: adds the divergence ``delta cos(phase_y)``
    (``delta`` in U/D; 0.13 U of cross-stream velocity on the tiny box)."""
    def perturb(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        _, phase_y = _phases(meta, y)
        out = y.clone()
        out[:, 1] += delta * meta.pde_params["height"] / (2 * math.pi) * torch.sin(phase_y)
        return out
    return perturb


def _pressure_bump(meta, amount: float = 0.05):
    """``p += amount cos(phase_x) cos(phase_y)`` (rho U^2): a smooth bump, largest in the
    scored band, that the velocity does not carry."""
    def perturb(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        phase_x, phase_y = _phases(meta, y)
        out = y.clone()
        out[:, 2] += amount * torch.cos(phase_x) * torch.cos(phase_y)
        return out
    return perturb


@pytest.mark.parametrize("name,metric", [
    *[("cylinder_sim", m) for m in sorted(SIM_METRICS - {f"residual_l2/{EQ}/pressure"})],
    *[("cylinder_real", m) for m in sorted(REAL_METRICS)]])
def test_non_solenoidal_velocity_scores_worse(name, metric, data_dir):
    dm = _tiny(name, data_dir)
    floor = recorded_floor(dm.source)[metric]
    worse = physics_values(dm.meta, dm.dataset, perturb=_non_solenoidal(dm.meta))[metric]
    assert worse > 2 * floor, (metric, floor, worse)


@pytest.mark.parametrize("metric", [f"residual_l2/{EQ}/pressure", f"residual_rel/{EQ}"])
def test_pressure_inconsistent_with_the_velocity_scores_worse(metric, data_dir):
    dm = _tiny("cylinder_sim", data_dir)
    floor = recorded_floor(dm.source)
    got = physics_values(dm.meta, dm.dataset, perturb=_pressure_bump(dm.meta))
    assert got[metric] > 2 * floor[metric], (metric, floor[metric], got[metric])
    # the velocity metrics do not see the pressure
    for m in (f"residual_l2/{EQ}/continuity", "divergence_l2"):
        assert got[m] == pytest.approx(floor[m], rel=1e-12)
