"""Config composition helpers shared by the CLI and the tests."""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf

CONFIG_PATH = "pkg://pdebench.conf"
CONFIG_NAME = "config"


def _cache_dir() -> str:
    import platformdirs

    return platformdirs.user_cache_dir("pdebench")


def register_resolvers() -> None:
    """``${pdebench_cache_dir:}`` (the user's cache folder), used by ``paths.data_dir``."""
    if not OmegaConf.has_resolver("pdebench_cache_dir"):
        OmegaConf.register_new_resolver("pdebench_cache_dir", _cache_dir)


def compose(overrides: Sequence[str] = (), *, config_name: str = CONFIG_NAME) -> DictConfig:
    """Compose the real config outside ``@hydra.main`` (tests, notebooks).

    ``paths.output_dir`` refers to Hydra's run dir, which only exists under the CLI: pass
    ``paths.output_dir=...`` when calling :func:`pdebench.run.run` on the result.
    """
    from hydra import compose as _compose
    from hydra import initialize_config_module

    from pdebench.registry import load_plugins

    register_resolvers()
    load_plugins()
    with initialize_config_module(config_module="pdebench.conf", version_base="1.3"):
        return _compose(config_name=config_name, overrides=list(overrides))
