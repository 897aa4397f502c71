"""A metric against one data config key: ``--versus data.split.train`` (error versus number of
training samples, resolution, viscosity ...), as a table and a plot.

The leaderboard already puts every value of a data key in its own table (the variant
``data.split.train=25``). :func:`versus` reads the aggregated rows back along that key: one line
per ``(dataset, other data keys, track, system, model)``, one column per value of the key, each
cell the aggregate over seeds (and instances) the ordinary tables show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pdebench.leaderboard.aggregate import Row
from pdebench.leaderboard.records import LeaderboardError, _natural
from pdebench.leaderboard.render import _num, _table
from pdebench.plots import _save


@dataclass
class Curve:
    """One line of a versus table: a configuration's aggregate at each value of the key."""

    dataset: str
    rest: str          # the other data keys of its variant ("" when the key is the only one)
    system: str
    model: str
    points: dict[str, Row] = field(default_factory=dict)

    @property
    def label(self) -> str:
        where = f"{self.dataset} [{self.rest}]" if self.rest else self.dataset
        return f"{where} {self.system} {self.model}"


def _split_variant(variant: str, key: str) -> tuple[str, str] | None:
    """``(value of key, the variant without it)``, or ``None`` when the variant lacks ``key``.

    Variants are ``"k=v, k=v"`` (:func:`pdebench.leaderboard.variants.label_variants`); a value
    may itself contain ``", "`` (a list), so the split is on ``", <key>="`` boundaries.
    """
    parts = re.split(r", (?=[\w.]+=)", variant) if variant else []
    values = dict(p.split("=", 1) for p in parts if "=" in p)
    if key not in values:
        return None
    return values[key], ", ".join(p for p in parts if not p.startswith(f"{key}="))


def versus(rows: Sequence[Row], key: str, metric: str) -> list[Curve]:
    """The curves of ``metric`` (overall values) along the data key ``key``.

    Raises
    ------
    LeaderboardError
        When no table's variant names ``key`` (it must be a ``data.*`` key whose value differs
        between runs), or no row reports ``metric``.
    """
    chosen = [r for r in rows if r.metric == metric and r.field is None]
    if not chosen:
        known = sorted({r.metric for r in rows if r.field is None})
        raise LeaderboardError(f"--versus: no run reports metric {metric!r}; the records "
                               f"report: {', '.join(known) or 'none'}")
    curves: dict[tuple, Curve] = {}
    for row in chosen:
        split = _split_variant(row.variant, key)
        if split is None:
            continue
        value, rest = split
        ident = (row.dataset, rest, row.track, row.n_data, row.system, row.model)
        curve = curves.setdefault(ident, Curve(row.dataset, rest, row.system, row.model))
        curve.points[value] = row
    if not curves:
        variants = sorted({r.variant for r in chosen if r.variant})
        raise LeaderboardError(
            f"--versus {key}: no table differs in {key}; the data variants of these records "
            f"are: {'; '.join(variants) or 'none (one data configuration per dataset)'}")
    return sorted(curves.values(), key=lambda c: (c.dataset, c.rest, c.system, c.model))


def _values(curves: Sequence[Curve]) -> list[str]:
    return sorted({v for c in curves for v in c.points}, key=lambda v: (_natural(v), v))


def render_versus(curves: Sequence[Curve], key: str, metric: str) -> str:
    """A Markdown table: one row per curve, one column per value of ``key``
    (``mean ± std (n)``)."""
    values = _values(curves)
    body = []
    for curve in curves:
        cells = []
        for v in values:
            row = curve.points.get(v)
            if row is None:
                cells.append("")
                continue
            std = "–" if row.std is None else _num(row.std)
            cells.append(f"{_num(row.mean)} ± {std} ({row.n})")
        body.append([curve.dataset + (f" [{curve.rest}]" if curve.rest else ""), curve.system,
                     curve.model, *cells])
    header = ["dataset", "system", "model", *[f"{key}={v}" for v in values]]
    return "\n".join([f"### {metric} versus {key}", "", *_table(header, body), ""])


def plot_versus(curves: Sequence[Curve], key: str, metric: str, path: str | Path) -> Path:
    """Error bars of ``metric`` against the (numeric) values of ``key``, one line per curve;
    logarithmic axes when the values span more than a factor 10."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    xs_all: list[float] = []
    for curve in curves:
        pts = []
        for v, row in curve.points.items():
            try:
                pts.append((float(v), row))
            except ValueError:
                raise LeaderboardError(f"--plot: {key}={v} is not a number; plot a numeric "
                                       "key (the table is written anyway)") from None
        pts.sort(key=lambda p: p[0])
        xs = [p[0] for p in pts]
        xs_all += xs
        ax.errorbar(xs, [p[1].mean for p in pts], yerr=[p[1].std or 0.0 for p in pts],
                    marker="o", capsize=3, label=curve.label)
    positive = [x for x in xs_all if x > 0]
    if positive and max(positive) / min(positive) > 10 and len(positive) == len(xs_all):
        ax.set_xscale("log")
    ys = [r.mean for c in curves for r in c.points.values()]
    if ys and min(ys) > 0 and max(ys) / min(ys) > 10:
        ax.set_yscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel(metric)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path, "")

