"""Physics-informed solve of one problem instance (``system=pinn``).

A network ``u_theta(x)`` (or ``u_theta(x, t)``) is trained on **one** problem of a dataset
(``data.instance=K``: sample K of the test split, trajectory K of the test trajectories) from
the dataset's registered equation alone: the loss is built from the equation's components with the
autograd derivative provider (:class:`~pdebench.physics.points.PointPhysics`, the same residual
code the generators check themselves with) at collocation points drawn by DeepXDE's geometries
and samplers (:class:`~pdebench.data.collocation.Collocation`), plus its boundary conditions and,
for space-time problems, the initial frame. Sources and boundary data come at arbitrary points
from the instance (:class:`~pdebench.data.instance.ProblemInstance`: closed forms where the
dataset has them, interpolation otherwise). With ``n_data > 0`` observed interior points join
the loss (the data-assisted track, kept apart on the leaderboard).

Evaluation is on the instance's reference grid: the data metrics, the ``pinn`` family and the
physics metrics of the grid prediction. The reference is never used to pick a checkpoint: the
final weights are scored.

Training runs ``steps`` Adam steps (step decay at fractions ``decay.milestones`` of them), then
``lbfgs_steps`` L-BFGS iterations; a Lightning "epoch" is ``eval_every`` steps, after which the
grid is evaluated (progress lines, ``val/*`` curves).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from pdebench.data.collocation import Collocation
from pdebench.data.instance import ProblemInstance
from pdebench.data.meta import DatasetMeta
from pdebench.metrics.collection import FieldMetrics
from pdebench.physics.points import PointPhysics
from pdebench.systems.base import MetricFactories, NonFiniteLossError, Stats, System

__all__ = ["BALANCES", "PINN_METRICS", "InstanceDataModule", "PINNSystem", "datasets_with_equations"]

#: Loss balancing schemes.
BALANCES = ("fixed", "data_scale", "grad_norm")
#: The ``pinn`` metric family, always evaluated by this system.
PINN_METRICS = ("pinn/l2re", "pinn/l1re", "pinn/mse", "pinn/mae", "pinn/max_error")
_EVAL_CHUNK = 65536


def point_equation(meta: DatasetMeta):
    """The equation a solver at points uses for ``meta`` and whether the dataset stores frames
    as channels (then the equation's space-time form), or ``(None, False)``."""
    from pdebench.metrics.physics import equation_for

    eq = equation_for(meta) if meta.pde else None
    if eq is not None and eq.space_time is not None:
        return eq.space_time, True
    return eq, False


def network_fields(eq, meta: DatasetMeta, frames: bool) -> tuple[str, ...]:
    """The fields a PINN predicts: the equation's unknowns (solved for even where the dataset
    does not record them, e.g. pressure), then any other output field of the dataset."""
    if frames:
        return tuple(eq.unknowns)
    own = tuple(u for u in eq.unknowns if not u.endswith("*"))
    return own + tuple(f for f in meta.output_fields if f not in own)


def datasets_with_equations() -> list[str]:
    """Registered datasets whose built-in config gives a ``DatasetMeta.pde`` with a registered
    equation (for the message refusing a dataset without one)."""
    import tempfile
    from importlib import resources

    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from pdebench.registry import DATASETS, EQUATIONS
    from pdebench.run import DATA_RESERVED

    out = []
    root = resources.files("pdebench.conf") / "data"
    with tempfile.TemporaryDirectory() as tmp:
        for entry in DATASETS.entries():
            try:
                node = OmegaConf.load(str(root / f"{entry.name}.yaml"))
                plain = {k: v for k, v in OmegaConf.to_container(node).items()
                         if k not in DATA_RESERVED}
                if "data_dir" in plain:
                    plain["data_dir"] = tmp
                pde = instantiate(plain).meta.pde
            except Exception:  # noqa: BLE001 - a reader without its file: cannot tell
                continue
            if pde and pde in EQUATIONS:
                out.append(entry.name)
    return out


def _grid_equation(meta: DatasetMeta):
    from pdebench.metrics.physics import equation_for

    return equation_for(meta)


class _Steps(torch.utils.data.Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Tensor:
        return torch.tensor(i)


class InstanceDataModule(L.LightningDataModule):
    """The loaders of a PINN run: ``eval_every`` steps per epoch, the instance's grid to score.

    Wraps the dataset's :class:`~pdebench.data.module.PDEDataModule` (which generates or opens
    the data and makes the split); :attr:`instance` is set by :meth:`setup`.
    """

    def __init__(self, datamodule, steps_per_epoch: int, interpolation: str,
                 frames: tuple[str, str, float, str] | None = None) -> None:
        super().__init__()
        self.inner = datamodule
        self.steps_per_epoch = steps_per_epoch
        self.interpolation = interpolation
        self.frames = frames
        self.instance: ProblemInstance | None = None

    def __getattr__(self, name: str) -> Any:  # stats, indices, dataset, meta of the dataset
        if name in ("inner", "_hparams", "_hparams_initial"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def prepare_data(self) -> None:
        self.inner.prepare_data()

    def setup(self, stage: str | None = None) -> None:
        self.inner.setup(stage)
        if self.instance is None:
            self.instance = ProblemInstance.from_datamodule(
                self.inner, getattr(self.inner, "instance", 0), None, self.interpolation,
                self.frames)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(_Steps(self.steps_per_epoch), batch_size=1)

    def _grid(self) -> DataLoader:
        batch = self.instance.eval_batch()
        return DataLoader([{k: v[0] for k, v in batch.items()}], batch_size=1)

    def val_dataloader(self) -> DataLoader:
        return self._grid()

    def test_dataloader(self) -> DataLoader:
        return self._grid()


def _check_weight(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"system.{key} must be a finite number >= 0, got {value!r}")
    return float(value)


class PINNSystem(System):
    """Physics-informed training of a point model on one problem instance.

    Parameters
    ----------
    model : nn.Module
        ``(N, D[+1])`` coordinates scaled to ``[-1, 1]`` -> ``(N, C)`` (z-scores of the fields
        when ``standardize``).
    metas, metrics
        The run's single dataset and its metric factories (the ``pinn`` family is added).
    optimizer : callable(params) -> Optimizer
        Adam by default.
    steps, lbfgs_steps, eval_every : int
        Adam steps, L-BFGS iterations after them, steps between grid evaluations.
    decay : mapping
        ``milestones`` (fractions of ``steps``) and ``gamma`` of the step decay.
    collocation : mapping
        :class:`~pdebench.data.collocation.Collocation` arguments (sampler, counts, holes).
    resample_every : int
        Draw new collocation points every N steps (0: fixed).
    rar : mapping
        Residual-based adaptive refinement: every ``every`` steps (0: off) evaluate the residual
        at ``candidates`` new points and add the ``add`` worst to the interior set.
    weights : mapping
        ``equations`` (component -> weight, default 1), ``boundary`` (a number, or field ->
        weight), ``initial``, ``data``.
    balance : {"fixed", "data_scale", "grad_norm"}
        Fixed weights; each physics term rescaled to the data loss's magnitude (Multiphysics
        Bench; needs ``n_data > 0``); or learning-rate annealing (Wang, Teng & Perdikaris 2021):
        every ``balance_every`` steps the boundary/initial/data weights move towards
        ``max|grad L_pde| / mean|grad L_term|`` with factor ``balance_alpha``.
    standardize : bool
        The network predicts z-scores per field, de-normalised with the reference fields' mean
        and standard deviation (as the LSTM-PINN code family does; recorded in the result).
    n_data : int
        Observed interior points with reference values (0: pure physics).
    interpolation : {"linear", "nearest"}
        Gridded coefficients and reference values at points.
    grad_clip : float, optional
        Clip the gradient norm.
    """

    n_datasets = 1
    select_best: ClassVar[bool] = False  # the reference is the test set: score the final weights

    def __init__(self, model: nn.Module, metas: Mapping[str, DatasetMeta],
                 metrics: MetricFactories, optimizer: Callable[..., torch.optim.Optimizer],
                 steps: int = 2000, lbfgs_steps: int = 0, eval_every: int = 100,
                 decay: Mapping[str, Any] | None = None,
                 collocation: Mapping[str, Any] | None = None, resample_every: int = 0,
                 rar: Mapping[str, Any] | None = None, weights: Mapping[str, Any] | None = None,
                 balance: str = "fixed", balance_every: int = 100, balance_alpha: float = 0.9,
                 standardize: bool = True, n_data: int = 0, interpolation: str = "linear",
                 grad_clip: float | None = None) -> None:
        super().__init__()
        from pdebench.registry import METRICS

        self.automatic_optimization = False
        (self.dataset_name, meta), = metas.items()
        self.meta = meta
        self.equation, self.frames = point_equation(meta)
        if self.equation is None:
            raise ValueError(f"system=pinn: dataset {meta.name!r} has no registered equation")
        self.net_fields = network_fields(self.equation, meta, self.frames)
        for key, value, least in (("steps", steps, 0), ("lbfgs_steps", lbfgs_steps, 0),
                                  ("eval_every", eval_every, 1), ("n_data", n_data, 0),
                                  ("resample_every", resample_every, 0),
                                  ("balance_every", balance_every, 1)):
            if isinstance(value, bool) or int(value) != value or value < least:
                raise ValueError(f"system.{key} must be an integer >= {least}, got {value!r}")
        if steps + lbfgs_steps < 1:
            raise ValueError("system.steps + system.lbfgs_steps must be >= 1")
        if balance not in BALANCES:
            raise ValueError(f"system.balance={balance!r} is unknown; valid: "
                             f"{', '.join(BALANCES)}")
        if balance == "data_scale" and n_data == 0:
            raise ValueError("system.balance=data_scale rescales each physics term to the data "
                             "loss, which needs observed points: set system.n_data > 0")
        if not 0 < balance_alpha <= 1:
            raise ValueError(f"system.balance_alpha must be in (0, 1], got {balance_alpha}")
        self.model = model
        self.optimizer_factory = optimizer
        self.steps, self.lbfgs_steps, self.eval_every = int(steps), int(lbfgs_steps), int(eval_every)
        decay = dict(decay or {})
        self.milestones = [float(m) for m in decay.get("milestones", [])]
        self.gamma = float(decay.get("gamma", 1.0))
        if any(not 0 < m < 1 for m in self.milestones) or not 0 < self.gamma <= 1:
            raise ValueError(f"system.decay: milestones are fractions of the steps in (0, 1) "
                             f"and gamma in (0, 1], got {decay}")
        self.collocation_cfg = dict(collocation or {})
        self.resample_every = int(resample_every)
        rar = dict(rar or {})
        self.rar_every = int(rar.get("every", 0))
        self.rar_candidates = int(rar.get("candidates", 1000))
        self.rar_add = int(rar.get("add", 100))
        if min(self.rar_every, self.rar_candidates, self.rar_add) < 0:
            raise ValueError(f"system.rar values must be >= 0, got {rar}")
        weights = dict(weights or {})
        unknown = sorted(set(weights) - {"equations", "boundary", "initial", "data"})
        if unknown:
            raise ValueError(f"system.weights has unknown keys {unknown}; valid: equations, "
                             "boundary, initial, data")
        eq_w = dict(weights.get("equations") or {})
        bad = sorted(set(eq_w) - set(self.equation.components))
        if bad:
            raise ValueError(f"system.weights.equations names {bad}, which are not components "
                             f"of equation {self.equation.name!r}; valid: "
                             f"{', '.join(self.equation.components)}")
        self.eq_weights = {k: _check_weight(f"weights.equations.{k}", v) for k, v in eq_w.items()}
        bw = weights.get("boundary", 1.0)
        self.bc_weights = ({k: _check_weight(f"weights.boundary.{k}", v) for k, v in bw.items()}
                           if isinstance(bw, Mapping) else _check_weight("weights.boundary", bw))
        self.ic_weight = _check_weight("weights.initial", weights.get("initial", 1.0))
        self.data_weight = _check_weight("weights.data", weights.get("data", 1.0))
        self.balance, self.balance_every = balance, int(balance_every)
        self.balance_alpha = float(balance_alpha)
        self.standardize = bool(standardize)
        self.n_data = int(n_data)
        self.interpolation = interpolation
        self.grad_clip = None if grad_clip is None else _check_weight("grad_clip", grad_clip)
        c = len(self.net_fields)
        self.register_buffer("out_mean", torch.zeros(c))
        self.register_buffer("out_std", torch.ones(c))
        self.register_buffer("lam", torch.ones(0))  # grad_norm weights, set in setup
        # optimiser steps taken (a buffer: it travels in the checkpoint, so a resumed run
        # continues its schedule of resampling, refinement and the switch to L-BFGS)
        self.register_buffer("step_counter", torch.zeros((), dtype=torch.long))
        factories = {**metrics[self.dataset_name],
                     **{n: METRICS.get(n).target for n in PINN_METRICS if n in METRICS}}
        self.val_metrics = FieldMetrics(factories, meta)
        self.test_metrics = FieldMetrics(factories, meta)
        self.instance: ProblemInstance | None = None
        self.physics: PointPhysics | None = None
        self.test_results: dict[str, Any] = {}
        self.val_results: dict[str, float] = {}
        self._points: dict[str, Any] = {}

    # --- the contract ---------------------------------------------------------------------------
    @classmethod
    def model_meta(cls, metas: Mapping[str, DatasetMeta],
                   node: Mapping[str, Any] | None = None) -> DatasetMeta:
        """The point model's shapes: coordinates in, the equation's unknowns out."""
        from pdebench.run import ConfigError

        (name, meta), = metas.items()
        eq, frames = point_equation(meta)
        if eq is None:
            have = datasets_with_equations()
            raise ConfigError(
                f"system=pinn needs the dataset's equation, but data={meta.name} has "
                f"{'no registered equation' if not meta.pde else f'equation {meta.pde!r}'}; "
                f"datasets with one: {', '.join(have)}")
        coords = ("x", "y", "z")[: meta.spatial_dims] + (("t",) if meta.time or frames else ())
        return DatasetMeta(name=meta.name, spatial_dims=meta.spatial_dims,
                           resolution=meta.resolution, extent=meta.extent,
                           input_fields=coords, output_fields=network_fields(eq, meta, frames),
                           pde=meta.pde, grid="points", pde_params=meta.pde_params)

    @classmethod
    def trainer_overrides(cls, node: Mapping[str, Any]) -> dict[str, Any]:
        steps = int(node.get("steps", 2000)) + int(node.get("lbfgs_steps", 0))
        every = max(1, int(node.get("eval_every", 100)))
        return {"max_epochs": max(1, math.ceil(steps / every)), "max_steps": -1,
                "num_sanity_val_steps": 0, "check_val_every_n_epoch": 1,
                "limit_train_batches": None, "gradient_clip_val": None}

    def datamodule(self, datamodules: Mapping[str, L.LightningDataModule]
                   ) -> L.LightningDataModule:
        (dm,) = datamodules.values()
        per_epoch = min(self.eval_every, self.steps + self.lbfgs_steps)
        frames = None
        if self.frames:
            grid_eq = _grid_equation(self.meta)
            pattern = next(u for u in grid_eq.unknowns if u.endswith("*"))
            frames = (pattern, grid_eq.initial, float(self.meta.pde_params["frame_dt"]),
                      self.equation.unknowns[0])
        return InstanceDataModule(dm, per_epoch, self.interpolation, frames)

    def set_normalizers(self, stats: Stats) -> None:
        """Nothing to fit: a PINN sees no training split (output scales: ``standardize``)."""

    def metric_info(self) -> dict[str, dict[str, bool]]:
        return self.test_metrics.info()

    def results(self) -> dict[str, Any]:
        inst = self.instance
        return {**self.test_results, "val_metrics": dict(self.val_results),
                "instance": None if inst is None else inst.index,
                "track": "data_assisted" if self.n_data else "physics", "n_data": self.n_data,
                "pinn": {"sample": None if inst is None else inst.sample,
                         "equation": self.equation.name,
                         "terms": sorted(self.last_terms),
                         "final_loss_terms": dict(self.last_terms),
                         "n_interior": int(len(self._points.get("interior", []))),
                         "steps": self.steps, "lbfgs_steps": self.lbfgs_steps,
                         "standardize": self.standardize, "balance": self.balance,
                         "closed_form": bool(inst is not None and inst.closed is not None)}}

    def predict_fields(self, x: Tensor) -> Tensor:
        """The grid prediction of the instance (``x`` is not used: one problem)."""
        return self.predict_grid()

    # --- set-up -------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        dm = self.trainer.datamodule if self._trainer is not None else None
        if dm is not None and getattr(dm, "instance", None) is not None:
            self.attach(dm.instance)

    def attach(self, instance: ProblemInstance) -> None:
        """Bind the problem: physics at points, output scales, collocation points."""
        if self.instance is instance:
            return
        self.instance = instance
        coeffs = tuple(instance.coefficients) + self._closed_names(instance)
        self.physics = PointPhysics(self.equation, self.meta.pde_params,
                                    instance.spatial_dims, instance.time_dependent, coeffs)
        self.physics.set_extent(instance.extent)
        ext = torch.tensor(instance.extent, dtype=torch.float64)
        self.lo, self.hi = ext[:, 0], ext[:, 1]
        if self.standardize:
            ref = instance.reference
            per = ref.movedim(-instance.spatial_dims - 1, 0).reshape(ref.shape[
                -instance.spatial_dims - 1], -1)
            for i, f in enumerate(instance.fields):
                if f in self.net_fields:
                    k = self.net_fields.index(f)
                    self.out_mean[k] = per[i].mean().float()
                    self.out_std[k] = per[i].std().clamp_min(1e-8).float()
        cfg = dict(self.collocation_cfg)
        self.colloc = Collocation(
            [instance.extent[k] for k in range(instance.spatial_dims)],
            time=instance.extent[-1] if instance.time_dependent else None, **cfg)
        self._draw(seed=0)
        if self.n_data:
            self._observe()
        if self.balance == "grad_norm" and self.lam.numel() == 0:
            self.lam = torch.ones(len(self._balanced_names()), device=self.out_mean.device)

    @property
    def _scored(self) -> list[int]:
        """Network channels of the instance's (reference) fields, in the reference's order."""
        return [self.net_fields.index(f) for f in self.instance.fields]

    @staticmethod
    def _closed_names(instance: ProblemInstance) -> tuple[str, ...]:
        if instance.closed is None:
            return ()
        probe = torch.tensor([[0.5] * len(instance.extent)], dtype=torch.float64)
        return tuple(instance.closed(probe))

    def _draw(self, seed: int) -> None:
        """Draw collocation points and evaluate the instance's data at them."""
        inst, phys = self.instance, self.physics
        pts = self.colloc.sample(seed, sides=phys.walls())
        interior = self._keep_domain(torch.from_numpy(pts.interior))
        walls = {s: torch.from_numpy(p) for s, p in pts.walls.items()}
        refs = {}
        ref_fields = tuple(f for f, sides in phys.boundary.items() if f in inst.fields
                           and any(bc.value == "reference" for bc in sides.values()))
        if ref_fields:
            refs = {s: inst.reference_at(p, ref_fields) for s, p in walls.items() if len(p)}
        new = {"interior": interior, "coeffs": inst.coefficients_at(interior,
                                                                    phys.coefficients),
               "walls": walls, "wall_ref": refs}
        known = tuple(f for f in self.equation.unknowns if f in inst.fields)
        if pts.initial is not None and known:
            init = self._keep_domain(torch.from_numpy(pts.initial))
            new["initial"] = init
            new["initial_ref"] = inst.reference_at(init, known)
        if "data" in self._points:
            new["data"], new["data_ref"] = self._points["data"], self._points["data_ref"]
        self._points = new

    def _keep_domain(self, pts: Tensor) -> Tensor:
        """Points inside a masked domain (the equation's ``domain``), others dropped."""
        dom = self.equation.domain
        if dom is None:
            return pts
        inst = self.instance
        if isinstance(dom, str):
            mask = inst.coefficients_at(pts, (dom,))[dom] > 0.5
        else:
            fields = {"x": pts[:, 0], **({"y": pts[:, 1]} if pts.shape[1] > 1 else {})}
            fields.update(inst.coefficients_at(pts))
            mask = dom(fields, self.meta.pde_params).reshape(-1).bool()
        if not bool(mask.any()):
            raise ValueError(f"no collocation point falls inside the domain of dataset "
                             f"{self.meta.name!r} (its {dom if isinstance(dom, str) else 'domain'}"
                             " mask is empty here)")
        return pts[mask]

    def _observe(self) -> None:
        """``n_data`` observed points: random reference grid values (seeded)."""
        inst = self.instance
        grid, ref = inst.grid_points(), inst.grid_values()
        n = min(self.n_data, len(grid))
        pick = torch.from_numpy(np.random.default_rng(12345).choice(len(grid), n, replace=False))
        self._points["data"] = grid[pick]
        self._points["data_ref"] = ref[pick]

    # --- the network as physical fields ----------------------------------------------------
    def _scaled(self, pts: Tensor) -> Tensor:
        lo, hi = self.lo.to(pts), self.hi.to(pts)
        return 2.0 * (pts - lo) / (hi - lo) - 1.0

    def field_values(self, pts: Tensor) -> Tensor:
        """Physical fields ``(N, C)`` at points ``(N, D[+1])`` (differentiable in ``pts``)."""
        out = self.model(self._scaled(pts).to(self.out_mean.dtype))
        return out * self.out_std + self.out_mean

    def _net(self, pts: Tensor) -> dict[str, Tensor]:
        out = self.field_values(pts).to(pts.dtype) if pts.dtype != self.out_mean.dtype \
            else self.field_values(pts)
        return {f: out[:, i] for i, f in enumerate(self.net_fields)}

    def _dev(self, t: Any) -> Any:
        if isinstance(t, Tensor):
            return t.to(device=self.out_mean.device, dtype=self.out_mean.dtype)
        if isinstance(t, Mapping):
            return {k: self._dev(v) for k, v in t.items()}
        return t

    def loss_terms(self) -> dict[str, Tensor]:
        """Every loss term, unweighted (``pde/*``, ``bc/*``, ``periodic/*``, ``ic/*``,
        ``data``)."""
        p, phys = self._points, self.physics
        terms = phys.interior_terms(self._net, self._dev(p["interior"]), self._dev(p["coeffs"]))
        terms.update(phys.boundary_terms(self._net, self._dev(p["walls"]),
                                         self._dev(p["wall_ref"])))
        if "initial" in p:
            terms.update(phys.initial_terms(self._net, self._dev(p["initial"]),
                                            self._dev(p["initial_ref"])))
        if "data" in p:
            idx = self._scored
            pred = self.field_values(self._dev(p["data"]))[:, idx]
            z = (pred - self._dev(p["data_ref"])) / self.out_std[idx]
            terms["data"] = z.square().mean()
        return terms

    def _weight(self, name: str) -> float:
        kind, _, what = name.partition("/")
        if kind == "pde":
            return self.eq_weights.get(what, 1.0)
        if kind in ("bc", "periodic", "gauge"):
            return (self.bc_weights.get(what, 1.0) if isinstance(self.bc_weights, dict)
                    else self.bc_weights)
        if kind == "ic":
            return self.ic_weight
        return self.data_weight

    def _balanced_names(self) -> list[str]:
        """Terms the grad-norm scheme re-weights (all but the equations)."""
        names = self.physics.term_names(has_initial="initial" in self._points)
        names += ["data"] if self.n_data else []
        return [n for n in names if not n.startswith("pde/")]

    def combine(self, terms: Mapping[str, Tensor]) -> Tensor:
        """The weighted total of the terms under the balancing scheme."""
        total = torch.zeros((), device=self.out_mean.device, dtype=self.out_mean.dtype)
        balanced = self._balanced_names() if self.balance == "grad_norm" else []
        for name, value in terms.items():
            w = self._weight(name)
            if self.balance == "data_scale" and name != "data":
                value = value * (terms["data"].detach() / value.detach().clamp_min(1e-30))
            if name in balanced:
                w = w * float(self.lam[balanced.index(name)])
            total = total + w * value
        return total

    def _update_balance(self, terms: Mapping[str, Tensor]) -> None:
        """Learning-rate annealing: lambda_i <- (1-a) lambda_i + a max|g_pde| / mean|g_i|."""
        params = [p for p in self.model.parameters() if p.requires_grad]

        def grads(loss: Tensor) -> Tensor:
            g = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
            return torch.cat([x.reshape(-1).abs() for x in g if x is not None])

        pde = sum(self._weight(n) * v for n, v in terms.items() if n.startswith("pde/"))
        g_max = grads(pde).max()
        for i, name in enumerate(self._balanced_names()):
            if name in terms:
                hat = g_max / grads(self._weight(name) * terms[name]).mean().clamp_min(1e-30)
                self.lam[i] = (1 - self.balance_alpha) * self.lam[i] + self.balance_alpha * hat

    # --- training -----------------------------------------------------------------------------
    def _check(self, terms: Mapping[str, Tensor], total: Tensor) -> None:
        """Stop on a non-finite loss, naming the terms. One device sync per step: the terms are
        non-negative and the weights finite and >= 0, so the total is finite iff every term is."""
        if bool(torch.isfinite(total)):
            return
        bad = [n for n, v in terms.items() if not torch.isfinite(v)]
        if bad or not torch.isfinite(total):
            what = ", ".join(f"{n} = {float(terms[n])}" for n in bad) or f"total = {total}"
            raise NonFiniteLossError(
                f"PINN loss diverged at step {self._opt_steps}: {what}; lower the learning "
                "rate (system.optimizer.lr), clip gradients (system.grad_clip) or re-weight "
                "that term (system.weights)")

    def _refresh_points(self, step: int) -> None:
        if self.resample_every and step and step % self.resample_every == 0:
            self._draw(seed=step)
        if self.rar_every and step and step % self.rar_every == 0:
            cand = self._keep_domain(torch.from_numpy(self.colloc.candidates(
                self.rar_candidates, seed=10_000 + step)))
            coeffs = self.instance.coefficients_at(cand, self.physics.coefficients)
            res = self.physics.residuals(self._net, self._dev(cand), self._dev(coeffs))
            score = sum(r.detach().abs() for r in res.values()).cpu()
            top = torch.topk(score, min(self.rar_add, len(score))).indices
            p = self._points
            p["interior"] = torch.cat([p["interior"], cand[top]])
            p["coeffs"] = {k: torch.cat([v, coeffs[k][top]]) for k, v in p["coeffs"].items()}

    def training_step(self, batch: Tensor, batch_idx: int) -> Tensor | None:
        step = self._opt_steps
        if step >= self.steps + self.lbfgs_steps:  # the last epoch's steps past the budget
            return None
        self._refresh_points(step)
        opts = self.optimizers()
        adam, *rest = opts if isinstance(opts, list) else [opts]
        if step < self.steps:
            opt = adam
            opt.zero_grad()
            terms = self.loss_terms()
            if self.balance == "grad_norm" and step % self.balance_every == 0:
                self._update_balance(terms)
            total = self.combine(terms)
            self._check(terms, total)
            self.manual_backward(total)
            if self.grad_clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            opt.step()
            sched = self.lr_schedulers()
            if sched is not None:
                sched.step()
        else:
            opt = rest[0]
            holder: dict[str, Any] = {}

            def closure() -> Tensor:
                opt.zero_grad()
                t = self.loss_terms()
                tot = self.combine(t)
                self._check(t, tot)
                self.manual_backward(tot)
                holder["terms"], holder["total"] = t, tot
                return tot

            opt.step(closure)
            terms, total = holder["terms"], holder["total"]
        self._opt_steps += 1
        self._last_terms = {k: v.detach() for k, v in terms.items()}  # no sync: floats at the end
        # on the steps the logger writes (log_every_n_steps) and the last of each epoch (the
        # progress line): a Lightning log call costs ~0.5 ms, more than a small problem's step
        every = max(1, int(getattr(self.trainer, "log_every_n_steps", 10) or 10))
        if step % every == 0 or batch_idx == self.trainer.num_training_batches - 1:
            self.log("train/loss", total.detach(), prog_bar=True, batch_size=1)
            for name, value in terms.items():
                self.log(f"train/{name}", value.detach(), batch_size=1)
        return total.detach()

    @property
    def last_terms(self) -> dict[str, float]:
        """The unweighted loss terms of the last step, as numbers."""
        return {k: float(v) for k, v in getattr(self, "_last_terms", {}).items()}

    @property
    def _opt_steps(self) -> int:
        return int(self.step_counter)

    @_opt_steps.setter
    def _opt_steps(self, value: int) -> None:
        self.step_counter.fill_(value)

    def on_fit_start(self) -> None:
        if self.instance is None:
            raise RuntimeError("PINNSystem: no problem instance attached (the datamodule must "
                               "be an InstanceDataModule)")

    def configure_optimizers(self) -> Any:
        adam = self.optimizer_factory(self.model.parameters())
        milestones = sorted({max(1, int(m * self.steps)) for m in self.milestones})
        sched = torch.optim.lr_scheduler.MultiStepLR(adam, milestones, self.gamma)
        if not self.lbfgs_steps:
            return {"optimizer": adam, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        lbfgs = torch.optim.LBFGS(self.model.parameters(), lr=1.0, max_iter=1,
                                  history_size=50, line_search_fn="strong_wolfe")
        return [adam, lbfgs], [{"scheduler": sched, "interval": "step"}]

    # --- evaluation ---------------------------------------------------------------------------
    @torch.no_grad()
    def predict_grid(self) -> Tensor:
        """The prediction on the instance's scored grid, metrics layout, physical units."""
        pts = self.instance.grid_points()
        idx = self._scored
        out = [self.field_values(self._dev(pts[i:i + _EVAL_CHUNK]))[:, idx].float().cpu()
               for i in range(0, len(pts), _EVAL_CHUNK)]
        return self.instance.to_grid(torch.cat(out))

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        pred = self.predict_grid().to(batch["y"])
        self.val_metrics.update(pred, batch["y"], batch["x"])

    def on_validation_epoch_end(self) -> None:
        self.log_validation(self.val_metrics, headline="pinn/l2re")

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        t0 = time.perf_counter()
        pred = self.predict_grid().to(batch["y"])
        self._infer = time.perf_counter() - t0
        self.test_metrics.update(pred, batch["y"], batch["x"])

    def on_test_epoch_end(self) -> None:
        self.test_results = {
            **self.test_report(self.test_metrics),
            "inference_time_per_sample_s": getattr(self, "_infer", 0.0),
        }

    def write_figures(self, datamodules: Mapping[str, Any], run_dir, record: dict[str, Any]
                      ) -> None:
        """``solution.png``: reference, prediction and error of each field on the instance."""
        from pdebench.plots import plot_instance

        self.eval()
        batch = self.instance.eval_batch()
        title = (f"{record['model']} on {record['dataset']} instance {self.instance.index} "
                 f"(seed {record['seed']}): l2re "
                 f"{record['metrics'].get('pinn/l2re', float('nan')):.3g}")
        ref, pred = batch["y"][0], self.predict_grid()[0]
        if self.instance.frames_as_channels:  # (T, X) -> one space-time field (1, X, T)
            ref, pred = ref.T.unsqueeze(0), pred.T.unsqueeze(0)
        plot_instance(ref, pred, self.instance.fields, self.instance.time_dependent,
                      run_dir / "solution.png", title)

