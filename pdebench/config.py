"""Config composition helpers shared by the CLI and the tests."""

from __future__ import annotations

import re
from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf, open_dict

CONFIG_PATH = "pkg://pdebench.conf"
CONFIG_NAME = "config"


def _cache_dir() -> str:
    import platformdirs

    return platformdirs.user_cache_dir("pdebench")


def register_resolvers() -> None:
    """``${pdebench_cache_dir:}`` (the user's cache folder), used by ``paths.data_dir``."""
    if not OmegaConf.has_resolver("pdebench_cache_dir"):
        OmegaConf.register_new_resolver("pdebench_cache_dir", _cache_dir)


_DATA_CHOICE = re.compile(r"^[+~]*data(@[\w.]+)?=(?P<name>\w+)$")


def check_renamed(overrides: Sequence[str]) -> None:
    """Fail on a dataset choice that names a renamed dataset (``data=electro_thermal``), with the
    new name, before Hydra reports only that the config file is missing."""
    from pdebench.registry import DATASETS

    for item in overrides:
        m = _DATA_CHOICE.match(item.strip())
        if m and DATASETS.renamed(m["name"]):
            raise RenamedError(f"{item}: {DATASETS.unknown_message(m['name'])}")


class RenamedError(ValueError):
    """A config choice names something under a name it no longer has."""


def compose(overrides: Sequence[str] = (), *, config_name: str = CONFIG_NAME) -> DictConfig:
    """Compose the real config outside ``@hydra.main`` (tests, notebooks).

    ``paths.output_dir`` refers to Hydra's run dir, which only exists under the CLI: pass
    ``paths.output_dir=...`` when calling :func:`pdebench.run.run` on the result. With
    ``debug=fast`` the tiny sizes are already applied (:func:`apply_tiny`), the overrides winning.
    """
    from hydra import compose as _compose
    from hydra import initialize_config_module

    from pdebench.registry import load_plugins

    register_resolvers()
    load_plugins()
    check_renamed(overrides)
    with initialize_config_module(config_module="pdebench.conf", version_base="1.3"):
        cfg = _compose(config_name=config_name, overrides=list(overrides))
    return apply_tiny(cfg, overrides)


#: Config nodes that may declare ``tiny`` overrides, applied together by ``tiny: true``.
TINY_AXES = ("data", "model", "system")


def apply_tiny(cfg: DictConfig, overrides: Sequence[str] = ()) -> DictConfig:
    """With ``tiny: true`` (set by ``debug=fast``), merge each axis's declared ``tiny`` node
    (``data.tiny``, ``model.tiny``, and every ``datasets.<name>.tiny``) into it.

    The tiny sizes live with each dataset and model (one place per fact) and serve both the
    ``debug=fast`` smoke run and the tests. ``overrides`` (the command line's ``key=value``
    items) are applied again afterwards, so ``debug=fast data.n_frames=8`` keeps the 8. The flag
    becomes ``"applied"``, so a second call changes nothing. Returns a new config (the input is
    not changed); without the flag the config is returned as is.
    """
    if cfg.get("tiny", False) is not True:
        return cfg
    out = cfg.copy()
    nodes = [(out, axis) for axis in TINY_AXES if out.get(axis) is not None]
    nodes += [(out.datasets, k) for k in (out.get("datasets") or {})]
    with open_dict(out):
        for parent, key in nodes:
            node = parent[key]
            if isinstance(node, DictConfig) and node.get("tiny"):
                with open_dict(node):
                    parent[key] = OmegaConf.merge(node, node.tiny)
        explicit = [o.lstrip("+") for o in overrides if "=" in o and not o.startswith("~")
                    and o.lstrip("+").split("=", 1)[0].split(".", 1)[0] in
                    (*TINY_AXES, "datasets") and "." in o.split("=", 1)[0]]
        if explicit:
            out.merge_with(OmegaConf.from_dotlist(explicit))
        out.tiny = "applied"
    return out
