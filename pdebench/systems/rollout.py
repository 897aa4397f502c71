"""Autoregressive time stepping (``system=rollout``).

The model maps a window of ``history`` frames (``data.history``, stacked along channels, oldest
first, then the trajectory's constant fields) to the next ``n_out`` frames (``system.n_out``):
``(batch, history·C + C_const, *spatial) -> (batch, n_out·C, *spatial)``, output channel
``k·C + c`` being field ``c`` of the ``k``-th frame ahead. A rollout feeds its predictions back:
the window slides by ``n_out`` frames per model call.

Training (``system.mode``):

- ``one_step``: teacher forcing; one call on a true window, loss on its ``n_out`` frames;
- ``unrolled``: ``unroll_steps`` calls, each on the window made of the previous predictions, the
  loss averaged over every predicted frame, the gradient through the whole chain;
- ``pushforward``: ``unroll_steps`` calls, the first ``unroll_steps - grad_steps`` without
  gradient (their predictions detached), the loss on the frames of the last ``grad_steps`` calls
  only (the pushforward trick of Brandstetter, Worrall & Welling, "Message passing neural PDE
  solvers", ICLR 2022: the model learns from its own input distribution at one step's cost).

Training samples are windows of ``history + F`` frames of the training trajectories
(``F = n_out`` one-step, ``unroll_steps · n_out`` otherwise; ``data.stride`` apart).

Evaluation (validation and test): every trajectory is rolled out from its first ``history``
frames (and its constant fields) to its last frame. Metrics are taken per predicted frame (the
metric layout ``(batch, C, *spatial, T)`` with ``T = n_frames - history``; input frames are never
scored) and reported overall (the mean over frames and fields, as for every system) and per field;
the test split also gives them over log-spaced windows of frames (``metrics_per_window``,
``"a:b"`` for frames ``a <= k < b`` after the input window: The Well's log-spaced windows,
:func:`pdebench.metrics.well_family.log_windows`) and per step (``rollout_curve``: ``"step"``
1..T and each metric's mean over fields per frame). Physics metrics are one number over the
whole rollout (the overall table only).

Normalisation: frames are normalised per field with the statistics of the training split's frames
(derived from the per-channel statistics of its one-step windows: every lag of a field pooled),
constant fields with their own; mask channels (``DatasetMeta.masks``) are never normalised, and
cells outside the geometry (mask 0 in the input window) enter neither the loss nor any metric
(the model's values there are fed back unchanged). The rollout runs in normalised units;
predictions are de-normalised for the metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from pdebench.data.masks import input_mask, mask_channels
from pdebench.data.meta import DatasetMeta
from pdebench.data.normalize import ChannelNormalizer
from pdebench.data.trajectories import TrajectoryWindows
from pdebench.metrics.collection import FieldMetrics
from pdebench.metrics.well_family import log_windows, window_means
from pdebench.systems.base import MetricFactories, Stats, System, check_finite_loss
from pdebench.systems.operator import masked_mse_loss, relative_l2_loss

__all__ = ["MODES", "RolloutDataModule", "RolloutDivergedError", "RolloutSystem", "field_stats",
           "rollout_fields"]

MODES = ("one_step", "unrolled", "pushforward")
LOSSES = ("mse", "rel_l2")


class RolloutDivergedError(FloatingPointError):
    """A rollout produced NaN or inf."""


def field_stats(mean: Tensor, std: Tensor, history: int, n_fields: int
                ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-field statistics of the frames from those of a window's channels.

    Parameters
    ----------
    mean, std : Tensor (history·C + C_const,)
        Per-channel statistics of the one-step window inputs (lag-major: channel ``j·C + c`` is
        field ``c`` at lag ``j``), every channel over the same number of values.
    history, n_fields : int
        ``history`` and ``C``.

    Returns
    -------
    (field mean, field std, constant mean, constant std)
        ``(C,)`` each for the fields (every lag pooled: the mean of the lag means; the variance
        ``mean_j(std_j^2 + mean_j^2) - mean^2``), ``(C_const,)`` for the constants.
    """
    n = history * n_fields
    m = mean[:n].double().reshape(history, n_fields)
    s = std[:n].double().reshape(history, n_fields)
    fm = m.mean(0)
    var = (s.square() + m.square()).mean(0) - fm.square()
    return fm.float(), var.clamp_min(0).sqrt().float(), mean[n:].clone(), std[n:].clone()


def rollout_fields(fields: tuple[str, ...], n_out: int) -> tuple[str, ...]:
    """Output channel names of a model predicting ``n_out`` frames: ``u[t+1]``, ``u[t+2]`` ...
    (frame-major); the fields themselves for ``n_out = 1``."""
    if n_out == 1:
        return tuple(fields)
    return tuple(f"{f}[t+{k}]" for k in range(1, n_out + 1) for f in fields)


def _int_option(node: Mapping[str, Any], key: str, default: int, low: int = 1) -> int:
    value = node.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"system.{key}={value!r}: must be an int >= {low}")
    return value


def _window_history(meta: DatasetMeta) -> int:
    """``data.history`` of a windowed time-dependent dataset; refuse other data."""
    history = meta.extra.get("history")
    if meta.time is None or history is None:
        raise ValueError(
            f"system=rollout steps trajectories in time, but dataset {meta.name!r} is not "
            "time-dependent data seen as windows of frames (its DatasetMeta has no time axis or "
            "no extra['history']); use a time-dependent dataset (burgers, advection, "
            "diffusion_reaction, navier_stokes, ...) or system=operator")
    return int(history)


def check_lengths(n_frames: int, history: int, n_out: int, unroll_steps: int, mode: str,
                  dataset: str) -> None:
    """Refuse a training window longer than the trajectory, naming the keys."""
    steps = 1 if mode == "one_step" else unroll_steps
    need = history + steps * n_out
    if need > n_frames:
        detail = (f"data.history={history} + system.n_out={n_out}" if mode == "one_step" else
                  f"data.history={history} + system.unroll_steps={unroll_steps} x "
                  f"system.n_out={n_out}")
        raise ValueError(
            f"system=rollout (mode {mode}): a training window needs {detail} = {need} frames, but "
            f"the trajectories of dataset {dataset!r} have {n_frames}; lower data.history, "
            "system.n_out or system.unroll_steps, or use longer trajectories (data.n_frames)")


class RolloutSystem(System):
    """Train a frame-stepping model and evaluate it by autoregressive rollout (one dataset).

    Parameters
    ----------
    model : nn.Module
        ``(batch, history·C + C_const, *spatial) -> (batch, n_out·C, *spatial)``, normalised units
        (built from :meth:`model_meta`).
    metas : mapping name -> DatasetMeta
        The run's single time-dependent dataset (windows of ``data.history`` frames).
    metrics : mapping dataset name -> (mapping metric name -> factory(meta) -> Metric)
        Evaluated per predicted frame of the validation and test rollouts.
    optimizer : callable(params) -> Optimizer
    scheduler : callable(optimizer, total_steps) -> LRScheduler, optional
    mode : {"one_step", "unrolled", "pushforward"}
        See the module docstring.
    n_out : int
        Frames predicted per model call (>= 1).
    unroll_steps : int
        Model calls per training sample in ``unrolled`` and ``pushforward`` (>= 1; ignored by
        ``one_step``).
    grad_steps : int
        ``pushforward``: the last calls the gradient flows through and the loss is taken on
        (1 <= grad_steps <= unroll_steps).
    loss : {"mse", "rel_l2"}
        Mean square error of the normalised frames, or the relative L2 error of the physical
        frames (per sample over channels, space and frames, then the batch mean).

    Raises
    ------
    ValueError
        An unknown ``mode`` or ``loss``; a count out of range; data that are not windows of
        trajectories; a training window longer than the trajectories.
    """

    n_datasets = 1

    def __init__(self, model: nn.Module, metas: Mapping[str, DatasetMeta],
                 metrics: MetricFactories, optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: Callable[..., Any] | None = None, mode: str = "one_step",
                 n_out: int = 1, unroll_steps: int = 1, grad_steps: int = 1,
                 loss: str = "mse") -> None:
        super().__init__()
        options = {"mode": mode, "n_out": n_out, "unroll_steps": unroll_steps,
                   "grad_steps": grad_steps, "loss": loss}
        (self.dataset_name, meta), = metas.items()
        self.mode, self.n_out, self.unroll_steps, self.grad_steps = _options(options, meta)
        self.loss_name = loss
        self.meta = meta
        self.history = _window_history(meta)
        mask_channels(meta)  # a mask name that is no input field fails here, before training
        self.fields = meta.output_fields
        self.const_fields = meta.constant_fields
        expect = self.history * len(self.fields) + len(self.const_fields)
        if meta.in_channels != expect:
            raise ValueError(
                f"system=rollout: dataset {meta.name!r} gives {meta.in_channels} input channels "
                f"{list(meta.input_fields)}, but data.history={self.history} frames of "
                f"{list(self.fields)} and the constant fields {list(self.const_fields)} make "
                f"{expect}; its windows are not history frames (+ constants)")
        self.model = model
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.frame_norm = ChannelNormalizer(len(self.fields))
        self.const_norm = ChannelNormalizer(len(self.const_fields))
        self.val_metrics = FieldMetrics(metrics[self.dataset_name], meta)
        self.test_metrics = FieldMetrics(metrics[self.dataset_name], meta)
        self.test_results: dict[str, Any] = {}
        self.val_results: dict[str, float] = {}
        self._n_pred: int | None = None
        self._val_diverged = ""

    # --- the contract --------------------------------------------------------------------------
    @classmethod
    def model_meta(cls, metas: Mapping[str, DatasetMeta],
                   node: Mapping[str, Any] | None = None) -> DatasetMeta:
        """The window meta with ``n_out · C`` output channels (:func:`rollout_fields`)."""
        meta = super().model_meta(metas)
        _, n_out, _, _ = _options(node or {}, meta)
        _window_history(meta)
        return DatasetMeta(**{**meta.to_dict(), "resolution": meta.resolution,
                              "extent": meta.extent, "input_fields": meta.input_fields,
                              "masks": meta.masks, "constant_fields": meta.constant_fields,
                              "output_fields": rollout_fields(meta.output_fields, n_out),
                              "extra": {**meta.extra, "view": "rollout", "n_out": n_out}})

    @property
    def train_future(self) -> int:
        """Frames after the input window in a training sample."""
        return self.n_out * (1 if self.mode == "one_step" else self.unroll_steps)

    def datamodule(self, datamodules: Mapping[str, L.LightningDataModule]
                   ) -> L.LightningDataModule:
        (dm,) = datamodules.values()
        return RolloutDataModule(dm, self)

    def set_normalizers(self, stats: Stats) -> None:
        own = stats[self.dataset_name]
        fm, fs, cm, cs = field_stats(*own["x"], self.history, len(self.fields))
        masks = set(self.meta.masks)
        for names, mean, std in ((self.fields, fm, fs), (self.const_fields, cm, cs)):
            for i, name in enumerate(names):
                if name in masks:  # 0/1 geometry: never normalised
                    mean[i], std[i] = 0.0, 1.0
        self.frame_norm.set_stats(fm, fs)
        if self.const_fields:
            self.const_norm.set_stats(cm, cs)

    def metric_info(self) -> dict[str, dict[str, bool]]:
        return self.test_metrics.info()

    def results(self) -> dict[str, Any]:
        return {**self.test_results, "val_metrics": dict(self.val_results)}

    def predict_fields(self, x: Tensor) -> Tensor:
        """One model call on physical windows: the next ``n_out`` frames, physical,
        ``(batch, C, *spatial, n_out)``."""
        window, const = self.encode_inputs(x)
        return self.decode_frames(self.step(window, const))

    # --- the rollout --------------------------------------------------------------------------
    def encode_inputs(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Physical windows ``(B, history·C + C_const, *S)`` -> normalised frames
        ``(B, history, C, *S)`` and constants ``(B, C_const, *S)`` (or None)."""
        n = self.history * len(self.fields)
        frames = x[:, :n].reshape(x.shape[0] * self.history, len(self.fields), *x.shape[2:])
        window = self.frame_norm.encode(frames).reshape(
            x.shape[0], self.history, len(self.fields), *x.shape[2:])
        const = self.const_norm.encode(x[:, n:]) if self.const_fields else None
        return window, const

    def decode_frames(self, frames: Tensor) -> Tensor:
        """Normalised frames ``(B, F, C, *S)`` -> physical ``(B, C, *S, F)``."""
        b, f = frames.shape[:2]
        out = self.frame_norm.decode(frames.reshape(b * f, *frames.shape[2:]))
        return out.reshape(frames.shape).movedim(1, -1)

    def step(self, window: Tensor, const: Tensor | None) -> Tensor:
        """One model call: normalised window ``(B, history, C, *S)`` -> the next ``n_out``
        normalised frames ``(B, n_out, C, *S)``."""
        inp = window.flatten(1, 2)
        if const is not None:
            inp = torch.cat([inp, const], dim=1)
        out = self.model(inp)
        return out.reshape(out.shape[0], self.n_out, len(self.fields), *out.shape[2:])

    def slide(self, window: Tensor, frames: Tensor) -> Tensor:
        """The window after ``frames`` (``(B, n_out, C, *S)``): its last ``history`` frames."""
        return torch.cat([window, frames], dim=1)[:, -self.history:]

    def rollout(self, x: Tensor, n_frames: int) -> Tensor:
        """Roll out from physical windows ``x`` ``(B, history·C + C_const, *S)`` for
        ``n_frames`` frames; returns the physical prediction ``(B, C, *S, n_frames)``."""
        window, const = self.encode_inputs(x)
        preds = []
        for _ in range(-(-n_frames // self.n_out)):
            out = self.step(window, const)
            preds.append(out)
            window = self.slide(window, out)
        return self.decode_frames(torch.cat(preds, dim=1)[:, :n_frames])

    # --- training ------------------------------------------------------------------------------
    def _frame_loss(self, out: Tensor, target: Tensor, mask: Tensor | None) -> Tensor:
        """Loss of normalised predictions ``out`` against normalised targets, ``(B, F, C, *S)``,
        over the cells inside the geometry ``mask`` ``(B, 1, *S)`` (every cell if ``None``)."""
        if self.loss_name == "mse":
            return masked_mse_loss(out.flatten(1, 2), target.flatten(1, 2), mask)
        return relative_l2_loss(self.decode_frames(out), self.decode_frames(target),
                                None if mask is None else mask.unsqueeze(-1))

    def training_loss(self, batch: dict[str, Tensor]) -> Tensor:
        """The loss of a batch: ``"x"`` windows ``(B, history·C + C_const, *S)``, ``"y"`` the
        next frames ``(B, C, *S, F)`` (physical), ``F >= train_future``."""
        window, const = self.encode_inputs(batch["x"])
        y = batch["y"].movedim(-1, 1)
        b, f = y.shape[:2]
        target = self.frame_norm.encode(y.reshape(b * f, *y.shape[2:])).reshape(y.shape)
        k = self.n_out
        mask = input_mask(self.meta, batch["x"])
        if self.mode == "one_step":
            return self._frame_loss(self.step(window, const), target[:, :k], mask)
        outs = []
        first_grad = self.unroll_steps - (self.grad_steps if self.mode == "pushforward"
                                          else self.unroll_steps)
        for s in range(self.unroll_steps):
            if s < first_grad:  # pushforward: no gradient through the earlier calls
                with torch.no_grad():
                    out = self.step(window, const)
            else:
                out = self.step(window, const)
                outs.append(out)
            window = self.slide(window, out)
        return self._frame_loss(torch.cat(outs, dim=1),
                                target[:, first_grad * k:self.unroll_steps * k], mask)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss = self.training_loss(batch)
        check_finite_loss(loss, self, f"the {self.mode} loss (system.loss={self.loss_name}) is "
                                      "not finite: lower the learning rate "
                                      "(system.optimizer.lr) or check the data")
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["x"].shape[0])
        return loss

    # --- evaluation ----------------------------------------------------------------------------
    def _evaluate(self, batch: dict[str, Tensor], metrics: FieldMetrics, split: str,
                  batch_idx: int) -> Tensor:
        """Roll out a batch of whole trajectories and feed the metrics; refuse a non-finite
        rollout, naming the first step that is not finite."""
        n_frames = batch["y"].shape[-1]
        self._n_pred = n_frames
        def predict(x: Tensor) -> Tensor:
            return self.rollout(x, n_frames)

        pred = self.timed_predict(predict, batch["x"]) if split == "test" else predict(batch["x"])
        finite = torch.isfinite(pred).flatten(0, -2).all(0)  # per predicted frame
        if not bool(finite.all()):
            step = int((~finite).nonzero()[0]) + 1
            raise RolloutDivergedError(
                f"the {split} rollout (batch {batch_idx}) is not finite from step {step} of "
                f"{n_frames} on (frame {self.history + step - 1} of the trajectory, after "
                f"data.history={self.history} input frames): the model diverges when fed its "
                "own predictions; train longer, lower the learning rate, or train with "
                "system.mode=unrolled or pushforward")
        metrics.update(pred, batch["y"], batch["x"])
        return pred

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        try:
            self._evaluate(batch, self.val_metrics, "validation", batch_idx)
        except RolloutDivergedError as exc:
            # an untrained model may diverge: validation goes on, the epoch scores inf
            self._val_diverged = str(exc)

    def on_validation_epoch_start(self) -> None:
        self._val_diverged = ""

    def on_validation_epoch_end(self) -> None:
        if self._val_diverged:
            for metric in self.val_metrics.metrics.values():
                metric.reset()
            names = self.val_metrics.names
            self.log("val/diverged", 1.0, sync_dist=True)
            for name in names:
                self.log(f"val/{name}", math.inf, sync_dist=True)
            self.val_results = {n: math.inf for n in names}
            return
        self.log_validation(self.val_metrics)

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.test_metrics, "test", batch_idx)

    def on_test_epoch_end(self) -> None:
        per_window, curve = self._frame_tables(self.test_metrics)
        self.test_results = {
            **self.test_report(self.test_metrics),
            "metrics_per_window": per_window,
            "rollout_curve": curve,
            # one sample = one whole trajectory rolled out
            "inference_time_per_sample_s": self.inference_time_per_sample(),
        }

    def _frame_tables(self, metrics: FieldMetrics
                      ) -> tuple[dict[str, dict[str, float]], dict[str, list]]:
        """Per-window means and the per-step curve of every metric kept per frame ((C, T)
        arrays with T predicted frames; one-number metrics such as the physics ones are left
        out)."""
        n_pred = self._n_pred
        if n_pred is None:
            return {}, {}
        arrays: dict[str, Tensor] = {}
        for name in metrics._factory_names:
            metric = metrics.metrics[name.replace("/", "__").replace(".", "_")]
            result = metric.compute()
            values = result if isinstance(result, Mapping) else {name: result}
            for sub, value in values.items():
                if value.ndim == 2 and value.shape[1] == n_pred and \
                        getattr(metric, "compute_overall", None) is None:
                    arrays[sub] = value.detach().to(torch.float64).cpu()
        windows = log_windows(n_pred)
        means = {n: window_means(v, windows) for n, v in arrays.items()}  # n -> key -> (C,)
        per_window = {f"{a}:{b}": {n: float(m[f"{a}:{b}"].mean()) for n, m in means.items()}
                      for a, b in windows}
        curve: dict[str, list] = {"step": list(range(1, n_pred + 1))}
        curve.update({n: [float(t) for t in v.mean(0)] for n, v in arrays.items()})
        return per_window, curve

    def configure_optimizers(self) -> Any:
        return self.scheduler_config(self.optimizer_factory(self.model.parameters()),
                                     self.scheduler_factory)

    # --- figures -------------------------------------------------------------------------------
    def write_figures(self, datamodules: Mapping[str, Any], run_dir: Any,
                      record: Mapping[str, Any]) -> None:
        """``rollout.png``: the error-versus-step curve of the test rollouts and, for 1D and 2D
        data, one test trajectory's reference, prediction and error at a few steps."""
        from pdebench.systems.rollout_plots import plot_rollout

        (dm,) = datamodules.values()
        data = self._eval_windows(dm, "test")
        sample = data[0]
        self.eval()
        with torch.no_grad():
            pred = self.rollout(sample["x"][None].to(self.device), sample["y"].shape[-1])
        plot_rollout(record.get("rollout_curve") or {}, sample["y"], pred[0].cpu(), self.meta,
                     run_dir / "rollout.png",
                     f"{record['model']} on {record['dataset']} (seed {record['seed']}), "
                     f"system.mode={self.mode}")

    def _eval_windows(self, dm: Any, split: str) -> TrajectoryWindows:
        """Whole-trajectory samples of ``split`` (first window in, every later frame out)."""
        dataset = _windows(dm)
        ids = np.unique(dataset.groups[dm.indices[split]])
        return TrajectoryWindows(dataset.reader, self.history,
                                 future=dataset.reader.n_frames - self.history, trajectories=ids)


def _options(node: Mapping[str, Any], meta: DatasetMeta) -> tuple[str, int, int, int]:
    """``(mode, n_out, unroll_steps, grad_steps)`` from the system options, checked (and the
    training window against ``meta.time["n_frames"]`` where the meta gives it)."""
    mode = node.get("mode", "one_step")
    if mode not in MODES:
        raise ValueError(f"system.mode={mode!r} is unknown; valid: {', '.join(MODES)}")
    loss = node.get("loss", "mse")
    if loss not in LOSSES:
        raise ValueError(f"system.loss={loss!r} is unknown; valid: {', '.join(LOSSES)}")
    n_out = _int_option(node, "n_out", 1)
    unroll = _int_option(node, "unroll_steps", 1)
    grad = _int_option(node, "grad_steps", 1)
    if mode == "pushforward" and grad > unroll:
        raise ValueError(f"system.grad_steps={grad}: must be <= system.unroll_steps={unroll} "
                         "(the gradient flows through the last grad_steps of the unrolled calls)")
    n_frames = (meta.time or {}).get("n_frames")
    if n_frames is not None and meta.extra.get("history") is not None:
        check_lengths(int(n_frames), int(meta.extra["history"]), n_out, unroll, mode, meta.name)
    return mode, n_out, unroll, grad


def _windows(dm: Any) -> TrajectoryWindows:
    dataset = dm.dataset
    if not isinstance(dataset, TrajectoryWindows):
        raise ValueError(
            f"system=rollout needs trajectories read as windows of frames, but dataset "
            f"{dm.meta.name!r} opens a {type(dataset).__name__}; use a time-dependent dataset")
    return dataset


class RolloutDataModule(L.LightningDataModule):
    """The rollout view of a time-dependent dataset's :class:`PDEDataModule`.

    The wrapped module splits the trajectories and fits the statistics (on its one-step
    windows); this one serves, for the same trajectories, training windows of ``history +
    train_future`` frames and whole trajectories for validation and test (one sample each: the
    first window in, every later frame out, ``(C, *spatial, n_frames - history)``).
    """

    def __init__(self, inner: Any, system: RolloutSystem) -> None:
        super().__init__()
        self.inner = inner
        self.history = system.history
        self.future = system.train_future
        self.check = (system.n_out, system.unroll_steps, system.mode)
        self.sets: dict[str, TrajectoryWindows] = {}

    @property
    def meta(self) -> DatasetMeta:
        return self.inner.meta

    def prepare_data(self) -> None:
        self.inner.prepare_data()

    def setup(self, stage: str | None = None) -> None:
        if self.sets:
            return
        self.inner.setup(stage)
        dataset = _windows(self.inner)
        reader = dataset.reader
        if dataset.history != self.history:
            raise ValueError(f"dataset {self.meta.name!r}: its windows hold {dataset.history} "
                             f"frames but its meta says data.history={self.history}")
        check_lengths(reader.n_frames, self.history, *self.check, self.meta.name)
        for split in ("train", "val", "test"):
            ids = np.unique(dataset.groups[self.inner.indices[split]])
            if split == "train":
                self.sets[split] = TrajectoryWindows(reader, self.history, dataset.stride,
                                                     future=self.future, trajectories=ids)
            else:
                self.sets[split] = TrajectoryWindows(reader, self.history,
                                                     future=reader.n_frames - self.history,
                                                     trajectories=ids)

    def _loader(self, split: str, shuffle: bool, batch_size: int) -> DataLoader:
        inner = self.inner
        return DataLoader(self.sets[split], batch_size=batch_size, shuffle=shuffle,
                          num_workers=inner.num_workers, pin_memory=inner.pin_memory,
                          persistent_workers=inner.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True, self.inner.batch_size)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False, self.inner.eval_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False, self.inner.eval_batch_size)
