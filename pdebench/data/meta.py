"""``DatasetMeta``: the facts about a dataset that decide model shapes, metrics and pairings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DatasetMeta:
    """Self-description of a dataset.

    Attributes
    ----------
    name : str
        Registry name of the dataset (``"darcy"``).
    pde : str | None
        Name of the governing equation in :mod:`pdebench.physics` (``"darcy"``), or ``None`` for data
        with no known equation.
    spatial_dims : int
        Number of spatial dimensions (1, 2 or 3).
    resolution : tuple[int, ...]
        Grid points per spatial dimension, ``(H, W)`` for 2D.
    extent : tuple[tuple[float, float], ...]
        Domain ``(lo, hi)`` per spatial dimension.
    input_fields, output_fields : tuple[str, ...]
        Channel names of the model input ``x`` (batch, C_in, *spatial) and output ``y``
        (batch, C_out, *spatial), in channel order.
    units : dict[str, str]
        Physical unit of each field ("1" for dimensionless).
    grid : str
        ``"cell_centered"``, ``"vertex"`` or ``"points"`` (scattered, no grid).
    time : dict | None
        Time axis facts for time-dependent data (``{"n_frames": T, "dt": ..., "t_end": ...}``).
    boundary_conditions : dict[str, str]
        Per field, e.g. ``{"u": "dirichlet_zero"}``.
    pde_params : dict[str, float]
        Parameters of the equation (``{"beta": 1.0}``).
    masks : tuple[str, ...]
        Names of mask channels (geometry, measured channels) carried in samples.
    constant_fields : tuple[str, ...]
        Time-dependent data: fields that do not change along a trajectory (parameter maps,
        geometry). They are model inputs only: appended to every window's input (so they are the
        last of ``input_fields`` of a windowed dataset), never targets.
    extra : dict
        Anything adapter-specific worth recording (source file, generator settings).
    """

    name: str
    spatial_dims: int
    resolution: tuple[int, ...]
    input_fields: tuple[str, ...]
    output_fields: tuple[str, ...]
    pde: str | None = None
    extent: tuple[tuple[float, float], ...] = ()
    units: dict[str, str] = field(default_factory=dict)
    grid: str = "cell_centered"
    time: dict[str, Any] | None = None
    boundary_conditions: dict[str, str] = field(default_factory=dict)
    pde_params: dict[str, float] = field(default_factory=dict)
    masks: tuple[str, ...] = ()
    constant_fields: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.resolution) != self.spatial_dims:
            raise ValueError(
                f"dataset {self.name!r}: resolution {self.resolution} has "
                f"{len(self.resolution)} entries but spatial_dims={self.spatial_dims}"
            )
        if self.extent and len(self.extent) != self.spatial_dims:
            raise ValueError(f"dataset {self.name!r}: extent needs one (lo, hi) per dimension")
        if not self.input_fields or not self.output_fields:
            raise ValueError(f"dataset {self.name!r}: input_fields and output_fields are required")

    @property
    def in_channels(self) -> int:
        return len(self.input_fields)

    @property
    def out_channels(self) -> int:
        return len(self.output_fields)

    @property
    def spacing(self) -> tuple[float, ...]:
        """Grid spacing per dimension (cell width for cell-centred grids)."""
        ext = self.extent or tuple((0.0, 1.0) for _ in range(self.spatial_dims))
        if self.grid == "vertex":
            return tuple((hi - lo) / (n - 1) for (lo, hi), n in zip(ext, self.resolution, strict=True))
        return tuple((hi - lo) / n for (lo, hi), n in zip(ext, self.resolution, strict=True))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetMeta:
        d = dict(d)
        for key in ("resolution", "input_fields", "output_fields", "masks", "constant_fields"):
            if key in d:
                d[key] = tuple(d[key])
        if "extent" in d:
            d["extent"] = tuple(tuple(e) for e in d["extent"])
        return cls(**d)
