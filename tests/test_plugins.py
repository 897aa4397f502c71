"""Registry and plugins: discovery through entry points, isolation of failures, strict mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pdebench import registry
from pdebench.registry import MODELS, Entry, RegistryError, UnknownNameError
from pdebench.testing import ConformanceError, check_model, check_registered_model, tiny_meta

from conftest import REPO, TINY
from plugin_fixture import BROKEN, make_plugin


def _env(plugin_root: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_root), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    root = make_plugin(tmp_path / "site")
    make_plugin(root, "brokenplug", BROKEN)
    monkeypatch.syspath_prepend(str(root))
    registry.reset_for_tests()
    yield root
    sys.modules.pop("tinyplug", None)
    sys.modules.pop("brokenplug", None)
    monkeypatch.undo()
    registry.reset_for_tests()


def test_builtin_zoo_registers_through_entry_points():
    assert "fno" in MODELS
    assert MODELS.get("fno").source == "builtin_models"
    assert "darcy" in registry.DATASETS and "operator" in registry.SYSTEMS
    assert "pdebench/nrmse" in registry.METRICS


def test_duplicates_and_bad_names_are_refused():
    with pytest.raises(RegistryError, match="already registered"):
        MODELS.add(Entry("model", "fno", object, source="someone"))
    with pytest.raises(RegistryError, match="lower snake case"):
        MODELS.add(Entry("model", "MyModel", object))


def test_unknown_name_lists_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown model 'fnoo'. Known models: .*fno"):
        MODELS.get("fnoo")


def test_plugin_model_is_found_and_conforms(plugin_path, capsys):
    assert "tiny_conv" in MODELS
    entry = MODELS.get("tiny_conv")
    assert entry.source == "tinyplug"
    check_registered_model("tiny_conv", tiny_meta(spatial_dims=2))
    check_registered_model("tiny_conv", tiny_meta(spatial_dims=1, in_channels=2))
    # the broken plugin is reported by name, the rest keeps working
    assert [f.name for f in registry.FAILURES] == ["brokenplug"]
    assert "brokenplug" in capsys.readouterr().err


def test_strict_mode_makes_a_broken_plugin_fatal(plugin_path):
    registry.reset_for_tests()
    with pytest.raises(RuntimeError, match=r"plugin 'brokenplug' .* failed to load"):
        registry.load_plugins(strict=True)


def test_conformance_check_catches_a_bad_model():
    from torch import nn

    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return x.sum(dim=1, keepdim=True)  # lin unused: no gradient

    class HalfUsed(Flat):
        def __init__(self):
            super().__init__()
            self.unused = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x.movedim(1, -1).expand(*x.shape[:1], *x.shape[2:], 4)).movedim(
                -1, 1)[:, :1]

    with pytest.raises(ConformanceError, match="does not depend on any trainable parameter"):
        check_model(lambda meta: Flat(), tiny_meta())
    with pytest.raises(ConformanceError, match=r"parameters without gradient: \['unused"):
        check_model(lambda meta: HalfUsed(), tiny_meta())


def test_plugin_model_in_cli_run_and_leaderboard(tmp_path):
    """A user installs a plugin package; `model=tiny_conv` then works end to end."""
    root = make_plugin(tmp_path / "site")
    make_plugin(root, "brokenplug", BROKEN)
    env = _env(root)
    out = subprocess.run([sys.executable, "-m", "pdebench", "list", "models"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "tiny_conv" in out.stdout and "[tinyplug]" in out.stdout
    assert "brokenplug" in out.stderr and "the broken plugin's own bug" in out.stderr

    run_dir = tmp_path / "run"
    tiny = [o for o in TINY if not o.startswith("model.")]
    out = subprocess.run([sys.executable, "-m", "pdebench", "model=tiny_conv", "data=darcy",
                          f"hydra.run.dir={run_dir}", *tiny],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads((run_dir / "result.json").read_text())
    assert record["status"] == "ok" and record["model"] == "tiny_conv"

    board = subprocess.run([sys.executable, "-m", "pdebench.leaderboard", str(run_dir),
                            "--out", str(tmp_path / "board")],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert board.returncode == 0, board.stderr
    assert "tiny_conv" in (tmp_path / "board" / "leaderboard.md").read_text()

    strict = subprocess.run([sys.executable, "-m", "pdebench", "list", "models"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            env=_env(root, PDEBENCH_STRICT_PLUGINS="1"))
    assert strict.returncode != 0
    assert "brokenplug" in strict.stderr
    assert str(REPO)  # the repo is importable through the editable install
