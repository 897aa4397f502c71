"""Paired simulated / emulated-measurement flows past a cylinder (PROBLEMS.md D, RealPDEBench).

Generation writes RealPDEBench's per-trajectory layout, under
``{data_dir}/cylinder_flow/{key}/{scenario}/`` (``key`` hashes the generation parameters)::

    numerical/{sim_id}.h5   measured_data/u, measured_data/v, measured_data/p (T, H, W), x (W,),
                            y (H,), t (T,); attrs data_origin="simulation", parameters, residual
    real/{sim_id}.h5        measured_data/u, measured_data/v (T, h, w), x, y, t;
                            attrs data_origin="emulated_measurement" (never real data)
    {in_dist_test,out_dist_test,remain}_params_{real,numerical}.json   lists of sim_id strings

``sim_id`` is ``f"{Re:g}"`` (``"200"``) for the fixed cylinder and ``f"{Re:g}_{f_c:g}"``
(``"200_0.2"``) for the controlled one, as published (``1800.h5``, ``1781_0.5.h5``). The whole
scenario folder is built in a temporary folder and renamed into place only when complete (with a
``GENERATED.json`` marker written last); a folder without the marker is never trusted.

Physics floor: each trajectory file records, in its attribute ``physics_floor``, the physics metrics
(:func:`pdebench.metrics.physics.reference_floor`, equation ``"incompressible"``) of its own stored
frames over every one-step window (history 1) with the sums behind them; ``GENERATED.json`` repeats
them under ``residual[sim_id]["physics_floor"][kind]`` and their combination under
``physics_floor[kind]``. For ``real`` files it is the residual of the emulated measurements
themselves (blur, resampling, noise). The cells scored are those of
:func:`pdebench.physics.incompressible.cylinder_fluid`, from the geometry :func:`pde_params`
derives from the solver's own forcing (the cylinder sits at ``x = length / 4``).

Split (as published, by parameters): sorted by Re, the smallest and largest Re are out of
distribution, interior Re values at 1/3 and 2/3 of the list are the in-distribution test set, the
rest ("remain") is train/val. Served: train and val from "remain" (``n_val`` trajectories of it for
validation), test from ``test_set`` (``in_dist`` or ``out_dist``), through ``split.mode=published``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from pdebench import __version__
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource, file_lock
from pdebench.data.store import DataFileError, cache_key, open_h5
from pdebench.data.trajectories import TrajectoryReader, TrajectoryWindows, window_fields
from pdebench.datasets.realpdebench.cylinder_solver import (
    CylinderSolver,
    SpectralDerivatives,
    simulate,
)
from pdebench.datasets.realpdebench.measurement_model import MeasurementModel, draw, measure
from pdebench.physics.derivatives import FiniteDifference
from pdebench.physics.incompressible import GEOMETRY_PARAMS, divergence, momentum_residual
from pdebench.progress import progress as progress_counter

SCENARIOS = ("cylinder", "controlled_cylinder")
KINDS = ("numerical", "real")
TEST_SETS = ("in_dist", "out_dist")
ORIGIN = {"numerical": "simulation", "real": "emulated_measurement"}
NAMES = {"numerical": "cylinder_sim", "real": "cylinder_real"}
FIELDS = {"numerical": ("u", "v", "p"), "real": ("u", "v")}
MARKER = "GENERATED.json"
#: Forcing rate (1 / time, ``U / D``) above which a cell counts as forced: the penalisation rate
#: ``chi / eta`` and the fringe rate ``sigma`` are below it everywhere the physics metrics score.
FORCING_TOLERANCE = 1e-3
#: One-step windows per batch when the physics floor is evaluated at generation time.
FLOOR_BATCH = 64


def sim_id(re: float, control_frequency: float | None = None) -> str:
    """File stem of a configuration: ``"200"`` or ``"200_0.2"``."""
    return f"{re:g}" if control_frequency is None else f"{re:g}_{control_frequency:g}"


def parameter_set(p: dict[str, Any]) -> list[tuple[float, float | None]]:
    """``(Re, f_c)`` of every trajectory, sorted by Re then f_c (``f_c`` None: fixed cylinder)."""
    res = sorted({float(r) for r in np.round(np.linspace(p["re_min"], p["re_max"], p["n_re"]))})
    if len(res) != p["n_re"]:
        raise ValueError(f"re_min={p['re_min']}, re_max={p['re_max']}, n_re={p['n_re']} give "
                         f"only {len(res)} distinct integer Re values; widen the range")
    fcs = [None] if p["scenario"] == "cylinder" else list(p["control_frequencies"])
    return [(r, fc) for r in res for fc in fcs]


def split_ids(params: list[tuple[float, float | None]]) -> dict[str, list[str]]:
    """``in_dist_test``, ``out_dist_test`` and ``remain`` sim_ids (disjoint, covering)."""
    res = sorted({r for r, _ in params})
    ood = {res[0], res[-1]}
    interior = res[1:-1]
    ind = {interior[round(q * (len(interior) - 1))] for q in (1 / 3, 2 / 3)}
    out: dict[str, list[str]] = {"in_dist_test": [], "out_dist_test": [], "remain": []}
    for r, fc in params:
        key = "out_dist_test" if r in ood else "in_dist_test" if r in ind else "remain"
        out[key].append(sim_id(r, fc))
    return out


def cylinder_x(length: float) -> float:
    """Centre of the cylinder along ``x`` in a box of length ``length``: ``length / 4`` (units D)."""
    return length / 4


def pde_params(p: dict[str, Any]) -> dict[str, float]:
    """The geometry (:data:`~pdebench.physics.incompressible.GEOMETRY_PARAMS`) of parameters ``p``.

    Read off the solver's own forcing on the simulation grid, so the scored cells follow the
    solver: ``body_exclusion_radius`` is the largest distance from the cylinder's centre of a cell
    whose penalisation rate ``chi / eta`` reaches :data:`FORCING_TOLERANCE` (the body and the tail
    of its smoothed edge, about ``0.5 + 8 h``); ``fringe_x`` is the cell where the fringe rate
    ``sigma`` peaks and ``fringe_exclusion_half_width`` the largest periodic distance from it of a
    cell where ``sigma`` reaches the tolerance. Lengths in ``D``; the same numbers serve the
    simulated and the measured grid (they cover the same box).
    """
    s = CylinderSolver(p["re_min"], tuple(p["resolution"]), p["height"], p["length"],
                       cylinder_x(p["length"]))
    body = s.chi / s.eta >= FORCING_TOLERANCE
    sigma = s.sigma[0]
    x0 = float(s.x[int(np.argmax(sigma))])
    dx = np.abs((s.x - x0 + p["length"] / 2) % p["length"] - p["length"] / 2)
    fringe = sigma >= FORCING_TOLERANCE
    geometry = {"length": float(p["length"]), "height": float(p["height"]),
                "cylinder_x": float(s.x[0] - s.rx[0, 0]), "cylinder_y": float(s.y[0] - s.ry[0, 0]),
                "body_exclusion_radius": float(np.hypot(s.rx, s.ry)[body].max(initial=0.0)),
                "fringe_x": x0, "fringe_exclusion_half_width": float(dx[fringe].max(initial=0.0))}
    assert set(geometry) == set(GEOMETRY_PARAMS)
    return geometry


def dataset_meta(p: dict[str, Any], kind: str, geometry: dict[str, float], history: int = 1,
                 extra: dict[str, Any] | None = None) -> DatasetMeta:
    """The one-step-window view of the ``kind`` trajectories (``history`` frames in)."""
    res = tuple(p["resolution"]) if kind == "numerical" else \
        tuple(p["measurement"]["resolution"])
    fields = FIELDS[kind]
    return DatasetMeta(
        name=NAMES[kind], pde="incompressible", spatial_dims=2, resolution=res,
        extent=((0.0, p["height"]), (0.0, p["length"])),
        input_fields=window_fields(fields, history), output_fields=fields,
        units={"u": "U", "v": "U", "p": "rho U^2"}, grid="cell_centered",
        time={"n_frames": p["n_frames"], "dt": p["frame_dt"],
              "t_end": p["frame_dt"] * (p["n_frames"] - 1)},
        boundary_conditions={f: "periodic" for f in fields}, pde_params=dict(geometry),
        extra=extra or {})


def trajectory_floor(meta: DatasetMeta, frames: np.ndarray) -> dict[str, Any]:
    """Physics floor of one trajectory as stored (float32), over its every one-step window.

    Parameters
    ----------
    meta : DatasetMeta
        :func:`dataset_meta` of the trajectory's kind, ``history = 1``.
    frames : ndarray
        ``(T, C, H, W)``, the fields of ``meta.output_fields`` in physical units.

    Returns
    -------
    dict
        ``{"n_windows": T - 1, "values": {metric: value over the windows}, "count": ...,
        "sums": {...}}``: the values, and the mergeable sums behind them
        (:func:`pdebench.metrics.physics.reference_sums`).
    """
    from pdebench.metrics.physics import floor_from_sums, reference_sums

    frames = np.asarray(frames, dtype=np.float32)
    n = len(frames) - 1
    spans = [(i, min(i + FLOOR_BATCH, n)) for i in range(0, n, FLOOR_BATCH)]
    raw = reference_sums(meta, ((frames[i + 1:j + 1], frames[i:j]) for i, j in spans))
    return {"n_windows": n, "values": floor_from_sums(meta, [raw]), **raw}


def combine_floors(meta: DatasetMeta, records: list[dict[str, Any]]) -> dict[str, float]:
    """The floor over every window of the trajectories behind :func:`trajectory_floor` records
    (their sums added, then reduced as the metrics reduce them)."""
    from pdebench.metrics.physics import floor_from_sums

    return floor_from_sums(meta, records)


def _xy(a: np.ndarray) -> torch.Tensor:
    """``(..., H, W)`` stored with ``H = y`` to the physics layout ``(..., X, Y)``."""
    return torch.as_tensor(np.asarray(a)).transpose(-1, -2)


def _residual(solver: CylinderSolver, sim: dict[str, Any]) -> dict[str, float]:
    """Self-check of one run through :mod:`pdebench.physics.incompressible`.

    ``divergence_*``: the shared divergence of all frames with the solver's spectral provider
    (round-off) and with second-order finite differences (truncation), relative to max|grad u|.
    ``momentum_rel_fluid``: RMS momentum residual of one extra solver step (forward difference in
    time, other terms at the midpoint, forcing = sponge + the penalisation actually applied) over
    the fluid region (``chi < 1e-3``), relative to the RMS advection term. It holds the
    penalisation split's error (first order in time): ~0.06 at the defaults, ~1e-3 without body.
    """
    d = SpectralDerivatives((solver.hx, solver.hy))
    t = _xy
    u, v = t(sim["u"]), t(sim["v"])
    div = divergence(u, v, d).abs().max().item()
    grad = max(g.abs().max().item() for g in d.grad(u))
    fd = FiniteDifference((solver.hx, solver.hy), bc="periodic")
    div_fd = divergence(u, v, fd).abs().max().item()
    (a, b), (a1, b1), h, _, _, f_body = sim["last_step"]
    s0, s1 = solver.fields(a, b), solver.fields(a1, b1)
    um, vm, pm = (0.5 * (x0 + x1) for x0, x1 in zip(s0, s1, strict=True))
    force = (solver.sigma * (1.0 - um) + f_body[0], -solver.sigma * vm + f_body[1])
    rx, ry = momentum_residual(t((s1[0] - s0[0]) / h)[None], t((s1[1] - s0[1]) / h)[None],
                               t(um)[None], t(vm)[None], t(pm)[None], solver.nu, d,
                               (t(force[0])[None], t(force[1])[None]))
    mid = (t(um)[None], t(vm)[None])
    fluid = t(solver.chi < 1e-3)[None]
    ux, uy = d.grad(mid[0])
    adv = (mid[0] * ux + mid[1] * uy)[fluid]
    rel = float(torch.sqrt((rx[fluid] ** 2 + ry[fluid] ** 2).mean() / (adv**2).mean()))
    return {"divergence_max": div, "divergence_rel": div / grad, "divergence_fd_rel": div_fd / grad,
            "momentum_rel_fluid": rel}


def _write_file(path: Path, fields: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                t: np.ndarray, attrs: dict[str, Any]) -> None:
    with h5py.File(path, "w") as fh:
        for k, arr in fields.items():
            fh.create_dataset(f"measured_data/{k}", data=arr.astype(np.float32),
                              chunks=(1, *arr.shape[1:]))
        fh["x"], fh["y"], fh["t"] = x, y, t
        for k, val in attrs.items():
            fh.attrs[k] = val if isinstance(val, str | int | float) else json.dumps(val)


def generate_scenario(folder: Path, p: dict[str, Any], progress=None) -> dict[str, Any]:
    """Simulate and "measure" every configuration; write the scenario folder ``folder``."""
    model = MeasurementModel(**p["measurement"])
    params = parameter_set(p)
    scen = folder / p["scenario"]
    for kind in KINDS:
        (scen / kind).mkdir(parents=True)
    geom = {k: p[k] for k in ("resolution", "height", "length")}
    geom["cylinder_x"] = cylinder_x(p["length"])
    metas = {kind: dataset_meta(p, kind, pde_params(p)) for kind in KINDS}
    done, total, residuals = 0, 2 * len(params), {}
    for i, (re, fc) in enumerate(params):
        sid = sim_id(re, fc)
        ctrl = {"control_frequency": fc or 0.0, "control_amplitude": p["control_amplitude"]}
        solver = CylinderSolver(re, **geom, **ctrl)
        sim = simulate(solver, p["n_frames"], p["frame_dt"], p["spin_up"], seed=p["seed"] + i,
                       cfl=p["cfl"])
        residuals[sid] = _residual(solver, sim)
        floor = {"numerical": trajectory_floor(metas["numerical"],
                                               np.stack([sim[k] for k in "uvp"], axis=1))}
        base = {"scenario": p["scenario"], "sim_id": sid, "re": re, **ctrl,
                "units": {"u": "U", "v": "U", "p": "rho U^2", "x": "D", "y": "D", "t": "D/U"},
                "pdebench_version": __version__, "generator": "pdebench cylinder_flow",
                "generator_version": GENERATOR_VERSION}
        _write_file(scen / "numerical" / f"{sid}.h5",
                    {k: sim[k] for k in "uvp"}, sim["x"], sim["y"], sim["t"],
                    {**base, "data_origin": "simulation", "residual": residuals[sid],
                     "physics_floor": floor["numerical"],
                     "solver": {"n_steps": sim["n_steps"], "dt_min": sim["dt_min"],
                                "dt_max": sim["dt_max"], "cfl": p["cfl"],
                                "scheme": "Fourier, SSP-RK3, projection, Brinkman"}})
        done += 1
        if progress:
            progress(done, total)
        m = draw(model, p["seed"], i)
        real = CylinderSolver(re * m.re_factor, **geom, **ctrl)
        exp = simulate(real, p["n_frames"] + m.shift, p["frame_dt"], p["spin_up"],
                       seed=p["seed"] + 10_000 + i, cfl=p["cfl"])
        um, vm = measure(model, exp["u"][m.shift:], exp["v"][m.shift:], m.seed)
        floor["real"] = trajectory_floor(metas["real"], np.stack([um, vm], axis=1))
        residuals[sid]["physics_floor"] = floor
        hm, wm = model.resolution
        xm, ym = (np.arange(wm) + 0.5) * p["length"] / wm, (np.arange(hm) + 0.5) * p["height"] / hm
        _write_file(scen / "real" / f"{sid}.h5", {"u": um, "v": vm}, xm, ym,
                    exp["t"][m.shift:] - m.shift * p["frame_dt"],
                    {**base, "data_origin": "emulated_measurement",
                     "description": "EMULATED measurement (simulation + measurement model), "
                                    "not real experimental data",
                     "re_effective": re * m.re_factor, "start_shift_frames": m.shift,
                     "measurement": model.to_dict(), "physics_floor": floor["real"]})
        done += 1
        if progress:
            progress(done, total)
    splits = split_ids(params)
    for kind in KINDS:
        for name, ids in splits.items():
            (scen / f"{name}_params_{kind}.json").write_text(json.dumps(ids))
    return residuals


#: Bumped when the simulation's output changes (2: batched transforms, round-off level changes;
#: 3: the cylinder at length / 4 for every box, physics floors recorded in files and marker;
#: 4: the floors as mergeable sums).
GENERATOR_VERSION = 4


def ensure_generated(data_dir: Path, p: dict[str, Any]) -> Path:
    """The trusted scenario folder for parameters ``p``, generated atomically if missing."""
    key = cache_key({**p, "generator_version": GENERATOR_VERSION})
    root = Path(data_dir) / "cylinder_flow" / f"{p['scenario']}_{key}"
    with file_lock(root.with_name(root.name + ".lock"), f"cylinder_flow {root.name}"):
        if (root / MARKER).is_file():
            return root / p["scenario"]
        if root.exists():  # no marker: an interrupted or foreign folder, never trusted
            shutil.rmtree(root)
        tmp = root.with_name(f".{root.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with progress_counter(desc=f"generating {p['scenario']}", unit="trajectory") as bar:
                def progress(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                t0 = time.monotonic()
                residuals = generate_scenario(tmp, p, progress)
            floors = {kind: combine_floors(dataset_meta(p, kind, pde_params(p)),
                                           [r["physics_floor"][kind] for r in residuals.values()])
                      for kind in KINDS}
            info = {"params": p, "residual": residuals, "physics_floor": floors,
                    "seconds": time.monotonic() - t0, "pdebench_version": __version__}
            (tmp / MARKER).write_text(json.dumps(info, default=float, indent=1))
            os.replace(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return root / p["scenario"]


class CylinderFiles(TrajectoryReader):
    """Minimal lazy reader of per-trajectory files ``{sim_id}.h5`` (``measured_data/<field>``).

    Trajectory ``i`` is ``files[i]``; frames come back ``(F, C, H, W)`` with ``C = len(fields)``.
    """

    def __init__(self, files: list[Path], fields: tuple[str, ...], in_memory: bool = False):
        if not files:
            raise DataFileError("cylinder_flow: no trajectory files to read")
        super().__init__(files[0].parent, in_memory)
        self.files, self.fields = list(files), tuple(fields)
        self._handles: dict[int, h5py.File] = {}
        shapes = set()
        for f in self.files:
            with open_h5(f) as fh:
                for k in self.fields:
                    if f"measured_data/{k}" not in fh:
                        raise DataFileError(f"{f}: missing dataset 'measured_data/{k}'")
                    shapes.add(fh[f"measured_data/{k}"].shape)
        if len(shapes) != 1 or len(next(iter(shapes))) != 3:
            raise DataFileError(f"{self.path}: fields must all be (T, H, W) of one shape, got "
                                f"{sorted(shapes)}")
        self.n_trajectories, self.n_channels = len(self.files), len(self.fields)
        self.n_frames, *self.spatial = next(iter(shapes))

    def _read(self, index: int, frames: slice) -> np.ndarray:
        if self._pid != os.getpid():
            self._handles, self._pid = {}, os.getpid()
        if index not in self._handles:
            self._handles[index] = open_h5(self.files[index])
        fh = self._handles[index]
        return np.stack([fh[f"measured_data/{k}"][frames] for k in self.fields], axis=1)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["_handles"] = {}
        return state


class _CylinderSource(DataSource):
    kind: str = "numerical"
    name: str = ""

    def __init__(self, scenario: str = "cylinder", re_min: float = 100.0, re_max: float = 400.0,
                 n_re: int = 12, control_frequencies: tuple[float, ...] = (0.1, 0.2, 0.3),
                 control_amplitude: float = 1.0, resolution: tuple[int, int] = (64, 128),
                 height: float = 6.0, length: float = 12.0, n_frames: int = 40,
                 frame_dt: float = 0.5, spin_up: float = 30.0, cfl: float = 0.5,
                 measurement: dict | None = None, seed: int = 0, test_set: str = "in_dist",
                 n_val: int = 1, history: int = 1, stride: int = 1,
                 data_dir: str | Path = ".", in_memory: bool | str = "auto") -> None:
        from pdebench.datasets.realpdebench.cylinder_solver import DEFAULT_CFL, check_setup

        if scenario not in SCENARIOS:
            raise ValueError(f"data.scenario {scenario!r} is unknown; valid: {', '.join(SCENARIOS)}")
        if test_set not in TEST_SETS:
            raise ValueError(f"data.test_set {test_set!r} is unknown; valid: {', '.join(TEST_SETS)}")
        if int(n_re) < 5:
            raise ValueError(f"data.n_re must be >= 5 (2 out-of-distribution, >= 1 in-distribution "
                             f"test, >= 2 train/val), got {n_re}")
        if not 0 < re_min < re_max:
            raise ValueError(f"data.re_min and data.re_max must satisfy 0 < re_min < re_max, got "
                             f"{re_min}, {re_max}")
        if int(n_frames) < history + 1 or history < 1 or stride < 1:
            raise ValueError(f"data.n_frames={n_frames} must be >= data.history+1={history + 1} "
                             f"(history, stride >= 1)")
        if not 0 < cfl <= 0.8:
            raise ValueError(f"data.cfl must lie in (0, 0.8] (default {DEFAULT_CFL}), got {cfl}")
        if scenario == "controlled_cylinder" and (not control_frequencies or
                                                  min(control_frequencies) <= 0):
            raise ValueError(f"data.control_frequencies must be positive, got {control_frequencies}")
        check_setup(re_min, tuple(resolution), height, length, cylinder_x(length), 0.0,
                    control_amplitude)
        model = MeasurementModel(**(measurement or {}))
        self.params = {
            "scenario": scenario, "re_min": float(re_min), "re_max": float(re_max),
            "n_re": int(n_re), "control_frequencies": [float(f) for f in control_frequencies],
            "control_amplitude": float(control_amplitude),
            "resolution": [int(r) for r in resolution], "height": float(height),
            "length": float(length), "n_frames": int(n_frames), "frame_dt": float(frame_dt),
            "spin_up": float(spin_up), "cfl": float(cfl), "measurement": model.to_dict(),
            "seed": int(seed)}
        self.ids = split_ids(parameter_set(self.params))
        self.geometry = pde_params(self.params)
        if int(n_val) < 1 or int(n_val) >= len(self.ids["remain"]):
            raise ValueError(f"data.n_val must be in [1, {len(self.ids['remain']) - 1}] (remain has "
                             f"{len(self.ids['remain'])} trajectories), got {n_val}")
        self.test_set, self.n_val, self.history, self.stride = test_set, int(n_val), history, stride
        self.data_dir, self.in_memory = Path(data_dir), in_memory
        self.folder: Path | None = None

    fields: tuple[str, ...] = ("u", "v", "p")

    @property
    def served_ids(self) -> list[str]:
        """Test trajectories first, then "remain" (train/val), as ``split.mode=published`` wants."""
        return self.ids[f"{self.test_set}_test"] + self.ids["remain"]

    @property
    def published_split(self) -> dict:
        n_test, n_rem = len(self.ids[f"{self.test_set}_test"]), len(self.ids["remain"])
        return {"mode": "published", "train": n_rem - self.n_val, "val": self.n_val,
                "test": n_test}

    @property
    def meta(self) -> DatasetMeta:
        return dataset_meta(
            self.params, self.kind, self.geometry, self.history,
            extra={"data_origin": ORIGIN[self.kind], "measured_channels": list(self.fields),
                   "unmeasured_channels": [] if self.kind == "numerical" else ["p"],
                   "kind": self.kind, "scenario": self.params["scenario"],
                   "test_set": self.test_set, "sim_ids": self.ids, "layout": "realpdebench",
                   "generated": True, "axes": "(H, W) = (y, x)", "view": "one_step",
                   "history": self.history, "stride": self.stride})

    def recorded_physics_floor(self) -> dict[str, float]:
        """The physics floor recorded at generation for the trajectories this source serves.

        The per-trajectory records in ``GENERATED.json``, combined over
        :attr:`served_ids`: the physics metrics of every one-step window of the stored reference
        (for ``cylinder_real`` the emulated measurements themselves), which is what
        :func:`pdebench.testing.physics_values` gives on :meth:`open` with ``stride = 1``. Empty
        for a folder recorded without floors.
        """
        if self.folder is None:
            self.prepare()
        info = json.loads((self.folder.parent / MARKER).read_text())
        records = [info["residual"][s].get("physics_floor", {}).get(self.kind)
                   for s in self.served_ids]
        if any(r is None or "sums" not in r for r in records):
            return {}
        return combine_floors(dataset_meta(self.params, self.kind, pde_params(self.params)),
                              records)

    def prepare(self) -> None:
        self.folder = ensure_generated(self.data_dir, self.params)

    def open(self) -> TrajectoryWindows:
        if self.folder is None:
            self.prepare()
        files = [self.folder / self.kind / f"{s}.h5" for s in self.served_ids]
        mem = self.in_memory
        if mem == "auto":
            mem = sum(f.stat().st_size for f in files if f.exists()) < 2 * 2**30
        reader = CylinderFiles(files, self.fields, in_memory=bool(mem))
        return TrajectoryWindows(reader, history=self.history, stride=self.stride)


class CylinderSimSource(_CylinderSource):
    """Flow past a cylinder, SIMULATED side (RealPDEBench stand-in, PROBLEMS D): fields u, v, p.

    Equations: 2D incompressible Navier-Stokes, u_t + (u.grad)u = -grad p + lap(u)/Re + forcing,
    div u = 0, dimensionless (D = U = 1), box 12 x 6 D, 64 x 128 cells (H = y, W = x), periodic
    with a fringe sponge (effectively inflow/outflow), cylinder by Brinkman penalisation (optional
    rotational oscillation, ``scenario=controlled_cylinder``, frequency f_c). Pseudo-spectral,
    SSP-RK3, projection; see :mod:`pdebench.datasets.realpdebench.cylinder_solver`.

    Parameters (config ``conf/data/cylinder_sim.yaml``): ``re_min``, ``re_max``, ``n_re`` (12
    integer Re in [100, 400]; published Re 1800-12000 is not resolvable at 64 x 128: Re stays the
    parameter, on a resolvable range), ``control_frequencies`` (controlled case: Re x f_c),
    ``n_frames`` (40 frames, dt 0.5 D/U, after ``spin_up`` 30 D/U), ``test_set``
    (in_dist/out_dist), ``n_val``. Sizes: default 12 trajectories x 40 frames, ~3 s each (twice:
    the emulated measurements are generated with them); published: 46-96 trajectories, thousands
    of frames.

    Provenance: generated by this harness (data_origin="simulation"), written in RealPDEBench's
    per-trajectory layout and split files. Windows: ``history`` frames in, the next out; train/val
    from "remain", test from the chosen test set (split.mode=published).

    Physics metrics (equation ``incompressible``, outside the penalised body and the fringe):
    continuity and the pressure equation; the momentum equations need Re, which the model is not
    given. The floor of the reference is recorded at generation (:meth:`recorded_physics_floor`).
    """

    name, kind, fields = NAMES["numerical"], "numerical", FIELDS["numerical"]


class CylinderRealSource(_CylinderSource):
    """Flow past a cylinder, EMULATED-MEASUREMENT side ("real" in RealPDEBench's terms): u, v.

    NOT real data: the same configurations as ``cylinder_sim`` re-simulated with a Re mismatch
    (+-3%), another start phase (window shifted by 1-8 frames), then PIV-like Gaussian blur (1 cell),
    resampling to 32 x 64, multiplicative noise (3%) plus 0.005 U additive; pressure absent
    (see :mod:`pdebench.datasets.realpdebench.measurement_model`). Files carry
    data_origin="emulated_measurement". Parameters and split as ``cylinder_sim``, plus
    ``measurement`` (the model's settings). Published reference (real data, FNO): relative L2 .258
    sim-only / .086 real-only / .078 fine-tuned; this stand-in reproduces the structure of the
    sim-to-real gap, not those numbers.

    Physics metrics: the equation of the flow measured (``incompressible``); without ``p`` only
    continuity scores. The floor recorded at generation is the residual of the emulated
    measurements themselves (noise, blur, resampling).
    """

    name, kind, fields = NAMES["real"], "real", FIELDS["real"]
