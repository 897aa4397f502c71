"""U-Net (Ronneberger et al., MICCAI 2015) for 1D, 2D and 3D grids: the convolutional baseline of
PDEBench (Takamoto et al., NeurIPS 2022) and PDEArena (Gupta & Brandstetter, 2022).

The encoder applies ``depth + 1`` blocks of two ``conv -> norm -> activation`` layers (3-wide
kernels, "same" padding), halving every spatial size between blocks (max or average pooling, or a
strided convolution) while the width doubles from ``hidden_channels``. The decoder goes back up with
2-wide, stride-2 transposed convolutions that halve the width, concatenates the encoder's features
at the same level (the skip connections) and applies a block again; a 1-wide convolution maps to
the output channels. Fields whose sizes are not multiples of ``2**depth`` are padded (edge values
repeated) before the encoder and cropped back afterwards. A dimension too short to be halved
``depth`` times (a thin 3D plate) is halved only while at least two cells remain and is left whole
at the deeper levels, so any resolution works as long as one dimension can be halved ``depth``
times.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from pdebench.data.meta import DatasetMeta
from pdebench.models._options import check_choice, check_int, fail

__all__ = ["ACTIVATIONS", "DOWNSAMPLING", "NORMS", "UNet", "build_unet", "supports"]

#: Normalisations of a conv block ("group": 8 groups, or fewer when the width is not divisible).
NORMS = ("batch", "instance", "group", "none")
#: Activations of a conv block.
ACTIVATIONS = ("relu", "gelu", "silu", "tanh")
#: How the encoder halves the resolution.
DOWNSAMPLING = ("maxpool", "avgpool", "conv")

_ACT = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh}


def supports(meta: DatasetMeta) -> str | None:
    """Why a U-Net cannot train on ``meta`` (``None`` if it can)."""
    if meta.grid == "points":
        return ("a U-Net convolves fields on a regular grid, but this dataset has scattered "
                "points; use a point-based model (e.g. model=deeponet or a PINN with "
                "system=pinn), or a gridded version of the data")
    if meta.spatial_dims not in (1, 2, 3):
        return f"a U-Net supports 1-3 spatial dimensions, the dataset has {meta.spatial_dims}"
    if max(meta.resolution) < 3:
        return (f"a U-Net halves the grid at least once and needs at least 3 cells in some "
                f"dimension, the dataset has resolution {tuple(meta.resolution)}")
    return None


def _norm(kind: str, dims: int, channels: int) -> nn.Module:
    if kind == "batch":
        return (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)[dims - 1](channels)
    if kind == "instance":
        return (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)[dims - 1](
            channels, affine=True)
    if kind == "group":
        return nn.GroupNorm(math.gcd(8, channels), channels)
    return nn.Identity()


class _Block(nn.Sequential):
    """``(conv 3 -> norm -> activation) x 2``: ``(batch, c_in, *s) -> (batch, c_out, *s)``."""

    def __init__(self, dims: int, c_in: int, c_out: int, norm: str, activation: str) -> None:
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
        bias = norm == "none"  # a norm's shift makes a conv bias redundant
        super().__init__(
            conv(c_in, c_out, 3, padding=1, bias=bias), _norm(norm, dims, c_out),
            _ACT[activation](),
            conv(c_out, c_out, 3, padding=1, bias=bias), _norm(norm, dims, c_out),
            _ACT[activation](),
        )


class UNet(nn.Module):
    """U-Net on ``dims``-dimensional grids.

    Parameters
    ----------
    dims : int
        Number of spatial dimensions (1, 2 or 3).
    in_channels, out_channels : int
        ``C_in`` and ``C_out``.
    hidden_channels : int
        Width of the first block (PDEBench's ``init_features``); level ``k`` has
        ``hidden_channels * 2**k`` channels.
    depth : int
        Number of levels below the first (PDEBench's U-Net has 4), each halving the grid.
    norm : {"batch", "instance", "group", "none"}
        Normalisation in every block.
    activation : {"relu", "gelu", "silu", "tanh"}
        Activation in every block.
    downsampling : {"maxpool", "avgpool", "conv"}
        Max or average pooling, or a learned stride-2 convolution (2-wide kernel).
    halvings : sequence of int, optional
        Per spatial dimension, how many of the ``depth`` levels halve it (the first ones);
        default ``depth`` for every dimension. Sizes are padded to multiples of ``2**halvings``.

    Shapes: ``(batch, C_in, *spatial) -> (batch, C_out, *spatial)``, any spatial sizes.
    """

    def __init__(self, dims: int, in_channels: int, out_channels: int, hidden_channels: int = 32,
                 depth: int = 4, norm: str = "batch", activation: str = "relu",
                 downsampling: str = "maxpool", halvings: Sequence[int] | None = None) -> None:
        super().__init__()
        self.dims, self.depth = dims, depth
        self.halvings = tuple(halvings) if halvings is not None else (depth,) * dims
        if len(self.halvings) != dims or not all(0 <= h <= depth for h in self.halvings):
            raise ValueError(f"halvings={halvings}: must be {dims} ints in [0, {depth}]")
        # level k -> k + 1 halves dimension d iff k < halvings[d]
        steps = [tuple(2 if k < h else 1 for h in self.halvings) for k in range(depth)]
        widths = [hidden_channels * 2**k for k in range(depth + 1)]
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
        up = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[dims - 1]
        self.encoder = nn.ModuleList(
            [_Block(dims, in_channels, widths[0], norm, activation)]
            + [_Block(dims, widths[k - 1], widths[k], norm, activation)
               for k in range(1, depth + 1)])
        if downsampling == "conv":
            self.down = nn.ModuleList([conv(w, w, st, stride=st)
                                       for w, st in zip(widths[:-1], steps, strict=True)])
        else:
            pool = {"maxpool": (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d),
                    "avgpool": (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)}[downsampling]
            self.down = nn.ModuleList([pool[dims - 1](st) for st in steps])
        self.up = nn.ModuleList([up(widths[k + 1], widths[k], steps[k], stride=steps[k])
                                 for k in reversed(range(depth))])
        self.decoder = nn.ModuleList([_Block(dims, 2 * widths[k], widths[k], norm, activation)
                                      for k in reversed(range(depth))])
        self.head = conv(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = x.shape[2:]
        if len(spatial) != self.dims:
            raise ValueError(f"UNet({self.dims}D) got input of shape {tuple(x.shape)}; expected "
                             f"(batch, C_in, {self.dims} spatial sizes)")
        # F.pad takes (left, right) pairs starting from the last dimension
        extra = [(-n) % 2**h for n, h in zip(spatial, self.halvings, strict=True)]
        pad = [p for e in reversed(extra) for p in (e // 2, e - e // 2)]
        if any(pad):
            x = F.pad(x, pad, mode="replicate")
        skips = []
        for k, block in enumerate(self.encoder):
            x = block(x)
            if k < self.depth:
                skips.append(x)
                x = self.down[k](x)
        for upconv, block in zip(self.up, self.decoder, strict=True):
            x = block(torch.cat([skips.pop(), upconv(x)], dim=1))
        x = self.head(x)
        if any(pad):
            x = x[(..., *(slice(e // 2, e // 2 + n) for e, n in zip(extra, spatial, strict=True)))]
        return x


def build_unet(meta: DatasetMeta, hidden_channels: Any = 32, depth: Any = 4,
               norm: Any = "batch", activation: Any = "relu",
               downsampling: Any = "maxpool") -> UNet:
    """A :class:`UNet` shaped by the dataset, after checking the options.

    Parameters
    ----------
    meta : DatasetMeta
        Gives ``in_channels``, ``out_channels``, the number of spatial dimensions and the
        resolution (which bounds ``depth``).
    hidden_channels, depth, norm, activation, downsampling
        See :class:`UNet`. The longest dimension must keep at least two cells at the coarsest
        level, ``2**depth < max(meta.resolution)``; a shorter dimension of size ``n`` is halved
        at the first ``min(depth, ceil(log2 n) - 1)`` levels only (it keeps >= 2 cells).

    Returns
    -------
    UNet mapping (batch, C_in, *spatial) -> (batch, C_out, *spatial).

    Raises
    ------
    ValueError
        Naming the option (``model.<option>=<value>: must be ...``) or why the data is refused.
    """
    reason = supports(meta)
    if reason:
        raise ValueError(reason)
    hidden_channels = check_int("hidden_channels", hidden_channels, 1)
    depth = check_int("depth", depth, 1)
    norm = check_choice("norm", norm, NORMS)
    activation = check_choice("activation", activation, ACTIVATIONS)
    downsampling = check_choice("downsampling", downsampling, DOWNSAMPLING)
    largest = max(meta.resolution)
    if 2**depth >= largest:
        raise fail("depth", depth,
                   f"an int in [1, {_halvings(largest)}] for data={meta.name} with resolution "
                   f"{tuple(meta.resolution)} (the coarsest level needs at least 2 cells along "
                   f"the longest dimension: 2**depth < {largest})")
    return UNet(meta.spatial_dims, meta.in_channels, meta.out_channels, hidden_channels, depth,
                norm, activation, downsampling,
                halvings=[min(depth, _halvings(n)) for n in meta.resolution])


def _halvings(n: int) -> int:
    """How often ``n`` cells can be halved (rounding up) keeping at least 2: ``2**h < n``."""
    return max(0, math.ceil(math.log2(n)) - 1)
