"""Find, validate, de-duplicate and aggregate ``result.json`` records.

Every record is read through :func:`pdebench.results.read`; this module adds no schema of its own
beyond the one check the leaderboard depends on (``metric_info`` entries must be objects whose
``higher_is_better`` is a boolean).
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

from pdebench.results import ResultError, read

RESULT_NAME = "result.json"
HEADLINE_METRIC = "pdebench/nrmse"


class LeaderboardError(ValueError):
    """The inputs cannot be turned into a leaderboard (missing path, contradictory records)."""


@dataclass(frozen=True)
class RunRecord:
    """One valid ``result.json``: where it was found and its validated content."""

    path: Path
    data: dict[str, Any]

    @property
    def status(self) -> str:
        return self.data["status"]

    @property
    def group(self) -> tuple[str, str, str]:
        """The aggregation key ``(dataset, system, model)``."""
        return (self.data["dataset"], self.data["system"], self.data["model"])

    @property
    def seed(self) -> int:
        return self.data["seed"]


@dataclass(frozen=True)
class InvalidRecord:
    """A ``result.json`` that could not be read or does not follow the schema."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Superseded:
    """A record dropped from the ranking because a newer record has the same group and seed."""

    dropped: RunRecord
    kept: RunRecord


@dataclass(frozen=True)
class Row:
    """The aggregate of one metric over the seeds of one ``(dataset, system, model)`` group.

    Attributes
    ----------
    mean : float
        Arithmetic mean over the seeds.
    std : float or None
        Sample standard deviation (``ddof=1``); ``None`` when ``n == 1``, where it is undefined.
    n : int
        Number of seeds (distinct records) that report this metric.
    rank : int
        Rank within ``(dataset, metric)``, 1 = best mean. Ties share the best rank ("1, 1, 3").
    higher_is_better : bool
        Ranking direction, from the records' ``metric_info`` (default ``False``).
    seeds : tuple of int
        The seeds that were aggregated, sorted.
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


def find_result_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every ``result.json`` below ``paths``, each file once, in a stable order.

    A path that is a file is taken as a result file whatever its name. The same file reached
    through two arguments (``runs runs/a``) or a symlink is listed once.

    Raises
    ------
    LeaderboardError
        If a path does not exist.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise LeaderboardError(f"{path}: no such file or directory")
        candidates = [path] if path.is_file() else sorted(path.rglob(RESULT_NAME))
        for candidate in candidates:
            if not candidate.is_file():
                continue
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def load(path: Path) -> RunRecord:
    """Read and validate one result file; raise :class:`ResultError` if it is unusable."""
    data = read(path)
    info = data.get("metric_info", {})
    for name, entry in info.items():
        if not isinstance(entry, dict) or not isinstance(
            entry.get("higher_is_better", False), bool
        ):
            raise ResultError(
                f"{path}: metric_info[{name!r}] must be an object with a boolean "
                f"'higher_is_better', got {entry!r}"
            )
    return RunRecord(path=path, data=data)


def collect(paths: Iterable[str | Path]) -> tuple[list[RunRecord], list[InvalidRecord]]:
    """Find and read every ``result.json`` below ``paths``.

    Parameters
    ----------
    paths : iterable of str or Path
        Directories to search recursively, or result files.

    Returns
    -------
    records : list of RunRecord
        Valid records of every status (``ok``, ``failed``, ``running``).
    invalid : list of InvalidRecord
        Files that are not valid JSON or break the schema, with the reason.

    Raises
    ------
    LeaderboardError
        If a path does not exist.
    """
    records: list[RunRecord] = []
    invalid: list[InvalidRecord] = []
    for path in find_result_files(paths):
        try:
            records.append(load(path))
        except ResultError as exc:
            reason = str(exc).removeprefix(f"{path}: ")
            invalid.append(InvalidRecord(path=path, reason=reason))
    return records, invalid


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
    """Keep one ``ok`` record per ``(dataset, system, model, seed)``: the newest.

    "Newest" is the latest ``finished_at`` (ISO 8601; naive times are read as UTC, a missing one
    as the oldest); equal times fall back to the path, so the choice is deterministic. Records
    whose status is not ``ok`` are ignored.

    Returns
    -------
    kept : list of RunRecord
        One record per group and seed.
    superseded : list of Superseded
        Each dropped record with the one that replaced it.
    """
    by_key: dict[tuple[str, str, str, int], list[RunRecord]] = defaultdict(list)
    for record in records:
        if record.status == "ok":
            by_key[(*record.group, record.seed)].append(record)
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


def aggregate(records: Iterable[RunRecord]) -> list[Row]:
    """Aggregate ``ok`` records over seeds and rank them per dataset and metric.

    Records of another status are ignored; records with the same group and seed are reduced to
    the newest (see :func:`select_latest`), so a rerun is never counted twice. The direction of
    a metric comes from ``metric_info[name]["higher_is_better"]`` of the records of that dataset;
    where no record states it, lower is better.

    Parameters
    ----------
    records : iterable of RunRecord
        Typically the ``records`` of :func:`collect`.

    Returns
    -------
    list of Row
        One row per ``(dataset, system, model, metric)``, sorted by those keys.

    Raises
    ------
    LeaderboardError
        If records of one dataset disagree on the direction of a metric.
    """
    kept, _ = select_latest(records)
    directions = _directions(kept)
    samples: dict[tuple[str, str, str, str], list[tuple[int, float]]] = defaultdict(list)
    for record in kept:
        for name, value in record.data["metrics"].items():
            samples[(*record.group, name)].append((record.seed, float(value)))

    stats: dict[tuple[str, str, str, str], tuple[float, float | None, tuple[int, ...]]] = {}
    for key, pairs in samples.items():
        values = [v for _, v in pairs]
        std = statistics.stdev(values) if len(values) > 1 else None
        stats[key] = (math.fsum(values) / len(values), std, tuple(sorted(s for s, _ in pairs)))

    by_board: dict[tuple[str, str], list[tuple[str, str, str, str]]] = defaultdict(list)
    for key in sorted(stats):
        by_board[(key[0], key[3])].append(key)
    rows: list[Row] = []
    for (dataset, name), keys in by_board.items():
        higher = directions.get((dataset, name), False)
        ranks = _rank([stats[k][0] for k in keys], higher)
        for key, rank in zip(keys, ranks, strict=True):
            mean, std, seeds = stats[key]
            rows.append(Row(*key, mean, std, len(seeds), rank, higher, seeds))
    rows.sort(key=lambda r: (r.dataset, r.system, r.model, r.metric))
    return rows


def metric_order(names: Iterable[str]) -> list[str]:
    """Metric names sorted, with the headline ``pdebench/nrmse`` first if present."""
    unique = set(names)
    return sorted(unique, key=lambda n: (n != HEADLINE_METRIC, n))
