"""Metric family ``well`` (The Well, NeurIPS 2024): parity with the_well 1.2.0's own metric
classes on stored values (tests/fixtures/well_metrics), hand-computed cases, masks,
accumulation, and the log-spaced time windows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torchmetrics import Metric

from pdebench.data.meta import DatasetMeta
from pdebench.metrics.collection import FieldMetrics
from pdebench.metrics.well_family import (
    EPS,
    FACTORIES,
    WellLInf,
    WellMAE,
    WellMSE,
    WellNMAE,
    WellNMSE,
    WellNRMSE,
    WellPearsonR,
    WellRMSE,
    WellVMSE,
    WellVRMSE,
    log_windows,
    spectral_bins,
    window_means,
)

F64 = torch.float64
FIXTURE = Path(__file__).parents[1] / "fixtures" / "well_metrics" / "well_metrics.npz"
ALL = [cls for cls, _ in FACTORIES.values()]
SPATIAL = [WellMSE, WellRMSE, WellMAE, WellNMAE, WellNMSE, WellNRMSE, WellVMSE, WellVRMSE,
           WellLInf, WellPearsonR]
SPECTRAL_MSE = [FACTORIES[f"well/spectral_mse_bin{i}"][0] for i in range(3)]
SPECTRAL_NMSE = [FACTORIES[f"well/spectral_nmse_bin{i}"][0] for i in range(3)]


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as z:
        return {k: z[k] for k in z.files}


def harness(x: np.ndarray) -> torch.Tensor:
    """The Well's (B, T, *spatial, C) -> the harness's (B, C, *spatial, T)."""
    return torch.from_numpy(x).movedim(-1, 1).movedim(2, -1)


def value(cls: type[Metric], pred: torch.Tensor, target: torch.Tensor, mask=None,
          spatial_dims: int | None = None) -> torch.Tensor:
    metric = cls(spatial_dims=spatial_dims or pred.ndim - 3)
    metric.update(pred, target, mask=mask)
    return metric.compute()


def random_pair(shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    target = torch.randn(shape, generator=gen, dtype=F64) + 0.5
    return target + 0.3 * torch.randn(shape, generator=gen, dtype=F64), target


# ---------------------------------------------------------------- contract


def test_factories_cover_the_names_and_are_registered() -> None:
    from pdebench.registry import METRICS

    names = {f"well/{m}" for m in ("mse", "rmse", "mae", "nmae", "nmse", "nrmse", "vmse",
                                   "vrmse", "linf", "pearson_r")}
    names |= {f"well/spectral_{k}_bin{i}" for k in ("mse", "nmse") for i in range(3)}
    assert set(FACTORIES) == names
    for name, (cls, desc) in FACTORIES.items():
        assert issubclass(cls, Metric) and cls.name == name and desc and cls.__doc__
        assert METRICS.get(name).target is cls
        assert cls.higher_is_better == (name == "well/pearson_r")


# ---------------------------------------------------------------- parity with the_well 1.2.0


@pytest.mark.parametrize("case", ["d1", "d2", "d2odd", "d3"])
def test_values_match_the_well(ref, case: str) -> None:
    """Every metric, per sample and as the mean over samples, equals the value The Well's own
    class computed on the same arrays (constant and zero target fields included)."""
    pred, target = harness(ref[f"{case}/pred"]), harness(ref[f"{case}/target"])
    assert pred.shape[0] >= 2 and pred.shape[1] >= 1
    for name, (cls, _) in FACTORIES.items():
        well = torch.from_numpy(ref[f"{case}/{name.removeprefix('well/')}"])  # (B, T, C)
        assert well.shape == (pred.shape[0], pred.shape[-1], pred.shape[1])
        ours = value(cls, pred, target)
        assert torch.allclose(ours, well.mean(0).T, rtol=1e-9, atol=1e-12), name
        for b in range(pred.shape[0]):
            one = value(cls, pred[b : b + 1], target[b : b + 1])
            assert torch.allclose(one, well[b].T, rtol=1e-9, atol=1e-12), (name, b)


def test_fixture_exercises_eps_and_bin_edges(ref) -> None:
    """The stored cases reach the eps terms and the float32 bin edges they are meant to."""
    y = harness(ref["d1/target"])  # field 1 constant over space: vmse = mse / 1e-7
    assert torch.equal(y[:, 1].amax(1), y[:, 1].amin(1))
    assert ref["d1/vmse"][..., 1].min() > 1e4
    assert not harness(ref["d3/target"])[:, 2].any()  # a zero target: nmse = mse / 1e-7
    assert ref["d3/nmse"][..., 2].min() > 1e4
    # 1D n = 16: |k| = pi/4 and pi/2 lie exactly on the edges pi (1/8)^(2/3) and pi (1/8)^(1/3);
    # The Well's float32 rounding puts both below the edge
    assert spectral_bins((16,)).tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0]


# ---------------------------------------------------------------- hand-computed values


def test_hand_values_1d() -> None:
    # Y = [1, 2, 3, 4], P = [1, 2, 3, 6]: D = [0, 0, 0, 2]
    target = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=F64).reshape(1, 1, 4, 1)
    pred = torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=F64).reshape(1, 1, 4, 1)
    var_y = 5.0 / 3.0  # (2.25 + 0.25 + 0.25 + 2.25) / 3
    expect = {
        WellMSE: 1.0, WellRMSE: 1.0, WellMAE: 0.5, WellLInf: 2.0,
        WellNMAE: 0.5 / (2.5 + EPS), WellNMSE: 1.0 / (7.5 + EPS),
        WellNRMSE: math.sqrt(1.0 / (7.5 + EPS)),
        WellVMSE: 1.0 / (var_y + EPS), WellVRMSE: math.sqrt(1.0 / (var_y + EPS)),
        # population covariance 2, unbiased variances 14/3 and 5/3
        WellPearsonR: 2.0 / (math.sqrt(14.0 / 3.0 * var_y) + EPS),
    }
    for cls, v in expect.items():
        assert float(value(cls, pred, target)) == pytest.approx(v, rel=1e-12), cls.name


@pytest.mark.parametrize("shape", [(3, 2, 17, 2), (2, 1, 8, 6, 3), (2, 2, 4, 5, 6, 1)])
def test_predicting_the_mean_scores_about_one(shape) -> None:
    _, target = random_pair(shape, seed=4)
    d = len(shape) - 3
    space = tuple(range(2, 2 + d))
    pred = target.mean(space, keepdim=True).expand_as(target)
    n = math.prod(shape[2:-1])
    # mse = biased variance = (n - 1) / n * unbiased variance
    assert torch.allclose(value(WellVMSE, pred, target), torch.tensor((n - 1) / n, dtype=F64),
                          rtol=1e-6)
    assert torch.allclose(value(WellVRMSE, pred, target),
                          torch.tensor(math.sqrt((n - 1) / n), dtype=F64), rtol=1e-6)


@pytest.mark.parametrize("shape", [(2, 2, 16, 3), (2, 1, 8, 6, 2), (1, 1, 9, 7, 2),
                                   (2, 1, 4, 6, 5, 1), (1, 2, 3, 5, 7, 2)])
def test_spectral_bins_sum_to_the_mse(shape) -> None:
    """Parseval: every mode is in one of the three bins."""
    pred, target = random_pair(shape, seed=5)
    total = sum(value(cls, pred, target) for cls in SPECTRAL_MSE)
    assert torch.allclose(total, value(WellMSE, pred, target), rtol=1e-12)
    bins = spectral_bins(tuple(shape[2:-1]))
    assert set(bins.unique().tolist()) <= {0, 1, 2}


def test_spectral_hand_values() -> None:
    n = 16
    x = torch.arange(n, dtype=F64)
    target = (1.0 + torch.sin(2 * math.pi * 3 * x / n)).reshape(1, 1, n, 1)
    # a constant error c: all of it in the DC mode, bin 0 = c^2
    mse = [float(value(cls, target + 0.5, target)) for cls in SPECTRAL_MSE]
    assert mse == pytest.approx([0.25, 0.0, 0.0], abs=1e-14)
    # a cosine of wavenumber 6 (|k| = 3 pi / 4, above the second edge pi / 2): bin 2 = 1/2
    err = torch.cos(2 * math.pi * 6 * x / n).reshape(1, 1, n, 1)
    mse = [float(value(cls, target + err, target)) for cls in SPECTRAL_MSE]
    assert mse == pytest.approx([0.0, 0.0, 0.5], abs=1e-14)
    # normalised by the target's energy in the same bin: the sine of wavenumber 3 (bin 1,
    # 3 pi / 8 in [pi / 4, pi / 2)) has energy 1/2; the DC mode 1
    err = 0.1 * torch.sin(2 * math.pi * 3 * x / n).reshape(1, 1, n, 1) + 0.2
    nmse = [float(value(cls, target + err, target)) for cls in SPECTRAL_NMSE]
    assert nmse == pytest.approx([0.04 / (1 + EPS), 0.005 / (0.5 + EPS), 0.0], abs=1e-14)


def test_pearson_of_an_exact_linear_relation() -> None:
    """P = 2Y + 1: The Well's population covariance over unbiased standard deviations gives
    (N - 1) / N; a decreasing relation the negative of it."""
    _, target = random_pair((2, 1, 16, 3), seed=6)
    r = value(WellPearsonR, 2 * target + 1, target)
    assert torch.allclose(r, torch.full_like(r, 15 / 16), rtol=1e-6)
    r = value(WellPearsonR, -3 * target, target)
    assert torch.allclose(r, torch.full_like(r, -15 / 16), rtol=1e-6)


def test_eps_keeps_constant_and_zero_targets_finite() -> None:
    target = torch.full((1, 2, 5, 1), 2.0, dtype=F64)
    target[:, 1] = 0.0
    pred = target + 0.1
    assert value(WellVMSE, pred, target)[:, 0].tolist() == pytest.approx([0.01 / EPS] * 2)
    assert value(WellNMSE, pred, target)[1, 0] == pytest.approx(0.01 / EPS)
    assert value(WellNMAE, pred, target)[1, 0] == pytest.approx(0.1 / EPS)
    assert value(WellPearsonR, pred, target).tolist() == [[0.0], [0.0]]


@pytest.mark.parametrize("cls", ALL)
def test_identical_inputs(cls) -> None:
    pred, target = random_pair((2, 2, 6, 5, 3), seed=7)
    v = value(cls, target, target)
    if cls is WellPearsonR:  # (N - 1) / N
        assert torch.allclose(v, torch.full_like(v, 29 / 30), rtol=1e-6)
    else:
        assert bool((v == 0).all())


@pytest.mark.parametrize("cls", ALL)
def test_scale_behaviour(cls) -> None:
    """Absolute metrics scale with the field (squared ones with its square), normalised ones
    are invariant (up to eps)."""
    pred, target = random_pair((2, 1, 8, 2), seed=8)
    base, scaled = value(cls, pred, target), value(cls, 10 * pred, 10 * target)
    power = {WellMSE: 2, WellRMSE: 1, WellMAE: 1, WellLInf: 1, **dict.fromkeys(SPECTRAL_MSE, 2)}
    if cls in power:
        assert torch.allclose(scaled, base * 10 ** power[cls], rtol=1e-12)
    else:  # eps = 1e-7 against denominators of 1e-3 (a sparse spectral bin) and more
        assert torch.allclose(scaled, base, rtol=1e-4)
        assert not torch.equal(scaled, base)


# ---------------------------------------------------------------- masks


def masked_reference(cls, pred, target, mask) -> torch.Tensor:
    """The unmasked metric on the scored cells alone, gathered into a 1D grid, per sample."""
    out = []
    for b in range(pred.shape[0]):
        keep = mask[b, 0, ..., 0].reshape(-1)
        p = pred[b : b + 1].flatten(2, -2)[:, :, keep]
        y = target[b : b + 1].flatten(2, -2)[:, :, keep]
        out.append(value(cls, p, y))
    return torch.stack(out).mean(0)


def test_mask_restricts_the_spatial_reductions() -> None:
    pred, target = random_pair((3, 2, 7, 6, 2), seed=9)
    gen = torch.Generator().manual_seed(10)
    mask = torch.rand((3, 1, 7, 6, 1), generator=gen) > 0.4
    pred_out = pred.clone()
    pred_out[~mask.expand_as(pred)] = 1e6  # whatever lies outside is never seen
    for cls in SPATIAL:
        ours = value(cls, pred_out, target, mask=mask)
        assert torch.allclose(ours, masked_reference(cls, pred, target, mask), rtol=1e-12), cls
    # spectral: D zeroed outside; the bins still sum to the masked mse
    total = sum(value(cls, pred_out, target, mask=mask) for cls in SPECTRAL_MSE)
    assert torch.allclose(total, value(WellMSE, pred, target, mask=mask), rtol=1e-12)
    everywhere = torch.ones((1, 1, 7, 6, 1), dtype=torch.bool)
    for cls in ALL:
        assert torch.allclose(value(cls, pred, target, mask=everywhere),
                              value(cls, pred, target), rtol=1e-12), cls


def test_mask_errors() -> None:
    pred, target = random_pair((2, 1, 5, 1), seed=11)
    empty = torch.ones((2, 1, 5, 1), dtype=torch.bool)
    empty[1] = False
    with pytest.raises(ValueError, match="sample 1 of this batch has 0 scored cells"):
        value(WellMSE, pred, target, mask=empty)
    single = torch.zeros((2, 1, 5, 1), dtype=torch.bool)
    single[:, :, 2] = True
    assert torch.allclose(value(WellMSE, pred, target, mask=single),
                          (pred - target)[:, :, 2].square().mean(0))
    for cls in (WellVMSE, WellVRMSE, WellPearsonR):
        with pytest.raises(ValueError, match="needs 2 active cells"):
            value(cls, pred, target, mask=single)
        with pytest.raises(ValueError, match="at least 2 grid points"):
            value(cls, pred[:, :, :1], target[:, :, :1])
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        value(WellMSE, pred, target, mask=single.double())
    with pytest.raises(ValueError, match="does not broadcast"):
        value(WellMSE, pred, target, mask=single[:, :, :3])


def test_field_metrics_pass_the_mask_from_the_inputs() -> None:
    meta = DatasetMeta(name="masked", spatial_dims=1, resolution=(6,),
                       input_fields=("a", "geometry"), output_fields=("u",),
                       masks=("geometry",))
    pred, target = random_pair((2, 1, 6, 1), seed=12)
    inputs = torch.zeros(2, 2, 6)
    inputs[:, 1, 1:4] = 1.0
    metrics = FieldMetrics({"well/vrmse": WellVRMSE, "well/pearson_r": WellPearsonR}, meta)
    metrics.update(pred, target, inputs)
    overall, per_field = metrics.compute_and_reset()
    mask = (inputs[:, 1:2] > 0.5).unsqueeze(-1)
    assert overall["well/vrmse"] == pytest.approx(
        float(masked_reference(WellVRMSE, pred, target, mask)), rel=1e-12)
    assert per_field["u"]["well/pearson_r"] == overall["well/pearson_r"]
    assert metrics.info()["well/pearson_r"] == {"higher_is_better": True}


# ---------------------------------------------------------------- accumulation


@pytest.mark.parametrize("cls", ALL)
def test_batches_equal_one_big_batch(cls) -> None:
    pred, target = random_pair((5, 2, 6, 4, 3), seed=13)
    mask = torch.rand((5, 1, 6, 4, 1), generator=torch.Generator().manual_seed(14)) > 0.3
    for m in (None, mask):
        whole = cls(spatial_dims=2)
        whole.update(pred, target, mask=m)
        split = cls(spatial_dims=2)
        split.update(pred[:2], target[:2], mask=None if m is None else m[:2])
        split.update(pred[2:], target[2:], mask=None if m is None else m[2:])
        merged = cls(spatial_dims=2)
        merged.update(pred[:1], target[:1], mask=None if m is None else m[:1])
        other = cls(spatial_dims=2)
        other.update(pred[1:], target[1:], mask=None if m is None else m[1:])
        merged.merge_state(other)
        for got in (split, merged):
            assert torch.allclose(got.compute(), whole.compute(), rtol=1e-12, atol=0)
        assert whole.compute().shape == (2, 3) and whole.compute().dtype == F64


def test_one_element_result_keeps_its_shape_and_errors_name_the_metric() -> None:
    pred, target = random_pair((2, 1, 5, 1), seed=15)
    assert value(WellRMSE, pred, target).shape == (1, 1)
    with pytest.raises(ValueError, match="well/rmse: pred shape"):
        value(WellRMSE, pred, target[..., :3, :])
    with pytest.raises(ValueError, match="well/vrmse: expected 5 dims"):
        value(WellVRMSE, pred, target, spatial_dims=2)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="before any sample"):
        WellMSE(spatial_dims=1).compute()


# ---------------------------------------------------------------- time windows


def test_log_windows_hand_values() -> None:
    assert log_windows(1) == [(0, 1)]
    assert log_windows(2) == [(0, 1), (1, 2)]
    # 10^(0, 1/4, 1/2, 3/4, 1) = 1, 1.78, 3.16, 5.62, 10
    assert log_windows(10) == [(0, 1), (1, 3), (3, 5), (5, 10)]
    # 16^(k/4) = 1, 2, 4, 8, 16 exactly: no frame is lost to rounding
    assert log_windows(16) == [(0, 1), (1, 2), (2, 4), (4, 8), (8, 16)]
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="integer >= 1"):
            log_windows(bad)


def test_log_windows_match_the_well(ref) -> None:
    """The Well's trainer's windows, without its empty windows, are ours, except a boundary it
    floors down from an exact integer T^(k/(n-1)) (its float exp(k/(n-1) ln T) falls just
    below): there ours is that integer."""
    for t in ref["windows/T"].tolist():
        ours = log_windows(t)
        assert ours[0][0] == 0 and ours[-1][1] == t
        assert all(a < b for a, b in ours)
        assert all(x[1] == y[0] for x, y in zip(ours[:-1], ours[1:], strict=True))
        keys = [str(k) for k in ref[f"windows/{t}/keys"]]
        if t == 1:  # The Well logs only T=all, which is our single window
            assert keys == [] and ours == [(0, 1)]
            continue
        well = [tuple(int(i) for i in k.split(":")) for k in keys]
        kept = [w for w in well if w[0] < w[1]]
        assert len(kept) == len(ours), t
        n = min(t, 5) - 1
        for (a, b), (c, d) in zip(ours, kept, strict=True):
            for mine, theirs in ((a, c), (b, d)):
                exact = any(mine**n == t**k for k in range(n + 1))
                assert mine == theirs or (exact and mine == theirs + 1), (t, ours, well)
        means = window_means(torch.from_numpy(ref[f"windows/{t}/values"]).T, ours)
        shared = [(k, row) for k, row in zip(keys, ref[f"windows/{t}/means"], strict=True)
                  if k in means]
        assert len(shared) >= 2  # 0:1 and 1:2 at least
        for key, row in shared:
            assert torch.allclose(means[key], torch.from_numpy(row), rtol=1e-12)


def test_window_means() -> None:
    values = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 0.0, 1.0, 1.0, 4.0]], dtype=F64)
    out = window_means(values, log_windows(5))  # 5^(k/4) = 1, 1.50, 2.24, 3.34, 5
    assert list(out) == ["0:1", "1:2", "2:3", "3:5"]
    assert out["3:5"].tolist() == [4.5, 2.5] and out["0:1"].tolist() == [1.0, 0.0]
    assert window_means(values.numpy(), [(0, 5)])["0:5"].tolist() == [3.0, 1.2]
    with pytest.raises(ValueError, match=r"window \(3, 7\) is not a non-empty range of the 5"):
        window_means(values, [(3, 7)])
    with pytest.raises(ValueError, match=r"window \(2, 2\)"):
        window_means(values, [(2, 2)])
    with pytest.raises(ValueError, match=r"must be \(C, T\)"):
        window_means(values[0], [(0, 1)])


# ---------------------------------------------------------------- end to end


@pytest.mark.slow
@pytest.mark.parametrize("system", ["operator", "rollout"])
def test_well_metrics_in_a_run_on_a_well_file(tmp_path, system: str) -> None:
    """Every well metric through run(cfg) on a tiny Well file: finite overall and per-field
    values, pearson_r recorded as higher-is-better (rollout: per window as well)."""
    from pdebench import results
    from pdebench.config import compose
    from pdebench.run import run

    from conftest import TINY
    from published_layouts import write_well

    path = write_well(tmp_path / "tiny.hdf5", B=6, T=6, nx=8, ny=8)
    tiny = [o for o in TINY if not o.startswith(("data.", "trainer.max_epochs"))]
    cfg = compose([*tiny, "data=the_well", f"data.path={path}", f"system={system}",
                   "trainer.max_epochs=1", "data.split.train=4", "data.split.val=1",
                   "data.split.test=1", "plots=false", f"metrics.names=[{','.join(FACTORIES)}]",
                   "metrics.physics=false", "checkpoint.monitor=val/well/vrmse",
                   f"paths.output_dir={tmp_path / 'run'}"])
    record = results.read(run(cfg).path)
    assert record["status"] == "ok", record.get("error")
    for name in FACTORIES:
        assert np.isfinite(record["metrics"][name]), name
        for field in ("buoyancy", "velocity_x", "stress_yy"):
            assert np.isfinite(record["metrics_per_field"][field][name]), (field, name)
    assert record["metric_info"]["well/pearson_r"] == {"higher_is_better": True}
    assert record["metrics"]["well/mse"] == pytest.approx(
        sum(record["metrics"][f"well/spectral_mse_bin{i}"] for i in range(3)), rel=1e-9)
    if system == "rollout":
        assert all("well/vrmse" in v for v in record["metrics_per_window"].values())
