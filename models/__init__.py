"""The model zoo. Registered through the ``pdebench.plugins`` entry point ``builtin_models``."""

from __future__ import annotations

from pdebench.registry import PluginAPI


def register(api: PluginAPI) -> None:
    """Register the built-in models (their configs are ``conf/model/<name>.yaml``)."""
    from pdebench.models import fno

    api.register_model("fno", fno.build_fno,
                       "Fourier Neural Operator (Li et al. 2021) from neuraloperator",
                       supports=fno.supports)
