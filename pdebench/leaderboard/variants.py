"""Keep different configurations apart: runs of one (dataset, system, model) that differ in more
than their seed (another β, resolution, width, epoch count ...) are separate rows, labelled by what
differs (``fno [data.beta=10]``), never averaged together."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable

from pdebench.results import comparable_config, config_hash

MAX_KEYS_IN_LABEL = 3


def _variant_key(record) -> str:
    """The configuration identity: recomputed from the stored config when there is one (so the
    definition in :func:`pdebench.results.config_hash` applies to old records too)."""
    config = record.data.get("config")
    return config_hash(config) if config else record.data.get("config_hash", "")


def label_variants(records: Iterable) -> list:
    """Return the records with ``model`` relabelled where a group holds several configurations.

    A group ``(dataset, system, model)`` whose records carry more than one ``config_hash`` gets
    ``model`` = ``"<model> [<key>=<value>, ...]"`` naming the config keys whose values differ
    within the group (up to three; else the hash). Records are ``RunRecord``-like objects with
    ``.data``; the originals are not modified.
    """
    records = list(records)
    groups: dict[tuple, list] = defaultdict(list)
    for record in records:
        d = record.data
        groups[(d["dataset"], d["system"], d["model"])].append(record)
    labels: dict[int, str] = {}
    for members in groups.values():
        hashes = {_variant_key(r) for r in members}
        if len(hashes) < 2:
            continue
        flat = {id(r): comparable_config(r.data.get("config", {})) for r in members}
        keys = sorted({k for f in flat.values() for k in f})
        differing = [k for k in keys
                     if len({repr(f.get(k)) for f in flat.values()}) > 1]
        for record in members:
            if differing and len(differing) <= MAX_KEYS_IN_LABEL:
                desc = ", ".join(f"{k}={flat[id(record)].get(k)}" for k in differing)
            else:
                desc = f"config {_variant_key(record)[:8]}"
            labels[id(record)] = f"{record.data['model']} [{desc}]"
    out = []
    for record in records:
        if id(record) in labels:
            record = dataclasses.replace(record, data={**record.data, "model": labels[id(record)]})
        out.append(record)
    return out
