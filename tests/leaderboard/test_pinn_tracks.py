"""Leaderboard of physics-informed studies: instances, tracks, data variants, per-field columns.

Synthetic result.json records, written with :func:`pdebench.results.write`: 2 models x 2 regimes
(``data.regime``) x 2 seeds x 2 instances x {physics, data-assisted with 200 points} = 32 runs,
plus a stale rerun of one of them.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from pdebench import results
from pdebench.leaderboard import (
    Board,
    aggregate,
    collect,
    label_variants,
    main,
    render_csv,
    render_markdown,
    select_latest,
)

L2RE = "pinn/l2re"
MODELS = {"mlp": 0.10, "fourier_mlp": 0.20}  # base l2re: mlp ranks first everywhere
REGIMES = {1: 0.0, 2: 0.5}
TRACKS = {"physics": (0, 0.0), "data_assisted": (200, -0.05)}  # n_data, change of l2re
STEP = 0.01  # l2re = base + STEP * (2 * seed + instance): runs at base + {0, 1, 2, 3} * STEP
STD4 = STEP * math.sqrt(5 / 3)  # sample std of {0, 1, 2, 3} * STEP: sqrt((2.25 + .25) * 2 / 3)


def l2re(model: str, regime: int, track: str, seed: int, instance: int) -> float:
    return MODELS[model] + REGIMES[regime] + TRACKS[track][1] + STEP * (2 * seed + instance)


def pinn_record(model: str, regime: int, track: str, seed: int, instance: int,
                **extra: object) -> dict:
    n_data = TRACKS[track][0]
    value = l2re(model, regime, track, seed, instance)
    config = {"data": {"name": "electrothermal", "regime": regime, "instance": instance},
              "model": {"name": model, "width": 32},
              "system": {"name": "pinn", "track": track, "n_data": n_data}, "seed": seed}
    record = {
        "schema_version": results.SCHEMA_VERSION, "status": "ok", "error": None,
        "pdebench_version": "0.1.0", "config_hash": results.config_hash(config),
        "dataset": "electrothermal", "system": "pinn", "model": model, "seed": seed,
        "instance": instance, "track": track, "n_data": n_data,
        "metrics": {L2RE: value},
        "metrics_per_field": {"u": {L2RE: value + 1.0}, "v": {L2RE: value + 2.0}},
        "metric_info": {L2RE: {"higher_is_better": False}},
        "train_time_s": 100.0 * (seed + 1) + instance,  # 100, 101, 200, 201
        "started_at": "2024-05-01T10:00:00+00:00", "finished_at": "2024-05-01T11:00:00+00:00",
        "config": config,
    }
    record.update(extra)
    return record


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    for model in MODELS:
        for regime in REGIMES:
            for track in TRACKS:
                for seed in (0, 1):
                    for instance in (0, 1):
                        name = f"{model}-r{regime}-{track}-s{seed}-i{instance}"
                        results.write(pinn_record(model, regime, track, seed, instance),
                                      root / name / "result.json")
    # an older rerun of mlp regime 1 physics seed 0 instance 1: superseded, never averaged
    stale = pinn_record("mlp", 1, "physics", 0, 1, metrics={L2RE: 9.0},
                        finished_at="2024-04-01T11:00:00+00:00")
    results.write(stale, root / "zz-stale" / "result.json")
    return root


def rows_of(root: Path):
    return aggregate(label_variants(collect([root])[0]))


# ---------------------------------------------------------------- records


def test_records_carry_instance_track_and_n_data(runs: Path) -> None:
    records, invalid = collect([runs])
    assert not invalid and len(records) == 33
    hashes = {r.data["config_hash"] for r in records
              if r.data["model"] == "mlp" and r.data["track"] == "physics"
              and r.data["config"]["data"]["regime"] == 1}
    assert len(hashes) == 1  # seeds and instances: one configuration


def test_no_superseding_across_instances(runs: Path) -> None:
    kept, superseded = select_latest(label_variants(collect([runs])[0]))
    assert len(kept) == 32  # 2 models x 2 regimes x 2 tracks x 2 seeds x 2 instances
    assert [s.dropped.path.parent.name for s in superseded] == ["zz-stale"]
    assert superseded[0].kept.path.parent.name == "mlp-r1-physics-s0-i1"


# ---------------------------------------------------------------- tables


def test_one_table_per_regime_and_track(runs: Path) -> None:
    rows = rows_of(runs)
    boards = sorted({r.board for r in rows}, key=Board.sort_key)
    assert [b.heading for b in boards] == [
        "electrothermal [data.regime=1]: physics only",
        "electrothermal [data.regime=1]: data-assisted (200 observed points)",
        "electrothermal [data.regime=2]: physics only",
        "electrothermal [data.regime=2]: data-assisted (200 observed points)",
    ]
    # neither the regime nor the track's system.* keys relabel the models
    assert {r.model for r in rows} == set(MODELS)


def test_n_mean_std_by_hand(runs: Path) -> None:
    rows = {(r.variant, r.track, r.model): r for r in rows_of(runs)
            if r.metric == L2RE and r.field is None}
    assert len(rows) == 8
    for (variant, track, model), row in rows.items():
        regime = int(variant.removeprefix("data.regime="))
        assert row.n == 4 and row.seeds == (0, 0, 1, 1) and row.instances == (0, 0, 1, 1)
        assert row.n_data == TRACKS[track][0]
        assert row.mean == pytest.approx(l2re(model, regime, track, 0, 0) + 1.5 * STEP)
        assert row.std == pytest.approx(STD4)
        assert row.rank == (1 if model == "mlp" else 2)
    # the stale 9.0 was dropped: mlp, regime 1, physics = 0.10 + 0.015
    assert rows[("data.regime=1", "physics", "mlp")].mean == pytest.approx(0.115)
    assert rows[("data.regime=2", "data_assisted", "fourier_mlp")].mean == pytest.approx(0.665)


def test_per_field_and_train_time_rows(runs: Path) -> None:
    rows = [r for r in rows_of(runs) if r.variant == "data.regime=2" and r.track == "physics"
            and r.model == "mlp"]
    by_column = {r.column: r for r in rows}
    assert set(by_column) == {L2RE, f"{L2RE}[u]", f"{L2RE}[v]", "train_time_s"}
    assert by_column[f"{L2RE}[u]"].mean == pytest.approx(0.615 + 1.0)
    assert by_column[f"{L2RE}[v]"].mean == pytest.approx(0.615 + 2.0)
    assert by_column[f"{L2RE}[v]"].std == pytest.approx(STD4) and by_column[f"{L2RE}[v]"].n == 4
    time = by_column["train_time_s"]
    assert time.mean == pytest.approx(150.5)  # (100 + 101 + 200 + 201) / 4
    assert time.std == pytest.approx(math.sqrt((50.5**2 + 49.5**2) * 2 / 3))  # 57.74


def test_markdown_headings_columns_and_cells(runs: Path) -> None:
    rows = rows_of(runs)
    plain = render_markdown(rows)
    text = render_markdown(rows, per_field=True)
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## electrothermal [data.regime=1]: physics only",
        "## electrothermal [data.regime=1]: data-assisted (200 observed points)",
        "## electrothermal [data.regime=2]: physics only",
        "## electrothermal [data.regime=2]: data-assisted (200 observed points)",
    ]
    section = text.split("## electrothermal [data.regime=2]: physics only")[1].split("## ")[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines[0] == (f"| system | model | {L2RE} ↓ | {L2RE}[u] ↓ | {L2RE}[v] ↓ | "
                        "train time (s) |")
    # mlp: 0.615 ± 0.01291 (4), first; the training time is not ranked
    assert lines[2] == ("| pinn | mlp | **0.615 ± 0.01291 (4)** #1 | **1.615 ± 0.01291 (4)** #1 "
                        "| **2.615 ± 0.01291 (4)** #1 | 150.5 ± 57.74 (4) |")
    assert lines[3].startswith("| pinn | fourier_mlp | 0.715 ± 0.01291 (4) #2 |")
    assert f"{L2RE}[u]" not in plain and "train time (s)" in plain


def test_csv_tables_and_fields(runs: Path) -> None:
    rows = rows_of(runs)
    plain = list(csv.DictReader(io.StringIO(render_csv(rows))))
    assert len(plain) == 16  # 4 tables x 2 models x (l2re, train time)
    full = list(csv.DictReader(io.StringIO(render_csv(rows, per_field=True))))
    assert len(full) == 32
    line = next(r for r in full if r["variant"] == "data.regime=1" and r["model"] == "mlp"
                and r["track"] == "data_assisted" and r["field"] == "v")
    assert (line["n_data"], line["metric"], line["n"], line["rank"]) == ("200", L2RE, "4", "1")
    assert float(line["mean"]) == pytest.approx(0.05 + 0.015 + 2.0)
    assert line["seeds"] == "0;0;1;1" and line["instances"] == "0;0;1;1"


def test_cli_per_field_and_metrics(runs: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main([str(runs), "--out", str(out), "--per-field", "--metrics", L2RE]) == 0
    captured = capsys.readouterr()
    assert f"{L2RE}[u] ↓" in captured.out and "train time (s)" in captured.out
    assert "zz-stale" in captured.err and "instance 1" in captured.err
    assert "## Superseded records" in captured.out
    fields = {r["field"] for r in csv.DictReader((out / "leaderboard.csv").open())}
    assert fields == {"", "u", "v"}
    assert main([str(runs), "--out", str(out), "--metrics", "pinn/l2re[u]"]) == 2
    assert "unknown metric(s) pinn/l2re[u]; the records report: pinn/l2re" in capsys.readouterr().err


# ---------------------------------------------------------------- variants and labels


def test_model_config_differences_stay_labelled_rows(tmp_path: Path) -> None:
    for seed, width in ((0, 32), (1, 32), (0, 64)):
        record = pinn_record("mlp", 1, "physics", seed, 0)
        record["config"]["model"]["width"] = width
        record["config_hash"] = results.config_hash(record["config"])
        results.write(record, tmp_path / f"w{width}-s{seed}" / "result.json")
    rows = [r for r in rows_of(tmp_path) if r.metric == L2RE and r.field is None]
    assert {(r.variant, r.model, r.n) for r in rows} == {
        ("", "mlp [model.width=32]", 2), ("", "mlp [model.width=64]", 1)
    }  # one data configuration: no variant; the model's width labels the rows
    assert rows[0].board.heading == "electrothermal: physics only"


def test_records_without_track_keep_their_table(tmp_path: Path) -> None:
    plain = pinn_record("mlp", 1, "physics", 0, 0)
    for key in ("instance", "track", "n_data"):
        del plain[key]
    del plain["config"]["system"]["track"], plain["config"]["system"]["n_data"]
    del plain["config"]["data"]["instance"]
    results.write(plain, tmp_path / "plain" / "result.json")
    results.write(pinn_record("mlp", 1, "physics", 0, 0), tmp_path / "pinn" / "result.json")
    headings = [line for line in render_markdown(rows_of(tmp_path)).splitlines()
                if line.startswith("## ")]
    assert headings == ["## electrothermal", "## electrothermal: physics only"]


def test_board_headings() -> None:
    assert Board("heat").heading == "heat"
    assert Board("heat", "data.regime=3").heading == "heat [data.regime=3]"
    assert Board("heat", track="data_assisted", n_data=1).heading == (
        "heat: data-assisted (1 observed point)")
    assert Board("heat", track="data_assisted").heading == "heat: data-assisted"
    order = [Board("h", "data.regime=10"), Board("h", "data.regime=2", "data_assisted", 5),
             Board("h", "data.regime=2", "physics"), Board("h", "data.regime=2")]
    assert sorted(order, key=Board.sort_key) == [order[3], order[2], order[1], order[0]]
