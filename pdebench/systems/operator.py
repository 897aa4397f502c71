"""Supervised field-to-field learning (steady problems, one-step maps)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from pdebench.data.meta import DatasetMeta
from pdebench.data.normalize import ChannelNormalizer
from pdebench.metrics.collection import FieldMetrics
from pdebench.systems.base import (
    MetricFactories,
    NonFiniteLossError,
    Stats,
    System,
    check_finite_loss,
)

__all__ = ["LOSSES", "NonFiniteLossError", "OperatorSystem", "cosine_schedule",
           "relative_l2_loss"]

LOSSES = ("mse", "rel_l2")


def relative_l2_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over samples of ||pred − target||₂ / ||target||₂ (norms over channels and space).

    Shapes: (batch, C, *spatial) -> scalar. Reduction: per-sample ratio, then mean over batch.
    """
    diff = (pred - target).flatten(1).norm(dim=1)
    ref = target.flatten(1).norm(dim=1).clamp_min(1e-12)
    return (diff / ref).mean()


class OperatorSystem(System):
    """Train ``model`` to map normalised inputs to normalised targets (one dataset).

    The model sees ``x`` normalised per channel with training-split statistics and predicts ``y``
    normalised the same way; the loss is taken on de-normalised (physical) fields when
    ``loss="rel_l2"`` and on normalised ones for ``"mse"``. Metrics always compare physical fields.

    Parameters
    ----------
    model : nn.Module
        (batch, C_in, *spatial) -> (batch, C_out, *spatial).
    metas : mapping name -> DatasetMeta
        The run's single dataset.
    metrics : mapping dataset name -> (mapping metric name -> factory(meta) -> Metric)
        Evaluated on the validation and test splits.
    optimizer : callable(params) -> Optimizer
        A ``_partial_`` optimiser from the config.
    scheduler : callable(optimizer, total_steps) -> LRScheduler, optional
        Stepped every optimiser step.
    loss : {"mse", "rel_l2"}
    """

    n_datasets = 1

    def __init__(self, model: nn.Module, metas: Mapping[str, DatasetMeta],
                 metrics: MetricFactories, optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: Callable[..., Any] | None = None, loss: str = "rel_l2") -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"system.loss={loss!r} is unknown; valid: {', '.join(LOSSES)}")
        (self.dataset_name, meta), = metas.items()
        metrics = metrics[self.dataset_name]
        self.model = model
        self.meta = meta
        self.loss_name = loss
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.x_norm = ChannelNormalizer(meta.in_channels)
        self.y_norm = ChannelNormalizer(meta.out_channels)
        self.val_metrics = FieldMetrics(metrics, meta)
        self.test_metrics = FieldMetrics(metrics, meta)
        self.test_results: dict[str, Any] = {}
        self.val_results: dict[str, float] = {}
        self._infer_time = 0.0
        self._infer_samples = 0

    def set_normalizers(self, stats: Stats) -> None:
        own = stats[self.dataset_name]
        self.x_norm.set_stats(*own["x"])
        self.y_norm.set_stats(*own["y"])

    def metric_info(self) -> dict[str, dict[str, bool]]:
        return self.test_metrics.info()

    def results(self) -> dict[str, Any]:
        return {**self.test_results, "val_metrics": dict(self.val_results)}

    def predict_fields(self, x: torch.Tensor) -> torch.Tensor:
        return self(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Physical input (batch, C_in, *spatial) -> physical prediction (batch, C_out, *spatial)."""
        return self.y_norm.decode(self.model(self.x_norm.encode(x)))

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Loss of the normalised model output ``out`` against the physical target ``y``."""
        if self.loss_name == "mse":
            return torch.mean((out - self.y_norm.encode(y)) ** 2)
        return relative_l2_loss(self.y_norm.decode(out), y)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._loss(self.model(self.x_norm.encode(batch["x"])), batch["y"])
        check_finite_loss(loss, self, "lower the learning rate (system.optimizer.lr) or check "
                                      "the data")
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["x"].shape[0])
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        out = self.model(self.x_norm.encode(batch["x"]))
        self.log("val/loss", self._loss(out, batch["y"]), prog_bar=True,
                 batch_size=batch["x"].shape[0], sync_dist=True)
        self.val_metrics.update(self.y_norm.decode(out), batch["y"], batch["x"])

    def on_validation_epoch_end(self) -> None:
        overall, _ = self.val_metrics.compute_and_reset()
        for name, value in overall.items():
            # already reduced over ranks by torchmetrics: syncing identical values is a no-op
            # that keeps Lightning's distributed checks quiet
            self.log(f"val/{name}", value, prog_bar=name == "pdebench/nrmse", sync_dist=True)
        self.val_results = {k: float(v) for k, v in overall.items()}

    def on_test_epoch_start(self) -> None:
        self._infer_time = 0.0
        self._infer_samples = 0

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        if batch["x"].is_cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        pred = self(batch["x"])
        if pred.is_cuda:
            torch.cuda.synchronize()
        self._infer_time += time.perf_counter() - t0
        self._infer_samples += batch["x"].shape[0]
        self.test_metrics.update(pred, batch["y"], batch["x"])

    def on_test_epoch_end(self) -> None:
        overall, per_field = self.test_metrics.compute_and_reset()
        for name, value in overall.items():
            self.log(f"test/{name}", value, sync_dist=True)
        self.test_results = {
            "metrics": {k: float(v) for k, v in overall.items()},
            "metrics_per_field": {f: {k: float(v) for k, v in d.items()}
                                  for f, d in per_field.items()},
            "inference_time_per_sample_s": self._infer_time / max(self._infer_samples, 1),
        }

    def configure_optimizers(self) -> Any:
        return self.scheduler_config(self.optimizer_factory(self.model.parameters()),
                                     self.scheduler_factory)


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int,
                    warmup_fraction: float = 0.0, final_lr_fraction: float = 0.0
                    ) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_fraction`` of the steps, then cosine decay to
    ``final_lr_fraction`` × the initial learning rate at ``total_steps``."""
    warm = int(warmup_fraction * total_steps)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, total_steps - warm))
        return final_lr_fraction + (1 - final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
