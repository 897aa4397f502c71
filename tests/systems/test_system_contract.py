"""The system contract: run.py builds any registered System from config, on one dataset or on
several named ones, and refuses a config that names more datasets than the system takes."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from pdebench import registry, results
from pdebench.config import compose
from pdebench.data.normalize import ChannelNormalizer
from pdebench.leaderboard import main as leaderboard_main
from pdebench.metrics.collection import FieldMetrics
from pdebench.registry import PluginAPI
from pdebench.run import run
from pdebench.systems.base import DatasetCountError, System, check_finite_loss
from pdebench.systems.operator import relative_l2_loss


class PooledOperator(System):
    """A test paradigm on several named datasets with the same fields: one model trained on all
    of them (a training batch is ``{name: batch}``), metrics reported per dataset."""

    n_datasets = None

    def __init__(self, model: nn.Module, metas, metrics, optimizer) -> None:
        super().__init__()
        self.model = model
        self.names = list(metas)
        first = metas[self.names[0]]
        self.x_norm = ChannelNormalizer(first.in_channels)
        self.y_norm = ChannelNormalizer(first.out_channels)
        self.optimizer_factory = optimizer
        self.val = nn.ModuleDict({n: FieldMetrics(metrics[n], metas[n]) for n in self.names})
        self.test = nn.ModuleDict({n: FieldMetrics(metrics[n], metas[n]) for n in self.names})
        self.seen: dict[str, int] = {}
        self._results: dict[str, Any] = {}
        self._val: dict[str, float] = {}

    def set_normalizers(self, stats) -> None:  # the first dataset's statistics for all
        self.x_norm.set_stats(*stats[self.names[0]]["x"])
        self.y_norm.set_stats(*stats[self.names[0]]["y"])

    def predict_fields(self, x: torch.Tensor) -> torch.Tensor:
        return self.y_norm.decode(self.model(self.x_norm.encode(x)))

    def training_step(self, batch, batch_idx):
        loss = 0.0
        for name, b in batch.items():
            self.seen[name] = self.seen.get(name, 0) + b["x"].shape[0]
            loss = loss + relative_l2_loss(self.predict_fields(b["x"]), b["y"])
        check_finite_loss(loss, self, "test system")
        return loss

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        name = self.names[dataloader_idx]
        self.val[name].update(self.predict_fields(batch["x"]), batch["y"], batch["x"])

    def on_validation_epoch_end(self):
        per = {n: self.val[n].compute_and_reset()[0] for n in self.names}
        self._val = {f"{n}/{k}": v for n, d in per.items() for k, v in d.items()}
        mean = sum(d["pdebench/nrmse"] for d in per.values()) / len(per)
        self.log("val/pdebench/nrmse", mean)

    def test_step(self, batch, batch_idx, dataloader_idx=0):
        name = self.names[dataloader_idx]
        self.test[name].update(self.predict_fields(batch["x"]), batch["y"], batch["x"])

    def on_test_epoch_end(self):
        metrics = {}
        for n in self.names:
            overall, _ = self.test[n].compute_and_reset()
            metrics.update({f"{n}/{k}": v for k, v in overall.items()})
        self._results = {"metrics": metrics, "metrics_per_field": {},
                         "inference_time_per_sample_s": None}

    def metric_info(self):
        return {f"{n}/{k}": v for n in self.names for k, v in self.test[n].info().items()}

    def results(self):
        return {**self._results, "val_metrics": self._val}

    def configure_optimizers(self):
        return self.optimizer_factory(self.model.parameters())


@pytest.fixture
def pooled():
    api = PluginAPI("test_system_contract")
    api.register_system("pooled_operator", PooledOperator, "test: several datasets, one model",
                        config={"_target_": f"{__name__}.PooledOperator",
                                "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True,
                                              "lr": 1e-3}})
    yield "pooled_operator"
    registry.SYSTEMS._remove("pooled_operator")


def _two(tmp_path, system: str, *extra: str):
    return compose([f"system={system}", "+data@datasets.low=darcy", "+data@datasets.high=darcy",
                    "datasets.high.beta=2.0", "debug=fast", "trainer.max_epochs=2",
                    f"paths.output_dir={tmp_path / 'run'}", *extra])


def test_a_system_taking_one_dataset_refuses_two_naming_them(tmp_path):
    with pytest.raises(DatasetCountError,
                       match=r"system=operator trains on 1 dataset\(s\), but the config names 2 "
                             r"\(datasets.low, datasets.high\).*a system that takes several"):
        run(_two(tmp_path, "operator"))
    record = results.read(tmp_path / "run" / "result.json")
    assert record["status"] == "failed" and record["error"]["type"] == "DatasetCountError"
    assert record["datasets"] == {"low": "darcy", "high": "darcy"}


def test_a_registered_system_trains_on_several_named_datasets(tmp_path, pooled):
    result = run(_two(tmp_path, pooled))
    record = results.read(result.path)
    assert record["status"] == "ok"
    assert record["dataset"] == "low=darcy+high=darcy"
    assert record["datasets"] == {"low": "darcy", "high": "darcy"}
    assert record["split_sizes"] == {"low/train": 32, "low/val": 4, "low/test": 4,
                                     "high/train": 32, "high/val": 4, "high/test": 4}
    for role in ("low", "high"):  # metrics and physics of each dataset, its own beta
        assert record["metrics"][f"{role}/pdebench/nrmse"] > 0
        assert record["metrics"][f"{role}/residual_l2/darcy"] > 0
        assert record["metric_info"][f"{role}/pdebench/nrmse"] == {"higher_is_better": False}
    ckpt = torch.load(record["checkpoint"], map_location="cpu", weights_only=False)
    assert ckpt["pdebench"]["datasets"] == {"low": "darcy", "high": "darcy"}
    # the leaderboard keeps every dataset of the run in the row's dataset
    assert leaderboard_main([str(tmp_path), "--out", str(tmp_path / "board")]) == 0
    assert "low=darcy+high=darcy" in (tmp_path / "board" / "leaderboard.md").read_text()


def test_run_uses_the_system_only_through_the_contract(tmp_path, pooled):
    """The pooled system keeps no attribute the operator system has (val_results, test_metrics,
    run_info, forward): a run that finishes proves run.py needs nothing beyond the contract."""
    for attr in ("val_results", "test_results", "test_metrics", "run_info"):
        assert not hasattr(PooledOperator, attr)
    import lightning as L

    assert PooledOperator.forward is L.LightningModule.forward  # never overridden
    result = run(_two(tmp_path, pooled, "plots=true"))
    assert result.record["status"] == "ok"
    assert (tmp_path / "run" / "predictions.png").exists()
