"""Tests of the ``pinn`` metric family (pdebench/metrics/pinn_family.py) and of the joint overall
value that :class:`~pdebench.metrics.collection.FieldMetrics` takes from ``compute_overall()``.

Layout everywhere: ``(batch, channels, *spatial, time)``; ``compute()`` gives ``(channels, 1)``.
"""

from __future__ import annotations

import math

import pytest
import torch
from torchmetrics import Metric

from pdebench.data.meta import DatasetMeta
from pdebench.metrics.collection import FieldMetrics
from pdebench.metrics.pdebench_family import PDEBenchMaxError
from pdebench.metrics.pinn_family import (
    FACTORIES,
    PinnL1RE,
    PinnL2RE,
    PinnMAE,
    PinnMaxError,
    PinnMSE,
)

F64 = torch.float64
ALL = [cls for cls, _ in FACTORIES.values()]
RELATIVE = (PinnL2RE, PinnL1RE)
META = DatasetMeta(name="toy", spatial_dims=1, resolution=(2,), input_fields=("x",),
                   output_fields=("u", "v"))


def two_scales() -> tuple[torch.Tensor, torch.Tensor]:
    """B=1, C=2 (u, v), 2 points, T=2: four points per field, scales 100 and 1.

    u: Y = 100 everywhere, D = [[3, 1], [1, 1]] (x by t): sum D^2 = 12, sum |D| = 6, max 3.
    v: Y = -1 everywhere, D = [[2, 0], [0, 0]]: sum D^2 = 4, sum |D| = 2, max 2.
    """
    target = torch.empty(1, 2, 2, 2, dtype=F64)
    target[0, 0], target[0, 1] = 100.0, -1.0
    diff = torch.zeros_like(target)
    diff[0, 0] = torch.tensor([[3.0, 1.0], [1.0, 1.0]])
    diff[0, 1, 0, 0] = 2.0
    return target + diff, target


# per field (u, v) and jointly, from the sums in the docstring of two_scales
HAND = {
    PinnL2RE: ((math.sqrt(12 / 40000), math.sqrt(4 / 4)), math.sqrt(16 / 40004)),
    PinnL1RE: ((6 / 400, 2 / 4), 8 / 404),
    PinnMSE: ((12 / 4, 4 / 4), 16 / 8),
    PinnMAE: ((6 / 4, 2 / 4), 8 / 8),
    PinnMaxError: ((3.0, 2.0), 3.0),
}


def fed(cls: type[Metric], *batches: tuple[torch.Tensor, torch.Tensor], **kw) -> Metric:
    metric = cls(spatial_dims=kw.pop("spatial_dims", 1), **kw)
    for pred, target in batches:
        metric.update(pred, target)
    return metric


def random_pair(shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    target = torch.randn(shape, generator=gen, dtype=F64) + 0.5
    return target + torch.randn(shape, generator=gen, dtype=F64), target


# ---------------------------------------------------------------- contract


def test_factories_cover_the_names_and_are_registered() -> None:
    from pdebench.registry import METRICS

    assert set(FACTORIES) == {"pinn/l2re", "pinn/l1re", "pinn/mse", "pinn/mae", "pinn/max_error"}
    for name, (cls, desc) in FACTORIES.items():
        assert issubclass(cls, Metric) and cls.name == name and desc
        assert METRICS.get(name).target is cls
        assert not cls.higher_is_better


@pytest.mark.parametrize("cls", ALL)
def test_per_field_shape_and_meta(cls: type[Metric]) -> None:
    target = torch.randn(3, 2, 5, 4) + 2.0
    metric = cls(META)
    metric.update(target + 0.1, target, inputs=torch.zeros(1))
    out = metric.compute()
    assert out.shape == (2, 1) and out.dtype == F64  # the frames are pooled with the points
    assert metric.compute_overall().shape == () and metric.compute_overall().dtype == F64
    one = fed(cls, (target[:, :1] + 1.0, target[:, :1]))
    assert one.compute().shape == (1, 1)  # torchmetrics would squeeze a one-element result
    with pytest.raises(ValueError, match="3 channels but 2 output fields"):
        cls(META).update(torch.zeros(1, 3, 5, 1), torch.ones(1, 3, 5, 1))
    with pytest.raises(ValueError, match="earlier batches"):  # the channel count is fixed
        fed(cls, (target, target), (target[:, :1], target[:, :1]))


@pytest.mark.parametrize("cls", ALL)
def test_compute_without_data_raises(cls: type[Metric]) -> None:
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="before any sample"):
        cls(spatial_dims=1).compute()
    with pytest.raises(ValueError, match="before any sample"):
        cls(spatial_dims=1).compute_overall()


# ---------------------------------------------------------------- hand-computed values


@pytest.mark.parametrize("cls", ALL)
def test_hand_values_per_field_and_joint(cls: type[Metric]) -> None:
    (u, v), joint = HAND[cls]
    metric = fed(cls, two_scales())
    assert metric.compute()[:, 0].tolist() == pytest.approx([u, v], rel=1e-12)
    assert float(metric.compute_overall()) == pytest.approx(joint, rel=1e-12)


def test_joint_is_not_the_mean_over_fields() -> None:
    # the u field (scale 100) dominates the joint ratio: 0.02 instead of the mean 0.51
    assert HAND[PinnL2RE][1] == pytest.approx(0.019998, rel=1e-4)
    assert sum(HAND[PinnL2RE][0]) / 2 == pytest.approx(0.50866, rel=1e-4)
    assert HAND[PinnMaxError][1] == 3.0 != sum(HAND[PinnMaxError][0]) / 2
    # mse and mae: every field has the same points, so the joint value is the mean
    for cls in (PinnMSE, PinnMAE):
        assert HAND[cls][1] == pytest.approx(sum(HAND[cls][0]) / 2)


def test_field_metrics_report_joint_overall_and_per_field() -> None:
    names = [*FACTORIES, "pdebench/max_error"]
    factories = {n: FACTORIES[n][0] if n in FACTORIES else PDEBenchMaxError for n in names}
    collection = FieldMetrics(factories, META)
    pred, target = two_scales()
    collection.update(pred[:, :, :1], target[:, :, :1])  # two batches: x = 0, then x = 1
    collection.update(pred[:, :, 1:], target[:, :, 1:])
    overall, per_field = collection.compute_and_reset()
    for cls, ((u, v), joint) in HAND.items():
        assert overall[cls.name] == pytest.approx(joint, rel=1e-12)
        assert per_field["u"][cls.name] == pytest.approx(u, rel=1e-12)
        assert per_field["v"][cls.name] == pytest.approx(v, rel=1e-12)
    # a metric without compute_overall keeps the mean over (C, T): PDEBench's max error per
    # frame is max over samples and space: u (3, 1), v (2, 0) -> mean 1.5 (the max is 3)
    assert overall["pdebench/max_error"] == pytest.approx(1.5)
    assert per_field["u"]["pdebench/max_error"] == pytest.approx(2.0)
    assert collection.info()["pinn/l2re"] == {"higher_is_better": False}
    # reset: a new epoch starts from nothing
    collection.update(pred, pred)
    assert collection.compute_and_reset()[0]["pinn/l2re"] == 0.0


# ---------------------------------------------------------------- accumulation


@pytest.mark.parametrize("cls", ALL)
def test_batches_equal_one_big_batch(cls: type[Metric]) -> None:
    pred, target = random_pair((5, 2, 6, 3), seed=1)
    whole = fed(cls, (pred, target))
    by_sample = fed(cls, (pred[:2], target[:2]), (pred[2:], target[2:]))
    # scattered evaluation sets: batches with different numbers of points
    by_points = fed(cls, (pred[..., :2, :], target[..., :2, :]), (pred[..., 2:, :], target[..., 2:, :]))
    merged = fed(cls, (pred[:1], target[:1]))
    merged.merge_state(fed(cls, (pred[1:], target[1:])))
    for other in (by_sample, by_points, merged):
        assert torch.allclose(other.compute(), whole.compute(), rtol=1e-12, atol=0)
        assert torch.allclose(other.compute_overall(), whole.compute_overall(), rtol=1e-12)


@pytest.mark.parametrize("cls", ALL)
def test_compute_overall_reduces_across_ranks(cls: type[Metric]) -> None:
    """Two simulated DDP ranks: compute_overall gathers their states (sum / max) like compute,
    then restores the local states."""
    pred, target = random_pair((4, 2, 6, 1), seed=2)
    pred[3, 1, 2, 0] = 50.0  # rank 1 holds the largest error
    other = fed(cls, (pred[2:], target[2:]))
    remote = [getattr(other, attr) for attr in other._reductions]  # in gather order
    calls = iter(remote)

    def gather(tensor: torch.Tensor, group=None) -> list[torch.Tensor]:
        return [tensor, next(calls)]

    rank0 = fed(cls, (pred[:2], target[:2]), dist_sync_fn=gather,
                distributed_available_fn=lambda: True)
    local = {attr: getattr(rank0, attr).clone() for attr in rank0._reductions}
    expect = fed(cls, (pred, target)).compute_overall()
    assert torch.allclose(rank0.compute_overall(), expect, rtol=1e-12)
    for attr, value in local.items():  # unsynced again: accumulation can go on locally
        assert torch.equal(getattr(rank0, attr), value)
    assert not rank0._is_synced


# ---------------------------------------------------------------- properties


@pytest.mark.parametrize("cls", ALL)
def test_zero_on_identical_inputs(cls: type[Metric]) -> None:
    _, target = random_pair((2, 3, 4, 2), seed=3)
    metric = fed(cls, (target, target))
    assert bool((metric.compute() == 0).all()) and float(metric.compute_overall()) == 0.0


@pytest.mark.parametrize("cls,power", [(PinnL2RE, 0), (PinnL1RE, 0), (PinnMSE, 2), (PinnMAE, 1),
                                       (PinnMaxError, 1)])
def test_scale_behaviour(cls: type[Metric], power: int) -> None:
    pred, target = random_pair((2, 2, 5, 2), seed=4)
    base = fed(cls, (pred, target))
    scaled = fed(cls, (7.0 * pred, 7.0 * target))
    assert torch.allclose(scaled.compute(), 7.0**power * base.compute(), rtol=1e-12)
    assert torch.allclose(scaled.compute_overall(), 7.0**power * base.compute_overall(), rtol=1e-12)


# ---------------------------------------------------------------- zero targets (policy)


@pytest.mark.parametrize("cls", RELATIVE)
def test_zero_target_field_raises_naming_the_field(cls: type[Metric]) -> None:
    pred, target = two_scales()
    target[:, 1] = 0.0
    metric = cls(META)
    metric.update(pred, target)
    with pytest.raises(ValueError, match=(
            rf"{cls.name}: the target of channel 1 \('v'\) is identically zero at every "
            r"evaluation point, so the relative error is undefined; use an absolute metric "
            r"\(pinn/mse, pinn/mae\)")):
        metric.compute()
    # the joint ratio is still defined (the u field is not zero); it is never inf or NaN
    assert math.isfinite(float(metric.compute_overall()))
    everywhere = fed(cls, (pred, torch.zeros_like(target)))
    with pytest.raises(ValueError, match="the target of every field is identically zero"):
        everywhere.compute_overall()


def test_zero_target_in_one_batch_only_is_fine() -> None:
    pred, target = two_scales()
    zero_v = target.clone()
    zero_v[:, 1] = 0.0
    metric = fed(PinnL2RE, (pred, zero_v), (pred, target))  # v is nonzero at some points
    assert bool(torch.isfinite(metric.compute()).all())


@pytest.mark.parametrize("cls", (PinnMSE, PinnMAE, PinnMaxError))
def test_absolute_metrics_accept_a_zero_target(cls: type[Metric]) -> None:
    pred, target = two_scales()
    metric = fed(cls, (pred - target, torch.zeros_like(target)))  # D unchanged
    (u, v), joint = HAND[cls]
    assert metric.compute()[:, 0].tolist() == pytest.approx([u, v])
    assert float(metric.compute_overall()) == pytest.approx(joint)


# ---------------------------------------------------------------- the FieldMetrics contract


class _TwoNames(Metric):
    """A metric reporting two names; ``compute_overall`` overrides the overall of ``b`` only."""

    names = ("two/a", "two/b")

    def __init__(self, meta: DatasetMeta, overall: object = None) -> None:
        super().__init__()
        self.overall = {"two/b": torch.tensor(9.0)} if overall is None else overall
        self.add_state("seen", default=torch.zeros(()), dist_reduce_fx="sum")

    def update(self, pred, target, inputs=None) -> None:
        self.seen = self.seen + 1

    def compute(self) -> dict[str, torch.Tensor]:
        return {"two/a": torch.tensor([[1.0], [3.0]]), "two/b": torch.tensor([[5.0], [7.0]])}

    def compute_overall(self) -> object:
        return self.overall


def test_compute_overall_mapping_and_errors() -> None:
    pred, target = two_scales()
    collection = FieldMetrics({"two": _TwoNames}, META)
    collection.update(pred, target)
    overall, per_field = collection.compute_and_reset()
    assert overall == {"two/a": 2.0, "two/b": 9.0}  # the mean, and the override
    assert per_field == {"u": {"two/a": 1.0, "two/b": 5.0}, "v": {"two/a": 3.0, "two/b": 7.0}}

    bad = FieldMetrics({"two": lambda m: _TwoNames(m, {"two/c": 1.0})}, META)
    bad.update(pred, target)
    with pytest.raises(ValueError, match=r"metric 'two': compute_overall\(\) gives \['two/c'\], "
                                         r"which compute\(\) does not report"):
        bad.compute_and_reset()
    vector = FieldMetrics({"two": lambda m: _TwoNames(m, {"two/a": torch.ones(2)})}, META)
    vector.update(pred, target)
    with pytest.raises(ValueError, match=r"metric 'two/a': compute_overall\(\) returned shape "
                                         r"\(2,\); the overall value is one number"):
        vector.compute_and_reset()
