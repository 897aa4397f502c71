"""Supervised field-to-field learning (steady problems, one-step maps), optionally regularised by
the PDE residual of the dataset's equation (Multiphysics Bench's "PINN" track)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from pdebench.data.masks import input_mask, mask_channels
from pdebench.data.meta import DatasetMeta
from pdebench.data.normalize import ChannelNormalizer
from pdebench.metrics.collection import FieldMetrics
from pdebench.metrics.physics import equation_for
from pdebench.physics.grid import GridPhysics, PhysicsUnavailable
from pdebench.systems.base import (
    MetricFactories,
    NonFiniteLossError,
    Stats,
    System,
    check_finite_loss,
)

__all__ = ["LOSSES", "NonFiniteLossError", "OperatorSystem", "RESCALE_EPS", "cosine_schedule",
           "masked_mse_loss", "relative_l2_loss"]

LOSSES = ("mse", "rel_l2")
#: Floor of a residual's detached value in the rescaling ``data / R_c`` (a residual at exactly
#: zero then contributes zero instead of 0 / 0).
RESCALE_EPS = 1e-30


def relative_l2_loss(pred: torch.Tensor, target: torch.Tensor,
                     mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over samples of ||pred − target||₂ / ||target||₂ (norms over channels and space).

    Shapes: (batch, C, *spatial) -> scalar; ``mask`` (batch, 1, *spatial) bool (or broadcastable
    to pred): the norms run over the cells where it is True only. Reduction: per-sample ratio,
    then mean over batch.
    """
    if mask is not None:
        zero = torch.zeros((), dtype=pred.dtype, device=pred.device)
        pred, target = torch.where(mask, pred, zero), torch.where(mask, target, zero)
    diff = (pred - target).flatten(1).norm(dim=1)
    ref = target.flatten(1).norm(dim=1).clamp_min(1e-12)
    return (diff / ref).mean()


def masked_mse_loss(pred: torch.Tensor, target: torch.Tensor,
                    mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of (pred − target)² over the batch, channels and the cells where ``mask`` is True.

    Shapes as :func:`relative_l2_loss`; without ``mask``, ``mean((pred - target)^2)``.
    """
    if mask is None:
        return torch.mean((pred - target) ** 2)
    mask = torch.broadcast_to(mask, pred.shape)
    sq = torch.where(mask, (pred - target) ** 2, torch.zeros((), dtype=pred.dtype,
                                                              device=pred.device))
    return sq.sum() / mask.sum().clamp_min(1)


class OperatorSystem(System):
    """Train ``model`` to map normalised inputs to normalised targets (one dataset).

    The model sees ``x`` normalised per channel with training-split statistics and predicts ``y``
    normalised the same way; the loss is taken on de-normalised (physical) fields when
    ``loss="rel_l2"`` and on normalised ones for ``"mse"``. Metrics always compare physical fields.

    Geometry masks (``DatasetMeta.masks``): the mask input channels are not normalised (the data
    module's statistics give them mean 0, std 1), and cells outside the geometry (mask 0) enter
    neither the loss (``rel_l2``: norms over the masked-in cells; ``mse``: mean over them) nor
    any metric.

    With ``physics_weight = W > 0`` the training loss adds the finite-difference residuals of the
    dataset's registered equation (``DatasetMeta.pde``) on the de-normalised prediction, each
    rescaled to the data loss's magnitude (Multiphysics Bench's "PINN" baseline, ``W = 0.001``
    there)::

        loss = L_data + W * sum_c R_c * (L_data / max(R_c, eps))     (the ratio detached)

    ``R_c`` is the mean-square residual of component ``c`` over the cells and frames
    ``residual_l2`` scores (:meth:`pdebench.physics.grid.GridPhysics.residual_losses`: margin at
    walls, masked domains, time-dependent components at the step midpoint after the last input
    frame), averaged over the batch; components the dataset's fields cannot feed are left out.
    Each term has the data loss's value, so ``loss = L_data (1 + W n)`` for ``n`` components with
    a nonzero residual; its gradient is ``W L_data / R_c`` times that of ``R_c`` (a relative
    weighting: the gradient of ``W L_data log R_c``). Validation loss and metrics are unchanged.

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
    physics_weight : float
        ``W >= 0`` above; 0 (default) trains on the data loss alone.

    Raises
    ------
    ValueError
        An unknown ``loss``; ``physics_weight`` negative or not finite; ``physics_weight > 0`` on
        a dataset that names no registered equation, or whose grid or fields its equation cannot
        score.
    """

    n_datasets = 1

    def __init__(self, model: nn.Module, metas: Mapping[str, DatasetMeta],
                 metrics: MetricFactories, optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: Callable[..., Any] | None = None, loss: str = "rel_l2",
                 physics_weight: float = 0.0) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"system.loss={loss!r} is unknown; valid: {', '.join(LOSSES)}")
        (self.dataset_name, meta), = metas.items()
        self.physics_weight = _check_weight(physics_weight)
        #: The residual evaluator of the dataset's equation (``None`` with ``physics_weight=0``).
        self.physics = _grid_physics(meta, self.physics_weight) if self.physics_weight else None
        metrics = metrics[self.dataset_name]
        self.model = model
        self.meta = meta
        mask_channels(meta)  # a mask name that is no input field fails here, before training
        self.loss_name = loss
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.x_norm = ChannelNormalizer(meta.in_channels)
        self.y_norm = ChannelNormalizer(meta.out_channels)
        self.val_metrics = FieldMetrics(metrics, meta)
        self.test_metrics = FieldMetrics(metrics, meta)
        self.test_results: dict[str, Any] = {}
        self.val_results: dict[str, float] = {}

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

    def _loss(self, out: torch.Tensor, y: torch.Tensor, x: torch.Tensor | None = None
              ) -> torch.Tensor:
        """Loss of the normalised model output ``out`` against the physical target ``y``, over
        the cells inside the geometry mask of the physical inputs ``x`` (every cell on a dataset
        without masks, where ``x`` may be omitted)."""
        mask = input_mask(self.meta, x)
        if self.loss_name == "mse":
            return masked_mse_loss(out, self.y_norm.encode(y), mask)
        return relative_l2_loss(self.y_norm.decode(out), y, mask)

    def training_losses(self, batch: dict[str, torch.Tensor]
                        ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The training loss of a batch and its parts.

        Parameters
        ----------
        batch : dict
            ``"x"`` (batch, C_in, *spatial) and ``"y"`` (batch, C_out, *spatial), physical units.

        Returns
        -------
        (Tensor (), dict)
            The total loss (see the class docstring) and ``{"data": L_data}`` plus, with
            ``physics_weight > 0``, ``{"physics/<component>": R_c}``: the raw mean-square
            residuals (the component's units squared, before weighting and rescaling).
        """
        out = self.model(self.x_norm.encode(batch["x"]))
        data = self._loss(out, batch["y"], batch["x"])
        if self.physics is None:
            return data, {"data": data}
        pred = self.y_norm.decode(out)
        # finite differences divide by h^2: never in half precision
        pred = pred.to(torch.promote_types(pred.dtype, torch.float32))
        residuals = self.physics.residual_losses(pred, batch["x"])
        scale = data.detach()
        rescaled = sum(r * (scale / r.detach().clamp_min(RESCALE_EPS)) for r in residuals.values())
        total = data + self.physics_weight * rescaled.to(data.dtype)
        return total, {"data": data, **{f"physics/{k}": v for k, v in residuals.items()}}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, parts = self.training_losses(batch)
        for name, value in parts.items():
            check_finite_loss(value, self, self._nonfinite_hint(name))
        check_finite_loss(loss, self, "the weighted sum of finite terms overflowed: lower "
                                      "system.physics_weight or the learning rate")
        size = batch["x"].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        if self.physics is not None:
            # train/physics: the raw residual sum, sum_c R_c (unweighted, not rescaled)
            raw = {k: v.detach() for k, v in parts.items() if k.startswith("physics/")}
            self.log("train/data", parts["data"].detach(), batch_size=size)
            self.log("train/physics", sum(raw.values()), batch_size=size)
            for name, value in raw.items():
                self.log(f"train/{name}", value, batch_size=size)
        return loss

    def _nonfinite_hint(self, part: str) -> str:
        """Which term of :meth:`training_losses` is not finite, and what to try."""
        advice = "lower the learning rate (system.optimizer.lr) or check the data"
        if part == "data":
            return f"the data loss (system.loss={self.loss_name}) is not finite: {advice}"
        component = part.removeprefix("physics/")
        return (f"the physics residual of component {component!r} of equation "
                f"{self.physics.eq.name!r} (mean square, system.physics_weight="
                f"{self.physics_weight:g}) is not finite: {advice}, or lower "
                "system.physics_weight")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        out = self.model(self.x_norm.encode(batch["x"]))
        self.log("val/loss", self._loss(out, batch["y"], batch["x"]), prog_bar=True,
                 batch_size=batch["x"].shape[0], sync_dist=True)
        self.val_metrics.update(self.y_norm.decode(out), batch["y"], batch["x"])

    def on_validation_epoch_end(self) -> None:
        self.log_validation(self.val_metrics)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        pred = self.timed_predict(self, batch["x"])
        self.test_metrics.update(pred, batch["y"], batch["x"])

    def on_test_epoch_end(self) -> None:
        self.test_results = {
            **self.test_report(self.test_metrics),
            "inference_time_per_sample_s": self.inference_time_per_sample(),
        }

    def configure_optimizers(self) -> Any:
        return self.scheduler_config(self.optimizer_factory(self.model.parameters()),
                                     self.scheduler_factory)


def _check_weight(weight: float) -> float:
    """``system.physics_weight`` as a float, refusing a negative or non-finite value."""
    w = float(weight)
    if math.isnan(w) or w < 0:
        raise ValueError(f"system.physics_weight must be >= 0, got {w:g}")
    if math.isinf(w):
        raise ValueError(f"system.physics_weight must be finite (0 turns the physics term off), "
                         f"got {w:g}")
    return w


def _grid_physics(meta: DatasetMeta, weight: float) -> GridPhysics:
    """The residual evaluator of ``meta``'s equation for ``system.physics_weight=weight``."""
    from pdebench.registry import EQUATIONS

    key = f"system.physics_weight={weight:g}"
    eq = equation_for(meta)
    if eq is None:
        raise ValueError(
            f"{key} adds the PDE residual of the dataset's equation, but dataset "
            f"{meta.name!r} names none (its DatasetMeta.pde is {meta.pde!r}); use a dataset "
            f"whose DatasetMeta.pde is a registered equation ({', '.join(EQUATIONS.names())}; "
            "see `python -m pdebench list equations`), or system.physics_weight=0")
    try:
        physics = GridPhysics(eq, meta)
    except PhysicsUnavailable as exc:
        raise ValueError(f"{key}: the equation {eq.name!r} cannot score dataset {meta.name!r} "
                         f"on its grid: {exc}; use system.physics_weight=0") from None
    if not physics.components:
        raise ValueError(
            f"{key}: none of the components of equation {eq.name!r} can be evaluated from the "
            f"fields of dataset {meta.name!r} (outputs {meta.output_fields}, inputs "
            f"{meta.input_fields}); use system.physics_weight=0")
    return physics


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
