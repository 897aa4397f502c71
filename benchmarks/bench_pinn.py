"""PINN training throughput of the harness (``system=pinn``) against a plain PyTorch loop and
against DeepXDE's ``Model.train``, and the cost of the autograd residuals.

Usage: ``python benchmarks/bench_pinn.py [--quick] [--threads T] [--repeats K] [--clock C]
[--breakdown] [--case PROBLEM/MODEL ...] [--n-interior N] [--data-dir DIR]`` (defaults: T = 2,
K = 3 (2 with ``--quick``), C = wall, all cases, N = 2000; DIR defaults to ``$PDEBENCH_DATA``,
else the harness's cache folder; a dataset missing there is generated first, untimed). The
default run takes about 2 to 3 minutes on a quiet machine, ``--quick`` about 30 s (plus one
more fit per case with ``--breakdown``).

On a shared machine, torch's intra-op threads wait on each other behind other processes (a step
can take ten times longer with 2 threads when one core is busy): there pass ``--threads 1
--clock cpu``, which times this process's CPU time. ``--breakdown`` times the parts of the
harness's step inside one instrumented fit (the network's work, ``self.log``, the NaN check, the
rest of ``training_step``, Lightning's loop): that attribution holds even when the machine's
load moves the end-to-end ratios by several per cent.

Cases (one problem instance each, ``data.instance=0``, the system's collocation defaults except
N interior points: 200 points per wall, 200 initial points, Sobol):

* ``data=burgers`` (1D space-time, periodic in x, initial condition) with ``model=pinn``
  (DeepXDE's FNN, hidden 64, depth 4, tanh);
* ``data=electrothermal`` (2D steady, five fields u, v, p, phi, T) with ``model=pinn`` and with
  ``model=lstm_pinn`` (its config's defaults, variant A).

Measured, on CPU with ``torch.set_num_threads(T)``, W warm-up steps untimed, the median of K
repeats run in rotating order:

``harness``
    ``trainer.fit`` of the real path: config from :func:`pdebench.config.compose`, model, system
    and datamodule through the contract (``build_model(cfg, cls.model_meta(...))``,
    ``build_system``, ``system.datamodule``) and the trainer of ``pdebench.run._build_trainer``
    (CSV logger, ``ModelCheckpoint``, manual optimisation, ``self.log`` as the system does it).
    ``system.eval_every`` equals the whole step budget, so the one Lightning epoch holds every
    step and its grid evaluation and checkpoint come after the timed window (timed: from the
    start of step W to the end of the last step, measured by a callback).
``plain``
    The same system object's network, points and loss, no Lightning: ``loss =
    system.combine(system.loss_terms()); loss.backward(); opt.step(); sched.step()`` with the
    optimiser and step-decay schedule of ``system.configure_optimizers()`` (the same Adam).
``deepxde`` (Burgers only)
    ``dde.Model(dde.data.TimePDE(...), net).train(iterations=N)``: the PDE
    ``u_t + u u_x - (nu/pi) u_xx`` with ``dde.grad.jacobian``/``hessian``, on
    ``GeometryXTime(Interval, TimeDomain)`` of the instance's extent, ``PeriodicBC`` of orders 0
    and 1 in x, an ``IC`` from the instance's reference, Sobol points (``num_domain`` = N,
    ``num_boundary`` = 200 boundary points, i.e. 200 periodic pairs as in the harness,
    ``num_initial`` = 200), the same FNN object with its initial weights (the harness's scaling
    of the coordinates to [-1, 1] as DeepXDE's feature transform) and Adam with the same lr. The
    timed region is the whole second ``train`` call, which also evaluates the losses without
    a backward pass at its start and end (DeepXDE's bookkeeping).
``residual cost``
    ``system.combine(system.loss_terms())`` + backward against one forward + backward of the
    bare network (mean square of its output) on exactly the points that the loss sends through
    the network (recorded by a forward hook: interior, wall, periodic partner and initial
    points): the floor under any autograd-residual loss.

Differences that matter for the DeepXDE column: DeepXDE evaluates the PDE residual (with its
Hessian) at *every* training point, boundary and initial points included, then keeps the rows of
the N + 200 + 200 sampled points; the harness evaluates it at the N interior points only. Its
periodic pairs are drawn on both walls of the interval (the harness: on the low wall, paired with
the high wall) and its loss is an unweighted sum of per-condition means. The harness writes the
flux form ``(u^2/2)_x`` (one more autograd pass through the network than ``u u_x``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import math
import os
import statistics
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import numpy as np
import torch
from _timing import cpus as available_cpus  # benchmarks/ is on sys.path when run
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig
from torch import Tensor, nn

from pdebench._deepxde import deepxde
from pdebench.config import compose
from pdebench.run import _build_trainer, build_datasets, build_model, build_system, system_class
from pdebench.systems.pinn import PINNSystem

THROUGHPUT_GOAL = 0.9  # harness / plain loop
DEEPXDE_GOAL = 1.0  # harness / DeepXDE
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
_clock = [time.perf_counter]  # set by --clock


def _now() -> float:
    """Seconds on the chosen clock: wall time, or this process's CPU time (``--clock cpu``,
    with ``--threads 1`` nearly blind to other processes on a shared machine)."""
    return _clock[0]()


@dataclass(frozen=True)
class Case:
    """One row of the table: a problem, a model and the steps to time (default, quick)."""

    problem: str
    model: str
    steps: tuple[int, int]
    warmup: tuple[int, int]
    deepxde: bool = False
    model_overrides: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.problem}/{self.model}"


CASES = (
    Case("burgers", "pinn", (60, 15), (5, 2), deepxde=True,
         model_overrides=("model.hidden=64", "model.depth=4")),
    Case("electrothermal", "pinn", (30, 8), (3, 2),
         model_overrides=("model.hidden=64", "model.depth=4")),
    Case("electrothermal", "lstm_pinn", (10, 3), (2, 1)),
)


@dataclass
class Setup:
    """What the ways of one case share: the config, the datamodule with its instance, the
    model's reference initial weights."""

    case: Case
    cfg: DictConfig
    cls: type[PINNSystem]
    metas: dict
    point_meta: object
    datamodule: object  # InstanceDataModule, set up: .instance is the problem
    init: list[Tensor]
    seed: int
    steps: int
    warmup: int
    scratch: Path

    @property
    def total(self) -> int:
        return self.warmup + self.steps


@dataclass
class Timing:
    seconds: float
    steps: int
    final_loss: float
    same_init: bool
    points: int = 0  # DeepXDE: rows of its training input (every point of every term)

    @property
    def rate(self) -> float:
        return self.steps / self.seconds


@dataclass
class Row:
    case: Case
    n_points: int  # points sent through the network by one loss evaluation
    n_interior: int
    n_params: int
    rates: dict[str, list[float]] = field(default_factory=dict)
    losses: dict[str, list[float]] = field(default_factory=dict)
    same_init: bool = True
    residual_ms: float = math.nan
    floor_ms: float = math.nan
    deepxde_points: int = 0

    def median(self, way: str) -> float:
        return statistics.median(self.rates[way]) if self.rates.get(way) else math.nan


# -- set-up ------------------------------------------------------------------------------------

def make_config(case: Case, n_interior: int, total: int, out_dir: Path) -> DictConfig:
    """The run's config: one Lightning epoch of ``total`` steps, no progress bar."""
    return compose([
        f"data={case.problem}", f"model={case.model}", "system=pinn", *case.model_overrides,
        f"system.steps={total}", f"system.eval_every={total}",
        f"system.collocation.n_interior={n_interior}",
        "trainer.accelerator=cpu", "trainer.devices=1", "trainer.enable_progress_bar=false",
        "progress=none", f"paths.output_dir={out_dir}",
    ])


def make_setup(case: Case, args: argparse.Namespace, scratch: Path) -> Setup:
    steps, warmup = case.steps[args.quick], case.warmup[args.quick]
    out = scratch / f"{case.problem}-{case.model}"
    cfg = make_config(case, args.n_interior, warmup + steps, out)
    cls = system_class(cfg)
    datamodules = build_datasets(cfg)
    metas = {k: dm.meta for k, dm in datamodules.items()}
    point_meta = cls.model_meta(metas)
    seed = int(cfg.seed)
    torch.manual_seed(seed)
    model = build_model(cfg, point_meta)
    system = build_system(cfg, cls, model, metas)
    dm = system.datamodule(datamodules)
    dm.prepare_data()  # generates the data on first use (not timed)
    dm.setup("fit")
    return Setup(case, cfg, cls, metas, point_meta, dm,
                 [p.detach().clone() for p in model.parameters()], seed, steps, warmup, out)


def _seeded_model(setup: Setup) -> tuple[nn.Module, bool]:
    """The case's network built after the shared seed, and whether it starts from the
    reference weights."""
    torch.manual_seed(setup.seed)
    model = build_model(setup.cfg, setup.point_meta)
    same = all(torch.equal(p.detach(), q)
               for p, q in zip(model.parameters(), setup.init, strict=True))
    return model, same


def _seeded_system(setup: Setup, cls: type[PINNSystem] | None = None
                   ) -> tuple[PINNSystem, bool]:
    """A fresh system (``cls``, default the case's) around a :func:`_seeded_model`."""
    model, same = _seeded_model(setup)
    return build_system(setup.cfg, cls or setup.cls, model, setup.metas), same


# -- the harness (Lightning) -------------------------------------------------------------------

class _StepTimer(Callback):
    """Time from the start of batch ``warmup`` to the end of the last batch; for an
    instrumented system, its accumulators over that window (``spent``, ``calls``)."""

    def __init__(self, warmup: int, total: int) -> None:
        self.warmup, self.total = warmup, total
        self.t0: float | None = None
        self.t1: float | None = None
        self.last_loss = math.nan
        self.spent: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == self.warmup:
            if hasattr(pl_module, "spent"):
                pl_module.spent.clear()
                pl_module.calls.clear()
            self.t0 = _now()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx == self.total - 1:
            self.t1 = _now()
            if hasattr(pl_module, "spent"):
                self.spent, self.calls = dict(pl_module.spent), dict(pl_module.calls)
            loss = outputs["loss"] if isinstance(outputs, dict) else outputs
            self.last_loss = float(loss)


def _fit(setup: Setup, cls: type[PINNSystem], name: str) -> tuple[PINNSystem, _StepTimer, bool]:
    """``trainer.fit`` of a fresh ``cls`` system with the trainer of ``_build_trainer``."""
    system, same = _seeded_system(setup, cls)
    timer = _StepTimer(setup.warmup, setup.total)
    trainer = _build_trainer(setup.cfg, setup.scratch / name, cls)
    trainer.callbacks.append(timer)
    trainer.fit(system, datamodule=setup.datamodule)
    if timer.t0 is None or timer.t1 is None or system._opt_steps != setup.total:
        raise RuntimeError(f"harness ran {system._opt_steps} steps, expected {setup.total}")
    return system, timer, same


def run_harness(setup: Setup, repeat: int) -> Timing:
    _, timer, same = _fit(setup, setup.cls, f"harness-{repeat}")
    return Timing(timer.t1 - timer.t0, setup.steps, timer.last_loss, same)


# -- where the harness's time goes -------------------------------------------------------------

def _instrumented(cls: type[PINNSystem]) -> type[PINNSystem]:
    """``cls`` with its training step's parts timed (seconds summed in ``spent``); the
    optimiser's own ``step`` is timed by hooks on the torch optimiser."""

    def timed(name: str, method: Callable) -> Callable:
        def wrapper(self, *args, **kwargs):
            t0 = _now()
            try:
                return method(self, *args, **kwargs)
            finally:
                self.spent[name] += _now() - t0
                self.calls[name] += 1
        return wrapper

    parts = {"training_step": "training_step", "loss_terms": "loss_terms",
             "combine": "combine", "manual_backward": "backward", "_check": "NaN check",
             "log": "self.log"}
    body = {m: timed(label, getattr(cls, m)) for m, label in parts.items()}

    def configure_optimizers(self):
        conf = cls.configure_optimizers(self)
        opt = conf["optimizer"]
        opt.register_step_pre_hook(lambda *_: self.spent.__setitem__("_t", _now()))
        opt.register_step_post_hook(lambda *_: self.spent.__setitem__(
            "Adam.step", self.spent["Adam.step"] + _now() - self.spent["_t"]))
        return conf

    def init(self, *args, **kwargs):
        cls.__init__(self, *args, **kwargs)
        self.spent = defaultdict(float)
        self.calls = defaultdict(int)

    return type(f"Instrumented{cls.__name__}", (cls,),
                {**body, "__init__": init, "configure_optimizers": configure_optimizers})


def breakdown(setup: Setup, plain_rate: float) -> list[str]:
    """Lines: ms per step of each part of the harness's step, from one instrumented fit."""
    _, timer, _ = _fit(setup, _instrumented(setup.cls), "breakdown")
    n = setup.steps
    ms = {k: 1e3 * v / n for k, v in timer.spent.items() if not k.startswith("_")}
    total = 1e3 * (timer.t1 - timer.t0) / n
    core = sum(ms.get(k, 0.0) for k in ("loss_terms", "combine", "backward", "Adam.step"))
    inside = ms["training_step"] - core - ms.get("NaN check", 0.0) - ms.get("self.log", 0.0)
    logs = timer.calls.get("self.log", 0) / n
    return [
        f"  {setup.case.name}: {total:.2f} ms/step in the harness (instrumented), plain loop "
        f"{1e3 / plain_rate:.2f}",
        f"    same work as the plain loop: {core:.2f} (loss_terms {ms['loss_terms']:.2f}, "
        f"combine {ms['combine']:.2f}, backward {ms['backward']:.2f}, Adam.step "
        f"{ms['Adam.step']:.2f})",
        f"    self.log: {ms.get('self.log', 0.0):.2f} ({logs:.0f} calls per step), NaN check "
        f"{ms.get('NaN check', 0.0):.2f}, rest of training_step {inside:.2f} (optimizers(), "
        "LightningOptimizer, scheduler, step counter, the terms kept for the result)",
        f"    Lightning's loop outside training_step: {total - ms['training_step']:.2f} "
        "(batch fetch, hooks, logger connector)",
        f"    harness overhead {total - core:.2f} ms/step, {100 * (1 - core / total):.1f}% of "
        f"the step: harness/plain from this breakdown {core / total:.3f} (same fit, so "
        "independent of load changes between runs)",
    ]


# -- the plain loop ----------------------------------------------------------------------------

def _attached(setup: Setup) -> tuple[PINNSystem, bool]:
    system, same = _seeded_system(setup)
    system.attach(setup.datamodule.instance)  # what Lightning's setup hook does
    system.train()
    return system, same


def run_plain(setup: Setup, repeat: int) -> Timing:
    system, same = _attached(setup)
    conf = system.configure_optimizers()
    opt, sched = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    t0 = None
    loss = torch.zeros(())
    for step in range(setup.total):
        if step == setup.warmup:
            t0 = _now()
        opt.zero_grad()
        loss = system.combine(system.loss_terms())
        loss.backward()
        opt.step()
        sched.step()
    t1 = _now()
    assert t0 is not None
    return Timing(t1 - t0, setup.steps, float(loss.detach()), same)


# -- DeepXDE's Model.train (Burgers) -----------------------------------------------------------

def run_deepxde(setup: Setup, repeat: int) -> Timing:
    dde = deepxde()
    inst = setup.datamodule.instance
    model, same = _seeded_model(setup)
    if not isinstance(model.features, nn.Identity):
        raise RuntimeError("the DeepXDE comparison expects model=pinn without Fourier features")
    net = model.net  # DeepXDE's FNN, the harness's initial weights
    (x_lo, x_hi), (t_lo, t_hi) = inst.extent
    lo = torch.tensor([x_lo, t_lo], dtype=torch.get_default_dtype())
    hi = torch.tensor([x_hi, t_hi], dtype=torch.get_default_dtype())
    net.apply_feature_transform(lambda x: 2.0 * (x - lo) / (hi - lo) - 1.0)
    nu = float(setup.metas["data"].pde_params["nu"])

    def pde(x: Tensor, y: Tensor) -> Tensor:
        u_x = dde.grad.jacobian(y, x, i=0, j=0)
        u_t = dde.grad.jacobian(y, x, i=0, j=1)
        u_xx = dde.grad.hessian(y, x, i=0, j=0)
        return u_t + y * u_x - nu / math.pi * u_xx

    def initial(x: np.ndarray) -> np.ndarray:
        pts = torch.from_numpy(np.asarray(x, dtype=np.float64))
        return inst.reference_at(pts, ("u",))["u"].numpy()[:, None]

    geom = dde.geometry.GeometryXTime(dde.geometry.Interval(x_lo, x_hi),
                                      dde.geometry.TimeDomain(t_lo, t_hi))
    bcs = [dde.icbc.PeriodicBC(geom, 0, lambda _, on_b: on_b, derivative_order=k)
           for k in (0, 1)]
    bcs.append(dde.icbc.IC(geom, initial, lambda _, on_initial: on_initial))
    colloc = setup.cfg.system.collocation
    np.random.seed(setup.seed)
    with warnings.catch_warnings():  # skopt: "Sobol' points require n to be a power of 2"
        warnings.simplefilter("ignore", UserWarning)
        data = dde.data.TimePDE(geom, pde, bcs, num_domain=int(colloc.n_interior),
                                num_boundary=int(colloc.n_boundary),
                                num_initial=int(colloc.n_initial), train_distribution="Sobol")
    lr = float(setup.cfg.system.optimizer.lr)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        m = dde.Model(data, net)
        m.compile("adam", lr=lr)
        if setup.warmup:
            m.train(iterations=setup.warmup, display_every=10**9, verbose=0)
        t0 = _now()
        m.train(iterations=setup.steps, display_every=10**9, verbose=0)
        t1 = _now()
    loss = float(np.sum(m.train_state.loss_train))
    return Timing(t1 - t0, setup.steps, loss, same, points=len(data.train_x))


# -- residual cost -----------------------------------------------------------------------------

def residual_cost(setup: Setup, iters: int, repeats: int
                  ) -> tuple[float, float, int, int]:
    """Median seconds of loss + backward and of the bare network's forward + backward on the
    same points; the number of those points and of the interior points among them."""
    system, _ = _attached(setup)
    seen: list[Tensor] = []
    hook = system.model.register_forward_pre_hook(lambda mod, inp: seen.append(inp[0].detach()))
    system.loss_terms()
    hook.remove()
    pts = torch.cat(seen)

    def full() -> None:
        system.model.zero_grad(set_to_none=True)
        system.combine(system.loss_terms()).backward()

    def floor() -> None:
        system.model.zero_grad(set_to_none=True)
        system.model(pts).square().mean().backward()

    def timed(fn: Callable[[], None]) -> float:
        t0 = _now()
        for _ in range(iters):
            fn()
        return (_now() - t0) / iters

    full(), floor()  # warm-up
    t_full, t_floor = [], []
    for _ in range(repeats):  # alternately, so that a change of load hits both
        t_full.append(timed(full))
        t_floor.append(timed(floor))
    return (statistics.median(t_full), statistics.median(t_floor), len(pts),
            len(system._points["interior"]))


# -- report ------------------------------------------------------------------------------------

RUNNERS: dict[str, Callable[[Setup, int], Timing]] = {
    "plain": run_plain, "harness": run_harness, "deepxde": run_deepxde}


def measure(setup: Setup, args: argparse.Namespace) -> Row:
    ways = [w for w in RUNNERS if w != "deepxde" or setup.case.deepxde]
    iters = 3 if args.quick else 10
    t_full, t_floor, n_points, n_interior = residual_cost(setup, iters, args.repeats)
    row = Row(setup.case, n_points, n_interior, sum(p.numel() for p in setup.init),
              residual_ms=1e3 * t_full, floor_ms=1e3 * t_floor)
    for r in range(args.repeats):
        order = ways[r % len(ways):] + ways[:r % len(ways)]
        for way in order:
            t = RUNNERS[way](setup, r)
            row.rates.setdefault(way, []).append(t.rate)
            row.losses.setdefault(way, []).append(t.final_loss)
            row.same_init &= t.same_init
            row.deepxde_points = max(row.deepxde_points, t.points)
        line = "  ".join(f"{w} {row.rates[w][-1]:6.2f}" for w in order)
        print(f"  {setup.case.problem}/{setup.case.model} repeat {r + 1}/{args.repeats} "
              f"(steps/s, in run order): {line}", flush=True)
    return row


def _fmt(v: float, digits: int = 2) -> str:
    return "-" if math.isnan(v) else f"{v:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    print("| problem | model | params | points (interior / through net) | harness steps/s "
          "| plain loop steps/s | harness/plain | DeepXDE steps/s | harness/DeepXDE "
          "| harness overhead ms/step | loss+backward ms | net fwd+bwd ms | residual cost |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        h, p, d = row.median("harness"), row.median("plain"), row.median("deepxde")
        print(f"| {row.case.problem} | {row.case.model} | {row.n_params:,} "
              f"| {row.n_interior} / {row.n_points} | {_fmt(h)} | {_fmt(p)} | {_fmt(h / p)} "
              f"| {_fmt(d)} | {_fmt(h / d)} | {_fmt(1e3 * (1 / h - 1 / p))} "
              f"| {_fmt(row.residual_ms, 1)} | {_fmt(row.floor_ms, 2)} "
              f"| {_fmt(row.residual_ms / row.floor_ms, 1)}x |")


def _quiet() -> None:
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
    # the repeats of a case share the CSV logger's folder; one epoch is shorter than
    # log_every_n_steps in --quick
    warnings.filterwarnings("ignore", message=r"Experiment logs directory .* exists")
    warnings.filterwarnings("ignore", message=r".*smaller than the logging interval")


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (about 30 s)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--repeats", type=int, default=None,
                        help="rounds of the ways, median reported (default 3, quick 2)")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="wall time, or this process's CPU time (use with --threads 1 on a "
                             "busy machine)")
    parser.add_argument("--n-interior", type=int, default=2000, help="interior points")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the parts of the harness's step (one more fit per case)")
    parser.add_argument("--case", action="append", choices=[c.name for c in CASES],
                        help="run only this case (repeatable; default: all)")
    parser.add_argument("--data-dir", default=None,
                        help="dataset cache (default: $PDEBENCH_DATA, else the harness's)")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 3)
    if args.threads < 1 or args.repeats < 1 or args.n_interior < 1:
        parser.error("need --threads >= 1, --repeats >= 1, --n-interior >= 1")
    if args.data_dir:
        os.environ["PDEBENCH_DATA"] = args.data_dir
    torch.set_num_threads(args.threads)
    _clock[0] = CLOCKS[args.clock]
    _quiet()
    cpus = available_cpus()
    load = os.getloadavg()
    print("PINN throughput: harness (Lightning) vs plain PyTorch loop vs DeepXDE Model.train; "
          "residual cost")
    print(f"  machine  CPU, {cpus} CPUs, torch {torch.__version__} threads "
          f"{torch.get_num_threads()}, lightning {L.__version__}, deepxde "
          f"{deepxde().__version__}; load average at start {load[0]:.2f} {load[1]:.2f}")
    print(f"  timing   {args.clock} clock, median of {args.repeats} repeats (rotating order), "
          f"warm-up steps untimed; {'quick' if args.quick else 'default'} step counts")
    if load[0] > max(0.5, cpus - args.threads):
        print(f"  warning  the machine is busy (load {load[0]:.2f} on {cpus} CPUs): with "
              f"{args.threads} threads torch's workers wait on each other behind other "
              "processes; expect noise" + (" (try --threads 1)" if args.threads > 1 else ""))
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pdebench-bench-pinn-") as scratch:
        for case in CASES:
            if args.case and case.name not in args.case:
                continue
            setup = make_setup(case, args, Path(scratch))
            rows.append(measure(setup, args))
            if args.breakdown:
                notes += breakdown(setup, rows[-1].median("plain"))
    print()
    print_table(rows)
    print()
    print(f"goals: harness/plain >= {THROUGHPUT_GOAL}, harness/DeepXDE >= {DEEPXDE_GOAL}; "
          f"load average at end {os.getloadavg()[0]:.2f}")
    for row in rows:
        h, p = statistics.median(row.losses["harness"]), statistics.median(row.losses["plain"])
        extra = (f", DeepXDE {statistics.median(row.losses['deepxde']):.4g} (its own loss "
                 "bookkeeping)" if "deepxde" in row.losses else "")
        print(f"  {row.case.problem}/{row.case.model}: final loss harness {h:.6g}, plain "
              f"{p:.6g}{extra}; initial weights identical: {'yes' if row.same_init else 'NO'}")
    for row in rows:
        if row.deepxde_points:
            print(f"  {row.case.name}: DeepXDE sends {row.deepxde_points} points through the "
                  f"network per step (the harness {row.n_points}) and evaluates the PDE residual "
                  "with its Hessian at all of them (its loss then keeps the rows of the sampled "
                  "domain, boundary and initial points); its periodic pairs lie on both walls, "
                  "ours on the low wall; its timed train() call also evaluates the losses without "
                  "backward at its start and end; the harness writes (u^2/2)_x, one autograd pass "
                  "more than u u_x.")
    if notes:
        print("where the harness's time goes (ms per timed step, one instrumented fit):")
        print("\n".join(notes))
    print("  harness: one Lightning epoch holds every step (system.eval_every = all steps): the "
          "grid evaluation and the checkpoint come after the timed window.")
    return rows


if __name__ == "__main__":
    main()
