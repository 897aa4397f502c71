"""Every registered model passes the conformance checks, and every config names a registry entry."""

from __future__ import annotations

from importlib.resources import files

import pytest
from omegaconf import OmegaConf

from pdebench.registry import DATASETS, MODELS, SYSTEMS
from pdebench.testing import check_registered_model, tiny_meta, tiny_point_meta


def _tiny_arch(name: str) -> dict:
    """The model's own declared tiny sizes (``tiny:`` in conf/model/<name>.yaml)."""
    path = files("pdebench.conf") / "model" / f"{name}.yaml"
    node = OmegaConf.load(str(path)) if path.is_file() else {}
    return dict(OmegaConf.to_container(node.get("tiny") or OmegaConf.create({})))


@pytest.mark.parametrize("name", MODELS.names())
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_every_model_conforms(name, dims):
    """Grid models on 1-3D grids; point models (coordinates -> fields) on 1-3 coordinates."""
    meta = tiny_meta(spatial_dims=dims, resolution=8 if dims == 3 else 16, in_channels=2,
                     out_channels=3)
    supports = MODELS.get(name).extra.get("supports")
    if supports is not None and supports(meta) is not None:
        meta = tiny_point_meta(coords=("x", "y", "t")[:dims], out_fields=("u", "v", "p"))
    check_registered_model(name, meta, **_tiny_arch(name))


@pytest.mark.parametrize("group,registry", [("model", MODELS), ("data", DATASETS),
                                            ("system", SYSTEMS)])
def test_config_files_and_registry_agree(group, registry):
    conf = files("pdebench.conf") / group
    yaml_names = {p.name[:-5] for p in conf.iterdir() if p.name.endswith(".yaml")}
    assert yaml_names, f"no configs in conf/{group}"
    builtin = {e.name for e in registry.entries() if e.source.startswith(("builtin", "pdebench"))}
    # a preset (conf/model/lstm_pinn_b.yaml) extends a registered entry's config and keeps its name
    presets = {n for n in yaml_names - builtin
               if OmegaConf.load(str(conf / f"{n}.yaml")).get("defaults")}
    for name in presets:
        (base, *_) = OmegaConf.load(str(conf / f"{name}.yaml")).defaults
        assert base in builtin, f"conf/{group}/{name}.yaml extends {base!r}, not an entry"
    assert yaml_names - presets == builtin
    for name in yaml_names - presets:
        text = (conf / f"{name}.yaml").read_text()
        assert f"name: {name}\n" in text, f"conf/{group}/{name}.yaml must set name: {name}"
