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
from pdebench.systems.base import System
from pdebench.transfer import TransferError, apply_freeze, load_model_weights, resolve_checkpoint


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
DATA_RESERVED = ("name", "loader", "split", "limit", "tiny", "instance")


def _split_node(node: DictConfig, axis: str, reserved: tuple[str, ...] = ("name",)):
    """Split an axis node into its registry name, the ``_target_`` node, and reserved parts."""
    if "name" not in node:
        raise ConfigError(f"config node {axis!r} has no 'name' key (the registry name)")
    plain = OmegaConf.to_container(node, resolve=True)
    parts = {k: plain.pop(k) for k in reserved if k in plain}
    return parts.pop("name"), plain, parts


def data_nodes(cfg: DictConfig) -> dict[str, DictConfig]:
    """The datasets a run names: ``{"data": cfg.data}``, or the named ``datasets.<name>`` nodes
    (``+data@datasets.sim=cylinder_sim +data@datasets.real=cylinder_real``), which replace
    ``data`` when present."""
    named = cfg.get("datasets") or {}
    if named:
        return {str(k): v for k, v in named.items()}
    return {"data": cfg.data}


def dataset_label(datasets: dict[str, str]) -> str:
    """The ``dataset`` of a record: the registry name of a run's single dataset, or
    ``name=dataset`` pairs joined by ``+`` for a run on several named datasets."""
    if list(datasets) == ["data"]:
        return datasets["data"]
    return "+".join(f"{k}={v}" for k, v in datasets.items())


def build_dataset(node: DictConfig, axis: str = "data") -> PDEDataModule:
    """A :class:`PDEDataModule` from one data node (``axis`` names it in messages)."""
    name, target, extra = _split_node(node, axis, DATA_RESERVED)
    if name not in DATASETS:
        raise ConfigError(f"{axis}={name}: {DATASETS.unknown_message(name)}")
    source = instantiate(target, _convert_="all")  # plain lists/dicts, not OmegaConf nodes
    if not isinstance(source, DataSource):
        raise ConfigError(f"{axis}={name}: its _target_ built a {type(source).__name__}, "
                          "not a pdebench.data.DataSource")
    return PDEDataModule(source, split=extra.get("split"), limit=extra.get("limit"),
                         instance=extra.get("instance", 0), **(extra.get("loader") or {}))


def build_datasets(cfg: DictConfig) -> dict[str, PDEDataModule]:
    """Every dataset the run names (see :func:`data_nodes`), by name."""
    cfg = apply_tiny(cfg)
    named = bool(cfg.get("datasets"))
    return {k: build_dataset(v, f"datasets.{k}" if named else "data")
            for k, v in data_nodes(cfg).items()}


def build_data(cfg: DictConfig) -> PDEDataModule:
    """The run's single dataset (``data=...``)."""
    return build_dataset(apply_tiny(cfg).data)


def build_model(cfg: DictConfig, meta) -> torch.nn.Module:
    name, node, _ = _split_node(apply_tiny(cfg).model, "model", ("name", "tiny"))
    entry = MODELS.get(name)
    supports = entry.extra.get("supports")
    reason = supports(meta) if supports else None
    if reason:
        raise ConfigError(f"model={name} cannot train on data={meta.name}: {reason}")
    # Hydra would turn a dataclass argument into a config node: bind the config, then call.
    return instantiate(node, _partial_=True, _convert_="all")(meta=meta)


def system_class(cfg: DictConfig) -> type[System]:
    """The registered system ``cfg.system.name`` (a :class:`pdebench.systems.base.System`)."""
    name = cfg.system.get("name")
    cls = SYSTEMS.get(name).target  # unknown -> error listing the known systems
    if cfg.system.get("_target_"):  # the config may name a subclass of the registered class
        from hydra.utils import get_class

        cls = get_class(cfg.system["_target_"])
    if not (isinstance(cls, type) and issubclass(cls, System)):
        raise ConfigError(f"system={name} is registered with {cls!r}, which is not a "
                          "pdebench.systems.base.System subclass")
    return cls


def build_system(cfg: DictConfig, cls: type[System], model: torch.nn.Module,
                 metas: dict[str, Any]) -> System:
    """Build ``cls`` from its config node, the model, the datasets and their metric suites."""
    _, node, _ = _split_node(cfg.system, "system", ("name", "tiny"))
    metrics_cfg = cfg.get("metrics") or {}
    factories = {k: select_metrics(list(metrics_cfg.get("names", [])), meta,
                                   bool(metrics_cfg.get("physics", True)))
                 for k, meta in metas.items()}
    # _target_ objects inside the node (optimiser, scheduler) become _partial_ callables
    objects = instantiate({k: v for k, v in node.items() if k != "_target_"}, _convert_="all")
    return cls.from_config(objects, model=model, metas=metas, metrics=factories)


def check_checkpoint(path: Path, info: dict[str, Any]) -> None:
    """Refuse a checkpoint written for another model, dataset(s) or system, naming both."""
    if not path.exists():
        raise ConfigError(f"ckpt_path={path}: no such file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"ckpt_path={path}: not a readable checkpoint ({exc})") from None
    theirs = ckpt.get("pdebench") if isinstance(ckpt, dict) else None
    if not theirs:
        raise ConfigError(f"ckpt_path={path}: not a pdebench checkpoint (no 'pdebench' entry)")
    for key in ("model", "datasets", "system"):
        if key == "datasets" and key not in theirs:  # written before runs named datasets
            key = "dataset"
        if theirs.get(key) != info.get(key):
            raise ConfigError(
                f"ckpt_path={path} was written by {key} {theirs.get(key)!r} but this run uses "
                f"{info.get(key)!r}; pass a checkpoint of the same model, dataset and system")


def apply_transfer(cfg: DictConfig, system: System, resuming: bool = False) -> dict[str, Any]:
    """Apply ``init_from`` (the model weights of a checkpoint or run directory) and ``freeze``
    (parameter-name patterns) to ``system.model`` (:mod:`pdebench.transfer`).

    A resumed run (``resuming``: ``ckpt_path`` or ``last.ckpt``) does not load ``init_from``
    again: its checkpoint holds the weights trained since; the freeze patterns apply either way.

    Returns
    -------
    dict
        The record's ``init_from`` (the checkpoint file) and ``frozen`` (``{"patterns",
        "n_tensors", "n_parameters"}``) entries, for the options that are set.

    Raises
    ------
    ConfigError
        What :class:`pdebench.transfer.TransferError` names, or a system without ``model``.
    """
    init_from = cfg.get("init_from")
    patterns = cfg.get("freeze")
    patterns = [] if patterns is None else patterns
    if OmegaConf.is_list(patterns):
        patterns = OmegaConf.to_container(patterns, resolve=True)
    if not init_from and not patterns:
        return {}
    model = getattr(system, "model", None)
    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"init_from/freeze: system={cfg.system.get('name')} has no 'model' "
                          "module to load weights into or freeze")
    out: dict[str, Any] = {}
    try:
        if init_from:
            if resuming:
                out["init_from"] = str(resolve_checkpoint(init_from))
                print(f"pdebench: resuming: init_from={init_from} is not loaded again",
                      file=sys.stderr)
            else:
                out["init_from"] = load_model_weights(model, init_from)["path"]
        if patterns:
            out["frozen"] = apply_freeze(model, patterns)
    except TransferError as exc:
        raise ConfigError(str(exc)) from None
    return out


def _build_trainer(cfg: DictConfig, run_dir: Path, cls: type[System] = System) -> L.Trainer:
    from lightning.pytorch.callbacks import ModelCheckpoint

    from pdebench.callbacks import EpochLines
    from pdebench.progress import progress_mode

    ckpt_cfg = cfg.get("checkpoint") or {}
    monitor = ckpt_cfg.get("monitor", "val/pdebench/nrmse") if cls.select_best else None
    callbacks = [ModelCheckpoint(dirpath=run_dir / "checkpoints",
                                 filename="best-{epoch:03d}", monitor=monitor,
                                 mode=ckpt_cfg.get("mode", "min"), save_top_k=1, save_last=True,
                                 auto_insert_metric_name=False)]
    _, node, _ = _split_node(cfg.system, "system", ("name", "tiny"))
    extra: dict[str, Any] = dict(cls.trainer_overrides(node))
    # a bar redrawn in place reads well on a terminal only: elsewhere (CI logs, nohup files,
    # sweep workers) one line per epoch instead
    mode = progress_mode(sys.stdout, cfg.get("progress") or "auto")
    if mode != "bar":
        extra["enable_progress_bar"] = False
        if mode == "lines" and cfg.trainer.get("enable_progress_bar", True):
            callbacks.append(EpochLines(monitor))
    logger = instantiate(cfg.logger) if cfg.get("logger") else False
    return instantiate(cfg.trainer, callbacks=callbacks, logger=logger,
                       default_root_dir=str(run_dir), **extra)


def run(cfg: DictConfig) -> RunResult:
    """Train and evaluate one configuration; write ``result.json`` (also when it fails).

    Returns the record; re-raises the error of a failed run after writing its record.
    """
    cfg = apply_tiny(cfg)
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    result_path = run_dir / "result.json"
    plain = OmegaConf.to_container(cfg, resolve=True)
    datasets = {k: str(v.get("name", "?")) for k, v in data_nodes(cfg).items()}
    record: dict[str, Any] = {
        "schema_version": results.SCHEMA_VERSION, "status": "running", "error": None,
        "pdebench_version": __version__, "git_revision": _git_revision(),
        "config_hash": config_hash(plain),
        "dataset": dataset_label(datasets), "datasets": datasets,
        "model": str(cfg.model.get("name", "?")),
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
        cls = system_class(cfg)
        named = bool(cfg.get("datasets"))
        cls.check_datasets([f"datasets.{k}" if named else k for k in record["datasets"]],
                           record["system"])
        datamodules = build_datasets(cfg)
        metas = {k: dm.meta for k, dm in datamodules.items()}
        options = _split_node(cfg.system, "system", ("name", "tiny"))[1]
        model = build_model(cfg, cls.model_meta(metas, node=options))
        system = build_system(cfg, cls, model, metas)
        system.identity = {"model": record["model"], "datasets": record["datasets"],
                           "dataset": record["dataset"], "system": record["system"],
                           "config_hash": record["config_hash"]}
        datamodule = system.datamodule(datamodules)
        datamodule.prepare_data()
        datamodule.setup("fit")
        system.set_normalizers({k: dm.stats for k, dm in datamodules.items()})
        record["split_sizes"] = _split_sizes(datamodules)
        record["n_parameters"] = int(sum(p.numel() for p in model.parameters()))
        record["metric_info"] = system.metric_info()
        _check_monitor(cfg, cls, record["metric_info"])

        ckpt_path = _resume_checkpoint(cfg, run_dir)
        if ckpt_path is not None:
            check_checkpoint(ckpt_path, system.identity)
        record.update(apply_transfer(cfg, system, resuming=ckpt_path is not None))
        trainer = _build_trainer(cfg, run_dir, cls)
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
        record.update(system.results())
        bad = {k: v for k, v in record["metrics"].items() if not _finite(v)}
        if bad:
            raise FloatingPointError(f"test metrics are not finite: {bad}")
        record["status"] = "ok"
        if rank_zero and cfg.get("plots", True):
            try:
                system.write_figures(datamodules, run_dir, record)
            except Exception as exc:  # a figure is not worth a failed run
                print(f"pdebench: figures not written: {exc}", file=sys.stderr)
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


def _check_monitor(cfg: DictConfig, cls: type[System], metric_info: dict[str, Any]) -> None:
    """Refuse a ``checkpoint.monitor`` the run never logs (before training, not in Lightning's
    checkpoint callback after the first epoch)."""
    monitor = (cfg.get("checkpoint") or {}).get("monitor", "val/pdebench/nrmse")
    if not cls.select_best or not monitor:
        return
    names = list(metric_info)
    # val/<metric>; val/<task>/<metric> of a multi-task run; a mean over datasets whose names
    # a system reports per dataset (<dataset>/<metric>); the validation loss
    wanted = monitor.removeprefix("val/")
    if monitor == "val/loss" or any(m == wanted or wanted.endswith(f"/{m}") or
                                    m.endswith(f"/{wanted}") for m in names):
        return
    shown = ", ".join(f"val/{m}" for m in names[:8]) + (" ..." if len(names) > 8 else "")
    raise ConfigError(
        f"checkpoint.monitor={monitor} is not a metric this run computes on the validation "
        f"split (metrics.names={list((cfg.get('metrics') or {}).get('names', []))}); use one of "
        f"val/loss, {shown}")


def _split_sizes(datamodules: dict[str, PDEDataModule]) -> dict[str, int]:
    """Split sizes of the single dataset, or ``<name>/<split>`` of each named one."""
    if len(datamodules) == 1:
        return next(iter(datamodules.values())).split_sizes
    return {f"{k}/{split}": n for k, dm in datamodules.items()
            for split, n in dm.split_sizes.items()}


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
