"""Render aggregated rows and problem records as Markdown and CSV text (pure functions, no I/O).

One Markdown table per :class:`~pdebench.leaderboard.aggregate.Board` (dataset, data variant,
track, ``n_data``), headed by its :attr:`~pdebench.leaderboard.aggregate.Board.heading`. Cell
format: ``mean ± std (n) #rank``, numbers with 4 significant digits, n the number of runs (seeds
x instances); the std is shown as ``–`` when ``n == 1`` (a sample std needs two runs; the CSV
leaves that cell empty). The best mean of each (table, column) is in bold; ties are all bold. A
cell is ``n/a`` when a (system, model) never reported that value. The training time (seconds)
is the last column, as ``mean ± std (n)``, not ranked. With ``per_field``, each metric is
followed by one column per output field (``pinn/l2re[u]``), from ``metrics_per_field``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence

from pdebench.leaderboard.aggregate import TRAIN_TIME, Row, Superseded, metric_order
from pdebench.leaderboard.records import InvalidRecord, RunRecord

CSV_COLUMNS = (
    "dataset", "variant", "track", "n_data", "system", "model", "metric", "field", "mean", "std",
    "n", "rank", "higher_is_better", "seeds", "instances",
)
FAILED_COLUMNS = (
    "dataset", "system", "model", "seed", "status", "error_type", "error_message", "finished_at",
    "path",
)
MAX_CELL_CHARS = 200
INCOMPLETE_NOTE = "no final record (the run crashed or is still running)"


def _num(value: float) -> str:
    return f"{value:.4g}"


def _cell(text: object) -> str:
    """Make ``text`` safe inside a Markdown table cell: one line, pipes escaped, bounded."""
    flat = " ".join(str(text).split())
    if len(flat) > MAX_CELL_CHARS:
        flat = flat[: MAX_CELL_CHARS - 1] + "…"
    return flat.replace("|", "\\|")


def _table(header: Sequence[str], body: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return lines


def format_cell(row: Row) -> str:
    """``mean ± std (n) #rank``, bold when the row ranks first; the training time without rank."""
    std = "–" if row.std is None else _num(row.std)
    value = f"{_num(row.mean)} ± {std} ({row.n})"
    if row.metric == TRAIN_TIME:
        return value
    if row.rank == 1:
        value = f"**{value}**"
    return f"{value} #{row.rank}"


def _columns(rows: Sequence[Row]) -> list[str]:
    """The table's columns: the overall metrics (headline first), each followed by its per-field
    columns when ``rows`` hold them, and the training time last."""
    fields: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.field is not None and row.field not in fields[row.metric]:
            fields[row.metric].append(row.field)
    columns: list[str] = []
    for name in metric_order(r.metric for r in rows):
        if any(r.metric == name and r.field is None for r in rows):
            columns.append(name)
        columns += [f"{name}[{f}]" for f in sorted(fields[name])]
    return columns


def _header(name: str, rows: Sequence[Row]) -> str:
    if name == TRAIN_TIME:
        return "train time (s)"
    higher = next(r.higher_is_better for r in rows if r.column == name)
    return f"{name} {'↑' if higher else '↓'}"


def _error(record: RunRecord) -> tuple[str, str]:
    error = record.data.get("error") or {}
    return str(error.get("type", "")), str(error.get("message", ""))


def _shown(rows: Sequence[Row], per_field: bool) -> list[Row]:
    return [r for r in rows if per_field or r.field is None]


def _board_tables(rows: Sequence[Row]) -> list[str]:
    by_board: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        by_board[row.board.sort_key()].append(row)
    lines: list[str] = []
    for key in sorted(by_board):
        board_rows = by_board[key]
        columns = _columns(board_rows)
        cells: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
        for row in board_rows:
            cells[(row.system, row.model)][row.column] = row
        first = columns[0]
        # Leaderboard order: by rank on the first (headline) metric, then by name.
        order = sorted(
            cells,
            key=lambda k: (cells[k][first].rank if first in cells[k] else 1 << 30, k),
        )
        header = ["system", "model"] + [_header(name, board_rows) for name in columns]
        body = [
            [system, model]
            + [format_cell(cells[(system, model)][c]) if c in cells[(system, model)] else "n/a"
               for c in columns]
            for system, model in order
        ]
        lines += ["", f"## {board_rows[0].board.heading}", ""] + _table(header, body)
    return lines


def render_markdown(
    rows: Sequence[Row],
    failed: Sequence[RunRecord] = (),
    invalid: Sequence[InvalidRecord] = (),
    *,
    superseded: Sequence[Superseded] = (),
    per_field: bool = False,
) -> str:
    """The leaderboard as a Markdown document.

    Parameters
    ----------
    rows : sequence of Row
        Output of :func:`~pdebench.leaderboard.aggregate.aggregate`; one table per board
        (dataset, data variant, track, ``n_data``), rows ``(system, model)`` ordered by rank on
        the first metric, columns the metrics (headline ``pdebench/nrmse`` first, then by name;
        ↓ lower is better, ↑ higher is better) and the training time, when recorded.
    failed : sequence of RunRecord
        Records whose status is not ``ok``: ``failed`` ones go to "Failed runs", ``running``
        ones (no final record was written) to "Incomplete runs". Others are ignored.
    invalid : sequence of InvalidRecord
        Listed under "Invalid records" with the reason.
    superseded : sequence of Superseded
        Reruns of a seed that were dropped for a newer record, listed under "Superseded records".
    per_field : bool
        Also show, after each metric, one column per output field (``pinn/l2re[u]``).

    Returns
    -------
    str
        The document; sections with nothing to show are left out.
    """
    lines = [
        "# Leaderboard",
        "",
        "Generated by `python -m pdebench.leaderboard` from result.json files; do not edit by hand.",
        "Cells: mean ± sample std (number of runs: seeds x instances) #rank within the table;",
        "best in bold; std is – for a single run.",
    ]
    shown = _shown(rows, per_field)
    lines += _board_tables(shown) if shown else ["", "No successful runs to rank."]
    crashed = [r for r in failed if r.status == "failed"]
    if crashed:
        body = [
            [*r.group, r.seed, ": ".join(p for p in _error(r) if p), r.path] for r in crashed
        ]
        lines += ["", "## Failed runs", ""]
        lines += _table(["dataset", "system", "model", "seed", "error", "path"], body)
    incomplete = [r for r in failed if r.status == "running"]
    if incomplete:
        body = [[*r.group, r.seed, r.data.get("started_at", ""), r.path] for r in incomplete]
        lines += ["", "## Incomplete runs", "", f"Status `running`: {INCOMPLETE_NOTE}.", ""]
        lines += _table(["dataset", "system", "model", "seed", "started_at", "path"], body)
    if superseded:
        body = [
            [s.kept.board.heading, *s.kept.group[1:], s.kept.seed,
             "" if s.kept.instance is None else s.kept.instance, s.kept.path,
             s.kept.data.get("finished_at"), s.dropped.path, s.dropped.data.get("finished_at")]
            for s in superseded
        ]
        lines += ["", "## Superseded records", "",
                  "Same run (seed and instance) twice; the newest is ranked.", ""]
        lines += _table(
            ["table", "system", "model", "seed", "instance", "kept", "kept finished_at",
             "dropped", "dropped finished_at"],
            body,
        )
    if invalid:
        lines += ["", "## Invalid records", ""]
        lines += _table(["path", "reason"], [[i.path, i.reason] for i in invalid])
    return "\n".join(lines) + "\n"


def _csv_text(header: Sequence[str], body: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


def render_csv(rows: Sequence[Row], *, per_field: bool = False) -> str:
    """The leaderboard in long format: one line per (table, system, model, metric[, field]).

    Columns are :data:`CSV_COLUMNS`: the table (``dataset``, ``variant``, ``track``, ``n_data``;
    empty where a record has none), ``metric`` (``train_time_s`` for the training time) and
    ``field`` (empty for the overall value; per-field lines only with ``per_field``). ``mean``
    and ``std`` are written at full precision (``repr``); ``std`` is empty when ``n == 1``;
    ``higher_is_better`` is ``true``/``false``; ``seeds`` and ``instances`` list those of the
    aggregated runs separated by ``;``.
    """
    body = [
        [r.dataset, r.variant, r.track or "", "" if r.n_data is None else r.n_data, r.system,
         r.model, r.metric, r.field or "", repr(r.mean), "" if r.std is None else repr(r.std),
         r.n, r.rank, "true" if r.higher_is_better else "false",
         ";".join(str(s) for s in r.seeds), ";".join(str(i) for i in r.instances)]
        for r in _shown(rows, per_field)
    ]
    return _csv_text(CSV_COLUMNS, body)


def render_failed_csv(failed: Sequence[RunRecord]) -> str:
    """Records that are not ``ok`` (``failed`` and ``running``), one line each; see
    :data:`FAILED_COLUMNS`. A ``running`` record gets the error message :data:`INCOMPLETE_NOTE`.
    """
    body = []
    for r in failed:
        if r.status == "ok":
            continue
        kind, message = _error(r) if r.status == "failed" else ("incomplete", INCOMPLETE_NOTE)
        body.append([*r.group, r.seed, r.status, kind, message,
                     r.data.get("finished_at") or "", r.path])
    return _csv_text(FAILED_COLUMNS, body)
