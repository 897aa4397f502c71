"""Collocation points (:mod:`pdebench.data.collocation`): counts, walls, time, samplers, redraws,
holes and the refused settings."""

from __future__ import annotations

import re
import signal
from contextlib import contextmanager

import numpy as np
import pytest

from pdebench.data.collocation import SAMPLERS, Collocation, CollocationError

RANDOM = tuple(s for s in SAMPLERS if s != "uniform")  # "uniform" is a lattice of about n
BOX = [(0.0, 1.0), (-1.0, 2.0)]
TIME = (0.5, 1.5)


def _in_box(pts: np.ndarray, box: list[tuple[float, float]]) -> bool:
    lo = np.array([b[0] for b in box])
    hi = np.array([b[1] for b in box])
    return bool(np.all((pts >= lo) & (pts <= hi)))


@contextmanager
def _deadline(seconds: int):
    """Fail with TimeoutError instead of hanging (main thread, POSIX)."""
    def fire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("sampler", RANDOM)
def test_counts_walls_time_and_initial_points_in_space_time(sampler):
    col = Collocation(BOX, time=TIME, sampler=sampler, n_interior=40, n_boundary=12,
                      n_initial=9)
    pts = col.sample(seed=3)
    space_time = [*BOX, TIME]
    assert pts.interior.shape == (40, 3) and pts.interior.dtype == np.float64
    assert _in_box(pts.interior, space_time)
    assert list(pts.walls) == ["x_lo", "x_hi", "y_lo", "y_hi"]
    for side, wall in pts.walls.items():
        dim, upper = divmod(["x_lo", "x_hi", "y_lo", "y_hi"].index(side), 2)
        assert wall.shape == (12, 3)
        assert np.all(wall[:, dim] == BOX[dim][upper])  # exactly on the wall
        assert _in_box(wall, space_time)
        assert np.unique(wall[:, 1 - dim]).size > 1  # spread along the wall
    assert pts.initial.shape == (9, 3)
    assert np.all(pts.initial[:, 2] == TIME[0])
    assert _in_box(pts.initial[:, :2], BOX)


@pytest.mark.parametrize("sampler", RANDOM)
def test_counts_of_a_steady_3d_box(sampler):
    box = [(0.0, 1.0), (0.0, 2.0), (-1.0, 0.0)]
    pts = Collocation(box, sampler=sampler, n_interior=30, n_boundary=7).sample(seed=1)
    assert pts.interior.shape == (30, 3) and _in_box(pts.interior, box)
    assert pts.initial is None
    assert list(pts.walls) == ["x_lo", "x_hi", "y_lo", "y_hi", "z_lo", "z_hi"]
    for k, side in enumerate(pts.walls):
        dim, upper = divmod(k, 2)
        assert pts.walls[side].shape == (7, 3)
        assert np.all(pts.walls[side][:, dim] == box[dim][upper])
        assert _in_box(pts.walls[side], box)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_gives_points_in_the_box(sampler):
    col = Collocation(BOX, time=TIME, sampler=sampler, n_interior=64, n_boundary=16,
                      n_initial=16)
    for seed in (0, 5):  # the sampler's own points, then shifted ones
        pts = col.sample(seed, sides=["x_lo", "y_hi"])
        assert len(pts.interior) > 0 and _in_box(pts.interior, [*BOX, TIME])
        for wall in pts.walls.values():
            assert len(wall) > 0 and _in_box(wall, [*BOX, TIME])
        assert np.all(pts.initial[:, 2] == TIME[0]) and _in_box(pts.initial[:, :2], BOX)
        assert _in_box(col.candidates(32, seed), [*BOX, TIME])


def test_no_initial_points_for_steady_problems_or_when_none_are_asked():
    assert Collocation(BOX, n_interior=4, n_boundary=2).sample().initial is None
    steady_time = Collocation(BOX, time=TIME, n_interior=4, n_boundary=2, n_initial=0)
    assert steady_time.sample().initial is None
    no_walls = Collocation(BOX, time=TIME, n_interior=4, n_boundary=0).sample()
    assert all(w.shape == (0, 3) for w in no_walls.walls.values())


def test_only_the_walls_asked_for_are_sampled():
    pts = Collocation(BOX, sampler="pseudo", n_interior=4, n_boundary=3).sample(0, ["y_hi"])
    assert list(pts.walls) == ["y_hi"] and np.all(pts.walls["y_hi"][:, 1] == 2.0)


@pytest.mark.parametrize("sampler", RANDOM)
def test_the_same_seed_gives_the_same_points(sampler):
    def draw():
        col = Collocation(BOX, time=TIME, sampler=sampler, n_interior=32, n_boundary=8,
                          n_initial=8)
        return col.sample(4, sides=["x_hi", "y_lo"])

    a, b = draw(), draw()
    assert np.array_equal(a.interior, b.interior) and np.array_equal(a.initial, b.initial)
    assert all(np.array_equal(a.walls[s], b.walls[s]) for s in ("x_hi", "y_lo"))


@pytest.mark.parametrize("sampler", ["Sobol", "Halton"])
@pytest.mark.parametrize("time", [None, TIME])
def test_a_redraw_with_another_seed_shifts_the_quasi_random_points(sampler, time):
    col = Collocation(BOX, time=time, sampler=sampler, n_interior=32, n_boundary=8)
    first, second, third = col.sample(0), col.sample(1), col.sample(2)
    for a, b in ((first, second), (second, third)):
        assert not np.any(np.all(np.isclose(a.interior[:, None], b.interior[None]), axis=-1))
        assert not np.array_equal(a.walls["x_lo"], b.walls["x_lo"])
    box = [*BOX, time] if time else BOX
    assert _in_box(second.interior, box) and _in_box(third.interior, box)
    # a shift modulo the box keeps the points distinct
    assert len(np.unique(second.interior, axis=0)) == 32


def test_1d_steady_walls_are_single_points():
    pts = Collocation([(0.0, 2.0)], sampler="Halton", n_interior=10, n_boundary=5).sample(2)
    assert pts.interior.shape == (10, 1) and _in_box(pts.interior, [(0.0, 2.0)])
    assert {k: v.tolist() for k, v in pts.walls.items()} == {"x_lo": [[0.0]], "x_hi": [[2.0]]}


def test_1d_space_time_walls_carry_times():
    pts = Collocation([(0.0, 2.0)], time=TIME, sampler="pseudo", n_interior=10, n_boundary=5,
                      n_initial=4).sample(2)
    assert pts.walls["x_lo"].shape == (5, 2) and np.all(pts.walls["x_lo"][:, 0] == 0.0)
    assert np.all(pts.walls["x_hi"][:, 0] == 2.0) and _in_box(pts.walls["x_hi"], [(0, 2), TIME])
    assert pts.initial.shape == (4, 2) and np.all(pts.initial[:, 1] == TIME[0])


DISK = {"disk": {"center": [0.5, 0.5], "radius": 0.3}}
#: A pentagon (DeepXDE refuses polygons that are triangles or rectangles).
PENTAGON = [[0.1, -0.5], [0.6, -0.6], [0.8, 0.0], [0.5, 0.4], [0.1, 0.1]]


def _inside_convex(pts: np.ndarray, poly: list[list[float]]) -> np.ndarray:
    """Strictly inside a counter-clockwise convex polygon."""
    v = np.asarray(poly)
    edges = np.roll(v, -1, axis=0) - v
    rel = pts[:, None, :] - v[None]
    cross = edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0]
    return np.all(cross > 1e-12, axis=1)


def test_holes_exclude_interior_points():
    col = Collocation(BOX, sampler="pseudo", n_interior=400, n_boundary=10,
                      holes=[DISK, {"polygon": PENTAGON}])
    pts = col.sample(1).interior
    assert pts.shape == (400, 2) and _in_box(pts, BOX)
    assert np.all(np.hypot(pts[:, 0] - 0.5, pts[:, 1] - 0.5) >= 0.3)
    assert not np.any(_inside_convex(pts, PENTAGON))
    # the checker itself sees points there when no hole is cut
    plain = Collocation(BOX, sampler="pseudo", n_interior=400).sample(1).interior
    assert np.any(_inside_convex(plain, PENTAGON))
    assert np.any(np.hypot(plain[:, 0] - 0.5, plain[:, 1] - 0.5) < 0.3)


def test_holes_exclude_wall_points_inside_them():
    col = Collocation(BOX, time=TIME, sampler="pseudo", n_interior=50, n_boundary=200,
                      holes=[{"disk": {"center": [0.0, 0.5], "radius": 0.25}}])
    pts = col.sample(2)
    lo = pts.walls["x_lo"]
    assert 0 < len(lo) < 200  # the part of the wall inside the disk is gone
    assert np.all(np.abs(lo[:, 1] - 0.5) >= 0.25) and np.all(lo[:, 0] == 0.0)
    assert _in_box(lo, [*BOX, TIME])
    assert len(pts.walls["x_hi"]) == 200  # the opposite wall is untouched
    assert np.all(np.hypot(pts.interior[:, 0], pts.interior[:, 1] - 0.5) >= 0.25)


def test_quasi_random_points_with_holes_are_distinct():
    pts = Collocation(BOX, sampler="Sobol", n_interior=256, holes=[DISK]).sample(0).interior
    assert len(np.unique(pts, axis=0)) == 256


@pytest.mark.parametrize("poly", [[[0.2, 0.2], [0.8, 0.2], [0.5, 1.0]],
                                  [[0.2, 0.2], [0.8, 0.2], [0.8, 1.0], [0.2, 1.0]]])
def test_triangle_and_rectangle_holes_are_cut_out(poly):
    pts = Collocation(BOX, sampler="pseudo", n_interior=200, holes=[{"polygon": poly}]).sample()
    assert not np.any(_inside_convex(pts.interior, poly))


# --- refused settings ------------------------------------------------------------------------
def test_unknown_sampler_names_the_option_and_the_choices():
    with pytest.raises(CollocationError, match=re.escape(
            "system.collocation.sampler='sobol' is unknown; valid: uniform, pseudo, LHS, "
            "Halton, Hammersley, Sobol")):
        Collocation(BOX, sampler="sobol")
    assert issubclass(CollocationError, ValueError)


@pytest.mark.parametrize(("key", "value", "least"), [
    ("n_interior", 0, 1), ("n_interior", 2.5, 1), ("n_boundary", -1, 0), ("n_initial", -3, 0),
    ("n_boundary", True, 0)])
def test_bad_counts_name_the_key_and_the_least_value(key, value, least):
    with pytest.raises(CollocationError, match=re.escape(
            f"system.collocation.{key} must be an integer >= {least}, got {value!r}")):
        Collocation(BOX, **{key: value})


def test_holes_are_for_2d_boxes_only():
    for box in ([(0.0, 1.0)], [(0.0, 1.0)] * 3):
        with pytest.raises(CollocationError, match=re.escape(
                "system.collocation.holes are supported in 2D only")):
            Collocation(box, holes=[DISK])


@pytest.mark.parametrize(("spec", "message"), [
    ({"square": [0.5, 0.5]}, "unknown shape 'square'; valid: disk, polygon"),
    ("disk", "each hole is one of {disk: {center, radius}} or {polygon: [[x, y], ...]}, got "
             "'disk'"),
    ({**DISK, "polygon": PENTAGON}, "each hole is one of"),
    ({"disk": {"center": [0.5, 0.5], "radius": 0.0}}, "disk radius must be > 0, got 0.0"),
    ({"disk": {"center": [0.5, 0.5]}}, "a disk needs radius"),
    ({"polygon": [[0.2, 0.2], [0.4, 0.2]]}, "a polygon needs >= 3 vertices"),
])
def test_bad_hole_specs_are_refused(spec, message):
    with pytest.raises(CollocationError, match=re.escape(message)):
        Collocation(BOX, n_interior=4, holes=[spec])


def test_holes_covering_the_whole_box_are_refused():
    with _deadline(1), pytest.raises(CollocationError, match="no interior points"):
        Collocation(BOX, sampler="pseudo",
                    holes=[{"disk": {"center": [0.5, 0.5], "radius": 3.0}}])


def test_collocation_leaves_no_torch_function_mode_behind():
    from torch.overrides import _get_current_function_mode_stack  # no public accessor

    Collocation(BOX, n_interior=4).sample()
    assert _get_current_function_mode_stack() == []
