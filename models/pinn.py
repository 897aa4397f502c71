"""Point models for physics-informed training: an MLP-PINN (DeepXDE's ``FNN``) and a
residual-attention PINN, with optional random Fourier features; shared pieces of the point-model
zoo (:func:`supports`, :class:`FourierFeatures`); the option checks are in
:mod:`pdebench.models._options`.

A point model maps coordinates to fields: ``(N, D_in) -> (N, C_out)``, ``D_in = meta.in_channels``
(the coordinates, scaled to [-1, 1] by the system) and ``C_out = meta.out_channels`` (z-scores;
the system de-normalises). Every model here is smooth and twice differentiable in its inputs on
every device, as PINN residuals need second derivatives that are then backpropagated.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from pdebench.data.meta import DatasetMeta
from pdebench.models._options import check_choice, check_int, check_positive

__all__ = ["ACTIVATIONS", "FourierFeatures", "PointMLP", "ResidualAttentionPINN", "build_pinn",
           "build_ra_pinn", "check_choice", "check_int", "check_positive", "input_features",
           "supports"]

#: Activations of the MLP-PINN, all smooth (DeepXDE's names).
ACTIVATIONS = ("gelu", "silu", "sin", "tanh")


# ----------------------------------------------------------------------------------------------
# Shared by the point models
# ----------------------------------------------------------------------------------------------

def supports(meta: DatasetMeta) -> str | None:
    """Why a point model cannot train on ``meta`` (``None`` if it can: ``grid == "points"``)."""
    if meta.grid == "points":
        return None
    return ("a PINN model maps coordinates to fields; train it with system=pinn (which feeds "
            "collocation points), not on gridded fields")


class FourierFeatures(nn.Module):
    """Random Fourier features ``x -> [x, sin(2 pi x B), cos(2 pi x B)]``.

    ``B`` ``(in_features, n_features)`` has entries drawn from ``N(0, scale**2)`` with a
    ``torch.Generator`` seeded 0, so every build with the same sizes and scale has the same
    ``B``; it is a fixed buffer (in the state dict, never trained).

    Parameters
    ----------
    in_features : int
        ``D``, the number of coordinates.
    n_features : int
        ``m >= 1``, the number of random frequencies.
    scale : float
        Standard deviation of the frequencies, in cycles per unit of the (scaled) coordinates.

    Shapes: ``(N, D) -> (N, D + 2 m)``.
    """

    def __init__(self, in_features: int, n_features: int, scale: float = 1.0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        freqs = torch.randn(in_features, n_features, generator=gen, dtype=torch.float64) * scale
        self.register_buffer("B", freqs.to(torch.get_default_dtype()))
        self.out_features = in_features + 2 * n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        proj = (2 * math.pi) * (x @ self.B)
        return torch.cat([x, torch.sin(proj), torch.cos(proj)], dim=-1)


def input_features(in_features: int, fourier_features: Any = 0,
                   fourier_scale: Any = 1.0) -> tuple[nn.Module, int]:
    """The input map of a point model and its output width, after checking the options.

    Returns ``(FourierFeatures, D + 2 m)`` for ``fourier_features = m >= 1``, else
    ``(nn.Identity(), D)``.
    """
    m = check_int("fourier_features", fourier_features, 0)
    scale = check_positive("fourier_scale", fourier_scale)
    if m == 0:
        return nn.Identity(), in_features
    ff = FourierFeatures(in_features, m, scale)
    return ff, ff.out_features


def _glorot(layer: nn.Linear) -> nn.Linear:
    """Glorot-normal weights and zero bias (DeepXDE's "Glorot normal" initialisation)."""
    nn.init.xavier_normal_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


# ----------------------------------------------------------------------------------------------
# MLP-PINN
# ----------------------------------------------------------------------------------------------

class PointMLP(nn.Module):
    """Optional Fourier features, then an MLP: ``(N, D_in) -> (N, C_out)``.

    Attributes
    ----------
    features : FourierFeatures or nn.Identity
    net : deepxde.nn.pytorch.FNN
        ``[D', H] * depth -> C_out`` with the activation after every hidden layer.
    """

    def __init__(self, features: nn.Module, net: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.features(x))


def build_pinn(meta: DatasetMeta, hidden: int = 64, depth: int = 4, activation: str = "tanh",
               fourier_features: int = 0, fourier_scale: float = 1.0) -> nn.Module:
    """The MLP-PINN: coordinates -> ``hidden`` x ``depth`` -> fields.

    The network is DeepXDE's PyTorch ``FNN`` with "Glorot normal" weights and zero biases
    (imported through :func:`pdebench._deepxde.deepxde`, which leaves torch's default device and
    dtype as they were), in front of it optional Fourier features. Its parameters take torch's
    default dtype (DeepXDE would use its own global float setting).

    Parameters
    ----------
    meta : DatasetMeta
        A point dataset (``grid == "points"``): ``in_channels`` coordinates, ``out_channels``
        fields.
    hidden : int
        Width H of every hidden layer, >= 1.
    depth : int
        Number of hidden layers, >= 1.
    activation : {"tanh", "sin", "gelu", "silu"}
        Applied after every hidden layer.
    fourier_features : int
        Number m of random Fourier frequencies in front of the MLP (0: none).
    fourier_scale : float
        Standard deviation of those frequencies, > 0.

    Returns
    -------
    PointMLP mapping (N, D_in) -> (N, C_out).
    """
    reason = supports(meta)
    if reason:
        raise ValueError(reason)
    hidden = check_int("hidden", hidden, 1)
    depth = check_int("depth", depth, 1)
    activation = check_choice("activation", activation, ACTIVATIONS)
    features, width = input_features(meta.in_channels, fourier_features, fourier_scale)
    from pdebench._deepxde import deepxde

    net = deepxde().nn.pytorch.FNN([width] + [hidden] * depth + [meta.out_channels], activation,
                                   "Glorot normal")
    return PointMLP(features, net.to(torch.get_default_dtype()))


# ----------------------------------------------------------------------------------------------
# Residual-attention PINN
# ----------------------------------------------------------------------------------------------

class ResidualAttentionPINN(nn.Module):
    """Residual blocks gated by a sigmoid attention: ``h <- h + sigmoid(W_a h) * f(h)``.

    ``h0 = tanh(W_0 x' + b_0)`` with ``x'`` the (optionally Fourier) features; ``f`` is
    ``Linear(H, H), tanh, Linear(H, H), tanh``; ``W_a`` is ``Linear(H, H)``; the head is
    ``Linear(H, C_out)``. All linear layers are Glorot-normal with zero biases (our choice; the
    publication does not state its initialisation).

    Shapes: ``(N, D_in) -> (N, C_out)``.
    """

    def __init__(self, in_features: int, out_features: int, hidden: int = 64, depth: int = 4,
                 fourier_features: int = 0, fourier_scale: float = 1.0) -> None:
        super().__init__()
        hidden = check_int("hidden", hidden, 1)
        depth = check_int("depth", depth, 1)
        self.features, width = input_features(in_features, fourier_features, fourier_scale)
        self.lift = _glorot(nn.Linear(width, hidden))
        self.gates = nn.ModuleList(_glorot(nn.Linear(hidden, hidden)) for _ in range(depth))
        self.blocks = nn.ModuleList(
            nn.Sequential(_glorot(nn.Linear(hidden, hidden)), nn.Tanh(),
                          _glorot(nn.Linear(hidden, hidden)), nn.Tanh())
            for _ in range(depth))
        self.head = _glorot(nn.Linear(hidden, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.lift(self.features(x)))
        for gate, block in zip(self.gates, self.blocks, strict=True):
            h = h + torch.sigmoid(gate(h)) * block(h)
        return self.head(h)


def build_ra_pinn(meta: DatasetMeta, hidden: int = 64, depth: int = 4, fourier_features: int = 0,
                  fourier_scale: float = 1.0) -> nn.Module:
    """The residual-attention PINN (STUDIES.md section 1).

    Parameters
    ----------
    meta : DatasetMeta
        A point dataset (``grid == "points"``).
    hidden : int
        Width H of the lift, the blocks and the gates, >= 1.
    depth : int
        Number of gated residual blocks, >= 1.
    fourier_features, fourier_scale
        As in :func:`build_pinn`.

    Returns
    -------
    ResidualAttentionPINN mapping (N, D_in) -> (N, C_out).
    """
    reason = supports(meta)
    if reason:
        raise ValueError(reason)
    return ResidualAttentionPINN(meta.in_channels, meta.out_channels, hidden, depth,
                                 fourier_features, fourier_scale)
