"""``--versus KEY``: one metric against the values of a data key (a transfer study's error versus
the number of target samples), as a table and a plot, from hand-written records."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdebench import results
from pdebench.leaderboard import main
from pdebench.leaderboard.versus import _split_variant

# (arm, n_train, seed, rel_l2): transfer runs start from a source run, scratch runs do not
RUNS = [("transfer", 25, 0, 0.20), ("transfer", 25, 1, 0.30), ("transfer", 100, 0, 0.10),
        ("scratch", 25, 0, 0.60), ("scratch", 100, 0, 0.25), ("scratch", 100, 1, 0.35)]


def _write(root: Path, arm: str, n: int, seed: int, value: float) -> None:
    config = {"data": {"geometries": ["cross"], "split": {"train": n, "test": 100}},
              "seed": seed, "model": {"latent": 150}}
    if arm == "transfer":
        config.update(init_from=f"/{'here' if seed else 'there'}/multirun/study/source",
                      freeze=["trunk.hidden.*"])
    rec = {"schema_version": results.SCHEMA_VERSION, "status": "ok", "pdebench_version": "0",
           "config_hash": results.config_hash(config), "dataset": "darcy_geometries",
           "model": "mt_deeponet", "system": "operator", "seed": seed,
           "metrics": {"rel_l2": value, "pdebench/nrmse": value / 2}, "config": config}
    results.write(rec, root / f"{arm}-{n}-{seed}" / "result.json")


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    for run in RUNS:
        _write(tmp_path / "runs", *run)
    return tmp_path / "runs"


def test_versus_table_by_hand(runs: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    plot = tmp_path / "transfer.png"
    assert main([str(runs), "--out", str(out), "--metrics", "rel_l2", "--versus",
                 "data.split.train", "--plot", str(plot)]) == 0
    table = (out / "versus.md").read_text()
    lines = [line for line in table.splitlines() if line.startswith("| darcy")]
    assert len(lines) == 2, table
    scratch = next(line for line in lines if "init_from=None" in line)
    transfer = next(line for line in lines if "init_from=None" not in line)
    # mean ± sample std (n) per number of training samples, by hand
    assert "| 0.6 ± – (1) | 0.3 ± 0.07071 (2) |" in scratch
    assert "| 0.25 ± 0.07071 (2) | 0.1 ± – (1) |" in transfer
    # the source run counts by name (a moved folder is the same run): both seeds in one cell
    assert "init_from=study/source" in transfer
    header = table.splitlines()[2]
    assert "data.split.train=25" in header and header.index("=25") < header.index("=100")
    assert plot.stat().st_size > 0
    assert "rel_l2 versus data.split.train" in capsys.readouterr().out


def test_versus_errors_name_the_problem(runs: Path, tmp_path: Path, capsys) -> None:
    assert main([str(runs), "--out", str(tmp_path), "--versus", "data.nu"]) == 2
    assert "no table differs in data.nu" in capsys.readouterr().err
    assert main([str(runs), "--out", str(tmp_path), "--plot", str(tmp_path / "p.png")]) == 2
    assert "give --versus KEY too" in capsys.readouterr().err


def test_variant_values_may_hold_commas() -> None:
    assert _split_variant("data.forms=[1, 2], data.split.train=25", "data.split.train") == (
        "25", "data.forms=[1, 2]")
    assert _split_variant("data.forms=[1, 2]", "data.split.train") is None
