"""Fourier Neural Operator (Li et al., ICLR 2021) and its tensorised variant TFNO (Kossaifi et
al., 2023: the spectral weights stored as a low-rank Tucker, CP or tensor-train factorisation), both
from the ``neuraloperator`` package, on 1D, 2D and 3D grids."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from torch import nn

from pdebench.data.meta import DatasetMeta
from pdebench.models._options import (
    check_choice,
    check_fraction,
    check_int,
    check_int_list,
    check_positive,
)

__all__ = ["FACTORIZATIONS", "IMPLEMENTATIONS", "POSITIONAL_EMBEDDINGS", "build_fno", "build_tfno",
           "supports"]

#: Factorisations of TFNO's spectral weights (neuraloperator / TensorLy-Torch names).
FACTORIZATIONS = ("tucker", "cp", "tt")
#: How TFNO applies them: contract with the factors, or rebuild the full weight first.
IMPLEMENTATIONS = ("factorized", "reconstructed")
#: Values of ``positional_embedding`` (``None``: no coordinates appended).
POSITIONAL_EMBEDDINGS = ("grid",)


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
    """Why an FNO or TFNO cannot train on ``meta`` (``None`` if it can)."""
    if meta.grid == "points":
        return ("FNO needs fields on a regular grid, but this dataset has scattered points; "
                "use a point-based model (e.g. a PINN or DeepONet)")
    if meta.spatial_dims not in (1, 2, 3):
        return f"FNO supports 1-3 spatial dimensions, the dataset has {meta.spatial_dims}"
    return None


def _check_architecture(meta: DatasetMeta, n_modes: Any, hidden_channels: Any, n_layers: Any,
                        lifting_channel_ratio: Any, projection_channel_ratio: Any,
                        positional_embedding: Any) -> dict[str, Any]:
    """The FNO options after checking, as keyword arguments of ``neuralop.models.FNO``.

    ``n_modes`` (an int, or one int per spatial dimension) is capped at ``resolution // 2 + 1``
    per dimension (a higher mode does not exist on the grid).
    """
    reason = supports(meta)
    if reason:
        raise ValueError(reason)
    dims = meta.spatial_dims
    if isinstance(n_modes, Sequence) and not isinstance(n_modes, str) and len(n_modes) != dims:
        raise ValueError(f"model.n_modes={list(n_modes)}: must be an int >= 1 or a list of {dims} "
                         f"such ints (dataset {meta.name!r} has {dims} spatial dimensions)")
    modes = check_int_list("n_modes", n_modes, 1, dims)
    if positional_embedding is not None:
        check_choice("positional_embedding", positional_embedding, POSITIONAL_EMBEDDINGS)
    return {
        "n_modes": tuple(min(m, r // 2 + 1) for m, r in zip(modes, meta.resolution, strict=True)),
        "in_channels": meta.in_channels, "out_channels": meta.out_channels,
        "hidden_channels": check_int("hidden_channels", hidden_channels, 1),
        "n_layers": check_int("n_layers", n_layers, 1),
        "lifting_channel_ratio": check_positive("lifting_channel_ratio", lifting_channel_ratio),
        "projection_channel_ratio": check_positive("projection_channel_ratio",
                                                   projection_channel_ratio),
        "positional_embedding": positional_embedding,
    }


def build_fno(meta: DatasetMeta, n_modes: int | Sequence[int] = 16, hidden_channels: int = 32,
              n_layers: int = 4, lifting_channel_ratio: float = 2,
              projection_channel_ratio: float = 2, positional_embedding: str | None = "grid",
              **kwargs) -> nn.Module:
    """A ``neuralop.models.FNO`` shaped by the dataset, after checking the options.

    Parameters
    ----------
    meta : DatasetMeta
        Gives ``in_channels``, ``out_channels``, the number of spatial dimensions (1-3) and the
        resolution.
    n_modes : int or sequence of int
        Fourier modes kept per dimension (>= 1); an int is used for every dimension. Capped at
        ``resolution // 2 + 1`` (a higher mode does not exist on the grid).
    hidden_channels, n_layers : int
        Width (>= 1) and number of Fourier layers (>= 1), as in ``neuralop.models.FNO``.
    lifting_channel_ratio, projection_channel_ratio : float
        Widths of the lifting and projection MLPs relative to ``hidden_channels`` (> 0).
    positional_embedding : {"grid", None}
        Append normalised coordinates to the input (neuraloperator's default).
    **kwargs
        Passed to ``neuralop.models.FNO`` unchanged.

    Returns
    -------
    nn.Module mapping (batch, C_in, *spatial) -> (batch, C_out, *spatial).

    Raises
    ------
    ValueError
        ``model.<option>=<value>: must be ...`` for an option out of range, or why the data is
        refused.
    """
    arch = _check_architecture(meta, n_modes, hidden_channels, n_layers, lifting_channel_ratio,
                               projection_channel_ratio, positional_embedding)
    return _fno_class()(**arch, **kwargs)


def build_tfno(meta: DatasetMeta, n_modes: int | Sequence[int] = 16, hidden_channels: int = 32,
               n_layers: int = 4, lifting_channel_ratio: float = 2,
               projection_channel_ratio: float = 2, positional_embedding: str | None = "grid",
               factorization: str = "tucker", rank: float = 0.1,
               implementation: str = "factorized", **kwargs) -> nn.Module:
    """A tensorised FNO (neuraloperator's ``TFNO``): the FNO of :func:`build_fno` whose spectral
    weights are stored factorised.

    Parameters
    ----------
    meta, n_modes, hidden_channels, n_layers, lifting_channel_ratio, projection_channel_ratio, \
positional_embedding
        As in :func:`build_fno`.
    factorization : {"tucker", "cp", "tt"}
        Low-rank form of each layer's spectral weight (Tucker, canonical polyadic, tensor train).
    rank : float
        In (0, 1]: the factorisation's size as a fraction of the dense weight's (0.1 keeps about
        10 % of the spectral parameters).
    implementation : {"factorized", "reconstructed"}
        Contract the input with the factors directly, or rebuild the dense weight first.
    **kwargs
        Passed to ``neuralop.models.FNO`` unchanged.

    Returns
    -------
    nn.Module mapping (batch, C_in, *spatial) -> (batch, C_out, *spatial).
    """
    arch = _check_architecture(meta, n_modes, hidden_channels, n_layers, lifting_channel_ratio,
                               projection_channel_ratio, positional_embedding)
    factorization = check_choice("factorization", factorization, FACTORIZATIONS)
    rank = check_fraction("rank", rank)
    implementation = check_choice("implementation", implementation, IMPLEMENTATIONS)
    return _fno_class()(**arch, factorization=factorization, rank=rank,
                        implementation=implementation, **kwargs)
