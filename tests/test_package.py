"""Packaging facts a user relies on: configs inside the package, DeepXDE's backend fixed."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path


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


def test_every_subpackage_is_packaged():
    """pyproject.toml lists every folder with an __init__.py, so a wheel never lacks one."""
    import tomllib

    from conftest import REPO

    conf = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    roots = {name: REPO / folder for name, folder in conf["package-dir"].items()}
    found = set()
    for name, folder in roots.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder).parts
            if "__pycache__" not in rel:
                found.add(".".join((name, *rel)))
    assert set(conf["packages"]) == found


def test_tests_mirror_the_package_layout():
    """Tests of pdebench/<sub>/ live in tests/<sub>/, of datasets/<suite>/ in
    tests/datasets/<suite>/: no test folder without a package folder of the same name."""
    from conftest import REPO

    packages = {p.relative_to(REPO / "pdebench") for p in (REPO / "pdebench").iterdir()
                if (p / "__init__.py").exists()}
    suites = {p.relative_to(REPO) for p in (REPO / "datasets").iterdir()
              if (p / "__init__.py").exists()}
    for folder in (REPO / "tests").rglob("*"):
        if not folder.is_dir() or folder.name in ("__pycache__", "fixtures") \
                or "fixtures" in folder.relative_to(REPO / "tests").parts:
            continue
        rel = folder.relative_to(REPO / "tests")
        assert rel in packages or rel in suites or rel == Path("datasets") \
            or rel == Path("models"), f"tests/{rel} mirrors no package folder"
