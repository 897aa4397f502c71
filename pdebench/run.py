"""``run(cfg)``: build data, model, system and trainer from a composed config; fit; test; record."""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from pdebench import __version__, results
from pdebench.config import apply_tiny
from pdebench.data.module import PDEDataModule
from pdebench.data.source import DataSource
from pdebench.metrics import select_metrics
from pdebench.registry import DATASETS, MODELS, SYSTEMS
from pdebench.results import config_hash


class ConfigError(ValueError):
    """The composed configuration cannot work (unknown name, impossible pairing, bad checkpoint)."""


@dataclass
class RunResult:
    status: str
    record: dict[str, Any]
    path: Path


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def _git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def is_rank_zero() -> bool:
    """True in the process that writes records (DDP launchers set these variables)."""
    return int(os.environ.get("LOCAL_RANK", 0)) == 0 and int(os.environ.get("NODE_RANK", 0)) == 0


#: Keys of a data node that configure the harness, not the dataset's constructor.
DATA_RESERVED = ("name", "loader", "split", "limit", "tiny")


def _split_node(node: DictConfig, axis: str, reserved: tuple[str, ...] = ("name",)):
    """Split an axis node into its registry name, the ``_target_`` node, and reserved parts."""
    if "name" not in node:
        raise ConfigError(f"config node {axis!r} has no 'name' key (the registry name)")
    plain = OmegaConf.to_container(node, resolve=True)
    parts = {k: plain.pop(k) for k in reserved if k in plain}
    return parts.pop("name"), plain, parts


def build_data(cfg: DictConfig) -> PDEDataModule:
    cfg = apply_tiny(cfg)
    name, node, extra = _split_node(cfg.data, "data", DATA_RESERVED)
    DATASETS.get(name)  # unknown -> error listing the known datasets
    source = instantiate(node, _convert_="all")  # plain lists/dicts, not OmegaConf nodes
    if not isinstance(source, DataSource):
        raise ConfigError(f"data={name}: its _target_ built a {type(source).__name__}, "
                          "not a pdebench.data.DataSource")
    return PDEDataModule(source, split=extra.get("split"), limit=extra.get("limit"),
                         **(extra.get("loader") or {}))


def build_model(cfg: DictConfig, meta) -> torch.nn.Module:
    name, node, _ = _split_node(apply_tiny(cfg).model, "model", ("name", "tiny"))
    entry = MODELS.get(name)
    supports = entry.extra.get("supports")
    reason = supports(meta) if supports else None
    if reason:
        raise ConfigError(f"model={name} cannot train on data={meta.name}: {reason}")
    # Hydra would turn a dataclass argument into a config node: bind the config, then call.
    return instantiate(node, _partial_=True, _convert_="all")(meta=meta)


def build_system(cfg: DictConfig, model: torch.nn.Module, meta) -> L.LightningModule:
    name, node, _ = _split_node(cfg.system, "system")
    SYSTEMS.get(name)
    metrics_cfg = cfg.get("metrics") or {}
    factories = select_metrics(list(metrics_cfg.get("names", [])), meta,
                               bool(metrics_cfg.get("physics", True)))
    return instantiate(node, _partial_=True)(model=model, meta=meta, metrics=factories)


def check_checkpoint(path: Path, info: dict[str, Any]) -> None:
    """Refuse a checkpoint written for another model or dataset, naming both."""
    if not path.exists():
        raise ConfigError(f"ckpt_path={path}: no such file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"ckpt_path={path}: not a readable checkpoint ({exc})") from None
    theirs = ckpt.get("pdebench") if isinstance(ckpt, dict) else None
    if not theirs:
        raise ConfigError(f"ckpt_path={path}: not a pdebench checkpoint (no 'pdebench' entry)")
    for key in ("model", "dataset", "system"):
        if theirs.get(key) != info.get(key):
            raise ConfigError(
                f"ckpt_path={path} was written by {key} {theirs.get(key)!r} but this run uses "
                f"{info.get(key)!r}; pass a checkpoint of the same model, dataset and system")


def _build_trainer(cfg: DictConfig, run_dir: Path) -> L.Trainer:
    from lightning.pytorch.callbacks import ModelCheckpoint

    ckpt_cfg = cfg.get("checkpoint") or {}
    callbacks = [ModelCheckpoint(dirpath=run_dir / "checkpoints",
                                 filename="best-{epoch:03d}",
                                 monitor=ckpt_cfg.get("monitor", "val/pdebench/nrmse"),
                                 mode=ckpt_cfg.get("mode", "min"), save_top_k=1, save_last=True,
                                 auto_insert_metric_name=False)]
    logger = instantiate(cfg.logger) if cfg.get("logger") else False
    return instantiate(cfg.trainer, callbacks=callbacks, logger=logger,
                       default_root_dir=str(run_dir))


def run(cfg: DictConfig) -> RunResult:
    """Train and evaluate one configuration; write ``result.json`` (also when it fails).

    Returns the record; re-raises the error of a failed run after writing its record.
    """
    cfg = apply_tiny(cfg)
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    result_path = run_dir / "result.json"
    plain = OmegaConf.to_container(cfg, resolve=True)
    record: dict[str, Any] = {
        "schema_version": results.SCHEMA_VERSION, "status": "running", "error": None,
        "pdebench_version": __version__, "git_revision": _git_revision(),
        "config_hash": config_hash(plain),
        "dataset": str(cfg.data.get("name", "?")), "model": str(cfg.model.get("name", "?")),
        "system": str(cfg.system.get("name", "?")), "seed": int(cfg.seed),
        "metrics": {}, "metrics_per_field": {}, "val_metrics": {}, "metric_info": {},
        "n_parameters": None, "train_time_s": None, "inference_time_per_sample_s": None,
        "device": "unknown", "started_at": _now(), "finished_at": None,
        "run_dir": str(run_dir), "checkpoint": None, "config": plain,
    }
    rank_zero = is_rank_zero()
    if rank_zero:
        results.write(record, result_path)
    try:
        L.seed_everything(int(cfg.seed), workers=True, verbose=False)
        datamodule = build_data(cfg)
        meta = datamodule.meta
        model = build_model(cfg, meta)
        system = build_system(cfg, model, meta)
        system.run_info = {"model": record["model"], "dataset": record["dataset"],
                           "system": record["system"], "config_hash": record["config_hash"]}
        datamodule.prepare_data()
        datamodule.setup("fit")
        system.set_normalizers(datamodule.stats)
        record["split_sizes"] = datamodule.split_sizes
        record["n_parameters"] = int(sum(p.numel() for p in model.parameters()))
        record["metric_info"] = system.test_metrics.info()

        ckpt_path = _resume_checkpoint(cfg, run_dir)
        if ckpt_path is not None:
            check_checkpoint(ckpt_path, system.run_info)
        trainer = _build_trainer(cfg, run_dir)
        record["device"] = (f"{trainer.strategy.root_device.type} x {trainer.world_size}"
                            if trainer.world_size > 1 else str(trainer.strategy.root_device))
        t0 = time.perf_counter()
        trainer.fit(system, datamodule=datamodule, ckpt_path=str(ckpt_path) if ckpt_path else None)
        record["train_time_s"] = time.perf_counter() - t0
        if trainer.interrupted:
            raise KeyboardInterrupt("training was interrupted")
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        trainer.test(system, datamodule=datamodule, ckpt_path=best or None, verbose=False)
        record["checkpoint"] = best or None
        record["val_metrics"] = dict(system.val_results)
        record.update(system.test_results)
        bad = {k: v for k, v in record["metrics"].items() if not _finite(v)}
        if bad:
            raise FloatingPointError(f"test metrics are not finite: {bad}")
        record["status"] = "ok"
        if rank_zero and cfg.get("plots", True):
            try:
                _plot(system, datamodule, run_dir, record)
            except Exception as exc:  # a figure is not worth a failed run
                print(f"pdebench: predictions.png not written: {exc}", file=sys.stderr)
    except BaseException as exc:
        record["status"] = "failed"
        record["error"] = {"type": type(exc).__name__, "message": str(exc) or repr(exc)}
        record["finished_at"] = _now()
        if rank_zero:
            results.write(record, result_path)
        raise
    record["finished_at"] = _now()
    if rank_zero:
        results.write(record, result_path)
    return RunResult("ok", record, result_path)


def _plot(system: L.LightningModule, datamodule: PDEDataModule, run_dir: Path,
          record: dict[str, Any]) -> None:
    """``predictions.png``: three test samples, their targets, predictions and errors."""
    from torch.utils.data import default_collate

    from pdebench.plots import plot_predictions

    test = datamodule.indices["test"][:3]
    batch = default_collate([datamodule.dataset[int(i)] for i in test])
    system.eval()
    with torch.no_grad():
        pred = system(batch["x"].to(system.device)).cpu()
    title = (f"{record['model']} on {record['dataset']} (seed {record['seed']}): test "
             f"pdebench/nrmse {record['metrics'].get('pdebench/nrmse', float('nan')):.4g}")
    plot_predictions(batch["x"], batch["y"], pred, datamodule.meta,
                     run_dir / "predictions.png", title)


def _finite(v: float) -> bool:
    return v == v and abs(v) != float("inf")


def _resume_checkpoint(cfg: DictConfig, run_dir: Path) -> Path | None:
    """``ckpt_path`` from the config, else ``last.ckpt`` of an earlier attempt in this run dir."""
    if cfg.get("ckpt_path"):
        return Path(cfg.ckpt_path).expanduser()
    last = run_dir / "checkpoints" / "last.ckpt"
    if cfg.get("resume", True) and last.exists():
        print(f"pdebench: resuming from {last}", file=sys.stderr)
        return last
    return None


def summary_table(record: dict[str, Any]) -> str:
    """A short plain-text table of a run's test metrics."""
    rows = [("dataset", record["dataset"]), ("model", record["model"]),
            ("system", record["system"]), ("seed", str(record["seed"])),
            ("status", record["status"])]
    if record.get("split_sizes"):
        rows.append(("split", " / ".join(f"{k} {v}" for k, v in record["split_sizes"].items())))
    for name, value in record["metrics"].items():
        rows.append((f"test {name}", f"{value:.4g}"))
    if record.get("train_time_s") is not None:
        rows.append(("train time", f"{record['train_time_s']:.1f} s"))
    if record.get("n_parameters") is not None:
        rows.append(("parameters", f"{record['n_parameters']:,}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)
