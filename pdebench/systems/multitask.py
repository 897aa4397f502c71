"""Multi-task learning: several tasks (datasets, or variants of one dataset) train one shared
model in one run (the multi-task DeepONet protocol, ``specs/STUDIES.md`` section 2).

A run names its tasks as datasets::

    python -m pdebench system=multitask model=fno \\
        +data@datasets.form1=fisher_kpp datasets.form1.forms=[1] \\
        +data@datasets.form2=fisher_kpp datasets.form2.forms=[2]

Each task is an :class:`~pdebench.systems.operator.OperatorSystem` on its own dataset that holds
the shared model (composition: the loss, its normalisation, the physics term, the masks and the
metrics are the operator system's, never copied); this module adds the per-task batches, the
weighted loss, the normaliser choice and the per-task reporting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from pdebench.data.meta import DatasetMeta
from pdebench.systems.base import MetricFactories, Stats, System, check_finite_loss
from pdebench.systems.operator import OperatorSystem

__all__ = ["NORMALIZE", "MultiTaskSystem", "TaskFieldsError", "mean_over_tasks", "mixture_stats"]

#: Values of ``system.normalize``.
NORMALIZE = ("shared", "per_task")


class TaskFieldsError(ValueError):
    """The tasks of a multi-task run do not share one set of fields and one grid."""


def mixture_stats(stats: Mapping[str, tuple[torch.Tensor, torch.Tensor]]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of the equal-weight mixture of the tasks' training splits.

    With task means ``m_t`` and stds ``s_t`` over ``n`` tasks::

        mean = (1/n) sum_t m_t,    var = (1/n) sum_t (s_t^2 + m_t^2) - mean^2

    Equal weights match what training sees: every step takes one batch of every task
    (``max_size_cycle``), whatever the tasks' sizes.

    Parameters
    ----------
    stats : mapping task -> (mean (C,), std (C,))

    Returns
    -------
    (Tensor (C,), Tensor (C,))
    """
    means = torch.stack([m.to(torch.float64) for m, _ in stats.values()])
    stds = torch.stack([s.to(torch.float64) for _, s in stats.values()])
    mean = means.mean(0)
    var = (stds ** 2 + means ** 2).mean(0) - mean ** 2
    return mean.float(), var.clamp_min(0.0).sqrt().float()


def mean_over_tasks(per_task: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """``{metric: mean over tasks}`` (each task counts once, whatever its test size) of the
    metrics every task reports; a metric some task lacks stays in the per-task values only."""
    tables = list(per_task.values())
    if not tables:
        return {}
    names = [k for k in tables[0] if all(k in t for t in tables)]
    return {k: math.fsum(t[k] for t in tables) / len(tables) for k in names}


class MultiTaskSystem(System):
    """One model trained on several tasks at once; metrics per task and their mean.

    Training: every step takes one batch of every task (``{task: batch}``, Lightning's
    ``CombinedLoader`` in ``max_size_cycle`` mode: an epoch lasts as long as the largest task's
    loader, smaller tasks cycle, so each task weighs the same per step whatever its size) and
    minimises ``loss = sum_t w_t L_t``, ``L_t`` the operator system's training loss of task ``t``
    (``system.loss``, plus the physics term with ``physics_weight > 0``; masked cells excluded
    as the operator system excludes them) and ``w_t = system.task_weights[t]`` (default 1).

    Validation and test: each task's split is scored by its own metric suite
    (:class:`~pdebench.metrics.collection.FieldMetrics`, physical fields). The run's ``metrics``
    (and ``val/<metric>``, so the checkpoint is selected on ``val/pdebench/nrmse`` = the mean over
    tasks) are the unweighted **mean over tasks** of each metric; ``metrics_per_task``,
    ``metrics_per_task_field`` and ``val_metrics_per_task`` keep every task's own values.

    Parameters
    ----------
    model : nn.Module
        The shared model, (batch, C_in, *spatial) -> (batch, C_out, *spatial).
    metas : mapping task -> DatasetMeta
        The tasks (one or more; one task is allowed and trains exactly like
        ``system=operator``, with the multi-task record keys: a single-task baseline in the same
        paradigm).
    metrics : mapping task -> (mapping metric name -> factory(meta) -> Metric)
    optimizer, scheduler, loss, physics_weight
        As :class:`~pdebench.systems.operator.OperatorSystem` (one optimiser over the shared
        model; the loss and physics term are every task's).
    normalize : {"shared", "per_task"}
        ``"shared"`` (default): one normaliser for all tasks, the equal-weight mixture of the
        tasks' training-split statistics (:func:`mixture_stats`). One model then sees one input
        coordinate system: what tells the tasks apart (a source term's coefficients constant
        within a task, a scale) survives normalisation. ``"per_task"``: each task is normalised
        with its own training statistics (inputs and outputs); a channel constant within a task
        then becomes 0 for every task, so the model can no longer tell such tasks apart.
    task_weights : mapping task -> float, optional
        ``w_t >= 0`` of the loss (tasks left out weigh 1); not all zero.

    Raises
    ------
    ValueError
        An unknown ``normalize``, a ``task_weights`` entry naming no task or not a finite
        number >= 0, all weights zero; the operator system's errors (``loss``,
        ``physics_weight``).
    """

    n_datasets = None

    def __init__(self, model: nn.Module, metas: Mapping[str, DatasetMeta],
                 metrics: MetricFactories, optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: Callable[..., Any] | None = None, loss: str = "rel_l2",
                 physics_weight: float = 0.0, normalize: str = "shared",
                 task_weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        if normalize not in NORMALIZE:
            raise ValueError(f"system.normalize={normalize!r} is unknown; valid: "
                             f"{', '.join(NORMALIZE)}")
        self.names = list(metas)
        self.normalize = normalize
        self.weights = _task_weights(task_weights, self.names)
        self.model = model
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.loss_name = loss
        #: One operator system per task, all holding ``model`` (its normalisers and metrics are
        #: the task's own).
        self.tasks = nn.ModuleDict({
            name: OperatorSystem(model=model, metas={name: meta}, metrics={name: metrics[name]},
                                 optimizer=optimizer, loss=loss, physics_weight=physics_weight)
            for name, meta in metas.items()})
        self.test_results: dict[str, Any] = {}
        self.val_results: dict[str, float] = {}
        self.val_results_per_task: dict[str, dict[str, float]] = {}
        self._val_loss: dict[str, list[float]] = {}

    # --- building -------------------------------------------------------------------------
    @classmethod
    def model_meta(cls, metas: Mapping[str, DatasetMeta],
                   node: Mapping[str, Any] | None = None) -> DatasetMeta:
        """The first task's meta, once every task has the same output fields, input fields and
        grid (one model takes one set).

        Raises
        ------
        TaskFieldsError
            Naming the tasks (``datasets.<task>``) that differ and their fields (or grids).
        """
        checks = (("output fields", lambda m: list(m.output_fields)),
                  ("input fields", lambda m: list(m.input_fields)),
                  ("grid (spatial dims, resolution)",
                   lambda m: f"{m.spatial_dims}D {tuple(m.resolution)}"))
        for what, get in checks:
            values = {name: get(meta) for name, meta in metas.items()}
            if len({repr(v) for v in values.values()}) > 1:
                listed = "; ".join(f"datasets.{n} ({metas[n].name}): {v}"
                                   for n, v in values.items())
                raise TaskFieldsError(
                    f"system=multitask trains one shared model, which needs one set of {what} "
                    f"for every task, but the tasks differ: {listed}. Choose tasks with the "
                    f"same {what} (e.g. variants of one dataset), or train them in separate runs")
        return next(iter(metas.values()))

    @classmethod
    def datamodule(cls, datamodules: Mapping[str, Any]) -> Any:
        """Always :class:`~pdebench.data.module.NamedDataModules` (also for one task): training
        batches are ``{task: batch}``, evaluation batches come task after task."""
        from pdebench.data.module import NamedDataModules

        return NamedDataModules(datamodules)

    def set_normalizers(self, stats: Stats) -> None:
        """Each task's own statistics (``per_task``), or their equal-weight mixture (``shared``)
        given to every task through the operator system's own ``set_normalizers``."""
        if self.normalize == "shared":
            pooled = {key: mixture_stats({n: stats[n][key] for n in self.names})
                      for key in ("x", "y")}
            stats = {n: pooled for n in self.names}
        for name, task in self.tasks.items():
            task.set_normalizers({name: stats[name]})

    # --- contract ---------------------------------------------------------------------------
    def metric_info(self) -> dict[str, dict[str, bool]]:
        info: dict[str, dict[str, bool]] = {}
        for task in self.tasks.values():
            info.update(task.test_metrics.info())
        return info

    def results(self) -> dict[str, Any]:
        return {**self.test_results, "val_metrics": dict(self.val_results),
                "val_metrics_per_task": {t: dict(d) for t, d in self.val_results_per_task.items()}}

    def predict_fields(self, x: torch.Tensor) -> torch.Tensor:
        """The first task's physical prediction (:meth:`write_figures` draws every task)."""
        return self.tasks[self.names[0]](x)

    def write_figures(self, datamodules: Mapping[str, Any], run_dir: Any,
                      record: Mapping[str, Any]) -> None:
        """``predictions_<task>.png`` per task: three of its test samples, their targets, the
        shared model's predictions (through the task's normalisers) and errors (2D data only)."""
        from torch.utils.data import default_collate

        from pdebench.plots import plot_predictions

        self.eval()
        per_task = record.get("metrics_per_task") or {}
        for name, datamodule in datamodules.items():
            test = datamodule.indices["test"][:3]
            batch = default_collate([datamodule.dataset[int(i)] for i in test])
            with torch.no_grad():
                pred = self.tasks[name](batch["x"].to(self.device)).cpu()
            nrmse = per_task.get(name, {}).get("pdebench/nrmse", float("nan"))
            title = (f"{record['model']} (multi-task) on task {name} ({datamodule.meta.name}, "
                     f"seed {record['seed']}): test pdebench/nrmse {nrmse:.4g}")
            plot_predictions(batch["x"], batch["y"], pred, datamodule.meta,
                             run_dir / f"predictions_{name}.png", title)

    # --- training ---------------------------------------------------------------------------
    def training_losses(self, batch: Mapping[str, Mapping[str, torch.Tensor]]
                        ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The weighted loss of one ``{task: batch}`` step and each task's loss.

        Returns
        -------
        (Tensor (), dict task -> Tensor ())
            ``sum_t w_t L_t`` over the tasks in ``batch``, and ``L_t``.
        """
        parts = {}
        for name, sub in batch.items():
            task_loss, terms = self.tasks[name].training_losses(sub)
            for term, value in terms.items():
                check_finite_loss(value, self, f"task {name!r}: "
                                  + self.tasks[name]._nonfinite_hint(term))
            parts[name] = task_loss
        total = sum(self.weights[n] * v for n, v in parts.items())
        return total, parts

    def training_step(self, batch: Mapping[str, Mapping[str, torch.Tensor]],
                      batch_idx: int) -> torch.Tensor:
        loss, parts = self.training_losses(batch)
        check_finite_loss(loss, self, "the weighted sum of the task losses overflowed: lower "
                                      "system.task_weights or the learning rate")
        size = sum(sub["x"].shape[0] for sub in batch.values())
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        for name, value in parts.items():
            self.log(f"train/{name}/loss", value.detach(), batch_size=batch[name]["x"].shape[0])
        return loss

    # --- evaluation -------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self._val_loss = {n: [] for n in self.names}

    def validation_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int,
                        dataloader_idx: int = 0) -> None:
        name = self.names[dataloader_idx]
        task = self.tasks[name]
        out = self.model(task.x_norm.encode(batch["x"]))
        n = batch["x"].shape[0]
        # the operator's loss over the cells inside the task's geometry mask (if any)
        self._val_loss[name].append((float(task._loss(out, batch["y"], batch["x"])) * n, n))
        task.val_metrics.update(task.y_norm.decode(out), batch["y"], batch["x"])

    def on_validation_epoch_end(self) -> None:
        per_task = {}
        for name, task in self.tasks.items():
            overall, _ = task.val_metrics.compute_and_reset()
            per_task[name] = {k: float(v) for k, v in overall.items()}
        mean = mean_over_tasks(per_task)
        losses = {n: sum(s for s, _ in v) / sum(c for _, c in v)
                  for n, v in self._val_loss.items() if v}
        if losses:
            self.log("val/loss", sum(losses.values()) / len(losses), prog_bar=True,
                     sync_dist=True)
        for name, value in losses.items():
            self.log(f"val/{name}/loss", value, sync_dist=True)
        for name, value in mean.items():
            self.log(f"val/{name}", value, prog_bar=name == "pdebench/nrmse", sync_dist=True)
        for task, values in per_task.items():
            for name, value in values.items():
                self.log(f"val/{task}/{name}", value, sync_dist=True)
        self.val_results = mean
        self.val_results_per_task = per_task

    def test_step(self, batch: Mapping[str, torch.Tensor], batch_idx: int,
                  dataloader_idx: int = 0) -> None:
        task = self.tasks[self.names[dataloader_idx]]
        pred = self.timed_predict(task, batch["x"])
        task.test_metrics.update(pred, batch["y"], batch["x"])

    def on_test_epoch_end(self) -> None:
        per_task: dict[str, dict[str, float]] = {}
        per_task_field: dict[str, dict[str, dict[str, float]]] = {}
        for name, task in self.tasks.items():
            overall, per_field = task.test_metrics.compute_and_reset()
            per_task[name] = {k: float(v) for k, v in overall.items()}
            per_task_field[name] = {f: {k: float(v) for k, v in d.items()}
                                    for f, d in per_field.items()}
        mean = mean_over_tasks(per_task)
        for name, value in mean.items():
            self.log(f"test/{name}", value, sync_dist=True)
        fields = list(next(iter(per_task_field.values())))
        self.test_results = {
            "metrics": mean,
            "metrics_per_field": {f: mean_over_tasks({t: d[f] for t, d in per_task_field.items()})
                                  for f in fields},
            "metrics_per_task": per_task,
            "metrics_per_task_field": per_task_field,
            "inference_time_per_sample_s": self.inference_time_per_sample(),
        }

    def configure_optimizers(self) -> Any:
        return self.scheduler_config(self.optimizer_factory(self.model.parameters()),
                                     self.scheduler_factory)


def _task_weights(weights: Mapping[str, float] | None, names: list[str]) -> dict[str, float]:
    """``system.task_weights`` checked against the task names; tasks left out weigh 1."""
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"system.task_weights names {unknown}, which are not tasks of this run; "
                         f"the tasks are {names} (the names of datasets.<task>)")
    out = {}
    for name in names:
        w = weights.get(name, 1.0)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) \
                or w < 0:
            raise ValueError(f"system.task_weights.{name}={w!r}: must be a finite number >= 0")
        out[name] = float(w)
    if not any(out.values()):
        raise ValueError(f"system.task_weights are all zero ({out}): at least one task must "
                         "have a weight > 0")
    return out
