"""The system contract: everything :func:`pdebench.run.run` uses of a training paradigm.

A system is a LightningModule (a training paradigm: supervised operator learning, rollouts,
physics-informed training, multi-task, sim-to-real ...). ``run.py`` knows only this class; a new
paradigm subclasses it, fills the declared hooks and registers itself
(``api.register_system(name, cls, ...)``), and then works from the command line
(``system=<name>``), in sweeps and in the leaderboard.

What a run does with a system, in order:

1. :meth:`System.check_datasets` with the datasets the config names (``data=...``, or several
   under ``datasets.<name>=...``): a system that takes one dataset refuses two, naming them.
2. :meth:`System.model_meta`: the :class:`DatasetMeta` the model's shapes come from.
3. :meth:`System.from_config`: build it from its config node, the model, the datasets' metas and
   each dataset's metric factories.
4. :meth:`System.datamodule` (called on the built system): the LightningDataModule the trainer
   iterates (one dataset's own, a combination of several, or a paradigm's own view of them: a
   PINN's step budget and problem instance).
5. :meth:`System.set_normalizers` with each dataset's training-split statistics (saved in the
   checkpoint as buffers).
6. :attr:`System.identity` is set (model, datasets, system, config hash): stored in every
   checkpoint and checked when a run resumes or loads one.
7. ``trainer.fit`` / ``trainer.test``; then :meth:`System.metric_info` (which metrics are better
   high) and :meth:`System.results` (what the run reports: test metrics overall and per field,
   best validation metrics, inference time per sample) go into ``result.json``.
8. :meth:`System.predict_fields` draws the figures (physical prediction of a batch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import lightning as L
import torch
from torch import nn

from pdebench.data.meta import DatasetMeta

__all__ = ["DatasetCountError", "NonFiniteLossError", "System", "check_finite_loss"]

#: Per dataset name: metric name -> factory(meta) -> torchmetrics.Metric.
MetricFactories = Mapping[str, Mapping[str, Callable[[DatasetMeta], Any]]]
#: Per dataset name: {"x": (mean, std), "y": (mean, std)} of the training split.
Stats = Mapping[str, Mapping[str, tuple[torch.Tensor, torch.Tensor]]]


class DatasetCountError(ValueError):
    """The config names more (or fewer) datasets than the system trains on."""


class NonFiniteLossError(FloatingPointError):
    """Training produced NaN or inf."""


def check_finite_loss(loss: torch.Tensor, module: L.LightningModule, hint: str) -> None:
    """Raise :class:`NonFiniteLossError` naming the epoch, the step and ``hint``."""
    if not torch.isfinite(loss):
        raise NonFiniteLossError(
            f"training loss is {loss.item()} at epoch {module.current_epoch}, step "
            f"{module.global_step}: {hint}")


class System(L.LightningModule):
    """Base class of every training paradigm (see the module docstring for the run's order).

    Class attributes
    ----------------
    n_datasets : int or None
        How many datasets the paradigm trains on: an exact number, or ``None`` for one or more
        (named: multi-task, sim-to-real).
    """

    n_datasets: ClassVar[int | None] = 1
    #: Test the checkpoint best on the validation metric (``checkpoint.monitor``); ``False``
    #: tests the final weights (a PINN's "validation" is its test reference: never select on it).
    select_best: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.identity: dict[str, Any] = {}
        self._infer_time = 0.0
        self._infer_samples = 0

    # --- building -------------------------------------------------------------------------
    @classmethod
    def check_datasets(cls, names: list[str], system_name: str) -> None:
        """Refuse a config naming the wrong number of datasets (``names`` in config order)."""
        if cls.n_datasets is not None and len(names) != cls.n_datasets:
            from pdebench.registry import SYSTEMS

            several = [e.name for e in SYSTEMS.entries()
                       if getattr(e.target, "n_datasets", 1) != 1]
            listed = ", ".join(names)
            raise DatasetCountError(
                f"system={system_name} trains on {cls.n_datasets} dataset(s), but the config "
                f"names {len(names)} ({listed}); use one data=NAME, or a system that takes "
                f"several: {', '.join(several) or '(none registered)'}")

    @classmethod
    def model_meta(cls, metas: Mapping[str, DatasetMeta],
                   node: Mapping[str, Any] | None = None) -> DatasetMeta:
        """The dataset facts the model is shaped by (default: the single dataset's, or the first
        one's when all datasets agree on channels, dimensions and resolution). ``node`` is the
        system's config node (plain values), for paradigms whose options shape the model (the
        rollout's frames out per step)."""
        first = next(iter(metas.values()))
        for name, meta in metas.items():
            if (meta.input_fields, meta.output_fields, meta.resolution) != (
                    first.input_fields, first.output_fields, first.resolution):
                raise ValueError(
                    f"datasets {list(metas)[0]!r} and {name!r} differ in fields or resolution "
                    f"({first.input_fields} -> {first.output_fields} at {first.resolution} vs "
                    f"{meta.input_fields} -> {meta.output_fields} at {meta.resolution}); one "
                    f"model cannot take both: override {cls.__name__}.model_meta")
        return first

    @classmethod
    def from_config(cls, node: Mapping[str, Any], *, model: nn.Module,
                    metas: Mapping[str, DatasetMeta], metrics: MetricFactories) -> System:
        """Build the system from its config node (without ``name``; ``_target_`` objects such
        as the optimiser already instantiated as ``_partial_`` callables)."""
        kwargs = {k: v for k, v in node.items() if k != "_target_"}
        return cls(model=model, metas=metas, metrics=metrics, **kwargs)

    @classmethod
    def datamodule(cls, datamodules: Mapping[str, L.LightningDataModule]
                   ) -> L.LightningDataModule:
        """The LightningDataModule the trainer iterates (default: the single dataset's own)."""
        if len(datamodules) != 1:
            from pdebench.data.module import NamedDataModules

            return NamedDataModules(datamodules)
        return next(iter(datamodules.values()))

    @classmethod
    def trainer_overrides(cls, node: Mapping[str, Any]) -> dict[str, Any]:
        """``lightning.Trainer`` arguments the paradigm fixes from its own config node (e.g. a
        PINN's epochs from its step budget); default none."""
        return {}

    # --- the hooks run.py calls ----------------------------------------------------------
    def set_normalizers(self, stats: Stats) -> None:
        """Take each dataset's training-split statistics (before training)."""
        raise NotImplementedError

    def metric_info(self) -> dict[str, dict[str, bool]]:
        """``{metric name: {"higher_is_better": bool}}`` for every reported metric."""
        raise NotImplementedError

    def results(self) -> dict[str, Any]:
        """What the run reports after ``trainer.test``: ``metrics`` (name -> float),
        ``metrics_per_field`` (field -> name -> float), ``val_metrics`` (the validation metrics
        of the checkpoint evaluated) and ``inference_time_per_sample_s``."""
        raise NotImplementedError

    def predict_fields(self, x: torch.Tensor) -> torch.Tensor:
        """Physical prediction for a physical input batch ``x`` (figures)."""
        raise NotImplementedError

    def write_figures(self, datamodules: Mapping[str, Any], run_dir: Any,
                      record: Mapping[str, Any]) -> None:
        """Figures of the tested model in ``run_dir`` (default ``predictions.png``: three test
        samples of the first dataset, their targets, predictions and errors; 2D data only)."""
        from torch.utils.data import default_collate

        from pdebench.plots import plot_predictions

        datamodule = next(iter(datamodules.values()))
        test = datamodule.indices["test"][:3]
        batch = default_collate([datamodule.dataset[int(i)] for i in test])
        self.eval()
        with torch.no_grad():
            pred = self.predict_fields(batch["x"].to(self.device)).cpu()
        title = (f"{record['model']} on {record['dataset']} (seed {record['seed']}): test "
                 f"pdebench/nrmse "
                 f"{record['metrics'].get('pdebench/nrmse', float('nan')):.4g}")
        plot_predictions(batch["x"], batch["y"], pred, datamodule.meta,
                         run_dir / "predictions.png", title)

    # --- shared behaviour ----------------------------------------------------------------
    def on_test_epoch_start(self) -> None:
        self._infer_time = 0.0
        self._infer_samples = 0

    def timed_predict(self, predict: Callable[[torch.Tensor], torch.Tensor],
                      x: torch.Tensor) -> torch.Tensor:
        """``predict(x)``, its wall time (CUDA synchronised on both sides) and batch size added
        to the test split's inference clock (reset by :meth:`on_test_epoch_start`)."""
        if x.is_cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        pred = predict(x)
        if pred.is_cuda:
            torch.cuda.synchronize()
        self._infer_time += time.perf_counter() - t0
        self._infer_samples += x.shape[0]
        return pred

    def log_validation(self, metrics: Any, headline: str = "pdebench/nrmse") -> None:
        """Compute and reset ``metrics`` (a FieldMetrics), log each as ``val/<name>`` (the
        ``headline`` on the progress bar) and keep them in ``val_results``."""
        overall, _ = metrics.compute_and_reset()
        for name, value in overall.items():
            # already reduced over ranks by torchmetrics: syncing identical values is a no-op
            # that keeps Lightning's distributed checks quiet
            self.log(f"val/{name}", value, prog_bar=name == headline, sync_dist=True)
        self.val_results = {k: float(v) for k, v in overall.items()}

    def test_report(self, metrics: Any) -> dict[str, Any]:
        """Compute and reset ``metrics`` (a FieldMetrics), log each as ``test/<name>`` and
        return ``{"metrics": ..., "metrics_per_field": ...}`` as plain floats."""
        overall, per_field = metrics.compute_and_reset()
        for name, value in overall.items():
            self.log(f"test/{name}", value, sync_dist=True)
        return {"metrics": {k: float(v) for k, v in overall.items()},
                "metrics_per_field": {f: {k: float(v) for k, v in d.items()}
                                      for f, d in per_field.items()}}

    def inference_time_per_sample(self) -> float:
        """Seconds per sample of the predictions :meth:`timed_predict` measured."""
        return self._infer_time / max(self._infer_samples, 1)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["pdebench"] = dict(self.identity)

    def scheduler_config(self, optimizer: torch.optim.Optimizer,
                         factory: Callable[..., Any] | None) -> Any:
        """``configure_optimizers`` output for ``optimizer`` and a step-wise scheduler factory
        ``factory(optimizer, total_steps=...)`` (or the optimiser alone)."""
        if factory is None:
            return optimizer
        total = self.trainer.estimated_stepping_batches
        if not math.isfinite(total):
            raise ValueError("a scheduler needs a finite trainer.max_epochs or max_steps")
        sched = factory(optimizer, total_steps=int(total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
