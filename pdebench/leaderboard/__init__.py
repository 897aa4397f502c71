"""Leaderboard tables generated from ``result.json`` files (never edited by hand).

Command line::

    python -m pdebench.leaderboard PATH [PATH ...] [--out DIR] [--metrics NAME ...] [--per-field]
                                   [--versus KEY [--plot PNG]] [--strict]

Every ``result.json`` below the paths is read and validated with :func:`pdebench.results.read`.
Successful (``ok``) runs are sorted into tables (one per dataset, data variant such as
``data.regime=3``, and for physics-informed runs ``track`` and ``n_data``), grouped by
``(system, model)`` (labelled by any other config difference; a multi-task run also gives one
row per task in the table of that task's data, :mod:`pdebench.leaderboard.tasks`), aggregated
over their runs (seeds x problem instances) as mean ± sample std (n), and ranked per table and
metric. A training-time column is added where records carry ``train_time_s``; ``--per-field``
adds one column per output field of every shown metric. ``leaderboard.md``, ``leaderboard.csv`` and ``failed.csv`` are
written atomically into ``--out`` and the Markdown is printed.

Exit codes: 0 success; 1 ``--strict`` and at least one invalid record (the files are still
written); 2 bad input (a path that does not exist, no ``result.json`` at all, an unknown
``--metrics`` name, records that disagree on a metric's direction, a usage error).

Library API: :func:`collect` -> :func:`with_task_records` -> :func:`label_variants` ->
:func:`aggregate` ->
:func:`render_markdown` / :func:`render_csv` / :func:`render_failed_csv`; :func:`main` runs the
whole command.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pdebench.leaderboard.aggregate import (
    HEADLINE_METRIC,
    TRAIN_TIME,
    Row,
    Superseded,
    aggregate,
    select_latest,
)
from pdebench.leaderboard.records import (
    RESULT_NAME,
    Board,
    InvalidRecord,
    LeaderboardError,
    RunRecord,
    collect,
    find_result_files,
)
from pdebench.leaderboard.render import render_csv, render_failed_csv, render_markdown
from pdebench.leaderboard.tasks import task_records, with_task_records
from pdebench.leaderboard.variants import label_variants
from pdebench.leaderboard.versus import plot_versus, render_versus, versus

__all__ = [
    "HEADLINE_METRIC",
    "TRAIN_TIME",
    "Board",
    "InvalidRecord",
    "LeaderboardError",
    "Row",
    "RunRecord",
    "Superseded",
    "aggregate",
    "collect",
    "find_result_files",
    "label_variants",
    "main",
    "render_csv",
    "render_failed_csv",
    "render_markdown",
    "select_latest",
    "task_records",
    "with_task_records",
    "write_atomic",
]

PROG = "python -m pdebench.leaderboard"
OUTPUT_NAMES = ("leaderboard.md", "leaderboard.csv", "failed.csv")


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename, so a
    reader never sees a half-written table. The file is made readable by everyone (mode 644)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Aggregate result.json files into leaderboard tables (Markdown and CSV).",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH",
        help=f"a folder searched recursively for {RESULT_NAME}, or a result file",
    )
    parser.add_argument(
        "--out", default=".", metavar="DIR",
        help="folder for leaderboard.md, leaderboard.csv and failed.csv (default: .)",
    )
    parser.add_argument(
        "--metrics", nargs="+", action="extend", metavar="NAME",
        help="only these metrics (default: all reported); put PATHs before this option",
    )
    parser.add_argument(
        "--per-field", action="store_true",
        help="also show one column per output field of each metric (from metrics_per_field)",
    )
    parser.add_argument(
        "--versus", metavar="KEY",
        help="also a table of one metric (the first of --metrics, else "
             f"{HEADLINE_METRIC}) against the values of the data key KEY "
             "(e.g. data.split.train), written to versus.md",
    )
    parser.add_argument(
        "--plot", metavar="PNG",
        help="with --versus: that table as a plot (one line per configuration)",
    )
    parser.add_argument(
        "--strict", action="store_true",
        help="exit with status 1 if any result file is invalid",
    )
    return parser


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _select_metrics(rows: list[Row], wanted: Sequence[str] | None) -> list[Row]:
    """The rows of the ``wanted`` metrics (overall and per field) and the training time."""
    if not wanted:
        return rows
    known = {r.metric for r in rows if r.field is None and r.metric != TRAIN_TIME}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise LeaderboardError(
            f"unknown metric(s) {', '.join(unknown)}; "
            f"the records report: {', '.join(sorted(known)) or 'none'}"
        )
    return [r for r in rows if r.metric in set(wanted) or r.metric == TRAIN_TIME]


def _superseded_note(item: Superseded) -> str:
    kept = item.kept
    run = f"seed {kept.seed}" + ("" if kept.instance is None else f", instance {kept.instance}")
    return (f"note: {item.dropped.path} superseded by {kept.path} (same table "
            f"{kept.board.heading!r}, system, model and {run}; the newer record by finished_at "
            "is ranked)")


def main(argv: list[str] | None = None, *, prog: str = PROG) -> int:
    """Run the leaderboard command; return its exit status (see the module docstring).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when ``None``.
    prog : str
        Program name shown in the usage line (``pdebench leaderboard`` from the console script).
    """
    try:
        args = _parser(prog).parse_args(argv)
    except SystemExit as exc:  # --help or a usage error: argparse has already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        records, invalid = collect(args.paths)
        if not records and not invalid:
            raise LeaderboardError(f"no {RESULT_NAME} found below {', '.join(args.paths)}")
        records = label_variants(with_task_records(records))
        kept, superseded = select_latest(records)
        rows = _select_metrics(aggregate(kept), args.metrics)
        if args.plot and not args.versus:
            raise LeaderboardError("--plot draws the --versus table: give --versus KEY too")
        curves = None
        if args.versus:
            metric = args.metrics[0] if args.metrics else HEADLINE_METRIC
            curves = versus(rows, args.versus, metric)
    except LeaderboardError as exc:
        _err(f"error: {exc}")
        return 2

    for item in invalid:
        _err(f"invalid: {item.path}: {item.reason}")
    for item in superseded:
        _err(_superseded_note(item))
    failed = [r for r in records if r.status != "ok"]
    if not kept:
        _err("warning: no successful (status 'ok') runs to rank")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(rows, failed, invalid, superseded=superseded,
                               per_field=args.per_field)
    texts = (markdown, render_csv(rows, per_field=args.per_field), render_failed_csv(failed))
    written = [write_atomic(out / name, text) for name, text in zip(OUTPUT_NAMES, texts, strict=True)]

    print(markdown, end="")
    print()
    if curves is not None:
        table = render_versus(curves, args.versus, metric)
        written.append(write_atomic(out / "versus.md", table))
        print(table)
        if args.plot:
            try:
                written.append(plot_versus(curves, args.versus, metric, args.plot))
            except LeaderboardError as exc:
                _err(f"error: {exc}")
                return 2
    for path in written:
        print(f"wrote {path}")
    if args.strict and invalid:
        _err(f"error: {len(invalid)} invalid result file(s) and --strict is set")
        return 1
    return 0
