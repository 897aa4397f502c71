"""The study configs (``experiment=...``): every experiment and every arm of its sweep composes,
and the transfer study's chain (source run -> init_from it in the target runs) works."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from pdebench.config import register_resolvers

EXPERIMENTS = sorted(p.name[:-5] for p in (files("pdebench.conf") / "experiment").iterdir()
                     if p.name.endswith(".yaml"))


def _sweep(cfg) -> dict[str, list[str]]:
    params = cfg.hydra.sweeper.get("params")
    params = OmegaConf.to_container(params) if params is not None else {}
    return {k: [v.strip() for v in str(val).split(",")] for k, val in params.items()}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_arm_of_every_experiment_composes(experiment):
    """Each combination of an experiment's swept values (first of the others) composes, names a
    registered model and system, and the arms of a study differ as its comment says."""
    from pdebench.registry import MODELS, SYSTEMS

    register_resolvers()
    with initialize_config_module("pdebench.conf", version_base=None):
        base = compose("config", overrides=[f"experiment={experiment}"], return_hydra_config=True)
        sweep = _sweep(base)
        seen = []
        for key, values in sweep.items():
            for value in values:
                overrides = [f"experiment={experiment}", f"{key}={value}"]
                cfg = compose("config", overrides=overrides)
                assert cfg.model.name in MODELS.names()
                assert cfg.system.name in SYSTEMS.names()
                seen.append((key, value, cfg))
    assert seen or experiment == "darcy_fno_published"
    if experiment == "mt_darcy_transfer":
        arms = {v: cfg for k, v, cfg in seen if k.startswith("+study")}
        assert list(arms["source"].datasets) == ["square", "disc", "triangle"]
        assert arms["source"].system.name == "multitask"
        for n in (25, 50, 100, 200):
            t, s = arms[f"transfer_{n}"], arms[f"scratch_{n}"]
            assert t.data.geometries == s.data.geometries == ["cross"]
            assert t.data.split.train == s.data.split.train == n
            assert (t.data.split.val, t.data.split.test) == (20, 100)  # one test set for all N
            assert list(t.freeze) and not list(s.get("freeze") or [])
    if experiment == "mt_fisher":
        arms = {v: cfg for k, v, cfg in seen if k.startswith("+study")}
        assert [list(d.forms) for d in arms["multi"].datasets.values()] == [[1], [2], [3]]
        assert [list(arms[f"form{k}"].data.forms) for k in (1, 2, 3)] == [[1], [2], [3]]
        assert len({arms[a].model.latent for a in arms}) == 1  # one model for every arm


def test_transfer_study_chain_runs(tmp_path):
    """source (multi-task) -> transfer_25 (init_from the source run, published layers frozen)
    and scratch_25, as one multirun at debug size."""
    out = subprocess.run(
        [sys.executable, "-m", "pdebench", "experiment=mt_darcy_transfer", "debug=fast",
         "trainer.max_epochs=1", f"hydra.sweep.dir={tmp_path}", "data.n_samples=130",
         "data.split.val=5", "logger=none", "progress=none",
         "hydra.sweeper.params={+study/mt_darcy_transfer: 'source,transfer_25,scratch_25'}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    rec = {arm: json.loads((tmp_path / arm / "result.json").read_text())
           for arm in ("source", "transfer_25", "scratch_25")}
    assert all(r["status"] == "ok" for r in rec.values())
    assert rec["source"]["system"] == "multitask"
    assert rec["transfer_25"]["init_from"].startswith(str(tmp_path / "source" / "checkpoints"))
    assert rec["transfer_25"]["frozen"]["n_parameters"] > 0
    assert "init_from" not in rec["scratch_25"] and "frozen" not in rec["scratch_25"]
    assert rec["transfer_25"]["split_sizes"] == rec["scratch_25"]["split_sizes"] == {
        "train": 25, "val": 5, "test": 100}
