"""Tests for ``python -m pdebench.leaderboard`` on hand-written result.json files."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from pdebench import results
from pdebench.leaderboard import (
    aggregate,
    collect,
    main,
    render_csv,
    render_markdown,
    select_latest,
)
from pdebench.leaderboard.aggregate import _rank

NRMSE, R2, MAE = "pdebench/nrmse", "pdebench/r2", "mae"
OOM = "CUDA out of memory\n| at step 3"  # a newline and a pipe must not break the table
# model -> per-seed (nrmse, r2, mae); r2 is higher-is-better, mae has no metric_info (lower).
VALUES = {
    "fno": [(0.10, 0.90, 1.0), (0.12, 0.80, 2.0), (0.14, 0.70, 3.0)],
    "unet": [(0.20, 0.95, 0.5), (0.30, 0.95, 0.5), (0.40, 0.95, 0.5)],
}


def make_record(model: str, seed: int, metrics: dict[str, float], **extra: object) -> dict:
    record = {
        "schema_version": results.SCHEMA_VERSION,
        "status": "ok",
        "error": None,
        "pdebench_version": "0.1.0",
        "config_hash": "c0ffee",
        "dataset": "darcy",
        "system": "operator",
        "model": model,
        "seed": seed,
        "metrics": metrics,
        "metric_info": {NRMSE: {"higher_is_better": False}, R2: {"higher_is_better": True}},
        "started_at": "2024-05-01T10:00:00+00:00",
        "finished_at": "2024-05-01T11:00:00+00:00",
    }
    record.update(extra)
    return record


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """2 models x 3 seeds, a stale duplicate of fno seed 0, a failed, a running, two invalid."""
    root = tmp_path / "runs"
    for model, per_seed in VALUES.items():
        for seed, (nrmse, r2, mae) in enumerate(per_seed):
            metrics = {NRMSE: nrmse, R2: r2, MAE: mae}
            results.write(make_record(model, seed, metrics), root / f"{model}-{seed}/result.json")
    # An older run of fno seed 0 with a worse score: must be superseded, not averaged. Its path
    # sorts after the newer one, so only finished_at can decide.
    stale = make_record("fno", 0, {NRMSE: 0.5, R2: 0.1, MAE: 9.0},
                        finished_at="2024-04-01T11:00:00+00:00")
    results.write(stale, root / "zz-rerun/result.json")
    failed = make_record("fno", 3, {}, status="failed", finished_at="2024-05-02T00:00:00+00:00",
                         error={"type": "RuntimeError", "message": OOM})
    results.write(failed, root / "fno-3/result.json")
    results.write(make_record("unet", 3, {}, status="running", finished_at=None),
                  root / "unet-3/result.json")
    (root / "broken").mkdir()
    (root / "broken/result.json").write_text("{not json")
    no_seed = make_record("fno", 9, {NRMSE: 0.0})
    del no_seed["seed"]
    (root / "noseed").mkdir()
    (root / "noseed/result.json").write_text(json.dumps(no_seed))
    return root


def by_key(rows):
    return {(r.model, r.metric): r for r in rows}


def test_collect_sorts_valid_and_invalid(runs: Path) -> None:
    records, invalid = collect([runs, runs / "fno-0"])  # overlapping paths: each file once
    assert len(records) == 9
    assert sorted(r.status for r in records).count("ok") == 7
    reasons = {i.path.parent.name: i.reason for i in invalid}
    assert set(reasons) == {"broken", "noseed"}
    assert "not valid JSON" in reasons["broken"]
    assert "'seed'" in reasons["noseed"]


def test_mean_std_n_by_hand(runs: Path) -> None:
    rows = by_key(aggregate(collect([runs])[0]))
    fno = rows[("fno", NRMSE)]
    assert fno.n == 3 and fno.seeds == (0, 1, 2)
    assert fno.mean == pytest.approx(0.12)  # (0.10 + 0.12 + 0.14) / 3, the stale 0.5 dropped
    assert fno.std == pytest.approx(0.02)  # sqrt((0.02**2 + 0 + 0.02**2) / (3 - 1))
    unet = rows[("unet", NRMSE)]
    assert unet.mean == pytest.approx(0.3) and unet.std == pytest.approx(0.1)
    assert rows[("unet", R2)].std == pytest.approx(0.0)
    assert rows[("fno", MAE)].mean == pytest.approx(2.0)
    assert rows[("fno", MAE)].std == pytest.approx(1.0)


def test_ranking_direction(runs: Path) -> None:
    rows = by_key(aggregate(collect([runs])[0]))
    assert rows[("fno", NRMSE)].rank == 1 and rows[("unet", NRMSE)].rank == 2
    assert rows[("unet", R2)].higher_is_better and rows[("unet", R2)].rank == 1
    assert rows[("fno", R2)].rank == 2
    # No metric_info for mae: lower is better by default.
    assert not rows[("unet", MAE)].higher_is_better and rows[("unet", MAE)].rank == 1


def test_ties_share_the_best_rank() -> None:
    assert _rank([0.2, 0.1, 0.1, 0.3], higher_is_better=False) == [3, 1, 1, 4]
    assert _rank([0.2, 0.1, 0.1, 0.3], higher_is_better=True) == [2, 3, 3, 1]


def test_duplicate_seed_keeps_newest(runs: Path) -> None:
    records, _ = collect([runs])
    kept, superseded = select_latest(records)
    assert len(kept) == 6
    assert [s.dropped.path.parent.name for s in superseded] == ["zz-rerun"]
    assert superseded[0].kept.path.parent.name == "fno-0"


def test_single_seed_has_no_std(tmp_path: Path) -> None:
    results.write(make_record("fno", 0, {NRMSE: 0.25}), tmp_path / "a/result.json")
    rows = aggregate(collect([tmp_path])[0])
    assert rows[0].n == 1 and rows[0].std is None
    assert "**0.25 ± – (1)** #1" in render_markdown(rows)
    line = next(csv.DictReader(io.StringIO(render_csv(rows))))
    assert line["std"] == "" and line["n"] == "1"


def test_markdown_sections(runs: Path) -> None:
    records, invalid = collect([runs])
    kept, superseded = select_latest(records)
    failed = [r for r in records if r.status != "ok"]
    text = render_markdown(aggregate(kept), failed, invalid, superseded=superseded)
    table, rest = text.split("## Failed runs")
    header = next(line for line in table.splitlines() if line.startswith("| system"))
    assert header.index(NRMSE) < header.index(MAE) < header.index(R2)  # headline first
    assert f"{R2} ↑" in header and f"{NRMSE} ↓" in header
    fno_line = next(line for line in table.splitlines() if "| fno |" in line)
    assert "**0.12 ± 0.02 (3)** #1" in fno_line
    assert "0.8 ± 0.1 (3) #2" in fno_line
    assert "RuntimeError: CUDA out of memory \\| at step 3 |" in rest and "fno-3" in rest
    assert "CUDA" not in table  # failed run never ranked
    assert "## Incomplete runs" in rest and "unet-3" in rest
    assert "## Superseded records" in rest and "zz-rerun" in rest
    assert "## Invalid records" in rest and "broken" in rest and "noseed" in rest


def test_cli_writes_outputs(runs: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main([str(runs), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "## darcy" in captured.out and f"wrote {out / 'leaderboard.md'}" in captured.out
    assert "broken" in captured.err and "not valid JSON" in captured.err
    assert "superseded" in captured.err

    rows = list(csv.DictReader((out / "leaderboard.csv").open()))
    assert len(rows) == 6  # 2 models x 3 metrics
    assert {(r["model"], r["metric"]) for r in rows} == {
        (m, k) for m in VALUES for k in (NRMSE, R2, MAE)
    }
    fno = next(r for r in rows if r["model"] == "fno" and r["metric"] == NRMSE)
    assert (fno["dataset"], fno["system"], fno["n"], fno["rank"]) == ("darcy", "operator", "3", "1")
    assert math.isclose(float(fno["mean"]), 0.12) and math.isclose(float(fno["std"]), 0.02)
    r2 = next(r for r in rows if r["model"] == "unet" and r["metric"] == R2)
    assert (r2["higher_is_better"], r2["rank"]) == ("true", "1")

    failed = list(csv.DictReader((out / "failed.csv").open()))
    assert [(r["model"], r["seed"], r["status"]) for r in failed] == [
        ("fno", "3", "failed"), ("unet", "3", "running")
    ]
    assert failed[0]["error_message"] == OOM
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temp files


def test_cli_strict_and_metrics(runs: Path, tmp_path: Path, capsys) -> None:
    assert main([str(runs), "--out", str(tmp_path), "--strict"]) == 1
    good = [str(runs / m) for m in ("fno-0", "fno-1", "unet-0")]  # a path may be a folder...
    assert main([*good, str(runs / "fno-3/result.json"), "--out", str(tmp_path), "--strict"]) == 0
    assert main([str(runs), "--out", str(tmp_path), "--metrics", R2]) == 0
    rows = list(csv.DictReader((tmp_path / "leaderboard.csv").open()))
    assert {r["metric"] for r in rows} == {R2}
    capsys.readouterr()
    assert main([str(runs), "--out", str(tmp_path), "--metrics", "nrsme"]) == 2
    assert "unknown metric(s) nrsme" in capsys.readouterr().err


def test_cli_no_results_and_missing_path(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "--out", str(tmp_path)]) == 2
    assert "no result.json found" in capsys.readouterr().err
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert not (tmp_path / "leaderboard.md").exists()


def test_contradictory_direction_is_an_error(tmp_path: Path, capsys) -> None:
    results.write(make_record("fno", 0, {R2: 0.5}), tmp_path / "a/result.json")
    flipped = make_record("unet", 0, {R2: 0.6}, metric_info={R2: {"higher_is_better": False}})
    results.write(flipped, tmp_path / "b/result.json")
    assert main([str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "disagree on higher_is_better" in capsys.readouterr().err


def test_module_runs_as_subprocess(runs: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pdebench.leaderboard", str(runs), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "# Leaderboard" in proc.stdout and "## Failed runs" in proc.stdout
    assert (tmp_path / "leaderboard.md").read_text() in proc.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "pdebench.leaderboard", str(empty)],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )
    assert proc.returncode == 2 and "no result.json found" in proc.stderr


def test_different_data_configurations_are_separate_tables(tmp_path):
    """Runs that differ in more than the seed (here the data's β) are never averaged together:
    each data configuration is a table of its own."""
    from pdebench import results as res
    from pdebench.leaderboard import main

    for i, (beta, seed, value) in enumerate([(1.0, 0, 0.1), (1.0, 1, 0.3), (10.0, 0, 0.5)]):
        rec = {"schema_version": 1, "status": "ok", "pdebench_version": "0.1.0",
               "config_hash": f"h{beta}", "dataset": "darcy", "model": "fno",
               "system": "operator", "seed": seed, "metrics": {"pdebench/nrmse": value},
               "config": {"data": {"beta": beta}, "seed": seed}}
        res.write(rec, tmp_path / "runs" / str(i) / "result.json")
    assert main([str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "leaderboard.csv").open()))
    assert [(r["variant"], r["model"], r["mean"], r["n"]) for r in rows] == [
        ("data.beta=1.0", "fno", "0.2", "2"), ("data.beta=10.0", "fno", "0.5", "1")
    ]  # mean of 0.1 and 0.3 over n = 2
    text = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "## darcy [data.beta=1.0]" in text and "## darcy [data.beta=10.0]" in text


def test_runs_on_different_published_files_are_separate_tables(tmp_path):
    """Two files of one reader (two viscosities) are two configurations, wherever they live."""
    from pdebench import results as res
    from pdebench.leaderboard import main

    runs = [("/data/1D_Burgers_Nu0.01.hdf5", 0, 0.1), ("/other/1D_Burgers_Nu0.01.hdf5", 1, 0.3),
            ("/data/1D_Burgers_Nu0.1.hdf5", 0, 0.5)]
    for i, (path, seed, value) in enumerate(runs):
        rec = {"schema_version": 1, "status": "ok", "pdebench_version": "0.1.0",
               "config_hash": "x", "dataset": "pdebench_file", "model": "fno",
               "system": "operator", "seed": seed, "metrics": {"pdebench/nrmse": value},
               "config": {"data": {"path": path}, "seed": seed}}
        res.write(rec, tmp_path / "runs" / str(i) / "result.json")
    assert main([str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "leaderboard.csv").open()))
    # the moved copy counts as the same configuration
    assert [(r["variant"], r["model"], r["mean"], r["n"]) for r in rows] == [
        ("data.path=1D_Burgers_Nu0.01.hdf5", "fno", "0.2", "2"),
        ("data.path=1D_Burgers_Nu0.1.hdf5", "fno", "0.5", "1"),
    ]
