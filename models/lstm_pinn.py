"""LSTM-PINN, the two variants seen in the authors' code (STUDIES.md section 1).

- **A**: ``Linear(D' -> H) + tanh``; that feature as a length-1 sequence through a stacked LSTM
  (hidden ``H``); ``Linear(H -> C_out)``.
- **B**: the ``D'`` input scalars as a length-``D'`` sequence, each embedded by one shared
  ``Linear(1 -> E) + tanh``; a stacked LSTM (hidden ``Hb``); its last hidden state concatenated with
  the raw coordinates, ``(Hb + D_in)``; head ``Linear(Hb + D_in -> W), tanh, Linear(W -> W), tanh,
  Linear(W -> C_out)`` (90 -> 88 -> 88 -> 5 for 2D, five fields and the published sizes).

``D'`` is ``D_in``, or ``D_in + 2 m`` with ``m`` Fourier features in front.

The LSTM recurrence is written out (:class:`ExplicitLSTM`) instead of ``nn.LSTM``: cuDNN's fused
LSTM kernels have no double backward, and PINN residuals differentiate the output twice in its
inputs and then once more in the weights.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pdebench.data.meta import DatasetMeta
from pdebench.models._options import check_choice, check_int
from pdebench.models.pinn import input_features, supports

__all__ = ["VARIANTS", "ExplicitLSTM", "LSTMLayer", "LSTMPinnA", "LSTMPinnB", "build_lstm_pinn"]

#: The LSTM-PINN variants.
VARIANTS = ("A", "B")


class LSTMLayer(nn.Module):
    """One LSTM layer with PyTorch's gate equations and parameter layout.

    ``ih`` ``Linear(in, 4H)`` and ``hh`` ``Linear(H, 4H)`` hold the input-gate, forget-gate,
    cell-candidate and output-gate rows in that order (``nn.LSTM``'s ``weight_ih_l<k>``,
    ``bias_ih_l<k>``, ``weight_hh_l<k>``, ``bias_hh_l<k>``), initialised as ``nn.LSTM`` does:
    uniform in ``[-1/sqrt(H), 1/sqrt(H)]``.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.ih = nn.Linear(input_size, 4 * hidden_size)
        self.hh = nn.Linear(hidden_size, 4 * hidden_size)
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """``(N, L, in) -> (N, L, H)``, the hidden states from a zero initial state."""
        pre = self.ih(seq)  # input contribution of every step at once
        h = seq.new_zeros(seq.shape[0], self.hidden_size)
        c = torch.zeros_like(h)
        out = []
        for t in range(seq.shape[1]):
            i, f, g, o = (pre[:, t] + self.hh(h)).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            out.append(h)
        return torch.stack(out, dim=1)


class ExplicitLSTM(nn.Module):
    """A stacked LSTM (``nn.LSTM(batch_first=True)`` semantics, zero initial state, no dropout)
    built from :class:`LSTMLayer`, twice differentiable on every device.

    Shapes: ``(N, L, input_size) -> (N, L, hidden_size)``, the top layer's hidden states.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 2) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            LSTMLayer(input_size if k == 0 else hidden_size, hidden_size)
            for k in range(num_layers))

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            seq = layer(seq)
        return seq


class LSTMPinnA(nn.Module):
    """Variant A: ``tanh(Linear(x'))`` as a length-1 sequence through the LSTM, then a linear
    head. Shapes: ``(N, D_in) -> (N, C_out)``."""

    def __init__(self, features: nn.Module, width: int, out_features: int, hidden: int,
                 lstm_layers: int) -> None:
        super().__init__()
        self.features = features
        self.lift = nn.Linear(width, hidden)
        self.lstm = ExplicitLSTM(hidden, hidden, lstm_layers)
        self.head = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.tanh(self.lift(self.features(x)))
        return self.head(self.lstm(z[:, None, :])[:, -1])


class LSTMPinnB(nn.Module):
    """Variant B: the input scalars as a sequence (shared ``Linear(1, E) + tanh`` embedding),
    the LSTM's last hidden state concatenated with the raw coordinates, a tanh MLP head.
    Shapes: ``(N, D_in) -> (N, C_out)``."""

    def __init__(self, features: nn.Module, in_features: int, out_features: int, hidden: int,
                 lstm_layers: int, embed: int, head_width: int) -> None:
        super().__init__()
        self.features = features
        self.embed = nn.Linear(1, embed)
        self.lstm = ExplicitLSTM(embed, hidden, lstm_layers)
        self.head = nn.Sequential(nn.Linear(hidden + in_features, head_width), nn.Tanh(),
                                  nn.Linear(head_width, head_width), nn.Tanh(),
                                  nn.Linear(head_width, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = torch.tanh(self.embed(self.features(x)[..., None]))  # (N, D', E)
        last = self.lstm(seq)[:, -1]  # (N, Hb)
        return self.head(torch.cat([last, x], dim=-1))


def build_lstm_pinn(meta: DatasetMeta, variant: str = "A", hidden: int | None = None,
                    lstm_layers: int = 2, embed: int | None = None,
                    head_width: int | None = None, fourier_features: int = 0,
                    fourier_scale: float = 1.0) -> nn.Module:
    """An LSTM-PINN of ``variant`` A or B.

    Linear layers keep PyTorch's default initialisation and the LSTM ``nn.LSTM``'s (our choice:
    the authors' code builds them from ``torch.nn`` modules).

    Parameters
    ----------
    meta : DatasetMeta
        A point dataset (``grid == "points"``): ``in_channels`` coordinates, ``out_channels``
        fields.
    variant : {"A", "B"}
    hidden : int, optional
        LSTM hidden size, >= 1 (default 64 for A, 88 for B: the published sizes).
    lstm_layers : int
        Stacked LSTM layers, >= 1.
    embed : int, optional
        B only: width E of the per-scalar embedding, >= 1 (default 24).
    head_width : int, optional
        B only: width of the two hidden head layers, >= 1 (default: ``hidden``).
    fourier_features, fourier_scale
        As in :func:`pdebench.models.pinn.build_pinn`.

    Returns
    -------
    LSTMPinnA or LSTMPinnB mapping (N, D_in) -> (N, C_out).
    """
    reason = supports(meta)
    if reason:
        raise ValueError(reason)
    variant = check_choice("variant", variant, VARIANTS)
    if hidden is None:
        hidden = 64 if variant == "A" else 88
    hidden = check_int("hidden", hidden, 1)
    lstm_layers = check_int("lstm_layers", lstm_layers, 1)
    features, width = input_features(meta.in_channels, fourier_features, fourier_scale)
    if variant == "A":
        for name, value in (("embed", embed), ("head_width", head_width)):
            if value is not None:
                raise ValueError(f"model.{name}={value!r} applies to model.variant=B only; "
                                 "valid for variant A: null")
        return LSTMPinnA(features, width, meta.out_channels, hidden, lstm_layers)
    embed = check_int("embed", 24 if embed is None else embed, 1)
    head_width = check_int("head_width", hidden if head_width is None else head_width, 1)
    return LSTMPinnB(features, meta.in_channels, meta.out_channels, hidden, lstm_layers, embed,
                     head_width)
