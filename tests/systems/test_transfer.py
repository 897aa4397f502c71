"""Transfer for any system: ``init_from`` (model weights of a checkpoint or run directory) and
``freeze`` (parameter-name patterns), with every bad input refused before training."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from pdebench import results
from pdebench.config import compose
from pdebench.run import ConfigError, apply_transfer, run
from pdebench.transfer import TransferError, apply_freeze, load_model_weights, resolve_checkpoint

BASE = ["model=fno", "data=darcy", "debug=fast", "logger=none", "plots=false",
        "trainer.accelerator=cpu", "trainer.max_epochs=2",
        "system.optimizer.weight_decay=0.5"]  # strong decay: it must not touch frozen weights


def _run(tmp_path: Path, name: str, *overrides: str):
    return run(compose([*BASE, f"paths.output_dir={tmp_path / name}", *overrides])).record


def _model_weights(path: str | Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    return {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}


@pytest.fixture(scope="module")
def source_run(tmp_path_factory) -> dict:
    return _run(tmp_path_factory.mktemp("transfer"), "source")


def test_init_from_a_run_dir_with_frozen_layers(tmp_path, source_run):
    record = _run(tmp_path, "target", f"init_from={source_run['run_dir']}",
                  "freeze=[lifting.*,fno_blocks.convs.0.*]")
    assert record["status"] == "ok"
    assert record["init_from"] == source_run["checkpoint"]  # the run dir's best checkpoint
    start = _model_weights(source_run["checkpoint"])
    end = _model_weights(Path(record["run_dir"]) / "checkpoints" / "last.ckpt")
    params = _fno_names(record)
    frozen = [k for k in params if fnmatch.fnmatchcase(k, "lifting.*")
              or fnmatch.fnmatchcase(k, "fno_blocks.convs.0.*")]
    assert frozen and len(frozen) < len(params)
    for k in frozen:
        assert torch.equal(end[k], start[k]), f"frozen {k} changed"
    for k in params:
        if k not in frozen:
            assert not torch.equal(end[k], start[k]), f"trainable {k} did not change"
    n = sum(end[k].numel() for k in frozen)
    assert record["frozen"] == {"patterns": ["lifting.*", "fno_blocks.convs.0.*"],
                                "n_tensors": len(frozen), "n_parameters": n}
    assert results.read(Path(record["run_dir"]) / "result.json")["frozen"] == record["frozen"]


def _fno_names(record: dict) -> list[str]:
    """The parameter names of the model the record's run trained."""
    from pdebench.run import build_data, build_model

    cfg = compose([*BASE, f"paths.output_dir={record['run_dir']}"])
    return [n for n, _ in build_model(cfg, build_data(cfg).meta).named_parameters()]


def test_init_from_a_checkpoint_file_loads_every_weight(tmp_path, source_run):
    record = _run(tmp_path, "exact", f"init_from={source_run['checkpoint']}",
                  "trainer.max_epochs=0")
    # no training step: the tested weights are the loaded ones, and so are the metrics
    assert record["init_from"] == source_run["checkpoint"] and "frozen" not in record
    assert record["metrics"]["pdebench/nrmse"] == pytest.approx(
        source_run["metrics"]["pdebench/nrmse"], rel=1e-6)


def test_bad_freeze_pattern_fails_the_run_before_training(tmp_path):
    with pytest.raises(ConfigError, match=r"freeze: pattern 'branch\.\*' matches no parameter.*"
                                          r"named like .*lifting"):
        _run(tmp_path, "bad", "freeze=[branch.*]")
    record = results.read(tmp_path / "bad" / "result.json")
    assert record["status"] == "failed" and record["train_time_s"] is None


class Net(nn.Module):
    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.encoder = nn.Linear(2, width)
        self.head = nn.Linear(width, 1)
        self.register_buffer("scale", torch.ones(1))


def _ckpt(tmp_path: Path, model: nn.Module, identity: dict | None = None, name="w.ckpt") -> Path:
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    state["x_norm.mean"] = torch.zeros(2)
    torch.save({"state_dict": state, "pdebench": identity or {"model": "net"},
                "optimizer_states": []}, tmp_path / name)
    return tmp_path / name


def test_load_model_weights_takes_model_entries_only(tmp_path):
    torch.manual_seed(0)
    src, dst = Net(), Net()
    path = _ckpt(tmp_path, src)
    out = load_model_weights(dst, path)
    assert out == {"path": str(path), "identity": {"model": "net"}}
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v)


def test_mismatching_layers_are_named_with_both_shapes(tmp_path):
    path = _ckpt(tmp_path, Net(width=3))
    with pytest.raises(TransferError, match=r"\(model 'net'\): its layers do not match.*"
                                            r"encoder\.weight: checkpoint \(3, 2\) vs model "
                                            r"\(5, 2\)"):
        load_model_weights(Net(width=5), path)

    class Other(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = nn.Linear(2, 3)

    with pytest.raises(TransferError, match=r"in the model but not in the checkpoint \(trunk\."
                                            r"weight, trunk\.bias\).*in the checkpoint but not "
                                            r"in the model \(scale, encoder\.weight"):
        load_model_weights(Other(), path)


def test_bad_checkpoints_are_refused(tmp_path):
    with pytest.raises(TransferError, match=r"init_from=.*nowhere\.ckpt: no such file"):
        load_model_weights(Net(), tmp_path / "nowhere.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "plain.ckpt")
    with pytest.raises(TransferError, match="not a pdebench checkpoint"):
        load_model_weights(Net(), tmp_path / "plain.ckpt")
    (tmp_path / "text.ckpt").write_text("hello")
    with pytest.raises(TransferError, match="not a readable checkpoint"):
        load_model_weights(Net(), tmp_path / "text.ckpt")
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(TransferError, match="a directory without checkpoints"):
        resolve_checkpoint(tmp_path / "empty_run")


def test_run_dir_prefers_best_over_last(tmp_path):
    ckpts = tmp_path / "run" / "checkpoints"
    ckpts.mkdir(parents=True)
    (ckpts / "last.ckpt").write_bytes(b"")
    assert resolve_checkpoint(tmp_path / "run") == ckpts / "last.ckpt"
    (ckpts / "best-003.ckpt").write_bytes(b"")
    assert resolve_checkpoint(tmp_path / "run") == ckpts / "best-003.ckpt"
    assert resolve_checkpoint(ckpts) == ckpts / "best-003.ckpt"


def test_freeze_patterns():
    model = Net()
    out = apply_freeze(model, ["encoder.*"])
    assert out == {"patterns": ["encoder.*"], "n_tensors": 2, "n_parameters": 9}
    assert [n for n, p in model.named_parameters() if not p.requires_grad] == [
        "encoder.weight", "encoder.bias"]
    with pytest.raises(TransferError, match=r"pattern 'enc' matches no parameter of the model; "
                                            r"its 4 parameters are named like encoder\.weight"):
        apply_freeze(Net(), ["enc"])
    with pytest.raises(TransferError, match="freezes every parameter"):
        apply_freeze(Net(), ["encoder.*", "head.*"])
    with pytest.raises(TransferError, match="freeze must be a list"):
        apply_freeze(Net(), "encoder.*")
    assert apply_freeze(Net(), []) == {"patterns": [], "n_tensors": 0, "n_parameters": 0}


def test_frozen_weights_survive_adamw_weight_decay():
    torch.manual_seed(0)
    model = Net()
    apply_freeze(model, ["encoder.*"])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.9)
    for _ in range(3):
        opt.zero_grad()
        model.head(model.encoder(torch.randn(4, 2))).square().mean().backward()
        opt.step()
    assert torch.equal(model.encoder.weight, before["encoder.weight"])
    assert torch.equal(model.encoder.bias, before["encoder.bias"])
    assert not torch.equal(model.head.weight, before["head.weight"])


def test_a_resumed_run_does_not_reload_init_weights(tmp_path, capsys):
    torch.manual_seed(0)
    path = _ckpt(tmp_path, Net())
    system = SimpleNamespace(model=Net())
    trained = {k: v.clone() for k, v in system.model.state_dict().items()}
    cfg = OmegaConf.create({"init_from": str(path), "freeze": ["head.*"],
                            "system": {"name": "operator"}})
    out = apply_transfer(cfg, system, resuming=True)
    assert out["init_from"] == str(path) and out["frozen"]["n_tensors"] == 2
    for k, v in system.model.state_dict().items():
        assert torch.equal(v, trained[k])  # the resumed weights, not the checkpoint's
    assert "not loaded again" in capsys.readouterr().err
    out = apply_transfer(cfg, system, resuming=False)
    assert torch.equal(system.model.encoder.weight, _model_weights(path)["encoder.weight"])
    assert apply_transfer(OmegaConf.create({"init_from": None, "freeze": []}), system) == {}
    with pytest.raises(ConfigError, match="not a pdebench checkpoint"):
        torch.save({"x": 1}, tmp_path / "bad.ckpt")
        apply_transfer(OmegaConf.create({"init_from": str(tmp_path / "bad.ckpt"),
                                         "system": {"name": "operator"}}), system)
