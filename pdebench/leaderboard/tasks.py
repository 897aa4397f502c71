"""One leaderboard row per task of a multi-task run, next to the single-task runs of that task.

A multi-task record (``system=multitask``: ``metrics`` = the mean over tasks,
``metrics_per_task`` = each task's) stays in its own table (its ``dataset`` is
``"task=dataset+task=dataset..."``) and adds one derived record per task: the task's metrics,
filed under the task's dataset with the task's data config as ``data``, so the table of the
single-task runs on that data (``fisher_kpp [data.forms=[1]]``) shows "multi-task model on form
1" next to "single-task model on form 1". Its model reads ``"<model> (task <task> of
<task>+<task>...)"``: the rows of different multi-task runs (other task sets) never merge.

A derived row carries no training time: the run trained every task at once, and its time is
shown on the run's own (mean) row, to compare with the sum of the single-task runs' times. A run
of one task adds no derived record (its own row is the task's).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pdebench.leaderboard.records import RunRecord

__all__ = ["TASK_KEYS", "task_records", "with_task_records"]

#: Record keys that hold one entry per task; a derived record carries none of them.
TASK_KEYS = ("metrics_per_task", "metrics_per_task_field", "val_metrics_per_task")


def task_records(record: RunRecord) -> list[RunRecord]:
    """The derived per-task records of one multi-task ``ok`` record (empty for any other).

    Parameters
    ----------
    record : RunRecord
        A record whose ``metrics_per_task`` names two tasks or more.

    Returns
    -------
    list of RunRecord
        One per task, in the record's task order: ``dataset`` = the task's dataset,
        ``datasets`` = ``{"data": dataset}``, ``metrics`` / ``metrics_per_field`` /
        ``val_metrics`` = the task's, ``config["data"]`` = the task's data node (the other
        tasks' nodes move to ``config["tasks"]``, which identifies the task set),
        ``train_time_s`` = ``None``, ``task`` = the task name.
    """
    d = record.data
    per_task = d.get("metrics_per_task") or {}
    if d.get("status") != "ok" or len(per_task) < 2:
        return []
    datasets = d.get("datasets") or {}
    config = dict(d.get("config") or {})
    nodes = config.pop("datasets", None) or {}
    tasks = "+".join(per_task)
    out = []
    for task, metrics in per_task.items():
        data: dict[str, Any] = {k: v for k, v in d.items() if k not in TASK_KEYS}
        task_config = dict(config)
        if task in nodes:
            task_config["data"] = nodes[task]
        task_config["tasks"] = {k: v for k, v in nodes.items() if k != task}
        data.update(
            dataset=str(datasets.get(task, task)), datasets={"data": datasets.get(task, task)},
            model=f"{d['model']} (task {task} of {tasks})", task=task,
            metrics=dict(metrics),
            metrics_per_field=dict((d.get("metrics_per_task_field") or {}).get(task, {})),
            val_metrics=dict((d.get("val_metrics_per_task") or {}).get(task, {})),
            train_time_s=None, config=task_config)
        out.append(dataclasses.replace(record, data=data))
    return out


def with_task_records(records: Iterable[RunRecord]) -> list[RunRecord]:
    """``records`` followed by the derived per-task records of the multi-task ones (see
    :func:`task_records`)."""
    records = list(records)
    return records + [t for r in records for t in task_records(r)]
