"""Geometry masks in training: never normalised, outside cells neither trained on nor scored,
empty masks refused before training; end to end on ``darcy_geometries``."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from torch import nn

from pdebench import registry, results
from pdebench.config import compose
from pdebench.data.masks import EmptyMaskError, check_masks, input_mask, mask_channels
from pdebench.data.meta import DatasetMeta
from pdebench.data.module import PDEDataModule
from pdebench.data.normalize import ChannelNormalizer, fit_channel_stats
from pdebench.data.source import DataSource
from pdebench.metrics import pdebench_family as pf
from pdebench.run import run
from pdebench.systems.operator import OperatorSystem, masked_mse_loss, relative_l2_loss
from pdebench.testing import tiny_datamodule

NAME = "darcy_geometries"


@functools.cache
def _dm() -> PDEDataModule:
    return tiny_datamodule(NAME)


class Outside(nn.Module):
    """A convolution plus ``shift`` on the cells outside the geometry: it reads the mask input,
    which reaches it unnormalised (0/1)."""

    def __init__(self, shift: float) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(2, 1, 3, padding=1)
        self.shift = shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + self.shift * (x[:, 1:2] <= 0.5)


def _system(shift: float, loss: str = "rel_l2") -> OperatorSystem:
    dm = _dm()
    metrics = {n: pf.FACTORIES[n][0] for n in ("pdebench/rmse", "pdebench/nrmse",
                                               "pdebench/max_error", "pdebench/brmse",
                                               "pdebench/frmse_low", "rel_l2")}
    system = OperatorSystem(model=Outside(shift), metas={NAME: dm.meta},
                            metrics={NAME: metrics},
                            optimizer=functools.partial(torch.optim.Adam, lr=1e-3), loss=loss)
    system.set_normalizers({NAME: dm.stats})
    return system


def _batch() -> dict[str, torch.Tensor]:
    return next(iter(_dm().test_dataloader()))


def test_mask_channels_are_not_normalised():
    dm = _dm()
    (c,) = mask_channels(dm.meta)
    assert dm.meta.input_fields[c] == "mask"
    mean, std = dm.stats["x"]
    assert float(mean[c]) == 0.0 and float(std[c]) == 1.0
    other = 1 - c
    assert float(std[other]) != 1.0  # log_k is normalised as before
    x = _batch()["x"]
    for dtype in (torch.float32, torch.float64):
        norm = ChannelNormalizer(2).to(dtype)
        norm.set_stats(mean.to(dtype), std.to(dtype))
        enc = norm.encode(x.to(dtype))
        assert torch.equal(enc[:, c], x[:, c].to(dtype))  # bit for bit, 0 and 1 stay 0 and 1
        assert not torch.allclose(enc[:, other], x[:, other].to(dtype))
        assert torch.equal(norm.decode(enc)[:, c], x[:, c].to(dtype))


def test_fit_channel_stats_identity_channels():
    data = [{"x": torch.tensor([[1.0, 3.0], [0.0, 1.0]])} for _ in range(4)]
    mean, std = fit_channel_stats(data, range(4), "x", identity=(1,))
    assert mean.tolist() == [2.0, 0.0] and std.tolist() == [1.0, 1.0]
    mean, _ = fit_channel_stats(data, range(4), "x")
    assert mean.tolist() == [2.0, 0.5]
    with pytest.raises(ValueError, match=r"identity channels \[2\] of field 'x' do not exist"):
        fit_channel_stats(data, range(4), "x", identity=(2,))


def test_masked_losses_hand_computed():
    pred = torch.tensor([[[1.0, 2.0, 5.0, 7.0]]])
    target = torch.tensor([[[1.0, 0.0, 1.0, 9.0]]])
    mask = torch.tensor([[[True, True, True, False]]])
    assert float(masked_mse_loss(pred, target, mask)) == pytest.approx((0 + 4 + 16) / 3)
    assert float(relative_l2_loss(pred, target, mask)) == pytest.approx(
        math.sqrt(20) / math.sqrt(2))
    # without a mask: the plain definitions
    assert float(masked_mse_loss(pred, target)) == pytest.approx((0 + 4 + 16 + 4) / 4)
    assert float(relative_l2_loss(pred, target)) == pytest.approx(math.sqrt(24) / math.sqrt(83))


@pytest.mark.parametrize("loss", ["rel_l2", "mse"])
def test_loss_and_metrics_ignore_cells_outside(loss):
    batch = _batch()
    assert bool((batch["x"][:, 1] <= 0.5).any()), "the tiny geometries must leave cells outside"
    values = []
    for shift in (0.0, 1e3):
        system = _system(shift, loss)
        total, _ = system.training_losses(batch)
        with torch.no_grad():
            system.test_metrics.update(system(batch["x"]), batch["y"], batch["x"])
        values.append((float(total.detach()), system.test_metrics.compute_and_reset()[0]))
    assert values[0][0] == pytest.approx(values[1][0], rel=1e-6)
    assert values[0][1] == pytest.approx(values[1][1], rel=1e-6)
    # the same shift inside the geometry does change them
    system = _system(0.0, loss)
    shifted = {"x": batch["x"], "y": batch["y"] + 10.0 * (batch["x"][:, 1:2] > 0.5)}
    assert float(system.training_losses(shifted)[0]) != pytest.approx(values[0][0], rel=1e-3)


class _Holes(DataSource):
    """Ten 1D samples with a mask channel; sample ``empty`` has no active cell."""

    def __init__(self, empty: int = 7) -> None:
        self.empty = empty

    @property
    def meta(self) -> DatasetMeta:
        return DatasetMeta(name="holes_test", spatial_dims=1, resolution=(8,),
                           input_fields=("a", "mask"), output_fields=("u",), masks=("mask",))

    def open(self):
        out = []
        for i in range(10):
            mask = torch.zeros(8) if i == self.empty else (torch.arange(8) % 3 > 0).float()
            a = torch.linspace(0, 1, 8) + i
            out.append({"x": torch.stack([a, mask]), "y": (a * mask)[None]})
        return out


def test_empty_mask_is_refused_at_setup():
    dm = PDEDataModule(_Holes(), batch_size=4, split={"train": 6, "val": 2, "test": 2})
    with pytest.raises(EmptyMaskError, match=r"dataset 'holes_test': sample 7 has no active cell "
                                             r"in its geometry mask 'mask' \(input channel 1"):
        dm.setup()
    ok = PDEDataModule(_Holes(empty=-1), batch_size=4, split={"train": 6, "val": 2, "test": 2})
    ok.setup()
    assert ok.stats["x"][0][1] == 0 and ok.stats["x"][1][1] == 1


def test_check_masks_names_the_sample_and_the_masks():
    meta = DatasetMeta(name="two", spatial_dims=1, resolution=(4,), input_fields=("m1", "m2"),
                       output_fields=("u",), masks=("m1", "m2"))
    x = torch.tensor([[[1.0, 1, 0, 0], [0, 0, 1, 1]], [[1.0, 1, 0, 0], [1, 0, 0, 0]]])
    data = [{"x": x[0]}, {"x": x[1]}]
    with pytest.raises(EmptyMaskError, match="sample 0 has no cell inside all of its geometry "
                                             r"masks \['m1', 'm2'\]"):
        check_masks(data, [0, 1], meta, "dataset 'two'")
    check_masks(data, [1], meta, "dataset 'two'")
    assert input_mask(meta, x)[1, 0].tolist() == [True, False, False, False]
    bad = DatasetMeta(name="bad", spatial_dims=1, resolution=(4,), input_fields=("a",),
                      output_fields=("u",), masks=("m",))
    with pytest.raises(ValueError, match=r"names \['m'\], which are not input fields"):
        mask_channels(bad)


def test_empty_mask_fails_the_run_before_training(tmp_path):
    api = registry.PluginAPI("test")
    api.register_dataset("holes_test", _Holes, "test only",
                         config={"name": "holes_test", "_target_": f"{__name__}._Holes",
                                 "split": {"train": 6, "val": 2, "test": 2}})
    try:
        cfg = compose(["data=holes_test", "model=fno", "debug=fast", "logger=none",
                       f"paths.output_dir={tmp_path / 'r'}", "trainer.accelerator=cpu"])
        with pytest.raises(EmptyMaskError, match="sample 7 has no active cell"):
            run(cfg)
    finally:
        registry.DATASETS._remove("holes_test")
    record = results.read(tmp_path / "r" / "result.json")
    assert record["status"] == "failed" and record["train_time_s"] is None
    assert "sample 7" in record["error"]["message"]


def test_fno_on_darcy_geometries_end_to_end(tmp_path):
    cfg = compose(["model=fno", f"data={NAME}", "debug=fast", "logger=none", "plots=false",
                   f"paths.output_dir={tmp_path / 'r'}", "trainer.accelerator=cpu"])
    record = run(cfg).record
    assert record["status"] == "ok"
    for name in ("pdebench/nrmse", "pdebench/brmse", "pdebench/frmse_low", "rel_l2"):
        assert np.isfinite(record["metrics"][name]), name
    ckpt = torch.load(record["checkpoint"], map_location="cpu", weights_only=True)
    c = mask_channels(_dm().meta)[0]
    assert float(ckpt["state_dict"]["x_norm.mean"][c]) == 0.0
    assert float(ckpt["state_dict"]["x_norm.std"][c]) == 1.0
