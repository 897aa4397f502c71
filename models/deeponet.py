"""DeepONet (Lu et al., Nature Machine Intelligence 2021) on gridded operator data.

``u_c(y) = sum_k b_{c,k}(x) t_{c,k}(y) (+ bias_c)``: a *branch* net encodes the input functions
``x`` (batch, C_in, *spatial) into ``b`` (batch, G, p), a *trunk* net maps a query point ``y``
(normalised to [-1, 1] per dimension over the dataset's extent) to ``t`` (G, p); the latent of
width ``G p`` is split into ``G`` groups, one per output field (DeepXDE's "split" strategy for
several outputs).

Branch inputs. Input channels named in ``meta.extra["parameter_fields"]`` (or the option
``parameter_fields``) are scalar parameters broadcast over the grid: the branch reads one number
per sample from each (its mean over the grid). The other channels are fields:

- ``branch="mlp"``: one MLP over ``[parameters, flattened fields]``;
- ``branch="cnn"``: ``same``-padded convolutions over the fields, each followed by the activation
  and a 2x average pooling (1 along a dimension already of size 1), flattened, the parameters
  appended, then the MLP;
- ``branch="auto"``: ``cnn`` when a field other than a mask has 2 or 3 dimensions, else ``mlp``.

Time as a trunk coordinate. When the output channels are the frames of a solution
(``meta.extra["output_frames"] = {"fields": [...], "times": [...]}``: output channel ``j`` is
field ``j // n_times`` at time ``times[j % n_times]``), the trunk takes ``(x, t)`` with ``t``
mapped from ``[0, max(times)]`` to ``[-1, 1]`` and the latent has one group per *field*
(``fisher_kpp``: 20 frames of ``u`` -> one group, queried at 20 times). ``frame_time`` turns this
on or off.

Why not DeepXDE's ``DeepONetCartesianProd`` (1.15): the combination is one ``einsum``, and
DeepXDE's would change the model: it passes the trunk's output through the activation (here, as
in ``u = sum_k b_k t_k``, the trunk's output layer is linear), always adds a bias per output (the
MT-DeepONet has none), and names the trunk's layers ``trunk.linears.<i>`` with nothing marking
the output layer, which the transfer study freezes by name. The module names here:

- ``branch.conv.<i>``: the convolutions (``cnn`` branch), first is ``branch.conv.0``;
- ``branch.mlp.<i>``: the branch MLP's linear layers, the last one the latent (``G p``);
  ``branch.norm.<i>``: its LayerNorms (``layer_norm: true``);
- ``trunk.hidden.<i>`` and ``trunk.out``: the trunk's hidden layers and its output layer;
- ``out_bias``: the per-group bias (``bias: true``).

MT-DeepONet transfer (STUDIES.md section 2: trainable = the first conv layer, the three branch MLP
layers and the trunk's output layer) is :data:`pdebench.models.mt_deeponet.TRANSFER_FREEZE`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from pdebench.data.meta import DatasetMeta
from pdebench.models._options import (
    check_choice,
    check_fraction,
    check_int,
    check_int_list,
    fail,
)

__all__ = ["ACTIVATIONS", "BRANCHES", "DeepONet", "build_deeponet", "grid_coordinates",
           "output_frames", "supports"]

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "gelu": nn.GELU,
               "silu": nn.SiLU}
BRANCHES = ("auto", "mlp", "cnn")


def supports(meta: DatasetMeta) -> str | None:
    """Why a DeepONet cannot train on ``meta`` (``None`` if it can)."""
    if meta.grid == "points":
        return ("DeepONet here maps input fields on a grid to output fields (its branch reads "
                "the gridded input); this dataset has scattered points with no input function: "
                "use a point model (e.g. pinn) with system=pinn")
    if meta.spatial_dims not in (1, 2, 3):
        return f"DeepONet supports 1-3 spatial dimensions, the dataset has {meta.spatial_dims}"
    return None


def grid_coordinates(meta: DatasetMeta, resolution: Sequence[int]) -> torch.Tensor:
    """Physical coordinates ``(prod(resolution), d)`` of a grid of ``meta``'s kind (cell centres
    or vertices) over ``meta.extent`` with ``resolution`` points per dimension (C order)."""
    extent = meta.extent or ((0.0, 1.0),) * meta.spatial_dims
    axes = []
    for (lo, hi), n in zip(extent, resolution, strict=True):
        if meta.grid == "vertex":
            axes.append(torch.linspace(lo, hi, n, dtype=torch.float64))
        else:
            axes.append(lo + (torch.arange(n, dtype=torch.float64) + 0.5) * (hi - lo) / n)
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=-1).float()


def _linears(sizes: Sequence[int]) -> nn.ModuleList:
    """Linear layers ``sizes[i] -> sizes[i + 1]``, Glorot-normal weights and zero biases."""
    layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
    for layer in layers:
        nn.init.xavier_normal_(layer.weight)
        nn.init.zeros_(layer.bias)
    return layers


class Branch(nn.Module):
    """Input functions ``(batch, C_in, *spatial)`` -> latent ``(batch, width)``.

    ``mlp``: the linear layers ``mlp.<i>`` over ``[parameters, flattened fields]``; ``cnn``: the
    convolutions ``conv.<i>`` (each then the activation and a 2x average pooling) over the fields
    first. Hidden MLP layers: LayerNorm ``norm.<i>`` (optional), activation, dropout, and a
    residual link where the width does not change (optional). Parameters are read as the mean of
    their channel over the grid.
    """

    def __init__(self, kind: str, resolution: Sequence[int], params: Sequence[int],
                 fields: Sequence[int], hidden: Sequence[int], width: int, activation: str,
                 filters: Sequence[int] = (), kernel_size: int = 5, layer_norm: bool = False,
                 dropout: float = 0.0, residual: bool = False) -> None:
        super().__init__()
        self.d = len(resolution)
        self.register_buffer("params", torch.tensor(list(params), dtype=torch.long),
                             persistent=False)
        self.register_buffer("fields", torch.tensor(list(fields), dtype=torch.long),
                             persistent=False)
        self.act = ACTIVATIONS[activation]()
        self.dropout, self.residual = dropout, residual
        self.conv: nn.ModuleList | None = None
        self.pools: list[tuple[int, ...]] = []
        size = list(resolution)
        n_field = len(fields)
        if kind == "cnn":
            conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[self.d]
            chans = [len(fields), *filters]
            self.conv = nn.ModuleList(conv(a, b, kernel_size, padding="same")
                                      for a, b in itertools.pairwise(chans))
            for _ in filters:
                self.pools.append(tuple(2 if n >= 2 else 1 for n in size))
                size = [n // k for n, k in zip(size, self.pools[-1], strict=True)]
            n_field = chans[-1]
        sizes = [n_field * math.prod(size) * bool(len(fields)) + len(params), *hidden, width]
        self.mlp = _linears(sizes)
        self.norm = nn.ModuleList(nn.LayerNorm(n) for n in hidden) if layer_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = []
        if self.params.numel():
            parts.append(x.index_select(1, self.params).flatten(2).mean(-1))
        if self.fields.numel():
            f = x.index_select(1, self.fields)
            if self.conv is not None:
                pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[self.d - 1]
                for layer, k in zip(self.conv, self.pools, strict=True):
                    f = pool(self.act(layer(f)), k)
            parts.append(f.flatten(1))
        v = torch.cat(parts, dim=1)
        for i, layer in enumerate(self.mlp):
            h = layer(v)
            if i < len(self.mlp) - 1:
                if self.norm is not None:
                    h = self.norm[i](h)
                h = F.dropout(self.act(h), self.dropout, self.training)
                if self.residual and h.shape == v.shape:
                    h = h + v
            v = h
        return v


class Trunk(nn.Module):
    """Normalised query points ``(n, D)`` -> ``(n, width)``: ``hidden.<i>`` (each followed by
    the activation), then the linear output layer ``out``."""

    def __init__(self, n_in: int, hidden: Sequence[int], width: int, activation: str) -> None:
        super().__init__()
        self.hidden = _linears([n_in, *hidden])
        (self.out,) = _linears([hidden[-1], width])
        self.act = ACTIVATIONS[activation]()

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            y = self.act(layer(y))
        return self.out(y)


class DeepONet(nn.Module):
    """A DeepONet on ``meta``'s grid; build it with :func:`build_deeponet` (options checked).

    ``forward``: ``(batch, C_in, *resolution) -> (batch, C_out, *resolution)`` on the dataset's
    own grid. :meth:`query` evaluates at any points, :meth:`forward_on_grid` on any grid over
    the same extent. The branch always reads the input on the dataset's grid.

    Parameters
    ----------
    meta : DatasetMeta
        Channels, grid kind, resolution and extent.
    branch : Branch
    trunk_layers : sequence of int
        Hidden widths of the trunk.
    latent : int
        ``p``, the latent width per output group.
    trunk_activation : str
        A key of :data:`ACTIVATIONS`.
    frames : (n_fields, times) or None
        Output channels are ``n_fields`` fields at ``times`` (field-major); ``t`` becomes a
        trunk coordinate. ``None``: one group per output channel, space only.
    bias : bool
        Add a trained scalar per group (``out_bias``).
    mask_channel : int or None
        Input channel of a 0/1 geometry mask; the output is multiplied by ``mask > 0.5``
        (nearest grid cell for off-grid points).
    """

    def __init__(self, meta: DatasetMeta, branch: Branch, trunk_layers: Sequence[int],
                 latent: int, trunk_activation: str,
                 frames: tuple[int, Sequence[float]] | None = None, bias: bool = True,
                 mask_channel: int | None = None) -> None:
        super().__init__()
        self.meta = meta
        self.resolution = tuple(meta.resolution)
        self.d = meta.spatial_dims
        self.n_groups, times = frames if frames is not None else (meta.out_channels, ())
        self.n_times = len(times)
        self.latent = latent
        extent = meta.extent or ((0.0, 1.0),) * self.d
        self.register_buffer("lo", torch.tensor([e[0] for e in extent]), persistent=False)
        self.register_buffer("hi", torch.tensor([e[1] for e in extent]), persistent=False)
        self.register_buffer("times", torch.tensor(list(times), dtype=torch.float32),
                             persistent=False)
        self.t_max = max(times) if self.n_times else 1.0
        self.mask_channel = mask_channel
        self.branch = branch
        self.trunk = Trunk(self.d + bool(self.n_times), trunk_layers,
                           self.n_groups * latent, trunk_activation)
        self.out_bias = nn.Parameter(torch.zeros(self.n_groups)) if bias else None
        self.register_buffer("grid", grid_coordinates(meta, self.resolution), persistent=False)

    # --- evaluation -------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, C_in, *resolution) -> (batch, C_out, *resolution)``."""
        self._check_input(x)
        out = self._evaluate(x, self.grid, on_grid=True)
        return out.reshape(x.shape[0], -1, *self.resolution)

    def query(self, x: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """The prediction at any points.

        Parameters
        ----------
        x : Tensor (batch, C_in, *resolution)
            The (normalised) input on the dataset's grid.
        coords : Tensor (n_points, d) or, with frames as time, (n_points, d + 1)
            Physical coordinates over ``meta.extent`` (the last column ``t`` for ``d + 1``).

        Returns
        -------
        Tensor (batch, C_out, n_points) for ``d`` columns (every output channel, frames at
        their own times); (batch, n_fields, n_points) for ``d + 1`` columns.
        """
        self._check_input(x)
        coords = coords.to(self.grid)
        if coords.ndim != 2 or coords.shape[1] not in (self.d, self.d + bool(self.n_times)):
            cols = f"{self.d}" + (f" or {self.d + 1} (with t)" if self.n_times else "")
            raise ValueError(f"query: coords must be (n_points, {cols}), got "
                             f"{tuple(coords.shape)}")
        if coords.shape[1] == self.d + 1 and self.n_times:
            return self._combine(x, self._normalise(coords[:, :-1], coords[:, -1]),
                                 coords[:, :-1])
        return self._evaluate(x, coords, on_grid=False)

    def forward_on_grid(self, x: torch.Tensor, resolution: int | Sequence[int]
                        ) -> torch.Tensor:
        """The prediction on a grid of ``meta``'s kind with ``resolution`` points per dimension
        over the same extent: ``(batch, C_in, *meta.resolution) -> (batch, C_out, *resolution)``.
        """
        res = [int(resolution)] * self.d if isinstance(resolution, int) else list(resolution)
        if len(res) != self.d or min(res) < 1:
            raise ValueError(f"forward_on_grid: resolution {resolution!r} must give {self.d} "
                             "sizes >= 1")
        coords = grid_coordinates(self.meta, res).to(self.grid)
        return self.query(x, coords).reshape(x.shape[0], -1, *res)

    # --- pieces -----------------------------------------------------------------------------
    def _check_input(self, x: torch.Tensor) -> None:
        expect = (self.meta.in_channels, *self.resolution)
        if tuple(x.shape[1:]) != expect:
            raise ValueError(f"DeepONet of dataset {self.meta.name!r} reads inputs "
                             f"(batch, {', '.join(map(str, expect))}) on its training grid; "
                             f"got {tuple(x.shape)}")

    def _normalise(self, space: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """Physical points -> trunk inputs in [-1, 1] (``t`` over ``[0, max(times)]``)."""
        y = 2 * (space - self.lo) / (self.hi - self.lo) - 1
        if t is not None:
            y = torch.cat([y, (2 * t / self.t_max - 1)[:, None]], dim=1)
        return y

    def _evaluate(self, x: torch.Tensor, space: torch.Tensor, on_grid: bool) -> torch.Tensor:
        """Every output channel at the physical points ``space`` (n, d): (batch, C_out, n)."""
        n = space.shape[0]
        if not self.n_times:
            return self._combine(x, self._normalise(space), space, on_grid)
        # every point at every frame time, time-major: row k * n + i is (x_i, t_k)
        t = self.times.repeat_interleave(n)
        out = self._combine(x, self._normalise(space.repeat(self.n_times, 1), t),
                            space.repeat(self.n_times, 1), on_grid)
        return out.reshape(x.shape[0], self.n_groups * self.n_times, n)

    def _combine(self, x: torch.Tensor, y: torch.Tensor, space: torch.Tensor,
                 on_grid: bool = False) -> torch.Tensor:
        """``sum_k b_{g,k} t_{g,k}(y) (+ bias_g)`` (batch, n_groups, n), masked."""
        b = self.branch(x).view(x.shape[0], self.n_groups, self.latent)
        t = self.trunk(y).view(y.shape[0], self.n_groups, self.latent)
        out = torch.einsum("bgp,ngp->bgn", b, t)
        if self.out_bias is not None:
            out = out + self.out_bias[:, None]
        if self.mask_channel is not None:
            out = out * self._mask_at(x, space, on_grid)[:, None]
        return out

    def _mask_at(self, x: torch.Tensor, space: torch.Tensor, on_grid: bool) -> torch.Tensor:
        """``mask > 0.5`` at the nearest grid cell of each point: (batch, n)."""
        mask = (x[:, self.mask_channel] > 0.5).to(x.dtype).flatten(1)
        if on_grid:
            return mask.repeat(1, space.shape[0] // mask.shape[1])
        idx = torch.zeros(space.shape[0], dtype=torch.long, device=space.device)
        for k, n in enumerate(self.resolution):
            u = (space[:, k] - self.lo[k]) / (self.hi[k] - self.lo[k])
            i = torch.round(u * (n - 1)) if self.meta.grid == "vertex" else torch.floor(u * n)
            idx = idx * n + i.long().clamp(0, n - 1)
        return mask[:, idx]


# ----------------------------------------------------------------------------------------------
# Builders
# ----------------------------------------------------------------------------------------------

def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(name, value, "true or false")
    return value


def _fields_option(meta: DatasetMeta, name: str, value: Any, default: Any) -> list[str]:
    """``value`` (or, when ``None``, ``default``) as input channel names of ``meta``."""
    names = default if value is None else value
    if isinstance(names, str) or not all(isinstance(n, str) for n in (names or ())):
        raise fail(name, value, f"a list of input channel names of dataset {meta.name!r} "
                                f"({', '.join(meta.input_fields)})")
    bad = [n for n in names if n not in meta.input_fields or n in meta.masks]
    if bad:
        raise fail(name, list(names), f"input channels of dataset {meta.name!r} that are not "
                                      f"masks; {bad} are not (inputs: "
                                      f"{', '.join(meta.input_fields)}; masks: "
                                      f"{', '.join(meta.masks) or 'none'})")
    return list(names)


def output_frames(meta: DatasetMeta) -> tuple[int, list[float]] | None:
    """``(n_fields, times)`` if ``meta``'s output channels are frames of fields (from
    ``meta.extra["output_frames"]``, or ``meta.extra["frame_times"]`` with one time per output
    channel), else ``None``."""
    spec = meta.extra.get("output_frames")
    if spec is not None:
        n_fields, times = len(spec["fields"]), [float(t) for t in spec["times"]]
        if n_fields * len(times) != meta.out_channels or not times or max(times) <= 0:
            raise ValueError(f"dataset {meta.name!r}: meta.extra['output_frames'] gives "
                             f"{n_fields} fields x {len(times)} times (max > 0 needed), but "
                             f"there are {meta.out_channels} output channels")
        return n_fields, times
    times = meta.extra.get("frame_times")
    if times is not None and len(times) == meta.out_channels and max(times) > 0:
        return 1, [float(t) for t in times]
    return None


def build_deeponet(meta: DatasetMeta, branch: str = "auto",
                   branch_layers: Sequence[int] = (128, 128),
                   trunk_layers: Sequence[int] = (128, 128, 128), latent: int = 128,
                   activation: str = "gelu", branch_activation: str | None = None,
                   trunk_activation: str | None = None,
                   cnn_filters: Sequence[int] = (16, 32, 64, 64), kernel_size: int = 5,
                   layer_norm: bool = False, dropout: float = 0.0, residual: bool = False,
                   bias: bool = True, parameter_fields: Sequence[str] | None = None,
                   mask_in_branch: bool = True, frame_time: str | bool = "auto",
                   mask_output: bool = False) -> DeepONet:
    """A :class:`DeepONet` shaped by the dataset, every option checked.

    Parameters
    ----------
    meta : DatasetMeta
        Channels, dimensions (1-3), grid kind, resolution, extent; ``extra["parameter_fields"]``
        and ``extra["output_frames"]`` (see the module docstring) when present.
    branch : {"auto", "mlp", "cnn"}
        The branch over the input fields (module docstring).
    branch_layers, trunk_layers : list of int
        Hidden widths (each >= 1, at least one layer) of the branch MLP and the trunk.
    latent : int
        ``p`` per output group (>= 1); both nets end in ``n_groups * p`` units.
    activation : {"relu", "leaky_relu", "tanh", "gelu", "silu"}
        Of both nets, unless ``branch_activation`` / ``trunk_activation`` are given (silu is
        swish).
    cnn_filters : list of int
        Output channels of the convolutions (``cnn`` branch).
    kernel_size : int
        Odd convolution kernel size.
    layer_norm : bool
        LayerNorm before every hidden activation of the branch MLP.
    dropout : float
        In ``[0, 1)``: after every hidden activation of the branch MLP.
    residual : bool
        Residual links between hidden branch MLP layers of equal width.
    bias : bool
        A trained scalar added per output group.
    parameter_fields : list of str, optional
        Input channels holding one scalar per sample (default: ``meta.extra
        ["parameter_fields"]``, else none).
    mask_in_branch : bool
        Whether mask channels (``meta.masks``) are branch inputs (as fields).
    frame_time : {"auto", true, false}
        Frames as a trunk time coordinate: ``auto`` when the meta describes the output channels
        as frames.
    mask_output : bool
        Multiply the output by the first mask of ``meta.masks`` (``mt_deeponet``).

    Raises
    ------
    ValueError
        An option out of range (naming ``model.<option>``), or a dataset it cannot serve.
    """
    reason = supports(meta)
    if reason:
        raise ValueError(reason)
    kind = check_choice("branch", branch, BRANCHES)
    hidden_b = check_int_list("branch_layers", branch_layers, 1)
    hidden_t = check_int_list("trunk_layers", trunk_layers, 1)
    p = check_int("latent", latent, 1)
    act = check_choice("activation", activation, tuple(ACTIVATIONS))
    act_b = act if branch_activation is None else check_choice(
        "branch_activation", branch_activation, tuple(ACTIVATIONS))
    act_t = act if trunk_activation is None else check_choice(
        "trunk_activation", trunk_activation, tuple(ACTIVATIONS))
    k = check_int("kernel_size", kernel_size, 1)
    if k % 2 == 0:
        raise fail("kernel_size", kernel_size, "an odd int >= 1 (same-padded convolutions)")
    drop = check_fraction("dropout", dropout, closed_low=True, closed_high=False)
    flags = {n: _check_bool(n, v) for n, v in (("layer_norm", layer_norm), ("residual", residual),
                                              ("bias", bias), ("mask_in_branch", mask_in_branch))}
    if frame_time not in ("auto", True, False):
        raise fail("frame_time", frame_time, "auto, true or false")
    params = _fields_option(meta, "parameter_fields", parameter_fields,
                            meta.extra.get("parameter_fields", []))
    fields = [f for f in meta.input_fields if f not in params
              and (flags["mask_in_branch"] or f not in meta.masks)]
    if kind == "auto":
        grid_fields = [f for f in fields if f not in meta.masks]
        kind = "cnn" if grid_fields and meta.spatial_dims >= 2 else "mlp"
    if kind == "cnn":
        filters = check_int_list("cnn_filters", cnn_filters, 1)
        if not fields:
            raise fail("branch", branch, f"mlp or auto: dataset {meta.name!r} has no field "
                                         f"input for a CNN (parameters: {', '.join(params)})")
    else:
        filters = []
    if not params and not fields:
        raise fail("mask_in_branch", mask_in_branch, f"true: the branch has no input "
                                                     f"(dataset {meta.name!r})")
    frames = output_frames(meta)
    if frame_time is True and frames is None:
        raise fail("frame_time", frame_time,
                   f"auto or false: dataset {meta.name!r} does not describe its output "
                   "channels as frames (meta.extra['output_frames'])")
    if frame_time is False:
        frames = None
    n_groups = frames[0] if frames else meta.out_channels
    index = {f: i for i, f in enumerate(meta.input_fields)}
    net = Branch(kind, meta.resolution, [index[f] for f in params], [index[f] for f in fields],
                 hidden_b, n_groups * p, act_b, filters, k, flags["layer_norm"], drop,
                 flags["residual"])
    mask = index[meta.masks[0]] if mask_output and meta.masks else None
    return DeepONet(meta, net, hidden_t, p, act_t, frames, flags["bias"], mask)
