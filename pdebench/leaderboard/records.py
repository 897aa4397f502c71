"""Find and validate ``result.json`` records; the tables (:class:`Board`) they belong to.

Every record is read through :func:`pdebench.results.read`; this module adds no schema of its own
beyond the one check the leaderboard depends on (``metric_info`` entries must be objects whose
``higher_is_better`` is a boolean).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pdebench.results import ResultError, read

RESULT_NAME = "result.json"
#: Order of the tables of one dataset: no track (older records), physics only, data-assisted.
TRACK_ORDER = (None, "physics", "data_assisted")


class LeaderboardError(ValueError):
    """The inputs cannot be turned into a leaderboard (missing path, contradictory records)."""


def _natural(text: str) -> tuple[Any, ...]:
    """Sort key reading digit runs as numbers (``regime=2`` before ``regime=10``)."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


@dataclass(frozen=True)
class Board:
    """One leaderboard table: the records of one dataset, data variant, track and ``n_data``.

    Attributes
    ----------
    dataset : str
        The records' ``dataset``.
    variant : str
        The ``data.*`` config values that tell this table from the others of the dataset
        (``"data.regime=3"``); empty when the dataset has one data configuration.
    track : str or None
        ``"physics"``, ``"data_assisted"``, or ``None`` for records without a track.
    n_data : int or None
        Number of observed points of a data-assisted run.
    """

    dataset: str
    variant: str = ""
    track: str | None = None
    n_data: int | None = None

    @property
    def heading(self) -> str:
        """``"electrothermal [data.regime=3]: data-assisted (200 observed points)"``."""
        text = f"{self.dataset} [{self.variant}]" if self.variant else self.dataset
        if self.track == "physics":
            return f"{text}: physics only"
        if self.track == "data_assisted":
            if self.n_data is None:
                return f"{text}: data-assisted"
            points = "point" if self.n_data == 1 else "points"
            return f"{text}: data-assisted ({self.n_data} observed {points})"
        return text if self.track is None else f"{text}: track {self.track}"

    def sort_key(self) -> tuple[Any, ...]:
        """Dataset, then variant (numbers in order), then track and ``n_data``."""
        track = TRACK_ORDER.index(self.track) if self.track in TRACK_ORDER else len(TRACK_ORDER)
        return (self.dataset, _natural(self.variant), self.variant, track, str(self.track),
                -1 if self.n_data is None else self.n_data)


@dataclass(frozen=True)
class RunRecord:
    """One valid ``result.json``: where it was found, its validated content and its data
    variant (set by :func:`~pdebench.leaderboard.variants.label_variants`)."""

    path: Path
    data: dict[str, Any]
    variant: str = ""

    @property
    def status(self) -> str:
        return self.data["status"]

    @property
    def group(self) -> tuple[str, str, str]:
        """``(dataset, system, model)``."""
        return (self.data["dataset"], self.data["system"], self.data["model"])

    @property
    def seed(self) -> int:
        return self.data["seed"]

    @property
    def instance(self) -> int | None:
        """The problem instance a physics-informed run solved (``None``: not recorded)."""
        return self.data.get("instance")

    @property
    def board(self) -> Board:
        """The table the record belongs to."""
        d = self.data
        return Board(d["dataset"], self.variant, d.get("track"), d.get("n_data"))

    def run_key(self) -> tuple[Any, ...]:
        """The (sortable) identity of one run: table, system, model, seed and instance."""
        instance = -1 if self.instance is None else self.instance
        return (self.board.sort_key(), self.data["system"], self.data["model"], self.seed,
                instance)


@dataclass(frozen=True)
class InvalidRecord:
    """A ``result.json`` that could not be read or does not follow the schema."""

    path: Path
    reason: str


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
