"""Packaging facts a user relies on: configs inside the package, DeepXDE's backend fixed."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.resources import files


def test_configs_are_installed_with_the_package():
    conf = files("pdebench.conf")
    for group in ("data", "model", "system", "trainer", "metrics", "logger", "paths",
                  "experiment", "debug", "hydra"):
        assert any(p.name.endswith(".yaml") for p in (conf / group).iterdir()), group
    assert (conf / "config.yaml").is_file()


def test_deepxde_backend_is_pytorch_whatever_the_user_config(tmp_path):
    (tmp_path / ".deepxde").mkdir()
    (tmp_path / ".deepxde" / "config.json").write_text('{"backend": "tensorflow"}')
    env = {k: v for k, v in os.environ.items() if k != "DDE_BACKEND"}
    env["HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", "import pdebench, deepxde; "
                          "print('BACKEND', deepxde.backend.backend_name)"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "BACKEND pytorch" in out.stdout
