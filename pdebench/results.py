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
      "config": {...}                            # the resolved run config
    }

A failed run has ``status="failed"``, an ``error`` and whatever metrics it reached (usually none).
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
}


#: Config parts that do not change the numbers a run produces: left out of ``config_hash`` and
#: of the leaderboard's comparison of configurations.
NON_SCIENTIFIC = ("seed", "paths", "hydra", "ckpt_path", "resume", "plots", "progress", "logger",
                  "trainer.enable_progress_bar", "trainer.enable_model_summary",
                  "trainer.log_every_n_steps", "data.data_dir", "data.in_memory",
                  "data.loader.num_workers", "data.cache_dir")

#: Config keys that locate a published file or folder: only its name counts (a moved folder is the
#: same data; two different files, e.g. two Burgers viscosities, are different configurations).
#: A folder (no suffix) keeps its parent's name too: published folders are often named alike
#: (The Well's ``<dataset>/data``), and two datasets must not merge.
LOCATIONS = ("data.path", "data.root")


def location_name(path: str) -> str:
    """The part of a file or folder path that identifies the data (see :data:`LOCATIONS`)."""
    p = PurePath(path)
    return p.name if p.suffix or len(p.parts) < 2 else "/".join(p.parts[-2:])


def comparable_config(config: dict[str, Any]) -> dict[str, Any]:
    """Flatten a run config to ``{"a.b.c": value}`` without its :data:`NON_SCIENTIFIC` parts,
    and with only the file or folder name of the :data:`LOCATIONS`.

    ``seed`` is left out too: runs that differ only by seed are one configuration, and so are the
    ``tiny`` declarations (``debug=fast`` has already merged them into the values that count).
    The named datasets of a multi-dataset run (``datasets.<name>.*``) follow the rules of
    ``data.*``.
    """
    out: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        key = prefix[:-1]
        parts = key.split(".")
        as_data = ".".join(["data", *parts[2:]]) if parts[0] == "datasets" and len(parts) > 2 \
            else key
        if key in NON_SCIENTIFIC or as_data in NON_SCIENTIFIC or parts[-1] == "tiny":
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
    """Short hash of :func:`comparable_config`: runs differing only by seed (or paths, logging,
    progress display) share it."""
    import hashlib

    blob = json.dumps(comparable_config(config), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class ResultError(ValueError):
    """A ``result.json`` is unreadable or does not follow the schema."""


def validate(record: dict[str, Any], source: str | Path = "<record>") -> dict[str, Any]:
    """Check ``record`` against the schema; return it or raise :class:`ResultError`."""
    if not isinstance(record, dict):
        raise ResultError(f"{source}: top level must be a JSON object")
    for key, typ in REQUIRED.items():
        if key not in record:
            raise ResultError(f"{source}: missing required key {key!r}")
        if not isinstance(record[key], typ) or isinstance(record[key], bool) and typ is int:
            raise ResultError(
                f"{source}: key {key!r} must be {_tname(typ)}, got {type(record[key]).__name__}"
            )
    for key, typ in OPTIONAL.items():
        if key in record and not isinstance(record[key], typ):
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
    for name, value in record["metrics"].items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ResultError(f"{source}: metric {name!r} must be a number, got {value!r}")
        if record["status"] == "ok" and not math.isfinite(value):
            raise ResultError(f"{source}: metric {name!r} is not finite ({value})")
    return record


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
