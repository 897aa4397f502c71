"""The model zoo. Registered through the ``pdebench.plugins`` entry point ``builtin_models``."""

from __future__ import annotations

from pdebench.registry import PluginAPI


def register(api: PluginAPI) -> None:
    """Register the built-in models (their configs are ``conf/model/<name>.yaml``)."""
    from pdebench.models import fno, lstm_pinn, pinn

    api.register_model("fno", fno.build_fno,
                       "Fourier Neural Operator (Li et al. 2021) from neuraloperator",
                       supports=fno.supports)
    api.register_model("pinn", pinn.build_pinn,
                       "MLP-PINN: coordinates -> tanh MLP -> fields (DeepXDE's FNN)",
                       supports=pinn.supports)
    api.register_model("ra_pinn", pinn.build_ra_pinn,
                       "Residual-attention PINN: gated residual tanh blocks on coordinates",
                       supports=pinn.supports)
    api.register_model("lstm_pinn", lstm_pinn.build_lstm_pinn,
                       "LSTM-PINN (variants A and B): coordinates through a stacked LSTM",
                       supports=pinn.supports)
