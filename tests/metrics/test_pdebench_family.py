"""Tests of the PDEBench-family data metrics and ``rel_l2`` (pdebench/metrics/pdebench_family.py).

Layout everywhere: ``(batch, channels, *spatial, time)``; ``compute()`` gives ``(channels, time)``.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchmetrics import Metric

from pdebench.data.meta import DatasetMeta
from pdebench.metrics.pdebench_family import (
    FACTORIES,
    PDEBenchBRMSE,
    PDEBenchCRMSE,
    PDEBenchFRMSEHigh,
    PDEBenchFRMSELow,
    PDEBenchFRMSEMid,
    PDEBenchMaxError,
    PDEBenchNRMSE,
    PDEBenchRMSE,
    RelL2,
)

F64 = torch.float64
ALL = [cls for cls, _ in FACTORIES.values()]
RELATIVE = (PDEBenchNRMSE, RelL2)
FRMSE = (PDEBenchFRMSELow, PDEBenchFRMSEMid, PDEBenchFRMSEHigh)
DIMS = (1, 2, 3)
PROPS = settings(max_examples=8, deadline=None, derandomize=True)


def value(cls: type[Metric], pred: torch.Tensor, target: torch.Tensor, d: int) -> torch.Tensor:
    metric = cls(spatial_dims=d)
    metric.update(pred, target)
    return metric.compute()


def close(a: torch.Tensor, b: torch.Tensor | float) -> bool:
    b = torch.as_tensor(b, dtype=F64)
    return bool(torch.allclose(a, b.expand_as(a), rtol=1e-10, atol=1e-12))


@st.composite
def fields(draw: st.DrawFn, cls: type[Metric], d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random (pred, target) pair; fRMSE grids are large enough for every band (1D: n >= 24,
    2D/3D: min(n) >= 26)."""
    seed = draw(st.integers(0, 2**31 - 1))
    batch, chans, frames = draw(st.integers(2, 4)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if cls in FRMSE:
        low = 24 if d == 1 else 26
        space = tuple(draw(st.integers(low, 28)) for _ in range(d)) if d < 3 else (26, 26, 27)
    else:
        space = tuple(draw(st.integers(2, 6)) for _ in range(d))
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, chans, *space, frames)
    target = torch.randn(shape, generator=gen, dtype=F64) + 0.5
    return target + torch.randn(shape, generator=gen, dtype=F64), target


# ---------------------------------------------------------------- contract and validation


def test_factories_cover_the_names() -> None:
    assert set(FACTORIES) == {
        "pdebench/rmse", "pdebench/nrmse", "pdebench/crmse", "pdebench/max_error",
        "pdebench/brmse", "pdebench/frmse_low", "pdebench/frmse_mid", "pdebench/frmse_high",
        "rel_l2",
    }
    for name, (cls, desc) in FACTORIES.items():
        assert issubclass(cls, Metric) and cls.name == name and desc


@pytest.mark.parametrize("cls", ALL)
def test_built_from_meta_gives_channels_by_frames(cls: type[Metric]) -> None:
    meta = DatasetMeta(name="toy", spatial_dims=2, resolution=(26, 27), input_fields=("a",),
                       output_fields=("u", "v"))
    metric = cls(meta)
    target = torch.randn(3, 2, 26, 27, 4) + 2.0
    metric.update(target + 0.1 * torch.randn_like(target), target, inputs=torch.zeros(1))
    out = metric.compute()
    assert out.shape == (2, 4) and out.dtype == F64 and bool(torch.isfinite(out).all())
    with pytest.raises(ValueError, match="3 channels but 2 output fields"):
        cls(meta).update(torch.zeros(1, 3, 26, 27, 1), torch.ones(1, 3, 26, 27, 1))


@pytest.mark.parametrize("cls", ALL)
def test_one_channel_one_frame_keeps_its_shape(cls: type[Metric]) -> None:
    # torchmetrics would squeeze a one-element result; the contract is (channels, time)
    target = torch.randn(2, 1, 25, 1) + 3.0
    out = value(cls, target + 1.0, target, 1)
    assert out.shape == (1, 1) and float(out) > 0


@pytest.mark.parametrize("cls", ALL)
def test_shape_validation(cls: type[Metric]) -> None:
    with pytest.raises(ValueError, match="pred shape"):
        cls(spatial_dims=1).update(torch.zeros(2, 1, 8, 1), torch.zeros(2, 1, 9, 1))
    with pytest.raises(ValueError, match="expected 5 dims"):
        cls(spatial_dims=2).update(torch.ones(2, 1, 8, 8), torch.ones(2, 1, 8, 8))
    with pytest.raises(ValueError, match="spatial_dims"):
        cls()
    metric = cls(spatial_dims=1)
    metric.update(torch.zeros(1, 1, 32, 2), torch.ones(1, 1, 32, 2))
    with pytest.raises(ValueError, match="earlier batches"):  # the number of frames changed
        metric.update(torch.zeros(1, 1, 32, 3), torch.ones(1, 1, 32, 3))
    with pytest.raises(ValueError, match="NaN"):
        cls(spatial_dims=1).update(torch.zeros(1, 1, 32, 1), torch.full((1, 1, 32, 1), math.nan))


@pytest.mark.parametrize("cls", ALL)
def test_compute_without_data_raises(cls: type[Metric]) -> None:
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="before any sample"):
        cls(spatial_dims=1).compute()


# ---------------------------------------------------------------- hand-computed cases


def _two_samples_1d() -> tuple[torch.Tensor, torch.Tensor]:
    """B=2, C=1, n=8, T=1. Sample 0: Y = 2, D = 1. Sample 1: Y = 1, D = +-2 alternating."""
    target = torch.tensor([2.0, 1.0], dtype=F64).view(2, 1, 1, 1).expand(2, 1, 8, 1).clone()
    diff = torch.ones(2, 1, 8, 1, dtype=F64)
    diff[1, 0, :, 0] = 2.0 * torch.tensor([1.0, -1.0] * 4, dtype=F64)
    return target + diff, target


def test_hand_rmse_nrmse_rel_l2() -> None:
    pred, target = _two_samples_1d()
    # per-sample RMS errors 1 and 2
    assert close(value(PDEBenchRMSE, pred, target, 1), 1.5)
    # ratios 1/2 and 2/1; the mean of the ratios (1.25), not the ratio of the means (1.0)
    assert close(value(PDEBenchNRMSE, pred, target, 1), 1.25)
    # ||D|| / ||Y|| = sqrt(8)/sqrt(32) and sqrt(32)/sqrt(8)
    assert close(value(RelL2, pred, target, 1), 1.25)


def test_hand_crmse_per_channel() -> None:
    pred, target = _two_samples_1d()
    # channel 1: constant error 3 in both samples
    pred = torch.cat([pred, target + 3.0], dim=1)
    target = torch.cat([target, target], dim=1)
    out = value(PDEBenchCRMSE, pred, target, 1)
    # channel 0: spatial-mean errors 1 and 0 -> sqrt((1 + 0) / 2)
    assert out.shape == (2, 1)
    assert close(out[0], math.sqrt(0.5)) and close(out[1], 3.0)


def test_hand_max_error_is_max_over_samples_not_mean() -> None:
    pred, target = _two_samples_1d()
    assert close(value(PDEBenchMaxError, pred, target, 1), 2.0)  # the mean would be 1.5
    target = torch.zeros(3, 1, 4, 4, 1, dtype=F64)
    pred = target.clone()
    pred[1, 0, 2, 3, 0] = -10.0
    assert close(value(PDEBenchMaxError, pred, target, 2), 10.0)  # the mean would be 10/3
    assert close(value(PDEBenchRMSE, pred, target, 2), 10.0 / 4.0 / 3.0)  # RMS 10/4 in 1 of 3


def test_hand_per_frame() -> None:
    target = torch.zeros(2, 1, 5, 5, 3, dtype=F64)
    pred = target + torch.tensor([1.0, -2.0, 3.0], dtype=F64)  # constant error per frame
    expect = torch.tensor([[1.0, 2.0, 3.0]], dtype=F64)
    for cls in (PDEBenchRMSE, PDEBenchCRMSE, PDEBenchMaxError, PDEBenchBRMSE):
        assert torch.allclose(value(cls, pred, target, 2), expect)


def test_hand_brmse_1d() -> None:
    target = torch.zeros(2, 1, 6, 1, dtype=F64)
    pred = target.clone()
    pred[0, 0, :, 0] = torch.tensor([3.0, 50.0, 50.0, 50.0, 50.0, 4.0])  # interior ignored
    pred[1, 0, :, 0] = torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    assert close(value(PDEBenchBRMSE, pred, target, 1), (math.sqrt(12.5) + 1.0) / 2)


def test_hand_brmse_2d_corners_twice() -> None:
    # n_x = 4, n_y = 3, D = x index. Edges: x=0 row 3*0, x=3 row 3*9, y=0 and y=2 columns 0+1+4+9
    target = torch.zeros(1, 1, 4, 3, 1, dtype=F64)
    pred = torch.arange(4, dtype=F64).view(1, 1, 4, 1, 1).expand(1, 1, 4, 3, 1).clone()
    pred[0, 0, 1:3, 1, 0] = 100.0  # the two interior points do not count
    assert close(value(PDEBenchBRMSE, pred, target, 2), math.sqrt((27 + 14 + 14) / (2 * 4 + 2 * 3)))


def test_hand_brmse_3d_face_multiplicity() -> None:
    target = torch.zeros(1, 1, 3, 4, 5, 1, dtype=F64)
    divisor = 2 * (3 * 4 + 4 * 5 + 3 * 5)
    corner = target.clone()
    corner[0, 0, 0, 0, 0, 0] = 1.0  # on three faces
    assert close(value(PDEBenchBRMSE, corner, target, 3), math.sqrt(3 / divisor))
    edge = target.clone()
    edge[0, 0, 0, 0, 2, 0] = 1.0  # on two faces
    assert close(value(PDEBenchBRMSE, edge, target, 3), math.sqrt(2 / divisor))
    inner = target + 1.0
    inner[0, 0, 1, 1:3, 1:4, 0] = 7.0  # interior only
    assert close(value(PDEBenchBRMSE, inner, target, 3), 1.0)


@pytest.mark.parametrize("d", DIMS)
def test_hand_frmse_constant_error_in_shell_zero(d: int) -> None:
    space = (32,) if d == 1 else (26, 28) if d == 2 else (26, 27, 26)
    target = torch.randn(2, 1, *space, 1, dtype=F64)
    pred = target - 3.0  # F(D)_0 = -3 N, so E_0 = 3 and E_r = 0 for r > 0
    metric = PDEBenchFRMSELow(spatial_dims=d)
    metric.update(pred, target)
    errors = metric.shell_errors()[0, 0]
    assert close(errors[:1], 3.0) and float(errors[1:].abs().max()) < 1e-12
    assert close(metric.compute(), 3.0 / 4)
    assert float(value(PDEBenchFRMSEMid, pred, target, d).abs().max()) < 1e-12
    assert float(value(PDEBenchFRMSEHigh, pred, target, d).abs().max()) < 1e-12


def _mode(space: tuple[int, ...], k: tuple[int, ...]) -> torch.Tensor:
    grids = torch.meshgrid(*(torch.arange(n, dtype=F64) for n in space), indexing="ij")
    return torch.cos(2 * math.pi * sum(ki * g / n for ki, g, n in zip(k, grids, space, strict=True)))


@pytest.mark.parametrize(
    ("space", "k", "shell", "band", "n_band_shells"),
    [
        ((32,), (2,), 2, PDEBenchFRMSELow, 4),
        ((32, 32), (3, 4), 5, PDEBenchFRMSEMid, 8),
        ((32, 30), (12, 5), 13, PDEBenchFRMSEHigh, 3),  # R = 30 // 2 = 15: shells 12, 13, 14
        ((26, 26, 27), (1, 2, 2), 3, PDEBenchFRMSELow, 4),
        ((26, 26, 27), (6, 6, 7), 11, PDEBenchFRMSEMid, 8),
    ],
)
def test_hand_frmse_single_mode(space, k, shell, band, n_band_shells) -> None:
    # amplitudes 1 and 3 in the two samples: |F| = a N / 2 at index k (its mirror is dropped),
    # so E_shell = sqrt((1 + 9) / 2) / 2 and the band value is E_shell / (shells in the band)
    wave = _mode(space, k)
    pred = torch.stack([wave, 3.0 * wave]).view(2, 1, *space, 1)
    target = torch.zeros_like(pred)
    e_shell = math.sqrt(5.0) / 2
    for cls in FRMSE:
        metric = cls(spatial_dims=len(space))
        metric.update(pred, target)
        errors = metric.shell_errors()[0, 0]
        assert abs(float(errors[shell]) - e_shell) < 1e-10
        assert float(torch.cat([errors[:shell], errors[shell + 1 :]]).abs().max()) < 1e-10
        expect = e_shell / n_band_shells if cls is band else 0.0
        assert abs(float(metric.compute()) - expect) < 1e-10


def test_hand_frmse_1d_keeps_the_nyquist_bin() -> None:
    # D = a (-1)^j on n = 32 points: all of it is rfft bin 16 (Nyquist), |F_16| = a n (no mirror
    # to split with). Amplitudes 1 and 3: E_16 = sqrt((1 + 9) / 2) = sqrt(5); the high band is
    # the mean over bins 12..16 (5 bins, as PDEBench's rfft keeps all n // 2 + 1 bins)
    alt = torch.tensor([1.0, -1.0] * 16, dtype=F64)
    pred = torch.stack([alt, 3.0 * alt]).view(2, 1, 32, 1)
    target = torch.zeros_like(pred)
    metric = PDEBenchFRMSEHigh(spatial_dims=1)
    metric.update(pred, target)
    errors = metric.shell_errors()[0, 0]
    assert errors.shape == (17,)
    assert abs(float(errors[16]) - math.sqrt(5.0)) < 1e-10
    assert float(errors[:16].abs().max()) < 1e-10
    assert abs(float(metric.compute()) - math.sqrt(5.0) / 5) < 1e-10
    # 2D keeps 0 <= i < n // 2 only: the Nyquist row (16, 0) is in no shell
    row = alt.view(32, 1).expand(32, 32)
    pred2 = torch.stack([row, 3.0 * row]).view(2, 1, 32, 32, 1)
    for cls in FRMSE:
        assert float(value(cls, pred2, torch.zeros_like(pred2), 2).abs().max()) < 1e-10


@pytest.mark.parametrize("d", DIMS)
def test_hand_frmse_domain_lengths(d: int) -> None:
    # PDEBench multiplies E_r by L_x (L_y, L_z): constant error 3 on [-1, 1]^d: E_0 = 3 * 2^d
    space = (32,) if d == 1 else (26, 28) if d == 2 else (26, 27, 26)
    target = torch.randn(2, 1, *space, 1, dtype=F64)
    pred = target - 3.0

    def meta(extent: tuple[tuple[float, float], ...]) -> DatasetMeta:
        return DatasetMeta(name="toy", spatial_dims=d, resolution=space, input_fields=("a",),
                           output_fields=("u",), extent=extent)

    metric = PDEBenchFRMSELow(meta(((-1.0, 1.0),) * d))
    assert metric.domain_lengths == (2.0,) * d
    metric.update(pred, target)
    assert close(metric.shell_errors()[0, 0, :1], 3.0 * 2**d)
    assert close(metric.compute(), 3.0 * 2**d / 4)
    # lengths 2, 0.5 (and 1): product 1, the unit-domain value; an empty extent means unit lengths
    product_one = meta(((0.0, 2.0), (5.0, 5.5), (0.0, 1.0))[:d]) if d > 1 else meta(((0.0, 1.0),))
    for m in (product_one, meta(())):
        unit = PDEBenchFRMSELow(m)
        unit.update(pred, target)
        assert close(unit.compute(), 3.0 / 4)
    with pytest.raises(ValueError, match="finite and positive"):
        PDEBenchFRMSELow(meta(((0.0, 0.0),) + ((0.0, 1.0),) * (d - 1)))


@pytest.mark.parametrize(
    ("cls", "d", "n"),
    # the first n where the band is empty below the threshold (1D: n // 2 + 1 bins; 2D/3D:
    # min(n) // 2 shells, so an odd n = 2 r + 1 lacks shell r)
    [(PDEBenchFRMSEHigh, 2, 25), (PDEBenchFRMSEMid, 2, 9), (PDEBenchFRMSEHigh, 1, 23),
     (PDEBenchFRMSEMid, 1, 7)],
)
def test_frmse_band_empty_on_small_grid_raises(cls: type[Metric], d: int, n: int) -> None:
    other = (40,) * (d - 1)

    def meta(m: int) -> DatasetMeta:
        return DatasetMeta(name="toy", spatial_dims=d, resolution=(m, *other),
                           input_fields=("a",), output_fields=("u",))

    metric = cls(spatial_dims=d)
    metric.update(torch.ones(1, 1, n, *other, 1), torch.zeros(1, 1, n, *other, 1))
    grid = rf"\({n}, 40\)" if d == 2 else rf"\({n},\)"
    with pytest.raises(ValueError, match=rf"band '(high|mid)'.*grid {grid}.*needs.* >= {n + 1}"):
        metric.compute()
    assert f">= {n + 1}" in cls.applicable(meta(n))
    ok = cls(spatial_dims=d)  # one more point along the short axis is enough
    ok.update(torch.ones(1, 1, n + 1, *other, 1), torch.zeros(1, 1, n + 1, *other, 1))
    assert ok.compute().shape == (1, 1)
    assert cls.applicable(meta(n + 1)) is None


@pytest.mark.parametrize("cls", RELATIVE)
def test_zero_target_raises_naming_the_channel(cls: type[Metric]) -> None:
    meta = DatasetMeta(name="toy", spatial_dims=1, resolution=(8,), input_fields=("a",),
                       output_fields=("u", "v"))
    target = torch.ones(2, 2, 8, 3)
    target[1, 1, :, 2] = 0.0  # channel v, second sample, last frame
    with pytest.raises(ValueError, match=rf"{cls.name}.*channel 1 \('v'\).*sample 1.*frame 2"):
        cls(meta).update(target + 1.0, target)


# ---------------------------------------------------------------- properties


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("cls", ALL)
@PROPS
@given(data=st.data())
def test_zero_on_identical_inputs(cls: type[Metric], d: int, data: st.DataObject) -> None:
    _, target = data.draw(fields(cls, d))
    out = value(cls, target.clone(), target, d)
    assert out.shape == (target.shape[1], target.shape[-1])
    assert float(out.abs().max()) < 1e-12


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("cls", ALL)
@PROPS
@given(data=st.data(), scale=st.floats(0.01, 100.0), negative=st.booleans())
def test_scale_behaviour(cls, d, data, scale, negative) -> None:
    pred, target = data.draw(fields(cls, d))
    s = -scale if negative else scale
    base = value(cls, pred, target, d)
    assert float(base.min()) > 0
    if cls in RELATIVE:  # invariant when P and Y are both scaled
        assert torch.allclose(value(cls, s * pred, s * target, d), base, rtol=1e-9)
    else:  # proportional to |s| when D is scaled
        scaled = value(cls, target + s * (pred - target), target, d)
        assert torch.allclose(scaled, scale * base, rtol=1e-9)


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("cls", ALL)
@PROPS
@given(data=st.data())
def test_batches_merge_and_ddp_equal_one_pass(cls, d, data) -> None:
    pred, target = data.draw(fields(cls, d))
    cut = data.draw(st.integers(1, pred.shape[0] - 1))
    whole = value(cls, pred, target, d)
    halves = [(pred[:cut], target[:cut]), (pred[cut:], target[cut:])]

    # two updates of one instance
    metric = cls(spatial_dims=d)
    for p, y in halves:
        metric.update(p, y)
    assert torch.allclose(metric.compute(), whole, rtol=1e-12)

    # merge_state of two instances (torchmetrics applies each state's dist_reduce_fx)
    first, second = cls(spatial_dims=d), cls(spatial_dims=d)
    first.update(*halves[0])
    second.update(*halves[1])
    first.merge_state(second)
    assert torch.allclose(first.compute(), whole, rtol=1e-12)

    # a simulated two-rank all_gather through torchmetrics' own sync path
    ranks: list[Metric] = []

    def all_gather(tensor: torch.Tensor, group=None) -> list[torch.Tensor]:
        attr = next(a for a in ranks[0]._defaults if getattr(ranks[0], a) is tensor)
        return [tensor, getattr(ranks[1], attr)]

    ranks += [
        cls(spatial_dims=d, dist_sync_fn=all_gather, distributed_available_fn=lambda: True),
        cls(spatial_dims=d),
    ]
    for rank, (p, y) in zip(ranks, halves, strict=True):
        rank.update(p, y)
    assert torch.allclose(ranks[0].compute(), whole, rtol=1e-12)


@pytest.mark.parametrize("cls", RELATIVE)
@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    d=st.sampled_from(DIMS),
    channel=st.integers(0, 2),
    sample=st.integers(0, 2),
    frame=st.integers(0, 1),
)
def test_zero_target_always_raises(cls, d, channel, sample, frame) -> None:
    target = torch.rand(3, 3, *([4] * d), 2) + 0.1
    target[sample, channel, ..., frame] = 0.0
    with pytest.raises(ValueError, match=rf"channel {channel}"):
        value(cls, target + 1.0, target, d)


@pytest.mark.parametrize("d", DIMS)
def test_nrmse_equals_rel_l2(d: int) -> None:
    target = torch.randn(3, 2, *([5] * d), 2, dtype=F64)
    pred = target + 0.3 * torch.randn_like(target)
    assert torch.allclose(value(PDEBenchNRMSE, pred, target, d), value(RelL2, pred, target, d))
