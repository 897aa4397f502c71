"""De-duplicate and aggregate ``result.json`` records (read by
:mod:`pdebench.leaderboard.records`).

The unit of aggregation is one **run**, keyed by ``(table, system, model, seed, instance)``: the
seeds and the problem instances (``instance``, physics-informed runs) of one configuration are
all aggregated together (mean ± std over every seed x instance run). A **table**
(:class:`Board`) is one dataset, data variant (``data.*`` config values, set by
:func:`~pdebench.leaderboard.variants.label_variants`), ``track`` and ``n_data``: records of
different tables are never aggregated or ranked together.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pdebench.leaderboard.records import Board, LeaderboardError, RunRecord

HEADLINE_METRIC = "pdebench/nrmse"
#: The training-time column: ``train_time_s`` of the records, aggregated like a metric.
TRAIN_TIME = "train_time_s"


@dataclass(frozen=True)
class Superseded:
    """A record dropped from the ranking because a newer record is the same run (table, system,
    model, seed and instance)."""

    dropped: RunRecord
    kept: RunRecord


@dataclass(frozen=True)
class Row:
    """The aggregate of one metric over the runs (seeds x instances) of one ``(system, model)``
    in one table.

    Attributes
    ----------
    metric : str
        A metric name, or :data:`TRAIN_TIME` for the training time (seconds).
    mean : float
        Arithmetic mean over the runs.
    std : float or None
        Sample standard deviation (``ddof=1``); ``None`` when ``n == 1``, where it is undefined.
    n : int
        Number of runs (distinct records: seeds x instances) that report this value.
    rank : int
        Rank within ``(table, metric, field)``, 1 = best mean. Ties share the best rank
        ("1, 1, 3").
    higher_is_better : bool
        Ranking direction, from the records' ``metric_info`` (default ``False``).
    seeds : tuple of int
        The seeds of the aggregated runs, sorted (repeated when several instances share a seed).
    variant, track, n_data
        The table (see :class:`Board`).
    field : str or None
        The output field of a per-field value (from ``metrics_per_field``); ``None`` for the
        overall value.
    instances : tuple of int
        The instances of the aggregated runs that record one, sorted.
    """

    dataset: str
    system: str
    model: str
    metric: str
    mean: float
    std: float | None
    n: int
    rank: int
    higher_is_better: bool
    seeds: tuple[int, ...]
    variant: str = ""
    track: str | None = None
    n_data: int | None = None
    field: str | None = None
    instances: tuple[int, ...] = ()

    @property
    def board(self) -> Board:
        return Board(self.dataset, self.variant, self.track, self.n_data)

    @property
    def column(self) -> str:
        """The table column: ``metric`` or ``metric[field]``."""
        return self.metric if self.field is None else f"{self.metric}[{self.field}]"


def _finished(record: RunRecord) -> datetime:
    """``finished_at`` as an aware datetime; missing or unparsable sorts as the oldest."""
    text = record.data.get("finished_at")
    oldest = datetime.min.replace(tzinfo=timezone.utc)
    if not isinstance(text, str):
        return oldest
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return oldest
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def select_latest(records: Iterable[RunRecord]) -> tuple[list[RunRecord], list[Superseded]]:
    """Keep one ``ok`` record per run ``(table, system, model, seed, instance)``: the newest.

    Runs of different instances (or tracks, ``n_data``, data variants) never supersede each
    other; records without ``instance`` are keyed as before, by ``(dataset, system, model,
    seed)``. "Newest" is the latest ``finished_at`` (ISO 8601; naive times are read as UTC, a
    missing one as the oldest); equal times fall back to the path, so the choice is
    deterministic. Records whose status is not ``ok`` are ignored.

    Returns
    -------
    kept : list of RunRecord
        One record per run.
    superseded : list of Superseded
        Each dropped record with the one that replaced it.
    """
    by_key: dict[tuple[Any, ...], list[RunRecord]] = defaultdict(list)
    for record in records:
        if record.status == "ok":
            by_key[record.run_key()].append(record)
    kept: list[RunRecord] = []
    superseded: list[Superseded] = []
    for key in sorted(by_key):
        ranked = sorted(by_key[key], key=lambda r: (_finished(r), str(r.path)), reverse=True)
        kept.append(ranked[0])
        superseded.extend(Superseded(dropped=r, kept=ranked[0]) for r in ranked[1:])
    return kept, superseded


def _directions(records: Sequence[RunRecord]) -> dict[tuple[str, str], bool]:
    """``higher_is_better`` per ``(dataset, metric)``; contradictory records are an error."""
    stated: dict[tuple[str, str], dict[bool, Path]] = defaultdict(dict)
    for record in records:
        for name, entry in record.data.get("metric_info", {}).items():
            if "higher_is_better" in entry:
                stated[(record.data["dataset"], name)].setdefault(
                    entry["higher_is_better"], record.path
                )
    directions: dict[tuple[str, str], bool] = {}
    for (dataset, name), values in stated.items():
        if len(values) > 1:
            raise LeaderboardError(
                f"dataset {dataset!r}, metric {name!r}: records disagree on higher_is_better "
                f"({values[True]} says true, {values[False]} says false)"
            )
        directions[(dataset, name)] = next(iter(values))
    return directions


def _rank(values: Sequence[float], higher_is_better: bool) -> list[int]:
    """Competition ranks (1 = best; ties share the best rank)."""
    sign = -1.0 if higher_is_better else 1.0
    keys = [sign * v for v in values]
    return [1 + sum(other < key for other in keys) for key in keys]


def _values(record: RunRecord) -> Iterable[tuple[str, str | None, float]]:
    """``(metric, field, value)``: the overall metrics, the per-field ones and the training
    time of one record."""
    for name, value in record.data["metrics"].items():
        yield name, None, float(value)
    for field, values in record.data.get("metrics_per_field", {}).items():
        for name, value in values.items():
            yield name, field, float(value)
    if record.data.get(TRAIN_TIME) is not None:
        yield TRAIN_TIME, None, float(record.data[TRAIN_TIME])


def aggregate(records: Iterable[RunRecord]) -> list[Row]:
    """Aggregate ``ok`` records over their runs (seeds x instances) and rank them per table.

    Records of another status are ignored; records of the same run are reduced to the newest
    (see :func:`select_latest`), so a rerun is never counted twice. A table is a
    :class:`Board`: dataset, data variant (``RunRecord.variant``, from
    :func:`~pdebench.leaderboard.variants.label_variants`), ``track`` and ``n_data``. Besides
    the overall ``metrics``, the per-field values (``metrics_per_field``) and the training time
    (``train_time_s``, lower is better) are aggregated the same way. The direction of a metric
    comes from ``metric_info[name]["higher_is_better"]`` of the records of that dataset; where no
    record states it, lower is better.

    Parameters
    ----------
    records : iterable of RunRecord
        Typically the ``records`` of :func:`collect`, labelled by ``label_variants``.

    Returns
    -------
    list of Row
        One row per ``(table, system, model, metric, field)``, sorted by table, system, model,
        metric and field (overall first).

    Raises
    ------
    LeaderboardError
        If records of one dataset disagree on the direction of a metric.
    """
    kept, _ = select_latest(records)
    directions = _directions(kept)
    samples: dict[tuple[Any, ...], list[tuple[RunRecord, float]]] = defaultdict(list)
    boards: dict[tuple[Any, ...], Board] = {}
    for record in kept:
        board = record.board
        boards[board.sort_key()] = board
        for name, field, value in _values(record):
            key = (board.sort_key(), record.data["system"], record.data["model"], name,
                   "" if field is None else field, field is not None)
            samples[key].append((record, value))

    by_board: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for key in sorted(samples):
        by_board[(key[0], *key[3:])].append(key)
    rows: list[Row] = []
    for (board_key, name, field, _), keys in by_board.items():
        board = boards[board_key]
        higher = directions.get((board.dataset, name), False)
        means = [math.fsum(v for _, v in samples[k]) / len(samples[k]) for k in keys]
        for key, mean, rank in zip(keys, means, _rank(means, higher), strict=True):
            runs = samples[key]
            values = [v for _, v in runs]
            rows.append(Row(
                board.dataset, key[1], key[2], name, mean,
                statistics.stdev(values) if len(values) > 1 else None, len(values), rank, higher,
                tuple(sorted(r.seed for r, _ in runs)), board.variant, board.track,
                board.n_data, field or None,
                tuple(sorted(r.instance for r, _ in runs if r.instance is not None)),
            ))
    rows.sort(key=lambda r: (r.board.sort_key(), r.system, r.model, r.metric,
                             r.field is not None, r.field or ""))
    return rows


def metric_order(names: Iterable[str]) -> list[str]:
    """Metric names sorted, with the headline ``pdebench/nrmse`` first if present and the
    training time last."""
    unique = set(names)
    return sorted(unique, key=lambda n: (n == TRAIN_TIME, n != HEADLINE_METRIC, n))
