"""The command line as a user types it (subprocesses; each costs a few seconds of imports)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import TINY


def _pdebench(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pdebench", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout)


def test_list_shows_every_kind(tmp_path):
    out = _pdebench("list", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for line in ("models (", "datasets (", "systems (", "metrics (", "equations (", "  fno ",
                 "  darcy ", "  pdebench_darcy ", "  operator ", "  pdebench/nrmse ",
                 "physics metrics: residual_l2/darcy, residual_rel/darcy, bc_error/u"):
        assert line in out.stdout, line
    only = _pdebench("list", "models", cwd=tmp_path)
    assert "fno" in only.stdout and "datasets (" not in only.stdout
    bad = _pdebench("list", "modles", cwd=tmp_path)
    assert bad.returncode == 2 and "valid: models" in bad.stderr


def test_help_points_to_list(tmp_path):
    out = _pdebench("--help", cwd=tmp_path)
    assert out.returncode == 0
    assert "python -m pdebench list" in out.stdout
    groups = dict(line.split(": ", 1) for line in out.stdout.splitlines()
                  if re.match(r"^(model|data|system): ", line))
    assert "fno" in groups["model"].split(", ")  # the config groups and their options
    assert "darcy" in groups["data"].split(", ")


def test_unknown_model_fails_at_once_without_traceback(tmp_path):
    out = _pdebench("model=fnoo", cwd=tmp_path, timeout=120)
    assert out.returncode != 0
    assert "Could not find 'model/fnoo'" in out.stderr
    assert "fno" in out.stderr.split("Available options", 1)[1]
    assert "Traceback" not in out.stderr
    assert not list(tmp_path.rglob("result.json"))  # nothing ran, nothing recorded


def test_bad_data_file_is_one_clear_message(tmp_path):
    run_dir = tmp_path / "run"
    out = _pdebench("data=pdebench_darcy", f"data.path={tmp_path}/missing.hdf5",
                    f"hydra.run.dir={run_dir}", *[o for o in TINY if not o.startswith("data.")],
                    cwd=tmp_path)
    assert out.returncode == 1
    assert "missing.hdf5 does not exist" in out.stderr
    assert "Traceback" not in out.stderr
    assert json.loads((run_dir / "result.json").read_text())["status"] == "failed"


def test_old_dataset_name_fails_naming_the_new_one(tmp_path):
    out = _pdebench("data=electro_thermal", cwd=tmp_path, timeout=120)
    assert out.returncode == 1
    assert ("data=electro_thermal: dataset 'electro_thermal' was renamed to 'te_heat'"
            in out.stderr)
    assert "Traceback" not in out.stderr and not list(tmp_path.rglob("result.json"))


def test_sweep_writes_one_record_per_job(tmp_path):
    sweep = tmp_path / "sweep"
    out = _pdebench("-m", "model=fno", "data=darcy", "seed=0,1", f"hydra.sweep.dir={sweep}",
                    *TINY, "trainer.enable_progress_bar=true", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    # a log file (not a terminal) gets one readable line per epoch, not a redrawn bar
    assert out.stdout.count("epoch 2/2  train/loss ") == 2, out.stdout[-2000:]
    assert "val/pdebench/nrmse" in out.stdout
    assert "\r" not in out.stdout + out.stderr
    records = sorted(sweep.rglob("result.json"))
    assert len(records) == 2
    seeds = sorted(json.loads(p.read_text())["seed"] for p in records)
    assert seeds == [0, 1]
    board = subprocess.run([sys.executable, "-m", "pdebench", "leaderboard", str(sweep),
                            "--out", str(tmp_path)], capture_output=True, text=True)
    assert board.returncode == 0, board.stderr
    assert "(2)" in (tmp_path / "leaderboard.md").read_text()


def test_ddp_on_two_cpu_processes(tmp_path):
    """Lightning DDP (gloo on CPU): metrics reduce across ranks, only rank 0 records and reports."""
    run_dir = tmp_path / "run"
    out = _pdebench("trainer.strategy=ddp", "trainer.devices=2", f"hydra.run.dir={run_dir}",
                    *TINY, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("result: ") == 1
    record = json.loads((run_dir / "result.json").read_text())
    assert record["status"] == "ok" and record["device"] == "cpu x 2"
    assert record["split_sizes"] == {"train": 32, "val": 4, "test": 4}


def test_cache_lists_and_clears(tmp_path, capsys, monkeypatch):
    from pdebench.cli import main
    from pdebench.config import compose
    from pdebench.run import build_data

    data = tmp_path / "data"
    cfg = compose(["data.n_samples=8", "data.resolution=16", f"paths.data_dir={data}",
                   f"paths.output_dir={tmp_path / 'run'}"])
    build_data(cfg).prepare_data()  # a generated darcy store, and its lock file
    (data / "converted").mkdir()
    (data / "converted" / "f.npz-0123.h5").write_bytes(b"x" * 2048)
    assert main(["cache", "--dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "darcy: 1 entry" in out and "converted: 1 entry, 2.0 KiB" in out
    assert ".lock" not in out and f"in {data}" in out
    assert main(["cache", "--dir", str(data), "clear"]) == 2  # neither names nor --all
    assert "holds: converted, darcy" in capsys.readouterr().err
    assert main(["cache", "--dir", str(data), "clear", "burgers"]) == 2
    assert "'burgers' is not in" in capsys.readouterr().err and (data / "darcy").is_dir()
    assert main(["cache", "--dir", str(data), "clear", "darcy"]) == 0
    assert "removed" in capsys.readouterr().out and not (data / "darcy").exists()
    monkeypatch.setenv("PDEBENCH_DATA", str(data))  # the default folder follows paths.data_dir
    assert main(["cache", "clear", "--all"]) == 0 and not (data / "converted").exists()
    assert main(["cache"]) == 0 and "no cached data" in capsys.readouterr().out
