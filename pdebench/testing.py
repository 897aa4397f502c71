"""Conformance checks a plugin author runs on a model or a dataset (and the harness runs on its
whole zoo and every built-in dataset).

Example (in the plugin's own tests)::

    from pdebench.testing import check_dataset, check_model, tiny_meta, tiny_point_meta
    from my_plugin import MySource, build_my_model, build_my_pinn

    def test_model_conforms():
        check_model(build_my_model, tiny_meta(spatial_dims=2), hidden=8)

    def test_point_model_conforms():  # a PINN-style model: coordinates -> fields
        check_model(build_my_pinn, tiny_point_meta(coords=("x", "t")), hidden=8)

    def test_dataset_conforms(tmp_path):
        check_dataset(MySource(n_samples=12, data_dir=tmp_path))

Each check raises :class:`ConformanceError` with a message saying what the harness expects.
"""

from __future__ import annotations

import copy
import math
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


def tiny_point_meta(coords: tuple[str, ...] = ("x", "y"),
                    out_fields: tuple[str, ...] = ("u",)) -> DatasetMeta:
    """A small point ``DatasetMeta`` (``grid == "points"``) to test point models against: the
    inputs are the coordinates ``coords`` (a name ``"t"`` is time, the others space), the
    outputs the fields ``out_fields``."""
    dims = max(1, sum(c != "t" for c in coords))
    return DatasetMeta(name="tiny_points", spatial_dims=dims, resolution=(16,) * dims,
                       input_fields=tuple(coords), output_fields=tuple(out_fields),
                       grid="points")


def check_model(builder: Callable[..., nn.Module], meta: DatasetMeta | None = None,
                batch_size: int = 2, **arch: Any) -> nn.Module:
    """Check that ``builder(meta=meta, **arch)`` returns a conforming ``nn.Module``.

    The contract: a plain ``nn.Module`` whose shapes come from ``meta``; forward maps
    (batch, C_in, *spatial) to (batch, C_out, *spatial) with finite values; every parameter
    receives a gradient; batch size 1 works; the output does not depend on other samples of the
    batch (no mixing across the batch); the state dict round-trips into a fresh build.

    A point model (``meta.grid == "points"``, see :func:`tiny_point_meta`) maps coordinates
    (batch, C_in) to fields (batch, C_out) instead, and must also be twice differentiable in its
    inputs, as PINN residuals need (:func:`_check_second_derivatives`).

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
    points = meta.grid == "points"
    spatial = () if points else tuple(meta.resolution)
    x = torch.randn(batch_size, meta.in_channels, *spatial)
    expect = (batch_size, meta.out_channels, *spatial)
    layout = "(batch, C_out)" if points else "(batch, C_out, *spatial)"
    model.train()
    out = model(x)
    if tuple(out.shape) != expect:
        raise ConformanceError(f"forward gave shape {tuple(out.shape)} for input "
                               f"{tuple(x.shape)}; expected {expect} {layout}")
    if not torch.isfinite(out).all():
        raise ConformanceError("forward produced NaN or inf on standard-normal input")
    if not out.requires_grad:
        raise ConformanceError("the output does not depend on any trainable parameter "
                               "(no gradient can reach the model)")
    out.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    if missing:
        raise ConformanceError(f"parameters without gradient: {missing[:5]}")
    if points:
        _check_second_derivatives(model, x)
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


def _check_second_derivatives(model: nn.Module, x: torch.Tensor) -> None:
    """A point model's second derivatives in its inputs exist, are finite and not identically
    zero, and backpropagate to its weights (a PINN's loss on a residual ``u_xx + ...``).

    ``x`` is (batch, D). Every weight (parameter of two or more dimensions) must receive a finite
    gradient of the squared second derivatives; biases may not (the output bias only shifts the
    output).
    """
    model.zero_grad(set_to_none=True)
    xr = x.detach().clone().requires_grad_(True)
    try:
        total, nonzero = _second_derivative_loss(model(xr), xr)
        if not nonzero:
            raise ConformanceError(
                "all second derivatives of the outputs in the inputs are exactly zero: the "
                "model is piecewise linear (ReLU?); PINN residuals need a smooth model (tanh, "
                "sin, gelu, silu)")
        total.backward()
    except RuntimeError as exc:
        raise ConformanceError(f"second derivatives in the inputs, backpropagated to the "
                               f"weights, fail (double backward unsupported, e.g. a fused "
                               f"cuDNN LSTM?): {exc}") from None
    missing = [n for n, p in model.named_parameters()
               if p.requires_grad and p.dim() >= 2 and p.grad is None]
    if missing:
        raise ConformanceError(f"weights without gradient through the second derivatives: "
                               f"{missing[:5]}")
    bad = [n for n, p in model.named_parameters()
           if p.grad is not None and not torch.isfinite(p.grad).all()]
    if bad:
        raise ConformanceError(f"NaN or inf gradients through the second derivatives: {bad[:5]}")
    model.zero_grad(set_to_none=True)


def _second_derivative_loss(out: torch.Tensor, xr: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """``sum_c sum_i mean_{n, j} (d2 u_c / dx_i dx_j)**2`` of outputs ``out`` (batch, C) in
    inputs ``xr`` (batch, D) (with the graph kept), and whether any of them is nonzero."""
    total = out.new_zeros(())
    nonzero = False
    for c in range(out.shape[1]):
        (grad,) = torch.autograd.grad(out[:, c].sum(), xr, create_graph=True)
        for i in range(xr.shape[1]):
            hess = None
            if grad.requires_grad:
                (hess,) = torch.autograd.grad(grad[:, i].sum(), xr, create_graph=True,
                                              allow_unused=True)
            if hess is None:
                raise ConformanceError(
                    f"output {c}: its first derivative in input {i} does not depend on the "
                    "inputs (no second derivative); PINN residuals need a twice-differentiable "
                    "model (smooth activations such as tanh)")
            if not torch.isfinite(hess).all():
                raise ConformanceError(f"output {c}: second derivatives in input {i} are NaN "
                                       "or inf")
            nonzero = nonzero or bool((hess != 0).any())
            total = total + hess.square().mean()
    return total, nonzero


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


# ----------------------------------------------------------------------------------------------
# Datasets
# ----------------------------------------------------------------------------------------------

def check_dataset(source: Any, n_check: int = 3) -> Any:
    """Check that ``source`` meets the harness's dataset contract; return its opened dataset.

    The contract (:class:`pdebench.data.source.DataSource`): a :class:`DatasetMeta` whose fields,
    grid and time axis are consistent; ``prepare()`` that can run twice; ``open()`` giving a
    non-empty map-style dataset of ``{"x": (C_in, *spatial), "y": (C_out, *spatial)}`` float32
    tensors, finite, the same on every open and after pickling (DataLoader workers); per-sample
    trajectory ids (``groups``) when samples are windows of trajectories; a card; and, when
    ``meta.pde`` names an equation, an equation that is registered and whose physics metrics the
    dataset can feed (its parameters present), finite on the reference, and equal to the physics
    floor the dataset recorded, if it recorded one.

    Raises
    ------
    ConformanceError
        Naming the dataset and what the harness expected.
    """
    import pickle
    import re

    from pdebench.data.source import DataSource

    if not isinstance(source, DataSource):
        raise ConformanceError(f"{type(source).__name__} is not a pdebench.data.DataSource")
    meta = source.meta
    where = f"dataset {getattr(meta, 'name', '?')!r}"
    if not isinstance(meta, DatasetMeta):
        raise ConformanceError(f"{where}: meta is a {type(meta).__name__}, not a DatasetMeta")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", meta.name):
        raise ConformanceError(f"{where}: the name must be lower snake case")
    for kind, names in (("input", meta.input_fields), ("output", meta.output_fields)):
        if len(set(names)) != len(names):
            raise ConformanceError(f"{where}: {kind} field names repeat: {names}")
    if meta.grid not in ("cell_centered", "vertex", "points"):
        raise ConformanceError(f"{where}: grid {meta.grid!r}; valid: cell_centered, vertex, "
                               "points")
    if meta.time is not None and ("n_frames" not in meta.time or not (
            meta.time.get("dt") is None or float(meta.time["dt"]) > 0)):
        raise ConformanceError(f"{where}: meta.time must give n_frames (and dt > 0 where the "
                               f"frame spacing is known), got {meta.time}")
    _check_equation(meta, where)

    source.prepare()
    source.prepare()  # idempotent: a second call finds the data ready
    dataset = source.open()
    if len(dataset) < 1:
        raise ConformanceError(f"{where}: open() gave an empty dataset")
    picks = sorted({0, len(dataset) - 1, *range(0, len(dataset), max(1, len(dataset)
                                                                      // n_check))})[:n_check]
    expect = {"x": (meta.in_channels, *meta.resolution),
              "y": (meta.out_channels, *meta.resolution)}
    again = source.open()
    copied = pickle.loads(pickle.dumps(dataset))
    for i in picks:
        sample = dataset[i]
        if not isinstance(sample, dict) or not {"x", "y"} <= set(sample):
            raise ConformanceError(f"{where}: sample {i} must be a dict with 'x' and 'y'")
        for key, shape in expect.items():
            t = sample[key]
            if not isinstance(t, torch.Tensor) or t.dtype != torch.float32:
                raise ConformanceError(f"{where}: sample {i} {key!r} must be a float32 tensor, "
                                       f"got {getattr(t, 'dtype', type(t).__name__)}")
            if tuple(t.shape) != shape:
                raise ConformanceError(f"{where}: sample {i} {key!r} has shape "
                                       f"{tuple(t.shape)}, meta says {shape}")
            if not torch.isfinite(t).all():
                raise ConformanceError(f"{where}: sample {i} {key!r} has NaN or inf")
            for other, label in ((again, "a second open()"), (copied, "a pickled copy")):
                if not torch.equal(other[i][key], t):
                    raise ConformanceError(f"{where}: sample {i} {key!r} differs in {label} "
                                           "(samples must be deterministic and picklable)")
    groups = getattr(dataset, "groups", None)
    if groups is not None and len(groups) != len(dataset):
        raise ConformanceError(f"{where}: groups has {len(groups)} entries for "
                               f"{len(dataset)} samples (one trajectory id per sample)")
    if not source.card().strip():
        raise ConformanceError(f"{where}: card() is empty: document the dataset (a docstring)")
    if meta.pde and meta.grid != "points":
        values = physics_values(meta, dataset, indices=picks)
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if bad:
            raise ConformanceError(f"{where}: physics metrics of the reference are not finite: "
                                   f"{bad}")
        floor = recorded_floor(source)
        if floor:
            got = physics_values(meta, dataset)
            off = {k: (v, got.get(k)) for k, v in floor.items()
                   if got.get(k) is None or not math.isclose(v, got[k], rel_tol=1e-6,
                                                             abs_tol=1e-12)}
            if off or set(got) != set(floor):
                raise ConformanceError(
                    f"{where}: the reference does not score the physics floor it recorded "
                    f"(recorded, now): {off or (sorted(floor), sorted(got))}")
    return dataset


def _check_equation(meta: DatasetMeta, where: str) -> None:
    """The equation ``meta.pde`` names is registered and the dataset can feed it."""
    if not meta.pde:
        return
    from pdebench.metrics.physics import equation_for
    from pdebench.physics.grid import GridPhysics, PhysicsUnavailable
    from pdebench.registry import UnknownNameError

    try:
        eq = equation_for(meta)
    except UnknownNameError as exc:
        raise ConformanceError(str(exc)) from None
    if meta.grid == "points":
        return
    try:
        grid = GridPhysics(eq, meta)
    except PhysicsUnavailable as exc:
        raise ConformanceError(f"{where}: its equation cannot score it: {exc}") from None
    if not grid.components:
        raise ConformanceError(
            f"{where}: none of the components of equation {eq.name!r} can be evaluated from "
            f"its fields (outputs {meta.output_fields}, inputs {meta.input_fields}); the "
            f"components need {[c.needs for c in eq.components.values()]}")


def tiny_datamodule(name: str, *overrides: str, data_dir: Any = None, setup: bool = True) -> Any:
    """The dataset ``name`` at the tiny size its config declares (``debug=fast``), prepared and
    (with ``setup``: split, statistics) set up: a :class:`pdebench.data.module.PDEDataModule`
    (``.meta``, ``.dataset``, ``.source``, ``.indices``). ``overrides`` are config overrides
    (``data.n_frames=9``); ``data_dir`` (default: ``paths.data_dir``) is where a generated dataset
    is cached."""
    from pdebench.config import compose
    from pdebench.run import build_data

    where = [] if data_dir is None else [f"paths.data_dir={data_dir}"]
    dm = build_data(compose([f"data={name}", "debug=fast", *where, *overrides]))
    dm.prepare_data()
    if setup:
        dm.setup()
    return dm
