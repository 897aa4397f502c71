"""The ``result.json`` schema: one self-describing record per run, written atomically.

Schema (version 1)::

    {
      "schema_version": 1,
      "status": "ok" | "failed" | "running",
      "error": null | {"type": str, "message": str},
      "pdebench_version": str, "git_revision": str | null, "config_hash": str,
      "dataset": str, "model": str, "system": str, "seed": int,
      "datasets": {role: dataset},               # every dataset the run used ({"data": name},
                                                 # or the named ones of a multi-dataset run, whose
                                                 # "dataset" is "role=name+role=name")
      "split_sizes": {"train": int, "val": int, "test": int},   # or {"<role>/train": int, ...}
      "metrics": {name: float},                  # test split, overall (mean over fields)
      "metrics_per_field": {field: {name: float}},
      "val_metrics": {name: float},              # best checkpoint on the validation split
      "metric_info": {name: {"higher_is_better": bool}},
      "n_parameters": int | null,
      "train_time_s": float | null, "inference_time_per_sample_s": float | null,
      "device": str, "started_at": str, "finished_at": str | null,
      "run_dir": str, "checkpoint": str | null,
      "config": {...},                           # the resolved run config
      "metrics_per_window": {"a:b": {name: float}},  # optional (rollouts): test metrics over
                                                 # predicted frames a <= k < b (0: the first
                                                 # frame after the input window)
      "rollout_curve": {"step": [int], name: [float]},  # optional (rollouts): each metric per
                                                 # rollout step 1..T (mean over fields)
      "init_from": str,                          # optional (transfer): the checkpoint whose model
                                                 # weights the run started from
      "frozen": {"patterns": [str], "n_tensors": int, "n_parameters": int},
                                                 # optional: parameters kept fixed (freeze)
      "instance": int | null,                    # optional (physics-informed runs): which problem
                                                 # instance of the test split was solved
      "track": "physics" | "data_assisted",      # optional: pure physics, or observed interior
                                                 # points used in training
      "n_data": int,                             # optional: number of observed points (0 for
                                                 # "physics")
      "metrics_per_task": {task: {name: float}}, # optional (system=multitask): each task's test
                                                 # metrics; "metrics" is then their mean over tasks
      "metrics_per_task_field": {task: {field: {name: float}}},
      "val_metrics_per_task": {task: {name: float}}
    }

A failed run has ``status="failed"``, an ``error`` and whatever metrics it reached (usually none).
Older records carry no ``instance``, ``track`` or ``n_data``; they mean a run that solved no
particular instance, in no track.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path, PurePath
from typing import Any

SCHEMA_VERSION = 1
STATUSES = ("ok", "failed", "running")
REQUIRED: dict[str, type | tuple[type, ...]] = {
    "schema_version": int,
    "status": str,
    "pdebench_version": str,
    "config_hash": str,
    "dataset": str,
    "model": str,
    "system": str,
    "seed": int,
    "metrics": dict,
}
OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "error": (dict, type(None)),
    "git_revision": (str, type(None)),
    "datasets": dict,
    "split_sizes": dict,
    "metrics_per_field": dict,
    "val_metrics": dict,
    "metric_info": dict,
    "n_parameters": (int, type(None)),
    "train_time_s": (int, float, type(None)),
    "inference_time_per_sample_s": (int, float, type(None)),
    "device": str,
    "started_at": str,
    "finished_at": (str, type(None)),
    "run_dir": str,
    "checkpoint": (str, type(None)),
    "config": dict,
    "init_from": (str, type(None)),
    "frozen": (dict, type(None)),
    "instance": (int, type(None)),
    "track": (str, type(None)),
    "n_data": (int, type(None)),
    "metrics_per_window": dict,
    "rollout_curve": dict,
    "metrics_per_task": dict,
    "metrics_per_task_field": dict,
    "val_metrics_per_task": dict,
}
#: Values of ``track``: pure physics, or observed interior points used in training.
TRACKS = ("physics", "data_assisted")


#: Config parts that do not change the numbers a run produces: left out of ``config_hash`` and
#: of the leaderboard's comparison of configurations.
NON_SCIENTIFIC = ("seed", "paths", "hydra", "ckpt_path", "resume", "plots", "progress", "logger",
                  "trainer.enable_progress_bar", "trainer.enable_model_summary",
                  "trainer.log_every_n_steps", "data.data_dir", "data.in_memory",
                  "data.loader.num_workers", "data.cache_dir")

#: Config keys that index repetitions of one configuration: the seed, and the problem instance of
#: the test split that a physics-informed run solved. Runs differing only in them are one
#: configuration (one ``config_hash``), aggregated together by the leaderboard.
REPLICATES = ("seed", "data.instance")

#: Config keys that locate a published file or folder: only its name counts (a moved folder is the
#: same data; two different files, e.g. two Burgers viscosities, are different configurations).
#: A folder (no suffix) keeps its parent's name too: published folders are often named alike
#: (The Well's ``<dataset>/data``), and two datasets must not merge. ``init_from`` (the run or
#: checkpoint a transfer run starts from) is compared the same way.
LOCATIONS = ("data.path", "data.root", "init_from")


def location_name(path: str) -> str:
    """The part of a file or folder path that identifies the data (see :data:`LOCATIONS`)."""
    p = PurePath(path)
    return p.name if p.suffix or len(p.parts) < 2 else "/".join(p.parts[-2:])


def comparable_config(config: dict[str, Any]) -> dict[str, Any]:
    """Flatten a run config to ``{"a.b.c": value}`` without its :data:`NON_SCIENTIFIC` parts,
    and with only the file or folder name of the :data:`LOCATIONS`.

    The :data:`REPLICATES` are left out too: runs that differ only by seed and problem instance
    (``data.instance``) are one configuration, and so are the ``tiny`` declarations
    (``debug=fast`` has already merged them into the values that count). The named datasets of a
    multi-dataset run (``datasets.<name>.*``) follow the rules of ``data.*``.
    """
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        key = prefix[:-1]
        parts = key.split(".")
        as_data = ".".join(["data", *parts[2:]]) if parts[0] == "datasets" and len(parts) > 2 \
            else key
        if key in NON_SCIENTIFIC or as_data in NON_SCIENTIFIC or parts[-1] == "tiny" \
                or key in REPLICATES or as_data in REPLICATES:
            return
        if as_data in LOCATIONS and isinstance(node, str):
            out[prefix[:-1]] = location_name(node)
            return
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            out[prefix[:-1]] = node

    walk(config, "")
    return out


def config_hash(config: dict[str, Any]) -> str:
    """Short hash of :func:`comparable_config`: runs differing only by seed and instance (or
    paths, logging, progress display) share it."""
    import hashlib

    blob = json.dumps(comparable_config(config), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class ResultError(ValueError):
    """A ``result.json`` is unreadable or does not follow the schema."""


def validate(record: dict[str, Any], source: str | Path = "<record>") -> dict[str, Any]:
    """Check ``record`` against the schema; return it or raise :class:`ResultError`."""
    if not isinstance(record, dict):
        raise ResultError(f"{source}: top level must be a JSON object")
    for key in REQUIRED:
        if key not in record:
            raise ResultError(f"{source}: missing required key {key!r}")
    for key, typ in {**REQUIRED, **OPTIONAL}.items():
        if key in record and not _is(record[key], typ):
            raise ResultError(
                f"{source}: key {key!r} must be {_tname(typ)}, got {type(record[key]).__name__}"
            )
    if record["schema_version"] != SCHEMA_VERSION:
        raise ResultError(
            f"{source}: schema_version {record['schema_version']} is not supported "
            f"(this pdebench reads version {SCHEMA_VERSION})"
        )
    if record["status"] not in STATUSES:
        raise ResultError(f"{source}: status {record['status']!r} is not one of {STATUSES}")
    if record["status"] == "failed" and not record.get("error"):
        raise ResultError(f"{source}: a failed run must carry an 'error'")
    _validate_track(record, source)
    ok = record["status"] == "ok"
    _validate_numbers(record["metrics"], "metric", ok, source)
    for field, values in record.get("metrics_per_field", {}).items():
        if not isinstance(values, dict):
            raise ResultError(f"{source}: metrics_per_field[{field!r}] must be an object "
                              f"{{metric name: number}}, got {type(values).__name__}")
        _validate_numbers(values, f"metrics_per_field[{field!r}] metric", ok, source)
    for window, values in record.get("metrics_per_window", {}).items():
        if not isinstance(values, dict):
            raise ResultError(f"{source}: metrics_per_window[{window!r}] must be an object "
                              f"{{metric name: number}}, got {type(values).__name__}")
        _validate_numbers(values, f"metrics_per_window[{window!r}] metric", ok, source)
    _validate_curve(record.get("rollout_curve", {}), ok, source)
    _validate_tasks(record, ok, source)
    return record


def _validate_tasks(record: dict[str, Any], finite: bool, source: str | Path) -> None:
    """Check the per-task metrics of a multi-task run (``{task: {name: number}}``, and
    ``{task: {field: {name: number}}}`` for ``metrics_per_task_field``)."""
    for key, depth in (("metrics_per_task", 1), ("val_metrics_per_task", 1),
                       ("metrics_per_task_field", 2)):
        for task, values in record.get(key, {}).items():
            where = f"{key}[{task!r}]"
            tables = {where: values}
            if depth == 2 and isinstance(values, dict):
                tables = {f"{where}[{f!r}]": v for f, v in values.items()}
            for name, table in tables.items():
                if not isinstance(table, dict):
                    raise ResultError(f"{source}: {name} must be an object {{metric name: "
                                      f"number}}, got {type(table).__name__}")
                _validate_numbers(table, f"{name} metric", finite and key != "val_metrics_per_task",
                                  source)


def _validate_curve(curve: dict[str, Any], finite: bool, source: str | Path) -> None:
    """``rollout_curve``: equally long lists, ``"step"`` of ints, the metrics of numbers."""
    if not curve:
        return
    steps = curve.get("step")
    if not isinstance(steps, list) or not all(_is(s, int) for s in steps):
        raise ResultError(f"{source}: rollout_curve['step'] must be a list of ints")
    for name, values in curve.items():
        if not isinstance(values, list) or len(values) != len(steps):
            raise ResultError(f"{source}: rollout_curve[{name!r}] must be a list of "
                              f"{len(steps)} numbers (one per step)")
        _validate_numbers(dict(enumerate(values)), f"rollout_curve[{name!r}] value", finite,
                          source)


def _validate_numbers(metrics: dict[str, Any], what: str, finite: bool,
                      source: str | Path) -> None:
    for name, value in metrics.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ResultError(f"{source}: {what} {name!r} must be a number, got {value!r}")
        if finite and not math.isfinite(value):
            raise ResultError(f"{source}: {what} {name!r} is not finite ({value})")


def _validate_track(record: dict[str, Any], source: str | Path) -> None:
    """Check ``instance``, ``track`` and ``n_data`` of a physics-informed run."""
    instance, track, n_data = (record.get(k) for k in ("instance", "track", "n_data"))
    if instance is not None and instance < 0:
        raise ResultError(f"{source}: instance={instance} must be >= 0")
    if track is not None and track not in TRACKS:
        raise ResultError(f"{source}: track {track!r} is not one of {TRACKS}")
    if n_data is not None and n_data < 0:
        raise ResultError(f"{source}: n_data={n_data} must be >= 0")
    if track == "physics" and n_data:
        raise ResultError(f"{source}: track 'physics' uses no observed points, got n_data={n_data}")
    if track == "data_assisted" and n_data == 0:
        raise ResultError(f"{source}: track 'data_assisted' needs n_data >= 1 observed points")


def _is(value: Any, typ: type | tuple[type, ...]) -> bool:
    """``isinstance`` where a bool is not an int (``True`` is no seed or count)."""
    types = typ if isinstance(typ, tuple) else (typ,)
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _tname(typ: type | tuple[type, ...]) -> str:
    if isinstance(typ, tuple):
        return " or ".join("null" if t is type(None) else t.__name__ for t in typ)
    return typ.__name__


def write(record: dict[str, Any], path: str | Path) -> Path:
    """Validate ``record`` and write it to ``path`` atomically (temp file + rename)."""
    path = Path(path)
    validate(record, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".result.", suffix=".json.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, indent=2, sort_keys=True, allow_nan=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | Path) -> dict[str, Any]:
    """Read and validate one ``result.json``."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultError(f"{path}: not valid JSON ({exc})") from None
    return validate(record, path)
