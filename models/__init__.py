"""The model zoo. Registered through the ``pdebench.plugins`` entry point ``builtin_models``."""

from __future__ import annotations

from pdebench.registry import PluginAPI


def register(api: PluginAPI) -> None:
    """Register the built-in models (their configs are ``conf/model/<name>.yaml``)."""
    from pdebench.models import deeponet, fno, lstm_pinn, mt_deeponet, pinn, unet

    api.register_model("fno", fno.build_fno,
                       "Fourier Neural Operator (Li et al. 2021) from neuraloperator",
                       supports=fno.supports)
    api.register_model("tfno", fno.build_tfno,
                       "Tensorised FNO (Kossaifi et al. 2023): low-rank spectral weights, "
                       "neuraloperator", supports=fno.supports)
    api.register_model("unet", unet.build_unet,
                       "U-Net (Ronneberger et al. 2015), the PDEBench/PDEArena 1D-3D baseline",
                       supports=unet.supports)
    api.register_model("pinn", pinn.build_pinn,
                       "MLP-PINN: coordinates -> tanh MLP -> fields (DeepXDE's FNN)",
                       supports=pinn.supports)
    api.register_model("ra_pinn", pinn.build_ra_pinn,
                       "Residual-attention PINN: gated residual tanh blocks on coordinates",
                       supports=pinn.supports)
    api.register_model("lstm_pinn", lstm_pinn.build_lstm_pinn,
                       "LSTM-PINN (variants A and B): coordinates through a stacked LSTM",
                       supports=pinn.supports)
    api.register_model("deeponet", deeponet.build_deeponet,
                       "DeepONet (Lu et al. 2021): branch (MLP or CNN) over the input fields, "
                       "trunk over coordinates; queried at any points",
                       supports=deeponet.supports)
    api.register_model("mt_deeponet", mt_deeponet.build_mt_deeponet,
                       "Multi-task DeepONet: task coefficients and geometry mask into the "
                       "branch, output times the mask",
                       supports=deeponet.supports)
