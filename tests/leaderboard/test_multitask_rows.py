"""Leaderboard rows of multi-task runs: the run's mean row, and one row per task in the table of
that task's data, next to the single-task runs on the same data.

Synthetic records (written with :func:`pdebench.results.write`): single-task FNO runs on
Fisher-KPP forms 1 and 2 (``data.forms``), a multi-task FNO run on both forms, and a second
multi-task run on forms 1, 2 and 3 (another task set: its rows must not merge with the first's).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pdebench import results
from pdebench.leaderboard import (
    RunRecord,
    aggregate,
    collect,
    label_variants,
    main,
    select_latest,
    task_records,
    with_task_records,
)

NRMSE = "pdebench/nrmse"
INFO = {NRMSE: {"higher_is_better": False}}


def _data(form: int) -> dict:
    return {"name": "fisher_kpp", "forms": [form], "n_samples": 24, "instance": 0}


def _base(dataset: str, system: str, config: dict, seed: int = 0) -> dict:
    return {"schema_version": results.SCHEMA_VERSION, "status": "ok", "error": None,
            "pdebench_version": "0.1.0", "config_hash": results.config_hash(config),
            "dataset": dataset, "system": system, "model": "fno", "seed": seed,
            "metric_info": INFO, "started_at": "2026-01-01T00:00:00+00:00",
            "finished_at": "2026-01-01T01:00:00+00:00", "config": config}


def single(form: int, value: float, time_s: float) -> dict:
    config = {"data": _data(form), "datasets": {}, "model": {"name": "fno", "width": 8},
              "system": {"name": "operator"}, "seed": 0}
    return {**_base("fisher_kpp", "operator", config), "datasets": {"data": "fisher_kpp"},
            "metrics": {NRMSE: value}, "metrics_per_field": {"u_t1": {NRMSE: value}},
            "train_time_s": time_s}


def multi(per_task: dict[int, float], time_s: float) -> dict:
    names = {f"form{f}": f for f in per_task}
    config = {"data": _data(1), "datasets": {n: _data(f) for n, f in names.items()},
              "model": {"name": "fno", "width": 8}, "system": {"name": "multitask"}, "seed": 0}
    per = {n: {NRMSE: per_task[f]} for n, f in names.items()}
    mean = sum(per_task.values()) / len(per_task)
    return {**_base("+".join(f"{n}=fisher_kpp" for n in names), "multitask", config),
            "datasets": {n: "fisher_kpp" for n in names},
            "metrics": {NRMSE: mean}, "metrics_per_field": {"u_t1": {NRMSE: mean}},
            "metrics_per_task": per,
            "metrics_per_task_field": {n: {"u_t1": {NRMSE: v[NRMSE] + 1}} for n, v in per.items()},
            "val_metrics_per_task": {n: {NRMSE: v[NRMSE] / 2} for n, v in per.items()},
            "train_time_s": time_s}


@pytest.fixture
def runs(tmp_path):
    records = {"single1": single(1, 0.10, 30.0), "single2": single(2, 0.20, 40.0),
               "multi12": multi({1: 0.12, 2: 0.18}, 50.0),
               "multi123": multi({1: 0.14, 2: 0.22, 3: 0.30}, 60.0)}
    for name, record in records.items():
        results.write(record, tmp_path / name / "result.json")
    return tmp_path


def _rows(path):
    records, invalid = collect([path])
    assert not invalid
    kept, superseded = select_latest(label_variants(with_task_records(records)))
    assert not superseded  # the per-task rows of different task sets are different runs
    return aggregate(kept)


def test_each_task_gets_a_row_next_to_the_single_task_runs(runs):
    rows = [r for r in _rows(runs) if r.metric == NRMSE and r.field is None]
    table = {(r.dataset, r.variant, r.system, r.model): r for r in rows}
    form1 = ("fisher_kpp", "data.forms=[1]")
    assert table[(*form1, "operator", "fno")].mean == pytest.approx(0.10)
    assert table[(*form1, "multitask", "fno (task form1 of form1+form2)")].mean == \
        pytest.approx(0.12)
    assert table[(*form1, "multitask", "fno (task form1 of form1+form2+form3)")].mean == \
        pytest.approx(0.14)
    form2 = ("fisher_kpp", "data.forms=[2]")
    assert table[(*form2, "multitask", "fno (task form2 of form1+form2)")].mean == \
        pytest.approx(0.18)
    # ranked within the form's table: the single-task run is best on form 1
    assert table[(*form1, "operator", "fno")].rank == 1
    assert table[(*form1, "multitask", "fno (task form1 of form1+form2)")].rank == 2
    # form 3 only in the three-task run: its own table, one row
    assert [k for k in table if k[1] == "data.forms=[3]"] == [
        ("fisher_kpp", "data.forms=[3]", "multitask", "fno (task form3 of form1+form2+form3)")]
    # the runs' own rows hold the mean over tasks
    assert table[("form1=fisher_kpp+form2=fisher_kpp", "", "multitask", "fno")].mean == \
        pytest.approx(0.15)


def test_per_task_fields_and_training_time(runs):
    rows = _rows(runs)
    field = [r for r in rows if r.field == "u_t1" and r.model == "fno (task form2 of form1+form2)"]
    assert [r.mean for r in field] == [pytest.approx(1.18)]
    times = {(r.dataset, r.variant, r.model): r.mean for r in rows
             if r.metric == "train_time_s"}
    # the run's total time on its own row; a task row carries none (all tasks trained at once),
    # the single-task runs keep theirs (the study compares 50 s with 30 s + 40 s)
    assert times[("form1=fisher_kpp+form2=fisher_kpp", "", "fno")] == 50.0
    assert not [k for k in times if "task" in k[2]]
    assert times[("fisher_kpp", "data.forms=[1]", "fno")] == 30.0
    assert times[("fisher_kpp", "data.forms=[2]", "fno")] == 40.0


def test_task_records_of_one_record():
    derived = task_records(_load(multi({1: 0.12, 2: 0.18}, 50.0)))
    assert [d.data["task"] for d in derived] == ["form1", "form2"]
    first = derived[0].data
    assert first["dataset"] == "fisher_kpp" and first["datasets"] == {"data": "fisher_kpp"}
    assert first["metrics"] == {NRMSE: 0.12} and first["val_metrics"] == {NRMSE: 0.06}
    assert first["config"]["data"]["forms"] == [1] and "datasets" not in first["config"]
    assert first["config"]["tasks"] == {"form2": _data(2)}
    assert "metrics_per_task" not in first and first["train_time_s"] is None
    # a single-task run (and a multi-task run of one task) adds nothing
    assert task_records(_load(single(1, 0.1, 1.0))) == []
    one = multi({1: 0.12}, 5.0)
    assert task_records(_load(one)) == []


def test_markdown_and_csv_show_the_task_rows(runs, tmp_path):
    out = tmp_path / "board"
    assert main([str(runs), "--out", str(out)]) == 0
    markdown = (out / "leaderboard.md").read_text()
    assert "fisher_kpp [data.forms=[1]]" in markdown
    assert "fno (task form1 of form1+form2)" in markdown
    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    task_rows = [r for r in rows if r["model"] == "fno (task form2 of form1+form2)"
                 and r["metric"] == NRMSE and not r["field"]]
    assert [(r["dataset"], r["variant"], r["mean"]) for r in task_rows] == [
        ("fisher_kpp", "data.forms=[2]", "0.18")]


def _load(record: dict) -> RunRecord:
    return RunRecord(path=Path("result.json"), data=results.validate(record))
