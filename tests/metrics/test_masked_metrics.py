"""Geometry masks in every data metric: ``update(pred, target, inputs=None, mask=None)``.

A masked metric equals the unmasked one computed on the active cells alone (where that is
defined), never depends on the prediction outside the mask, reduces to the unmasked value for a
mask that is True everywhere, and refuses a sample with no active cell.
"""

from __future__ import annotations

import math

import pytest
import torch

from pdebench.data.meta import DatasetMeta
from pdebench.metrics import pdebench_family as pf
from pdebench.metrics import pinn_family as pinn
from pdebench.metrics.collection import FieldMetrics

F64 = torch.float64
#: every metric of the two families, built without metadata
ALL = {**pf.FACTORIES, **pinn.FACTORIES}
#: the metrics defined pointwise over cells: masked == unmasked on the gathered active cells
GATHERABLE = ["pdebench/rmse", "pdebench/nrmse", "pdebench/crmse", "pdebench/max_error",
              "rel_l2", *pinn.FACTORIES]


def _metric(name: str, dims: int = 1, fields=("u", "v")):
    return ALL[name][0](spatial_dims=dims, field_names=fields)


def _value(metric) -> torch.Tensor:
    """The (C, T) array, or for the pinn family the joint value too."""
    out = metric.compute()
    overall = getattr(metric, "compute_overall", None)
    return (out, overall()) if overall else (out,)


def _close(a, b):
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)


def _data(b=3, c=2, n=12, t=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(b, c, n, t, generator=g, dtype=F64)
    target = torch.randn(b, c, n, t, generator=g, dtype=F64) + 0.5
    return pred, target, g


def _same_count_mask(b, n, k, g) -> torch.Tensor:
    """(b, 1, n, 1) bool with k active cells per sample at random places."""
    mask = torch.zeros(b, 1, n, 1, dtype=torch.bool)
    for i in range(b):
        mask[i, 0, torch.randperm(n, generator=g)[:k], 0] = True
    return mask


@pytest.mark.parametrize("name", GATHERABLE)
def test_masked_equals_unmasked_on_active_cells(name):
    pred, target, g = _data()
    mask = _same_count_mask(3, 12, 5, g)
    masked = _metric(name)
    masked.update(pred, target, mask=mask)
    idx = mask[:, 0, :, 0].nonzero()[:, 1].reshape(3, 5)  # active cells, in order, per sample
    gather = idx[:, None, :, None].expand(3, 2, 5, 2)
    plain = _metric(name)
    plain.update(pred.gather(2, gather), target.gather(2, gather))
    _close(_value(masked), _value(plain))


def test_hand_computed_1d_values():
    # one sample, one field, 4 cells, D = (1, 2, 3, 4), Y = (1, 1, 1, 1); cells 0 and 1 inside
    pred = torch.tensor([2.0, 3.0, 4.0, 5.0], dtype=F64).reshape(1, 1, 4, 1)
    target = torch.ones(1, 1, 4, 1, dtype=F64)
    mask = torch.tensor([True, True, False, False]).reshape(1, 1, 4, 1)
    expect = {
        "pdebench/rmse": math.sqrt((1 + 4) / 2),
        "pdebench/nrmse": math.sqrt((1 + 4) / 2) / 1.0,
        "pdebench/crmse": abs((2 + 3) / 2 - 1.0),
        "pdebench/max_error": 2.0,
        "rel_l2": math.sqrt(5) / math.sqrt(2),
        # the masked domain's faces: cell 0 (grid edge) and cell 1 (neighbour 2 is outside)
        "pdebench/brmse": math.sqrt((1 + 4) / 2),
        "pinn/l2re": math.sqrt(5) / math.sqrt(2),
        "pinn/l1re": 3 / 2,
        "pinn/mse": 5 / 2,
        "pinn/mae": 3 / 2,
        "pinn/max_error": 2.0,
    }
    for name, value in expect.items():
        metric = _metric(name, fields=("u",))
        metric.update(pred, target, mask=mask)
        assert float(metric.compute()) == pytest.approx(value, rel=1e-12), name


def test_brmse_scores_the_rim_of_an_interior_geometry():
    # 1D: cells 1..3 of 5 inside -> faces at cells 1 (left) and 3 (right), M = 2
    d = torch.tensor([9.0, 1.0, 5.0, 2.0, 9.0], dtype=F64).reshape(1, 1, 5, 1)
    mask = torch.tensor([False, True, True, True, False]).reshape(1, 1, 5, 1)
    metric = _metric("pdebench/brmse", fields=("u",))
    metric.update(d, torch.zeros_like(d), mask=mask)
    assert float(metric.compute()) == pytest.approx(math.sqrt((1 + 4) / 2), rel=1e-12)
    # 2D: a 2x2 block inside a 4x4 grid: each of its cells lies on two faces, M = 8
    d2 = torch.arange(16, dtype=F64).reshape(1, 1, 4, 4, 1)
    m2 = torch.zeros(1, 1, 4, 4, 1, dtype=torch.bool)
    m2[0, 0, 1:3, 1:3, 0] = True
    metric = _metric("pdebench/brmse", dims=2, fields=("u",))
    metric.update(d2, torch.zeros_like(d2), mask=m2)
    block = d2[0, 0, 1:3, 1:3, 0]
    assert float(metric.compute()) == pytest.approx(
        math.sqrt(2 * float(block.square().sum()) / 8), rel=1e-12)


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(ALL))
def test_all_true_mask_is_the_unmasked_metric(name, dims):
    n = {1: 40, 2: 28, 3: 26}[dims]  # every fRMSE band exists
    shape = (2, 2, *(n,) * dims, 1)
    g = torch.Generator().manual_seed(dims)
    pred, target = torch.randn(shape, generator=g, dtype=F64), torch.randn(shape, generator=g,
                                                                             dtype=F64) + 1
    masked, plain = _metric(name, dims), _metric(name, dims)
    masked.update(pred, target, mask=torch.ones(2, 1, *(n,) * dims, 1, dtype=torch.bool))
    plain.update(pred, target)
    _close(_value(masked), _value(plain))


@pytest.mark.parametrize("name", sorted(ALL))
def test_prediction_outside_the_mask_changes_nothing(name):
    g = torch.Generator().manual_seed(3)
    shape = (2, 2, 28, 28, 1)
    pred, target = torch.randn(shape, generator=g, dtype=F64), torch.randn(shape, generator=g,
                                                                             dtype=F64) + 1
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mask = (((yy - 13.5) ** 2 + (xx - 13.5) ** 2) < 11.0 ** 2)[None, None, ..., None]
    mask = mask.expand(2, 1, 28, 28, 1)
    other = torch.where(mask, pred, torch.full_like(pred, 1e6))
    other[0, 0, 0, 0, 0] = float("nan")  # even a NaN outside is ignored
    a, b = _metric(name, 2), _metric(name, 2)
    a.update(pred, target, mask=mask)
    b.update(other, target, mask=mask)
    _close(_value(a), _value(b))
    c = _metric(name, 2)  # and the mask does matter: unmasked, the 1e6 shows
    c.update(torch.where(mask, pred, torch.full_like(pred, 1e6)), target)
    assert not torch.allclose(_value(c)[0], _value(a)[0])


def test_frmse_is_the_spectrum_of_the_error_zeroed_outside():
    g = torch.Generator().manual_seed(5)
    pred, target = torch.randn(3, 1, 30, 30, 1, generator=g, dtype=F64), torch.randn(
        3, 1, 30, 30, 1, generator=g, dtype=F64)
    mask = torch.rand(3, 1, 30, 30, 1, generator=g) > 0.3
    for cls in (pf.PDEBenchFRMSELow, pf.PDEBenchFRMSEMid, pf.PDEBenchFRMSEHigh):
        masked, zeroed = cls(spatial_dims=2), cls(spatial_dims=2)
        masked.update(pred, target, mask=mask)
        zeroed.update(torch.where(mask, pred - target, 0.0), torch.zeros_like(target))
        torch.testing.assert_close(masked.compute(), zeroed.compute(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", ["pdebench/rmse", "pdebench/brmse", "pinn/l2re"])
def test_masked_batches_split_and_merge_exactly(name):
    pred, target, g = _data(b=4, n=10)
    mask = torch.rand(4, 1, 10, 1, generator=g) > 0.4
    mask[:, 0, 0, 0] = True
    whole, halves = _metric(name), _metric(name)
    whole.update(pred, target, mask=mask)
    halves.update(pred[:2], target[:2], mask=mask[:2])
    halves.update(pred[2:], target[2:], mask=mask[2:])
    _close(_value(whole), _value(halves))


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_sample_without_active_cells_is_refused(name):
    meta = DatasetMeta(name="holes", spatial_dims=1, resolution=(30,), input_fields=("a", "m"),
                       output_fields=("u",), masks=("m",))
    metric = ALL[name][0](meta)
    pred = torch.randn(3, 1, 30, 1, dtype=F64)
    mask = torch.ones(3, 1, 30, 1, dtype=torch.bool)
    mask[2] = False
    with pytest.raises(ValueError, match=r"sample 2 of this batch of dataset 'holes' has no "
                                         r"active cell"):
        metric.update(pred, pred + 1, mask=mask)


def test_bad_masks_are_refused():
    metric = _metric("pdebench/rmse")
    pred = torch.zeros(2, 2, 8, 1, dtype=F64)
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        metric.update(pred, pred + 1, mask=torch.ones(2, 1, 8, 1))
    with pytest.raises(ValueError, match=r"mask shape \(2, 1, 7, 1\) does not broadcast"):
        metric.update(pred, pred + 1, mask=torch.ones(2, 1, 7, 1, dtype=torch.bool))


META = DatasetMeta(name="geom", spatial_dims=2, resolution=(12, 12), input_fields=("k", "mask"),
                   output_fields=("h",), masks=("mask",))


def test_field_metrics_take_the_mask_from_the_inputs():
    g = torch.Generator().manual_seed(7)
    x = torch.randn(4, 2, 12, 12, generator=g)
    x[:, 1] = (torch.rand(4, 12, 12, generator=g) > 0.5).float()
    x[:, 1, 0, 0] = 1.0
    pred, target = torch.randn(4, 1, 12, 12, generator=g), torch.randn(4, 1, 12, 12, generator=g)
    names = ["pdebench/rmse", "pdebench/brmse", "pdebench/frmse_low", "rel_l2", "pinn/l2re"]
    derived = FieldMetrics({n: ALL[n][0] for n in names}, META)
    derived.update(pred, target, x)
    given = FieldMetrics({n: ALL[n][0] for n in names}, META)
    given.update(pred, target, mask=(x[:, 1:2] > 0.5)[..., None])
    plain = FieldMetrics({n: ALL[n][0] for n in names}, META.__class__(
        **{**META.to_dict(), "masks": ()}))
    plain.update(pred, target, x)
    a, b, c = derived.compute_and_reset()[0], given.compute_and_reset()[0], \
        plain.compute_and_reset()[0]
    assert a == b and a != c
    with pytest.raises(ValueError, match="model inputs are needed"):
        derived.update(pred, target)


def test_field_metrics_refuse_a_metric_without_mask_on_masked_data():
    class NoMask(pf.PDEBenchRMSE):
        def update(self, pred, target, inputs=None):  # the old contract
            super().update(pred, target, inputs)

    with pytest.raises(ValueError, match=r"\['legacy'\] cannot score dataset 'geom'.*geometry "
                                         r"masks \['mask'\]"):
        FieldMetrics({"legacy": NoMask}, META)
    FieldMetrics({"legacy": NoMask}, META.__class__(**{**META.to_dict(), "masks": ()}))
