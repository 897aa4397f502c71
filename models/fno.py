"""Fourier Neural Operator (Li et al., ICLR 2021) from the ``neuraloperator`` package."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from torch import nn

from pdebench.data.meta import DatasetMeta


@functools.cache
def _fno_class() -> type[nn.Module]:
    from neuralop.models import FNO

    class HarnessFNO(FNO, name="pdebench_fno"):
        """neuraloperator's FNO with a plain ``nn.Module`` state dict.

        neuraloperator adds an unprefixed ``_metadata`` entry (its constructor arguments,
        functions included) to every state dict it takes part in; nested in a LightningModule
        it lands at the top level of the checkpoint, where loading rejects it as an unexpected
        key and torch's weights-only loader refuses the functions. Parameters are unchanged.
        """

        def state_dict(self, *args, **kwargs):
            return nn.Module.state_dict(self, *args, **kwargs)

        def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
            return nn.Module.load_state_dict(self, state_dict, strict, assign)

    return HarnessFNO


def supports(meta: DatasetMeta) -> str | None:
    """Why an FNO cannot train on ``meta`` (``None`` if it can)."""
    if meta.grid == "points":
        return ("FNO needs fields on a regular grid, but this dataset has scattered points; "
                "use a point-based model (e.g. a PINN or DeepONet)")
    if meta.spatial_dims not in (1, 2, 3):
        return f"FNO supports 1-3 spatial dimensions, the dataset has {meta.spatial_dims}"
    return None


def build_fno(meta: DatasetMeta, n_modes: int | Sequence[int] = 16, hidden_channels: int = 32,
              n_layers: int = 4, lifting_channel_ratio: float = 2,
              projection_channel_ratio: float = 2, positional_embedding: str | None = "grid",
              **kwargs) -> nn.Module:
    """An ``neuralop.models.FNO`` shaped by the dataset.

    Parameters
    ----------
    meta : DatasetMeta
        Gives ``in_channels``, ``out_channels`` and the number of spatial dimensions.
    n_modes : int or sequence of int
        Fourier modes kept per dimension; an int is used for every dimension. Capped at
        ``resolution // 2 + 1`` (a higher mode does not exist on the grid).
    hidden_channels, n_layers, lifting_channel_ratio, projection_channel_ratio
        Architecture, as in ``neuralop.models.FNO``.
    positional_embedding : {"grid", None}
        Append normalised coordinates to the input (neuraloperator's default).
    **kwargs
        Passed to ``neuralop.models.FNO`` unchanged.

    Returns
    -------
    nn.Module mapping (batch, C_in, *spatial) -> (batch, C_out, *spatial).
    """
    reason = supports(meta)
    if reason:
        raise ValueError(reason)
    modes = [n_modes] * meta.spatial_dims if isinstance(n_modes, int) else list(n_modes)
    if len(modes) != meta.spatial_dims:
        raise ValueError(f"model.n_modes={list(modes)} has {len(modes)} entries but dataset "
                         f"{meta.name!r} has {meta.spatial_dims} spatial dimensions")
    modes = [min(int(m), r // 2 + 1) for m, r in zip(modes, meta.resolution, strict=True)]
    return _fno_class()(n_modes=tuple(modes), in_channels=meta.in_channels,
               out_channels=meta.out_channels, hidden_channels=hidden_channels,
               n_layers=n_layers, lifting_channel_ratio=lifting_channel_ratio,
               projection_channel_ratio=projection_channel_ratio,
               positional_embedding=positional_embedding, **kwargs)
