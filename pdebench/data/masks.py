"""Geometry masks: the input channels ``DatasetMeta.masks`` names (0/1, 1 = inside the domain).

A mask channel is never normalised (:func:`pdebench.data.normalize.fit_channel_stats` gives it
mean 0 and standard deviation 1, which :class:`~pdebench.data.normalize.ChannelNormalizer`
applies exactly), and cells where it is 0 are neither trained on (the operator system's loss) nor
scored (every metric's ``mask`` argument, derived by
:class:`~pdebench.metrics.collection.FieldMetrics`). Several masks combine by logical AND: a cell
counts when every mask has it inside.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from pdebench.data.meta import DatasetMeta

__all__ = ["EmptyMaskError", "check_masks", "input_mask", "mask_channels"]

#: A mask value above this counts as inside (the channel is 0/1; float storage may round).
THRESHOLD = 0.5


class EmptyMaskError(ValueError):
    """A sample's geometry mask has no active cell: nothing in it can be trained on or scored."""


def mask_channels(meta: DatasetMeta) -> tuple[int, ...]:
    """Channel indices in ``x`` (``meta.input_fields`` order) of the masks ``meta.masks`` names.

    Raises
    ------
    ValueError
        A mask name that is not one of ``meta.input_fields``.
    """
    missing = [m for m in meta.masks if m not in meta.input_fields]
    if missing:
        raise ValueError(f"dataset {meta.name!r}: DatasetMeta.masks names {missing}, which are "
                         f"not input fields ({list(meta.input_fields)}); a mask must be an "
                         "input channel")
    return tuple(meta.input_fields.index(m) for m in meta.masks)


def input_mask(meta: DatasetMeta, inputs: torch.Tensor | None) -> torch.Tensor | None:
    """The geometry mask of a batch: ``(batch, 1, *spatial)`` bool (True = inside), or ``None``
    for a dataset without masks.

    Parameters
    ----------
    inputs : Tensor
        ``(batch, C_in, *spatial)``, physical (not normalised) inputs.

    Raises
    ------
    ValueError
        The dataset has masks but ``inputs`` is ``None``.
    """
    channels = mask_channels(meta)
    if not channels:
        return None
    if inputs is None:
        raise ValueError(f"dataset {meta.name!r} has geometry masks {list(meta.masks)}: the "
                         "model inputs are needed to know which cells count")
    mask = inputs[:, channels[0]] > THRESHOLD
    for c in channels[1:]:
        mask = mask & (inputs[:, c] > THRESHOLD)
    return mask.unsqueeze(1)


def check_masks(dataset: Dataset, indices: Sequence[int], meta: DatasetMeta, source: str,
                batch_size: int = 64) -> None:
    """Refuse a dataset where a sample's geometry mask has no active cell.

    Parameters
    ----------
    dataset : Dataset
        Samples with key ``"x"`` ``(C_in, *spatial)``.
    indices : sequence of int
        The sample indices to check (every split).
    source : str
        Names the dataset in the message.

    Raises
    ------
    EmptyMaskError
        Naming the dataset, the mask field(s) and the first empty sample's index.
    """
    channels = mask_channels(meta)
    if not channels:
        return
    indices = [int(i) for i in indices]
    loader = DataLoader(Subset(dataset, indices), batch_size=batch_size, shuffle=False)
    start = 0
    for batch in loader:
        x = batch["x"]
        for c, name in zip(channels, meta.masks, strict=True):
            active = (x[:, c] > THRESHOLD).flatten(1).sum(1)
            empty = (active == 0).nonzero()
            if len(empty):
                i = indices[start + int(empty[0])]
                raise EmptyMaskError(
                    f"{source}: sample {i} has no active cell in its geometry mask {name!r} "
                    f"(input channel {c}, every value <= {THRESHOLD}); such a sample can be "
                    "neither trained on nor scored: remove it from the data")
        mask = input_mask(meta, x)
        empty = (mask.flatten(1).sum(1) == 0).nonzero()
        if len(empty):
            i = indices[start + int(empty[0])]
            raise EmptyMaskError(
                f"{source}: sample {i} has no cell inside all of its geometry masks "
                f"{list(meta.masks)} at once; such a sample can be neither trained on nor scored")
        start += x.shape[0]
