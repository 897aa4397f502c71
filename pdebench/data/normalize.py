"""Per-channel normalisers fitted on the training split and saved with the checkpoint."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset


class ChannelNormalizer(nn.Module):
    """``(v - mean) / max(std, eps)`` per channel; the statistics are buffers, so checkpoints
    carry them.

    Shapes: ``mean`` and ``std`` are ``(C,)``; inputs are ``(batch, C, *spatial)``. A channel with
    mean 0 and std 1 passes through exactly (in any precision): that is how geometry masks stay
    unnormalised (:func:`fit_channel_stats` with ``identity``; the data module's statistics).
    """

    def __init__(self, n_channels: int, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(n_channels))
        self.register_buffer("std", torch.ones(n_channels))
        self.register_buffer("fitted", torch.tensor(False))

    def _view(self, t: torch.Tensor, ndim: int) -> torch.Tensor:
        return t.view(1, -1, *([1] * (ndim - 2)))

    def encode(self, v: torch.Tensor) -> torch.Tensor:
        return (v - self._view(self.mean, v.ndim)) / self._view(self._scale, v.ndim)

    def decode(self, v: torch.Tensor) -> torch.Tensor:
        return v * self._view(self._scale, v.ndim) + self._view(self.mean, v.ndim)

    @property
    def _scale(self) -> torch.Tensor:
        """The divisor ``max(std, eps)``: a constant channel (std 0) is divided by ``eps``."""
        return self.std.clamp_min(self.eps)

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean.copy_(mean)
        self.std.copy_(std)
        self.fitted.fill_(True)


def fit_channel_stats(dataset: Dataset, indices: Sequence[int], key: str, source: str = "dataset",
                      batch_size: int = 64, identity: Sequence[int] = ()
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Streaming per-channel mean and std of ``sample[key]`` over ``indices`` (float64 sums).

    Channels listed in ``identity`` (geometry masks, :func:`pdebench.data.masks.mask_channels`)
    get mean 0 and std 1: a :class:`ChannelNormalizer` with these statistics leaves them exactly
    as they are.

    Raises
    ------
    ValueError
        NaN or inf in the data (the message names the source, key and batch).
    """
    loader = DataLoader(Subset(dataset, list(indices)), batch_size=batch_size, shuffle=False)
    s1 = s2 = None
    count = 0
    for i, batch in enumerate(loader):
        v = batch[key].to(torch.float64)
        if not torch.isfinite(v).all():
            raise ValueError(f"{source}: field {key!r} has NaN or inf in training batch {i}")
        dims = [d for d in range(v.ndim) if d != 1]
        b1, b2 = v.sum(dims), (v * v).sum(dims)
        s1 = b1 if s1 is None else s1 + b1
        s2 = b2 if s2 is None else s2 + b2
        count += v.numel() // v.shape[1]
    if count == 0:
        raise ValueError(f"{source}: cannot fit a normaliser on an empty training split")
    mean = s1 / count
    var = (s2 / count - mean * mean).clamp_min(0.0)
    mean, std = mean.float(), var.sqrt().float()
    bad = [c for c in identity if not 0 <= c < len(mean)]
    if bad:
        raise ValueError(f"{source}: identity channels {bad} of field {key!r} do not exist "
                         f"(it has {len(mean)} channels)")
    for c in identity:
        mean[c], std[c] = 0.0, 1.0
    return mean, std
