"""Every registered model passes the conformance checks, and every config names a registry entry."""

from __future__ import annotations

from importlib.resources import files

import pytest

from pdebench.registry import DATASETS, MODELS, SYSTEMS
from pdebench.testing import check_registered_model, tiny_meta

SMALL_ARCH = {"fno": {"hidden_channels": 8, "n_modes": 4, "n_layers": 2}}


@pytest.mark.parametrize("name", MODELS.names())
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_every_model_conforms(name, dims):
    meta = tiny_meta(spatial_dims=dims, resolution=8 if dims == 3 else 16, in_channels=2,
                     out_channels=3)
    check_registered_model(name, meta, **SMALL_ARCH.get(name, {}))


@pytest.mark.parametrize("group,registry", [("model", MODELS), ("data", DATASETS),
                                            ("system", SYSTEMS)])
def test_config_files_and_registry_agree(group, registry):
    conf = files("pdebench.conf") / group
    yaml_names = {p.name[:-5] for p in conf.iterdir() if p.name.endswith(".yaml")}
    assert yaml_names, f"no configs in conf/{group}"
    builtin = {e.name for e in registry.entries() if e.source.startswith(("builtin", "pdebench"))}
    assert yaml_names == builtin
    for name in yaml_names:
        text = (conf / f"{name}.yaml").read_text()
        assert f"name: {name}\n" in text, f"conf/{group}/{name}.yaml must set name: {name}"
