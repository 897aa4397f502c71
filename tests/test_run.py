"""End to end through run(cfg) on tiny data: records, failures, resume, pairings, checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.errors import InstantiationException

from pdebench import registry, results
from pdebench.config import compose
from pdebench.data.meta import DatasetMeta
from pdebench.data.source import DataSource
from pdebench.run import ConfigError, run

from conftest import TINY


def _cfg(tmp_path: Path, *overrides: str, name: str = "run"):
    return compose([*TINY, f"paths.output_dir={tmp_path / name}", *overrides])


def test_tiny_darcy_run_writes_a_complete_record(tmp_path):
    result = run(_cfg(tmp_path))
    record = results.read(result.path)
    assert record["status"] == "ok"
    assert (record["dataset"], record["model"], record["system"]) == ("darcy", "fno", "operator")
    assert record["split_sizes"] == {"train": 32, "val": 4, "test": 4}
    for name in ("pdebench/nrmse", "pdebench/rmse", "pdebench/frmse_low", "rel_l2",
                 "residual_l2/darcy"):
        assert np.isfinite(record["metrics"][name]), name
    assert set(record["metrics_per_field"]) == {"u"}
    assert record["metrics_per_field"]["u"]["pdebench/nrmse"] == pytest.approx(
        record["metrics"]["pdebench/nrmse"])
    assert record["n_parameters"] > 0 and record["inference_time_per_sample_s"] > 0
    assert Path(record["checkpoint"]).exists()
    assert (tmp_path / "run" / "predictions.png").read_bytes()[:4] == b"\x89PNG"
    assert record["metric_info"]["pdebench/nrmse"] == {"higher_is_better": False}
    assert record["config"]["data"]["resolution"] == 16
    ckpt = torch.load(record["checkpoint"], map_location="cpu", weights_only=False)
    assert ckpt["pdebench"]["model"] == "fno"
    # the normaliser statistics travel with the checkpoint
    assert "x_norm.mean" in ckpt["state_dict"] and bool(ckpt["state_dict"]["y_norm.fitted"])


def test_seeds_share_config_hash_and_differ_in_result(tmp_path):
    a = run(_cfg(tmp_path, "seed=1", name="a")).record
    b = run(_cfg(tmp_path, "seed=2", name="b")).record
    assert a["config_hash"] == b["config_hash"]
    assert a["metrics"]["pdebench/rmse"] != b["metrics"]["pdebench/rmse"]


def test_dataset_too_small_leaves_failed_record(tmp_path):
    cfg = _cfg(tmp_path, "data.n_samples=5")
    with pytest.raises(ValueError, match="has 5 samples, too few"):
        run(cfg)
    record = results.read(tmp_path / "run" / "result.json")
    assert record["status"] == "failed"
    assert "too few" in record["error"]["message"]


def test_nan_in_training_fails_clearly(tmp_path):
    cfg = _cfg(tmp_path, "system.optimizer.lr=1e30", "system.scheduler=null",
               "trainer.max_epochs=3")
    with pytest.raises(FloatingPointError, match="training loss is"):
        run(cfg)
    record = results.read(tmp_path / "run" / "result.json")
    assert record["status"] == "failed" and record["error"]["type"] == "NonFiniteLossError"


def test_restart_resumes_from_last_checkpoint(tmp_path, capsys):
    run(_cfg(tmp_path, "trainer.max_epochs=1"))
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["epoch"] == 0
    run(_cfg(tmp_path, "trainer.max_epochs=2"))
    assert "resuming from" in capsys.readouterr().err
    assert torch.load(last, weights_only=False)["epoch"] == 1


def test_checkpoint_from_another_model_is_refused(tmp_path):
    foreign = tmp_path / "other.ckpt"
    torch.save({"pdebench": {"model": "unet", "dataset": "darcy", "system": "operator"},
                "state_dict": {}}, foreign)
    with pytest.raises(ConfigError, match=r"written by model 'unet' but this run uses 'fno'"):
        run(_cfg(tmp_path, f"ckpt_path={foreign}"))
    plain = tmp_path / "plain.ckpt"
    torch.save({"state_dict": {}}, plain)
    with pytest.raises(ConfigError, match="not a pdebench checkpoint"):
        run(_cfg(tmp_path, f"ckpt_path={plain}", name="run2"))
    assert results.read(tmp_path / "run2" / "result.json")["status"] == "failed"


class _Scattered(DataSource):
    """Points without a grid (for the pairing check)."""

    def __init__(self) -> None:
        pass

    @property
    def meta(self) -> DatasetMeta:
        return DatasetMeta(name="scattered", spatial_dims=2, resolution=(50, 1), grid="points",
                           input_fields=("x",), output_fields=("u",))

    def open(self):  # pragma: no cover - never reached
        raise AssertionError


def test_impossible_pairing_fails_before_training(tmp_path):
    api = registry.PluginAPI("test")
    target = f"{__name__}._Scattered"
    api.register_dataset("scattered_test", _Scattered, "test only",
                         config={"name": "scattered_test", "_target_": target})
    try:
        cfg = compose(["data=scattered_test", f"paths.output_dir={tmp_path / 'r'}",
                       "logger=none"])
        with pytest.raises(ConfigError, match="model=fno cannot train on data=scattered.*"
                                              "regular grid"):
            run(cfg)
    finally:
        registry.DATASETS._remove("scattered_test")


def test_published_darcy_file_runs(tmp_path, darcy_file):
    tiny = [o for o in TINY if not o.startswith("data.")]
    cfg = compose([*tiny, "data=pdebench_darcy", f"data.path={darcy_file}",
                   "data.split.train=8", "data.split.val=2", "data.split.test=2",
                   f"paths.output_dir={tmp_path / 'run'}"])
    record = run(cfg).record
    assert record["dataset"] == "pdebench_darcy" and record["status"] == "ok"
    assert record["split_sizes"] == {"train": 8, "val": 2, "test": 2}


def test_missing_published_file_is_named(tmp_path):
    tiny = [o for o in TINY if not o.startswith("data.")]
    cfg = compose([*tiny, "data=pdebench_darcy", f"data.path={tmp_path / 'nope.hdf5'}",
                   f"paths.output_dir={tmp_path / 'run'}"])
    with pytest.raises(InstantiationException, match="nope.hdf5 does not exist"):
        run(cfg)
    assert results.read(tmp_path / "run" / "result.json")["status"] == "failed"


@pytest.mark.parametrize("override,options", [("data=darcyy", "pdebench_darcy"),
                                              ("system=operater", "operator"),
                                              ("model=fnoo", "fno")])
def test_unknown_names_fail_at_composition_with_the_options(override, options):
    from hydra.errors import MissingConfigException

    with pytest.raises(MissingConfigException) as info:
        compose([override])
    assert "Could not find" in str(info.value) and options in str(info.value)


def test_typo_in_a_key_fails_at_composition():
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException, match="n_sampels"):
        compose(["data.n_sampels=5"])


def test_checkpoint_monitor_not_computed_fails_before_training(tmp_path):
    """Leaving pdebench/nrmse out of metrics.names while model selection watches it used to
    end in Lightning's MisconfigurationException after the first epoch."""
    cfg = _cfg(tmp_path, "metrics.names=[rel_l2]", "metrics.physics=false")
    with pytest.raises(ConfigError, match=r"checkpoint.monitor=val/pdebench/nrmse .*"
                                          r"val/loss, val/rel_l2"):
        run(cfg)
    record = results.read(tmp_path / "run" / "result.json")
    assert record["status"] == "failed"
    assert not (tmp_path / "run" / "checkpoints").exists()
    ok = run(_cfg(tmp_path, "metrics.names=[rel_l2]", "metrics.physics=false",
                  "checkpoint.monitor=val/rel_l2", name="ok"))
    assert ok.status == "ok"
