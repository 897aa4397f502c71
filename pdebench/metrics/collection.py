"""Evaluate a set of named metrics and report them overall and per field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from pdebench.data.meta import DatasetMeta


def _key(name: str) -> str:
    return name.replace("/", "__").replace(".", "_")


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

    ``update(pred, target, inputs)`` takes fields ``(batch, C, *spatial)`` (a time axis of length 1
    is appended, the metric contract being ``(batch, C, *spatial, T)``) or ``(batch, C, *spatial,
    T)`` for several predicted frames.
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
               inputs: torch.Tensor | None = None) -> None:
        if pred.ndim == self.meta.spatial_dims + 2:  # no time axis: one frame
            pred, target = pred.unsqueeze(-1), target.unsqueeze(-1)
        pred, target = pred.detach(), target.detach()
        for name in self._factory_names:
            self.metrics[_key(name)].update(pred, target, inputs)

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
