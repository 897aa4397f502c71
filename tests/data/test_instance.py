"""One problem instance at points (:mod:`pdebench.data.instance`): interpolation of gridded
fields, the reference grid in the metrics' layout, and closed forms at arbitrary points."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
import torch

from pdebench.data.instance import (
    InstanceError,
    ProblemInstance,
    cell_coordinates,
    interpolate,
)
from pdebench.data.meta import DatasetMeta
from pdebench.physics.electrothermal import FIELDS, SOURCES
from pdebench.testing import tiny_datamodule

F64 = torch.float64

def _axis(n: int, lo: float, hi: float, grid: str) -> torch.Tensor:
    """Coordinates of ``n`` values on ``[lo, hi]``: cell centres or vertices."""
    k = torch.arange(n, dtype=F64)
    if grid == "vertex":
        return lo + k * (hi - lo) / (n - 1)
    return lo + (k + 0.5) * (hi - lo) / n


#: name -> (lo, hi, n) per axis; "1d+time" is a (t, x) stack of frames as ``reference_at`` uses.
CASES = {
    "1d": [(0.0, 1.0, 7)],
    "2d": [(0.0, 1.0, 6), (-1.0, 2.0, 9)],
    "3d": [(0.0, 2.0, 4), (0.0, 1.0, 5), (1.0, 1.5, 6)],
    "1d+time": [(0.0, 2.0, 5), (0.0, 1.0, 11)],
}


def _linear_field(axes: list[torch.Tensor], slopes: list[float], offset: float) -> torch.Tensor:
    """``offset + sum_j slopes[j] x_j`` on the grid of ``axes``: ``(*n_j)``."""
    mesh = torch.meshgrid(*axes, indexing="ij")
    return offset + sum(s * m for s, m in zip(slopes, mesh, strict=True))


def _inside(axes: list[torch.Tensor], n: int, seed: int) -> torch.Tensor:
    """``n`` random points between the first and last value of every axis, ``(n, k)``."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, len(axes), generator=g, dtype=F64)
    lo = torch.stack([a[0] for a in axes])
    hi = torch.stack([a[-1] for a in axes])
    return lo + u * (hi - lo)


# --- interpolate ------------------------------------------------------------------------------
@pytest.mark.parametrize("grid", ["cell_centered", "vertex"])
@pytest.mark.parametrize("case", list(CASES))
def test_linear_interpolation_is_exact_for_linear_fields(case, grid):
    axes = [_axis(n, lo, hi, grid) for lo, hi, n in CASES[case]]
    slopes = [1.5, -2.0, 0.75][: len(axes)]
    # two channels: the field and its negative plus a constant
    f = _linear_field(axes, slopes, 0.3)
    values = torch.stack([f, 4.0 - f])
    pts = _inside(axes, 200, seed=1)
    exact = 0.3 + pts @ torch.tensor(slopes, dtype=F64)
    out = interpolate(values, axes, pts, "linear")
    assert out.shape == (200, 2) and out.dtype == F64
    torch.testing.assert_close(out[:, 0], exact, rtol=0, atol=1e-12)
    torch.testing.assert_close(out[:, 1], 4.0 - exact, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", ["1d", "2d", "3d"])
def test_nearest_interpolation_returns_the_value_of_the_nearest_cell(case):
    axes = [_axis(n, lo, hi, "cell_centered") for lo, hi, n in CASES[case]]
    values = torch.rand(1, *(a.numel() for a in axes), generator=torch.Generator().manual_seed(3),
                        dtype=F64)
    pts = _inside(axes, 100, seed=4)
    idx = [(pts[:, j, None] - a).abs().argmin(dim=1) for j, a in enumerate(axes)]
    out = interpolate(values, axes, pts, "nearest")
    assert torch.equal(out[:, 0], values[0][tuple(idx)])


@pytest.mark.parametrize("case", ["1d", "2d"])
def test_points_outside_the_first_and_last_value_are_clamped(case):
    axes = [_axis(n, lo, hi, "cell_centered") for lo, hi, n in CASES[case]]
    slopes = [2.0, -1.0][: len(axes)]
    values = _linear_field(axes, slopes, 1.0).unsqueeze(0)
    # the half cells next to the walls and points well outside the box
    lo = torch.stack([a[0] for a in axes])
    hi = torch.stack([a[-1] for a in axes])
    h = hi - lo
    pts = torch.stack([lo - 0.3 * h, hi + 0.3 * h, lo - 0.01 * h, hi + 5 * h])
    clamped = torch.minimum(torch.maximum(pts, lo), hi)
    exact = 1.0 + clamped @ torch.tensor(slopes, dtype=F64)
    torch.testing.assert_close(interpolate(values, axes, pts)[:, 0], exact, rtol=0, atol=1e-12)


def test_interpolate_refuses_bad_arguments():
    axes = [_axis(4, 0.0, 1.0, "vertex"), _axis(5, 0.0, 1.0, "vertex")]
    values = torch.zeros(1, 4, 5, dtype=F64)
    pts = torch.zeros(3, 2, dtype=F64)
    with pytest.raises(ValueError, match=re.escape("interpolation 'cubic' is unknown; valid: "
                                                   "linear, nearest")):
        interpolate(values, axes, pts, "cubic")
    with pytest.raises(ValueError, match=re.escape("values (1, 4, 5) and points (3, 3) do not "
                                                   "match 2 axes")):
        interpolate(values, axes, torch.zeros(3, 3, dtype=F64))
    with pytest.raises(ValueError, match=re.escape("values (4, 5) and points (3, 2) do not "
                                                   "match 2 axes")):
        interpolate(values[0], axes, pts)
    four = [_axis(2, 0.0, 1.0, "vertex")] * 4
    with pytest.raises(InstanceError, match="over 4 axes .* not supported; give the dataset a "
                                            "closed form"):
        interpolate(torch.zeros(1, 2, 2, 2, 2, dtype=F64), four, torch.zeros(3, 4, dtype=F64))


@pytest.mark.parametrize("grid", ["cell_centered", "vertex"])
def test_cell_coordinates_are_centres_or_vertices(grid):
    meta = DatasetMeta(name="t", spatial_dims=2, resolution=(4, 5),
                       extent=((0.0, 2.0), (-1.0, 1.0)), input_fields=("a",),
                       output_fields=("u",), grid=grid)
    x, y = cell_coordinates(meta)
    if grid == "vertex":
        torch.testing.assert_close(x, torch.tensor([0.0, 2 / 3, 4 / 3, 2.0], dtype=F64))
        torch.testing.assert_close(y, torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], dtype=F64))
    else:
        torch.testing.assert_close(x, torch.tensor([0.25, 0.75, 1.25, 1.75], dtype=F64))
        torch.testing.assert_close(y, torch.tensor([-0.8, -0.4, 0.0, 0.4, 0.8], dtype=F64))


def test_unknown_interpolation_of_an_instance_names_the_option():
    meta = DatasetMeta(name="t", spatial_dims=1, resolution=(4,), input_fields=("a",),
                       output_fields=("u",))
    with pytest.raises(ValueError, match=re.escape("system.interpolation='cubic' is unknown; "
                                                   "valid: linear, nearest")):
        ProblemInstance(meta, ("u",), torch.zeros(1, 4), {}, interpolation="cubic")


# --- instances of tiny datasets ---------------------------------------------------------------
@functools.cache
def _dm(name: str, *overrides: str):
    import tempfile

    return tiny_datamodule(name, *overrides, data_dir=tempfile.mkdtemp(prefix=f"inst-{name}-"))


def _fisher(index: int = 0) -> ProblemInstance:
    dm = _dm("fisher_kpp")
    return ProblemInstance.from_datamodule(
        dm, index, frames=("u_t*", "u0", dm.meta.pde_params["frame_dt"], "u"))


def test_steady_instance_darcy():
    dm = _dm("darcy")
    inst = ProblemInstance.from_datamodule(dm, 1)
    item = dm.dataset[int(dm.indices["test"][1])]
    assert inst.sample == int(dm.indices["test"][1]) and inst.index == 1
    assert inst.fields == ("u",) and not inst.time_dependent and inst.times is None
    assert torch.equal(inst.reference, item["y"].double())
    assert torch.equal(inst.coefficients["a"], item["x"][0].double())
    assert inst.extent == ((0.0, 1.0), (0.0, 1.0)) and inst.coordinate_names == ("x", "y")
    # grid points: cell centres in "ij" order, x major
    pts = inst.grid_points()
    assert pts.shape == (256, 2) and pts.dtype == F64
    torch.testing.assert_close(pts[:3], torch.tensor(
        [[1 / 32, 1 / 32], [1 / 32, 3 / 32], [1 / 32, 5 / 32]], dtype=F64))
    torch.testing.assert_close(pts[16], torch.tensor([3 / 32, 1 / 32], dtype=F64))
    values = inst.grid_values()
    assert torch.equal(values[17, 0], inst.reference[0, 1, 1])
    assert torch.equal(inst.to_grid(values), inst.reference.unsqueeze(0))
    assert torch.equal(inst.to_grid(values).float(), inst.eval_batch()["y"])
    assert torch.equal(inst.eval_batch()["x"], item["x"].float().unsqueeze(0))
    torch.testing.assert_close(inst.reference_at(pts)["u"], values[:, 0], rtol=0, atol=1e-12)
    torch.testing.assert_close(inst.coefficients_at(pts)["a"], inst.coefficients["a"].reshape(-1),
                               rtol=0, atol=1e-12)


def test_trajectory_instance_burgers():
    dm = _dm("burgers")
    meta = dm.meta
    inst = ProblemInstance.from_datamodule(dm, 0)
    n_frames, dt = int(meta.time["n_frames"]), float(meta.time["dt"])
    nx = meta.resolution[0]
    assert inst.reference.shape == (n_frames, 1, nx) and inst.history == 1
    torch.testing.assert_close(inst.times, torch.arange(n_frames, dtype=F64) * dt, rtol=0,
                               atol=0)
    assert inst.extent == ((0.0, 1.0), (0.0, dt * (n_frames - 1)))
    assert inst.coordinate_names == ("x", "t") and inst.coefficients == {}
    y = inst.eval_batch()["y"]
    assert y.shape == (1, 1, nx, n_frames - 1)
    for j in range(n_frames - 1):  # the frames after the history, on the last axis
        assert torch.equal(y[0, :, :, j], inst.reference[1 + j].float())
    # the one-step test windows of this trajectory: input frame k, target frame k + 1
    test = np.asarray(dm.indices["test"])
    windows = [int(i) for i in test if int(dm.dataset.groups[i]) == inst.sample]
    assert len(windows) == n_frames - 1
    for k, i in enumerate(windows):
        assert torch.equal(dm.dataset[i]["y"].float(), y[0, :, :, k])
    pts = inst.grid_points()
    assert pts.shape == (nx * (n_frames - 1), 2)
    assert torch.equal(pts[: n_frames - 1, 1], inst.times[1:])  # time varies fastest
    values = inst.grid_values()
    assert torch.equal(inst.to_grid(values), inst.reference[1:].movedim(0, -1).unsqueeze(0))
    assert torch.equal(inst.to_grid(values).float(), y)
    torch.testing.assert_close(inst.reference_at(pts)["u"], values[:, 0], rtol=0, atol=1e-12)


def test_frames_as_channels_instance_fisher_kpp():
    dm = _dm("fisher_kpp")
    inst = _fisher(1)
    item = dm.dataset[inst.sample]
    n = sum(f.startswith("u_t") for f in dm.meta.output_fields)
    nx = dm.meta.resolution[0]
    frame_dt = dm.meta.pde_params["frame_dt"]
    assert inst.fields == ("u",) and inst.frames_as_channels
    assert inst.reference.shape == (n + 1, 1, nx)
    assert torch.equal(inst.reference[0, 0], item["x"][dm.meta.input_fields.index("u0")].double())
    assert torch.equal(inst.reference[1:, 0], item["y"].double())
    torch.testing.assert_close(inst.times, torch.arange(n + 1, dtype=F64) * frame_dt, rtol=0,
                               atol=0)
    batch = inst.eval_batch()
    assert torch.equal(batch["y"], item["y"].float().unsqueeze(0))
    assert torch.equal(batch["x"], item["x"].float().unsqueeze(0))
    values = inst.grid_values()
    assert values.shape == (nx * n, 1)
    assert torch.equal(inst.to_grid(values).float(), batch["y"])
    assert torch.equal(inst.to_grid(values), inst.reference[1:, 0].unsqueeze(0))
    torch.testing.assert_close(inst.reference_at(inst.grid_points())["u"], values[:, 0], rtol=0,
                               atol=1e-12)
    # the initial frame at t = 0 at the cell centres
    x = cell_coordinates(dm.meta)[0]
    t0 = torch.stack([x, torch.zeros_like(x)], dim=1)
    torch.testing.assert_close(inst.reference_at(t0)["u"], inst.reference[0, 0], rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize("name", ["darcy", "fisher_kpp"])
def test_coefficients_at_cell_centres_are_the_gridded_coefficients(name):
    inst = ProblemInstance.from_datamodule(_dm(name), 0) if name == "darcy" else _fisher(0)
    space = torch.stack([m.reshape(-1) for m in torch.meshgrid(
        *cell_coordinates(inst.meta), indexing="ij")], dim=1)
    pts = inst.grid_points()[:, : inst.spatial_dims] if name == "darcy" else torch.cat(
        [space, torch.full((len(space), 1), 0.5, dtype=F64)], dim=1)  # time is ignored
    got = inst.coefficients_at(pts)
    assert set(got) == set(inst.meta.input_fields)
    for k, grid in inst.coefficients.items():
        torch.testing.assert_close(got[k], grid.reshape(-1), rtol=0, atol=1e-12)
    with pytest.raises(InstanceError, match=r"has no coefficient field\(s\) \['nope'\]"):
        inst.coefficients_at(pts, ("nope",))


@pytest.mark.parametrize(("name", "what", "n"), [("darcy", "test samples", 4),
                                                 ("burgers", "test trajectories", 1)])
@pytest.mark.parametrize("bad", ["n", -1, True])
def test_instance_out_of_range_names_the_option_and_the_valid_range(name, what, n, bad):
    dm = _dm(name)
    index = n if bad == "n" else bad
    with pytest.raises(InstanceError, match=re.escape(
            f"data.instance={index} is out of range: dataset {name!r} has {n} {what} "
            f"(valid: 0..{n - 1}")):
        ProblemInstance.from_datamodule(dm, index)


def test_frames_instance_needs_the_pattern_and_the_initial_frame():
    dm = _dm("fisher_kpp")
    with pytest.raises(InstanceError, match=re.escape("has no frames 'v_t*' with the first frame "
                                                      "'u0'")):
        ProblemInstance.from_datamodule(dm, 0, frames=("v_t*", "u0", 0.25, "u"))
    with pytest.raises(InstanceError, match="out of range"):
        ProblemInstance.from_datamodule(dm, 99, frames=("u_t*", "u0", 0.25, "u"))


# --- closed forms -----------------------------------------------------------------------------
def _assert_float32_close(actual: torch.Tensor, stored: torch.Tensor) -> None:
    """``stored`` is ``actual`` rounded to float32: agreement to 1e-6 of the field's scale."""
    scale = max(1.0, float(actual.abs().max()))
    torch.testing.assert_close(actual, stored, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("regime", [1, 2])
def test_electrothermal_closed_form_matches_the_stored_grid_and_is_used_off_grid(regime):
    dm = _dm("electrothermal", f"data.regime={regime}")
    inst = ProblemInstance.from_datamodule(dm, 0)
    assert inst.closed is not None and inst.fields == FIELDS
    pts = inst.grid_points()
    exact = inst.closed(pts)
    assert set(exact) == {*FIELDS, *SOURCES}
    for i, f in enumerate(FIELDS):
        _assert_float32_close(exact[f], inst.reference[i].reshape(-1))
    for s in SOURCES:
        _assert_float32_close(exact[s], inst.coefficients[s].reshape(-1))
    if regime == 2:  # the gauge: p and phi have zero cell mean, in the closed form too
        for f in ("p", "phi"):
            assert abs(float(exact[f].mean())) < 1e-12
    # coefficients at the cell centres come from the closed form as well
    for s, v in inst.coefficients_at(pts).items():
        _assert_float32_close(v, inst.coefficients[s].reshape(-1))
    # off the grid: the closed form itself, not an interpolation of the stored values
    off = torch.rand(300, 2, generator=torch.Generator().manual_seed(7), dtype=F64)
    ref = inst.reference_at(off)
    closed = inst.closed(off)
    for f in FIELDS:
        assert torch.equal(ref[f], closed[f])
    coeffs = inst.coefficients_at(off)
    for s in SOURCES:
        assert torch.equal(coeffs[s], closed[s])
    interp = interpolate(inst.reference, cell_coordinates(inst.meta), off)
    gap = (interp[:, FIELDS.index("T")] - ref["T"]).abs().max()
    assert gap > 1e-4  # a 16^2 grid does not resolve the fronts: interpolation would differ
