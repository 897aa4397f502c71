"""Emulated PIV measurements of a simulated flow (the "real" side of the RealPDEBench stand-in).

These are **emulated measurements**, never real data: every file written from them carries
``data_origin = "emulated_measurement"``. The model reproduces the *structure* of RealPDEBench's
sim-to-real gap (specs/PROBLEMS.md, D) from the same configuration as the simulated trajectory:

1. **Parameter mismatch**: the "experiment" runs at ``Re (1 + delta)``, ``delta`` uniform in
   ``[-re_mismatch, re_mismatch]`` (default 3%): a tunnel's Reynolds number is never set exactly.
2. **Start phase**: the experiment's initial disturbance is drawn from another seed and its frames
   are taken from a window shifted by ``shift`` frames, uniform in ``1..max_shift`` (default 8),
   so the shedding phase of frame 0 differs from the simulation's.
3. **PIV blur**: a Gaussian filter of standard deviation ``blur_sigma`` simulation cells (default
   1.0), periodic like the simulated box; it stands for the interrogation-window averaging.
4. **Resampling** to the measurement grid (default 32 x 64 cells over the same box, cell centres),
   linear interpolation with periodic wrap: published real and simulated shapes differ.
5. **Noise**: multiplicative ``u (1 + noise xi)`` (default 3%) plus additive ``additive_noise xi'``
   (default 0.005 U), ``xi, xi'`` independent standard normal per value.
6. **Pressure absent**: only ``u`` and ``v`` are "measured".

Everything is deterministic from ``(seed, trajectory index)`` through :func:`draw`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from pdebench.datasets.numerics.validation import (
    check_int,
    check_range,
    check_real,
    check_resolution,
)

__all__ = ["MeasurementDraw", "MeasurementModel", "blur", "draw", "measure", "resample"]


@dataclass(frozen=True)
class MeasurementModel:
    """Settings of the emulated measurement (see the module docstring; defaults in brackets).

    Attributes
    ----------
    re_mismatch : float
        Largest relative Reynolds-number error [0.03].
    max_shift : int
        Largest start-phase shift in frames [8].
    blur_sigma : float
        Gaussian blur in simulation cells [1.0]; 0 = none.
    noise : float
        Multiplicative noise standard deviation [0.03].
    additive_noise : float
        Additive noise standard deviation, velocity units [0.005].
    resolution : (int, int)
        Measurement grid ``(H, W)`` [(32, 64)].
    """

    re_mismatch: float = 0.03
    max_shift: int = 8
    blur_sigma: float = 1.0
    noise: float = 0.03
    additive_noise: float = 0.005
    resolution: tuple[int, int] = (32, 64)

    def __post_init__(self) -> None:
        for name in ("blur_sigma", "noise", "additive_noise"):
            check_real(f"measurement.{name}", getattr(self, name), nonneg=True)
        check_range("measurement.re_mismatch", self.re_mismatch, 0.0, 0.5, open_hi=True)
        check_int("measurement.max_shift", self.max_shift, 0)
        res = check_resolution("measurement.resolution", self.resolution, 2, 4, " (H, W)",
                               scalar=False)
        object.__setattr__(self, "resolution", res)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MeasurementDraw:
    """The random choices of one emulated experiment."""

    re_factor: float
    shift: int
    seed: int


def draw(model: MeasurementModel, seed: int, index: int) -> MeasurementDraw:
    """Mismatch, shift and noise seed of trajectory ``index`` (deterministic)."""
    rng = np.random.default_rng([int(seed), int(index), 7])
    factor = 1.0 + model.re_mismatch * (2.0 * rng.random() - 1.0)
    shift = int(rng.integers(1, model.max_shift + 1)) if model.max_shift > 0 else 0
    return MeasurementDraw(float(factor), shift, int(rng.integers(2**31)))


def blur(field: np.ndarray, sigma: float) -> np.ndarray:
    """Periodic Gaussian blur of ``(..., H, W)`` over the last two axes (``sigma`` in cells)."""
    if sigma <= 0:
        return np.array(field, dtype=np.float64)
    sig = (0,) * (field.ndim - 2) + (sigma, sigma)
    return ndimage.gaussian_filter(np.asarray(field, dtype=np.float64), sig, mode="wrap",
                                   truncate=4.0)


def resample(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Linear interpolation of a periodic cell-centred ``(..., H, W)`` field to ``(..., *shape)``.

    Both grids cover the same box with values at cell centres; the target point ``(i + 1/2)/h'``
    sits at source index ``(i + 1/2) H / h' - 1/2`` (wrapped).
    """
    h, w = field.shape[-2:]
    ii = (np.arange(shape[0]) + 0.5) * h / shape[0] - 0.5
    jj = (np.arange(shape[1]) + 0.5) * w / shape[1] - 0.5
    coords = np.stack(np.meshgrid(ii, jj, indexing="ij"))
    flat = np.asarray(field, dtype=np.float64).reshape(-1, h, w)
    out = np.stack([ndimage.map_coordinates(f, coords, order=1, mode="grid-wrap") for f in flat])
    return out.reshape(*field.shape[:-2], *shape)


def measure(model: MeasurementModel, u: np.ndarray, v: np.ndarray, seed: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Blur, resample and add noise to velocity frames ``(T, H, W)``; returns ``(T, h, w)`` each.

    The shift and the Reynolds-number mismatch are applied by the caller (they change the
    simulation); ``seed`` is :attr:`MeasurementDraw.seed`.
    """
    rng = np.random.default_rng(seed)
    out = []
    for f in (u, v):
        g = resample(blur(f, model.blur_sigma), model.resolution)
        g = g * (1.0 + model.noise * rng.standard_normal(g.shape))
        out.append(g + model.additive_noise * rng.standard_normal(g.shape))
    return out[0], out[1]
