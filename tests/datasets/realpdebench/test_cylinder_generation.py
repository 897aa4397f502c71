"""Flow past a cylinder (PROBLEMS D): solver, measurement model, RealPDEBench layout, sources."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch

from pdebench.datasets.realpdebench import cylinder as cf
from pdebench.datasets.realpdebench.cylinder_solver import (
    CylinderSolver,
    SpectralDerivatives,
    simulate,
)
from pdebench.datasets.realpdebench.measurement_model import (
    MeasurementModel,
    blur,
    draw,
    measure,
    resample,
)
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.incompressible import divergence, momentum_residual, vorticity_residual

# Tiny setup: 8 cells per diameter on a 2 x 4 box, a few frames.
TINY = {"n_re": 5, "resolution": [16, 32], "height": 2.0, "length": 4.0, "n_frames": 4,
        "frame_dt": 0.25, "spin_up": 1.0,
        "measurement": {"resolution": [8, 16], "max_shift": 2}}


def _solver(**kw) -> CylinderSolver:
    re = kw.pop("re", 150.0)
    args = {"resolution": (16, 32), "height": 2.0, "length": 4.0, "cylinder_x": 1.0, **kw}
    return CylinderSolver(re, **args)


def _xy(a) -> torch.Tensor:
    """(…, H, W) with H = y to the physics layout (…, X, Y)."""
    return torch.as_tensor(np.asarray(a)).transpose(-1, -2)


def test_velocity_is_divergence_free_under_the_shared_operator():
    s = _solver()
    out = simulate(s, 3, 0.25, 0.5, seed=1)
    u, v = _xy(out["u"]), _xy(out["v"])
    d = SpectralDerivatives((s.hx, s.hy))
    grad = max(g.abs().max().item() for g in d.grad(u))
    assert divergence(u, v, d).abs().max().item() < 1e-12 * grad
    fd = FiniteDifference((s.hx, s.hy), bc="periodic")
    assert divergence(u, v, fd).abs().max().item() < 0.2 * grad  # truncation only
    assert out["u"].shape == out["p"].shape == (3, 16, 32) and np.isfinite(out["p"]).all()


def _taylor_green(s: CylinderSolver, t: float, u0: float = 1.0):
    a, b = 2 * np.pi / 4.0, 2 * np.pi / 2.0
    yy, xx = np.meshgrid(s.y, s.x, indexing="ij")
    x, dec = xx - u0 * t, np.exp(-s.nu * (a * a + b * b) * t)
    return (u0 + 0.5 * b * np.sin(a * x) * np.cos(b * yy) * dec,
            -0.5 * a * np.cos(a * x) * np.sin(b * yy) * dec)


def test_time_convergence_order_on_translating_taylor_green():
    """No body: exact translating, decaying Taylor-Green vortex; SSP-RK3 is third order."""
    errors = []
    for dt in (0.1, 0.05):
        s = _solver(re=50.0, body=False)
        uh, vh = (s.fft(f) for f in _taylor_green(s, 0.0))
        for n in range(round(1.0 / dt)):
            uh, vh = s.step(uh, vh, n * dt, dt)
        ue, ve = _taylor_green(s, 1.0)
        errors.append(max(np.abs(s.ifft(uh) - ue).max(), np.abs(s.ifft(vh) - ve).max()))
    order = np.log2(errors[0] / errors[1])
    assert abs(order - 3.0) < 0.3, (errors, order)


def test_shared_equations_vanish_on_the_exact_solution():
    s = _solver(re=50.0, body=False)
    d = SpectralDerivatives((s.hx, s.hy))
    eps = 1e-5
    (u0, v0), (u1, v1) = _taylor_green(s, 0.3 - eps), _taylor_green(s, 0.3 + eps)
    u, v = _xy((u0 + u1) / 2)[None], _xy((v0 + v1) / 2)[None]
    ut, vt = _xy((u1 - u0) / (2 * eps))[None], _xy((v1 - v0) / (2 * eps))[None]
    yy, xx = np.meshgrid(s.y, s.x, indexing="ij")
    # pressure of the Taylor-Green part: p = (A^2/4)(b^2 cos 2aX + a^2 cos 2by), A = 0.5
    a, b, x = 2 * np.pi / 4.0, 2 * np.pi / 2.0, xx - 0.3
    dec2 = np.exp(-2 * s.nu * (a * a + b * b) * 0.3)
    p = 0.0625 * (b * b * np.cos(2 * a * x) + a * a * np.cos(2 * b * yy)) * dec2
    rx, ry = momentum_residual(ut, vt, u, v, _xy(p)[None], s.nu, d)
    scale = ut.abs().max().item()
    assert max(rx.abs().max().item(), ry.abs().max().item()) < 1e-6 * max(scale, 1.0)
    w0 = d.grad(_xy(v0)[None])[0] - d.grad(_xy(u0)[None])[1]
    w1 = d.grad(_xy(v1)[None])[0] - d.grad(_xy(u1)[None])[1]
    r = vorticity_residual((w1 - w0) / (2 * eps), u, v, s.nu, d)
    assert r.abs().max().item() < 1e-5


def test_simulation_is_deterministic_from_its_seed():
    runs = [simulate(_solver(), 2, 0.25, 0.5, seed=k)["v"] for k in (3, 3, 4)]
    assert np.array_equal(runs[0], runs[1]) and not np.allclose(runs[0], runs[2])


def test_penalised_cylinder_moves_with_the_wall():
    s = CylinderSolver(150.0, resolution=(32, 64), height=4.0, length=8.0, cylinder_x=2.0,
                       control_frequency=0.25, control_amplitude=1.0)
    out = simulate(s, 2, 0.5, 1.5, seed=0)
    inside = s.chi > 0.99
    us, vs = s.wall_velocity(out["t"][0])
    assert np.abs(us[inside]).max() > 0.1  # the wall is moving at that instant
    err = np.hypot(out["u"][0] - us, out["v"][0] - vs)[inside].max()
    assert err < 0.05, err
    fixed = CylinderSolver(150.0, resolution=(32, 64), height=4.0, length=8.0, cylinder_x=2.0)
    still = simulate(fixed, 1, 0.5, 1.0)
    assert np.hypot(still["u"][-1], still["v"][-1])[fixed.chi > 0.99].max() < 0.05


@pytest.mark.parametrize("kw,message", [
    ({"re": -10.0}, "re"),
    ({"resolution": (8, 16), "height": 6.0, "length": 12.0}, "too coarse"),
])
def test_invalid_solver_parameters(kw, message):
    with pytest.raises(ValueError, match=message):
        _solver(**kw)


def test_cfl_violating_dt_is_refused_before_work():
    with pytest.raises(ValueError, match="CFL"):
        simulate(_solver(), 2, 0.25, 0.5, dt=1.0)


def test_measurement_blur_noise_and_resampling():
    delta = np.zeros((32, 32))
    delta[16, 16] = 1.0
    g = blur(delta, 1.5)
    assert g.sum() == pytest.approx(1.0, abs=1e-9)
    idx = np.arange(32) - 16
    assert (g.sum(axis=0) * idx**2).sum() == pytest.approx(1.5**2, rel=0.02)
    model = MeasurementModel(noise=0.05, additive_noise=0.0, blur_sigma=0.0, resolution=(40, 60))
    u, v = measure(model, np.full((3, 80, 120), 2.0), np.zeros((3, 80, 120)), seed=5)
    assert u.shape == v.shape == (3, 40, 60) and np.all(v == 0)
    assert u.mean() == pytest.approx(2.0, rel=0.01) and u.std() == pytest.approx(0.1, rel=0.05)
    again = measure(model, np.full((3, 80, 120), 2.0), np.zeros((3, 80, 120)), seed=5)
    assert np.array_equal(u, again[0])
    x = (np.arange(64) + 0.5) / 64
    wave = np.sin(2 * np.pi * x)[None, :] * np.ones((32, 1))
    coarse = resample(wave, (16, 32))
    xc = (np.arange(32) + 0.5) / 32
    assert np.abs(coarse - np.sin(2 * np.pi * xc)[None]).max() < 5e-3
    d = [draw(MeasurementModel(), 0, i) for i in range(20)]
    assert all(abs(m.re_factor - 1) <= 0.03 and 1 <= m.shift <= 8 for m in d)
    assert d[3] == draw(MeasurementModel(), 0, 3)
    with pytest.raises(ValueError, match="noise"):
        MeasurementModel(noise=-1.0)


def test_written_layout_splits_and_sources(tmp_path):
    sim = cf.CylinderSimSource(data_dir=tmp_path, **TINY)
    real = cf.CylinderRealSource(data_dir=tmp_path, **TINY)
    sim.prepare()
    real.prepare()
    assert sim.folder == real.folder and sim.folder.name == "cylinder"
    params = cf.parameter_set(sim.params)
    ids = {cf.sim_id(r, fc) for r, fc in params}
    assert ids == {"100", "175", "250", "325", "400"}
    for kind, shape, keys, origin in (("numerical", (4, 16, 32), {"u", "v", "p"}, "simulation"),
                                      ("real", (4, 8, 16), {"u", "v"}, "emulated_measurement")):
        assert {p.stem for p in (sim.folder / kind).glob("*.h5")} == ids
        with h5py.File(sim.folder / kind / "250.h5", "r") as fh:
            assert set(fh["measured_data"]) == keys
            assert all(fh[f"measured_data/{k}"].shape == shape for k in keys)
            assert fh["x"].shape == (shape[2],) and fh["y"].shape == (shape[1],)
            assert fh["t"].shape == (4,)
            assert fh.attrs["data_origin"] == origin and fh.attrs["re"] == 250
        lists = {n: json.loads((sim.folder / f"{n}_params_{kind}.json").read_text())
                 for n in ("in_dist_test", "out_dist_test", "remain")}
        assert sorted(sum(lists.values(), [])) == sorted(ids)  # disjoint and covering
        assert set(lists["out_dist_test"]) == {"100", "400"} and lists["in_dist_test"] == ["250"]
    generated = json.loads((sim.folder.parent / cf.MARKER).read_text())
    assert all(r["divergence_rel"] < 1e-10 for r in generated["residual"].values())
    assert sim.meta.output_fields == ("u", "v", "p") and real.meta.output_fields == ("u", "v")
    assert real.meta.extra["data_origin"] == "emulated_measurement"
    assert real.meta.resolution == (8, 16) and sim.meta.resolution == (16, 32)
    ds = real.open()
    assert len(ds) == 3 * 3 and ds[0]["x"].shape == (2, 8, 16)
    assert real.published_split == {"mode": "published", "train": 1, "val": 1, "test": 1}


def test_controlled_sim_ids():
    params = cf.parameter_set({**TINY, "scenario": "controlled_cylinder", "re_min": 100.0,
                               "re_max": 400.0, "control_frequencies": [0.5, 1.0]})
    assert cf.sim_id(*params[0]) == "100_0.5" and len(params) == 10


@pytest.mark.parametrize("kw,message", [
    ({"re_min": -5.0}, "re_min"),
    ({"resolution": [8, 16], "height": 6.0, "length": 12.0}, "too coarse"),
    ({"n_re": 3}, "n_re"),
    ({"test_set": "ood"}, "test_set"),
])
def test_invalid_source_parameters_fail_before_work(kw, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        cf.CylinderRealSource(data_dir=tmp_path, **{**TINY, **kw})
    assert not any(tmp_path.iterdir())


def test_interrupted_generation_leaves_nothing_trusted(tmp_path, monkeypatch):
    calls = []

    def broken(*args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_measure(*args, **kw)

    real_measure = cf.measure
    monkeypatch.setattr(cf, "measure", broken)
    src = cf.CylinderRealSource(data_dir=tmp_path, **TINY)
    with pytest.raises(KeyboardInterrupt):
        src.prepare()
    root = tmp_path / "cylinder_flow"
    assert not [p for p in root.iterdir() if p.is_dir()]
    # a folder without the completion marker (e.g. a killed run) is not trusted either
    monkeypatch.setattr(cf, "measure", real_measure)
    src.prepare()
    marker = src.folder.parent / cf.MARKER
    marker.unlink()
    (src.folder / "real" / "100.h5").unlink()
    src.prepare()
    assert marker.is_file() and (src.folder / "real" / "100.h5").is_file()


