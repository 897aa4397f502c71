"""system=rollout: hand-checked rollouts, the three training modes, windows, metrics over time,
result.json keys, resume, bad input, and end-to-end runs on 1D and 2D data."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from pdebench import results
from pdebench.config import compose
from pdebench.data.meta import DatasetMeta
from pdebench.data.trajectories import TrajectoryReader, TrajectoryWindows
from pdebench.metrics.pdebench_family import PDEBenchRMSE
from pdebench.run import build_datasets, build_model, build_system, run, system_class
from pdebench.systems.rollout import (
    RolloutDivergedError,
    RolloutSystem,
    field_stats,
    rollout_fields,
)

# --- small pieces ------------------------------------------------------------------------------


def test_field_stats_pool_the_lags():
    # history 2, one field: lag means 1 and 3, stds 1 and 1 -> mean 2, var (2 + 10)/2 - 4 = 2;
    # then one constant channel with its own statistics
    mean, std = torch.tensor([1.0, 3.0, 7.0]), torch.tensor([1.0, 1.0, 0.5])
    fm, fs, cm, cs = field_stats(mean, std, history=2, n_fields=1)
    assert fm.tolist() == [2.0] and fs.tolist() == pytest.approx([math.sqrt(2.0)])
    assert cm.tolist() == [7.0] and cs.tolist() == [0.5]


def test_rollout_fields_name_the_frames_ahead():
    assert rollout_fields(("u", "v"), 1) == ("u", "v")
    assert rollout_fields(("u", "v"), 2) == ("u[t+1]", "v[t+1]", "u[t+2]", "v[t+2]")


class ArrayReader(TrajectoryReader):
    """Trajectories held in memory, ``(N, T, C, *spatial)``."""

    def __init__(self, u: np.ndarray, const: np.ndarray | None = None) -> None:
        super().__init__("<memory>")
        self.u = u.astype(np.float32)
        self.n_trajectories, self.n_frames, self.n_channels = u.shape[:3]
        self.const = const
        if const is not None:
            self.const_fields = ("k",)

    def _read(self, index: int, frames: slice) -> np.ndarray:
        return self.u[index, frames]

    def constants(self, index: int) -> np.ndarray:
        return self.const[index].astype(np.float32)


def test_windows_with_future_frames_and_selected_trajectories():
    u = np.arange(2 * 6 * 1 * 3, dtype=np.float32).reshape(2, 6, 1, 3)
    one_step = TrajectoryWindows(ArrayReader(u), history=2)
    assert len(one_step) == 2 * 4 and one_step[0]["y"].shape == (1, 3)  # unchanged behaviour
    w = TrajectoryWindows(ArrayReader(u), history=2, stride=2, future=2, trajectories=[1])
    assert len(w) == 2 and w.groups.tolist() == [1, 1]  # starts 0 and 2 of trajectory 1
    s = w[1]
    assert s["x"].tolist() == u[1, 2:4].reshape(2, 3).tolist()
    assert s["y"].shape == (1, 3, 2)  # time last
    assert s["y"][..., 0].tolist() == u[1, 4].tolist() and s["y"][..., 1].tolist() == \
        u[1, 5].tolist()
    whole = TrajectoryWindows(ArrayReader(u), history=1, future=5)
    assert len(whole) == 2 and whole[0]["y"].shape == (1, 3, 5)
    with pytest.raises(ValueError, match="too few for history=2 and 5 frames out"):
        TrajectoryWindows(ArrayReader(u), history=2, future=5)


# --- hand-checked rollouts ---------------------------------------------------------------------


def _meta(history: int = 1, fields=("u",), const=(), masks=(), n: int = 8) -> DatasetMeta:
    lags = [f"{f}[t-{history - 1 - j}]" if history - 1 - j else f"{f}[t]"
            for j in range(history) for f in fields]
    return DatasetMeta(name="toy", spatial_dims=1, resolution=(n,),
                       input_fields=(*lags, *const), output_fields=tuple(fields),
                       time={"n_frames": 6}, masks=tuple(masks), constant_fields=tuple(const),
                       extra={"history": history})


def _system(model: nn.Module, meta: DatasetMeta, **options) -> RolloutSystem:
    metrics = {"data": {"pdebench/rmse": PDEBenchRMSE}}
    system = RolloutSystem(model, {"data": meta}, metrics, torch.optim.SGD, **options)
    c = len(meta.input_fields)
    system.set_normalizers({"data": {"x": (torch.zeros(c), torch.ones(c)),
                                     "y": (torch.zeros(1), torch.ones(1))}})
    return system


def _scale(a: float) -> nn.Module:
    """The linear model u_{t+1} = a u_t (a 1x1 convolution without bias)."""
    conv = nn.Conv1d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(a)
    return conv


def _trajectories(seed: int = 0) -> torch.Tensor:
    return torch.randn(3, 6, 1, 8, generator=torch.Generator().manual_seed(seed))  # (N, T, C, X)


def test_linear_model_rollout_is_its_powers():
    u = _trajectories()
    system = _system(_scale(0.5), _meta())
    pred = system.rollout(u[:, 0], 5)  # (B, C, X, T)
    for k in range(5):
        torch.testing.assert_close(pred[..., k], u[:, 0] * 0.5 ** (k + 1))


def _test_epoch(system: RolloutSystem, x: torch.Tensor, y: torch.Tensor) -> dict:
    with warnings.catch_warnings():  # self.log outside a trainer
        warnings.simplefilter("ignore")
        system.on_test_epoch_start()
        system.test_step({"x": x, "y": y}, 0)
        system.on_test_epoch_end()
    return system.test_results


def test_identity_model_error_curve_is_the_drift_from_the_first_frame():
    u = _trajectories(1)
    system = _system(nn.Identity(), _meta())
    res = _test_epoch(system, u[:, 0], u[:, 1:].permute(0, 2, 3, 1))
    # by hand: rmse at step k = mean over trajectories of sqrt(mean_x (u_k - u_0)^2)
    hand = [float(((u[:, k] - u[:, 0]) ** 2).mean((1, 2)).sqrt().mean()) for k in range(1, 6)]
    assert res["rollout_curve"]["step"] == [1, 2, 3, 4, 5]
    assert res["rollout_curve"]["pdebench/rmse"] == pytest.approx(hand, rel=1e-6)
    assert res["metrics"]["pdebench/rmse"] == pytest.approx(np.mean(hand), rel=1e-6)
    # windows of 5 frames: [0, 1, 1, 2, 3, 5] -> 0:1, 1:2, 2:3, 3:5
    assert res["metrics_per_window"] == {
        "0:1": {"pdebench/rmse": pytest.approx(hand[0], rel=1e-6)},
        "1:2": {"pdebench/rmse": pytest.approx(hand[1], rel=1e-6)},
        "2:3": {"pdebench/rmse": pytest.approx(hand[2], rel=1e-6)},
        "3:5": {"pdebench/rmse": pytest.approx(np.mean(hand[3:]), rel=1e-6)}}
    assert res["metrics_per_field"]["u"]["pdebench/rmse"] == pytest.approx(np.mean(hand), 1e-6)


def test_multi_frame_model_slides_by_n_out():
    # history 2, n_out 2, the model returns its window: frames u0, u1, u0, u1, u0 ...
    u = _trajectories(2)
    meta = _meta(history=2)
    system = _system(nn.Identity(), meta, n_out=2)
    assert RolloutSystem.model_meta({"data": meta}, {"n_out": 2}).output_fields == \
        ("u[t+1]", "u[t+2]")
    x = u[:, :2].flatten(1, 2)
    pred = system.rollout(x, 3)  # 2 calls, the last frame of the second dropped
    assert pred.shape == (3, 1, 8, 3)
    for k, src in enumerate([0, 1, 0]):
        torch.testing.assert_close(pred[..., k], u[:, src])


def test_constants_are_appended_and_masks_never_normalised():
    seen = {}

    class Probe(nn.Module):
        def forward(self, x):
            seen["x"] = x
            return x[:, :1]

    meta = _meta(const=("k", "mask"), masks=("mask",))
    system = RolloutSystem(Probe(), {"data": meta}, {"data": {}}, torch.optim.SGD)
    system.set_normalizers({"data": {"x": (torch.tensor([1.0, 2.0, 0.5]),
                                           torch.tensor([2.0, 4.0, 0.5])),
                                     "y": (torch.zeros(1), torch.ones(1))}})
    x = torch.stack([torch.full((8,), 5.0), torch.full((8,), 6.0), torch.ones(8)])[None]
    pred = system.rollout(x, 2)
    got = seen["x"][0, :, 0].tolist()
    assert got == pytest.approx([(5 - 1) / 2, (6 - 2) / 4, 1.0])  # the mask stays 0/1
    torch.testing.assert_close(pred[0, 0, :, 1], torch.full((8,), 5.0))


@pytest.mark.parametrize("loss", ["mse", "rel_l2"])
def test_cells_outside_the_mask_are_not_trained_on(loss):
    # u_{t+1} = u_t; the model is right on cells 0..3 and wrong (x 0.5) on cells 4..7
    class Model(nn.Module):
        def forward(self, x):
            return x[:, :1] * torch.where(torch.arange(8) < 4, 1.0, 0.5)

    u = _trajectories(6)[:, :2]
    u[:, 1] = u[:, 0]
    mask = (torch.arange(8) < 4).float().expand(3, 1, 8)
    system = _system(Model(), _meta(const=("mask",), masks=("mask",)), loss=loss)
    batch = {"x": torch.cat([u[:, 0], mask], 1), "y": u[:, 1:].permute(0, 2, 3, 1)}
    assert float(system.training_loss(batch)) == 0.0
    batch["x"][:, 1] = 1.0  # every cell inside: the wrong half counts
    assert float(system.training_loss(batch)) > 0.0


def test_a_diverging_rollout_names_the_step():
    u = _trajectories(3)
    system = _system(_scale(1e30), _meta())  # |u| ~ 1: step 1 ~ 1e30, step 2 overflows float32
    with pytest.raises(RolloutDivergedError, match=r"not finite from step 2 of 5 .*frame 2 of"):
        _test_epoch(system, u[:, 0], u[:, 1:].permute(0, 2, 3, 1))


def test_a_diverging_validation_rollout_scores_inf_and_training_goes_on():
    u = _trajectories(3)
    system = _system(_scale(1e30), _meta())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        system.on_validation_epoch_start()
        system.validation_step({"x": u[:, 0], "y": u[:, 1:].permute(0, 2, 3, 1)}, 0)
        system.on_validation_epoch_end()
    assert system.val_results == {"pdebench/rmse": math.inf}
    assert "not finite from step 2" in system._val_diverged


# --- training modes ----------------------------------------------------------------------------


def _batch(u: torch.Tensor, frames: int) -> dict:
    return {"x": u[:, 0], "y": u[:, 1:1 + frames].permute(0, 2, 3, 1)}


def _loss_and_grad(mode: str, a: float = 0.7, **options) -> tuple[float, float, list]:
    u = _trajectories(4)
    conv = _scale(a)
    outputs = []
    conv.register_forward_hook(lambda m, i, o: outputs.append(o))
    system = _system(conv, _meta(), mode=mode, **options)
    loss = system.training_loss(_batch(u, system.train_future))
    loss.backward()
    return float(loss.detach()), float(conv.weight.grad), outputs


@pytest.mark.parametrize("mode", ["one_step", "unrolled", "pushforward"])
def test_training_modes_have_their_hand_computed_loss_and_gradient(mode):
    a = 0.7
    u = _trajectories(4).double()
    u0 = u[:, 0]
    loss, grad, outputs = _loss_and_grad(mode, a, unroll_steps=3)
    if mode == "one_step":  # L = mean (a u0 - u1)^2, dL/da = mean 2 (a u0 - u1) u0
        hand = ((a * u0 - u[:, 1]) ** 2).mean()
        hand_grad = (2 * (a * u0 - u[:, 1]) * u0).mean()
        assert len(outputs) == 1
    elif mode == "unrolled":  # L = mean_k mean (a^k u0 - u_k)^2, gradient through every a
        hand = torch.stack([((a ** k * u0 - u[:, k]) ** 2).mean() for k in (1, 2, 3)]).mean()
        hand_grad = torch.stack([(2 * (a ** k * u0 - u[:, k]) * k * a ** (k - 1) * u0).mean()
                                 for k in (1, 2, 3)]).mean()
        assert all(o.requires_grad for o in outputs)
    else:  # pushforward: L = mean (a^3 u0 - u3)^2, the input a^2 u0 detached: dL/da has a^2 u0
        hand = ((a ** 3 * u0 - u[:, 3]) ** 2).mean()
        hand_grad = (2 * (a ** 3 * u0 - u[:, 3]) * a ** 2 * u0).mean()
        assert [o.requires_grad for o in outputs] == [False, False, True]
    assert loss == pytest.approx(float(hand), rel=1e-5)
    assert grad == pytest.approx(float(hand_grad), rel=1e-4)


def test_pushforward_gradient_stops_at_the_earlier_steps():
    """A hook on every model output: in pushforward only the last call's output gets a gradient,
    in the unrolled mode every call's output does."""
    for mode, expect in (("pushforward", [False, False, True]), ("unrolled", [True] * 3)):
        u = _trajectories(5)
        conv = _scale(0.9)
        got = []

        def hook(module, inputs, out, got=got):
            index = len(got)
            got.append(False)
            if out.requires_grad:
                out.register_hook(lambda g, i=index: got.__setitem__(i, True))

        conv.register_forward_hook(hook)
        system = _system(conv, _meta(), mode=mode, unroll_steps=3)
        system.training_loss(_batch(u, 3)).backward()
        assert got == expect, mode


def test_pushforward_with_two_grad_steps_scores_the_last_two_calls():
    loss, _, outputs = _loss_and_grad("pushforward", 0.7, unroll_steps=3, grad_steps=2)
    u = _trajectories(4).double()
    hand = torch.cat([(0.7 ** k * u[:, 0] - u[:, k]) ** 2 for k in (2, 3)]).mean()
    assert [o.requires_grad for o in outputs] == [False, True, True]
    assert loss == pytest.approx(float(hand), rel=1e-5)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    ({"mode": "teacher"}, "system.mode='teacher' is unknown; valid: one_step, unrolled"),
    ({"n_out": 0}, r"system.n_out=0: must be an int >= 1"),
    ({"mode": "pushforward", "unroll_steps": 2, "grad_steps": 3},
     r"system.grad_steps=3: must be <= system.unroll_steps=2"),
    ({"loss": "l1"}, "system.loss='l1' is unknown"),
    ({"n_out": 6}, r"data.history=1 \+ system.n_out=6 = 7 frames, but the trajectories of "
                   r"dataset 'toy' have 6"),
    ({"mode": "unrolled", "unroll_steps": 3, "n_out": 2},
     r"data.history=1 \+ system.unroll_steps=3 x system.n_out=2 = 7 frames"),
])
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        RolloutSystem.model_meta({"data": _meta()}, options)


def _run(tmp_path, data: str, *overrides: str, name: str = "run"):
    cfg = compose([f"data={data}", "system=rollout", "model=fno", "debug=fast",
                   "trainer.accelerator=cpu", f"paths.output_dir={tmp_path / name}",
                   *overrides])
    return run(cfg)


def test_a_window_longer_than_the_trajectory_fails_before_training(tmp_path):
    with pytest.raises(ValueError, match=r"data.history=3 \+ system.n_out=3 = 6 frames, but the "
                                         r"trajectories of dataset 'burgers' have 5"):
        _run(tmp_path, "burgers", "data.history=3", "system.n_out=3")
    record = results.read(tmp_path / "run" / "result.json")
    assert record["status"] == "failed" and record["train_time_s"] is None
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_steady_data_is_refused(tmp_path):
    with pytest.raises(ValueError, match="dataset 'darcy' is not time-dependent data"):
        _run(tmp_path, "darcy")


def test_result_json_validates_the_rollout_keys():
    base = {"schema_version": 1, "status": "ok", "pdebench_version": "0", "config_hash": "x",
            "dataset": "d", "model": "m", "system": "rollout", "seed": 0, "metrics": {}}
    results.validate({**base, "metrics_per_window": {"0:1": {"rel_l2": 0.5}},
                      "rollout_curve": {"step": [1, 2], "rel_l2": [0.1, 0.2]}})
    with pytest.raises(results.ResultError, match=r"metrics_per_window\['0:1'\] must be"):
        results.validate({**base, "metrics_per_window": {"0:1": 0.5}})
    with pytest.raises(results.ResultError, match=r"rollout_curve\['rel_l2'\] must be a list of 2"):
        results.validate({**base, "rollout_curve": {"step": [1, 2], "rel_l2": [0.1]}})
    with pytest.raises(results.ResultError, match="is not finite"):
        results.validate({**base, "rollout_curve": {"step": [1], "rel_l2": [math.nan]}})


# --- end to end --------------------------------------------------------------------------------


def test_burgers_end_to_end_writes_windows_curve_and_figure(tmp_path):
    rec = _run(tmp_path, "burgers").record
    saved = results.read(tmp_path / "run" / "result.json")
    assert saved["status"] == "ok" and rec["system"] == "rollout"
    # tiny burgers: 5 frames, history 1 -> 4 predicted frames per test trajectory
    curve = saved["rollout_curve"]
    assert curve["step"] == [1, 2, 3, 4]
    assert set(saved["metrics_per_window"]) == {"0:1", "1:2", "2:4"}
    nrmse = curve["pdebench/nrmse"]
    assert saved["metrics"]["pdebench/nrmse"] == pytest.approx(np.mean(nrmse))
    assert saved["metrics_per_window"]["2:4"]["pdebench/nrmse"] == pytest.approx(
        np.mean(nrmse[2:]))
    assert "residual_l2/burgers" in saved["metrics"]  # physics over the whole rollout
    assert "residual_l2/burgers" not in curve
    assert math.isfinite(saved["val_metrics"]["pdebench/nrmse"])
    assert (tmp_path / "run" / "rollout.png").stat().st_size > 0


def test_multi_frame_unrolled_run_and_resume(tmp_path, capsys):
    args = ("data.history=2", "system.n_out=2", "system.mode=unrolled", "system.unroll_steps=1",
            "plots=false")
    rec = _run(tmp_path, "burgers", *args).record
    assert rec["status"] == "ok" and rec["rollout_curve"]["step"] == [1, 2, 3]
    assert rec["config"]["system"]["n_out"] == 2
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["epoch"] == 0
    _run(tmp_path, "burgers", *args, "trainer.max_epochs=2")
    assert "resuming from" in capsys.readouterr().err
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)
    assert ckpt["epoch"] == 1


def test_2d_pushforward_run(tmp_path):
    rec = _run(tmp_path, "diffusion_reaction", "system.mode=pushforward",
               "system.unroll_steps=2").record
    assert rec["status"] == "ok"
    assert set(rec["metrics_per_field"]) == {"u", "v"}
    assert len(rec["rollout_curve"]["pdebench/rmse"]) == 4
    assert (tmp_path / "run" / "rollout.png").stat().st_size > 0
    json.dumps(rec["metrics_per_window"])


@pytest.mark.parametrize("model, data", [("fno", "diffusion_reaction"), ("unet", "burgers"),
                                         ("deeponet", "diffusion_reaction")])
def test_zoo_models_shaped_by_the_rollout_meta(model, data):
    """history 2, n_out 2: in_channels = 2 C (+ constants), out_channels = 2 C."""
    cfg = compose([f"model={model}", f"data={data}", "system=rollout", "debug=fast",
                   "data.history=2", "system.n_out=2"])
    cls = system_class(cfg)
    datamodules = build_datasets(cfg)
    metas = {k: dm.meta for k, dm in datamodules.items()}
    node = {k: v for k, v in cfg.system.items() if k not in ("name", "tiny")}
    shaped = cls.model_meta(metas, node=node)
    meta = metas["data"]
    assert shaped.in_channels == meta.in_channels == 2 * meta.out_channels
    assert shaped.out_channels == 2 * meta.out_channels
    system = build_system(cfg, cls, build_model(cfg, shaped), metas)
    x = torch.randn(2, meta.in_channels, *meta.resolution)
    assert system.rollout(x, 3).shape == (2, meta.out_channels, *meta.resolution, 3)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["unet", "deeponet"])
def test_slow_zoo_models_end_to_end(tmp_path, model):
    cfg = compose([f"model={model}", "data=burgers", "system=rollout", "debug=fast",
                   "data.history=2", "system.mode=unrolled", "system.unroll_steps=2",
                   f"paths.output_dir={tmp_path}"])
    assert run(cfg).record["status"] == "ok"


@pytest.mark.slow
@pytest.mark.parametrize("data", ["advection", "navier_stokes"])
@pytest.mark.parametrize("mode", ["one_step", "unrolled", "pushforward"])
def test_slow_modes_on_more_datasets(tmp_path, data, mode):
    rec = _run(tmp_path, data, f"system.mode={mode}", "system.unroll_steps=2",
               "trainer.max_epochs=3").record
    assert rec["status"] == "ok" and all(math.isfinite(v) for v in rec["metrics"].values())
