"""Evaluate a set of named metrics and report them overall and per field."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from pdebench.data.masks import input_mask, mask_channels
from pdebench.data.meta import DatasetMeta


def _key(name: str) -> str:
    return name.replace("/", "__").replace(".", "_")


def _takes_mask(metric: Any) -> bool:
    """Whether ``metric.update`` accepts a ``mask`` keyword (the metric contract)."""
    try:
        params = inspect.signature(metric.update).parameters
    except (TypeError, ValueError):
        return False
    return "mask" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _scalar(name: str, value: Any) -> float:
    """One overall value from ``compute_overall()``: a number or a one-element tensor."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"metric {name!r}: compute_overall() returned shape "
                             f"{tuple(value.shape)}; the overall value is one number")
        return float(value.to(torch.float64))
    return float(value)


class FieldMetrics(nn.Module):
    """Holds one metric instance per name (torchmetrics; DDP reduction is theirs).

    ``update(pred, target, inputs=None, mask=None)`` takes fields ``(batch, C, *spatial)`` (a time
    axis of length 1 is appended, the metric contract being ``(batch, C, *spatial, T)``) or
    ``(batch, C, *spatial, T)`` for several predicted frames. On a dataset with geometry masks
    (``DatasetMeta.masks``) the mask is taken from ``inputs`` (the mask channels > 0.5, combined
    by AND; :func:`pdebench.data.masks.input_mask`) unless ``mask`` is given (bool, broadcastable
    to the prediction, True = scored), and passed to every metric's ``update(..., mask=...)``:
    cells outside the geometry are not scored. Without masks, metrics are called without it.
    ``compute_and_reset()`` returns ``(overall, per_field)``: the mean of each metric's ``(C, T)``
    array over channels and time, and per output field the mean over time. A metric whose
    headline is not that mean (a ratio or a maximum taken over all fields jointly, family
    ``pinn``) defines ``compute_overall()``, called before ``reset``: it returns the overall
    value (a number or a 0-d tensor), or for a metric reporting several names a mapping name ->
    value; a name it leaves out keeps the mean.

    A metric whose ``compute()`` returns a mapping (the physics metrics, one instance evaluating
    every quantity of an equation) contributes one entry per key; its ``names`` attribute lists
    them in advance.
    """

    def __init__(self, factories: Mapping[str, Callable[[DatasetMeta], Any]],
                 meta: DatasetMeta) -> None:
        super().__init__()
        self.meta = meta
        self.metrics = nn.ModuleDict({_key(n): f(meta) for n, f in factories.items()})
        self._factory_names = list(factories)
        self.names: list[str] = []
        for n in self._factory_names:
            self.names += list(getattr(self.metrics[_key(n)], "names", None) or [n])
        self.masked = bool(mask_channels(meta))
        if self.masked:
            refuse = [n for n in self._factory_names if not _takes_mask(self.metrics[_key(n)])]
            if refuse:
                raise ValueError(
                    f"metrics {refuse} cannot score dataset {meta.name!r}: it has geometry "
                    f"masks {list(meta.masks)} and these metrics' update() takes no 'mask' "
                    "argument (the contract: update(pred, target, inputs=None, mask=None)); "
                    "leave them out of metrics.names")

    def info(self) -> dict[str, dict[str, bool]]:
        """``{name: {"higher_is_better": bool}}`` for every reported name."""
        out = {}
        for n in self._factory_names:
            metric = self.metrics[_key(n)]
            better = bool(getattr(metric, "higher_is_better", False))
            for name in getattr(metric, "names", None) or [n]:
                out[name] = {"higher_is_better": better}
        return out

    def update(self, pred: torch.Tensor, target: torch.Tensor,
               inputs: torch.Tensor | None = None, mask: torch.Tensor | None = None) -> None:
        if pred.ndim == self.meta.spatial_dims + 2:  # no time axis: one frame
            pred, target = pred.unsqueeze(-1), target.unsqueeze(-1)
        pred, target = pred.detach(), target.detach()
        if mask is None and self.masked:
            mask = input_mask(self.meta, inputs).unsqueeze(-1)  # (batch, 1, *spatial, 1)
        extra = {} if mask is None else {"mask": mask.detach()}
        for name in self._factory_names:
            self.metrics[_key(name)].update(pred, target, inputs, **extra)

    def compute_and_reset(self) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        overall: dict[str, float] = {}
        per_field: dict[str, dict[str, float]] = {f: {} for f in self.meta.output_fields}
        for name in self._factory_names:
            metric = self.metrics[_key(name)]
            result = metric.compute()
            compute_overall = getattr(metric, "compute_overall", None)
            joint = compute_overall() if compute_overall is not None else {}
            metric.reset()
            values = result if isinstance(result, Mapping) else {name: result}
            if not isinstance(joint, Mapping):
                joint = {name: joint}
            unknown = sorted(set(joint) - set(values))
            if unknown:
                raise ValueError(f"metric {name!r}: compute_overall() gives {unknown}, which "
                                 f"compute() does not report (it reports {sorted(values)})")
            for sub, value in values.items():
                value = value.to(torch.float64)
                if value.ndim != 2:
                    raise ValueError(f"metric {sub!r} returned shape {tuple(value.shape)}; the "
                                     "metric contract is (C, T)")
                overall[sub] = _scalar(sub, joint[sub]) if sub in joint else float(value.mean())
                if value.shape[0] == len(self.meta.output_fields):
                    for field, v in zip(self.meta.output_fields, value.mean(dim=1), strict=True):
                        per_field[field][sub] = float(v)
        return overall, per_field
