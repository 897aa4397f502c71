"""system=multitask: per-task losses, normalisers and metrics checked by hand on a tiny case,
the result.json keys of a two-task run (FNO on two Fisher-KPP reaction forms, with a resume),
and the refusal of tasks whose fields differ (before training, naming the tasks and fields)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from pdebench import results
from pdebench.config import compose
from pdebench.data.meta import DatasetMeta
from pdebench.leaderboard import main as leaderboard_main
from pdebench.run import run
from pdebench.systems.multitask import (
    MultiTaskSystem,
    TaskFieldsError,
    mean_over_tasks,
    mixture_stats,
)
from pdebench.systems.operator import OperatorSystem


class MeanAbsError(nn.Module):
    """mean |pred - target| per (channel, frame): shape (C, T) (a plain module with the metric
    contract's update / compute / reset, so no one-element squeeze)."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def update(self, pred, target, inputs=None, mask=None) -> None:
        err = (pred - target).abs().to(torch.float64)  # (batch, C, *spatial, T)
        keep = torch.ones_like(err) if mask is None else torch.broadcast_to(mask, err.shape)
        err = err * keep
        self.total = self.total + err.transpose(0, 1).flatten(1, -2).sum(1)  # (C, T)
        self.count += int(keep[:, 0, ..., 0].sum())  # scored cells of the batch

    def compute(self) -> torch.Tensor:
        return self.total / self.count

    def reset(self) -> None:
        self.total, self.count = torch.zeros(()), 0


def _meta(name: str = "toy", outputs=("u",), inputs=("a",), n: int = 2) -> DatasetMeta:
    return DatasetMeta(name=name, spatial_dims=1, resolution=(n,), input_fields=inputs,
                       output_fields=outputs)


def _identity() -> nn.Module:
    """A 1x1 convolution with weight 1 and no bias: the prediction is the (normalised) input."""
    conv = nn.Conv1d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    return conv


def _system(weights=None, normalize="shared", loss="rel_l2", names=("a", "b")):
    metas = {n: _meta() for n in names}
    metrics = {n: {"mae": lambda meta: MeanAbsError()} for n in names}
    return MultiTaskSystem(_identity(), metas, metrics,
                           optimizer=lambda p: torch.optim.SGD(p, lr=0.1), loss=loss,
                           normalize=normalize, task_weights=weights)


def _unit_stats(names=("a", "b")):
    one = (torch.zeros(1), torch.ones(1))
    return {n: {"x": one, "y": one} for n in names}


BATCHES = {  # (batch=1, C=1, n=2)
    "a": {"x": torch.tensor([[[1.0, 2.0]]]), "y": torch.tensor([[[1.0, 1.0]]])},
    "b": {"x": torch.tensor([[[0.0, 3.0]]]), "y": torch.tensor([[[0.0, 4.0]]])},
}


def test_loss_is_the_weighted_sum_of_the_task_losses():
    system = _system(weights={"a": 2.0, "b": 0.5})
    system.set_normalizers(_unit_stats())
    total, parts = system.training_losses(BATCHES)
    # prediction = x: rel. L2 of a = |(0, 1)| / |(1, 1)| = 1/sqrt(2); of b = |(0, -1)| / 4
    assert parts["a"].item() == pytest.approx(1 / math.sqrt(2))
    assert parts["b"].item() == pytest.approx(0.25)
    assert total.item() == pytest.approx(2.0 / math.sqrt(2) + 0.5 * 0.25)
    total.backward()  # one shared model: both tasks' gradients reach the same weight
    # d/dw of 2 |w x_a - y_a| / |y_a| + 0.5 |w x_b - y_b| / |y_b| at w = 1
    grad_a = 2.0 * ((2.0 - 1.0) * 2.0) / (1.0 * math.sqrt(2))
    grad_b = 0.5 * ((3.0 - 4.0) * 3.0) / (1.0 * 4.0)
    assert system.model.weight.grad.item() == pytest.approx(grad_a + grad_b)


def test_tasks_left_out_of_task_weights_weigh_one_and_mse_is_the_operators():
    system = _system(weights={"b": 3.0}, loss="mse")
    system.set_normalizers(_unit_stats())
    total, parts = system.training_losses(BATCHES)
    assert parts["a"].item() == pytest.approx(0.5)  # mean of (0, 1)^2
    assert parts["b"].item() == pytest.approx(0.5)
    assert total.item() == pytest.approx(0.5 + 3.0 * 0.5)


def test_one_task_trains_exactly_like_the_operator_system():
    system = _system(names=("only",))
    operator = OperatorSystem(system.model, {"only": _meta()}, {"only": {}},
                              optimizer=lambda p: torch.optim.SGD(p, lr=0.1))
    stats = {"only": {"x": (torch.tensor([0.5]), torch.tensor([2.0])),
                      "y": (torch.tensor([1.0]), torch.tensor([3.0]))}}
    system.set_normalizers(stats)
    operator.set_normalizers(stats)
    total, _ = system.training_losses({"only": BATCHES["a"]})
    expected, _ = operator.training_losses(BATCHES["a"])
    assert total.item() == pytest.approx(expected.item())


def test_geometry_masks_are_left_out_of_each_tasks_loss_and_metrics():
    """Inputs (a, mask): cells with mask 0 count in neither the loss nor the metrics (the
    operator system's masked loss and FieldMetrics, reused per task)."""
    meta = DatasetMeta(name="geo", spatial_dims=1, resolution=(3,), input_fields=("a", "mask"),
                       output_fields=("u",), masks=("mask",))
    model = nn.Conv1d(2, 1, 1, bias=False)  # prediction = a
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[[1.0], [0.0]]]))
    system = MultiTaskSystem(model, {"in": meta, "out": meta},
                             {n: {"mae": lambda m: MeanAbsError()} for n in ("in", "out")},
                             optimizer=lambda p: torch.optim.SGD(p, lr=0.1))
    one = (torch.zeros(2), torch.ones(2))
    system.set_normalizers({n: {"x": one, "y": (torch.zeros(1), torch.ones(1))}
                            for n in ("in", "out")})
    # the last cell is outside; its error (100) must not count
    x = torch.tensor([[[3.0, 0.0, 100.0], [1.0, 1.0, 0.0]]])
    y = torch.tensor([[[0.0, 4.0, 0.0]]])
    total, parts = system.training_losses({"in": {"x": x, "y": y}, "out": {"x": x, "y": y}})
    assert parts["in"].item() == pytest.approx(5.0 / 4.0)  # |(3, -4)| / |(0, 4)|
    assert total.item() == pytest.approx(2 * 5.0 / 4.0)
    system.on_test_epoch_start()
    with torch.no_grad():
        system.test_step({"x": x, "y": y}, 0, dataloader_idx=0)
        system.test_step({"x": x, "y": y}, 0, dataloader_idx=1)
    with pytest.warns(UserWarning, match="self.log"):
        system.on_test_epoch_end()
    assert system.results()["metrics_per_task"]["in"] == {"mae": 3.5}  # (|3| + |-4|) / 2


@pytest.mark.parametrize(("weights", "match"), [
    ({"c": 1.0}, r"system.task_weights names \['c'\].*the tasks are \['a', 'b'\]"),
    ({"a": -1.0}, r"system.task_weights.a=-1.0: must be a finite number >= 0"),
    ({"a": float("nan")}, r"system.task_weights.a=nan"),
    ({"a": 0, "b": 0}, r"system.task_weights are all zero"),
])
def test_bad_task_weights_are_refused(weights, match):
    with pytest.raises(ValueError, match=match):
        _system(weights=weights)


def test_unknown_normalize_is_refused():
    with pytest.raises(ValueError, match=r"system.normalize='both' is unknown; valid: shared, "
                                         r"per_task"):
        _system(normalize="both")


def test_mixture_stats_by_hand_and_masks_stay_unnormalised():
    # channel 0: N(0, 1) and N(2, 1) -> mean 1, var (1 + 0 + 1 + 4) / 2 - 1 = 2
    # channel 1: a 0/1 mask, (0, 1) in every task's statistics -> stays (0, 1)
    mean, std = mixture_stats({"a": (torch.tensor([0.0, 0.0]), torch.tensor([1.0, 1.0])),
                               "b": (torch.tensor([2.0, 0.0]), torch.tensor([1.0, 1.0]))})
    assert mean.tolist() == pytest.approx([1.0, 0.0])
    assert std.tolist() == pytest.approx([math.sqrt(2), 1.0])
    assert (mean[1].item(), std[1].item()) == (0.0, 1.0)


def test_normalizers_shared_or_per_task():
    stats = {"a": {"x": (torch.tensor([0.0]), torch.tensor([1.0])),
                   "y": (torch.tensor([1.0]), torch.tensor([2.0]))},
             "b": {"x": (torch.tensor([2.0]), torch.tensor([1.0])),
                   "y": (torch.tensor([3.0]), torch.tensor([2.0]))}}
    shared = _system(normalize="shared")
    shared.set_normalizers(stats)
    for task in shared.tasks.values():
        assert task.x_norm.mean.item() == pytest.approx(1.0)
        assert task.x_norm.std.item() == pytest.approx(math.sqrt(2))
        assert task.y_norm.mean.item() == pytest.approx(2.0)
        assert task.y_norm.std.item() == pytest.approx(math.sqrt(5))  # (4+1+4+9)/2 - 4 = 5
    per_task = _system(normalize="per_task")
    per_task.set_normalizers(stats)
    assert per_task.tasks["a"].x_norm.mean.item() == 0.0
    assert per_task.tasks["b"].x_norm.mean.item() == 2.0
    assert per_task.tasks["b"].y_norm.mean.item() == 3.0


def test_metrics_per_task_and_their_mean_by_hand():
    system = _system()
    system.set_normalizers(_unit_stats())
    system.on_test_epoch_start()
    with torch.no_grad():
        system.test_step(BATCHES["a"], 0, dataloader_idx=0)
        system.test_step({"x": torch.tensor([[[2.0, 2.0]]]), "y": torch.tensor([[[0.0, 5.0]]])},
                         0, dataloader_idx=1)
    # mean |x - y|: a: |0|, |1| -> 0.5; b: |2|, |-3| -> 2.5
    with pytest.warns(UserWarning, match="self.log"):  # no trainer attached in this unit test
        system.on_test_epoch_end()
    out = system.results()
    assert out["metrics_per_task"] == {"a": {"mae": 0.5}, "b": {"mae": 2.5}}
    assert out["metrics_per_task_field"] == {"a": {"u": {"mae": 0.5}}, "b": {"u": {"mae": 2.5}}}
    assert out["metrics"] == {"mae": 1.5}  # the mean over tasks, not over samples or cells
    assert out["metrics_per_field"] == {"u": {"mae": 1.5}}
    assert mean_over_tasks({"a": {"m": 1.0, "only_a": 2.0}, "b": {"m": 3.0}}) == {"m": 2.0}


def test_tasks_with_different_output_fields_are_refused_naming_them():
    metas = {"heat": _meta("heat", outputs=("T",)), "flow": _meta("flow", outputs=("u", "v"))}
    with pytest.raises(TaskFieldsError,
                       match=r"one shared model, which needs one set of output fields for every "
                             r"task, but the tasks differ: datasets.heat \(heat\): \['T'\]; "
                             r"datasets.flow \(flow\): \['u', 'v'\]"):
        MultiTaskSystem.model_meta(metas)
    grids = {"coarse": _meta(n=2), "fine": _meta(n=4)}
    with pytest.raises(TaskFieldsError, match=r"grid .*datasets.coarse \(toy\): 1D \(2,\)"):
        MultiTaskSystem.model_meta(grids)


def test_result_validation_of_the_per_task_keys():
    base = {"schema_version": results.SCHEMA_VERSION, "status": "ok", "pdebench_version": "0",
            "config_hash": "x", "dataset": "a=d+b=d", "model": "fno", "system": "multitask",
            "seed": 0, "metrics": {"m": 1.0}}
    ok = {**base, "metrics_per_task": {"a": {"m": 0.5}, "b": {"m": 1.5}},
          "metrics_per_task_field": {"a": {"u": {"m": 0.5}}, "b": {"u": {"m": 1.5}}},
          "val_metrics_per_task": {"a": {"m": 0.1}, "b": {"m": 0.2}}}
    assert results.validate(ok) is ok
    with pytest.raises(results.ResultError, match=r"metrics_per_task\['b'\] metric 'm' must be "
                                                  r"a number, got 'x'"):
        results.validate({**ok, "metrics_per_task": {"a": {"m": 0.5}, "b": {"m": "x"}}})
    with pytest.raises(results.ResultError, match=r"metrics_per_task_field\['a'\]\['u'\] must "
                                                  r"be an object"):
        results.validate({**ok, "metrics_per_task_field": {"a": {"u": 3.0}}})
    with pytest.raises(results.ResultError, match=r"metrics_per_task\['a'\] metric 'm' is not "
                                                  r"finite"):
        results.validate({**ok, "metrics_per_task": {"a": {"m": float("nan")}}})


# --- runs through run(cfg) ----------------------------------------------------------------------
TWO_FORMS = ["system=multitask", "model=fno", "+data@datasets.form1=fisher_kpp",
             "datasets.form1.forms=[1]", "+data@datasets.form2=fisher_kpp",
             "datasets.form2.forms=[2]", "datasets.form2.n_samples=48", "debug=fast",
             "plots=false"]


def test_two_fisher_forms_end_to_end_with_resume(tmp_path, capsys):
    out = tmp_path / "run"
    first = run(compose([*TWO_FORMS, f"paths.output_dir={out}"])).record
    assert first["status"] == "ok"
    run(compose([*TWO_FORMS, f"paths.output_dir={out}", "trainer.max_epochs=2"]))
    assert "resuming from" in capsys.readouterr().err
    ckpt = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert ckpt["epoch"] == 1 and ckpt["pdebench"]["datasets"] == {"form1": "fisher_kpp",
                                                                   "form2": "fisher_kpp"}
    stored = results.read(out / "result.json")
    # tasks of different sizes: an epoch lasts as long as the larger task's loader (batch 8),
    # the smaller one cycles (max_size_cycle)
    sizes = stored["split_sizes"]
    assert sizes["form1/train"] == 20 and sizes["form2/train"] > 32
    assert ckpt["global_step"] == 2 * math.ceil(sizes["form2/train"] / 8)
    assert stored["status"] == "ok" and stored["dataset"] == "form1=fisher_kpp+form2=fisher_kpp"
    assert set(stored["metrics_per_task"]) == {"form1", "form2"}
    assert set(stored["val_metrics_per_task"]) == {"form1", "form2"}
    for name, value in stored["metrics"].items():  # metrics = mean over the two tasks
        per = [stored["metrics_per_task"][t][name] for t in ("form1", "form2")]
        assert value == pytest.approx(sum(per) / 2)
    assert stored["metrics_per_task"]["form1"] != stored["metrics_per_task"]["form2"]
    fields = stored["metrics_per_task_field"]["form1"]
    assert set(fields) == set(stored["metrics_per_field"])
    val = stored["val_metrics_per_task"]
    assert stored["val_metrics"]["pdebench/nrmse"] == pytest.approx(
        (val["form1"]["pdebench/nrmse"] + val["form2"]["pdebench/nrmse"]) / 2)
    assert stored["train_time_s"] > 0
    # the leaderboard: the run's mean row, and one row per task in its dataset's table
    assert leaderboard_main([str(tmp_path), "--out", str(tmp_path / "board")]) == 0
    board = (tmp_path / "board" / "leaderboard.md").read_text()
    assert "form1=fisher_kpp+form2=fisher_kpp" in board
    assert "fno (task form1 of form1+form2)" in board
    assert "fno (task form2 of form1+form2)" in board


def test_tasks_with_different_output_fields_fail_before_training(tmp_path):
    out = tmp_path / "run"
    cfg = compose(["system=multitask", "+data@datasets.kpp=fisher_kpp",
                   "+data@datasets.porous=darcy", "debug=fast", f"paths.output_dir={out}"])
    with pytest.raises(TaskFieldsError, match=r"needs one set of output fields.*datasets.kpp "
                                              r"\(fisher_kpp\).*datasets.porous \(darcy\)"):
        run(cfg)
    record = results.read(out / "result.json")
    assert record["status"] == "failed" and record["error"]["type"] == "TaskFieldsError"
    assert not (out / "checkpoints").exists()


@pytest.mark.slow
def test_darcy_geometries_as_tasks_with_masks(tmp_path):
    """The MT-DeepONet Darcy source tasks (square and disc): geometry masks in the inputs."""
    cfg = compose(["system=multitask", "model=fno", "+data@datasets.square=darcy_geometries",
                   "datasets.square.geometries=[square]", "+data@datasets.disc=darcy_geometries",
                   "datasets.disc.geometries=[disc]", "debug=fast",
                   f"paths.output_dir={tmp_path / 'run'}"])
    record = run(cfg).record
    assert record["status"] == "ok"
    assert set(record["metrics_per_task"]) == {"square", "disc"}
    for task in ("square", "disc"):  # 2D: one figure per task
        assert (tmp_path / "run" / f"predictions_{task}.png").stat().st_size > 0
    nrmse = [record["metrics_per_task"][t]["pdebench/nrmse"] for t in ("square", "disc")]
    assert record["metrics"]["pdebench/nrmse"] == pytest.approx(sum(nrmse) / 2)
