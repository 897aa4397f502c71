"""Keep different configurations apart: runs that differ in more than their seed and problem
instance are never averaged together.

- Data variants: records of one dataset whose configs differ in ``data.*`` keys (another regime,
  β, resolution, published file) go into separate tables, headed by the dataset and the values of
  the differing keys (``electrothermal [data.regime=3]``); see ``RunRecord.variant``.
- Other configurations: records of one ``(table, system, model)`` that differ in any other key
  (``model.*``, ``system.*``, ``trainer.*``: a width, an epoch count) are separate rows, labelled
  by what differs (``fno [model.width=64]``).

Keys that differ only between tracks (``track``, ``n_data`` of physics-informed runs), such as the
number of observed points, make neither a variant nor a label: the tracks are separate tables
already.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pdebench.results import comparable_config, config_hash

MAX_KEYS_IN_LABEL = 3
#: Config keys of the data: ``data.*`` and the named datasets of a multi-dataset run.
DATA_PREFIXES = ("data.", "datasets.")


def _variant_key(record) -> str:
    """The configuration identity: recomputed from the stored config when there is one (so the
    definition in :func:`pdebench.results.config_hash` applies to old records too)."""
    config = record.data.get("config")
    return config_hash(config) if config else record.data.get("config_hash", "")


def _track(record) -> tuple[Any, Any]:
    return record.data.get("track"), record.data.get("n_data")


def _differing(members: list, flat: dict[int, dict[str, Any]], data: bool) -> list[str]:
    """The data keys (``data=True``) or the other keys whose values differ among ``members``."""
    keys = sorted({k for r in members for k in flat[id(r)] if k.startswith(DATA_PREFIXES) == data})
    return [k for k in keys if len({repr(flat[id(r)].get(k)) for r in members}) > 1]


def _describe(keys: list[str], values: dict[str, Any], fallback: str) -> str:
    """``"k=v, k=v"`` for up to :data:`MAX_KEYS_IN_LABEL` keys, else ``fallback``."""
    if keys and len(keys) <= MAX_KEYS_IN_LABEL:
        return ", ".join(f"{k}={values.get(k)}" for k in keys)
    return fallback


def label_variants(records: Iterable) -> list:
    """Return the records with their data ``variant`` set and ``model`` relabelled where a
    table holds several configurations of one model.

    1. Per dataset, the ``data.*`` (and ``datasets.*``) keys whose values differ among records
       of the same ``(track, n_data)`` make the variant: every record of the dataset gets
       ``variant = "<key>=<value>, ..."`` (up to three keys, else ``"data config <hash>"``).
    2. Per ``(dataset, variant, track, n_data, system, model)``, records that carry more than one
       ``config_hash`` get ``model = "<model> [<key>=<value>, ...]"`` naming the other config
       keys whose values differ (up to three; else the hash).

    Records are ``RunRecord``-like dataclasses with ``.data`` and ``.variant``; the originals are
    not modified.
    """
    records = list(records)
    flat = {id(r): comparable_config(r.data.get("config") or {}) for r in records}

    by_track: dict[tuple, list] = defaultdict(list)
    for record in records:
        by_track[(record.data["dataset"], *_track(record))].append(record)
    data_keys: dict[str, set[str]] = defaultdict(set)
    for (dataset, *_), members in by_track.items():
        data_keys[dataset].update(_differing(members, flat, data=True))
    variants: dict[int, str] = {}
    for record in records:
        keys = sorted(data_keys[record.data["dataset"]])
        if keys:
            values = flat[id(record)]
            blob = json.dumps({k: values.get(k) for k in keys}, sort_keys=True, default=str)
            digest = hashlib.sha256(blob.encode()).hexdigest()[:8]
            variants[id(record)] = _describe(keys, values, f"data config {digest}")

    groups: dict[tuple, list] = defaultdict(list)
    for record in records:
        d = record.data
        key = (d["dataset"], variants.get(id(record), ""), *_track(record), d["system"], d["model"])
        groups[key].append(record)
    labels: dict[int, str] = {}
    for members in groups.values():
        if len({_variant_key(r) for r in members}) < 2:
            continue
        differing = _differing(members, flat, data=False)
        for record in members:
            desc = _describe(differing, flat[id(record)], f"config {_variant_key(record)[:8]}")
            labels[id(record)] = f"{record.data['model']} [{desc}]"
    out = []
    for record in records:
        data = record.data
        if id(record) in labels:
            data = {**data, "model": labels[id(record)]}
        out.append(dataclasses.replace(record, data=data, variant=variants.get(id(record), "")))
    return out
