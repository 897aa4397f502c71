"""Conformance checks a plugin author runs on a model (and the harness runs on its whole zoo).

Example (in the plugin's own tests)::

    from pdebench.testing import check_model, tiny_meta
    from my_plugin import build_my_model

    def test_conforms():
        check_model(build_my_model, tiny_meta(spatial_dims=2), hidden=8)

Each check raises :class:`ConformanceError` with a message saying what the harness expects.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from pdebench.data.meta import DatasetMeta


class ConformanceError(AssertionError):
    """A model or dataset does not meet the harness's contract."""


def tiny_meta(spatial_dims: int = 2, resolution: int = 16, in_channels: int = 1,
              out_channels: int = 1) -> DatasetMeta:
    """A small gridded ``DatasetMeta`` to test models against."""
    return DatasetMeta(
        name="tiny", spatial_dims=spatial_dims, resolution=(resolution,) * spatial_dims,
        extent=((0.0, 1.0),) * spatial_dims,
        input_fields=tuple(f"in{i}" for i in range(in_channels)),
        output_fields=tuple(f"out{i}" for i in range(out_channels)),
    )


def check_model(builder: Callable[..., nn.Module], meta: DatasetMeta | None = None,
                batch_size: int = 2, **arch: Any) -> nn.Module:
    """Check that ``builder(meta=meta, **arch)`` returns a conforming ``nn.Module``.

    The contract: a plain ``nn.Module`` whose shapes come from ``meta``; forward maps
    (batch, C_in, *spatial) to (batch, C_out, *spatial) with finite values; every parameter
    receives a gradient; batch size 1 works; the output does not depend on other samples of the
    batch (no mixing across the batch); the state dict round-trips into a fresh build.

    Returns the model built.
    """
    meta = meta or tiny_meta()
    torch.manual_seed(0)
    model = builder(meta=meta, **arch)
    if not isinstance(model, nn.Module):
        raise ConformanceError(f"builder returned {type(model).__name__}, expected nn.Module")
    try:
        import lightning as L

        if isinstance(model, L.LightningModule):
            raise ConformanceError("models are plain nn.Modules; Lightning lives in systems/")
    except ImportError:  # pragma: no cover
        pass
    x = torch.randn(batch_size, meta.in_channels, *meta.resolution)
    expect = (batch_size, meta.out_channels, *meta.resolution)
    model.train()
    out = model(x)
    if tuple(out.shape) != expect:
        raise ConformanceError(f"forward gave shape {tuple(out.shape)} for input "
                               f"{tuple(x.shape)}; expected {expect} (batch, C_out, *spatial)")
    if not torch.isfinite(out).all():
        raise ConformanceError("forward produced NaN or inf on standard-normal input")
    if not out.requires_grad:
        raise ConformanceError("the output does not depend on any trainable parameter "
                               "(no gradient can reach the model)")
    out.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    if missing:
        raise ConformanceError(f"parameters without gradient: {missing[:5]}")
    model.eval()
    with torch.no_grad():
        full = model(x)
        single = model(x[:1])
    if tuple(single.shape) != (1, *expect[1:]):
        raise ConformanceError("batch size 1 gives the wrong shape")
    if not torch.allclose(full[:1], single, rtol=1e-4, atol=1e-5):
        raise ConformanceError("the prediction for a sample depends on the other samples in the "
                               "batch (e.g. batch norm in train mode or mixing over dim 0)")
    fresh = builder(meta=meta, **arch)
    try:
        fresh.load_state_dict(copy.deepcopy(model.state_dict()))
    except RuntimeError as exc:
        raise ConformanceError(f"state dict does not load into a fresh build: {exc}") from None
    fresh.eval()
    with torch.no_grad():
        if not torch.allclose(fresh(x), full, rtol=1e-5, atol=1e-6):
            raise ConformanceError("a fresh build with the same state dict predicts differently")
    return model


def check_registered_model(name: str, meta: DatasetMeta | None = None, **arch: Any) -> nn.Module:
    """:func:`check_model` on a registry entry, by name."""
    from pdebench.registry import MODELS

    entry = MODELS.get(name)
    meta = meta or tiny_meta()
    supports = entry.extra.get("supports")
    reason = supports(meta) if supports else None
    if reason:
        raise ConformanceError(f"model {name!r} refuses the test meta: {reason}")
    return check_model(entry.target, meta, **arch)


# ----------------------------------------------------------------------------------------------
# Physics metrics of a dataset's own reference solution
# ----------------------------------------------------------------------------------------------

def physics_values(meta: DatasetMeta, dataset: Any, indices: Any = None,
                   perturb: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                   batch_size: int = 64) -> dict[str, float]:
    """The physics metrics of ``meta``'s equation over samples of ``dataset``.

    Parameters
    ----------
    meta : DatasetMeta
        As the model sees the data.
    dataset : map-style dataset of ``{"x", "y"}`` sample dicts
    indices : sequence of int, optional
        Samples to use (default: all).
    perturb : callable ``(y, x) -> pred``, optional
        Turns the reference batch ``y`` ``(batch, C_out, *spatial)`` into the scored prediction
        (default: the reference itself, which scores the dataset's physics floor).

    Returns
    -------
    dict name -> float, the mean over the samples.
    """
    from torch.utils.data import default_collate

    from pdebench.metrics.physics import PhysicsMetrics

    metric = PhysicsMetrics(meta)
    idx = list(range(len(dataset)) if indices is None else indices)
    for start in range(0, len(idx), batch_size):
        batch = default_collate([dataset[int(i)] for i in idx[start:start + batch_size]])
        x, y = batch["x"], batch["y"]
        pred = y if perturb is None else perturb(y, x)
        metric.update(pred[..., None], y[..., None], x)
    return {k: float(v) for k, v in metric.compute().items()}


def recorded_floor(source: Any) -> dict[str, float]:
    """The physics floor a generated dataset recorded with its data (``{}`` if none): the
    ``physics_floor`` of the store's self-check record, or a source's own ``physics_floor``
    mapping (datasets stored in another layout)."""
    from pdebench.data.store import read_store_info

    path = getattr(source, "path", None)
    if path is not None and str(path).endswith(".h5"):
        return dict(read_store_info(path)[2].get("physics_floor", {}))
    return dict(getattr(source, "recorded_physics_floor", lambda: {})())
